"""The spaces the analysis runs in: a volume grid or the fsaverage5 cortical surface.

fMRIPrep 21.0.1 wrote every run of ds001761 in several output spaces; the
analysis reads one or several of them side by side (config ``fmri.spaces``):

- ``MNI152NLin2009cAsym_res-2``: a 4D NIfTI per run; the analysis elements are
  the voxels of the runs' intersected brain masks;
- ``fsaverage5`` (Soulos & Isik's choice, the cortical surface): one GIFTI per
  hemisphere and run (``hemi-L``/``hemi-R``, a data array per volume); the
  analysis elements are the 2 x 10,242 vertices, medial wall excluded
  (:func:`facebrain.fmri.fsaverage.cortex_mask`).

The statistics never see the space. A :class:`SpaceMask` turns a run into
``(n_volumes, V)`` data over its V elements and puts ``(..., V)`` values back
on the space's grid as maps: a NIfTI for the volume, a pair of GIFTIs for the
surface. A map is named by one path per file: ``[x.nii.gz]`` or
``[x_hemi-L.func.gii, x_hemi-R.func.gii]`` (left first).

The pipeline's own files name a space by its ``space`` entity alone
(:func:`space_label`: ``space-MNI152NLin2009cAsym``, ``space-fsaverage5``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from facebrain.errors import DataError
from facebrain.fmri import fsaverage

VOLUME = "MNI152NLin2009cAsym_res-2"
SURFACE = fsaverage.SPACE
SPACES = (VOLUME, SURFACE)


def space_label(space: str) -> str:
    """The ``space`` entity of a space in the pipeline's paths: 'MNI152NLin2009cAsym_res-2' -> 'MNI152NLin2009cAsym'."""
    is_surface(space)
    return space.partition("_")[0]


def is_surface(space: str) -> bool:
    """True for a surface space (fsaverage5), False for a volume space."""
    if space not in SPACES:
        raise ValueError(f"unknown space {space!r}; expected one of {SPACES}")
    return space == SURFACE


def _paths(paths: str | Path | Sequence[str | Path]) -> list[Path]:
    return [Path(paths)] if isinstance(paths, (str, Path)) else [Path(p) for p in paths]


def split_maps(files: Sequence[str | Path], spaces: Sequence[str]) -> list[list[Path]]:
    """Group a flat list of map files by map: one NIfTI per volume map, two GIFTIs (hemi-L, hemi-R) per surface map.

    Parameters
    ----------
    files : the maps' files in turn (how a rule lists the maps of several fits).
    spaces : each map's space, fMRIPrep's name or its ``space`` entity (:func:`space_label`).

    Raises ValueError when the number of files does not match the spaces.
    """
    counts = [2 if space.partition("_")[0] == SURFACE else 1 for space in spaces]
    if sum(counts) != len(files):
        raise ValueError(f"{len(files)} map files for {len(spaces)} maps that need {sum(counts)} ({', '.join(spaces)})")
    ends = np.cumsum(counts)
    return [[Path(f) for f in files[end - n : end]] for n, end in zip(counts, ends)]


def load_masked_bold(bold: str | Path, mask: np.ndarray) -> np.ndarray:
    """Load a 4D BOLD NIfTI and return its in-mask time series, (n_scans, V) float32.

    Raises DataError if the file cannot be read to its end (truncated, corrupt), the image is
    not 4D or its grid does not match ``mask`` (3D bool).
    """
    from facebrain.nifti import load_nifti

    data = np.asarray(load_nifti(bold, "BOLD image", dtype=np.float32).dataobj)
    if data.ndim != 4 or data.shape[:3] != mask.shape:
        raise DataError(bold, f"BOLD shape {data.shape} does not match the brain mask grid {mask.shape} (expected 4D)")
    return np.ascontiguousarray(data[mask].T)


def read_gifti_arrays(path: str | Path, n_vertices: int = fsaverage.N_VERTICES) -> np.ndarray:
    """The data arrays of a GIFTI file stacked as (n_arrays, n_vertices) float32 (a time series or maps).

    Raises
    ------
    DataError
        when the file cannot be read, holds no data array, or an array is not ``n_vertices`` long.
    """
    from facebrain.nifti import load_gifti

    img = load_gifti(path)
    shapes = {d.data.shape for d in img.darrays}
    if shapes != {(n_vertices,)}:
        raise DataError(path, f"data arrays of shape {sorted(shapes)}; expected ({n_vertices},) each (fsaverage5 has {n_vertices} vertices per hemisphere)")
    return np.stack([np.asarray(d.data, dtype=np.float32) for d in img.darrays])


