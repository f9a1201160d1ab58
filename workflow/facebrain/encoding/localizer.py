"""Face-selective voxels from the task-loc runs: faces > objects, p < 1e-4 uncorrected (Soulos & Isik 2020).

The same nilearn GLM serves both spaces: on the volume it fits the runs' NIfTIs
inside the brain mask, on fsaverage5 their GIFTIs as nilearn SurfaceImages
inside the cortex (medial wall excluded).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import norm

from facebrain.errors import DataError
from facebrain.io import write_json
from facebrain.paths import bids

log = logging.getLogger(__name__)


def localizer_zmap(runs: Sequence[Any], mask_img, hrf_model: str = "glover", high_pass: float = 0.01, noise_model: str = "ar1"):
    """z map of the contrast faces > objects with nilearn's FirstLevelModel over the localizer runs.

    Parameters
    ----------
    runs : task-loc runs (``bold`` or ``bold_files``, ``events`` with trial_type face/object/fix,
        ``confounds``, ``tr``).
    mask_img : the elements to fit: a 3D nibabel mask of voxels, or a
        :class:`facebrain.fmri.spaces.SpaceMask` (volume or fsaverage5 vertices).
    hrf_model, high_pass, noise_model : passed to FirstLevelModel (fix blocks are the implicit baseline).

    Returns
    -------
    the z score of face - object per element (0 outside the mask): a nibabel image, or a
    nilearn SurfaceImage on fsaverage5.
    """
    from nilearn.glm.first_level import FirstLevelModel

    from facebrain.fmri.spaces import SpaceMask, mask_image, run_image

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
    if isinstance(mask_img, SpaceMask):
        mask_img = mask_image(mask_img)
    glm = FirstLevelModel(
        t_r=trs.pop(), mask_img=mask_img, hrf_model=hrf_model, drift_model="cosine", high_pass=high_pass,
        noise_model=noise_model, signal_scaling=0, smoothing_fwhm=None, minimize_memory=True,
    )
    try:
        glm.fit([run_image(r) for r in runs], events=events, confounds=[r.confounds for r in runs])
    except DataError:
        raise
    except Exception:
        _name_unreadable_run(runs)
        raise
    return glm.compute_contrast("face - object", stat_type="t", output_type="z_score")


def _name_unreadable_run(runs: Sequence[Any]) -> None:
    """After a failed fit: raise DataError naming the first run whose BOLD cannot be read to its end.

    nilearn reads the runs' NIfTIs itself and fails on a truncated file with a bare
    gzip/zlib error; reading each file again finds the culprit (a no-op when all are sound,
    and the fit's own error then stands). Surface runs were already read by :func:`run_image`.
    """
    from facebrain.nifti import check_nifti

    for run in runs:
        files = tuple(getattr(run, "bold_files", ()) or (run.bold,))
        if len(files) == 1:
            check_nifti(files[0], "localizer BOLD image")


def face_selective_mask(zmap, p_threshold: float = 1e-4):
    """Elements whose one-sided p (faces > objects) is below ``p_threshold``: a uint8 nibabel image
    (or an int8 SurfaceImage for a surface z map)."""
    import nibabel as nib

    from facebrain.fmri.spaces import image_values, surface_image

    selective = np.asarray(image_values(zmap), float) > norm.isf(p_threshold)
    if isinstance(zmap, nib.Nifti1Image):
        return nib.Nifti1Image(selective.astype(np.uint8), zmap.affine)
    return surface_image(selective.astype(np.int8))


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
    subject : label ('02').
    out_brain_mask : the analysis mask: in a volume space a NIfTI, the intersection of the brain
        masks of all task-faces and task-loc runs; on fsaverage5 two GIFTIs (hemi-L, hemi-R), the
        cortex without the medial wall (:mod:`facebrain.fmri.spaces` names a map by its file(s)).
    out_zmap : z of faces > objects (NIfTI or GIFTI pair).
    out_mask : face-selective elements (1) at p < ``p_threshold`` uncorrected, inside the mask.
    out_json : JSON with ``space``, ``n_voxels`` (voxels or vertices), ``p_threshold``, ``z_threshold``, ``n_runs``.
    reader_options : :class:`facebrain.fmri.reader.BidsFmriDataset` options; ``space`` picks the space.

    Returns
    -------
    The number of face-selective voxels (vertices).
    """
    from facebrain.encoding.glm import brain_mask
    from facebrain.fmri.reader import BidsFmriDataset
    from facebrain.fmri.spaces import SpaceMask, image_values, is_surface, save_map, surface_mask

    data = BidsFmriDataset(bids_root, **(reader_options or {}))
    sub = bids(subject=subject)
    loc_runs = data.runs(subject, "loc")
    face_runs = data.runs(subject, "faces")
    if is_surface(data.space):
        mask = surface_mask()
    else:
        mask_img = brain_mask([r.mask for r in loc_runs + face_runs])
        mask = SpaceMask(data.space, np.asarray(mask_img.dataobj) > 0, mask_img.affine)
    log.info("%s: localizer over %d runs, %s mask of %d elements", sub, len(loc_runs), data.space, mask.n_elements)
    zmap = localizer_zmap(loc_runs, mask, hrf_model, high_pass, noise_model)
    selective = image_values(face_selective_mask(zmap, p_threshold)).astype(np.uint8)
    n_voxels = int(selective.sum())
    if n_voxels == 0:
        log.warning("%s: no voxel passes faces > objects at p < %g", sub, p_threshold)
    save_map(mask.inside.astype(np.uint8), mask, out_brain_mask, provenance, intent="NIFTI_INTENT_NONE")
    save_map(image_values(zmap), mask, out_zmap, provenance, intent="NIFTI_INTENT_ZSCORE")
    save_map(selective, mask, out_mask, provenance, intent="NIFTI_INTENT_NONE")
    write_json(out_json, {"subject": sub, "space": data.space, "n_voxels": n_voxels, "p_threshold": p_threshold,
                          "z_threshold": float(norm.isf(p_threshold)), "n_runs": len(loc_runs)})
    return n_voxels
