"""The simulated ds001761: BIDS validity, the real files' structure, planted truth, the stimulus audit.

The face dataset is a tiny CelebA-layout folder made here (noise JPEGs with
random factors), so these tests do not depend on the datasets stage.
"""

from __future__ import annotations

import json

import nibabel as nib
import numpy as np
import pandas as pd
import pytest
from PIL import Image

from facebrain.errors import DataError
from facebrain.fmri import design, phantom
from facebrain.fmri import layout as fmri_layout
from facebrain.fmri.audit import audit_subject, leaked_stimuli, leaked_trial_mask, write_stimulus_audit
from facebrain.fmri.reader import BidsFmriDataset, read_events
from facebrain.fmri.simulate import simulate_dataset
from facebrain.fmri.truth import recover_tuning, true_factor_z
from conftest import FACE_FACTORS, make_face_dataset


@pytest.fixture(scope="module")
def faces(tmp_path_factory):
    return make_face_dataset(tmp_path_factory.mktemp("faces") / "synthfaces")


@pytest.fixture(scope="module")
def sim(faces):
    return simulate_dataset(faces, faces.parent / "simfmri", scale="smoke", seed=3)


def test_pybids_indexes_raw_and_derivatives(sim):
    from bids import BIDSLayout

    layout = BIDSLayout(str(sim), validate=True, derivatives=str(sim / "derivatives" / "fmriprep"))
    assert layout.get_subjects() == ["01", "02"]
    assert layout.get_tasks() == ["faces", "loc"]
    events = layout.get(subject="01", task="faces", suffix="events", extension=".tsv")
    assert len(events) == design.SCALES["smoke"].sessions * design.SCALES["smoke"].faces_runs
    bold = layout.get(subject="02", task="faces", desc="preproc", suffix="bold", extension=".nii.gz", space="MNI152NLin2009cAsym")
    assert len(bold) == len(events)
    assert layout.get(subject="01", desc="confounds", suffix="timeseries", extension=".tsv")


def test_simulated_files_have_the_real_names(sim, fixtures_dir):
    """Every run file the simulator writes has a name the real dataset has: raw (run-01) and fMRIPrep's (run-1)."""
    raw = {str(p.relative_to(sim)) for p in sim.glob("sub-*/ses-*/func/*")}
    deriv_root = sim / "derivatives" / "fmriprep"
    derivatives = {str(p.relative_to(deriv_root)) for p in deriv_root.glob("sub-*/ses-*/func/*")}
    real_raw = {str(p.relative_to(fixtures_dir / "ds001761_text")) for p in (fixtures_dir / "ds001761_text").glob("sub-*/ses-*/func/*")}
    published = set((fixtures_dir / "ds001761-fmriprep_files.txt").read_text().split())
    assert raw and derivatives
    assert raw <= real_raw, sorted(raw - real_raw)[:3]
    assert derivatives <= published, sorted(derivatives - published)[:3]


def test_every_simulated_run_has_the_published_derivatives_the_analysis_reads(sim, fixtures_dir):
    """The names check of the 438 real runs (test_fmri_names), on the simulator's output: each file exists and is a published name."""
    published = set((fixtures_dir / "ds001761-fmriprep_files.txt").read_text().split())
    data = BidsFmriDataset(sim)
    runs = [run for subject in data.subjects() for task in ("faces", "loc") for run in data.runs(subject, task)]
    assert any(run.run < 10 for run in runs)  # written run-1 in the derivatives, run-01 in raw
    for run in runs:
        for space in ("MNI152NLin2009cAsym_res-2", "fsaverage5"):
            for kind, path in fmri_layout.derivative_files(run.subject, run.session, run.task, run.run, space).items():
                assert (sim / path).is_file(), (kind, path)
                assert str(path.relative_to(fmri_layout.FMRIPREP)) in published, path


