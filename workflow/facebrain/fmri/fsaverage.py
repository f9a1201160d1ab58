"""The fsaverage5 template surface, as nilearn ships it (no download).

fMRIPrep 21.0.1 resamples every run onto FreeSurfer's fsaverage5 (10,242
vertices per hemisphere, icosahedron order 5) and writes one GIFTI per
hemisphere (``hemi-L``/``hemi-R``). Everything the surface analysis needs
about the template comes from here: the meshes (pial, white, inflated,
sphere, and their mean, the mid-thickness surface), the sulcal depth drawn
under the figures, the cortex mask (medial wall excluded) and geodesic
distances along the cortical sheet.

Vertex order: a hemisphere's vertices are FreeSurfer's; the analysis
concatenates left then right (``HEMIS``), so vertex ``i`` of the right
hemisphere is feature ``N_VERTICES + i`` of a whole-brain vector.

The medial wall: FreeSurfer sets cortical thickness to 0 outside its cortex
label, so on fsaverage5's averaged thickness map (``thick_*.gii`` in nilearn)
the medial wall is the set of vertices thinner than ``MEDIAL_WALL_MM`` -- one
connected region per hemisphere (532 left, 528 right vertices).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

SPACE = "fsaverage5"
HEMIS = ("L", "R")
NILEARN_HEMI = {"L": "left", "R": "right"}
N_VERTICES = 10242
MEDIAL_WALL_MM = 0.5
#: GIFTI AnatomicalStructurePrimary of each hemisphere (the value fMRIPrep writes).
STRUCTURE = {"L": "CortexLeft", "R": "CortexRight"}


@dataclass(frozen=True)
class Hemisphere:
    """One hemisphere of fsaverage5.

    Attributes
    ----------
    hemi : 'L' or 'R'.
    faces : (20480, 3) int, triangles (vertex indices).
    pial, white, inflated, sphere, midthickness : (N_VERTICES, 3) float64 coordinates (mm;
        the sphere has radius 100).
    sulc : (N_VERTICES,) FreeSurfer sulcal depth (mm; positive in sulci).
    cortex : (N_VERTICES,) bool, False on the medial wall.
    """

    hemi: str
    faces: np.ndarray
    pial: np.ndarray
    white: np.ndarray
    inflated: np.ndarray
    sphere: np.ndarray
    sulc: np.ndarray
    cortex: np.ndarray

    @property
    def midthickness(self) -> np.ndarray:
        """(N_VERTICES, 3) mean of the pial and white surfaces: the middle of the cortical sheet."""
        return (self.pial + self.white) / 2.0

    def edges(self) -> np.ndarray:
        """(E, 2) unique undirected edges of the mesh, smaller index first."""
        pairs = np.vstack([self.faces[:, [0, 1]], self.faces[:, [1, 2]], self.faces[:, [2, 0]]])
        return np.unique(np.sort(pairs, axis=1), axis=0)

    def geodesic_mm(self, sources, limit: float = np.inf) -> np.ndarray:
        """Distance (mm) along the mid-thickness mesh's edges from ``sources`` (vertex index or indices).

        Dijkstra over the edge graph: an upper bound of the true geodesic close to it
        at fsaverage5's 3 mm edge length. Returns (n_sources, N_VERTICES), or
        (N_VERTICES,) for a single source; ``inf`` beyond ``limit``.
        """
        from scipy.sparse.csgraph import dijkstra

        single = np.ndim(sources) == 0
        dist = dijkstra(self.edge_graph, directed=False, indices=np.atleast_1d(sources), limit=limit)
        return dist[0] if single else dist

    @functools.cached_property
    def edge_graph(self):
        """Sparse (N_VERTICES, N_VERTICES) matrix of the mid-thickness edge lengths (mm)."""
        from scipy.sparse import coo_matrix

        e = self.edges()
        length = np.linalg.norm(self.midthickness[e[:, 0]] - self.midthickness[e[:, 1]], axis=1)
        return coo_matrix((length, (e[:, 0], e[:, 1])), shape=(N_VERTICES, N_VERTICES)).tocsr()

    def nearest_vertex(self, point_mm, surface: str = "midthickness", within: np.ndarray | None = None) -> int:
        """Index of the vertex of ``surface`` closest to ``point_mm`` (3,), optionally among ``within`` (bool mask)."""
        coords = getattr(self, surface)
        dist = np.linalg.norm(coords - np.asarray(point_mm, float), axis=1)
        if within is not None:
            dist = np.where(within, dist, np.inf)
        return int(np.argmin(dist))


def _part(polymesh, hemi: str):
    return polymesh.parts[NILEARN_HEMI[hemi]]


@functools.lru_cache(maxsize=2)
def hemisphere(hemi: str) -> Hemisphere:
    """fsaverage5's hemisphere ``hemi`` ('L' or 'R') from nilearn's bundled files (cached)."""
    if hemi not in HEMIS:
        raise ValueError(f"unknown hemisphere {hemi!r}; expected one of {HEMIS}")
    from nilearn.datasets import load_fsaverage, load_fsaverage_data

    meshes = load_fsaverage(SPACE)
    pial = _part(meshes["pial"], hemi)
    thickness = np.asarray(load_fsaverage_data(SPACE, data_type="thickness").data.parts[NILEARN_HEMI[hemi]], float).ravel()
    sulc = np.asarray(load_fsaverage_data(SPACE, mesh_type="inflated", data_type="sulcal").data.parts[NILEARN_HEMI[hemi]], float).ravel()
    return Hemisphere(
        hemi=hemi,
        faces=np.asarray(pial.faces, int),
        pial=np.asarray(pial.coordinates, float),
        white=np.asarray(_part(meshes["white_matter"], hemi).coordinates, float),
        inflated=np.asarray(_part(meshes["inflated"], hemi).coordinates, float),
        sphere=np.asarray(_part(meshes["sphere"], hemi).coordinates, float),
        sulc=sulc,
        cortex=thickness >= MEDIAL_WALL_MM,
    )


def cortex_mask() -> np.ndarray:
    """(2 * N_VERTICES,) bool over both hemispheres (left then right): False on the medial wall."""
    return np.concatenate([hemisphere(h).cortex for h in HEMIS])


def split_hemispheres(values: np.ndarray) -> dict[str, np.ndarray]:
    """Split (..., 2 * N_VERTICES) whole-brain vertex values into {'L': (..., N_VERTICES), 'R': ...}."""
    values = np.asarray(values)
    if values.shape[-1] != 2 * N_VERTICES:
        raise ValueError(f"expected {2 * N_VERTICES} vertices on the last axis, got {values.shape[-1]}")
    return {"L": values[..., :N_VERTICES], "R": values[..., N_VERTICES:]}