def read_surface(paths: Sequence[str | Path]) -> np.ndarray:
    """Both hemispheres' GIFTIs (hemi-L, hemi-R) as (n_arrays, 2 * 10242) float32, left then right.

    Raises DataError when the two files hold different numbers of arrays.
    """
    left, right = _paths(paths) if len(paths) == 2 else (None, None)
    if left is None:
        raise DataError(paths[0] if paths else "<surface>", f"a surface map is two GIFTIs (hemi-L, hemi-R), got {len(paths)} path(s)")
    a, b = read_gifti_arrays(left), read_gifti_arrays(right)
    if a.shape[0] != b.shape[0]:
        raise DataError(right, f"{b.shape[0]} data arrays, but {left.name} has {a.shape[0]}")
    return np.concatenate([a, b], axis=1)


@dataclass(frozen=True)
class SpaceMask:
    """The V analysis elements of a space: a boolean mask over its grid.

    Attributes
    ----------
    space : one of :data:`SPACES`.
    inside : bool, (X, Y, Z) for a volume or (2 * 10242,) vertices (left then right) for fsaverage5.
    affine : (4, 4) voxel-to-mm affine of a volume (None for the surface).
    """

    space: str
    inside: np.ndarray
    affine: np.ndarray | None = None

    @property
    def n_elements(self) -> int:
        """V, the number of analysis elements."""
        return int(self.inside.sum())

    @property
    def surface(self) -> bool:
        return is_surface(self.space)

    def load_run(self, run) -> np.ndarray:
        """A run's BOLD over the V elements, (n_volumes, V) float32.

        ``run`` has ``bold_files`` (:class:`facebrain.fmri.reader.FmriRun`): one 4D NIfTI, or
        the hemi-L and hemi-R GIFTIs. Raises DataError when the files do not match the space's grid.
        """
        files = tuple(getattr(run, "bold_files", ()) or (run.bold,))
        if not self.surface:
            return load_masked_bold(files[0], self.inside)
        data = read_surface(files)
        return np.ascontiguousarray(data[:, self.inside])

    def full(self, values: np.ndarray, fill: float = 0.0) -> np.ndarray:
        """(..., V) values on the whole grid: (X, Y, Z, ...) for a volume, (..., 2 * 10242) for the surface."""
        values = np.asarray(values)
        if values.shape[-1] != self.n_elements:
            raise ValueError(f"expected {self.n_elements} values on the last axis, got {values.shape[-1]}")
        if self.surface:
            out = np.full(values.shape[:-1] + self.inside.shape, fill, dtype=values.dtype)
            out[..., self.inside] = values
            return out
        out = np.full(self.inside.shape + values.shape[:-1], fill, dtype=values.dtype)
        out[self.inside] = np.moveaxis(values, -1, 0)
        return out

    def select(self, values_on_grid: np.ndarray) -> np.ndarray:
        """The inverse of :meth:`full`: grid values (as :func:`read_map` returns them) -> (..., V)."""
        grid = np.asarray(values_on_grid)
        if self.surface:
            return grid[..., self.inside]
        return np.moveaxis(grid[self.inside], 0, -1)

    def save(self, values: np.ndarray, paths: str | Path | Sequence[str | Path], provenance: Mapping[str, Any] | None = None,
             intent: str = "NIFTI_INTENT_ESTIMATE", names: Sequence[str] | None = None) -> None:
        """Write (V,) or (n, V) values as a map: a 3D/4D float32 NIfTI, or hemi-L and hemi-R GIFTIs (n arrays each).

        ``intent`` and ``names`` (one per map) go to the GIFTI data arrays.
        """
        save_map(self.full(np.asarray(values, dtype=np.float32)), self, paths, provenance, intent, names)


