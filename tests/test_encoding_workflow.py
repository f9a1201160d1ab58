"""Workflow tests of the encoding stage and its validation against the planted truth of the simulated fMRI data.

The ground truth under resources/simfmri/ground_truth/ is read only here, never by the analysis.
Two runs: `smoke_run` (the shared smoke `all`) for the tables and figures, and `validation_run`,
the encoding targets with the oracle and random models on the smoke-scale simulation at a
known, higher SNR (noise SD 0.5% instead of 1%), where recovery of the planted truth is checked.
"""

import json

import h5py
import nibabel as nib
import numpy as np
import pandas as pd
import pytest

from conftest import assert_same_picture, colour_ranges, copy_repo, run_snakemake, smoke_config
from facebrain import paths
from facebrain.encoding.figures import plot_beta_maps, plot_group_figures, plot_rho_map
from facebrain.encoding.tables import labelled_dimensions

SUBJECTS = ["sub-01", "sub-02"]
VALIDATION_CONFIG = """
fmri:
  simulate:
    scale: smoke
    mode: planted
    noise_sd: 0.5
encoding:
  models: [oracle, random]
  n_permutations: 1999
  comparisons: [[oracle, random]]
"""


@pytest.fixture(scope="module")
def validation_run(tmp_path_factory):
    repo = copy_repo(tmp_path_factory.mktemp("encoding_validation") / "repo")
    (repo / "validation.yaml").write_text(VALIDATION_CONFIG)
    run_snakemake(repo, "--cores", "2", "results/table1.csv", "results/tables/beta_overlap.csv", "--configfile", "presets/smoke.yaml", "validation.yaml")
    return repo


def truth(repo, subject, name):
    return np.asarray(nib.load(repo / "resources/simfmri/ground_truth" / f"{subject}_desc-{name}.nii.gz").dataobj)


def selective(repo, subject):
    return np.asarray(nib.load(repo / f"results/encoding/{subject}/localizer/face_selective.nii.gz").dataobj) > 0


def test_table1_orders_oracle_above_random(smoke_run):
    table = pd.read_csv(smoke_run / "results/table1.csv")
    assert list(table.columns) == ["subject", "model", "rho", "p", "ci_low", "ci_high", "n_voxels", "n_permutations", "kind"]
    assert set(table.subject) == set(SUBJECTS) | {"group"}
    for _, rows in table[table.kind == "model"].groupby("subject"):
        rows = rows.set_index("model")
        assert rows.loc["oracle", "rho"] > rows.loc["random", "rho"]
        assert rows.loc["oracle", "p"] < 0.001
    markdown = (smoke_run / "results/table1.md").read_text().splitlines()
    assert markdown[2] == "| model | sub-01 | sub-02 | group |"
    assert any(line.startswith("| oracle |") and line.count("***") == 2 for line in markdown)


def test_decoding_table_and_figures(smoke_run, tmp_path):
    table = pd.read_csv(smoke_run / "results/tables/decoding.csv")
    assert {"subject", "model", "pairwise_accuracy", "p", "gender_accuracy"} <= set(table.columns)
    oracle = table[table.model == "oracle"]
    assert len(oracle) == 2 and (oracle.pairwise_accuracy > 0.6).all() and (oracle.p < 0.01).all()
    min_abs_corr = smoke_config(defaults=True)["encoding"]["beta_maps"]["min_abs_corr"]
    for subject in SUBJECTS:
        label = subject.removeprefix("sub-")
        for model in ("oracle", "random"):
            files = {name: smoke_run / paths.path(name, subject=label, model=model) for name in ("rho", "encoding_summary", "rho_figure")}
            fig = plot_rho_map(files["rho"], smoke_run / paths.path("brain_mask", subject=label), files["encoding_summary"], f"{subject} {model}", tmp_path / "rho.png")
            assert_same_picture(files["rho_figure"], tmp_path / "rho.png")
            rho_max = float(np.abs(nib.load(files["rho"]).get_fdata()).max())
            assert colour_ranges(fig) == [pytest.approx((-rho_max, rho_max), rel=0.05)]  # the colour bar spans the map's values
        mask = smoke_run / paths.path("face_selective", subject=label)
        labels = smoke_run / paths.path("dimension_labels", model="oracle", dataset="synthfaces")
        betas = smoke_run / paths.path("betas", subject=label, model="oracle")
        fig = plot_beta_maps(betas, mask, labels, f"{subject} oracle", tmp_path / "betas.png", min_abs_corr=min_abs_corr)
        assert_same_picture(smoke_run / paths.path("betas_figure", subject=label, model="oracle"), tmp_path / "betas.png")
        assert len(colour_ranges(fig)) == len(labelled_dimensions(labels, min_abs_corr)) > 0  # one row per labelled dimension
        with h5py.File(smoke_run / f"results/encoding/{subject}/oracle/encoding.h5") as f:
            assert len(f["null"]) == f.attrs["n_permutations"]
    rho_group, _ = plot_group_figures(smoke_run / "results/table1.csv", smoke_run / "results/tables/decoding.csv", tmp_path / "g1.png", tmp_path / "g2.png")
    assert_same_picture(smoke_run / "results/figures/encoding_rho_group.png", tmp_path / "g1.png")
    assert [dots.get_label() for dots in rho_group.axes[0].collections] == SUBJECTS  # one set of dots per subject


