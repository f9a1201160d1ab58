"""Zheng et al. 2021's analysis of a style-based generator, on a toy generator whose
images depend on two planted directions of w: the measurement network, the
closed-form directions (Eq. 3) and Table 2, the Eq. 4 edits, the localized
components (Eq. 5) with their dendrogram and edits, and the Table 1 measures."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from conftest import image_grid
from facebrain.datasets.prepared import write_prepared
from facebrain.errors import DataError
from facebrain.io import write_h5
from facebrain.probes import directions, localized, quality
from facebrain.probes.generated import synthesize
from facebrain.probes.measurement import load_measurement, train_measurement

SIDE = 16
SEMANTICS = ["yaw", "smile"]


class ToyGenerator(nn.Module):
    """w = z A; the left half's red is sigmoid(w . d_yaw), the bottom half's green sigmoid(w . d_smile), plus per-pixel noise."""

    z_dim = w_dim = 8

    def __init__(self, noise: float = 0.0):
        super().__init__()
        rng = np.random.default_rng(0)
        self.a = nn.Parameter(torch.from_numpy((rng.standard_normal((8, 8)) / np.sqrt(8)).astype(np.float32)), requires_grad=False)
        basis = np.linalg.qr(rng.standard_normal((8, 2)))[0].astype(np.float32)
        self.register_buffer("planted", torch.from_numpy(basis))
        self.noise = noise

    def mapping(self, z):
        return z @ self.a

    def synthesis(self, w):
        s = torch.sigmoid(w @ self.planted)
        images = torch.full((len(w), 3, SIDE, SIDE), 0.5) + self.noise * torch.randn(len(w), 3, SIDE, SIDE)
        left = torch.zeros(SIDE, SIDE)
        left[:, : SIDE // 2] = 1
        images = images + (s[:, 0, None, None, None] - 0.5) * left * torch.eye(3)[0][None, :, None, None]
        return images + (s[:, 1, None, None, None] - 0.5) * left.T.flip(0) * torch.eye(3)[1][None, :, None, None]


class ToyMeasurement(nn.Module):
    """Measures the toy's planted semantics: the left half's red, the bottom half's green (images of any side)."""

    factor_names = SEMANTICS

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(()), requires_grad=False)

    def features(self, x):
        return nn.functional.adaptive_avg_pool2d(x, 2).flatten(1) * self.scale

    def forward(self, x):
        half = x.shape[-1] // 2
        return torch.stack([x[:, 0, :, :half].mean((1, 2)), x[:, 1, half:, :].mean((1, 2))], dim=1) * self.scale


@pytest.fixture
def toy(monkeypatch):
    """The toy generator and measurement stand in for the trained files."""
    generator = ToyGenerator()
    for module in (directions, localized, quality):
        monkeypatch.setattr(module, "load_generator", lambda path, device: generator)
        if hasattr(module, "load_measurement"):
            monkeypatch.setattr(module, "load_measurement", lambda path, device: ToyMeasurement())
    return generator


def samples_file(path, generator, n=400, seed=0):
    samples = directions.generated_semantics(generator, ToyMeasurement(), n, seed)
    write_h5(path, {**samples, "semantic_names": np.asarray(SEMANTICS, dtype=object)})
    return path


def test_closed_form_recovers_the_planted_directions(tmp_path):
    generator = ToyGenerator()
    fit = directions.closed_form_directions(samples_file(tmp_path / "s.h5", generator), tmp_path / "d.h5", seed=1, num_pairs=2000)
    assert np.all(np.abs(np.diag(fit["correlations"])) > 0.9)
    cosines = np.abs(np.sum(fit["unit"] * generator.planted.numpy(), axis=0))
    assert np.all(cosines > 0.9), cosines


