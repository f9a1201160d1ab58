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
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
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
    return _events(events, {"": latents_z}, test_faces, excluded)


def _events(events: pd.DataFrame, models: Mapping[str, Mapping[str, np.ndarray]], test_faces: Collection[str], excluded: Collection[str]) -> pd.DataFrame:
    """:func:`task_events` of several models: prefix -> latents_z, each model's latent events named ``prefix + latent_column(k)``."""
    import pandas as pd  # here: the accuracy and decoding jobs import this module (through glm) and build no design

    names = {prefix: [prefix + latent_column(k) for k in range(len(next(iter(z.values()))))] for prefix, z in models.items()}
    rows = []
    for ev in events.itertuples(index=False):
        base = (float(ev.onset), float(ev.duration))
        kind = ev.trial_type
        if kind == "train_face" and ev.stim_name in excluded:
            rows.append((*base, EXCLUDED, 1.0))
        elif kind == "train_face":
            rows.append((*base, FACE, 1.0))
            for prefix, z in models.items():
                rows.extend((*base, name, float(v)) for name, v in zip(names[prefix], z[ev.stim_name]))
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
    tasks, nuisance = run_designs(events, n_scans, tr, {"": latents_z}, test_faces, confounds, excluded, hrf_model, high_pass)
    return tasks[""], nuisance


def run_designs(
    events: pd.DataFrame,
    n_scans: int,
    tr: float,
    latents_z: Mapping[str, Mapping[str, np.ndarray]],
    test_faces: Sequence[str],
    confounds: pd.DataFrame | None = None,
    excluded: Collection[str] = (),
    hrf_model: str = "glover",
    high_pass: float = 0.01,
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """The designs of one run for several models (:func:`run_design` of each), the shared regressors computed once.

    The regressors every model has (face, one-back, img, excluded, tests), the drifts and the
    confounds come from one nilearn design matrix; the latent regressors from nilearn's
    :func:`~nilearn.glm.first_level.compute_regressor`, the function that design matrix calls for
    each of its conditions (same oversampling and minimum onset). With a single-kernel HRF
    (glover, spm) a regressor is linear in its modulations: when the models have more latent
    dimensions in all than the run has training trials (several models, the 1024-d ones), a
    regressor is computed once per trial and each latent regressor is the trials'
    modulation-weighted sum (nilearn's to float rounding; one convolution per trial, not per
    model and dimension); otherwise, and with other HRF models, one :func:`compute_regressor`
    per latent dimension. With an HRF derivative the latents' derivative regressors join the
    nuisance block, as they would in one design: fit such models one at a time. nilearn nudges a singular design's singular values by ~1e-15 of the
    largest; the latent regressors, computed apart, are left as they are.

    Parameters
    ----------
    latents_z : model -> (stimulus name -> (K,) z-scored latents); models may differ in K.
    other parameters : see :func:`run_design`.

    Returns
    -------
    (model -> task block (n_scans, K + 4 + n_test) with :func:`task_columns`' names, nuisance block).
    """
    import pandas as pd  # here: the accuracy and decoding jobs import this module (through glm) and build no design

    from nilearn.glm.first_level import compute_regressor, make_first_level_design_matrix

    frame_times = np.arange(n_scans) * float(tr)
    ev = _events(events, {}, set(test_faces), set(excluded))
    add_regs = None if confounds is None or confounds.shape[1] == 0 else confounds.to_numpy(dtype=np.float64)
    names = None if add_regs is None else [f"conf_{c}" for c in confounds.columns]
    printed = io.StringIO()  # nilearn prints "A 'modulation' column was found ..." for every run
    with contextlib.redirect_stdout(printed):
        dm = make_first_level_design_matrix(
            frame_times, ev if len(ev) else None, hrf_model=hrf_model, drift_model="cosine", high_pass=high_pass, add_regs=add_regs, add_reg_names=names
        )
    if notice := printed.getvalue().strip():
        log.debug("nilearn: %s", notice)
    shared = task_columns(0, test_faces)
    nuisance = dm.drop(columns=[c for c in dm.columns if c in set(shared)])
    trials = events[(events.trial_type == "train_face") & ~events.stim_name.isin(set(excluded))]
    onsets, durations = trials.onset.to_numpy(dtype=np.float64), trials.duration.to_numpy(dtype=np.float64)
    # a single-kernel HRF (glover, spm) makes a regressor linear in its modulations: with more latent
    # regressors than trials, one regressor per training trial, then each latent one as their weighted sum
    single = hrf_model in ("glover", "spm") and sum(len(next(iter(z.values()))) for z in latents_z.values()) > len(trials)
    per_trial = [compute_regressor(([t], [d], [1.0]), hrf_model, frame_times, oversampling=50, min_onset=-24)[0][:, 0] for t, d in zip(onsets, durations)] if single else []
    tasks, extra = {}, []
    for model, z in latents_z.items():
        n_latents = len(next(iter(z.values())))
        latent = pd.DataFrame(0.0, index=dm.index, columns=[latent_column(k) for k in range(n_latents)])
        if len(trials):
            values = np.stack([np.asarray(z[name], dtype=np.float64) for name in trials.stim_name])
            if single:
                latent.loc[:, :] = np.stack(per_trial, axis=1) @ values
            for k, column in enumerate(latent.columns if not single else ()):
                regressors, reg_names = compute_regressor((onsets, durations, values[:, k]), hrf_model, frame_times, con_id=column, oversampling=50, min_onset=-24)
                latent[column] = regressors[:, 0]
                extra += [pd.Series(regressors[:, j], index=dm.index, name=name) for j, name in enumerate(reg_names) if j]
        tasks[model] = pd.concat([latent, dm.reindex(columns=shared, fill_value=0.0)], axis=1)
    if extra:
        nuisance = pd.concat([nuisance, *extra], axis=1)
    return tasks, nuisance
