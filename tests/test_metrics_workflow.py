"""The metrics stage's final targets after the smoke run of `all`."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from PIL import Image

pytestmark = pytest.mark.workflow

METRIC_COLUMNS = ["z-diff", "z-min", "DCI", "MIG", "SAP"]


@pytest.mark.parametrize("dataset,rows", [("dsprites", ["VAE", "SVAE"]), ("synthfaces", ["VAE"])])
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


def test_svae_traversal_figure_has_one_row_per_factor(smoke_run):
    img = Image.open(smoke_run / "results/figures/svae_traversals_dsprites.png")
    assert img.height > 5 * 80  # five labelled rows of 1.1 inch at 100 dpi


def test_linear_probe_table(smoke_run):
    table = pd.read_csv(smoke_run / "results/tables/linear_probe.csv")
    assert sorted(set(table["variant"])) == ["colour", "rotated"]
    assert table["model"].tolist() == ["VAE", "similarity"] * 2
    assert table["accuracy"].between(0, 1).all()


def test_semantic_directions_table_and_dendrogram(smoke_run):
    table = pd.read_csv(smoke_run / "results/tables/semantic_directions.csv")
    assert sorted(set(table["model"])) == ["factorvae", "vae"]
    n_factors = table["factor"].nunique()
    assert len(table) == 2 * n_factors**2
    assert np.all(np.abs(table["r"]) <= 1)
    assert Image.open(smoke_run / "results/figures/semantic_directions_dendrogram.png").width > 400