def test_table2_rows_are_semantics_and_columns_directions_per_model(tmp_path):
    generator = ToyGenerator()
    paths = {}
    for model in ("stylegan2", "stylegan2_decorr"):
        directions.closed_form_directions(samples_file(tmp_path / f"{model}_s.h5", generator), tmp_path / f"{model}.h5", seed=1, num_pairs=1000)
        paths[model] = tmp_path / f"{model}.h5"
    directions.table2(paths, {"stylegan2": 0.0, "stylegan2_decorr": 1.0}, tmp_path / "t2.csv")
    table = pd.read_csv(tmp_path / "t2.csv")
    assert list(table.columns) == ["model", "decorrelation", "semantic", "v_yaw", "v_smile"]
    assert table["model"].tolist() == ["stylegan2"] * 2 + ["stylegan2_decorr"] * 2
    assert table["decorrelation"].tolist() == [0.0, 0.0, 1.0, 1.0]
    own = table.apply(lambda row: row[f"v_{row['semantic']}"], axis=1)
    other = table.apply(lambda row: row["v_smile" if row["semantic"] == "yaw" else "v_yaw"], axis=1)
    assert (own > 0.9).all() and (other.abs() < 0.3).all()


def test_manipulation_rows_are_semantics_columns_steps_and_the_semantic_follows_the_step(tmp_path, toy):
    directions.closed_form_directions(samples_file(tmp_path / "s.h5", toy), tmp_path / "d.h5", seed=1, num_pairs=1000)
    steps = [-2.0, 0.0, 2.0]
    fig = directions.manipulation_figure("model.pt", tmp_path / "d.h5", "measurement.pt", tmp_path / "m.png", seed=3, steps=steps, device="cpu")
    grid = image_grid(fig)
    assert [len(row) for row in grid] == [3, 3]
    assert [row[0].get_ylabel() for row in grid] == SEMANTICS
    assert [ax.get_title() for ax in grid[0]] == ["-2.0 sigma", "+0.0 sigma", "+2.0 sigma"]
    for row in grid:
        measured = [float(ax.get_xlabel()) for ax in row]
        assert measured[0] < measured[1] < measured[2]
    with pytest.raises(DataError, match="not measured"):
        directions.manipulation_figure("model.pt", tmp_path / "d.h5", "measurement.pt", tmp_path / "m2.png", seed=3, steps=steps, semantics=["Smiling"], device="cpu")


def test_noise_is_shared_so_path_length_sees_only_w(tmp_path):
    noisy = ToyGenerator(noise=0.05)
    w = np.zeros((2, 8))
    assert np.array_equal(synthesize(noisy, w[:1], seed=4), synthesize(noisy, w[1:], seed=4))
    assert quality.path_length(noisy, 64, seed=0) < 10.0  # unshared noise would give ~ 2 * 0.05^2 / 1e-8


def test_frechet_distance_of_shifted_gaussians():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((4000, 3)), rng.standard_normal((4000, 3)) + [1.0, 0.0, 0.0]
    assert quality.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    assert quality.frechet_distance(a, b) == pytest.approx(1.0, abs=0.1)


def test_jacobian_matches_finite_differences():
    generator = ToyGenerator(noise=0.05)
    w = np.random.default_rng(1).standard_normal((1, 8)).astype(np.float32)
    jac = localized.image_jacobian(generator, w, seed=2)[0]
    step = 1e-2
    plus = synthesize(generator, w + step * np.eye(8, dtype=np.float32), seed=2, batch_size=1).reshape(8, -1)
    minus = synthesize(generator, w - step * np.eye(8, dtype=np.float32), seed=2, batch_size=1).reshape(8, -1)
    assert jac.shape == (3 * SIDE * SIDE, 8)
    assert np.allclose(jac, ((plus - minus) / (2 * step)).T, atol=1e-3)


def test_localized_objective_decreases_under_unit_norm():
    rng = np.random.default_rng(0)
    jacobian = rng.standard_normal((300, 6)) * (rng.random((300, 1)) < 0.2)
    fit = localized.fit_localized(jacobian, components=4, alpha=1.0, beta=1.0, lr=1e-2, steps=60, seed=0)
    assert fit["objective"][-1] < fit["objective"][0]
    assert np.allclose(np.linalg.norm(fit["v"], axis=0), 1.0, atol=1e-5)


def test_discarded_components_have_small_maps():
    u = np.zeros((50, 4))
    u[:, 0], u[0, 1], u[:2, 2], u[0, 3] = 1.0, 0.009, 0.005, 0.011
    kept = localized.kept_components(u, 0.01)
    assert kept.tolist() == [0, 3]
    discarded = np.setdiff1d(np.arange(4), kept)
    assert np.all(np.linalg.norm(u[:, discarded], axis=0) < 0.01)


