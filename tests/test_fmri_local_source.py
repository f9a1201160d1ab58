"""fmri.source: local -- a copy of ds001761 the user already has, checked when the DAG is built.

The local tree is built from the real events and sidecars of sub-02 ses-01
(../shared/fixtures/ds001761_text: 11 faces runs, 2 localizer runs) with
fMRIPrep 21.0.1's real derivative names (run-1, in a separate derivatives
folder as OpenNeuroDerivatives ships them), tiny synthetic BOLD (a 5x5x5 grid
with a face-selective corner), stub stimulus images and an
ImageNames2Celeba.txt onto the smoke SynthFaces ids.
"""

from __future__ import annotations

import hashlib
import shutil

import nibabel as nib
import numpy as np
import pandas as pd
import pytest
from nilearn.glm.first_level import compute_regressor
from PIL import Image

from conftest import copy_repo, run_snakemake
from facebrain.fmri import design, layout
from facebrain.fmri.reader import DEFAULT_CONFOUNDS, BidsFmriDataset
from facebrain.io import write_json

SUBJECT, SESSION = "02", "01"
GRID = (5, 5, 5)
N_FACES = 240  # the smoke preset's SynthFaces images


def _regressor(events: pd.DataFrame, kinds, n_vol: int) -> np.ndarray:
    rows = events[events.trial_type.isin(kinds)]
    if rows.empty:
        return np.zeros(n_vol)
    onsets = np.vstack([rows.onset, rows.duration, np.ones(len(rows))])
    return compute_regressor(onsets, "glover", np.arange(n_vol) * design.TR)[0][:, 0]


def _confounds(rng: np.random.Generator, n_vol: int) -> pd.DataFrame:
    """fMRIPrep's selected confound columns ('n/a' in the first row of derivatives and FD when written)."""
    motion = np.cumsum(rng.normal(0, 0.01, (n_vol, 6)), axis=0)
    d = np.vstack([np.full(6, np.nan), np.diff(motion, axis=0)])
    table = {"global_signal": rng.normal(1000, 1, n_vol), "csf": rng.normal(900, 1, n_vol), "white_matter": rng.normal(800, 1, n_vol)}
    for j, name in enumerate(("trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z")):
        table[name], table[f"{name}_derivative1"] = motion[:, j], d[:, j]
    table["framewise_displacement"] = np.abs(d).sum(1)
    frame = pd.DataFrame(table)
    assert set(DEFAULT_CONFOUNDS) <= set(frame.columns)
    return frame


def build_local_copy(base, fixtures_dir, with_bold: bool = True):
    """Raw tree at base/ds001761 and derivatives at base/ds001761-fmriprep; returns (root, derivatives)."""
    real = fixtures_dir / "ds001761_text"
    root, derivatives = base / "ds001761", base / "ds001761-fmriprep"
    root.mkdir(parents=True)
    shutil.copy(real / "dataset_description.json", root)
    published = set((fixtures_dir / "ds001761-fmriprep_files.txt").read_text().split())
    source = BidsFmriDataset(real)
    runs = [r for task in layout.TASKS for r in source.runs(SUBJECT, task) if r.session == SESSION]
    stimuli = sorted({s for r in runs for s in r.events.stim_file if s and not s.startswith("placeholders/")})
    tests = sorted({n for r in runs for n in r.events.loc[r.events.trial_type == "test_face", "stim_name"]})
    names = sorted({s.rsplit("/", 1)[1] for s in stimuli})
    others = [n for n in names if n not in tests]
    # test faces get their own face ids, training faces share the rest (two names per id: images shown under two names)
    face_of = {n: f"{i + 1:06d}.jpg" for i, n in enumerate(tests)}
    face_of.update({n: f"{len(tests) + i % (N_FACES - len(tests)) + 1:06d}.jpg" for i, n in enumerate(others)})
    lines = []
    for stim in stimuli:
        name = stim.rsplit("/", 1)[1]
        seed = int(hashlib.md5(face_of[name].encode()).hexdigest()[:8], 16)
        path = root / layout.STIMULI / stim
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.random.default_rng(seed).integers(0, 255, (60, 50, 3), dtype=np.uint8)).save(path)
        lines.append(f"{stim} {face_of[name]}")
    (root / layout.IMAGE_NAMES).write_text("\n".join(lines) + "\n")
    rng = np.random.default_rng(0)
    affine = np.diag([2.0, 2.0, 2.0, 1.0])
    affine[:3, 3] = [30, -60, -10]
    selective = np.zeros(GRID, bool)
    selective[:2, :2, :2] = True
    for run in runs:
        for suffix, ext in (("events", ".tsv"), ("bold", ".json")):
            dest = root / layout.raw_file(SUBJECT, SESSION, run.task, run.run, suffix, ext)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(real / layout.raw_file(SUBJECT, SESSION, run.task, run.run, suffix, ext), dest)
        files = {k: derivatives / p.relative_to(layout.FMRIPREP) for k, p in layout.derivative_files(SUBJECT, SESSION, run.task, run.run).items()}
        assert all(str(p.relative_to(derivatives)) in published for p in files.values())  # fMRIPrep's real names
        files["bold"].parent.mkdir(parents=True, exist_ok=True)
        if not with_bold:
            for path in files.values():
                path.touch()
            continue
        ev = run.events
        n_vol = design.run_volumes(ev)
        face = _regressor(ev, ["train_face", "test_face", "face"], n_vol)
        objects = _regressor(ev, ["object"], n_vol)
        percent = np.where(selective[..., None], 3.0, 0.5) * face + 0.5 * objects + rng.normal(0, 0.3, (*GRID, n_vol))
        bold = (1000 * (1 + percent / 100)).astype(np.float32)
        nib.save(nib.Nifti1Image(bold, affine), files["bold"])
        nib.save(nib.Nifti1Image(np.ones(GRID, np.uint8), affine), files["mask"])
        write_json(files["bold.json"], {"RepetitionTime": design.TR, "TaskName": run.task, "SkullStripped": False})
        _confounds(rng, n_vol).to_csv(files["confounds"], sep="\t", index=False, na_rep="n/a")
        write_json(files["confounds.json"], {})
    return root, derivatives


