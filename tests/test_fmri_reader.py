"""The fMRI reader on the real ds001761 sample (../shared/fixtures/ds001761_sample) and on bad input."""

from __future__ import annotations

import re
import shutil

import numpy as np
import pandas as pd
import pytest

from facebrain.errors import DataError
from facebrain.fmri.reader import DEFAULT_CONFOUNDS, EVENT_COLUMNS, BidsFmriDataset, read_confounds, read_events, read_image_names


@pytest.fixture(scope="module")
def sample(fixtures_dir):
    return BidsFmriDataset(fixtures_dir / "ds001761_sample")


def test_subjects_and_runs_of_the_real_sample(sample):
    assert sample.subjects() == ["01", "02"]
    (run,) = sample.runs("sub-01", "faces")
    assert (run.subject, run.session, run.task, run.run) == ("01", "03", "faces", 1)
    assert run.tr == 2.0
    assert run.bold.name == "sub-01_ses-03_task-faces_run-1_space-MNI152NLin2009cAsym_res-2_desc-preproc_bold.nii.gz"  # fMRIPrep: run-1
    assert run.bold.parent.parts[-5:] == ("derivatives", "fmriprep", "sub-01", "ses-03", "func")
    assert run.mask.name.endswith("_desc-brain_mask.nii.gz")
    assert run.confounds_path.name == "sub-01_ses-03_task-faces_run-1_desc-confounds_timeseries.tsv"


def test_faces_events_of_the_real_sample(sample):
    events = sample.runs("01", "faces")[0].events
    assert list(events.columns) == list(EVENT_COLUMNS)
    assert events.trial_type.value_counts().to_dict() == {"train_face": 84, "fix": 30, "test_face": 12}
    assert events.oneback.sum() == 8
    repeats = events.index[events.oneback == 1]
    # a one-back trial repeats the stimulus of the trial just before it
    assert (events.stim_file[repeats].to_numpy() == events.stim_file[repeats - 1].to_numpy()).all()
    tests = events[events.trial_type == "test_face"]
    assert tests.stim_name.nunique() == 10
    assert set(tests.stim_name) >= {"F1148.jpg", "M2553.jpg", "F1145.jpg"}
    assert (events.loc[events.trial_type == "fix", "stim_name"] == "").all()
    assert events.loc[0, "stim_file"] == "sub01/run27/F1178.jpg"
    faces = events[events.trial_type != "fix"]
    assert np.allclose(faces.duration, 1.0, atol=0.002)
    assert np.abs(np.diff(events.onset) - 3.0).max() < 0.03  # one trial every 3 s
    assert (events.face_id == "").all()  # the sample has no ImageNames2Celeba.txt


def test_imagery_events_are_normalised(sample):
    events = sample.runs("02", "faces")[0].events
    assert events.trial_type.value_counts().to_dict() == {"train_face": 83, "fix": 31, "test_face": 13, "img": 1}
    img = events[events.trial_type == "img"].iloc[0]
    assert (img.onset, img.duration, img.stim_name) == (6.02, 12.01, "")


def test_localizer_blocks_lose_their_padding(sample, fixtures_dir):
    raw = (fixtures_dir / "ds001761_sample/sub-01/ses-01/func/sub-01_ses-01_task-loc_run-01_events.tsv").read_text()
    assert "fix   \n" in raw  # the real file pads values with trailing spaces
    (run,) = sample.runs("01", "loc")
    events = run.events
    assert events.trial_type.tolist() == ["fix", "face", "object", "fix", "object", "face", "fix"]
    assert events.onset.tolist() == [16.0 * i for i in range(7)]
    assert (events.duration == 16.0).all()
    assert (events.oneback == 0).all() and (events.stim_file == "").all()
    assert run.tr == 2.0


def test_missing_task_names_the_subject(sample):
    with pytest.raises(DataError, match="no task-loc events for sub-02"):
        sample.runs("02", "loc")


def test_not_a_bids_root(tmp_path):
    with pytest.raises(DataError, match="dataset_description.json"):
        BidsFmriDataset(tmp_path)


