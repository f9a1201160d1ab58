"""Derivatives are found by entities: every file the analysis reads of the 438 real runs of ds001761
exists, under that name, in the published fMRIPrep 21.0.1 derivatives (../shared/fixtures)."""

from __future__ import annotations

import pytest

from facebrain.fmri import layout
from facebrain.fmri.reader import BidsFmriDataset


@pytest.fixture(scope="module")
def real_runs(fixtures_dir):
    """Every run of the real raw ds001761 (438 events files), as the reader lists them (volume space)."""
    data = BidsFmriDataset(fixtures_dir / "ds001761_text")
    return data, [run for subject in data.subjects() for task in layout.TASKS for run in data.runs(subject, task)]


@pytest.fixture(scope="module")
def published(fixtures_dir):
    """The file list of OpenNeuroDerivatives ds001761-fmriprep (paths relative to the derivatives)."""
    return set((fixtures_dir / "ds001761-fmriprep_files.txt").read_text().split())


def test_every_real_run_finds_the_derivatives_the_analysis_reads(real_runs, published):
    data, runs = real_runs
    assert len(runs) == 438
    assert {(r.subject, r.task) for r in runs} == {(s, t) for s in ("01", "02", "03", "04") for t in layout.TASKS}
    missing = []
    for run in runs:
        read = [run.bold, run.mask, run.confounds_path]  # the reader's own paths
        read += [data.root / f for f in layout.derivative_files(run.subject, run.session, run.task, run.run).values()]
        read += [data.root / f for f in layout.derivative_files(run.subject, run.session, run.task, run.run, layout.SURFACE_SPACE).values()]
        missing += [str(p) for p in read if str(p.relative_to(data.root / layout.FMRIPREP)) not in published]
    assert not missing, f"{len(missing)} derivative names not in the published list, e.g. {missing[:3]}"


def test_runs_one_to_nine_are_written_unpadded_in_derivatives_only():
    assert str(layout.raw_file("01", "03", "faces", 1, "events", ".tsv")) == "sub-01/ses-03/func/sub-01_ses-03_task-faces_run-01_events.tsv"
    bold = layout.derivative_files("01", "03", "faces", 1)["bold"]
    assert str(bold) == ("derivatives/fmriprep/sub-01/ses-03/func/"
                         "sub-01_ses-03_task-faces_run-1_space-MNI152NLin2009cAsym_res-2_desc-preproc_bold.nii.gz")
    assert layout.surface_derivative_file("01", "03", "faces", 12, "R").name == "sub-01_ses-03_task-faces_run-12_hemi-R_space-fsaverage5_bold.func.gii"
