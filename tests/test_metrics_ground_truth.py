"""dSprites ground truth: index arithmetic over a small C-ordered grid, bad files, pairs."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from facebrain.errors import DataError
from facebrain.metrics.ground_truth import DSprites, factor_pairs

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
