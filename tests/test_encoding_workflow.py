"""Workflow tests of the encoding stage and its validation against the planted truth of the simulated fMRI data.

The ground truth under resources/simfmri/ground_truth/ is read only here, never by the analysis.
Two runs: `smoke_run` (the shared smoke `all`) for the tables and figures, and `validation_run`,
the encoding targets with the oracle and random models on the smoke-scale simulation at a
known, higher SNR (noise SD 0.5% instead of 1%), where recovery of the planted truth is checked.
Both analyse the two spaces of the default `fmri.spaces`: the MNI volume and fsaverage5.
"""

import json

import h5py
import nibabel as nib
import numpy as np
import pandas as pd
import pytest
from PIL import Image

from conftest import assert_same_picture, colour_ranges, copy_repo, run_snakemake, smoke_config
from facebrain import paths

pytestmark = pytest.mark.workflow
from facebrain.encoding import surface_figures
from facebrain.encoding.figures import plot_beta_maps, plot_group_figures, plot_rho_map
from facebrain.encoding.tables import labelled_dimensions
from facebrain.fmri import fsaverage

SUBJECTS = ["sub-01", "sub-02"]
VOLUME, SURFACE = "MNI152NLin2009cAsym", "fsaverage5"
HEMIS = ("L", "R")
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
    return np.asarray(nib.load(repo / f"results/encoding/{subject}/space-{VOLUME}/localizer/face_selective.nii.gz").dataobj) > 0


def surface_map(files):
    """A GIFTI pair (hemi-L, hemi-R) as (n_arrays, 2 * 10242): left then right, as the analysis orders vertices."""
    return np.concatenate([np.stack([d.data for d in nib.load(f).darrays]) for f in files], axis=1)


def surface_truth(repo, subject, desc_suffix):
    root = repo / "resources/simfmri/ground_truth"
    return surface_map([root / f"{subject}_hemi-{h}_space-{SURFACE}_desc-{desc_suffix}" for h in HEMIS])


def surface_result(repo, subject, name, model=None):
    folder = repo / "results/encoding" / subject / f"space-{SURFACE}" / (model or "localizer")
    return surface_map([folder / f"{name}_hemi-{h}.func.gii" for h in HEMIS])


def png_pixels(path, inches, dpi) -> np.ndarray:
    """The RGB pixels (rows, columns, 3; in [0, 1]) of a PNG figure, checked to be ``inches`` (width, height) at ``dpi``."""
    with Image.open(path) as image:
        assert image.format == "PNG"
        assert abs(image.width - inches[0] * dpi) <= 1 and abs(image.height - inches[1] * dpi) <= 1, f"{path}: {image.size} pixels for {inches} in"
        return np.asarray(image.convert("RGB"), float) / 255


def box(pixels, x, y) -> np.ndarray:
    """The pixels of the box ``x`` = (left, right), ``y`` = (bottom, top) in figure fractions."""
    rows, cols = pixels.shape[:2]
    return pixels[round((1 - y[1]) * rows):round((1 - y[0]) * rows), round(x[0] * cols):round(x[1] * cols)]


def drawn(pixels) -> float:
    """Share of pixels that are not white: a hemisphere drawn over its grey sulcal depth fills about a third of its panel."""
    return float((pixels.min(axis=-1) < 0.9).mean())


def coloured(pixels) -> int:
    """Number of saturated pixels: map values on the diverging scale (the background, sulci, outlines and text are grey)."""
    return int((np.ptp(pixels, axis=-1) > 0.3).sum())


def assert_surface_rho_png(path, rho):
    """The rho figure of a subject x model: both views of the right hemisphere drawn, and ``rho`` ((2 x 10242,) both
    hemispheres) in colour on them wherever the right hemisphere has a value."""
    pixels = png_pixels(path, surface_figures.RHO_INCHES, surface_figures.RHO_DPI)
    for view in ((0.0, 0.5), (0.5, 1.0)):  # lateral, ventral: panels (0.5 * i, 0.16, 0.5, 0.68)
        assert drawn(box(pixels, view, (0.3, 0.7))) > 0.1, f"{path}: no hemisphere in {view}"
    shown = np.abs(fsaverage.split_hemispheres(rho)[surface_figures.HEMI]) > surface_figures.THRESHOLD
    assert (coloured(box(pixels, (0.0, 1.0), (0.16, 0.84))) > 0) == shown.any(), f"{path}: {shown.sum()} vertices with a rho"