def test_confounds_have_fmriprep_21_columns_and_quirks(sim):
    """fMRIPrep 21.0.1's confound columns, 'n/a' in the first row of derivatives, DVARS and FD; the reader fills them with 0."""
    (run,) = BidsFmriDataset(sim).runs("01", "faces")[:1]
    raw = pd.read_csv(run.confounds_path, sep="\t", dtype=str, keep_default_na=False)
    expanded = [f"{base}{tail}" for base in ("global_signal", "csf", "white_matter", "trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z")
                for tail in ("", "_derivative1", "_power2", "_derivative1_power2")]
    assert set(expanded + ["csf_wm", "tcompcor", "dvars", "std_dvars", "framewise_displacement", "rmsd", "a_comp_cor_00", "cosine00"]) <= set(raw.columns)
    empty_first = [c for c in raw.columns if "derivative1" in c] + ["framewise_displacement", "dvars", "std_dvars", "rmsd"]
    assert (raw.loc[0, empty_first] == "n/a").all()
    assert not (raw.loc[0, [c for c in raw.columns if c not in empty_first]] == "n/a").any()
    assert not (raw.iloc[1:] == "n/a").any().any()
    selected = run.confounds
    assert (selected.loc[0, ["trans_x_derivative1", "framewise_displacement"]] == 0).all()
    assert selected.notna().all().all() and selected["framewise_displacement"].iloc[1:].gt(0).all()
    sidecar = json.loads(run.confounds_path.with_suffix(".json").read_text())
    assert sidecar["a_comp_cor_00"]["Method"] == "aCompCor" and sidecar["a_comp_cor_00"]["Retained"] is True
    preproc = json.loads((sim / fmri_layout.derivative_files("01", run.session, "faces", run.run)["bold.json"]).read_text())
    assert preproc["RepetitionTime"] == 2 and preproc["TaskName"] == "faces"


def test_displayed_stimuli_are_small_face_crops_that_need_no_second_crop(sim, faces):
    """As ds001761's, the stimulus files are small JPEGs cropped around the face: resized without a
    second crop they show what the training preprocessing makes of the face-dataset original."""
    from facebrain.datasets.faces import preprocess_face, resize_displayed

    run = BidsFmriDataset(sim).runs("01", "faces")[0]
    ev = run.events[run.events.trial_type == "train_face"].iloc[0]
    path = BidsFmriDataset(sim).stimulus_path(ev.stim_file)
    assert path.stat().st_size < 8000
    with Image.open(path) as shown, Image.open(faces / "img_align_celeba" / ev.face_id) as original:
        assert shown.size == (112, 112)
        diff = np.abs(resize_displayed(shown).astype(float) - preprocess_face(original).astype(float)).mean()
    assert diff < 12  # JPEG loss only (noise images: the worst case for JPEG)


def test_events_have_the_real_files_structure(sim, fixtures_dir):
    real = fixtures_dir / "ds001761_sample"
    for task, real_file in [("faces", "sub-02/ses-05/func/sub-02_ses-05_task-faces_run-01_events.tsv"),
                            ("loc", "sub-01/ses-01/func/sub-01_ses-01_task-loc_run-01_events.tsv")]:
        ses = "02" if task == "faces" else "01"
        sim_file = sim / f"sub-02/ses-{ses}/func/sub-02_ses-{ses}_task-{task}_run-01_events.tsv"
        raw_real = pd.read_csv(real / real_file, sep="\t", dtype=str, keep_default_na=False)
        raw_sim = pd.read_csv(sim_file, sep="\t", dtype=str, keep_default_na=False)
        assert list(raw_sim.columns) == list(raw_real.columns)
        assert set(raw_sim.trial_type) == set(raw_real.trial_type)  # same spellings ('Fix', 'Img', padded 'fix   ')
        parsed_real, parsed_sim = read_events(real / real_file), read_events(sim_file)
        assert list(parsed_sim.columns) == list(parsed_real.columns)
        assert (parsed_sim.dtypes == parsed_real.dtypes).all()
    sidecar = json.loads((sim / "sub-01/ses-01/func/sub-01_ses-01_task-faces_run-01_bold.json").read_text())
    real_sidecar = json.loads((real / "sub-01/ses-03/func/sub-01_ses-03_task-faces_run-01_bold.json").read_text())
    assert sidecar["RepetitionTime"] == real_sidecar["RepetitionTime"] == 2
    assert sidecar["TaskName"] == "faces"


