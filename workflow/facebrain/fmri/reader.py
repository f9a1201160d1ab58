"""One reader for ds001761 and its simulated stand-in.

:class:`BidsFmriDataset` indexes a BIDS root (``resources/simfmri`` or
``resources/ds001761``) with pybids and returns :class:`FmriRun` records with
the paths of the fMRIPrep derivatives, the normalised events, the selected
confounds and the repetition time::

    ds = BidsFmriDataset("resources/simfmri")
    for run in ds.runs("01", "faces"):
        run.events      # onset, duration, trial_type, stim_file, oneback, stim_name, face_id
        run.confounds   # DEFAULT_CONFOUNDS columns, NaNs filled with 0
        run.bold, run.mask, run.tr

Events are normalised the same way for both sources: ``trial_type`` lower-case
and stripped (the real localizer files pad values with trailing spaces, the
faces files spell 'Fix' and 'Img'), ``stim_file`` kept ('' where absent),
``oneback`` as int 0/1, ``stim_name`` the stimulus's file name ('F1148.jpg'; ''
for placeholders such as the fixation cross) and ``face_id`` the face-dataset
file name from ``stimuli/ImageNames2Celeba.txt`` ('' where the trial shows no
face or the dataset has no such file).
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd

from facebrain.errors import DataError
from facebrain.fmri import layout
from facebrain.io import read_tsv

log = logging.getLogger(__name__)

#: fMRIPrep confound columns selected by default: the 6 rigid-body motion
#: parameters and their temporal derivatives, the mean CSF and white-matter
#: signals and framewise displacement (a 15-parameter model; global signal and
#: CompCor are left out, as in the usual task-fMRI GLM). The first row of the
#: derivatives and of FD is NaN in fMRIPrep output and is filled with 0.
MOTION = ("trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z")
DEFAULT_CONFOUNDS: tuple[str, ...] = (
    *MOTION,
    *(f"{name}_derivative1" for name in MOTION),
    "csf",
    "white_matter",
    "framewise_displacement",
)

EVENT_COLUMNS = ("onset", "duration", "trial_type", "stim_file", "oneback", "stim_name", "face_id")
_COLUMN_ALIASES = {"stimulus": "stim_file", "one_back": "oneback"}
#: Columns an events file must have, per task (ds001761's faces runs name each trial's stimulus).
REQUIRED_EVENT_COLUMNS = {"faces": ("onset", "duration", "trial_type", "stim_file"), "loc": ("onset", "duration", "trial_type")}
_PLACEHOLDER_DIR = "placeholders"


def read_image_names(path: str | Path) -> dict[str, str]:
    """Parse ``stimuli/ImageNames2Celeba.txt``: stimulus path -> face-dataset file name.

    Each non-empty line holds two whitespace-separated fields, the stimulus
    path relative to ``stimuli/`` (e.g. ``sub01/run27/F1148.jpg``) and the
    face-dataset file name (e.g. ``000123.jpg``).

    Raises
    ------
    DataError
        when a line does not have exactly two fields or a stimulus is listed twice
        with different face ids.
    """
    path = Path(path)
    mapping: dict[str, str] = {}
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 2:
            raise DataError(path, f"line {number} has {len(fields)} fields, expected 2 (stimulus path, face file name)")
        stim, face = _normalise_stim(fields[0]), fields[1]
        if mapping.get(stim, face) != face:
            raise DataError(path, f"line {number}: stimulus {stim} is listed with two face ids ({mapping[stim]}, {face})")
        mapping[stim] = face
    return mapping


def _normalise_stim(stim: str) -> str:
    stim = stim.strip().replace("\\", "/")
    parts = PurePosixPath(stim).parts
    if parts and parts[0] in (".", "stimuli"):
        parts = parts[1:]
    return str(PurePosixPath(*parts)) if parts else ""


def read_events(path: str | Path, image_names: dict[str, str] | None = None, image_names_path: str | Path = "",
                task: str = "loc") -> pd.DataFrame:
    """Read and normalise one ``*_events.tsv`` of ds001761 (faces or localizer task).

    Parameters
    ----------
    path : the events file.
    image_names : stimulus path -> face id (from :func:`read_image_names`), or None
        when the dataset has no ``ImageNames2Celeba.txt`` (then ``face_id`` is '').
    image_names_path : the mapping's file, named in errors.
    task : 'faces' or 'loc': the columns it must have (:data:`REQUIRED_EVENT_COLUMNS`; a
        localizer file has no stim_file, which is then '').

    Returns
    -------
    DataFrame with columns ``EVENT_COLUMNS``: onset and duration (float, s),
    trial_type (str), stim_file (str), oneback (int 0/1), stim_name (str), face_id (str).

    Raises
    ------
    DataError
        on a missing required column, non-numeric or negative onsets/durations, oneback
        values other than 0/1, or a face stimulus missing from ``image_names``.
    """
    path = Path(path)
    raw = read_tsv(path, "events table")
    raw = raw.rename(columns={k: v for k, v in _COLUMN_ALIASES.items() if k in raw.columns and v not in raw.columns})
    missing = [c for c in REQUIRED_EVENT_COLUMNS[task] if c not in raw.columns]
    if missing:
        raise DataError(path, f"missing events column(s) {missing}; found {list(raw.columns)}")
    events = pd.DataFrame(index=raw.index)
    for column in ("onset", "duration"):
        values = pd.to_numeric(raw[column].str.strip(), errors="coerce")
        bad = values.isna() | (values < 0)
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataError(path, f"row {row + 1}: {column} {raw[column].iloc[row]!r} is not a non-negative number of seconds")
        events[column] = values.astype(float)
    events["trial_type"] = raw["trial_type"].str.strip().str.lower()
    stim = raw["stim_file"].map(_normalise_stim) if "stim_file" in raw.columns else pd.Series("", index=raw.index)
    stim = stim.where(~stim.isin(["n/a", "nan"]), "")
    events["stim_file"] = stim
    if "oneback" in raw.columns:
        oneback = pd.to_numeric(raw["oneback"].str.strip().replace({"n/a": "0", "": "0"}), errors="coerce")
        if not oneback.isin([0, 1]).all():
            row = int(np.flatnonzero(~oneback.isin([0, 1]).to_numpy())[0])
            raise DataError(path, f"row {row + 1}: oneback {raw['oneback'].iloc[row]!r} is not 0 or 1")
        events["oneback"] = oneback.astype(int)
    else:
        events["oneback"] = 0
    is_stimulus = (stim != "") & ~stim.str.startswith(_PLACEHOLDER_DIR + "/")
    events["stim_name"] = np.where(is_stimulus, stim.map(lambda s: PurePosixPath(s).name), "")
    events["face_id"] = ""
    if image_names is not None and is_stimulus.any():
        events.loc[is_stimulus, "face_id"] = [
            _lookup_face(s, image_names, image_names_path or "ImageNames2Celeba.txt", path) for s in stim[is_stimulus]
        ]
    return events.reset_index(drop=True)[list(EVENT_COLUMNS)]


def _lookup_face(stim: str, image_names: dict[str, str], mapping_path, events_path) -> str:
    if stim in image_names:
        return image_names[stim]
    raise DataError(mapping_path, f"stimulus {stim} (shown in {Path(events_path).name}) has no face-dataset file name")


def read_confounds(path: str | Path, columns: Sequence[str] = DEFAULT_CONFOUNDS) -> pd.DataFrame:
    """Read an fMRIPrep ``desc-confounds_timeseries.tsv`` and select ``columns``.

    Returns
    -------
    DataFrame (n_volumes, len(columns)) of floats; NaNs (first row of
    derivatives and framewise displacement) are filled with 0.

    Raises
    ------
    DataError
        when the file is missing, unreadable or lacks a requested column.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(path, "confounds file not found")
    try:
        table = pd.read_csv(path, sep="\t", na_values=["n/a"])
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise DataError(path, f"cannot read confounds table: {err}") from err
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise DataError(path, f"missing confound column(s) {missing}")
    selected = table[list(columns)].apply(pd.to_numeric, errors="coerce")
    return selected.fillna(0.0).astype(float)


