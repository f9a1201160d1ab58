"""The datasets stage through the snakemake CLI (smoke preset, in a copy of the repository)."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import assert_same_picture, copy_repo, image_grid, run_snakemake, shown_image, smoke_config
from facebrain.datasets.figures import dsprites_figure, synthfaces_figure
from facebrain.datasets.prepared import PreparedData

pytestmark = pytest.mark.workflow

SMOKE = smoke_config()

TARGETS = ["results/data/dsprites.h5", "results/data/synthfaces.h5",
           "results/figures/datasets/dsprites.png", "results/figures/datasets/synthfaces.png"]


@pytest.fixture(scope="module")
def datasets_run(tmp_path_factory):
    workdir = copy_repo(tmp_path_factory.mktemp("datasets") / "repo")
    run_snakemake(workdir, "--cores", "2", *TARGETS, "--configfile", "presets/smoke.yaml")
    return workdir


def test_dsprites_h5_holds_the_reduced_grid(datasets_run):
    with PreparedData(datasets_run / "results/data/dsprites.h5") as data:
        assert data.n == 3 * 6 * 10 * 8 * 8  # the smoke preset's grid, all images kept
        assert data.channels == 1 and set(np.unique(data.images(np.arange(0, data.n, 97)))) == {0, 255}
        assert data.factor_classes.max(axis=0).tolist() == [2, 5, 9, 7, 7]
        assert set(np.unique(data.split)) == {0, 1, 2}
        assert data.attrs["rule"] == "prepare_dsprites" and "dsprites_ndarray" in data.attrs["inputs"]
    with np.load(datasets_run / "resources/dsprites/dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz", allow_pickle=True) as f:
        assert f["metadata"].item()["latents_sizes"].tolist() == [1, 3, 6, 10, 8, 8]


def test_synthfaces_h5_matches_its_celeba_layout(datasets_run):
    root = datasets_run / "resources/synthfaces"
    assert len(list((root / "img_align_celeba").glob("*.jpg"))) == 240
    with PreparedData(datasets_run / "results/data/synthfaces.h5") as data:
        assert data.n == 240 and data.images([0]).shape == (1, 64, 64, 3)
        assert data.factor_names == ["yaw", "smile", "skin_tone", "gender", "hair_color", "light_direction", "background", "eyeglasses"]
        assert np.bincount(data.split).tolist() == [192, 24, 24]
        assert data.ids[0] == "000001.jpg"
        assert data.factors[:, :7].std(axis=0).min() > 0.4  # uniform on [-1, 1]: sd 0.58


def test_figures_show_two_sample_rows_and_a_sweep_per_factor(datasets_run, tmp_path):
    npz = datasets_run / "resources/dsprites/dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz"
    with np.load(npz, allow_pickle=True) as f:
        dsprites_factors = [name for name in f["metadata"].item()["latents_names"] if name != "color"]
    with PreparedData(datasets_run / "results/data/synthfaces.h5") as data:
        face_factors = list(data.factor_names)
    drawn = {"dsprites": (dsprites_figure(npz, tmp_path / "dsprites.png", seed=SMOKE["seed"]), dsprites_factors),
             "synthfaces": (synthfaces_figure(datasets_run / "resources/synthfaces", tmp_path / "synthfaces.png"), face_factors)}
    for name, (fig, factors) in drawn.items():
        assert_same_picture(datasets_run / f"results/figures/datasets/{name}.png", tmp_path / f"{name}.png")
        grid = image_grid(fig)
        assert [row[0].get_ylabel() for row in grid] == ["samples 1", "samples 2", *factors]
        for row in grid[2:]:  # first against middle: dSprites' orientation sweep ends where it starts
            assert len(row) >= 2 and not np.array_equal(shown_image(row[0]), shown_image(row[len(row) // 2])), f"{name}: {row[0].get_ylabel()} does not sweep"
        assert (datasets_run / f"logs/{name}_figure/{name}_figure.log").is_file()


def test_celeba_offline_fails_with_the_manual_instructions(datasets_run):
    proc = run_snakemake(datasets_run, "--cores", "1", "results/data/celeba.h5",
                         "--config", "datasets={'celeba': {'base_url': 'http://127.0.0.1:9/'}}", check=False)
    assert proc.returncode != 0
    assert "download these files by hand" in proc.stdout and "resources/celeba/img_align_celeba.zip" in proc.stdout
    assert not (datasets_run / "results/data/celeba.h5").exists()
    assert not list((datasets_run / "resources").glob("celeba/*.*"))
