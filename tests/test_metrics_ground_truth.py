"""dSprites ground truth: index arithmetic over a small C-ordered grid, bad files, pairs."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from facebrain.errors import DataError
from facebrain.metrics.ground_truth import DSprites, GroundTruthData, factor_pairs

SIZES = (1, 3, 2, 4, 3, 2)
NAMES = ("color", "shape", "scale", "orientation", "posX", "posY")


def write_grid(path, sizes=SIZES, shuffle=False):
    classes = np.array(list(itertools.product(*[range(n) for n in sizes])), dtype=np.int64)
    if shuffle:
        classes = classes[::-1].copy()
    imgs = np.zeros((len(classes), 64, 64), dtype=np.uint8)
    for i, c in enumerate(classes):  # encode the classes in the first pixels
        imgs[i, 0, : len(c)] = c % 2
        imgs[i, 1, : len(c)] = c // 2 % 2
    metadata = np.array({"latents_names": NAMES, "latents_sizes": np.array(sizes)}, dtype=object)
    np.savez_compressed(path, imgs=imgs, latents_classes=classes, latents_values=classes.astype(float), metadata=metadata)
    return classes, imgs


def test_observations_match_their_factors(tmp_path):
    classes, imgs = write_grid(tmp_path / "d.npz")
    data = DSprites(tmp_path / "d.npz")
    assert data.factor_names == ["shape", "scale", "orientation", "posX", "posY"]
    assert data.factors_num_values == [3, 2, 4, 3, 2]
    rng = np.random.default_rng(0)
    factors = data.sample_factors(50, rng)
    obs = data.sample_observations_from_factors(factors, rng)
    assert obs.shape == (50, 64, 64, 1) and obs.dtype == np.uint8
    idx = data.indices_from_factors(factors)
    np.testing.assert_array_equal(classes[idx][:, 1:], factors)
    np.testing.assert_array_equal(obs[..., 0], imgs[idx] * 255)


def test_grid_out_of_c_order_is_rejected(tmp_path):
    write_grid(tmp_path / "d.npz", shuffle=True)
    with pytest.raises(DataError, match="C-ordered"):
        DSprites(tmp_path / "d.npz")


def test_missing_key_names_the_file(tmp_path):
    np.savez(tmp_path / "bad.npz", imgs=np.zeros((2, 64, 64), np.uint8))
    with pytest.raises(DataError, match="bad.npz"):
        DSprites(tmp_path / "bad.npz")


def test_pairs_differ_in_exactly_the_named_factor(tmp_path):
    write_grid(tmp_path / "d.npz")
    data = DSprites(tmp_path / "d.npz")
    f1, f2, changed = factor_pairs(data, 200, np.random.default_rng(1), factor_indices=[0, 2, 3])
    diff = f1 != f2
    assert diff.sum(axis=1).tolist() == [1] * 200
    assert np.array_equal(np.argmax(diff, axis=1), changed)
    assert set(changed.tolist()) == {0, 2, 3}
    assert (f2 < np.array(data.factors_num_values)).all()


def test_sampled_ground_truth_bins_continuous_factors_and_fixes_one():
    from facebrain.metrics.ground_truth import SampledGroundTruth
    from facebrain.metrics.mig import compute_mig

    rng = np.random.default_rng(0)
    values = np.column_stack([rng.uniform(-1, 1, 600), rng.integers(0, 2, 600)])
    images = np.zeros((600, 64, 64, 1), np.uint8)
    images[:, 0, 0, 0] = np.round((values[:, 0] + 1) * 100).astype(np.uint8)
    images[:, 0, 1, 0] = values[:, 1] * 255
    data = SampledGroundTruth(images, values, ["x", "glasses"], levels=4)
    assert data.factors_num_values == [4, 2]
    assert np.bincount(data.classes[:, 0]).tolist() == [150] * 4  # quantile bins
    factors, obs = data.sample_fixed_factor(0, np.full(20, 2), rng)
    assert (factors[:, 0] == 2).all()
    assert np.array_equal(data.sample_observations_from_factors(factors, rng)[:, 0, 1], obs[:, 0, 1])
    pixels = lambda o: o[:, 0, :2, 0].astype(float)  # noqa: E731
    assert compute_mig(data, pixels, rng, num_train=600)["discrete_mig"] > 0.8


def test_metric_training_and_test_samples_are_disjoint(caplog):
    """DCI and SAP fit on one sample and test on another: no observation in both (issue 15.6)."""
    from facebrain.metrics.ground_truth import SampledGroundTruth
    from facebrain.metrics.utils import generate_disjoint_factor_codes

    rng = np.random.default_rng(0)
    n = 600
    images = np.zeros((n, 64, 64, 1), np.uint8)
    images[:, 0, :2, 0] = np.stack([np.arange(n) % 256, np.arange(n) // 256], axis=1)  # each image unique
    data = SampledGroundTruth(images, np.column_stack([rng.uniform(-1, 1, n), rng.integers(0, 2, n)]), ["x", "glasses"], levels=4)
    ident = lambda o: o[:, 0, :2, 0].astype(float) @ np.array([1.0, 256.0])[:, None]  # noqa: E731  (code = image id)
    codes_train, _, codes_test, _, info = generate_disjoint_factor_codes(data, ident, 300, 150, rng, 16)
    assert len(codes_train) == 300 and len(codes_test) == 150 and not info["pool_too_small"]
    assert len(set(codes_train[:, 0])) == 300 and not set(codes_train[:, 0]) & set(codes_test[:, 0])

    with caplog.at_level("WARNING", logger="facebrain.metrics.ground_truth"):
        codes_train, _, codes_test, _, info = generate_disjoint_factor_codes(data, ident, 1000, 500, rng, 16)
    assert info == {"pool": 600, "num_train": 400, "num_test": 200, "requested": [1000, 500], "disjoint": True, "pool_too_small": True}
    assert not set(codes_train[:, 0]) & set(codes_test[:, 0])
    assert "fewer than the 1000 + 500 requested" in caplog.text


def test_dci_and_sap_report_their_disjoint_samples():
    from facebrain.metrics.dci import compute_dci
    from facebrain.metrics.sap import compute_sap

    class Grid(GroundTruthData):
        factor_names, factors_num_values, observation_shape = ["a", "b"], [4, 5], (1, 1, 2)

        def sample_observations_from_factors(self, factors, random_state):
            return np.asarray(factors, dtype=np.float64)[:, None, None, :]

    codes = lambda o: o[:, 0, 0, :] + 0.01 * np.random.default_rng(len(o)).standard_normal((len(o), 2))  # noqa: E731
    dci = compute_dci(Grid(), codes, np.random.default_rng(0), num_train=12, num_test=6, n_estimators=5)
    sap = compute_sap(Grid(), codes, np.random.default_rng(0), num_train=30, num_test=15)
    assert dci["samples"]["num_train"] == 12 and not dci["samples"]["pool_too_small"]
    assert sap["samples"] == {"pool": 20, "num_train": 13, "num_test": 7, "requested": [30, 15], "disjoint": True, "pool_too_small": True}