@dataclass(frozen=True)
class FmriRun:
    """One BOLD run of one subject: its derivative paths, events, confounds and TR.

    Attributes
    ----------
    subject, session : BIDS labels without prefix ('01', '03').
    task : 'faces' or 'loc'.
    run : the BIDS run number within the session.
    bold : Path of the preprocessed BOLD in the dataset's space (desc-preproc_bold.nii.gz, or
        the hemi-L GIFTI of a surface space; may not exist for a raw-only dataset such as the
        shared real sample).
    mask : Path of the run's desc-brain_mask.nii.gz (None in a surface space).
    tr : repetition time in seconds (from the sidecar).
    events_path, confounds_path : the source tables of :attr:`events` and :attr:`confounds`.
    bold_files : every BOLD file of the run in the space: the NIfTI, or the hemi-L and hemi-R
        ``space-fsaverage5_bold.func.gii`` (read by :meth:`facebrain.fmri.spaces.SpaceMask.load_run`).
    """

    subject: str
    session: str
    task: str
    run: int
    bold: Path
    mask: Path | None
    tr: float
    events_path: Path
    confounds_path: Path
    confound_columns: tuple[str, ...] = DEFAULT_CONFOUNDS
    image_names_path: Path | None = field(default=None, repr=False)
    bold_files: tuple[Path, ...] = ()

    @functools.cached_property
    def events(self) -> pd.DataFrame:
        """Normalised events (see :func:`read_events`)."""
        names = None
        if self.image_names_path:
            st = self.image_names_path.stat()
            names = _cached_image_names(self.image_names_path, st.st_mtime_ns, st.st_size)
        return read_events(self.events_path, names, self.image_names_path or "", task=self.task)

    @functools.cached_property
    def confounds(self) -> pd.DataFrame:
        """Selected confounds (n_volumes, n_confounds), see :func:`read_confounds`."""
        return read_confounds(self.confounds_path, self.confound_columns)