def test_design_follows_the_study(sim):
    data = BidsFmriDataset(sim)
    sub1 = data.runs("01", "faces")
    shown = {r.session: set(r.events.loc[r.events.trial_type == "test_face", "stim_name"]) for r in sub1}
    assert shown["01"] == set()  # sub-01's first session shows no test face
    runs = data.runs("02", "faces")
    tests = set()
    for run in runs:
        ev = run.events
        names = set(ev.loc[ev.trial_type == "test_face", "stim_name"])
        assert len(names) == design.TEST_PER_RUN
        assert sum(n.startswith("F") for n in names) == 5
        tests |= names
        rep = ev.index[ev.oneback == 1]
        assert len(rep) == design.SCALES["smoke"].oneback_per_run
        assert (ev.stim_file[rep].to_numpy() == ev.stim_file[rep - 1].to_numpy()).all()
        assert np.abs(np.diff(ev.onset[ev.onset >= 24]) - 3.0).max() < 0.03
        assert nib.load(run.bold).shape[-1] == len(run.confounds)
        assert nib.load(run.bold).shape[:3] == phantom.CROP_SHAPE
        assert (data.stimulus_path(ev.stim_file[ev.trial_type == "train_face"].iloc[0])).is_file()
    assert len(tests) == design.N_TEST_FACES
    assert data.stimulus_path("placeholders/fixation.png").is_file()
    first_of_ses2 = runs[design.SCALES["smoke"].faces_runs]
    assert (first_of_ses2.session, first_of_ses2.run) == ("02", 1)
    assert first_of_ses2.events.trial_type.iloc[0] == "img"  # imagery opens the later sessions
    assert "img" not in set(runs[0].events.trial_type)
    (loc,) = data.runs("02", "loc")[:1]
    assert nib.load(loc.bold).shape[-1] == 56


def test_grid_is_a_crop_of_the_mni_res2_template(sim):
    img = nib.load(sim / "ground_truth/sub-01_desc-tuning_weights.nii.gz")
    assert img.shape == (*phantom.CROP_SHAPE, 4)
    assert np.allclose(np.diag(img.affine)[:3], 2.0)
    # voxel centres sit on the template's 2 mm grid (origin -96, -132, -78)
    assert np.allclose((img.affine[:3, 3] - np.array([-96, -132, -78])) % 2, 0)
    assert json.loads((sim / "ground_truth/factors.json").read_text()) == ["yaw", "smile", "gender", "skin_tone"]


def test_planted_maps_distinct_and_overlapping(sim):
    w = nib.load(sim / "ground_truth/sub-02_desc-tuning_weights.nii.gz").get_fdata()
    on = w > 0.2 * w.max(axis=(0, 1, 2))
    yaw, smile, gender, skin = (on[..., i] for i in range(4))
    assert yaw.sum() > 10 and smile.sum() > 10
    assert (yaw & smile).sum() == 0
    overlap = (gender & skin).sum() / min(gender.sum(), skin.sum())
    assert 0.1 < overlap < 0.9


def test_planted_tuning_is_recoverable_with_the_true_factors(sim, faces):
    w_hat, w = recover_tuning(BidsFmriDataset(sim), "02", true_factor_z(sim, faces / "factors.tsv"))
    r = [np.corrcoef(w_hat[f], w[f])[0, 1] for f in range(4)]
    assert min(r) > 0.6, r


def test_null_mode_plants_no_tuning(faces, tmp_path):
    null = simulate_dataset(faces, tmp_path / "null", scale="smoke", mode="null", seed=3)
    w_hat, w = recover_tuning(BidsFmriDataset(null), "02", true_factor_z(null, faces / "factors.tsv"))
    assert not w.any()
    assert np.abs(w_hat.mean(axis=1)).max() < 0.15  # no systematic tuning over the face voxels