def save_map(grid_values: np.ndarray, mask: SpaceMask, paths, provenance=None, intent: str = "NIFTI_INTENT_ESTIMATE", names=None) -> None:
    """Write values on a space's whole grid (see :meth:`SpaceMask.full`) to its map file(s).

    A volume map keeps the values' dtype (bool as uint8); GIFTI arrays are float32.
    """
    import nibabel as nib

    from facebrain.nifti import gifti_image, save_gifti, save_nifti

    paths = _paths(paths)
    if not mask.surface:
        if len(paths) != 1:
            raise ValueError(f"a volume map is one NIfTI, got {len(paths)} paths")
        values = np.asarray(grid_values)
        save_nifti(nib.Nifti1Image(values.astype(np.uint8) if values.dtype == bool else values, mask.affine), paths[0], provenance)
        return
    if len(paths) != 2:
        raise ValueError(f"a surface map is two GIFTIs (hemi-L, hemi-R), got {len(paths)} paths")
    for (hemi, part), path in zip(fsaverage.split_hemispheres(grid_values).items(), paths):
        save_gifti(gifti_image(part, fsaverage.STRUCTURE[hemi], intent=intent, names=names), path, provenance)


def read_map(paths: str | Path | Sequence[str | Path]) -> tuple[np.ndarray, str, np.ndarray | None]:
    """Read a map written by :meth:`SpaceMask.save` (or a mask).

    Returns
    -------
    (values on the grid: (X, Y, Z[, n]) for a NIfTI, (n, 2 * 10242) for a GIFTI pair; the space;
    the NIfTI's affine or None).
    """
    from facebrain.nifti import load_nifti

    paths = _paths(paths)
    if len(paths) == 1 and paths[0].name.endswith((".nii", ".nii.gz")):
        img = load_nifti(paths[0], "map")
        return np.asarray(img.dataobj), VOLUME, img.affine
    return read_surface(paths), SURFACE, None


def read_mask(paths: str | Path | Sequence[str | Path]) -> SpaceMask:
    """A mask map (1 inside) read back as a :class:`SpaceMask`; DataError when it is empty."""
    values, space, affine = read_map(paths)
    inside = values[0] > 0 if space == SURFACE else values > 0
    if not inside.any():
        raise DataError(_paths(paths)[0], "the mask is empty")
    return SpaceMask(space, inside, affine)


def surface_mask() -> SpaceMask:
    """fsaverage5's cortex (medial wall excluded) as the surface's analysis mask."""
    return SpaceMask(SURFACE, fsaverage.cortex_mask())


def run_image(run):
    """A run's BOLD as nilearn takes it: the NIfTI path, or a SurfaceImage of its two GIFTIs on fsaverage5."""
    files = tuple(getattr(run, "bold_files", ()) or (run.bold,))
    if len(files) == 1:
        return str(files[0])
    return surface_image(read_surface(files))


def surface_image(grid_values: np.ndarray):
    """(2 * 10242,) or (n, 2 * 10242) vertex values as a nilearn SurfaceImage on fsaverage5's pial mesh."""
    from nilearn.datasets import load_fsaverage
    from nilearn.surface import SurfaceImage

    parts = fsaverage.split_hemispheres(np.asarray(grid_values))
    data = {fsaverage.NILEARN_HEMI[h]: (v.T if v.ndim == 2 else v) for h, v in parts.items()}
    return SurfaceImage(load_fsaverage(SURFACE)["pial"], data)


def mask_image(mask: SpaceMask):
    """The mask as nilearn takes it (``mask_img`` of a GLM or masker): a uint8 NIfTI or an int8 SurfaceImage."""
    import nibabel as nib

    if mask.surface:
        return surface_image(mask.inside.astype(np.int8))
    return nib.Nifti1Image(mask.inside.astype(np.uint8), mask.affine)


def image_values(img) -> np.ndarray:
    """Values of a nilearn/nibabel image on its grid: (X, Y, Z[, n]) for a NIfTI, (2 * 10242,) or (n, 2 * 10242) for a SurfaceImage."""
    from nilearn.surface import SurfaceImage

    if isinstance(img, SurfaceImage):
        parts = [np.asarray(img.data.parts[fsaverage.NILEARN_HEMI[h]]) for h in fsaverage.HEMIS]
        return np.concatenate([p.T if p.ndim == 2 else p for p in parts], axis=-1)
    return np.asarray(img.dataobj)
