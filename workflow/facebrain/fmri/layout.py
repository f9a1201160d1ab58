"""ds001761 as published: which files a run has, and how each part spells them.

File names are built from entities by :func:`facebrain.paths.bids` (the one
entity -> name rule of the pipeline, in the BIDS specification's order). This
module holds only what is particular to this dataset, shared by the reader,
the simulator and the downloader so they agree on every name:

- **the run entity**: an integer. The raw dataset (OpenNeuro ds001761) writes
  it zero-padded to two digits (``run-01``, :data:`RAW_RUN_DIGITS`); fMRIPrep
  21.0.1 (OpenNeuroDerivatives ds001761-fmriprep) wrote the integer
  (``run-1``). Callers pass ``run`` as an int and never format it.
- **the derivatives the analysis reads** in each of the config's ``fmri.spaces``
  (:func:`derivative_files`): in the volume space 'MNI152NLin2009cAsym_res-2'
  (``space`` with its ``res`` entity) the BOLD, its sidecar and the brain
  mask; on the 'fsaverage5' surface the BOLD GIFTI of each hemisphere and its
  sidecar; in both the confounds table;
- the stimuli folder, numbered by the subject's faces runs across sessions,
  and the simulator's ``ground_truth/``.

The layout (``run`` 1 of session 3)::

    sub-01/ses-03/func/sub-01_ses-03_task-faces_run-01_events.tsv
    sub-01/ses-03/func/sub-01_ses-03_task-faces_run-01_bold.json
    stimuli/sub01/run27/F1178.jpg
    stimuli/ImageNames2Celeba.txt
    derivatives/fmriprep/sub-01/ses-03/func/
        sub-01_ses-03_task-faces_run-1_space-MNI152NLin2009cAsym_res-2_desc-preproc_bold.nii.gz
        sub-01_ses-03_task-faces_run-1_space-MNI152NLin2009cAsym_res-2_desc-preproc_bold.json
        sub-01_ses-03_task-faces_run-1_space-MNI152NLin2009cAsym_res-2_desc-brain_mask.nii.gz
        sub-01_ses-03_task-faces_run-1_desc-confounds_timeseries.tsv
        sub-01_ses-03_task-faces_run-1_hemi-L_space-fsaverage5_bold.func.gii (and hemi-R, and .json sidecars)
    ground_truth/sub-01_desc-tuning_weights.nii.gz      (simulated dataset only)
"""

from __future__ import annotations

from pathlib import PurePosixPath

from facebrain.paths import bids

SPACE = "MNI152NLin2009cAsym_res-2"
"""The volume space the analysis reads (``space`` entity with its ``res``)."""
SURFACE_SPACE = "fsaverage5"
HEMIS = ("L", "R")
TASKS = ("faces", "loc")
RAW_RUN_DIGITS = 2
"""The raw ds001761 writes run-01; fMRIPrep's derivatives write run-1."""
FMRIPREP = PurePosixPath("derivatives/fmriprep")
STIMULI = PurePosixPath("stimuli")
IMAGE_NAMES = STIMULI / "ImageNames2Celeba.txt"
FIXATION_STIM = "placeholders/fixation.png"
GROUND_TRUTH = PurePosixPath("ground_truth")

#: The fMRIPrep files of a run the analysis reads, as (desc, suffix,
#: extension): those in a volume space, those of each hemisphere in a surface
#: space, and those of the run itself (in every space).
VOLUME_FILES: dict[str, tuple[str | None, str, str]] = {
    "bold": ("preproc", "bold", ".nii.gz"),
    "bold.json": ("preproc", "bold", ".json"),
    "mask": ("brain", "mask", ".nii.gz"),
}
SURFACE_FILES: dict[str, tuple[str | None, str, str]] = {
    "bold": (None, "bold", ".func.gii"),
    "bold.json": (None, "bold", ".json"),
}
RUN_FILES: dict[str, tuple[str | None, str, str]] = {
    "confounds": ("confounds", "timeseries", ".tsv"),
    "confounds.json": ("confounds", "timeseries", ".json"),
}


def label(value: str | int, width: int = 2) -> str:
    """A ds001761 subject or session label: '1' or 1 -> '01'; 'sub-01' -> '01' (digits zero-padded to ``width``)."""
    text = str(value)
    if "-" in text:
        text = text.split("-", 1)[1]
    return text.zfill(width) if text.isdigit() else text


def space_entities(space: str | None) -> dict[str, str]:
    """Split a space with its resolution into entities: 'MNI152NLin2009cAsym_res-2' -> {space, res}.

    'fsaverage5' -> {'space': 'fsaverage5'}; None -> {}.
    """
    if space is None:
        return {}
    name, _, rest = space.partition("_")
    entities = {"space": name}
    for pair in filter(None, rest.split("_")):
        key, sep, value = pair.partition("-")
        if not sep or key not in ("res", "den"):
            raise ValueError(f"space {space!r}: expected 'NAME' or 'NAME_res-N' / 'NAME_den-N'")
        entities[key] = value
    return entities


