"""The models stage's tables: test reconstruction loss and the hyper-parameter search."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from facebrain.errors import DataError
from facebrain.io import read_json, write_table

LOSS_COLUMNS = ("reconstruction", "kl", "tc", "tc_gaussian")


def _evaluation_rows(evaluations: Sequence[str | Path], datasets: Sequence[str]) -> list[dict[str, Any]]:
    """One row per ``evaluation.json`` of a model trained on the matching ``datasets`` entry."""
    if len(evaluations) != len(datasets):
        raise ValueError(f"{len(evaluations)} evaluations for {len(datasets)} datasets")
    rows = []
    for path, dataset in zip(evaluations, datasets):
        record = read_json(path)
        missing = [k for k in ("model", "kind", "latent_dim", "reconstruction", "n_images") if k not in record]
        if missing:
            raise DataError(path, f"evaluation lacks {missing} (only decodable models have a reconstruction loss)")
        rows.append({"model": record["model"], "dataset": dataset, "kind": record["kind"], "latent_dim": record["latent_dim"],
                     **{k: record.get(k) for k in LOSS_COLUMNS}, "n_images": record["n_images"]})
    return rows


def reconstruction_table(evaluations: Sequence[str | Path], datasets: Sequence[str], out: str | Path) -> pd.DataFrame:
    """Write ``reconstruction_loss.csv``: the test-set losses of every trained model.

    The losses are computed by :func:`facebrain.models.training.evaluate_model` when the model is
    trained (its ``evaluation.json``); this table lists them.

    Parameters
    ----------
    evaluations : the models' ``evaluation.json`` files.
    datasets : the dataset each model was trained and evaluated on, one per evaluation.
    out : CSV with ``model, dataset, kind, latent_dim, reconstruction, kl, tc, tc_gaussian, n_images``:
        Bernoulli negative log-likelihood of the test images decoded from their posterior
        means (nats per image, summed over pixels and channels), KL from the prior, the
        minibatch total-correlation estimate (nats per image; it grows as the posteriors
        sharpen, even for independent codes) and the Gaussian total correlation of the
        posterior means (nats; a dependence measure, ~0 for independent codes); empty for
        kinds without them (PCA).
    """
    table = pd.DataFrame(_evaluation_rows(evaluations, datasets))
    write_table(out, table)
    return table


def hparam_table(evaluations: Sequence[str | Path], specs: Sequence[Mapping[str, Any]], metrics: Sequence[str | Path], out: str | Path) -> pd.DataFrame:
    """Write ``hparam_search.csv``: one row per grid point and seed.

    Parameters
    ----------
    evaluations : ``evaluation.json`` per row.
    specs : per row, ``model``, ``dataset`` and the model's spec (kind, hyper-parameters, seed).
    metrics : optional, per row, a JSON ``{metric: value}`` of the metrics stage (disentanglement
        scores); joined as extra columns. Empty when the metrics stage provides none.
    out : CSV with the spec's hyper-parameters, ``reconstruction``, ``kl``, ``tc`` and the metrics.
    """
    losses = pd.DataFrame(_evaluation_rows(evaluations, [s["dataset"] for s in specs])).drop(columns=["kind", "latent_dim"])
    params = pd.DataFrame([dict(s) for s in specs])
    table = params.merge(losses, on=["model", "dataset"], how="left", validate="one_to_one")
    if metrics:
        if len(metrics) != len(specs):
            raise DataError(out, f"{len(metrics)} metrics files for {len(specs)} rows")
        extra = pd.DataFrame([read_json(p) for p in metrics]).drop(columns=["model", "dataset"], errors="ignore")
        table = pd.concat([table.reset_index(drop=True), extra.reset_index(drop=True)], axis=1)
    write_table(out, table)
    return table
