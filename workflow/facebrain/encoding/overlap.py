"""Overlap of two dimensions' maps against a spatial null: Dice, its chance level and a p.

A dimension's map is its top ``fraction`` of |beta| over the voxels the encoding score uses
(the face-selective ones). Neighbouring voxels are alike, so two smooth maps overlap by
chance more than two voxel-shuffled maps would; the null therefore moves one map as a whole
and keeps its spatial structure, re-thresholding it after each move (the size of its
supra-threshold set stays fixed):

- volume (:class:`ShiftNull`): random circular shifts of the whole map on the voxel grid
  (a toroidal shift along x, y and z), values shifted in from outside the brain mask missing;
- surface (:class:`facebrain.encoding.spin.SpinNull`): spin permutations of the sphere.

``p = (1 + #(null >= observed)) / (1 + n)`` (one-sided: more overlap than chance), and the
chance level is the null's mean Dice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from facebrain.encoding.spin import dice_rows, top_fraction

log = logging.getLogger(__name__)


class SpatialNull(Protocol):
    """A spatial null over a region: ``name``, ``region`` and ``surrogates(values, n, rng) -> (n, m)``."""

    name: str
    region: np.ndarray

    def surrogates(self, values: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray: ...


class ShiftNull:
    """Random circular shifts of a volume map on its voxel grid, as a spatial null over a region.

    Parameters
    ----------
    inside : 3D bool, the brain mask (the map's voxels are its True voxels, in C order).
    region : (m,) indices into the brain-mask voxels (e.g. the face-selective ones).

    Surrogates of a map are the whole map shifted by a random (dx, dy, dz) (each uniform over
    the grid's size, the zero shift excluded) with wrap-around, read on ``region``; values
    shifted in from outside the brain mask are NaN. The shifts are drawn once, from the first
    call's ``rng``, and reused for every map.
    """

    name = "shift"

    def __init__(self, inside: np.ndarray, region: np.ndarray):
        self.inside = np.asarray(inside, bool)
        self.region = np.asarray(region, dtype=np.int64)
        self.shifts = np.empty((0, 3), dtype=np.int64)

    def surrogates(self, values: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
        """(n, m) shifted copies of ``values`` ((V,) over the brain-mask voxels) on the region."""
        values = np.asarray(values, dtype=np.float64)
        if values.shape != (int(self.inside.sum()),):
            raise ValueError(f"a shift surrogate moves a map over the {int(self.inside.sum())} brain-mask voxels, got shape {values.shape}")
        while len(self.shifts) < n:
            draw = np.column_stack([rng.integers(0, size, n - len(self.shifts)) for size in self.inside.shape])
            self.shifts = np.concatenate([self.shifts, draw[draw.any(axis=1)]])
        grid = np.full(self.inside.shape, np.nan)
        grid[self.inside] = values
        coords = np.argwhere(self.inside)[self.region]  # (m, 3)
        shape = np.array(self.inside.shape)
        # the value at c moves to c + s, so region voxel c receives the value at c - s
        source = (coords[None, :, :] - self.shifts[:n, None, :]) % shape
        return grid[source[..., 0], source[..., 1], source[..., 2]]


@dataclass
class OverlapResult:
    """Observed Dice of two maps, the null's mean (chance) and one-sided p."""

    dice: float
    chance: float
    p: float
    null: np.ndarray


def overlap_test(map_a: np.ndarray, map_b: np.ndarray, null: SpatialNull, fraction: float, n: int, rng: np.random.Generator) -> OverlapResult:
    """Dice of the top ``fraction`` of |value| of two maps over ``null.region``, against ``null``'s surrogates of ``map_a``.

    Parameters
    ----------
    map_a, map_b : whole maps in the null's layout ((V,) brain-mask voxels for :class:`ShiftNull`,
        (2 * 10242,) vertices for :class:`facebrain.encoding.spin.SpinNull`).
    null : the spatial null; fraction : share of the region forming each map's supra-threshold set.
    n : number of surrogates; rng : numpy Generator.
    """
    a, b = np.asarray(map_a, float)[null.region], np.asarray(map_b, float)[null.region]
    top_b = top_fraction(b, fraction)
    observed = float(dice_rows(top_fraction(a, fraction), top_b))
    draws = dice_rows(top_fraction(null.surrogates(map_a, n, rng), fraction), top_b[None, :])
    p = float((1 + np.sum(draws >= observed - 1e-12)) / (1 + n))
    return OverlapResult(observed, float(np.nanmean(draws)), p, draws)
