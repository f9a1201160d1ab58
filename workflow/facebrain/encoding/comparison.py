"""Comparing the encoding accuracy of two models: swap test, bootstrap CI, sign flips across subjects.

The statistic is the difference of the models' scores, ``mean_v rho_a - mean_v rho_b``
(each rho the Spearman correlation across the test faces of a voxel's predicted and
measured responses, :mod:`facebrain.encoding.accuracy`). Its null hypothesis is that
the two models are exchangeable: for every test face the two models' predicted
patterns are swapped with probability 1/2 (the same swaps in every voxel, so the
spatial correlation stays in the null) and the difference recomputed; ``p`` is
two-sided, ``(1 + #(|null| >= |observed|)) / (1 + n_perm)``. (Shuffling the test-face
labels of both models would be the wrong null: it tests both against chance.) The
confidence interval resamples the test faces with replacement (percentile bootstrap).

Across subjects the per-subject differences are sign-flipped (every sign pattern when
there are at most 12 subjects, else random ones): a random-effects test whose smallest
p is ``2 / 2**n_subjects``. The group interval averages the subjects' bootstrap draws
(test faces resampled within each subject; the subjects themselves held fixed).
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from facebrain.encoding.accuracy import load_selected_glm, predict_test_responses
from facebrain.encoding.permutation import standardized_ranks
from facebrain.errors import DataError

log = logging.getLogger(__name__)

EXACT_SIGN_FLIPS = 12


@dataclass
class ComparisonResult:
    """Outcome of :func:`swap_test`.

    Attributes
    ----------
    diff : float, ``score_a - score_b`` (mean Spearman rho over voxels).
    p : float, two-sided p of the swap null.
    ci_low, ci_high : floats, percentile bootstrap interval of ``diff`` over test faces.
    null : (n_perm,) float64, ``diff`` under each swap pattern.
    bootstrap : (n_boot,) float64, ``diff`` on each resample of the test faces.
    """

    diff: float
    p: float
    ci_low: float
    ci_high: float
    null: np.ndarray
    bootstrap: np.ndarray


def _below(x_f: np.ndarray, x_g: np.ndarray) -> np.ndarray:
    """(n, n, V): ``[x_g < x_f] + [x_g == x_f] / 2`` for faces f (axis 0) and g (axis 1), 0 where f == g.

    Summed over g it is a face's average rank (minus 1) among n values; with f and g from two
    models it is the rank contribution of g's value when f's value takes the place of face f.
    """
    out = (x_g[None, :, :] < x_f[:, None, :]) + 0.5 * (x_g[None, :, :] == x_f[:, None, :])
    out[np.arange(len(x_f)), np.arange(len(x_f))] = 0.0
    return out


def _swap_scores(pred: tuple[np.ndarray, np.ndarray], measured_ranks: np.ndarray, source: np.ndarray) -> np.ndarray:
    """Mean Spearman rho over voxels of the patterns taken face by face from ``pred[source[p, f]]``.

    ``source`` is (n_patterns, n) in {0, 1}; ``measured_ranks`` the standardised ranks (n, V).
    The predictions are assumed tie-free (continuous), so their rank norm is ``sqrt(n (n^2 - 1) / 12)``.
    """
    n, n_vox = measured_ranks.shape
    # M[i, j, f, g]: sum over voxels of face f's rank contribution from face g when f comes from model i and g from j
    m = np.stack([np.stack([np.einsum("fgv,fv->fg", _below(pred[i], pred[j]), measured_ranks) for j in (0, 1)]) for i in (0, 1)])
    onehot = np.stack([source == 0, source == 1], axis=-1).astype(np.float64)
    return np.einsum("pfi,ijfg,pgj->p", onehot, m, onehot) / (np.sqrt(n * (n**2 - 1) / 12) * n_vox)


def bootstrap_scores(pred: np.ndarray, measured: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Mean Spearman rho over voxels on resamples of the faces, from the times each face is drawn.

    Parameters
    ----------
    pred, measured : (n, V) predicted and measured responses (assumed tie-free within a voxel).
    counts : (B, n) how often each face is drawn in each resample (rows sum to n).

    Returns
    -------
    (B,) mean over voxels of the Spearman rho (average ranks: a face drawn c times is a tie of c)
    on each resample, equal to :func:`scipy.stats.spearmanr` on the resampled rows.
    """
    n = pred.shape[0]
    counts = np.asarray(counts, dtype=np.float64)
    centre = (n + 1) / 2

    def ranks(x):  # (B, n, V): average rank of each face's value among the resampled values
        return np.tensordot(counts, _below(x, x), axes=([1], [1])) + 0.5 * (counts[:, :, None] + 1) - centre

    ties = (n * (n**2 - 1) - (counts**3 - counts).sum(axis=1)) / 12  # sum of squared centred ranks, per resample
    rho = (counts[:, :, None] * ranks(pred) * ranks(measured)).sum(axis=1) / ties[:, None]
    return rho.mean(axis=1)