def test_dendrogram_leaves_are_the_kept_components_and_sampling_rows_follow_them(tmp_path, toy):
    fit = localized.localized_components("model.pt", tmp_path / "loc.h5", seed=0, num_samples=2, components=5, alpha=0.01, beta=1.0,
                                         lr=1e-2, steps=20, min_norm=0.5, size=SIDE, device="cpu")
    kept = np.flatnonzero(fit["kept"])
    assert np.all(fit["u_norm"][~fit["kept"]] < 0.5) and len(kept) >= 2
    fig = localized.dendrogram_figure(tmp_path / "loc.h5", tmp_path / "dendro.png")
    tree, map_axes = fig.axes[0], fig.axes[1:]
    leaves = [t.get_text() for t in tree.get_xticklabels()]
    assert sorted(leaves) == sorted(f"c{p}" for p in kept)
    assert [ax.get_title() for ax in map_axes] == [""] * len(kept)  # named once, by the tree's leaves
    to_figure = tree.transData + fig.transFigure.inverted()
    for leaf, x, ax in zip(leaves, tree.get_xticks(), map_axes, strict=True):  # below each leaf, that component's map
        box = ax.get_position()
        assert box.x0 < to_figure.transform((x, 0))[0] < box.x1
        component_map = fit["maps"][int(leaf[1:])]
        np.testing.assert_allclose(ax.images[0].get_array(), component_map / component_map.max())
    maps = fit["maps"][kept]  # each map drawn on its own scale, its maximum written below it, one colour bar for that scale
    assert [ax.images[0].get_array().max() for ax in map_axes] == pytest.approx([1.0] * len(kept))
    assert sorted(t.get_text() for ax in fig.axes[1:] for t in ax.texts) == sorted(f"max {m.max():.2g}" for m in maps)
    (colour_bar,) = fig.axes[-1].child_axes
    assert colour_bar.get_ylabel() == "mean |u| / map's max" and colour_bar.get_ylim() == (0.0, 1.0)
    steps = [-1.0, 0.0, 1.0]
    grid = image_grid(localized.sampling_figure("model.pt", tmp_path / "loc.h5", tmp_path / "s.png", seed=0, steps=steps, max_rows=2, size=SIDE, device="cpu"))
    assert [len(row) for row in grid] == [3, 3]
    assert {row[0].get_ylabel() for row in grid} <= set(leaves)


def test_the_dendrogram_job_draws_without_torch(tmp_path):
    """Fig. 6 reads the fitted components and draws them: its job (rule zheng_dendrogram) does not pay torch's import (~1.5 CPU-s)."""
    import subprocess
    import sys

    rng = np.random.default_rng(0)
    write_h5(tmp_path / "loc.h5", {"v": rng.standard_normal((8, 3)), "u_norm": np.ones(3), "kept": np.ones(3, bool), "maps": rng.random((3, 4, 4)),
                                   "sigma": np.ones(3), "objective": np.zeros(2)})
    code = ("import sys\nfrom facebrain.probes.localized import dendrogram_figure\n"
            f"dendrogram_figure({str(tmp_path / 'loc.h5')!r}, {str(tmp_path / 'dendro.png')!r})\nprint('torch' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False" and (tmp_path / "dendro.png").stat().st_size > 0


def test_measurement_network_learns_planted_factors(tmp_path):
    rng = np.random.default_rng(0)
    n = 240
    factors = rng.uniform(-1, 1, (n, 2)).astype(np.float32)
    images = np.zeros((n, 64, 64, 3), np.uint8)
    images[:, :, :32, 0] = (127 + 120 * factors[:, 0])[:, None, None]
    images[:, 32:, :, 1] = (127 + 120 * factors[:, 1])[:, None, None]
    split = np.r_[np.zeros(n - 60), np.ones(30), 2 * np.ones(30)].astype(np.int8)
    write_prepared(tmp_path / "d.h5", images, factors, ["red", "green"], split, [str(i) for i in range(n)])
    table = train_measurement(tmp_path / "d.h5", tmp_path / "m.pt", tmp_path / "r.csv", seed=0, factors=["green"], steps=60, batch_size=16, width=4, device="cpu")
    assert table["factor"].tolist() == ["green"] and table["n_images"].tolist() == [60]
    assert table["r"].iloc[0] > 0.9
    assert load_measurement(tmp_path / "m.pt").factor_names == ["green"]
