"""Model comparison: swap-null calibration, power on a planted difference, bootstrap interval, sign flips, Table 1 rows."""

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from facebrain.encoding.comparison import bootstrap_scores, sign_flip_test, swap_test
from facebrain.encoding.tables import write_table1


def exchangeable_models(rng, n_faces=20, n_vox=30, shared=1.0):
    """Measured responses and two models that predict them equally well (independent errors of the same size)."""
    signal = rng.normal(size=(n_faces, n_vox))
    measured = signal + rng.normal(size=signal.shape)
    pred_a = shared * signal + rng.normal(size=signal.shape)
    pred_b = shared * signal + rng.normal(size=signal.shape)
    return pred_a, pred_b, measured


def test_swap_null_is_calibrated():
    """Two exchangeable models: p uniform (KS) and false-positive rate at 0.05 in [0.03, 0.07] over 800 seeds."""
    p = []
    for seed in range(800):
        rng = np.random.default_rng(seed)
        pred_a, pred_b, measured = exchangeable_models(rng)
        p.append(swap_test(pred_a, pred_b, measured, measured, 199, 10, rng).p)
    p = np.array(p)
    assert stats.kstest(p, "uniform").pvalue > 0.01
    assert 0.03 <= (p <= 0.05).mean() <= 0.07


def test_planted_oracle_beats_random():
    """A model close to the truth against a random one: p < 0.001 and a CI above 0 containing the difference."""
    rng = np.random.default_rng(1)
    signal = rng.normal(size=(20, 200))
    measured = signal + rng.normal(size=signal.shape)
    oracle, random = signal + 0.3 * rng.normal(size=signal.shape), rng.normal(size=signal.shape)
    result = swap_test(oracle, random, measured, measured, 1999, 500, rng)
    assert result.p < 0.001
    assert 0 < result.ci_low < result.diff < result.ci_high
    expected = stats.spearmanr(oracle, measured).statistic.diagonal(200).mean() - stats.spearmanr(random, measured).statistic.diagonal(200).mean()
    assert result.diff == pytest.approx(expected, abs=1e-10)
    flipped = swap_test(random, oracle, measured, measured, 999, 100, rng)
    assert flipped.diff == pytest.approx(-result.diff) and flipped.p < 0.002


def test_sign_flip_is_exact():
    assert sign_flip_test([0.1, 0.2, 0.3, 0.4], 100, np.random.default_rng(0)) == pytest.approx((0.25, 2 / 16))
    mean, p = sign_flip_test([0.1, -0.1], 100, np.random.default_rng(0))
    assert mean == 0 and p == 1.0
    _, p_random = sign_flip_test(np.full(20, 0.1), 999, np.random.default_rng(0))
    assert p_random == pytest.approx(1 / 1000)


def test_table1_comparison_rows(tmp_path):
    subjects, models, summaries = [], [], []
    for s in ("01", "02"):
        for m, rho in (("oracle", 0.4), ("random", 0.01)):
            path = tmp_path / f"{s}_{m}.json"
            path.write_text(json.dumps({"rho": rho, "p": 0.0005 if m == "oracle" else 0.4, "ceiling": 0.5, "rho_ceiling": rho / 0.5, "n_voxels": 50, "n_permutations": 1999}))
            subjects.append(s), models.append(m), summaries.append(path)
    comparisons = []
    for s, diff in (("01", 0.39), ("02", 0.30)):
        path = tmp_path / f"{s}_comparisons.json"
        path.write_text(json.dumps({"comparisons": [{"a": "oracle", "b": "random", "diff": diff, "p": 0.0005, "ci_low": diff - 0.1, "ci_high": diff + 0.1,
                                                      "n_voxels": 50, "n_permutations": 1999, "n_bootstrap": 3, "bootstrap": [diff - 0.1, diff, diff + 0.1]}]}))
        comparisons.append(path)
    space = ["fsaverage5"]
    table = write_table1(summaries, subjects, models, space * len(subjects), tmp_path / "t1.csv", tmp_path / "t1.md", comparisons, ["01", "02"], space * 2)
    rows = pd.read_csv(tmp_path / "t1.csv").set_index(["subject", "model"])
    assert rows.loc[("group", "oracle - random"), "rho"] == pytest.approx(0.345)
    assert rows.loc[("group", "oracle - random"), "p"] == pytest.approx(0.5)  # 2 subjects: 4 sign patterns, both same sign
    assert rows.loc[("sub-01", "oracle - random"), "kind"] == "comparison" and len(table) == 7
    assert set(table.space) == {"fsaverage5"}
    md = (tmp_path / "t1.md").read_text().splitlines()
    assert md[2] == "space-fsaverage5:" and md[4] == "| model | sub-01 | sub-02 | group |"
    assert md[8] == "| oracle - random | +0.390*** [+0.290, +0.490] | +0.300*** [+0.200, +0.400] | +0.345 [+0.250, +0.440] |"


def test_swap_null_and_bootstrap_match_a_scipy_loop():
    """The fast null (rank sums) and bootstrap (draw counts) equal Spearman recomputed on swapped and resampled rows."""
    rng = np.random.default_rng(5)
    pred_a, pred_b, measured = exchangeable_models(rng, n_faces=12, n_vox=7)

    def score(pred, meas):
        return np.mean([stats.spearmanr(pred[:, v], meas[:, v]).statistic for v in range(pred.shape[1])])

    result = swap_test(pred_a, pred_b, measured, measured, 20, 20, np.random.default_rng(3))
    swaps = np.random.default_rng(3).random((20, 12)) < 0.5
    expected = [score(np.where(s[:, None], pred_b, pred_a), measured) - score(np.where(s[:, None], pred_a, pred_b), measured) for s in swaps]
    np.testing.assert_allclose(result.null, expected, atol=1e-10)
    draws = rng.integers(0, 12, size=(5, 12))
    counts = np.stack([np.bincount(d, minlength=12) for d in draws])
    np.testing.assert_allclose(bootstrap_scores(pred_a, measured, counts), [score(pred_a[d], measured[d]) for d in draws], atol=1e-10)
