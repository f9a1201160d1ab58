"""SynthFaces rendered once: parallel rendering, the grid file, and pairs and metrics read from it."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import facebrain.datasets.face_grid as face_grid
import facebrain.datasets.synthfaces as synthfaces
import facebrain.metrics.ground_truth as ground_truth
import facebrain.models.pairs as pairs
from facebrain.datasets.face_grid import FaceGrid, grid_values, write_face_grid
from facebrain.datasets.prepared import PreparedData, write_prepared
from facebrain.datasets.synthfaces import FACTOR_NAMES, generate_synthfaces, render_faces, sample_factors
from facebrain.errors import DataError
from facebrain.metrics.evaluate import evaluate_model
from facebrain.models.batches import TrainPool
from facebrain.models.registry import build_model
from facebrain.models.training import save_model, train_model

LEVELS = 2  # 2^7 x 2 = 256 cells


def fake_render(values, workers=1):
    """Stand-in for render_faces: each factor's value written into a pixel (cheap, exact to read back)."""
    values = np.asarray(values, dtype=np.float64)
    images = np.zeros((len(values), 64, 64, 3), np.uint8)
    images[:, 0, : values.shape[1], 0] = np.round((values + 1) * 100).astype(np.uint8)
    images[:, 1:, :, 1] = 7
    return images


def values_of(images: np.ndarray) -> np.ndarray:
    """The factor values :func:`fake_render` wrote into ``images``."""
    return images[:, 0, : len(FACTOR_NAMES), 0].astype(np.float64) / 100 - 1


@pytest.fixture(scope="module")
def grid_file(tmp_path_factory):
    """A 2-level grid written with the stand-in renderer."""
    path = tmp_path_factory.mktemp("grid") / "synthfaces_grid.h5"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(face_grid, "render_faces", fake_render)
        write_face_grid(path, levels=LEVELS, block=100, provenance={"rule": "test"})
    return path


def test_parallel_rendering_equals_serial_rendering_byte_for_byte():
    values = sample_factors(6, np.random.default_rng(3)).to_numpy()
    serial = render_faces(values, workers=1)
    parallel = render_faces(values, workers=2)
    assert serial.shape == (6, 64, 64, 3) and serial.dtype == np.uint8
    assert serial.tobytes() == parallel.tobytes()
    assert len({face.tobytes() for face in serial}) == 6  # six different faces, not one repeated


def test_generated_dataset_has_the_same_bytes_with_one_or_two_workers(tmp_path):
    for workers in (1, 2):
        generate_synthfaces(tmp_path / f"w{workers}", n_images=5, seed=2, workers=workers)
    files = sorted(p.relative_to(tmp_path / "w1") for p in (tmp_path / "w1").rglob("*") if p.is_file() and p.name != "README")
    assert len(files) > 5
    for name in files:
        assert (tmp_path / "w1" / name).read_bytes() == (tmp_path / "w2" / name).read_bytes(), name


def test_grid_cells_hold_the_faces_of_their_factor_classes(grid_file):
    grid = FaceGrid(grid_file)
    assert grid.num_values == [LEVELS] * 7 + [2] and grid.size == 256
    classes = np.stack(np.unravel_index(np.arange(grid.size), grid.num_values), axis=1)
    np.testing.assert_array_equal(grid.cells(classes), np.arange(grid.size))
    cells = np.array([255, 0, 17, 128, 17])
    np.testing.assert_allclose(values_of(grid.images(cells)), grid.factor_values(classes[cells]))
    assert isinstance(grid._images, np.memmap)  # read lazily from the mapped file


def test_metrics_on_the_grid_see_the_faces_rendering_on_demand_gives(grid_file, monkeypatch):
    monkeypatch.setattr(ground_truth, "render_faces", fake_render)
    rendered, read = ground_truth.SynthFaces(levels=LEVELS), ground_truth.load_ground_truth("grid", grid_file)
    assert read.factor_names == rendered.factor_names and read.factors_num_values == rendered.factors_num_values
    factors = read.sample_factors(40, np.random.default_rng(0))
    rng = np.random.default_rng(1)
    np.testing.assert_array_equal(read.sample_observations_from_factors(factors, rng), rendered.sample_observations_from_factors(factors, rng))


def test_metrics_render_on_demand_the_same_bytes_on_two_workers_and_render_each_face_once(monkeypatch):
    factors = np.array([[0, 1, 0, 1, 0, 1, 0, 1], [1] * 8, [0, 1, 0, 1, 0, 1, 0, 1], [0] * 8])
    rng = np.random.default_rng(0)
    serial = ground_truth.SynthFaces(levels=LEVELS).sample_observations_from_factors(factors, rng)
    parallel = ground_truth.SynthFaces(levels=LEVELS, workers=2, cache_size=2)
    assert parallel.sample_observations_from_factors(factors, rng).tobytes() == serial.tobytes()
    rendered = []
    monkeypatch.setattr(ground_truth, "render_faces", lambda values, workers=1: rendered.append(len(values)) or render_faces(values))
    assert parallel.sample_observations_from_factors(factors[2:], rng).tobytes() == serial[2:].tobytes()
    assert rendered == []  # the 2 most recently used faces are cached
    parallel.sample_observations_from_factors(factors[:2], rng)
    assert rendered == [1]  # [1] * 8 was evicted; [0, 1, ...] is still cached


def test_a_grid_that_cannot_be_mapped_is_refused(tmp_path):
    import h5py

    with h5py.File(tmp_path / "bad.h5", "w") as f:
        f.create_dataset("images", data=np.zeros((256, 64, 64, 3), np.uint8), chunks=(16, 64, 64, 3), compression="gzip")
        for name, v in zip(FACTOR_NAMES, grid_values(LEVELS)):
            f.create_dataset(f"values/{name}", data=v)
        f.attrs["format"] = face_grid.GRID_FORMAT
    with pytest.raises(DataError, match="bad.h5.*contiguous"):
        FaceGrid(tmp_path / "bad.h5")


