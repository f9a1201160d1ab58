"""Semantic directions in a latent space (Zheng et al. 2021, Table 2 analogue).

For random pairs of images (i, j), dW = w_i - w_j (latent differences, (m, K))
and dY = y_i - y_j (factor differences, (m, F)); the closed-form least-squares
directions are V = (dW^T dW)^-1 dW^T dY, one column per factor (K, F). Each
direction is judged by the correlation of the projections w . v_f with every
true factor (an F x F matrix whose diagonal should dominate). The directions of
one latent space are clustered by Ward's method on their absolute cosine
distance 1 - |cos|.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
from scipy.cluster.hierarchy import dendrogram, linkage
from scipy.spatial.distance import squareform

from facebrain.datasets.prepared import PreparedData
from facebrain.errors import DataError
from facebrain.io import write_table
from facebrain.plotting import pyplot, save_figure

logger = logging.getLogger(__name__)


def regression_directions(latents: np.ndarray, factors: np.ndarray, random_state: np.random.Generator, num_pairs: int = 10_000, ridge: float = 1e-6) -> np.ndarray:
    """Closed-form regression directions of each factor.

    Parameters
    ----------
    latents : float (n, K) latent codes.
    factors : float (n, F) factor values.
    random_state : numpy Generator drawing the pairs.
    num_pairs : number of random pairs (i, j), i != j.
    ridge : added to the diagonal of dW^T dW (relative to its mean diagonal) for stability.

    Returns
    -------
    float64 (K, F): column f is the direction of factor f, v = (dW^T dW)^-1 dW^T dY.
    """
    n = len(latents)
    if n < 2 or len(factors) != n:
        raise ValueError(f"need >= 2 matching rows, got latents {latents.shape} and factors {factors.shape}")
    i = random_state.integers(0, n, size=num_pairs)
    j = (i + random_state.integers(1, n, size=num_pairs)) % n
    d_w = latents[i] - latents[j]
    d_y = factors[i] - factors[j]
    gram = d_w.T @ d_w
    gram += ridge * np.mean(np.diag(gram)) * np.eye(len(gram))
    return np.linalg.solve(gram, d_w.T @ d_y)


def projection_correlations(latents: np.ndarray, factors: np.ndarray, directions: np.ndarray) -> np.ndarray:
    """Pearson correlation of each projection ``latents @ directions[:, d]`` with each factor.

    Returns float64 (F factors, D directions); a constant column gives 0.
    """
    proj = latents @ directions
    out = np.zeros((factors.shape[1], proj.shape[1]))
    for f in range(factors.shape[1]):
        for d in range(proj.shape[1]):
            if np.std(factors[:, f]) > 0 and np.std(proj[:, d]) > 0:
                out[f, d] = np.corrcoef(factors[:, f], proj[:, d])[0, 1]
    return out


def cosine_distance(directions: np.ndarray) -> np.ndarray:
    """Absolute cosine distance 1 - |cos| between the columns of ``directions`` (K, D); (D, D)."""
    unit = directions / np.maximum(np.linalg.norm(directions, axis=0, keepdims=True), 1e-12)
    dist = 1.0 - np.abs(unit.T @ unit)
    np.fill_diagonal(dist, 0.0)
    return np.clip(dist, 0.0, None)


def ward_dendrogram(directions: np.ndarray, labels: list[str], ax, orientation: str = "right") -> list[str]:
    """Draw the Ward dendrogram of the columns of ``directions`` (K, D) by :func:`cosine_distance` on ``ax``.

    Parameters
    ----------
    directions : float (K, D), D >= 2 directions.
    labels : D leaf labels.
    ax : matplotlib axes.
    orientation : scipy's dendrogram orientation ('right': leaves on the left, 'top': leaves below).

    Returns
    -------
    The leaf labels in the order drawn (scipy's ``ivl``).
    """
    tree = linkage(squareform(cosine_distance(directions), checks=False), method="ward")
    return dendrogram(tree, labels=labels, ax=ax, orientation=orientation, color_threshold=0.7 * tree[:, 2].max())["ivl"]


def _latents_and_factors(latents_path: Path, data) -> tuple[np.ndarray, np.ndarray]:
    """The held-out rows of a latents file, aligned by id with the prepared factors."""
    try:
        with h5py.File(latents_path, "r") as f:
            mu = f["mu"][()]
            ids = [s.decode() if isinstance(s, bytes) else str(s) for s in f["ids"][()]]
    except (OSError, KeyError) as exc:
        raise DataError(latents_path, f"cannot read mu/ids ({exc})") from exc
    position = {str(k): i for i, k in enumerate(data.ids)}
    missing = [k for k in ids if k not in position]
    if missing:
        raise DataError(latents_path, f"{len(missing)} ids (e.g. {missing[0]!r}) are not in the prepared data")
    rows = np.array([position[k] for k in ids])
    held_out = data.split[rows] != 0
    keep = held_out if held_out.sum() >= 100 else np.ones(len(rows), bool)
    return mu[keep].astype(np.float64), np.asarray(data.factors, dtype=np.float64)[rows[keep]]


def semantic_directions(latents: Mapping[str, str | Path], data_path: str | Path, table: str | Path, figure: str | Path, seed: int, num_pairs: int = 10_000, max_leaves: int = 12) -> Figure:
    """Directions of every factor in every latent space: correlation table and Ward dendrograms.

    Parameters
    ----------
    latents : model name -> ``results/latents/{model}/{dataset}.h5`` (``mu`` (n, K), ``ids``).
    data_path : the prepared data set ``results/data/{dataset}.h5`` (factors, ids, split).
    table : output CSV, one row per (model, direction, factor): ``model, direction,
        factor, r`` (Pearson r of the projection on the direction with the factor)
        and ``abs_cosine_nearest`` (the largest |cos| to another direction of the model).
    figure : output PNG, one Ward dendrogram per model (leaves: factor directions).
    seed : seed of the random pairs.
    num_pairs : pairs per latent space.
    max_leaves : factors beyond this many (CelebA's 40 attributes) are dropped by variance rank.

    Returns
    -------
    Figure
        The dendrogram figure written (closed): one axes per model.
    """
    plt = pyplot()

    data = PreparedData(data_path)
    names = list(data.factor_names)
    rows = []
    fig, axes = plt.subplots(1, len(latents), figsize=(4.5 * len(latents), 4), squeeze=False)
    for ax, (model, path) in zip(axes[0], latents.items()):
        w, y = _latents_and_factors(Path(path), data)
        order = np.argsort(-y.std(axis=0))[:max_leaves]
        keep = np.sort(order[y.std(axis=0)[order] > 0])
        y = (y[:, keep] - y[:, keep].mean(0)) / y[:, keep].std(0)
        factor_names = [names[k] for k in keep]
        directions = regression_directions(w, y, np.random.default_rng(seed), num_pairs)
        corr = projection_correlations(w, y, directions)
        dist = cosine_distance(directions)
        nearest = np.where(np.eye(len(dist), dtype=bool), np.inf, dist).min(axis=1)
        for d, direction in enumerate(factor_names):
            for f, factor in enumerate(factor_names):
                rows.append({"model": model, "direction": direction, "factor": factor, "r": corr[f, d], "abs_cosine_nearest": 1.0 - nearest[d]})
        if len(factor_names) >= 2:
            ward_dendrogram(directions, factor_names, ax, orientation="right")
        ax.set_title(f"{model}: factor directions")
        ax.set_xlabel("Ward linkage distance (1 - |cos|)")
        logger.info("%s: diagonal r %s", model, np.round(np.diag(corr), 3).tolist())
    fig.suptitle(f"Semantic directions clustered by absolute cosine distance ({Path(data_path).stem})")
    fig.tight_layout()
    write_table(table, pd.DataFrame(rows))
    return save_figure(fig, figure, dpi=120)
