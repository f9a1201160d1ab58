"""Pair batches for the weakly supervised kinds (SVAE, GVAE, ML-VAE, explicit).

A pair is two images that differ in exactly one known factor. The ``"pairs"``
sampler draws them from the training pool:

- grid data sets (dSprites, or any pool whose factors take few values): the
  partner of an image is another training image equal to it in every factor
  but one (found by grouping the pool's factor rows);
- SynthFaces (continuous factors, no exact partners in the pool): both images
  are rendered with :func:`facebrain.datasets.synthfaces.render_faces` from
  a training image's factors, the second with one factor redrawn uniformly
  in [-1, 1] (eyeglasses: flipped);
- SynthFaces with a rendered grid (the pool's ``face_grid``, e.g. the paper
  preset's ``train.synthfaces_pairs: grid``): two cells of the grid
  (:class:`facebrain.datasets.face_grid.FaceGrid`) that differ in one factor,
  read from the memory-mapped file; nothing is rendered during training.

Factor values are standardised over the pool (mean 0, sd 1 per factor).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from facebrain.datasets.face_grid import FaceGrid
from facebrain.datasets.prepared import image_tensor
from facebrain.datasets.synthfaces import BINARY_FACTORS, FACTOR_NAMES, render_faces
from facebrain.models.batches import TrainPool, register_sampler


@dataclass
class PairBatch:
    """A batch of B image pairs differing in one factor.

    Attributes
    ----------
    x1, x2 : float (B, C, 64, 64) in [0, 1].
    y1, y2 : float (B, F) standardised factor values of x1 and x2.
    changed : long (B,), the index of the factor that differs.
    factor_names : the F factor names.
    """

    x1: torch.Tensor
    x2: torch.Tensor
    y1: torch.Tensor
    y2: torch.Tensor
    changed: torch.Tensor
    factor_names: tuple[str, ...]

    def factor_columns(self, names: str) -> list[int]:
        """Column indices of the comma-separated factor ``names`` (ValueError naming unknown ones)."""
        wanted = [n.strip() for n in names.split(",") if n.strip()]
        unknown = [n for n in wanted if n not in self.factor_names]
        if unknown or not wanted:
            raise ValueError(f"factors {unknown or names!r} are not among this data set's factors {list(self.factor_names)}")
        return [self.factor_names.index(n) for n in wanted]


class PairIndex:
    """For each factor d, the pool rows grouped by their values in every other factor.

    Parameters
    ----------
    factors : (M, F) factor values of the pool.
    """

    def __init__(self, factors: np.ndarray):
        codes = np.stack([np.unique(col, return_inverse=True)[1] for col in np.asarray(factors).T], axis=1)
        self.order, self.start, self.size, self.group, self.pos = [], [], [], [], []
        self.pairable = []
        for d in range(codes.shape[1]):
            key = codes.copy()
            key[:, d] = 0
            _, group, size = np.unique(key, axis=0, return_inverse=True, return_counts=True)
            order = np.argsort(group, kind="stable")
            start = np.concatenate([[0], np.cumsum(size)[:-1]])
            pos = np.empty(len(group), dtype=np.int64)
            pos[order] = np.arange(len(group)) - start[group[order]]
            self.order.append(order)
            self.start.append(start)
            self.size.append(size)
            self.group.append(group)
            self.pos.append(pos)
            self.pairable.append(np.flatnonzero(size[group] >= 2))

    @property
    def pairable_factors(self) -> list[int]:
        """The factors for which at least one pair exists."""
        return [d for d, rows in enumerate(self.pairable) if len(rows)]

    def sample(self, batch_size: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Rows (anchor (B,), partner (B,)) and the differing factor (B,)."""
        factors = self.pairable_factors
        changed = rng.choice(factors, size=batch_size)
        anchors, partners = np.empty(batch_size, np.int64), np.empty(batch_size, np.int64)
        for i, d in enumerate(changed):
            a = self.pairable[d][rng.integers(len(self.pairable[d]))]
            g = self.group[d][a]
            offset = (self.pos[d][a] + rng.integers(1, self.size[d][g])) % self.size[d][g]
            anchors[i], partners[i] = a, self.order[d][self.start[d][g] + offset]
        return anchors, partners, changed


