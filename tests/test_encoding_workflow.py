"""Validation of the encoding stage on the simulated fMRI data (smoke preset), against the planted truth.

The ground truth under resources/simfmri/ground_truth/ is read only here, never by the analysis.
"""

import json

import h5py
import nibabel as nib
import numpy as np
import pandas as pd
import pytest

from conftest import copy_repo, run_snakemake

SUBJECTS = ["sub-01", "sub-02"]


def truth(repo, subject, name):
    return np.asarray(nib.load(repo / "resources/simfmri/ground_truth" / f"{subject}_desc-{name}.nii.gz").dataobj)


def oracle_dims(repo):
    labels = pd.read_csv(repo / "results/latents/oracle/synthfaces_dimension_labels.tsv", sep="\t")
    return dict(zip(labels.factor, labels.dim))


def test_table1_orders_oracle_above_random(smoke_run):
    table = pd.read_csv(smoke_run / "results/table1.csv")
    assert list(table.columns) == ["subject", "model", "rho", "p", "n_voxels", "n_permutations"]
    assert set(table.subject) == set(SUBJECTS)
    for subject, rows in table.groupby("subject"):
        rows = rows.set_index("model")
        assert rows.loc["oracle", "rho"] > rows.loc["random", "rho"]
        assert rows.loc["oracle", "p"] < 0.001
    markdown = (smoke_run / "results/table1.md").read_text()
    assert "| oracle |" in markdown and "sub-02" in markdown.splitlines()[2] and "***" in markdown


def test_localizer_recovers_planted_face_regions(smoke_run):
    for subject in SUBJECTS:
        found = np.asarray(nib.load(smoke_run / f"results/encoding/{subject}/localizer/face_selective.nii.gz").dataobj) > 0
        planted = truth(smoke_run, subject, "faceregions_mask") > 0
        dice = 2 * (found & planted).sum() / (found.sum() + planted.sum())
        assert dice > 0.7, f"{subject}: localizer Dice {dice:.2f}"
        summary = json.loads((smoke_run / f"results/encoding/{subject}/localizer/localizer.json").read_text())
        assert summary["n_voxels"] == found.sum()


def test_oracle_weights_match_planted_tuning(smoke_run):
    factors = json.loads((smoke_run / "resources/simfmri/ground_truth/factors.json").read_text())
    factors = factors["factors"] if isinstance(factors, dict) else factors
    dims = oracle_dims(smoke_run)
    for subject in SUBJECTS:
        selective = np.asarray(nib.load(smoke_run / f"results/encoding/{subject}/localizer/face_selective.nii.gz").dataobj) > 0
        betas = np.asarray(nib.load(smoke_run / f"results/encoding/{subject}/oracle/betas.nii.gz").dataobj)
        planted = truth(smoke_run, subject, "tuning_weights")
        recovered = np.concatenate([betas[..., dims[f]][selective] for f in factors])
        true = np.concatenate([planted[..., i][selective] for i, _ in enumerate(factors)])
        r = np.corrcoef(recovered, true)[0, 1]
        assert r > 0.8, f"{subject}: r(W_oracle, planted tuning) = {r:.2f}"


def test_beta_maps_overlap_as_planted(smoke_run):
    overlap = pd.read_csv(smoke_run / "results/tables/beta_overlap.csv")
    oracle = overlap[overlap.model == "oracle"]
    for subject, rows in oracle.groupby("subject"):
        pair = {frozenset((a, b)): d for a, b, d in zip(rows.factor_a, rows.factor_b, rows.dice)}
        distinct, shared = pair[frozenset(("yaw", "smile"))], pair[frozenset(("gender", "skin_tone"))]
        assert distinct < 0.2 < shared, f"{subject}: Dice yaw/smile {distinct:.2f}, gender/skin_tone {shared:.2f}"


def test_decoding_and_figures(smoke_run):
    table = pd.read_csv(smoke_run / "results/tables/decoding.csv")
    assert {"subject", "model", "pairwise_accuracy", "p", "gender_accuracy"} <= set(table.columns)
    oracle = table[table.model == "oracle"]
    assert (oracle.pairwise_accuracy > 0.7).all() and (oracle.p < 0.01).all()
    for subject in SUBJECTS:
        assert (smoke_run / f"results/figures/{subject}/encoding_rho_oracle.png").stat().st_size > 10_000
        assert (smoke_run / f"results/figures/{subject}/reconstructions_pca.png").is_file()
        with h5py.File(smoke_run / f"results/encoding/{subject}/oracle/encoding.h5") as f:
            assert len(f["null"]) == f.attrs["n_permutations"]


@pytest.fixture(scope="module")
def dry_repo(tmp_path_factory):
    return copy_repo(tmp_path_factory.mktemp("dry") / "repo")


def test_one_subject_target_runs_only_that_subject(dry_repo):
    out = run_snakemake(dry_repo, "-n", "--configfile", "presets/smoke.yaml", "results/figures/sub-02/encoding_rho_factorvae.png").stdout
    jobs = [line.split()[1] for line in out.splitlines() if line.startswith("rule ")]
    assert {"encoding_localizer", "encoding_stimulus_latents", "encoding_glm", "encoding_accuracy", "encoding_rho_figure"} <= set(jobs)
    assert "results/encoding/sub-02/factorvae/glm.h5" in out
    assert "sub-01" not in out