def assert_surface_betas_png(path, n_subjects, n_dims):
    """The beta-map figure: one row per labelled dimension, two views per subject, each panel a hemisphere, and below each row its colour bar."""
    (width, height), (panel_w, panel_h), bar_h = (surface_figures.betas_figure_inches(n_subjects, n_dims), surface_figures.PANEL_INCHES,
                                                   surface_figures.BAR_INCHES)
    pixels = png_pixels(path, (width, height), surface_figures.BETAS_DPI)
    for row in range(n_dims):
        bottom = (n_dims - 1 - row) * (panel_h + bar_h) + bar_h
        for col in range(2 * n_subjects):
            x = surface_figures.LEFT_INCHES + col * panel_w
            panel = box(pixels, (x / width, (x + panel_w) / width), (bottom / height, (bottom + panel_h) / height))
            assert drawn(panel) > 0.1, f"{path}: row {row}, column {col} is empty"
        assert coloured(box(pixels, (0.0, 1.0), ((bottom - bar_h) / height, bottom / height))) > 100, f"{path}: row {row} has no colour bar"


def test_table1_orders_oracle_above_random(smoke_run):
    table = pd.read_csv(smoke_run / "results/table1.csv")
    assert list(table.columns) == ["subject", "model", "space", "rho", "p", "ci_low", "ci_high", "ceiling", "rho_ceiling", "n_voxels", "n_permutations", "kind"]
    assert set(table.subject) == set(SUBJECTS) | {"group"} and list(dict.fromkeys(table.space)) == [VOLUME, SURFACE]
    for _, rows in table[table.kind == "model"].groupby(["subject", "space"]):
        rows = rows.set_index("model")
        assert rows.loc["oracle", "rho"] > rows.loc["random", "rho"]
        assert rows.loc["oracle", "p"] < 0.001
    markdown = (smoke_run / "results/table1.md").read_text().splitlines()
    assert markdown[2] == f"space-{VOLUME}:" and markdown[4] == "| model | sub-01 | sub-02 | group |" and f"space-{SURFACE}:" in markdown
    assert sum(line.startswith("| oracle |") and line.count("***") == 2 for line in markdown) == 2


def test_decoding_table_and_figures(smoke_run, tmp_path):
    table = pd.read_csv(smoke_run / "results/tables/decoding.csv")
    assert {"subject", "model", "pairwise_accuracy", "p", "gender_accuracy"} <= set(table.columns)
    oracle = table[table.model == "oracle"]
    assert len(oracle) == 4 and set(oracle.space) == {VOLUME, SURFACE}
    assert (oracle.pairwise_accuracy > 0.6).all() and (oracle.p < 0.01).all()
    min_abs_corr = smoke_config(defaults=True)["encoding"]["beta_maps"]["min_abs_corr"]
    for subject in SUBJECTS:
        label = subject.removeprefix("sub-")
        for model in ("oracle", "random"):
            files = {name: smoke_run / paths.path(name, subject=label, space=VOLUME, model=model) for name in ("rho", "encoding_summary")}
            files["rho_figure"] = smoke_run / paths.path("rho_figure", subject=label, model=model)
            fig = plot_rho_map(files["rho"], smoke_run / paths.path("brain_mask", subject=label, space=VOLUME), files["encoding_summary"], f"{subject} {model}",
                               tmp_path / "rho.png")
            assert_same_picture(files["rho_figure"], tmp_path / "rho.png")
            rho_max = float(np.abs(nib.load(files["rho"]).get_fdata()).max())
            assert colour_ranges(fig) == [pytest.approx((-rho_max, rho_max), rel=0.05)]  # the colour bar spans the map's values
        mask = smoke_run / paths.path("face_selective", subject=label, space=VOLUME)
        labels = smoke_run / paths.path("encoding_labels", model="oracle")  # the labels the rule draws (automatic or the raters')
        betas = smoke_run / paths.path("betas", subject=label, space=VOLUME, model="oracle")
        zmaps = smoke_run / paths.path("zmaps", subject=label, space=VOLUME, model="oracle")
        fig = plot_beta_maps(betas, zmaps, mask, labels, f"{subject} oracle", tmp_path / "betas.png", min_abs_corr=min_abs_corr)
        assert_same_picture(smoke_run / paths.path("betas_figure", subject=label, model="oracle"), tmp_path / "betas.png")
        assert len(colour_ranges(fig)) == 2 * len(labelled_dimensions(labels, min_abs_corr)) > 0  # one row per labelled dimension: beta and z
        for space in (VOLUME, SURFACE):
            with h5py.File(smoke_run / paths.path("encoding", subject=label, space=space, model="oracle")) as f:
                assert len(f["null"]) == f.attrs["n_permutations"]
    rho_group, _, ceiling = plot_group_figures(smoke_run / "results/table1.csv", smoke_run / "results/tables/decoding.csv", tmp_path / "g1.png",
                                               tmp_path / "g2.png", tmp_path / "g3.png")
    assert_same_picture(smoke_run / "results/figures/encoding_rho_group.png", tmp_path / "g1.png")
    assert_same_picture(smoke_run / paths.path("ceiling_figure"), tmp_path / "g3.png")
    assert sorted(ax.get_title() for ax in ceiling.axes) == sorted(f"{s} space-{sp}" for sp in (VOLUME, SURFACE) for s in SUBJECTS)  # a panel per subject and space
    assert [dots.get_label() for dots in rho_group.axes[0].collections] == SUBJECTS  # one set of dots per subject