def test_a_failed_render_leaves_no_grid_file(tmp_path, monkeypatch):
    def broken(values, workers=1):
        raise RuntimeError("renderer died")

    monkeypatch.setattr(face_grid, "render_faces", broken)
    with pytest.raises(RuntimeError, match="renderer died"):
        write_face_grid(tmp_path / "grid.h5", levels=LEVELS)
    assert list(tmp_path.iterdir()) == []


@pytest.fixture()
def face_pool(tmp_path):
    """A tiny prepared SynthFaces-like data set (the real factor names) and its pool."""
    factors = sample_factors(12, np.random.default_rng(0)).to_numpy()
    write_prepared(tmp_path / "faces.h5", fake_render(factors), factors, FACTOR_NAMES, np.r_[np.zeros(8), 2 * np.ones(4)].astype(np.int8),
                   [str(i) for i in range(12)])
    data = PreparedData(tmp_path / "faces.h5")
    yield data
    data.close()


@pytest.fixture()
def render_spy(monkeypatch):
    """Every call of the renderer, recorded (the pair sampler's and the face renderer's own)."""
    calls = []

    def spy(original):
        def wrapped(*args, **kwargs):
            calls.append(args)
            return original(*args, **kwargs)
        return wrapped

    monkeypatch.setattr(synthfaces, "render_face", spy(synthfaces.render_face))
    monkeypatch.setattr(pairs, "render_faces", spy(fake_render))
    return calls


def test_pairs_from_the_grid_differ_in_exactly_the_changed_factor(face_pool, grid_file, render_spy):
    pool = TrainPool(face_pool, face_pool.indices(0), torch.device("cpu"), FaceGrid(grid_file))
    batch = pairs.sample_pairs(pool, 64, np.random.default_rng(0))
    assert batch.x1.shape == (64, 3, 64, 64) and batch.factor_names == tuple(FACTOR_NAMES)
    differs = (batch.y1 != batch.y2).numpy()
    assert differs.sum(axis=1).tolist() == [1] * 64
    assert np.array_equal(differs.argmax(axis=1), batch.changed.numpy())
    assert set(batch.changed.tolist()) == set(range(len(FACTOR_NAMES)))
    # the images are the grid's faces of those factors: they differ where the factors do
    shown1, shown2 = (values_of(np.round(x.permute(0, 2, 3, 1).numpy() * 255).astype(np.uint8)) for x in (batch.x1, batch.x2))
    np.testing.assert_array_equal(np.abs(shown1 - shown2) > 1e-6, differs)
    assert render_spy == []  # nothing rendered


def test_pairs_are_rendered_on_demand_without_a_grid(face_pool, render_spy):
    """The spy sees the on-demand sampler render (so the test above can fail)."""
    pool = TrainPool(face_pool, face_pool.indices(0), torch.device("cpu"))
    pairs.sample_pairs(pool, 4, np.random.default_rng(0))
    assert len(render_spy) == 2


def test_no_training_step_renders_with_the_grid(face_pool, grid_file, tmp_path, monkeypatch):
    """A pair kind trained as the paper preset trains it (pairs from the grid) never calls the renderer."""
    def forbidden(*args, **kwargs):
        raise AssertionError("a face was rendered during training")

    monkeypatch.setattr(synthfaces, "render_face", forbidden)
    monkeypatch.setattr(pairs, "render_faces", forbidden)
    train = {"steps": 3, "batch_size": 4, "lr": 1e-3, "checkpoint_every": 2, "log_every": 1, "eval_images": 4}
    out = tmp_path / "svae"
    train_model(face_pool.path, out / "model.pt", out / "train_log.tsv", out / "evaluation.json", "svae",
                {"kind": "svae", "latent_dim": 10}, train, seed=0, device="cpu", face_grid=grid_file)
    assert (out / "model.pt").exists()
    with pytest.raises(AssertionError, match="rendered during training"):  # without the grid the same job renders
        train_model(face_pool.path, out / "model.pt", out / "train_log.tsv", out / "evaluation.json", "svae",
                    {"kind": "svae", "latent_dim": 10}, train, seed=0, device="cpu")


def test_no_metric_renders_with_the_grid(grid_file, tmp_path, monkeypatch):
    """The metrics of the paper preset (synthfaces_source: grid) draw every observation without rendering."""
    def forbidden(*args, **kwargs):
        raise AssertionError("a face was rendered for a metric")

    monkeypatch.setattr(synthfaces, "render_face", forbidden)
    monkeypatch.setattr(ground_truth, "render_faces", forbidden)
    save_model(build_model({"kind": "vae", "latent_dim": 4}, in_channels=3).eval(), tmp_path / "model.pt", "vae", {"kind": "vae", "latent_dim": 4})
    counts = {"batch_size": 4, "num_train": 6, "num_eval": 4, "num_variance_estimate": 20, "num_observations": 40}
    record = evaluate_model(tmp_path / "model.pt", grid_file, tmp_path / "m.json", tmp_path / "d.json", "grid", counts, seed=0,
                            dci_estimators=2, device="cpu")
    assert 0 <= record["mig"] <= 1
    with pytest.raises(AssertionError, match="rendered for a metric"):  # on demand, the same metrics render
        evaluate_model(tmp_path / "model.pt", grid_file, tmp_path / "m.json", tmp_path / "d.json", "render", counts, seed=0,
                       levels=LEVELS, dci_estimators=2, device="cpu")