def swap_test(
    pred_a: np.ndarray,
    pred_b: np.ndarray,
    measured_a: np.ndarray,
    measured_b: np.ndarray,
    n_perm: int,
    n_boot: int,
    rng: np.random.Generator,
    confidence: float = 0.95,
    chunk_size: int = 100,
) -> ComparisonResult:
    """Difference of two models' encoding scores with its swap-null p and bootstrap interval.

    Every swapped score is a bilinear form in the swap pattern of sums precomputed once over
    voxels (a face's rank is a sum of pairwise comparisons), so the null costs ``n_perm * n_faces^2``
    whatever the number of voxels.

    Parameters
    ----------
    pred_a, pred_b : (n_faces, V) predicted test responses of models a and b (same voxels, same face order).
    measured_a, measured_b : (n_faces, V) measured test responses each model is scored against (the
        test betas of its own GLM fit; they differ from each other only through the latent regressors).
    n_perm : number of random swap patterns.
    n_boot : number of bootstrap resamples of the test faces.
    rng : numpy Generator (seed it from the config).
    confidence : coverage of the bootstrap interval.
    chunk_size : resamples evaluated at once (memory ``2 * chunk_size * n_faces * V`` floats).

    Returns
    -------
    ComparisonResult
    """
    arrays = [np.asarray(x, dtype=np.float64) for x in (pred_a, pred_b, measured_a, measured_b)]
    if len({x.shape for x in arrays}) != 1 or arrays[0].ndim != 2:
        raise ValueError(f"predictions and measurements must all be (n_faces, V), got {[x.shape for x in arrays]}")
    pred_a, pred_b, measured_a, measured_b = arrays
    n_faces, n_vox = pred_a.shape
    if n_faces < 3:
        raise ValueError(f"need at least 3 test faces to compare models, got {n_faces}")
    ya, yb = standardized_ranks(measured_a), standardized_ranks(measured_b)
    diff = float((standardized_ranks(pred_a) * ya).sum(axis=0).mean() - (standardized_ranks(pred_b) * yb).sum(axis=0).mean())
    log.info("swap test: %d faces x %d voxels, %d swap patterns, %d bootstrap resamples", n_faces, n_vox, n_perm, n_boot)
    swaps = (rng.random((n_perm, n_faces)) < 0.5).astype(np.int64)
    null = _swap_scores((pred_a, pred_b), ya, swaps) - _swap_scores((pred_b, pred_a), yb, swaps)
    p = (1 + int((np.abs(null) >= abs(diff) - 1e-12).sum())) / (1 + n_perm)
    counts = np.stack([np.bincount(row, minlength=n_faces) for row in rng.integers(0, n_faces, size=(n_boot, n_faces))])
    boot = np.empty(n_boot)
    for start in tqdm(range(0, n_boot, chunk_size), desc="bootstrap", unit="chunk", mininterval=5):
        c = counts[start : start + chunk_size]
        boot[start : start + len(c)] = bootstrap_scores(pred_a, measured_a, c) - bootstrap_scores(pred_b, measured_b, c)
    low, high = np.quantile(boot, [(1 - confidence) / 2, (1 + confidence) / 2])
    return ComparisonResult(diff=diff, p=p, ci_low=float(low), ci_high=float(high), null=null, bootstrap=boot)


