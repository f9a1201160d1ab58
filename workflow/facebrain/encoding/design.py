"""GLM design matrices of the task-faces runs, with latent-modulated face regressors.

One run's design has two blocks:

* task regressors (HRF-convolved, nilearn's Glover HRF): ``lat00 .. lat{K-1}``
  (training-face events amplitude-modulated by latent dimension k, z-scored
  across training trials), ``face`` (presence of every training face),
  ``oneback`` (one-back repeats), ``img`` (image blocks without identity),
  ``excluded`` (training trials left out of the latent regressors: those
  showing a test face's image, found by the fmri stage's stimulus audit) and ``test_<stimulus>`` (one per test face);
* nuisance regressors: nilearn's cosine drift terms, the constant and the
  fMRIPrep confounds. They are projected out run by run (see
  :mod:`facebrain.encoding.glm`), which equals fitting one GLM over all runs
  with run-specific drifts and confounds.
"""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Collection, Mapping, Sequence

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

FACE, ONEBACK, IMG, EXCLUDED = "face", "oneback", "img", "excluded"


def latent_column(k: int) -> str:
    """Name of the regressor of latent dimension ``k`` (0-based)."""
    return f"lat{k:02d}"


def test_column(stimulus: str) -> str:
    """Name of the regressor of test face ``stimulus`` (its identity, e.g. 'F1148.jpg')."""
    return f"test_{stimulus}"


def zscore_latents(latents: Mapping[str, np.ndarray], train_trials: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation of the latents across training trials.

    Parameters
    ----------
    latents : stimulus name -> (K,) latent vector.
    train_trials : the stimulus name of every training trial of every run (repeats count).

    Returns
    -------
    (mean (K,), sd (K,)); a dimension with zero spread gets sd 1 (so it stays 0 after z-scoring).
    """
    z = np.stack([latents[name] for name in train_trials]).astype(np.float64)
    sd = z.std(axis=0)
    return z.mean(axis=0), np.where(sd > 0, sd, 1.0)


def task_events(
    events: pd.DataFrame,
    latents_z: Mapping[str, np.ndarray],
    test_faces: Collection[str],
    excluded: Collection[str] = (),
) -> pd.DataFrame:
    """Expand one run's events into nilearn events with a ``modulation`` column.

    Parameters
    ----------
    events : the run's events (onset, duration (s), trial_type in train_face/test_face/fix/img, stim_name, oneback).
    latents_z : stimulus name -> (K,) latents z-scored across training trials.
    test_faces : stimulus names that get their own regressor.
    excluded : training stimuli left out of the latent regressors (e.g. those showing a test face's
        image, :func:`facebrain.fmri.audit.leaked_stimuli`); their trials share one nuisance regressor ``excluded``.

    Returns
    -------
    DataFrame with onset, duration, trial_type, modulation.
    """
    rows = []
    for ev in events.itertuples(index=False):
        base = (float(ev.onset), float(ev.duration))
        kind = ev.trial_type
        if kind == "train_face" and ev.stim_name in excluded:
            rows.append((*base, EXCLUDED, 1.0))
        elif kind == "train_face":
            rows.append((*base, FACE, 1.0))
            rows.extend((*base, latent_column(k), float(v)) for k, v in enumerate(latents_z[ev.stim_name]))
        elif kind == "test_face" and ev.stim_name in test_faces:
            rows.append((*base, test_column(ev.stim_name), 1.0))
        elif kind == "img":
            rows.append((*base, IMG, 1.0))
        if int(ev.oneback) == 1:
            rows.append((*base, ONEBACK, 1.0))
    return pd.DataFrame(rows, columns=["onset", "duration", "trial_type", "modulation"])


def task_columns(n_latents: int, test_faces: Sequence[str]) -> list[str]:
    """The task regressors of every run's design, in a fixed order (latents, face, oneback, img, excluded, tests)."""
    return [latent_column(k) for k in range(n_latents)] + [FACE, ONEBACK, IMG, EXCLUDED] + [test_column(t) for t in test_faces]


def run_design(
    events: pd.DataFrame,
    n_scans: int,
    tr: float,
    latents_z: Mapping[str, np.ndarray],
    test_faces: Sequence[str],
    confounds: pd.DataFrame | None = None,
    excluded: Collection[str] = (),
    hrf_model: str = "glover",
    high_pass: float = 0.01,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Design matrix of one task-faces run, split into task and nuisance blocks.

    Parameters
    ----------
    events, latents_z, test_faces, excluded : see :func:`task_events`.
    n_scans : number of volumes.
    tr : repetition time (s); frame times are ``arange(n_scans) * tr``.
    confounds : (n_scans, C) fMRIPrep confounds (NaNs already filled), or None.
    hrf_model : nilearn HRF model.
    high_pass : cut-off of the cosine drift terms (Hz).

    Returns
    -------
    (task (n_scans, K + 4 + n_test), nuisance (n_scans, drifts + 1 + C)); the task block always has
    every column of :func:`task_columns` (zeros where the run has no such event).
    """
    from nilearn.glm.first_level import make_first_level_design_matrix

    n_latents = len(next(iter(latents_z.values())))
    frame_times = np.arange(n_scans) * float(tr)
    ev = task_events(events, latents_z, set(test_faces), set(excluded))
    add_regs = None if confounds is None or confounds.shape[1] == 0 else confounds.to_numpy(dtype=np.float64)
    names = None if add_regs is None else [f"conf_{c}" for c in confounds.columns]
    printed = io.StringIO()  # nilearn prints "A 'modulation' column was found ..." for every run
    with contextlib.redirect_stdout(printed):
        dm = make_first_level_design_matrix(
            frame_times, ev if len(ev) else None, hrf_model=hrf_model, drift_model="cosine", high_pass=high_pass, add_regs=add_regs, add_reg_names=names
        )
    if notice := printed.getvalue().strip():
        log.debug("nilearn: %s", notice)
    columns = task_columns(n_latents, test_faces)
    task = dm.reindex(columns=columns, fill_value=0.0)
    nuisance = dm.drop(columns=[c for c in dm.columns if c in set(columns)])
    return task, nuisance