def test_gender_classifier_never_trains_on_leaked_test_images(smoke_run):
    """The simulator plants training stimuli that show a test face; the decoding's gender classifier leaves them out."""
    from facebrain.fmri.audit import leaked_stimuli

    for subject in SUBJECTS:
        leaked = leaked_stimuli(smoke_run / f"results/fmri/{subject}/stimulus_audit.tsv")
        assert leaked
        with h5py.File(smoke_run / f"results/encoding/{subject}/oracle/stimulus_latents.h5") as f:
            names = set(f["ids"].asstr()[()])
        with h5py.File(smoke_run / f"results/encoding/{subject}/space-{VOLUME}/oracle/glm.h5") as f:
            tests = set(f["test_faces"].asstr()[()])
        summary = json.loads((smoke_run / f"results/encoding/{subject}/space-{VOLUME}/oracle/decoding.json").read_text())
        assert set(leaked) <= names - tests
        assert summary["n_gender_train"] == len(names - tests - set(leaked))


def test_localizer_recovers_planted_face_regions(validation_run):
    for subject in SUBJECTS:
        found, planted = selective(validation_run, subject), truth(validation_run, subject, "faceregions_mask") > 0
        dice = 2 * (found & planted).sum() / (found.sum() + planted.sum())
        assert dice > 0.7, f"{subject}: localizer Dice {dice:.2f}"
        summary = json.loads((validation_run / f"results/encoding/{subject}/space-{VOLUME}/localizer/localizer.json").read_text())
        assert summary["n_voxels"] == found.sum()


def test_oracle_weights_match_planted_tuning(validation_run):
    factors = json.loads((validation_run / "resources/simfmri/ground_truth/factors.json").read_text())
    labels = pd.read_csv(validation_run / "results/latents/oracle/synthfaces_dimension_labels.tsv", sep="\t")
    dims = dict(zip(labels.factor, labels.dim))
    for subject in SUBJECTS:
        mask = selective(validation_run, subject)
        betas = np.asarray(nib.load(validation_run / f"results/encoding/{subject}/space-{VOLUME}/oracle/betas.nii.gz").dataobj)
        planted = truth(validation_run, subject, "tuning_weights")
        recovered = np.concatenate([betas[..., dims[f]][mask] for f in factors])
        true = np.concatenate([planted[..., i][mask] for i in range(len(factors))])
        r = np.corrcoef(recovered, true)[0, 1]
        assert r > 0.8, f"{subject}: r(W_oracle, planted tuning) = {r:.2f}"