def _pool_stats(pool: TrainPool) -> tuple[np.ndarray, np.ndarray, PairIndex | None]:
    """Factor means and sds of the pool and its :class:`PairIndex` (None without pairs), computed once per pool."""
    if "_pair_stats" not in pool.__dict__:
        factors = np.asarray(pool.factors, dtype=np.float64)
        sd = factors.std(axis=0)
        sd[sd == 0] = 1.0
        index = PairIndex(factors)
        pool.__dict__["_pair_stats"] = (factors.mean(axis=0), sd, index if index.pairable_factors else None)
    return pool.__dict__["_pair_stats"]


def grid_pairs(grid: FaceGrid, batch_size: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Factor classes of ``batch_size`` pairs of grid cells that differ in exactly one factor.

    The first cell is uniform over the grid, the changed factor uniform over the
    factors, its new level uniform over the other levels.

    Returns
    -------
    classes1, classes2 : int64 (B, F); equal but in column ``changed[i]``.
    changed : int64 (B,).
    """
    sizes = np.asarray(grid.num_values)
    classes1 = np.stack([rng.integers(0, n, size=batch_size) for n in sizes], axis=1)
    changed = rng.integers(len(sizes), size=batch_size)
    rows = np.arange(batch_size)
    classes2 = classes1.copy()
    classes2[rows, changed] = (classes1[rows, changed] + rng.integers(1, sizes[changed])) % sizes[changed]
    return classes1, classes2, changed


def _to_device(arrays, device) -> list[torch.Tensor]:
    return [torch.from_numpy(np.ascontiguousarray(a)).to(device) for a in arrays]


@register_sampler("pairs")
def sample_pairs(pool: TrainPool, batch_size: int, rng: np.random.Generator) -> PairBatch:
    """A :class:`PairBatch` of ``batch_size`` pairs from the training pool (see the module docstring).

    Raises
    ------
    ValueError
        If the pool has no pairs and is not SynthFaces (whose renderer makes them),
        or it has a SynthFaces grid but other factors.
    """
    factors = np.asarray(pool.factors, dtype=np.float64)
    names = tuple(str(n) for n in pool.data.factor_names)
    mean, sd, index = _pool_stats(pool)
    if pool.face_grid is not None:
        if names != tuple(pool.face_grid.factor_names):
            raise ValueError(f"{pool.face_grid} has factors {pool.face_grid.factor_names}, the training images of {pool.data} {list(names)}")
        classes1, classes2, changed = grid_pairs(pool.face_grid, batch_size, rng)
        x1, x2 = (image_tensor(pool.face_grid.images(pool.face_grid.cells(c)), pool.device) for c in (classes1, classes2))
        v1, v2 = pool.face_grid.factor_values(classes1), pool.face_grid.factor_values(classes2)
    elif index is not None:
        a, b, changed = index.sample(batch_size, rng)
        x1, x2 = pool.batch(a), pool.batch(b)
        v1, v2 = factors[a], factors[b]
    elif names == tuple(FACTOR_NAMES):
        v1 = factors[rng.integers(len(factors), size=batch_size)].astype(np.float64)
        changed = rng.integers(len(names), size=batch_size)
        v2 = v1.copy()
        for i, d in enumerate(changed):
            v2[i, d] = 1.0 - v1[i, d] if names[d] in BINARY_FACTORS else rng.uniform(-1.0, 1.0)
        x1, x2 = (image_tensor(render_faces(v), pool.device) for v in (v1, v2))
    else:
        raise ValueError(f"the training images of {pool.data} contain no pairs that differ in one factor, and no renderer is known for factors {list(names)}")
    y1, y2, changed_t = _to_device([((v1 - mean) / sd).astype(np.float32), ((v2 - mean) / sd).astype(np.float32), changed.astype(np.int64)], pool.device)
    return PairBatch(x1, x2, y1, y2, changed_t, names)
