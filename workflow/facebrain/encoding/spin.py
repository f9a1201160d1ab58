"""Spin permutations of fsaverage5: the spatial null of overlap between surface maps.

Two maps on the cortex overlap by chance more than two shuffled maps would,
because neighbouring vertices are alike. The spin test (Alexander-Bloch et al.
2018, NeuroImage 178:540) keeps that spatial structure: it rotates one map
over the sphere (FreeSurfer's ``?h.sphere`` of fsaverage5, as nilearn ships it)
by uniformly random rotations (scipy's ``Rotation.random``), the right
hemisphere by the mirror image of the left one's rotation, and recomputes the
overlap after each rotation.

After a rotation, vertex ``v`` takes the value of the vertex whose rotated
position is nearest to ``v``; values rotated in from the medial wall are
missing (NaN) and never count as supra-threshold. The overlap statistic is
the Dice coefficient of the two maps' top ``fraction`` of |value| over a set
of vertices (the face-selective ones): the rotated map is thresholded again
after every rotation, so the null keeps the size of its supra-threshold set.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from facebrain.fmri import fsaverage

log = logging.getLogger(__name__)

#: Reflection across the midsagittal plane: the right hemisphere's rotation is MIRROR R MIRROR.
MIRROR = np.diag([-1.0, 1.0, 1.0])


def random_rotations(n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` rotation matrices drawn uniformly from SO(3), (n, 3, 3)."""
    from scipy.spatial.transform import Rotation

    return Rotation.random(n, random_state=rng).as_matrix().reshape(n, 3, 3)


def spin_sources(rotations: np.ndarray, vertices: np.ndarray) -> np.ndarray:
    """For each rotation, the vertex whose value lands on each of ``vertices`` after the rotation.

    Parameters
    ----------
    rotations : (n, 3, 3) rotations of the left hemisphere (the right one is mirrored).
    vertices : (m,) indices into both hemispheres' vertices (0 .. 2 * 10242 - 1, left then right).

    Returns
    -------
    (n, m) int: indices (same numbering) of the source vertices; a vertex never takes a
    value from the other hemisphere.
    """
    from scipy.spatial import cKDTree

    n_vert = fsaverage.N_VERTICES
    vertices = np.asarray(vertices)
    out = np.empty((len(rotations), vertices.size), dtype=np.int64)
    for h, hemi in enumerate(fsaverage.HEMIS):
        sphere = fsaverage.hemisphere(hemi).sphere
        tree = cKDTree(sphere)
        cols = np.flatnonzero((vertices >= h * n_vert) & (vertices < (h + 1) * n_vert))
        targets = sphere[vertices[cols] - h * n_vert]
        for i, rotation in enumerate(rotations):
            r = rotation if hemi == "L" else MIRROR @ rotation @ MIRROR
            # the value at u moves to r @ s_u, so v receives the value of the u nearest r^T s_v
            _, nearest = tree.query(targets @ r)
            out[i, cols] = nearest + h * n_vert
    return out


def top_fraction(values: np.ndarray, fraction: float) -> np.ndarray:
    """(..., m) bool: per row, the ``fraction`` of entries with the largest |value| (at least one; NaN never)."""
    values = np.asarray(values, dtype=float)
    n = max(1, int(round(fraction * values.shape[-1])))
    score = np.where(np.isnan(values), -np.inf, np.abs(values))
    order = np.argsort(-score, axis=-1, kind="stable")[..., :n]
    keep = np.zeros(values.shape, bool)
    np.put_along_axis(keep, order, True, axis=-1)
    return keep & np.isfinite(score)


def dice_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Dice coefficient of boolean rows: (..., m) and (..., m) -> (...) (NaN where both are empty)."""
    inter = (a & b).sum(-1)
    total = a.sum(-1) + b.sum(-1)
    return np.divide(2.0 * inter, total, out=np.full(np.shape(total), np.nan), where=total > 0)


@dataclass
class SpinResult:
    """The observed overlap of two maps, its spin null and one-sided p (more overlap than chance).

    Attributes
    ----------
    dice : observed Dice of the two maps' supra-threshold vertices.
    null : (n_rotations,) Dice after rotating the first map.
    p : (1 + #(null >= dice)) / (1 + n_rotations).
    """

    dice: float
    null: np.ndarray
    p: float

    @property
    def chance(self) -> float:
        """Mean Dice under the null: the overlap expected from the maps' sizes and smoothness alone."""
        return float(np.nanmean(self.null))


def spin_overlap(map_a: np.ndarray, map_b: np.ndarray, region: np.ndarray, fraction: float, sources: np.ndarray) -> SpinResult:
    """Spin test of the overlap of two surface maps over a set of vertices.

    Parameters
    ----------
    map_a, map_b : (2 * 10242,) values on both hemispheres (NaN on the medial wall).
    region : (m,) vertex indices the overlap is computed over (e.g. the face-selective vertices).
    fraction : share of ``region`` with the largest |value| that forms each map's supra-threshold set.
    sources : (n_rotations, m) from :func:`spin_sources` for ``region``.

    Returns
    -------
    SpinResult (``map_a`` is the rotated one).
    """
    a, b = np.asarray(map_a, float), np.asarray(map_b, float)
    top_b = top_fraction(b[region], fraction)
    observed = float(dice_rows(top_fraction(a[region], fraction), top_b))
    null = dice_rows(top_fraction(a[sources], fraction), top_b[None, :])
    p = float((1 + np.sum(null >= observed - 1e-12)) / (1 + len(null)))
    return SpinResult(observed, null, p)


class SpinNull:
    """Spin permutations as a spatial null of maps over a set of vertices (e.g. the face-selective ones).

    Surrogates of a map over ``region`` are the whole map's values rotated onto ``region``:
    unlike a null built from the region's values alone, the spin brings in the values that
    surround the region, as rotating the cortex does.

    Parameters
    ----------
    region : (m,) indices into both hemispheres' vertices (0 .. 2 * 10242 - 1, left then right).

    Attributes
    ----------
    name : 'spin' (written in the tables).
    sources : (n, m) the source vertices of the rotations drawn so far (see :meth:`surrogates`).
    """

    name = "spin"

    def __init__(self, region: np.ndarray):
        self.region = np.asarray(region, dtype=np.int64)
        self.sources = np.empty((0, self.region.size), dtype=np.int64)

    def surrogates(self, values: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
        """(n, m) rotated copies of ``values`` (2 * 10242,) on the region (NaN where the medial wall rotates in).

        The rotations are drawn once, from the first call's ``rng``, and reused for every
        map (more are drawn when a later call asks for more), so all pairs of maps are
        compared under the same rotations.
        """
        values = np.asarray(values, dtype=np.float64)
        if values.shape != (2 * fsaverage.N_VERTICES,):
            raise ValueError(f"a spin surrogate rotates a whole-surface map of {2 * fsaverage.N_VERTICES} vertices, got shape {values.shape}")
        if len(self.sources) < n:
            more = spin_sources(random_rotations(n - len(self.sources), rng), self.region)
            self.sources = np.concatenate([self.sources, more])
        return values[self.sources[:n]]
