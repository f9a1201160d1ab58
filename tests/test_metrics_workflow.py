"""The metrics stage's final targets after the smoke run of `all`."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from conftest import assert_same_picture, image_grid, smoke_config
from facebrain import paths
from facebrain.datasets.prepared import PreparedData
from facebrain.models.traversals import plot_forced_traversals
from facebrain.probes.semantic import semantic_directions

pytestmark = pytest.mark.workflow

SMOKE = smoke_config(defaults=True)
METRIC_COLUMNS = ["z-diff", "z-min", "DCI", "MIG", "SAP"]


@pytest.mark.parametrize("dataset,rows", [("dsprites", ["VAE", "SVAE (divided pair loss on posterior means; K 10)"]), ("synthfaces", ["VAE"])])
def test_disentanglement_tables_have_the_configured_rows(smoke_run, dataset, rows):
    table = pd.read_csv(smoke_run / f"results/tables/disentanglement_{dataset}.csv")
    assert table["model"].tolist() == rows
    assert (table["seeds"] == 1).all()
    for column in METRIC_COLUMNS:
        assert table[f"{column} mean"].between(0, 1).all(), column


def test_per_model_records_are_flat_and_bounded(smoke_run):
    record = json.loads((smoke_run / "results/metrics/svae/dsprites.json").read_text())
    assert set(record) >= {"z_diff", "z_min", "dci", "mig", "sap", "dci_completeness", "dci_informativeness"}
    assert all(isinstance(v, (int, float)) for v in record.values())
    details = json.loads((smoke_run / "results/metrics/svae/dsprites_details.json").read_text())
    assert details["factor_names"] == ["shape", "scale", "orientation", "posX", "posY"]
    assert details["factors_num_values"] == [3, 6, 10, 8, 8]  # the smoke preset's reduced grid, read from the npz


def test_svae_forced_dimensions_table_lists_every_dsprites_factor(smoke_run):
    table = pd.read_csv(smoke_run / "results/tables/svae_forced_dims_dsprites.csv")
    assert table["factor"].tolist() == ["shape", "scale", "orientation", "posX", "posY"]
    assert table["forced_dim"].tolist() == [0, 1, 2, 3, 4]
    assert table["forced_mig"].between(-1, 1).all()


def test_svae_traversal_figure_has_one_row_per_factor(smoke_run, tmp_path):
    model = "svae"  # the smoke preset's one seed keeps the plain name
    with PreparedData(smoke_run / paths.path("prepared", dataset="dsprites")) as prepared:
        factor_names = list(prepared.factor_names)
    redrawn = tmp_path / "svae_traversals.png"
    fig = plot_forced_traversals(smoke_run / paths.path("model", model=model, dataset="dsprites"), smoke_run / paths.path("prepared", dataset="dsprites"),
                                 smoke_run / paths.path("metric_details", model=model, dataset="dsprites"), redrawn, model_name=model, dataset="dsprites",
                                 steps=SMOKE["metrics"]["traversal_steps"])
    assert_same_picture(smoke_run / paths.path("svae_traversals_figure"), redrawn)
    grid = image_grid(fig)
    assert [row[0].get_ylabel().split("\n")[0] for row in grid] == [f"z{d}: {name}" for d, name in enumerate(factor_names)]
    assert all(len(row) == SMOKE["metrics"]["traversal_steps"] + 1 for row in grid)


def test_linear_probe_table(smoke_run):
    table = pd.read_csv(smoke_run / "results/tables/linear_probe.csv")
    assert sorted(set(table["variant"])) == ["colour", "rotated"]
    assert table["model"].tolist() == ["VAE", "similarity"] * 2
    assert table["accuracy"].between(0, 1).all()


def test_semantic_directions_table_and_dendrogram(smoke_run, tmp_path):
    table = pd.read_csv(smoke_run / "results/tables/semantic_directions.csv")
    assert sorted(set(table["model"])) == ["factorvae", "vae"]
    n_factors = table["factor"].nunique()
    assert len(table) == 2 * n_factors**2
    assert np.all(np.abs(table["r"]) <= 1)
    semantic = SMOKE["metrics"]["semantic"]
    dataset = SMOKE["face_dataset"]
    redrawn = tmp_path / "dendrogram.png"
    fig = semantic_directions({m: smoke_run / paths.path("latents", model=m, dataset=dataset) for m in semantic["models"]},
                              smoke_run / paths.path("prepared", dataset=dataset), tmp_path / "table.csv", redrawn, seed=SMOKE["seed"],
                              num_pairs=semantic["num_pairs"])
    assert_same_picture(smoke_run / paths.path("semantic_dendrogram"), redrawn)
    assert [ax.get_title() for ax in fig.axes] == [f"{m}: factor directions" for m in semantic["models"]]
    for ax, model in zip(fig.axes, semantic["models"]):
        leaves = {label.get_text() for label in ax.get_yticklabels()}
        assert leaves == set(table.loc[table["model"] == model, "factor"])  # one leaf per factor direction


def test_zheng_tables_compare_the_two_stylegans_over_the_measured_semantics(smoke_run):
    zheng = SMOKE["metrics"]["zheng"]
    dataset = SMOKE["face_dataset"]
    measured = pd.read_csv(smoke_run / paths.path("measurement_table", dataset=dataset))
    with PreparedData(smoke_run / paths.path("prepared", dataset=dataset)) as prepared:
        assert measured["factor"].tolist() == list(prepared.factor_names)  # `factors: []` measures them all
    semantics = measured["factor"].tolist()
    table2 = pd.read_csv(smoke_run / paths.path("zheng_table2"))
    assert list(table2.columns) == ["model", "decorrelation", "semantic"] + [f"v_{s}" for s in semantics]
    assert table2["model"].tolist() == [m for m in zheng["models"] for _ in semantics]
    assert table2["semantic"].tolist() == semantics * len(zheng["models"])
    assert np.all(np.abs(table2.iloc[:, 3:].to_numpy()) <= 1)
    table1 = pd.read_csv(smoke_run / paths.path("zheng_table1"))
    assert table1["model"].tolist() == zheng["models"]
    assert table1["decorrelation"].tolist() == [float(SMOKE["models"][m].get("decorrelation", 0.0)) for m in zheng["models"]]
    assert (table1[["frechet_distance_measurement", "ppl_pixel"]] >= 0).all().all()
