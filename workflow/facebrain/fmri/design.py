"""The ds001761 experimental design: scales, faces-run trial sequences, localizer blocks.

VanRullen & Reddy (2019): TR 2 s; in ``task-faces`` runs a face is shown for
1 s every 3 s, with interleaved fixation (``Fix``) trials; a face repeated on
the next trial is a one-back target (``oneback`` 1); each subject has 20 test
faces (10 female, 10 male), each run shows 10 of them, and they repeat across
runs, while the ~8000 training faces are shown once; later sessions open some
runs with an imagery (``Img``) block. ``task-loc`` runs are 16 s blocks of
fixation, faces and objects. The values below reproduce the real files'
spelling (``Fix``/``Img``, the localizer's trailing-space padding) and timing
(onset jitter of about 10 ms, durations of 0.999 s).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from facebrain.fmri import layout

TR = 2.0
FACE_DURATION = 1.0
TRIAL_PERIOD = 3.0
FIRST_ONSET = 6.0
LOC_BLOCK = 16.0
LOC_ORDERS = (("fix", "face", "object", "fix", "object", "face", "fix"), ("fix", "object", "face", "fix", "face", "object", "fix"))
N_TEST_FACES = 20
TEST_PER_RUN = 10


@dataclass(frozen=True)
class Scale:
    """Counts of the simulated study, per subject.

    Attributes
    ----------
    subjects : number of subjects.
    sessions : sessions per subject (ses-01 .. ses-NN).
    faces_runs : task-faces runs per session.
    loc_runs : task-loc runs, all in ses-01.
    train_per_run : training faces per faces run (each shown once).
    oneback_per_run : one-back repeats per faces run.
    imagery_from_session : first session whose first faces run opens with an Img block.
    fix_fraction : probability of a Fix trial after each face trial.
    """

    subjects: int
    sessions: int
    faces_runs: int
    loc_runs: int
    train_per_run: int
    oneback_per_run: int
    imagery_from_session: int
    fix_fraction: float = 0.32

    @property
    def train_faces(self) -> int:
        """Training faces per subject."""
        return self.sessions * self.faces_runs * self.train_per_run

    def test_free_sessions(self, subject_index: int) -> int:
        """Sessions without test faces: sub-01's first two (the real data's trap; one if it has only two)."""
        return 0 if subject_index != 0 else min(2, self.sessions - 1)


SCALES = {
    "smoke": Scale(subjects=2, sessions=2, faces_runs=3, loc_runs=2, train_per_run=30, oneback_per_run=3, imagery_from_session=2),
    "demo": Scale(subjects=4, sessions=3, faces_runs=3, loc_runs=3, train_per_run=45, oneback_per_run=4, imagery_from_session=3),
    "paper_like": Scale(subjects=4, sessions=8, faces_runs=11, loc_runs=2, train_per_run=88, oneback_per_run=8, imagery_from_session=5),
}


def subject_labels(n_subjects: int) -> list[str]:
    """['01', '02', ...] for ``n_subjects`` subjects."""
    return [f"{i + 1:02d}" for i in range(n_subjects)]


def faces_run_events(
    rng: np.random.Generator,
    subject: str,
    global_run: int,
    train_names: Sequence[str],
    test_names: Sequence[str],
    n_oneback: int,
    imagery: bool,
    fix_fraction: float = 0.32,
) -> pd.DataFrame:
    """Trial sequence of one task-faces run, as in ds001761's events files.

    Parameters
    ----------
    rng : random generator (order, one-backs, fixations, timing jitter).
    subject : subject label ('01').
    global_run : the subject's faces-run counter across sessions (stimulus folder runNN).
    train_names, test_names : stimulus names ('F1148.jpg') shown in this run.
    n_oneback : number of faces immediately repeated (oneback 1).
    imagery : open with a 12 s ``Img`` block and a 6 s ``Fix``, as in later sessions.
    fix_fraction : probability of a Fix trial after a face trial.

    Returns
    -------
    DataFrame with columns onset (s), duration (s), trial_type ('train_face',
    'test_face', 'Fix', 'Img'), stim_file ('sub01/run27/F1148.jpg' or
    'placeholders/fixation.png') and oneback (0/1), in onset order.
    """
    faces = [("train_face", n) for n in train_names] + [("test_face", n) for n in test_names]
    order = rng.permutation(len(faces))
    repeated = set(rng.choice(len(faces), size=min(n_oneback, len(faces)), replace=False).tolist())
    trials: list[tuple[str, str, int]] = []
    for i in order:
        kind, name = faces[i]
        stim = str(layout.stimulus_file(subject, global_run, name))
        trials.append((kind, stim, 0))
        if i in repeated:
            trials.append((kind, stim, 1))
        if rng.random() < fix_fraction:
            trials.append(("Fix", layout.FIXATION_STIM, 0))
    rows = []
    start = FIRST_ONSET
    if imagery:
        rows.append((6.02, 12.01, "Img", layout.FIXATION_STIM, 0))
        rows.append((18.02, 5.99, "Fix", layout.FIXATION_STIM, 0))
        start = 24.0
    jitter = rng.uniform(-0.008, 0.0155, size=len(trials))
    durations = np.clip(rng.normal(0.99915, 0.00008, size=len(trials)), 0.9985, 0.9994)
    for k, (kind, stim, oneback) in enumerate(trials):
        rows.append((start + TRIAL_PERIOD * k + jitter[k], durations[k], kind, stim, oneback))
    return pd.DataFrame(rows, columns=["onset", "duration", "trial_type", "stim_file", "oneback"])


def run_volumes(events: pd.DataFrame, tr: float = TR, tail: float = 9.0) -> int:
    """Number of volumes of a run: until ``tail`` s after the last event's end."""
    end = float((events["onset"] + events["duration"]).max())
    return int(math.ceil((end + tail) / tr))


def loc_run_events(run_index: int) -> pd.DataFrame:
    """A task-loc run: seven 16 s blocks (trial_type padded to 6 characters, as in the real files).

    ``run_index`` 0 uses the real ses-01 order (fix face object fix object face
    fix), odd runs the mirrored order.
    """
    order = LOC_ORDERS[run_index % 2]
    return pd.DataFrame(
        {
            "onset": [int(LOC_BLOCK * i) for i in range(len(order))],
            "duration": [int(LOC_BLOCK)] * len(order),
            "trial_type": [f"{t:<6}" for t in order],
        }
    )


def write_events(events: pd.DataFrame, path) -> None:
    """Write an events table in ds001761's number format (6 decimals for faces runs, integers for loc)."""
    from facebrain.io import write_table

    formatted = events.copy()
    for column in ("onset", "duration"):
        if formatted[column].dtype.kind == "f":
            formatted[column] = formatted[column].map(lambda v: f"{v:.6f}")
    write_table(path, formatted)