@functools.lru_cache(maxsize=8)
def _cached_image_names(path: Path, mtime_ns: int, size: int) -> dict[str, str]:
    """read_image_names, cached per file version (the mapping is shared by all runs of a dataset)."""
    return read_image_names(path)


class BidsFmriDataset:
    """A ds001761-layout BIDS dataset (real or simulated), indexed with pybids.

    Parameters
    ----------
    root : the BIDS root (holding dataset_description.json).
    space : output space of the fMRIPrep derivatives read as BOLD: 'MNI152NLin2009cAsym_res-2'
        (4D NIfTI and brain mask per run) or 'fsaverage5' (hemi-L and hemi-R GIFTIs per run).
    confounds : fMRIPrep confound columns that :attr:`FmriRun.confounds` selects.
    derivatives : the fMRIPrep derivatives' root (holding ``sub-XX/``), or None for
        ``root/derivatives/fmriprep`` (a local copy may keep them elsewhere).

    Raises
    ------
    DataError
        when ``root`` is not a BIDS dataset.
    """

    def __init__(self, root: str | Path, space: str = layout.SPACE, confounds: Sequence[str] = DEFAULT_CONFOUNDS,
                 derivatives: str | Path | None = None):
        from bids import BIDSLayout

        self.root = Path(root)
        self.derivatives = Path(derivatives) if derivatives else self.root / layout.FMRIPREP
        if not (self.root / "dataset_description.json").is_file():
            raise DataError(self.root, "not a BIDS dataset (no dataset_description.json)")
        self.space = space
        self.confound_columns = tuple(confounds)
        try:
            self.layout = BIDSLayout(str(self.root), validate=True, derivatives=False)
        except Exception as err:  # pybids raises several exception types on malformed datasets
            raise DataError(self.root, f"pybids cannot index the dataset: {err}") from err
        names = self.root / layout.IMAGE_NAMES
        self.image_names_path = names if names.is_file() else None

    def subjects(self) -> list[str]:
        """Subject labels without prefix, sorted (['01', '02', ...])."""
        return sorted(self.layout.get_subjects())

    def runs(self, subject: str, task: str) -> list[FmriRun]:
        """All runs of ``task`` ('faces' or 'loc') for ``subject`` ('01' or 'sub-01'), by session and run.

        Raises
        ------
        DataError
            when the subject has no run of this task, or a run has no TR.
        """
        sub = layout.label(subject)
        files = self.layout.get(subject=sub, task=task, suffix="events", extension=".tsv")
        if not files:
            raise DataError(self.root, f"no task-{task} events for sub-{sub}")
        runs = []
        surface = layout.is_surface(self.space)
        for f in files:
            ses, run = layout.label(f.entities.get("session", "01")), int(f.entities.get("run", 1))
            derivatives = self.derivative_files(sub, ses, task, run)
            bold_files = tuple(derivatives[f"bold_{hemi}"] for hemi in layout.HEMIS) if surface else (derivatives["bold"],)
            runs.append(
                FmriRun(
                    subject=sub,
                    session=ses,
                    task=task,
                    run=run,
                    bold=bold_files[0],
                    mask=None if surface else derivatives["mask"],
                    tr=self._repetition_time(sub, ses, task, run),
                    events_path=Path(f.path),
                    confounds_path=derivatives["confounds"],
                    confound_columns=self.confound_columns,
                    image_names_path=self.image_names_path,
                    bold_files=bold_files,
                )
            )
        return sorted(runs, key=lambda r: (r.session, r.run))

    def derivative_files(self, subject: str, session: str, task: str, run: int) -> dict[str, Path]:
        """The run's fMRIPrep files in the dataset's space (:func:`facebrain.fmri.layout.derivative_files`), under :attr:`derivatives`."""
        files = layout.derivative_files(subject, session, task, run, self.space)
        return {kind: self.derivatives / path.relative_to(layout.FMRIPREP) for kind, path in files.items()}

    def stimulus_path(self, stim_file: str) -> Path:
        """The image file of a ``stim_file`` value (relative to ``stimuli/``)."""
        return self.root / layout.STIMULI / _normalise_stim(stim_file)

    def _repetition_time(self, sub: str, ses: str, task: str, run: int) -> float:
        """TR (s) from the run's raw sidecar, else the derivative's, else the task-level sidecar."""
        derived = self.derivative_files(sub, ses, task, run)["bold_L.json" if layout.is_surface(self.space) else "bold.json"]
        candidates = [
            self.root / layout.raw_file(sub, ses, task, run, "bold", ".json"),
            derived,
            self.root / f"task-{task}_bold.json",
        ]
        for sidecar in candidates:
            if sidecar.is_file():
                try:
                    tr = json.loads(sidecar.read_text()).get("RepetitionTime")
                except json.JSONDecodeError as err:
                    raise DataError(sidecar, f"invalid JSON: {err}") from err
                if tr is None:
                    continue
                if not (isinstance(tr, (int, float)) and tr > 0):
                    raise DataError(sidecar, f"RepetitionTime {tr!r} is not a positive number of seconds")
                return float(tr)
        raise DataError(candidates[0], "no sidecar gives RepetitionTime for this run")
