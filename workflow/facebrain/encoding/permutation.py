"""Spearman encoding accuracy and its permutation test, vectorised.

The test-face labels are shuffled: permutation ``p`` pairs the predicted
responses of face ``perm[i]`` with the measured responses of face ``i``, the
same permutation for every voxel (so the spatial correlation of the data is
kept in the null). Ranks are computed once (average ranks for ties, as
:func:`scipy.stats.spearmanr`); permuting faces permutes ranks, so every
permuted Spearman rho is a dot product of standardised ranks.

The ranks are numpy's (:func:`average_ranks`, equal to ``scipy.stats.rankdata``):
importing ``scipy.stats`` costs about 1 CPU-second, more than the whole test of
a demo job.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from tqdm import tqdm

log = logging.getLogger(__name__)


@dataclass
class PermutationResult:
    """Outcome of :func:`spearman_permutation_test`.

    Attributes
    ----------
    rho : (V,) float64, Spearman rho per voxel across the test faces.
    score : float, mean of ``rho`` over voxels (the subject's encoding score).
    null : (n_perm,) float64, the score under each permutation.
    p : float, ``(1 + #(null >= score)) / (1 + n_perm)``.
    voxel_p : (V,) float64, the same p per voxel (one-sided, rho > 0).
    n_perm : int, number of permutations.
    """

    rho: np.ndarray
    score: float
    null: np.ndarray
    p: float
    voxel_p: np.ndarray
    n_perm: int


def average_ranks(x: np.ndarray) -> np.ndarray:
    """Rank each column of ``x`` from 1, ties sharing their average rank.

    Equal to ``scipy.stats.rankdata(x, axis=0, method="average")``, NaN policy
    included (a column holding a NaN ranks as all NaN).

    Parameters
    ----------
    x : (n, V) array.

    Returns
    -------
    (n, V) float64 ranks.
    """
    x = np.asarray(x, dtype=np.float64)
    rows = np.ascontiguousarray(x.T)  # one column per row: the sorts run along contiguous memory
    n = rows.shape[1]
    order = np.argsort(rows, axis=1)
    ordered = np.take_along_axis(rows, order, axis=1)
    position = np.broadcast_to(np.arange(n), rows.shape)
    first = np.ones(rows.shape, dtype=bool)
    first[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    last = np.ones(rows.shape, dtype=bool)
    last[:, :-1] = first[:, 1:]
    start = np.maximum.accumulate(np.where(first, position, 0), axis=1)
    end = np.minimum.accumulate(np.where(last, position, n - 1)[:, ::-1], axis=1)[:, ::-1]
    ranks = np.empty(rows.shape)
    np.put_along_axis(ranks, order, (start + end) / 2 + 1, axis=1)
    ranks[np.isnan(rows).any(axis=1)] = np.nan
    return ranks.T
    return ranks


def standardized_ranks(x: np.ndarray) -> np.ndarray:
    """Rank each column of ``x`` (average ranks for ties), centre it and scale it to unit norm.

    Parameters
    ----------
    x : (n, V) array.

    Returns
    -------
    (n, V) float64; the dot product of two such columns is their Spearman rho.
    A constant column (zero norm) stays all zeros, so its rho is 0.
    """
    r = average_ranks(x)
    r -= r.mean(axis=0, keepdims=True)
    norm = np.sqrt((r**2).sum(axis=0, keepdims=True))
    return np.divide(r, norm, out=np.zeros_like(r), where=norm > 0)


def spearman_columns(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Spearman rho between matching columns of ``a`` and ``b`` (both (n, V)); returns (V,)."""
    return (standardized_ranks(a) * standardized_ranks(b)).sum(axis=0)


def permutations(n: int, n_perm: int, rng: np.random.Generator) -> np.ndarray:
    """Return ``n_perm`` random permutations of ``range(n)`` as an (n_perm, n) int array."""
    return rng.permuted(np.tile(np.arange(n), (n_perm, 1)), axis=1)


def spearman_permutation_test(
    predicted: np.ndarray,
    measured: np.ndarray,
    n_perm: int,
    rng: np.random.Generator,
    chunk_size: int = 256,
) -> PermutationResult:
    """Per-voxel Spearman rho between predicted and measured test responses, with a permutation test.

    Parameters
    ----------
    predicted : (n_faces, V) predicted responses (e.g. ``bias + z_test @ W``).
    measured : (n_faces, V) measured responses (the test-face betas), rows in the same face order.
    n_perm : number of label permutations (10,000 in the paper).
    rng : numpy Generator that draws the permutations (seed it from the config).
    chunk_size : permutations evaluated at once (memory ``chunk_size * n_faces * V`` floats).

    Returns
    -------
    PermutationResult
    """
    predicted = np.asarray(predicted, dtype=np.float64)
    measured = np.asarray(measured, dtype=np.float64)
    if predicted.shape != measured.shape or predicted.ndim != 2:
        raise ValueError(f"predicted {predicted.shape} and measured {measured.shape} must both be (n_faces, V)")
    n_faces, n_vox = predicted.shape
    if n_faces < 3:
        raise ValueError(f"need at least 3 test faces for a Spearman permutation test, got {n_faces}")
    a = standardized_ranks(predicted)
    b = standardized_ranks(measured)
    rho = (a * b).sum(axis=0)
    score = float(rho.mean())
    perms = permutations(n_faces, n_perm, rng)
    null = np.empty(n_perm)
    exceed = np.zeros(n_vox, dtype=np.int64)
    log.info("permutation test: %d faces x %d voxels, %d permutations", n_faces, n_vox, n_perm)
    for start in tqdm(range(0, n_perm, chunk_size), desc="permutations", unit="chunk", mininterval=5):
        idx = perms[start : start + chunk_size]
        rho_perm = np.einsum("pfv,fv->pv", a[idx], b, optimize=True)
        null[start : start + len(idx)] = rho_perm.mean(axis=1)
        exceed += (rho_perm >= rho - 1e-12).sum(axis=0)
    p = (1 + int((null >= score - 1e-12).sum())) / (1 + n_perm)
    voxel_p = (1 + exceed) / (1 + n_perm)
    return PermutationResult(rho=rho, score=score, null=null, p=p, voxel_p=voxel_p, n_perm=n_perm)


def fdr_bh(p: np.ndarray, alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Benjamini-Hochberg FDR correction.

    Parameters
    ----------
    p : (V,) p-values.
    alpha : false discovery rate.

    Returns
    -------
    (significant (V,) bool, q (V,) float64 adjusted p-values).
    """
    p = np.asarray(p, dtype=np.float64)
    n = p.size
    if n == 0:
        return np.zeros(0, dtype=bool), np.zeros(0)
    order = np.argsort(p)
    ranked = p[order] * n / np.arange(1, n + 1)
    q_sorted = np.minimum.accumulate(ranked[::-1])[::-1].clip(max=1.0)
    q = np.empty(n)
    q[order] = q_sorted
    return q <= alpha, q