def test_same_seed_same_dataset(faces, sim, tmp_path):
    again = simulate_dataset(faces, tmp_path / "again", scale="smoke", seed=3)
    rel = "derivatives/fmriprep/sub-02/ses-02/func/sub-02_ses-02_task-faces_run-1_space-MNI152NLin2009cAsym_res-2_desc-preproc_bold.nii.gz"
    assert np.array_equal(nib.load(again / rel).get_fdata(), nib.load(sim / rel).get_fdata())
    assert (again / "stimuli/ImageNames2Celeba.txt").read_text() == (sim / "stimuli/ImageNames2Celeba.txt").read_text()


def test_too_small_face_dataset_fails_without_output(tmp_path):
    small = make_face_dataset(tmp_path / "small", n=30)
    with pytest.raises(DataError, match="scale 'smoke' needs"):
        simulate_dataset(small, tmp_path / "out", scale="smoke")
    assert not (tmp_path / "out").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["small"]  # no temporary folder left behind


def test_missing_factor_is_named(faces, tmp_path):
    with pytest.raises(DataError, match=r"factors.tsv: missing column\(s\) \['pose'\]"):
        simulate_dataset(faces, tmp_path / "out", scale="smoke", factors=["pose"])


def test_audit_finds_the_planted_leaks_and_duplicates(sim, tmp_path):
    planted = json.loads((sim / "ground_truth/simulation.json").read_text())["subjects"]["sub-02"]
    out = tmp_path / "stimulus_audit.tsv"
    audit = write_stimulus_audit(sim, "02", out, tmp_path / "stimulus_counts.json")
    leaks = audit[audit.problem == "test_in_train"]
    assert sorted(leaks.stim_name) == planted["leaked_training_names"] and len(leaks) == 2
    assert set(leaks.same_image_as) <= set(planted["test_faces"])
    assert leaked_stimuli(out) == planted["leaked_training_names"]
    two = audit[audit.problem == "two_names"]
    assert set(planted["duplicate_images"]) <= set(two.face_id)
    assert len(two) == 2 * (len(planted["leaked_training_names"]) + len(planted["duplicate_images"]))
    data = BidsFmriDataset(sim)
    n_masked = sum(leaked_trial_mask(r.events, leaked_stimuli(out)).sum() for r in data.runs("02", "faces"))
    assert n_masked == leaks.n_trials.astype(int).sum()
    counts = json.loads((tmp_path / "stimulus_counts.json").read_text())
    assert counts["leaked_training_names"] == 2 and counts["leaked_training_trials"] == n_masked
    assert counts["test_faces"] == design.N_TEST_FACES
    assert counts["training_images"] == counts["training_names"] - len(planted["duplicate_images"])


def test_audit_matches_identical_images_without_the_name_list(sim, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(sim, copy, ignore=shutil.ignore_patterns("*.nii.gz"))
    (copy / "stimuli/ImageNames2Celeba.txt").unlink()
    audit = audit_subject(copy, "02")
    planted = json.loads((sim / "ground_truth/simulation.json").read_text())["subjects"]["sub-02"]
    assert sorted(audit.loc[audit.problem == "test_in_train", "stim_name"]) == planted["leaked_training_names"]


def test_overview_figure_shows_design_and_planted_maps(sim, fixtures_dir, tmp_path):
    from facebrain.fmri.figures import plot_fmri_overview

    with_maps = plot_fmri_overview(sim, "01", tmp_path / "sim.png")
    without = plot_fmri_overview(fixtures_dir / "ds001761_sample", "02", tmp_path / "real.png")  # no loc run, no truth
    planted = json.loads((sim / "ground_truth/factors.json").read_text())
    maps = [ax.get_title().split("\n")[0] for ax in with_maps.axes if ax.get_images()]
    assert maps == ["planted face regions", *(f"planted tuning: {factor}" for factor in planted)]
    assert [ax for ax in without.axes if ax.get_images()] == []  # the planted-map row is only drawn for simulated data


def test_missing_face_image_fails_midway_without_output(faces, tmp_path):
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(faces, broken)
    for image in sorted((broken / "img_align_celeba").iterdir())[::2]:
        image.unlink()
    with pytest.raises(DataError, match=r"img_align_celeba/\d{6}\.jpg: face image listed .* but missing"):
        simulate_dataset(broken, tmp_path / "out", scale="smoke")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken"]  # no output, no temporary folder
