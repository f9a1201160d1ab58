"""Permutation test of the encoding accuracy: exactness against scipy, calibration under the null, FDR."""

import subprocess
import sys

import numpy as np
import pytest
from scipy import stats

from facebrain.encoding.permutation import average_ranks, fdr_bh, permutations, spearman_columns, spearman_permutation_test


@pytest.mark.parametrize("kind", ["continuous", "ties", "nan", "signed_zeros"])
def test_average_ranks_equal_scipy_rankdata(kind):
    rng = np.random.default_rng(3)
    x = {
        "continuous": rng.normal(size=(20, 40)),
        "ties": rng.integers(0, 3, size=(20, 40)).astype(float),
        "nan": np.where(rng.random((20, 40)) < 0.02, np.nan, rng.integers(0, 4, size=(20, 40))),
        "signed_zeros": np.where(rng.random((20, 40)) < 0.5, 0.0, -0.0),
    }[kind]
    np.testing.assert_array_equal(average_ranks(x), stats.rankdata(x, axis=0, method="average"))


def test_the_encoding_test_modules_import_neither_scipy_stats_nor_pandas():
    """Importing scipy.stats costs ~1 CPU-s and pandas ~0.4: the demo's 48 accuracy and comparison jobs need neither."""
    code = "import sys, facebrain.encoding.accuracy, facebrain.encoding.comparison; print([m for m in ('scipy.stats', 'pandas') if m in sys.modules])"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "[]"


def test_rho_and_pvalues_match_a_scipy_loop():
    rng = np.random.default_rng(1)
    pred = rng.normal(size=(20, 15))
    meas = pred + rng.normal(scale=2.0, size=(20, 15))
    meas[:, 0] = np.round(meas[:, 0])  # ties
    res = spearman_permutation_test(pred, meas, 300, np.random.default_rng(7))
    expected_rho = np.array([stats.spearmanr(pred[:, v], meas[:, v])[0] for v in range(15)])
    np.testing.assert_allclose(res.rho, expected_rho, atol=1e-12)
    perms = permutations(20, 300, np.random.default_rng(7))
    null = np.array([[stats.spearmanr(pred[perm, v], meas[:, v])[0] for v in range(15)] for perm in perms])
    np.testing.assert_allclose(res.null, null.mean(axis=1), atol=1e-12)
    np.testing.assert_allclose(res.voxel_p, (1 + (null >= expected_rho - 1e-12).sum(axis=0)) / 301)
    assert res.p == (1 + (null.mean(axis=1) >= expected_rho.mean() - 1e-12).sum()) / 301


def test_signal_gives_small_p():
    rng = np.random.default_rng(2)
    pred = rng.normal(size=(20, 50))
    res = spearman_permutation_test(pred, pred + rng.normal(scale=0.5, size=pred.shape), 999, rng)
    assert res.score > 0.7
    assert res.p == pytest.approx(1 / 1000)


def test_calibrated_under_the_null():
    """Null data: voxelwise p uniform (KS) and false-positive rate at 0.05 in [0.03, 0.07]; same for the score's p over seeds."""
    rng = np.random.default_rng(3)
    res = spearman_permutation_test(rng.normal(size=(20, 4000)), rng.normal(size=(20, 4000)), 999, rng)
    assert stats.kstest(res.voxel_p, "uniform").pvalue > 0.01
    assert 0.03 <= (res.voxel_p <= 0.05).mean() <= 0.07
    score_p = np.array([spearman_permutation_test(rng.normal(size=(20, 30)), rng.normal(size=(20, 30)), 199, rng).p for _ in range(600)])
    assert stats.kstest(score_p, "uniform").pvalue > 0.01
    assert 0.03 <= (score_p <= 0.05).mean() <= 0.07


def test_constant_column_gives_zero_rho():
    a = np.arange(10.0)[:, None].repeat(2, axis=1)
    b = a.copy()
    b[:, 1] = 3.0
    np.testing.assert_allclose(spearman_columns(a, b), [1.0, 0.0])


def test_shape_mismatch_raises():
    with pytest.raises(ValueError, match="n_faces"):
        spearman_permutation_test(np.zeros((5, 3)), np.zeros((5, 4)), 10, np.random.default_rng(0))


def test_fdr_matches_scipy():
    p = np.random.default_rng(4).uniform(size=200) ** 3
    significant, q = fdr_bh(p, 0.05)
    np.testing.assert_allclose(q, stats.false_discovery_control(p), atol=1e-12)
    assert (significant == (q <= 0.05)).all()