def test_image_names_map_stimuli_to_face_ids(tmp_path, fixtures_dir):
    root = tmp_path / "ds"
    shutil.copytree(fixtures_dir / "ds001761_sample", root)
    events = pd.read_csv(root / "sub-01/ses-03/func/sub-01_ses-03_task-faces_run-01_events.tsv", sep="\t")
    stims = sorted(set(events.stim_file) - {"placeholders/fixation.png"})
    (root / "stimuli").mkdir()
    (root / "stimuli/ImageNames2Celeba.txt").write_text("".join(f"{s}  {i:06d}.jpg\n" for i, s in enumerate(stims, 1)))
    run = BidsFmriDataset(root).runs("01", "faces")[0]
    ev = run.events
    first = ev.loc[0]
    assert first.face_id == f"{stims.index(first.stim_file) + 1:06d}.jpg"
    assert (ev.loc[ev.trial_type == "fix", "face_id"] == "").all()
    assert BidsFmriDataset(root).stimulus_path("sub01/run27/F1178.jpg") == root / "stimuli/sub01/run27/F1178.jpg"

    (root / "stimuli/ImageNames2Celeba.txt").write_text(f"{stims[0]} 000001.jpg\n")
    with pytest.raises(DataError, match=r"ImageNames2Celeba.txt: stimulus sub01/run27/\S+ \(shown in .*events.tsv\) has no face"):
        BidsFmriDataset(root).runs("01", "faces")[0].events


def test_bad_image_names_line(tmp_path):
    path = tmp_path / "ImageNames2Celeba.txt"
    path.write_text("sub01/run01/F1.jpg 000001.jpg\nsub01/run01/F2.jpg\n")
    with pytest.raises(DataError, match="line 2 has 1 fields"):
        read_image_names(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("onset\tduration\n0\t1\n", r"missing events column\(s\) \['trial_type'\]"),
        ("onset\tduration\ttrial_type\n0\tabc\tface\n", "row 1: duration 'abc' is not a non-negative number"),
        ("onset\tduration\ttrial_type\tstim_file\toneback\n0\t1\ttrain_face\ta.jpg\t2\n", "row 1: oneback '2' is not 0 or 1"),
    ],
)
def test_bad_events_name_file_and_problem(tmp_path, content, message):
    path = tmp_path / "sub-01_ses-01_task-faces_run-01_events.tsv"
    path.write_text(content)
    with pytest.raises(DataError, match=message) as err:
        read_events(path)
    assert str(path) in str(err.value)


def test_confounds_selection_fills_nans_and_names_missing_columns(tmp_path):
    columns = list(DEFAULT_CONFOUNDS) + ["global_signal", "a_comp_cor_00"]
    table = pd.DataFrame(np.arange(3 * len(columns), dtype=float).reshape(3, -1), columns=columns)
    table.loc[0, "framewise_displacement"] = np.nan
    path = tmp_path / "confounds.tsv"
    table.to_csv(path, sep="\t", index=False, na_rep="n/a")
    selected = read_confounds(path)
    assert list(selected.columns) == list(DEFAULT_CONFOUNDS)
    assert selected.loc[0, "framewise_displacement"] == 0.0
    assert selected.loc[1, "csf"] == table.loc[1, "csf"]
    table.drop(columns="csf").to_csv(path, sep="\t", index=False)
    with pytest.raises(DataError, match=r"missing confound column\(s\) \['csf'\]"):
        read_confounds(path)


@pytest.mark.parametrize("column", ["onset", "duration", "trial_type", "stim_file"])
def test_faces_events_missing_a_required_column_name_file_and_column(tmp_path, fixtures_dir, column):
    root = tmp_path / "ds"
    shutil.copytree(fixtures_dir / "ds001761_sample", root)
    path = root / "sub-01/ses-03/func/sub-01_ses-03_task-faces_run-01_events.tsv"
    raw = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    raw.drop(columns=[column]).to_csv(path, sep="\t", index=False)
    message = re.escape(str(path)) + rf": missing events column\(s\) \['{column}'\]"
    with pytest.raises(DataError, match=message):
        read_events(path, task="faces")
    with pytest.raises(DataError, match=message):
        BidsFmriDataset(root).runs("01", "faces")[0].events


def test_localizer_events_need_no_stim_file(fixtures_dir):
    events = read_events(fixtures_dir / "ds001761_sample/sub-01/ses-01/func/sub-01_ses-01_task-loc_run-01_events.tsv", task="loc")
    assert (events.stim_file == "").all()
