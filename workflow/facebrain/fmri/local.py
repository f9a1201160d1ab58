"""A local copy of ds001761 and its fMRIPrep derivatives (config ``fmri.source: local``).

Users often have the data already: a datalad clone of OpenNeuro ds001761 and
OpenNeuroDerivatives ds001761-fmriprep, an ``openneuro-py`` download, a
cluster share. :func:`check_local_dataset` checks such a copy when the
workflow's DAG is built, so a missing subject, session or derivative is named
before any job runs rather than hours later in one job's log. It asks the
reader (:class:`facebrain.fmri.reader.BidsFmriDataset`) for every run it
would read and checks that each file the analysis opens is there: the events
and the stimuli they show, ``stimuli/ImageNames2Celeba.txt``, and per run the
derivatives of the configured space (names from
:func:`facebrain.fmri.layout.derivative_files`, fMRIPrep's unpadded ``run-1``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from facebrain.errors import DataError
from facebrain.fmri import layout
from facebrain.paths import bids

MAX_LISTED = 10
"""Missing files named in the error (then a count of the rest)."""


def check_local_dataset(root: str | Path, subjects: Sequence[str], sessions: Sequence[str], space: str = layout.SPACE,
                        derivatives: str | Path | None = None) -> int:
    """Check that a local ds001761 copy has every file the analysis will read.

    Parameters
    ----------
    root : the raw BIDS root (``dataset_description.json``, ``sub-XX/``, ``stimuli/``).
    subjects, sessions : labels ('01') that must be present; the analysis reads every
        session present of each subject.
    space : one of the configured ``fmri.spaces`` (the derivatives checked are those of this space).
    derivatives : the fMRIPrep derivatives' root, or None for ``root/derivatives/fmriprep``.

    Returns
    -------
    The number of runs checked.

    Raises
    ------
    DataError
        naming the root when it is not a BIDS dataset or has no ImageNames2Celeba.txt, the
        missing subjects and sessions, or the missing derivatives and stimuli (the first
        :data:`MAX_LISTED` of them and how many in all).
    """
    from facebrain.fmri.reader import BidsFmriDataset

    root = Path(root)
    if not root.is_dir():
        raise DataError(root, "fmri.root: no such directory (fmri.source: local reads a copy of ds001761 there)")
    data = BidsFmriDataset(root, space=space, derivatives=derivatives)
    if not data.derivatives.is_dir():
        raise DataError(data.derivatives, "fMRIPrep derivatives not found (set fmri.derivatives to the ds001761-fmriprep copy)")
    if data.image_names_path is None:
        raise DataError(root / layout.IMAGE_NAMES, "missing: the stimulus -> CelebA file list of ds001761's stimuli/")
    present = set(data.subjects())
    missing_subjects = [bids(subject=layout.label(s)) for s in subjects if layout.label(s) not in present]
    if missing_subjects:
        raise DataError(root, f"subject(s) {', '.join(missing_subjects)} not in the local dataset (found: {', '.join(sorted(present)) or 'none'})")
    missing: list[str] = []
    n_runs = 0
    for sub in map(layout.label, subjects):
        runs = [run for task in layout.TASKS if data.layout.get(subject=sub, task=task, suffix="events", extension=".tsv")
                for run in data.runs(sub, task)]
        found = {run.session for run in runs}
        missing += [f"{layout.func_dir(sub, ses)} (session with no runs)" for ses in map(layout.label, sessions) if ses not in found]
        for run in runs:
            n_runs += 1
            missing += [str(path) for path in data.derivative_files(sub, run.session, run.task, run.run).values() if not path.is_file()]
            if run.task == "faces":
                shown = run.events.stim_file[run.events.stim_name != ""]
                missing += [str(data.stimulus_path(stim)) for stim in sorted(set(shown)) if not data.stimulus_path(stim).is_file()]
    if missing:
        listed = "\n  ".join(missing[:MAX_LISTED])
        more = f"\n  ... and {len(missing) - MAX_LISTED} more" if len(missing) > MAX_LISTED else ""
        raise DataError(root, f"{len(missing)} file(s) the analysis reads are missing from the local dataset "
                              f"(a datalad clone needs `datalad get` of them):\n  {listed}{more}")
    return n_runs
