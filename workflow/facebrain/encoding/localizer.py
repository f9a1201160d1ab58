"""Face-selective voxels from the task-loc runs: faces > objects, p < 1e-4 uncorrected (Soulos & Isik 2020)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import norm

from facebrain.errors import DataError
from facebrain.io import write_json
from facebrain.nifti import save_nifti

log = logging.getLogger(__name__)


def localizer_zmap(runs: Sequence[Any], mask_img, hrf_model: str = "glover", high_pass: float = 0.01, noise_model: str = "ar1"):
    """z map of the contrast faces > objects with nilearn's FirstLevelModel over the localizer runs.

    Parameters
    ----------
    runs : task-loc runs (``bold``, ``events`` with trial_type face/object/fix, ``confounds``, ``tr``).
    mask_img : 3D nibabel mask of the voxels to fit.
    hrf_model, high_pass, noise_model : passed to FirstLevelModel (fix blocks are the implicit baseline).

    Returns
    -------
    nibabel image, the z score of face - object per voxel (0 outside the mask).
    """
    from nilearn.glm.first_level import FirstLevelModel

    if not runs:
        raise DataError("<task-loc runs>", "no localizer runs: face-selective voxels cannot be defined")
    events = []
    for run in runs:
        ev = run.events[run.events.trial_type.isin(["face", "object"])][["onset", "duration", "trial_type"]]
        if set(ev.trial_type) != {"face", "object"}:
            raise DataError(run.bold, f"localizer run needs face and object blocks, has {sorted(set(ev.trial_type))}")
        events.append(ev)
    trs = {round(float(run.tr), 6) for run in runs}
    if len(trs) != 1:
        raise DataError(runs[0].bold, f"localizer runs have different TRs {sorted(trs)}")
    glm = FirstLevelModel(
        t_r=trs.pop(), mask_img=mask_img, hrf_model=hrf_model, drift_model="cosine", high_pass=high_pass,
        noise_model=noise_model, signal_scaling=0, smoothing_fwhm=None, minimize_memory=True,
    )
    glm.fit([str(r.bold) for r in runs], events=events, confounds=[r.confounds for r in runs])
    return glm.compute_contrast("face - object", stat_type="t", output_type="z_score")


def face_selective_mask(zmap, p_threshold: float = 1e-4):
    """Voxels whose one-sided p (faces > objects) is below ``p_threshold``: a uint8 nibabel image."""
    import nibabel as nib

    z = np.asarray(zmap.get_fdata())
    return nib.Nifti1Image((z > norm.isf(p_threshold)).astype(np.uint8), zmap.affine)


def localize_subject(
    bids_root: str | Path,
    subject: str,
    out_brain_mask: str | Path,
    out_zmap: str | Path,
    out_mask: str | Path,
    out_json: str | Path,
    p_threshold: float = 1e-4,
    hrf_model: str = "glover",
    high_pass: float = 0.01,
    noise_model: str = "ar1",
    reader_options: Mapping[str, Any] | None = None,
    provenance: Mapping[str, Any] | None = None,
) -> int:
    """Pipeline step: brain mask, localizer z map and face-selective mask of one subject.

    Parameters
    ----------
    bids_root : BIDS dataset root with fMRIPrep derivatives (contract 3).
    subject : 'sub-02' or '02'.
    out_brain_mask : NIfTI, the intersection of the brain masks of all task-faces and task-loc runs.
    out_zmap : NIfTI, z of faces > objects.
    out_mask : NIfTI, face-selective voxels (1) at p < ``p_threshold`` uncorrected, inside the brain mask.
    out_json : JSON with ``n_voxels``, ``p_threshold``, ``z_threshold``, ``n_runs``.

    Returns
    -------
    The number of face-selective voxels.
    """
    from facebrain.encoding.glm import brain_mask
    from facebrain.fmri.reader import BidsFmriDataset

    data = BidsFmriDataset(bids_root, **(reader_options or {}))
    sub = subject.removeprefix("sub-")
    loc_runs = data.runs(sub, "loc")
    face_runs = data.runs(sub, "faces")
    mask_img = brain_mask([r.mask for r in loc_runs + face_runs])
    log.info("sub-%s: localizer over %d runs, brain mask %d voxels", sub, len(loc_runs), int(np.asarray(mask_img.dataobj).sum()))
    zmap = localizer_zmap(loc_runs, mask_img, hrf_model, high_pass, noise_model)
    selective = face_selective_mask(zmap, p_threshold)
    n_voxels = int(np.asarray(selective.dataobj).sum())
    if n_voxels == 0:
        log.warning("sub-%s: no voxel passes faces > objects at p < %g", sub, p_threshold)
    save_nifti(mask_img, out_brain_mask, provenance)
    save_nifti(zmap, out_zmap, provenance)
    save_nifti(selective, out_mask, provenance)
    write_json(out_json, {"subject": f"sub-{sub}", "n_voxels": n_voxels, "p_threshold": p_threshold, "z_threshold": float(norm.isf(p_threshold)), "n_runs": len(loc_runs)})
    return n_voxels