def sign_flip_test(diffs: Sequence[float], n_perm: int, rng: np.random.Generator) -> tuple[float, float]:
    """Mean of per-subject differences with a two-sided sign-flip p.

    Parameters
    ----------
    diffs : (n_subjects,) per-subject differences (e.g. :attr:`ComparisonResult.diff`).
    n_perm : random sign patterns when there are more than 12 subjects (else all ``2**n`` are used).
    rng : numpy Generator.

    Returns
    -------
    (mean difference, p). With every pattern enumerated, p is exact: ``#(|flipped mean| >= |mean|) / 2**n``.
    """
    diffs = np.asarray(diffs, dtype=np.float64)
    if diffs.size == 0:
        raise ValueError("no subjects to sign-flip")
    observed = float(diffs.mean())
    if diffs.size <= EXACT_SIGN_FLIPS:
        signs = np.array(list(itertools.product((1.0, -1.0), repeat=diffs.size)))
        return observed, float((np.abs(signs @ diffs / diffs.size) >= abs(observed) - 1e-12).mean())
    signs = rng.choice((1.0, -1.0), size=(n_perm, diffs.size))
    exceed = int((np.abs(signs @ diffs / diffs.size) >= abs(observed) - 1e-12).sum())
    return observed, (1 + exceed) / (1 + n_perm)


def compare_subject_models(
    glms: Mapping[str, str | Path],
    brain_mask_nii: str | Path,
    selective_nii: str | Path,
    comparisons: Sequence[Sequence[str]],
    out_json: str | Path,
    n_permutations: int = 10_000,
    n_bootstrap: int = 2000,
    seed: int = 0,
    reliability_threshold: float | None = None,
) -> list[dict[str, Any]]:
    """Pipeline step: every configured model comparison of one subject.

    Parameters
    ----------
    glms : model -> its GLM file (:func:`facebrain.encoding.glm.fit_subject_glms`) for this subject.
    brain_mask_nii, selective_nii : the subject's brain mask and face-selective mask.
    comparisons : pairs ``(a, b)``; the statistic is ``a - b``. Pairs with a model not in ``glms`` are skipped.
    out_json : written as ``{"comparisons": [row, ...]}``, a row per pair: a, b, diff, p, ci_low, ci_high,
        n_voxels (voxels selected for both models), n_permutations, n_bootstrap and the bootstrap draws.
    n_permutations, n_bootstrap, seed : swap patterns, test-face resamples and the seed of both.
    reliability_threshold : as in :func:`facebrain.encoding.accuracy.evaluate_encoding`.
    """
    from facebrain.io import write_json

    rows = []
    for a, b in comparisons:
        if a not in glms or b not in glms:
            log.info("comparison %s - %s skipped: not both among the encoding models", a, b)
            continue
        (glm_a, keep_a, _), (glm_b, keep_b, _) = (load_selected_glm(glms[m], brain_mask_nii, selective_nii, reliability_threshold) for m in (a, b))
        keep = keep_a & keep_b
        pred_a = predict_test_responses(glm_a["W"][:, keep], glm_a["bias"][keep], glm_a["z_test"])
        pred_b = predict_test_responses(glm_b["W"][:, keep], glm_b["bias"][keep], glm_b["z_test"])
        if list(glm_a["test_faces"]) != list(glm_b["test_faces"]):
            raise DataError(glms[b], f"its test faces differ from those of {glms[a]}")
        result = swap_test(pred_a, pred_b, glm_a["test_betas"][:, keep], glm_b["test_betas"][:, keep], n_permutations, n_bootstrap, np.random.default_rng(seed))
        log.info("%s - %s: %.4f [%.4f, %.4f], p %.5f over %d voxels", a, b, result.diff, result.ci_low, result.ci_high, result.p, keep.sum())
        rows.append({"a": a, "b": b, "diff": result.diff, "p": result.p, "ci_low": result.ci_low, "ci_high": result.ci_high,
                     "n_voxels": int(keep.sum()), "n_permutations": n_permutations, "n_bootstrap": n_bootstrap,
                     "bootstrap": result.bootstrap.tolist()})
    write_json(out_json, {"comparisons": rows})
    return rows