def func_dir(subject: str | int, session: str | int) -> PurePosixPath:
    """'sub-01/ses-03/func' (relative to a BIDS root or to derivatives/fmriprep)."""
    return PurePosixPath(bids(datatype="func", subject=label(subject), session=label(session))).parent


def raw_file(subject, session, task: str, run: int, suffix: str, extension: str) -> PurePosixPath:
    """A raw run file, e.g. ``suffix='events', extension='.tsv'`` (run written as ds001761 does: run-01)."""
    return PurePosixPath(bids(datatype="func", subject=label(subject), session=label(session), task=task,
                              run=f"{int(run):0{RAW_RUN_DIGITS}d}", suffix=suffix, extension=extension))


def derivative_file(subject, session, task: str, run: int, suffix: str, extension: str, space: str | None = None,
                    hemi: str | None = None, desc: str | None = None) -> PurePosixPath:
    """One fMRIPrep 21.0.1 derivative of a run, found by its entities (relative to the BIDS root).

    Parameters
    ----------
    subject, session : labels ('01', or 1).
    task : 'faces' or 'loc'.
    run : the run index (int; written unpadded, as fMRIPrep did).
    suffix, extension : 'bold' and '.nii.gz', 'mask' and '.nii.gz', 'timeseries' and '.tsv', 'bold' and '.func.gii', ...
    space : 'MNI152NLin2009cAsym_res-2' (with its res), 'fsaverage5', or None (confounds).
    hemi : 'L' or 'R' for surface files.
    desc : 'preproc', 'brain', 'confounds', or None.
    """
    return FMRIPREP / bids(datatype="func", subject=label(subject), session=label(session), task=task, run=int(run), hemi=hemi,
                           **space_entities(space), desc=desc, suffix=suffix, extension=extension)


def is_surface(space: str) -> bool:
    """Whether ``space`` is a surface (fsaverage*: one GIFTI per hemisphere) rather than a volume."""
    return space_entities(space)["space"].startswith("fsaverage")


def derivative_files(subject, session, task: str, run: int, space: str = SPACE) -> dict[str, PurePosixPath]:
    """The fMRIPrep files of a run the analysis reads in ``space``: kind -> path.

    Kinds: in a volume space 'bold', 'bold.json', 'mask' (:data:`VOLUME_FILES`); in a surface
    space 'bold_L', 'bold_L.json', 'bold_R', 'bold_R.json' (:data:`SURFACE_FILES`, per
    hemisphere); in both 'confounds', 'confounds.json' (:data:`RUN_FILES`).
    """
    files = {}
    if is_surface(space):
        files.update({kind.replace("bold", f"bold_{hemi}"): surface_derivative_file(subject, session, task, run, hemi, kind, space)
                      for hemi in HEMIS for kind in SURFACE_FILES})
    else:
        files.update({kind: derivative_file(subject, session, task, run, suffix, ext, space=space, desc=desc)
                      for kind, (desc, suffix, ext) in VOLUME_FILES.items()})
    files.update({kind: derivative_file(subject, session, task, run, suffix, ext, desc=desc) for kind, (desc, suffix, ext) in RUN_FILES.items()})
    return files


def surface_derivative_file(subject, session, task: str, run: int, hemi: str, kind: str = "bold", space: str = SURFACE_SPACE) -> PurePosixPath:
    """fMRIPrep's surface-sampled BOLD of a run: ``..._hemi-L_space-fsaverage5_bold.func.gii``.

    Parameters
    ----------
    hemi : 'L' or 'R'.
    kind : 'bold' (the GIFTI time series, one data array per volume) or 'bold.json' (its sidecar).
    """
    if hemi not in HEMIS:
        raise ValueError(f"unknown hemisphere {hemi!r}; expected one of {HEMIS}")
    if kind not in SURFACE_FILES:
        raise ValueError(f"unknown surface derivative kind {kind!r}; expected one of {sorted(SURFACE_FILES)}")
    desc, suffix, extension = SURFACE_FILES[kind]
    return derivative_file(subject, session, task, run, suffix, extension, space=space, hemi=hemi, desc=desc)


def stimulus_file(subject, global_run: int, name: str) -> PurePosixPath:
    """'sub01/run27/F1178.jpg': a stim_file value (relative to stimuli/).

    ds001761 numbers the stimulus folders by the subject's faces runs across
    sessions (``global_run``), not by the BIDS run entity.
    """
    return PurePosixPath(f"sub{label(subject)}") / f"run{int(global_run):02d}" / name


def truth_file(subject, desc: str, suffix: str, extension: str = ".nii.gz", hemi: str | None = None, space: str | None = None) -> PurePosixPath:
    """A ground-truth file of the simulated dataset: ``ground_truth/sub-01_desc-tuning_weights.nii.gz``,
    on the surface ``ground_truth/sub-01_hemi-L_space-fsaverage5_desc-tuning_weights.func.gii``."""
    return GROUND_TRUTH / bids(subject=label(subject), hemi=hemi, space=space, desc=desc, suffix=suffix, extension=extension)
