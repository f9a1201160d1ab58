"""Checks of the simulated dataset against its planted truth (for tests and benchmarks, never the analysis).

:func:`true_factor_z` gives every face's z-scored true factors as the simulator
used them; :func:`recover_tuning` estimates the tuning of the planted
face-selective voxels by ordinary least squares with those factors as
regressors (the best any latent space can do), so its correlation with the
planted maps bounds what the encoding analysis can recover.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from facebrain.fmri import layout


def true_factor_z(sim_root: str | Path, factors_tsv: str | Path) -> dict[str, np.ndarray]:
    """face-dataset id -> (F,) factors z-scored with the simulator's means and SDs (order of factors.json)."""
    info = json.loads((Path(sim_root) / layout.GROUND_TRUTH / "simulation.json").read_text())
    factors = info["settings"]["factors"]
    table = pd.read_csv(factors_tsv, sep="\t", dtype={"image_id": str}).set_index("image_id")[factors]
    z = (table - pd.Series(info["factor_mean"])[factors]) / pd.Series(info["factor_sd"])[factors]
    return {image_id: row.to_numpy() for image_id, row in z.iterrows()}


def recover_tuning(data, subject: str, z_of: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Tuning of the planted face-selective voxels estimated with the true factors.

    Per task-faces run, OLS of the BOLD (% signal change) on the face, imagery and
    factor-weighted face regressors (Glover HRF), the selected confounds, a constant
    and a linear trend; the factor weights are averaged over runs.

    Parameters
    ----------
    data : :class:`facebrain.fmri.reader.BidsFmriDataset` of a simulated root.
    subject : '01'.
    z_of : face id -> (F,) z-scored factors (:func:`true_factor_z`).

    Returns
    -------
    (estimated (F, V), planted (F, V)) in % signal change per SD, over the V planted face-selective voxels.
    """
    from nilearn.glm.first_level import compute_regressor

    from facebrain.nifti import load_nifti

    selective = load_nifti(Path(data.root) / layout.truth_file(subject, "faceregions", "mask"), "planted face regions").get_fdata() > 0
    planted = load_nifti(Path(data.root) / layout.truth_file(subject, "tuning", "weights"), "planted tuning").get_fdata()[selective].T
    estimates = []
    for run in data.runs(subject, "faces"):
        y = load_nifti(run.bold, "BOLD image").get_fdata()[selective].T
        y = 100 * (y / y.mean(0) - 1)
        ev, t = run.events, np.arange(len(y)) * run.tr

        def regressor(rows: np.ndarray, amplitudes: np.ndarray) -> np.ndarray:
            return compute_regressor(np.vstack([ev.onset[rows], ev.duration[rows], amplitudes]), "glover", t)[0][:, 0]

        face = ev.trial_type.isin(["train_face", "test_face"]).to_numpy()
        img = (ev.trial_type == "img").to_numpy()
        zs = np.stack([z_of[f] for f in ev.face_id[face]])
        x = np.column_stack([regressor(face, np.ones(face.sum())), regressor(img, np.ones(img.sum()))]
                            + [regressor(face, zs[:, f]) for f in range(zs.shape[1])]
                            + [run.confounds.to_numpy(), np.ones(len(y)), np.linspace(-1, 1, len(y))])
        estimates.append(np.linalg.lstsq(x, y, rcond=None)[0][2:2 + zs.shape[1]])
    return np.mean(estimates, axis=0), planted
