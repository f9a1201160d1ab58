"""Models stage through the Snakefile: the smoke run's outputs, and the paper preset's grid and SynthFaces pairs."""

from __future__ import annotations

import re

import h5py
import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import REPO, assert_same_picture, dry_run_jobs, image_grid, run_snakemake
from facebrain import paths
from facebrain.models.kinds import kind
from facebrain.models.traversals import plot_traversals

pytestmark = pytest.mark.workflow

SMOKE = yaml.safe_load((REPO / "presets/smoke.yaml").read_text())["train"]


def test_every_trained_model_has_latents_aligned_with_its_dataset(smoke_run):
    for dataset in SMOKE["datasets"]:
        with h5py.File(smoke_run / f"results/data/{dataset}.h5", "r") as f:
            data_ids = f["ids"][:]
        for model in SMOKE["models"]:
            log = pd.read_csv(smoke_run / f"results/models/{model}/{dataset}/train_log.tsv", sep="\t")
            assert log["step"].iloc[-1] == (0 if model in ("pca", "oracle", "random") else SMOKE["steps"])
            with h5py.File(smoke_run / f"results/latents/{model}/{dataset}.h5", "r") as f:
                assert f["mu"].shape[0] == len(data_ids) and f["mu"].dtype == np.float32
                assert np.array_equal(f["ids"][:], data_ids)
                assert f.attrs["rule"] == "encode_latents"


def test_oracle_dimensions_are_labelled_with_their_own_factors(smoke_run):
    for dataset in SMOKE["datasets"]:
        with h5py.File(smoke_run / f"results/data/{dataset}.h5", "r") as f:
            names = [n.decode() for n in f["factor_names"][:]]
        labels = pd.read_csv(smoke_run / f"results/latents/oracle/{dataset}_dimension_labels.tsv", sep="\t")
        assert list(labels.columns) == ["dim", "factor", "abs_corr"]
        assert labels["factor"].tolist() == names
        np.testing.assert_allclose(labels["abs_corr"], 1.0, atol=1e-4)


def test_correlation_table_ranks_the_oracle_above_the_random_projection(smoke_run):
    table = pd.read_csv(smoke_run / "results/tables/latent_factor_correlation.csv")
    for dataset in SMOKE["datasets"]:
        rows = table[table["dataset"] == dataset].set_index("model")
        assert rows.loc["oracle", "mcc"] == pytest.approx(1.0, abs=1e-4)
        assert rows.loc["random", "mcc"] < rows.loc["oracle", "mcc"]


def test_reconstruction_table_lists_the_decodable_models(smoke_run):
    table = pd.read_csv(smoke_run / "results/tables/reconstruction_loss.csv")
    decodable = {m for m in SMOKE["models"] if m not in ("oracle", "random")}
    assert set(table["model"]) == decodable
    assert set(table["dataset"]) == set(SMOKE["datasets"])
    assert (table["reconstruction"] > 0).all() and np.isfinite(table["reconstruction"]).all()
    hparams = pd.read_csv(smoke_run / "results/tables/hparam_search.csv")
    assert {"model", "dataset", "kind", "reconstruction", "kl", "tc"} <= set(hparams.columns)


def test_traversal_figures_show_the_configured_dimensions_and_values(smoke_run, tmp_path):
    for dataset in SMOKE["datasets"]:
        for model in SMOKE["traversal_models"]:
            files = {name: smoke_run / paths.path(name, model=model, dataset=dataset) for name in ("model", "latents", "dimension_labels")}
            redrawn = tmp_path / f"{model}_{dataset}.png"
            fig = plot_traversals(files["model"], smoke_run / paths.path("prepared", dataset=dataset), files["latents"], files["dimension_labels"], redrawn,
                                  model_name=model, dataset=dataset, dims=SMOKE["traversal_dims"], steps=SMOKE["traversal_steps"])
            assert_same_picture(smoke_run / paths.path("traversal_figure", model=model, dataset=dataset), redrawn)
            with h5py.File(files["latents"], "r") as f:
                latent_dim = f["mu"].shape[1]
            grid = image_grid(fig)
            assert len(grid) == min(SMOKE["traversal_dims"], latent_dim)
            assert all(len(row) == SMOKE["traversal_steps"] + 1 for row in grid)


def test_paper_grid_expands_into_named_seed_replicates():
    proc = run_snakemake(REPO, "-n", "results/tables/hparam_search.csv", "--configfile", "presets/paper.yaml", "--quiet", "rules")
    stats = dict(re.findall(r"^(\w+)\s+(\d+)$", proc.stdout, re.M))
    assert int(stats["train_model"]) == 2 * 4 * 2  # latent {24, 32} x gamma {3, 6.4, 12, 24} x 2 seeds
    assert stats["hparam_table"] == "1"
    proc = run_snakemake(REPO, "-n", "results/models/fvsearch_gamma6.4_latentdim32-seed1/celeba/model.pt", "--configfile", "presets/paper.yaml")
    assert "model=fvsearch_gamma6.4_latentdim32-seed1, dataset=celeba" in proc.stdout


def test_paper_pair_kinds_and_metrics_read_synthfaces_from_the_grid_rendered_once():
    jobs = dry_run_jobs(REPO, "all", "--configfile", "presets/paper.yaml")
    grid = paths.path("face_grid")
    assert [job["output"] for job in jobs if job["rule"] == "synthfaces_grid"] == [[grid]]
    paper = yaml.safe_load((REPO / "presets/paper.yaml").read_text())
    models = {**yaml.safe_load((REPO / "config.yaml").read_text())["models"], **paper.get("models", {})}
    specs = {m: models[m] for m in paper["metrics"]["tables"]["synthfaces"]}
    pair_models = {m for m, spec in specs.items() if kind(spec["kind"]).batch_kind_for(spec) == "pairs"}
    trained = {}
    for job in jobs:
        if job["rule"] == "train_model" and "/synthfaces/" in job["output"][0]:
            trained[job["output"][0].split("/")[2]] = job["input"]
    pair_jobs = {name: inputs for name, inputs in trained.items() if name.split("-seed")[0] in pair_models}
    assert len(pair_jobs) == len(pair_models) * len(paper["metrics"]["seeds"]) and len(pair_models) == 3
    assert all(grid in inputs for inputs in pair_jobs.values()), pair_jobs
    assert not [name for name, inputs in trained.items() if name not in pair_jobs and grid in inputs]  # other kinds do not wait for it
    metric_jobs = [job for job in jobs if job["rule"] == "model_metrics" and "/synthfaces" in job["output"][0]]
    assert metric_jobs and all(grid in job["input"] for job in metric_jobs)