def test_gender_classifier_never_trains_on_leaked_test_images(smoke_run):
    """The simulator plants training stimuli that show a test face; the decoding's gender classifier leaves them out."""
    from facebrain.fmri.audit import leaked_stimuli

    for subject in SUBJECTS:
        leaked = leaked_stimuli(smoke_run / f"results/fmri/{subject}/stimulus_audit.tsv")
        assert leaked
        with h5py.File(smoke_run / f"results/encoding/{subject}/oracle/stimulus_latents.h5") as f:
            names = set(f["ids"].asstr()[()])
        with h5py.File(smoke_run / f"results/encoding/{subject}/oracle/glm.h5") as f:
            tests = set(f["test_faces"].asstr()[()])
        summary = json.loads((smoke_run / f"results/encoding/{subject}/oracle/decoding.json").read_text())
        assert set(leaked) <= names - tests
        assert summary["n_gender_train"] == len(names - tests - set(leaked))


def test_localizer_recovers_planted_face_regions(validation_run):
    for subject in SUBJECTS:
        found, planted = selective(validation_run, subject), truth(validation_run, subject, "faceregions_mask") > 0
        dice = 2 * (found & planted).sum() / (found.sum() + planted.sum())
        assert dice > 0.7, f"{subject}: localizer Dice {dice:.2f}"
        summary = json.loads((validation_run / f"results/encoding/{subject}/localizer/localizer.json").read_text())
        assert summary["n_voxels"] == found.sum()


def test_oracle_weights_match_planted_tuning(validation_run):
    factors = json.loads((validation_run / "resources/simfmri/ground_truth/factors.json").read_text())
    labels = pd.read_csv(validation_run / "results/latents/oracle/synthfaces_dimension_labels.tsv", sep="\t")
    dims = dict(zip(labels.factor, labels.dim))
    for subject in SUBJECTS:
        mask = selective(validation_run, subject)
        betas = np.asarray(nib.load(validation_run / f"results/encoding/{subject}/oracle/betas.nii.gz").dataobj)
        planted = truth(validation_run, subject, "tuning_weights")
        recovered = np.concatenate([betas[..., dims[f]][mask] for f in factors])
        true = np.concatenate([planted[..., i][mask] for i in range(len(factors))])
        r = np.corrcoef(recovered, true)[0, 1]
        assert r > 0.8, f"{subject}: r(W_oracle, planted tuning) = {r:.2f}"


def test_beta_maps_overlap_as_planted(validation_run):
    """Planted: yaw and smile maps disjoint, gender and skin tone partly overlapping."""
    overlap = pd.read_csv(validation_run / "results/tables/beta_overlap.csv")
    for subject, rows in overlap[overlap.model == "oracle"].groupby("subject"):
        pair = {frozenset((a, b)): d for a, b, d in zip(rows.factor_a, rows.factor_b, rows.dice)}
        distinct, shared = pair[frozenset(("yaw", "smile"))], pair[frozenset(("gender", "skin_tone"))]
        assert distinct < 0.1 and shared > 0.25, f"{subject}: Dice yaw/smile {distinct:.2f}, gender/skin_tone {shared:.2f}"


def test_table1_with_planted_truth(validation_run):
    """Planted: the oracle beats chance and beats the random model (swap-null p < 0.001, CI above 0) in every subject."""
    table = pd.read_csv(validation_run / "results/table1.csv").set_index(["subject", "model"])
    for subject in SUBJECTS:
        assert table.loc[(subject, "oracle"), "rho"] > table.loc[(subject, "random"), "rho"]
        assert table.loc[(subject, "oracle"), "p"] < 0.001
        diff = table.loc[(subject, "oracle - random")]
        assert diff.p < 0.001 and 0 < diff.ci_low < diff.rho < diff.ci_high
        assert diff.rho == pytest.approx(table.loc[(subject, "oracle"), "rho"] - table.loc[(subject, "random"), "rho"], abs=1e-6)
    assert table.loc[("group", "oracle - random"), "p"] == pytest.approx(0.5)  # 2 subjects: the smallest sign-flip p


@pytest.fixture(scope="module")
def dry_repo(tmp_path_factory):
    return copy_repo(tmp_path_factory.mktemp("dry") / "repo")


def test_one_subject_target_runs_only_that_subject(dry_repo):
    out = run_snakemake(dry_repo, "-n", "results/figures/sub-02/encoding_rho_factorvae.png", "--configfile", "presets/smoke.yaml").stdout
    jobs = {line.split()[1].rstrip(":") for line in out.splitlines() if line.startswith("rule ")}
    assert {"encoding_localizer", "encoding_stimulus_latents", "encoding_glm", "encoding_accuracy", "encoding_rho_figure"} <= jobs
    assert "results/encoding/sub-02/factorvae/glm.h5" in out
    assert "sub-01" not in out
