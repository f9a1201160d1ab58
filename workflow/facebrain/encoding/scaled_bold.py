"""A subject's task-faces BOLD read, masked and scaled once per space, for the GLMs of every model.

Decompressing and scaling the BOLD is most of a GLM's cost (issue 19: 4.2 s per real
run, ~100 runs per subject), and it is the same for every model. One job per subject
and space writes each run's in-mask percent signal change to an HDF5 file
(:func:`write_scaled_bold`: one float32 ``(n_volumes, V)`` dataset per run, ``run-000``,
``run-001``, ... in acquisition order, uncompressed so that a model's GLM reads it at disk
speed); each model's GLM then reads the runs from it (:class:`ScaledBold`) and gets the
very same numbers it would get from the BOLD files.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from facebrain.errors import DataError

log = logging.getLogger(__name__)


def percent_signal_change(y: np.ndarray) -> np.ndarray:
    """Scale (n_scans, V) time series to percent signal change of each voxel's mean (0 where the mean is <= 0)."""
    mean = y.mean(axis=0, keepdims=True)
    return np.divide(100.0 * (y - mean), mean, out=np.zeros_like(y), where=mean > 0)


def run_files(run) -> list[str]:
    """The names of a run's BOLD files (the NIfTI, or the hemi-L and hemi-R GIFTIs): how the HDF5 names its runs."""
    return [Path(f).name for f in (getattr(run, "bold_files", ()) or (run.bold,))]


def scale_runs(runs: Sequence[Any], mask, out_h5: str | Path, attrs: Mapping[str, Any] | None = None) -> None:
    """Write the in-mask percent signal change of ``runs`` to ``out_h5``, one run in memory at a time.

    Parameters
    ----------
    runs : task-faces runs (:class:`facebrain.fmri.reader.FmriRun`), in acquisition order.
    mask : :class:`facebrain.fmri.spaces.SpaceMask`, the V analysis elements.
    out_h5 : the HDF5 written (atomically): datasets ``run-NNN`` (n_volumes, V) float32.
    attrs : file attributes (provenance); the runs' BOLD file names and V are added.
    """
    import h5py

    from facebrain.io import atomic_path, h5_attr_value

    if not runs:
        raise DataError("<task-faces runs>", "no task-faces runs to scale")
    with atomic_path(out_h5) as tmp, h5py.File(tmp, "w") as f:
        for i, run in enumerate(tqdm(runs, desc="scaling BOLD", unit="run")):
            f.create_dataset(f"run-{i:03d}", data=percent_signal_change(mask.load_run(run)))
        for key, value in dict(attrs or {}, bold_files=[run_files(run) for run in runs], n_elements=mask.n_elements, space=mask.space).items():
            f.attrs[key] = h5_attr_value(value)
    log.info("scaled %d runs x %d %s elements into %s", len(runs), mask.n_elements, mask.space, out_h5)


def write_scaled_bold(
    bids_root: str | Path,
    subject: str,
    brain_mask: str | Path | Sequence[str | Path],
    out_h5: str | Path,
    reader_options: Mapping[str, Any] | None = None,
    provenance: Mapping[str, Any] | None = None,
) -> None:
    """Pipeline step: the task-faces BOLD of one subject in one space, masked and scaled (:func:`scale_runs`).

    ``brain_mask`` is the localizer's analysis mask of the space (a NIfTI, or the hemi-L/hemi-R
    GIFTI pair; :func:`facebrain.fmri.spaces.read_mask`); ``reader_options`` (``space``, a local
    copy's ``derivatives``) go to :class:`facebrain.fmri.reader.BidsFmriDataset`.
    """
    from facebrain.fmri.reader import BidsFmriDataset
    from facebrain.fmri.spaces import read_mask

    runs = BidsFmriDataset(bids_root, **(reader_options or {})).runs(subject, "faces")
    scale_runs(runs, read_mask(brain_mask), out_h5, attrs=dict(provenance or {}, subject=subject))


class ScaledBold:
    """Reader of a file written by :func:`scale_runs`, checked against the runs and mask a GLM fits.

    Parameters
    ----------
    path : the HDF5 file.
    runs : the runs the GLM fits, in acquisition order; their BOLD file names must be the file's.
    n_elements : V of the GLM's mask.

    Raises DataError (naming ``path``) when the file cannot be read or holds other runs or elements.
    """

    def __init__(self, path: str | Path, runs: Sequence[Any], n_elements: int):
        import json

        import h5py

        self.path = Path(path)
        try:
            with h5py.File(self.path, "r") as f:
                stored, n_stored = json.loads(f.attrs["bold_files"]), int(f.attrs["n_elements"])
                missing = [f"run-{i:03d}" for i in range(len(stored)) if f"run-{i:03d}" not in f]
        except (OSError, KeyError, ValueError) as exc:
            raise DataError(self.path, f"not a scaled-BOLD file (run-NNN datasets, bold_files, n_elements): {exc}") from exc
        expected = [run_files(run) for run in runs]
        if stored != expected or missing:
            raise DataError(self.path, f"holds the runs {stored} (missing datasets {missing}), but the GLM fits {expected}")
        if n_stored != n_elements:
            raise DataError(self.path, f"{n_stored} elements per volume, but the GLM's mask has {n_elements}")

    def __call__(self, index: int) -> np.ndarray:
        """Run ``index``'s percent signal change, (n_volumes, V) float32."""
        import h5py

        with h5py.File(self.path, "r") as f:
            return f[f"run-{index:03d}"][()]