def local_config(root, derivatives, subjects=(SUBJECT,)):
    subjects = ", ".join(f'"{s}"' for s in subjects)
    return (f"fmri:\n  source: local\n  root: {root}\n  derivatives: {derivatives}\n  spaces: [MNI152NLin2009cAsym_res-2]\n"  # the copy has volume derivatives only
            f"  download:\n    subjects: [{subjects}]\n    sessions: [\"{SESSION}\"]\n")


@pytest.fixture(scope="module")
def local_run(tmp_path_factory, fixtures_dir):
    base = tmp_path_factory.mktemp("local_source")
    root, derivatives = build_local_copy(base / "data", fixtures_dir)
    repo = copy_repo(base / "repo")
    (repo / "local.yaml").write_text(local_config(root, derivatives))
    run_snakemake(repo, "--cores", "2", "results/table1.csv", "--configfile", "presets/smoke.yaml", "local.yaml")
    return repo


@pytest.mark.workflow
def test_table1_from_a_local_copy_on_the_real_events(local_run):
    table = pd.read_csv(local_run / "results/table1.csv")
    rows = table[table.subject == f"sub-{SUBJECT}"]
    assert set(table.subject) <= {f"sub-{SUBJECT}", "group"} and {"oracle", "random"} <= set(rows.model)
    assert (rows.n_voxels == 8).all()  # the planted face-selective corner, found through the localizer of the real blocks
    assert not (local_run / "resources/simfmri").exists() and not (local_run / "resources/ds001761").exists()


@pytest.fixture(scope="module")
def names_only(tmp_path_factory, fixtures_dir):
    """A local copy with empty derivative files: the check looks at names, not content."""
    base = tmp_path_factory.mktemp("local_names")
    root, derivatives = build_local_copy(base / "data", fixtures_dir, with_bold=False)
    repo = copy_repo(base / "repo")
    return repo, root, derivatives


@pytest.mark.workflow
def test_dry_run_names_the_missing_derivative(names_only):
    repo, root, derivatives = names_only
    (repo / "local.yaml").write_text(local_config(root, derivatives))
    run_snakemake(repo, "-n", "results/table1.csv", "--configfile", "presets/smoke.yaml", "local.yaml")
    gone = derivatives / layout.derivative_files(SUBJECT, SESSION, "faces", 3)["confounds"].relative_to(layout.FMRIPREP)
    gone.unlink()
    try:
        proc = run_snakemake(repo, "-n", "results/table1.csv", "--configfile", "presets/smoke.yaml", "local.yaml", check=False)
    finally:
        gone.touch()
    assert proc.returncode != 0
    assert "1 file(s) the analysis reads are missing" in proc.stdout
    assert "sub-02_ses-01_task-faces_run-3_desc-confounds_timeseries.tsv" in proc.stdout


@pytest.mark.workflow
def test_dry_run_names_the_missing_subject_and_session(names_only):
    repo, root, derivatives = names_only
    (repo / "local.yaml").write_text(local_config(root, derivatives, subjects=("02", "03")))
    proc = run_snakemake(repo, "-n", "results/table1.csv", "--configfile", "presets/smoke.yaml", "local.yaml", check=False)
    assert proc.returncode != 0 and "subject(s) sub-03 not in the local dataset" in proc.stdout
    (repo / "local.yaml").write_text(local_config(root, derivatives).replace(f'sessions: ["{SESSION}"]', 'sessions: ["01", "02"]'))
    proc = run_snakemake(repo, "-n", "results/table1.csv", "--configfile", "presets/smoke.yaml", "local.yaml", check=False)
    assert proc.returncode != 0 and "sub-02/ses-02/func (session with no runs)" in proc.stdout
