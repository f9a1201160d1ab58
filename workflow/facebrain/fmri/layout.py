"""BIDS paths of ds001761 (raw and fMRIPrep derivatives), built from entities.

Every path of the dataset is made here, by one function per file kind, so the
simulator, the downloader and the reader agree on the layout. The real
dataset's layout (OpenNeuro ds001761 and OpenNeuroDerivatives
ds001761-fmriprep)::

    sub-01/ses-03/func/sub-01_ses-03_task-faces_run-01_events.tsv
    sub-01/ses-03/func/sub-01_ses-03_task-faces_run-01_bold.json
    stimuli/sub01/run27/F1178.jpg
    stimuli/ImageNames2Celeba.txt
    derivatives/fmriprep/sub-01/ses-03/func/
        sub-01_ses-03_task-faces_run-01_space-MNI152NLin2009cAsym_res-2_desc-preproc_bold.nii.gz
        sub-01_ses-03_task-faces_run-01_space-MNI152NLin2009cAsym_res-2_desc-brain_mask.nii.gz
        sub-01_ses-03_task-faces_run-01_desc-confounds_timeseries.tsv
        sub-01_ses-03_task-faces_run-01_hemi-L_space-fsaverage5_bold.func.gii (and hemi-R, and .json sidecars)
"""

from __future__ import annotations

from pathlib import PurePosixPath

SPACE = "MNI152NLin2009cAsym_res-2"
SURFACE_SPACE = "fsaverage5"
TASKS = ("faces", "loc")
FMRIPREP = PurePosixPath("derivatives/fmriprep")
STIMULI = PurePosixPath("stimuli")
IMAGE_NAMES = STIMULI / "ImageNames2Celeba.txt"
FIXATION_STIM = "placeholders/fixation.png"


def label(value: str | int, width: int = 2) -> str:
    """Return a BIDS label: '1' or 1 -> '01'; 'sub-01' -> '01' (zero-padded to ``width``)."""
    text = str(value)
    if "-" in text:
        text = text.split("-", 1)[1]
    return text.zfill(width) if text.isdigit() else text


def run_prefix(subject: str | int, session: str | int, task: str, run: int) -> str:
    """'sub-01_ses-03_task-faces_run-01': the entity prefix shared by a run's files."""
    return f"sub-{label(subject)}_ses-{label(session)}_task-{task}_run-{int(run):02d}"


def func_dir(subject: str | int, session: str | int) -> PurePosixPath:
    """'sub-01/ses-03/func' (relative to a BIDS root or to derivatives/fmriprep)."""
    return PurePosixPath(f"sub-{label(subject)}") / f"ses-{label(session)}" / "func"


def raw_file(subject, session, task: str, run: int, suffix: str) -> PurePosixPath:
    """A raw run file; ``suffix`` is 'events.tsv', 'bold.json' or 'bold.nii.gz'."""
    return func_dir(subject, session) / f"{run_prefix(subject, session, task, run)}_{suffix}"


def derivative_file(subject, session, task: str, run: int, kind: str, space: str = SPACE) -> PurePosixPath:
    """An fMRIPrep derivative of a run.

    Parameters
    ----------
    kind : 'bold' (desc-preproc_bold.nii.gz), 'bold.json' (its sidecar), 'mask'
        (desc-brain_mask.nii.gz) or 'confounds' (desc-confounds_timeseries.tsv, not in a space).
    space : the output space, e.g. 'MNI152NLin2009cAsym_res-2' (``res-`` included).
    """
    prefix = run_prefix(subject, session, task, run)
    names = {
        "bold": f"{prefix}_space-{space}_desc-preproc_bold.nii.gz",
        "bold.json": f"{prefix}_space-{space}_desc-preproc_bold.json",
        "mask": f"{prefix}_space-{space}_desc-brain_mask.nii.gz",
        "confounds": f"{prefix}_desc-confounds_timeseries.tsv",
    }
    if kind not in names:
        raise ValueError(f"unknown derivative kind {kind!r}; expected one of {sorted(names)}")
    return FMRIPREP / func_dir(subject, session) / names[kind]


def stimulus_file(subject, global_run: int, name: str) -> PurePosixPath:
    """'sub01/run27/F1178.jpg': a stim_file value (relative to stimuli/).

    ds001761 numbers the stimulus folders by the subject's faces runs across
    sessions (``global_run``), not by the BIDS run entity.
    """
    return PurePosixPath(f"sub{label(subject)}") / f"run{int(global_run):02d}" / name


def surface_derivative_file(subject, session, task: str, run: int, hemi: str, kind: str = "bold", space: str = SURFACE_SPACE) -> PurePosixPath:
    """fMRIPrep's surface-sampled BOLD of a run: ``..._hemi-L_space-fsaverage5_bold.func.gii``.

    Parameters
    ----------
    hemi : 'L' or 'R'.
    kind : 'bold' (the GIFTI time series, one data array per volume) or 'bold.json' (its sidecar).
    """
    if hemi not in ("L", "R"):
        raise ValueError(f"unknown hemisphere {hemi!r}; expected 'L' or 'R'")
    names = {"bold": "bold.func.gii", "bold.json": "bold.json"}
    if kind not in names:
        raise ValueError(f"unknown surface derivative kind {kind!r}; expected one of {sorted(names)}")
    prefix = run_prefix(subject, session, task, run)
    return FMRIPREP / func_dir(subject, session) / f"{prefix}_hemi-{hemi}_space-{space}_{names[kind]}"
