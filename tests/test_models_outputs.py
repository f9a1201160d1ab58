"""Models stage: dimension labels, max-correlation scores, traversal figures, tables."""

from __future__ import annotations

import json

import h5py
import numpy as np
import pandas as pd
import pytest

from facebrain.datasets.prepared import PreparedData
from facebrain.errors import DataError
from facebrain.io import write_h5
from facebrain.models.dimension_labels import abs_correlation, label_dimensions, latent_factor_correlation, matched_correlation
from facebrain.models.latents import write_latents
from facebrain.models.tables import hparam_table, reconstruction_table
from facebrain.models.training import train_model
from facebrain.models.traversals import plot_traversals, traversal_codes
from conftest import SQUARE_FACTORS, image_grid, make_square_dataset, shown_image


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("trained")
    data = root / "dsprites.h5"
    make_square_dataset(data)
    settings = {"steps": 3, "batch_size": 8, "lr": 1e-3, "checkpoint_every": 10, "log_every": 3, "eval_images": 20}
    train_model(data, root / "model.pt", root / "log.tsv", root / "evaluation.json", "vae", {"kind": "vae", "latent_dim": 5}, settings, 0, "cpu")
    write_latents(root / "model.pt", data, root / "latents.h5", device="cpu")
    return root, data


def fake_latents(path, data_path, mu):
    from facebrain.datasets.prepared import PreparedData

    with PreparedData(data_path) as d:
        ids = d.ids
    write_h5(path, {"mu": mu.astype(np.float32), "logvar": np.zeros_like(mu, dtype=np.float32), "ids": np.asarray(ids, dtype=object)})


def test_matched_correlation_finds_permuted_factors():
    rng = np.random.default_rng(0)
    factors = rng.normal(size=(500, 3))
    latents = np.c_[rng.normal(size=500), factors[:, 2], -factors[:, 0], factors[:, 1] + 0.01 * rng.normal(size=500)]
    corr = abs_correlation(latents, factors)
    assert corr.shape == (4, 3)
    assert matched_correlation(corr) == pytest.approx(1.0, abs=1e-3)
    assert matched_correlation(abs_correlation(rng.normal(size=(500, 4)), factors)) < 0.2
    assert (abs_correlation(np.ones((10, 2)), rng.normal(size=(10, 3))) == 0).all()


def test_dimension_labels_name_the_factor_each_dimension_tracks(trained, tmp_path):
    _, data = trained
    from facebrain.datasets.prepared import PreparedData

    with PreparedData(data) as d:
        factors = d.factors
    mu = np.c_[factors[:, 1], np.zeros(len(factors)), -factors[:, 0]]
    fake_latents(tmp_path / "lat.h5", data, mu)
    table = label_dimensions(tmp_path / "lat.h5", data, tmp_path / "labels.tsv")
    assert table["factor"].tolist() == [SQUARE_FACTORS[1], "", SQUARE_FACTORS[0]]
    np.testing.assert_allclose(table["abs_corr"], [1, 0, 1], atol=1e-5)
    assert pd.read_csv(tmp_path / "labels.tsv", sep="\t").columns.tolist() == ["dim", "factor", "abs_corr"]
    scores = latent_factor_correlation([("fake", "dsprites")], [tmp_path / "lat.h5"], [data], tmp_path / "corr.csv")
    assert scores.loc[0, f"max_corr_{SQUARE_FACTORS[2]}"] < 0.5 < scores.loc[0, f"max_corr_{SQUARE_FACTORS[1]}"]


def test_latents_of_another_dataset_are_rejected(trained, tmp_path):
    _, data = trained
    write_h5(tmp_path / "lat.h5", {"mu": np.zeros((5, 2), np.float32), "ids": np.asarray(list("abcde"), dtype=object)})
    with pytest.raises(DataError, match="ids do not match"):
        label_dimensions(tmp_path / "lat.h5", data, tmp_path / "labels.tsv")
    assert not (tmp_path / "labels.tsv").exists()


def test_traversal_codes_vary_one_dimension_per_row():
    base = np.array([0.5, -1.0, 2.0])
    codes = traversal_codes(base, np.array([2, 0]), np.array([-3.0, 0.0, 3.0]), np.zeros(3), np.array([1.0, 1.0, 2.0]))
    assert codes.shape == (6, 3)
    np.testing.assert_allclose(codes[:3, 2], [-6, 0, 6])
    np.testing.assert_allclose(codes[3:, 0], [-3, 0, 3])
    np.testing.assert_allclose(codes[:3, :2], np.tile(base[:2], (3, 1)))


def test_traversal_figure_has_a_row_per_top_kl_dimension_and_a_column_per_value(trained, tmp_path):
    root, data = trained
    label_dimensions(root / "latents.h5", data, tmp_path / "labels.tsv")
    fig = plot_traversals(root / "model.pt", data, root / "latents.h5", tmp_path / "labels.tsv", tmp_path / "fig.png", model_name="vae", dataset="synthfaces", dims=3, steps=5)
    with h5py.File(root / "latents.h5", "r") as f:
        mu, logvar = f["mu"][:], f["logvar"][:]
    with PreparedData(data) as prepared:
        held = prepared.indices(2)
        first = prepared.images(held[:1])[0]
    kl = (0.5 * (mu[held] ** 2 + np.exp(logvar[held]) - logvar[held] - 1)).mean(axis=0)
    grid = image_grid(fig)
    assert [len(row) for row in grid] == [6, 6, 6]  # 3 dimensions x (input + 5 values)
    assert [row[0].get_ylabel().split()[0] for row in grid] == [f"z{d}" for d in np.argsort(-kl)[:3]]
    assert [ax.get_title() for ax in grid[0]] == ["input", "-3.0", "-1.5", "+0.0", "+1.5", "+3.0"]
    for row in grid:
        np.testing.assert_allclose(shown_image(row[0]), first[..., 0] / 255.0)
        assert not np.allclose(shown_image(row[1]), shown_image(row[-1]))  # the traversed dimension changes the decoding


def test_tables_join_evaluations_specs_and_metrics(tmp_path):
    evaluations = []
    for model, rec in (("a-seed0", 100.0), ("a-seed1", 90.0)):
        path = tmp_path / model / "celeba" / "evaluation.json"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps({"model": model, "kind": "factorvae", "latent_dim": 24, "reconstruction": rec, "kl": 5.0, "tc": 1.0, "n_images": 10}))
        evaluations.append(path)
    table = reconstruction_table(evaluations, ["celeba", "celeba"], tmp_path / "recon.csv")
    assert table["reconstruction"].tolist() == [100.0, 90.0] and set(table["dataset"]) == {"celeba"}
    metrics = []
    for model, score in (("a-seed0", 0.7), ("a-seed1", 0.8)):
        metrics.append(tmp_path / f"{model}.json")
        metrics[-1].write_text(json.dumps({"model": model, "factorvae_score": score}))
    specs = [{"model": "a-seed0", "dataset": "celeba", "kind": "factorvae", "gamma": 6.4, "seed": 0},
             {"model": "a-seed1", "dataset": "celeba", "kind": "factorvae", "gamma": 6.4, "seed": 1}]
    hp = hparam_table(evaluations, specs, metrics, tmp_path / "hp.csv")
    assert hp["seed"].tolist() == [0, 1] and hp["factorvae_score"].tolist() == [0.7, 0.8]
    assert hp["reconstruction"].tolist() == [100.0, 90.0]
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(DataError, match="broken.json"):
        reconstruction_table([tmp_path / "broken.json"], ["celeba"], tmp_path / "recon2.csv")
    assert not (tmp_path / "recon2.csv").exists()