def test_beta_maps_overlap_as_planted(validation_run):
    """Planted: yaw and smile maps disjoint (not above the spatial null), gender and skin tone partly overlapping (above it, p < 0.05)."""
    overlap = pd.read_csv(validation_run / "results/tables/beta_overlap.csv")
    assert set(overlap.space) == {VOLUME, SURFACE}
    for (subject, space), rows in overlap[overlap.model == "oracle"].groupby(["subject", "space"]):
        pair = {frozenset((a, b)): d for a, b, d in zip(rows.factor_a, rows.factor_b, rows.dice)}
        distinct, shared = pair[frozenset(("yaw", "smile"))], pair[frozenset(("gender", "skin_tone"))]
        assert distinct < 0.1 and shared > 0.25, f"{subject} {space}: Dice yaw/smile {distinct:.2f}, gender/skin_tone {shared:.2f}"
        p = {frozenset((a, b)): v for a, b, v in zip(rows.factor_a, rows.factor_b, rows.p)}
        assert p[frozenset(("gender", "skin_tone"))] < 0.05 and p[frozenset(("yaw", "smile"))] > 0.05, f"{subject} {space}: {p}"
        assert set(rows.null) == {"shift" if space == VOLUME else "spin"}


def test_table1_with_planted_truth(validation_run):
    """Planted: the oracle beats chance and beats the random model (swap-null p < 0.001, CI above 0) in every subject and space."""
    table = pd.read_csv(validation_run / "results/table1.csv").set_index(["subject", "space", "model"])
    for subject in SUBJECTS:
        for space in (VOLUME, SURFACE):
            assert table.loc[(subject, space, "oracle"), "rho"] > table.loc[(subject, space, "random"), "rho"]
            assert table.loc[(subject, space, "oracle"), "p"] < 0.001
            diff = table.loc[(subject, space, "oracle - random")]
            # the volume: the p < 0.001; fsaverage5 has about 60% of the volume's face-selective elements and
            # measured p = 0.0005 and 0.001 (1 of 1999 swaps as extreme in sub-02)
            assert diff.p < (0.001 if space == VOLUME else 0.002) and 0 < diff.ci_low < diff.rho < diff.ci_high
            assert diff.rho == pytest.approx(table.loc[(subject, space, "oracle"), "rho"] - table.loc[(subject, space, "random"), "rho"], abs=1e-6)
    for space in (VOLUME, SURFACE):
        assert table.loc[("group", space, "oracle - random"), "p"] == pytest.approx(0.5)  # 2 subjects: the smallest sign-flip p


@pytest.fixture(scope="module")
def dry_repo(tmp_path_factory):
    return copy_repo(tmp_path_factory.mktemp("dry") / "repo")


def test_one_subject_target_runs_only_that_subject(dry_repo):
    out = run_snakemake(dry_repo, "-n", "results/figures/sub-02/encoding_rho_factorvae.png", "--configfile", "presets/smoke.yaml").stdout
    jobs = {line.split()[1].rstrip(":") for line in out.splitlines() if line.startswith("rule ")}
    # factorvae is not among the smoke preset's encoding.models: its GLM is a job of its own
    assert {"encoding_localizer", "encoding_stimulus_latents", "encoding_glm_model", "encoding_accuracy", "encoding_volume_figures"} <= jobs
    assert f"results/encoding/sub-02/space-{VOLUME}/factorvae/glm.h5" in out
    assert "sub-01" not in out and SURFACE not in out  # the volume's figure needs no surface job
    listed = run_snakemake(dry_repo, "-n", "results/figures/sub-02/encoding_rho_oracle.png", "--configfile", "presets/smoke.yaml").stdout
    jobs = {line.split()[1].rstrip(":") for line in listed.splitlines() if line.startswith("rule ")}
    assert "encoding_glm" in jobs and "encoding_glm_model" not in jobs  # a listed model's GLM is the subject's one pass
    assert f"results/encoding/sub-02/space-{VOLUME}/random/glm.h5" in listed  # ... which fits every listed model
    assert "sub-01" not in listed


def test_surface_localizer_recovers_planted_patches(validation_run):
    for subject in SUBJECTS:
        found = surface_result(validation_run, subject, "face_selective")[0] > 0
        planted = surface_truth(validation_run, subject, "faceregions_mask.shape.gii")[0] > 0
        dice = 2 * (found & planted).sum() / (found.sum() + planted.sum())
        assert dice > 0.8, f"{subject}: surface localizer Dice {dice:.2f}"
        summary = json.loads((validation_run / f"results/encoding/{subject}/space-{SURFACE}/localizer/localizer.json").read_text())
        assert summary["space"] == SURFACE and summary["n_voxels"] == found.sum()


def test_surface_oracle_weights_match_planted_tuning(validation_run):
    factors = json.loads((validation_run / "resources/simfmri/ground_truth/factors.json").read_text())
    labels = pd.read_csv(validation_run / "results/latents/oracle/synthfaces_dimension_labels.tsv", sep="\t")
    dims = dict(zip(labels.factor, labels.dim))
    for subject in SUBJECTS:
        found = surface_result(validation_run, subject, "face_selective")[0] > 0
        betas = surface_result(validation_run, subject, "betas", "oracle")
        planted = surface_truth(validation_run, subject, "tuning_weights.func.gii")
        recovered = np.concatenate([betas[dims[f]][found] for f in factors])
        true = np.concatenate([planted[i][found] for i in range(len(factors))])
        r = np.corrcoef(recovered, true)[0, 1]
        assert r > 0.8, f"{subject}: r(W_oracle, planted surface tuning) = {r:.2f}"


def test_surface_figures_and_pages_show_the_encoding_maps(smoke_run):
    import re

    figures = smoke_run / "results/figures"
    min_abs_corr = smoke_config(defaults=True)["encoding"]["beta_maps"]["min_abs_corr"]
    n_labelled = {model: len(labelled_dimensions(smoke_run / paths.path("encoding_labels", model=model), min_abs_corr)) for model in ("oracle", "random")}
    assert n_labelled["oracle"] > 0
    for subject in SUBJECTS:
        selective_vertices = surface_result(smoke_run, subject, "face_selective")[0] > 0
        for model in ("oracle", "random"):
            rho = surface_result(smoke_run, subject, "rho", model)[0]
            summary = json.loads((smoke_run / f"results/encoding/{subject}/space-{SURFACE}/{model}/encoding.json").read_text())
            assert not rho[~selective_vertices].any()  # rho only where the score is taken
            assert rho[selective_vertices].mean() == pytest.approx(summary["rho"], abs=1e-5)
            assert summary["n_voxels"] == selective_vertices.sum()
            assert_surface_rho_png(figures / subject / f"space-{SURFACE}/encoding_rho_{model}.png", rho)
            assert_surface_betas_png(figures / subject / f"space-{SURFACE}/betas_{model}.png", 1, n_labelled[model])
            page = (figures / subject / f"space-{SURFACE}/encoding_rho_{model}.html").read_text()
            assert f'"title": "{subject}, {model}: Spearman rho"' in page
            cmax = float(re.search(r'"cmax": (-?[0-9.]+)', page).group(1))
            assert cmax == pytest.approx(max(np.abs(rho).max(), 1e-3), rel=1e-5)  # the page's scale is the map's
    for model in ("oracle", "random"):
        assert_surface_betas_png(figures / f"space-{SURFACE}/betas_{model}.png", len(SUBJECTS), n_labelled[model])


def test_one_subject_surface_figure_runs_only_that_subject_on_the_surface(dry_repo):
    out = run_snakemake(dry_repo, "-n", f"results/figures/sub-02/space-{SURFACE}/encoding_rho_factorvae.png", "--configfile", "presets/smoke.yaml").stdout
    jobs = {line.split()[1].rstrip(":") for line in out.splitlines() if line.startswith("rule ")}
    assert {"encoding_localizer_surface", "encoding_glm_model_surface", "encoding_accuracy_surface", "encoding_surface_figures"} <= jobs
    assert not {"encoding_localizer", "encoding_glm", "encoding_glm_model", "encoding_accuracy"} & jobs  # no volume job
    assert "results/encoding/sub-02/space-fsaverage5/factorvae/rho_hemi-R.func.gii" in out
    assert "sub-01" not in out


def test_oracle_below_the_noise_ceiling_and_closer_at_lower_noise(smoke_run, validation_run):
    """Planted: the oracle's rho stays below its fit's noise ceiling, and reaches a larger share of it at noise SD 0.5 than at 1%."""
    fraction = {}
    for name, repo in (("noise 1.0", smoke_run), ("noise 0.5", validation_run)):
        table = pd.read_csv(repo / "results/table1.csv").set_index(["subject", "space", "model"])
        for subject in SUBJECTS:
            oracle = table.loc[(subject, VOLUME, "oracle")]
            assert 0 < oracle.rho < oracle.ceiling, f"{name} {subject}: rho {oracle.rho:.3f}, ceiling {oracle.ceiling:.3f}"
            fraction[name, subject] = oracle.rho_ceiling
    assert all(fraction["noise 0.5", s] > fraction["noise 1.0", s] for s in SUBJECTS), fraction
