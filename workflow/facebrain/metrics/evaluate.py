"""Running the five metrics on a trained model, and the tables built from them.

``evaluate_model`` is the `model_metrics` rule's one call: it writes
``results/metrics/{model}/{dataset}.json`` (one flat {metric: value} record,
joined into the models stage's hparam_search.csv) and ``..._details.json``
(per-factor MIG and SAP, the MIG mutual-information matrix, the DCI importance
matrix). ``disentanglement_table`` collects them over seeds into Romeo's
Table 1 layout; ``forced_dimension_table`` reports how well SVAE's forced
dimensions hold their factors.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from facebrain.errors import DataError
from facebrain.io import read_json, write_json, write_table
from facebrain.metrics.beta_vae import compute_beta_vae
from facebrain.metrics.dci import compute_dci
from facebrain.metrics.factor_vae import compute_factor_vae
from facebrain.metrics.ground_truth import load_ground_truth
from facebrain.metrics.mig import compute_mig
from facebrain.metrics.sap import compute_sap, compute_sap_quadratic
from facebrain.models.latents import encode_images

logger = logging.getLogger(__name__)

TABLE_COLUMNS = {"z-diff": "z_diff", "z-min": "z_min", "DCI": "dci", "MIG": "mig", "SAP": "sap", "SAP-quadratic": "sap_quadratic"}
"""Column of the disentanglement tables -> key of the per-model metrics record."""


def representation_function(model_path: str | Path, device: str = "auto"):
    """The posterior mean of a trained model as a representation function (uint8 (n, 64, 64, C) -> float (n, K))."""
    def encode(observations: np.ndarray) -> np.ndarray:
        return encode_images(model_path, observations, ids=[""] * len(observations), device=device)[0]

    return encode


def evaluate_model(model: str | Path, ground_truth: str | Path, out: str | Path, details_out: str | Path, source: str, counts: Mapping[str, int],
                   seed: int, levels: int = 5, dci_estimators: int = 100, device: str = "auto", workers: int = 1,
                   provenance: Mapping[str, Any] | None = None) -> dict[str, float]:
    """All five metrics of one trained model.

    Parameters
    ----------
    model : ``results/models/{model}/{dataset}/model.pt``.
    ground_truth : the dSprites npz (source 'dsprites'), the SynthFaces grid (source 'grid') or the prepared data set (source 'prepared').
    out : flat JSON record: ``z_diff`` (BetaVAE eval accuracy), ``z_min``
        (FactorVAE eval accuracy), ``dci`` (disentanglement), ``dci_completeness``,
        ``dci_informativeness``, ``mig``, ``sap`` (disentanglement_lib's), ``sap_quadratic`` (the
        project's (z, z^2) variant, :mod:`facebrain.metrics.sap`), ``factor_vae_active_dims``, and
        ``metric_pool_too_small`` (True when DCI's or SAP's disjoint training and test samples
        are smaller than asked because the pool is; ``details_out`` gives their sizes).
    details_out : JSON with the metrics' per-factor results and matrices.
    source : 'dsprites', 'prepared', 'render' or 'grid' (see :func:`~facebrain.metrics.ground_truth.load_ground_truth`).
    counts : sample counts: ``batch_size``, ``num_train``, ``num_eval`` (points of
        BetaVAE/FactorVAE), ``num_variance_estimate`` (FactorVAE's global variances),
        ``num_observations`` (MIG, DCI and SAP; DCI and SAP test on half as many).
    seed : seeds the sampling of every metric.
    levels : classes of continuous factors.
    dci_estimators : boosting stages of DCI's classifiers.
    device : torch device for encoding.
    workers : processes rendering SynthFaces on demand (source 'render').

    Returns
    -------
    the flat record.
    """
    gt = load_ground_truth(source, ground_truth, levels=levels, seed=seed, workers=workers)
    f = representation_function(model, device)
    batch, n_train, n_eval = int(counts["batch_size"]), int(counts["num_train"]), int(counts["num_eval"])
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(6)]
    logger.info("metrics of %s on %s (%s): factors %s", model, ground_truth, source, dict(zip(gt.factor_names, gt.factors_num_values)))
    beta = compute_beta_vae(gt, f, streams[0], batch_size=batch, num_train=n_train, num_eval=n_eval)
    factor = compute_factor_vae(gt, f, streams[1], batch_size=batch, num_train=n_train, num_eval=n_eval, num_variance_estimate=int(counts["num_variance_estimate"]))
    n_obs = int(counts["num_observations"])
    mig = compute_mig(gt, f, streams[2], num_train=n_obs)
    dci = compute_dci(gt, f, streams[3], num_train=n_obs, num_test=n_obs // 2, n_estimators=dci_estimators)
    sap = compute_sap(gt, f, streams[4], num_train=n_obs, num_test=n_obs // 2)
    sap_quadratic = compute_sap_quadratic(gt, f, streams[5], num_train=n_obs, num_test=n_obs // 2)
    record = {
        "z_diff": beta["eval_accuracy"], "z_min": factor["eval_accuracy"], "factor_vae_active_dims": factor["num_active_dims"],
        "dci": dci["disentanglement"], "dci_completeness": dci["completeness"], "dci_informativeness": dci["informativeness_test"],
        "mig": mig["discrete_mig"], "sap": sap["sap"], "sap_quadratic": sap_quadratic["sap"],
        "metric_pool_too_small": bool(dci["samples"]["pool_too_small"] or sap["samples"]["pool_too_small"]),
    }
    details = {"factor_names": gt.factor_names, "factors_num_values": gt.factors_num_values, "beta_vae": beta, "factor_vae": factor,
               "mig": mig, "dci": dci, "sap": sap, "sap_quadratic": sap_quadratic, "provenance": dict(provenance or {})}
    write_json(details_out, details)
    write_json(out, record)
    logger.info("%s: %s", model, record)
    return record


def disentanglement_table(rows: Mapping[str, Sequence[str | Path]], out: str | Path) -> None:
    """Romeo's Table 1: one row per model, each metric as 'mean ± sd' over seeds.

    Parameters
    ----------
    rows : row label (e.g. 'beta-VAE') -> the per-seed metrics JSONs of that model.
    out : CSV with ``model``, ``seeds`` (number of seeds), one 'mean ± sd'
        column per metric of :data:`TABLE_COLUMNS`, and ``<column> mean`` /
        ``<column> sd`` numeric columns (sd with ddof 1; blank for one seed).
    """
    table = []
    for label, paths in rows.items():
        records = [read_json(p) for p in paths]
        row: dict[str, Any] = {"model": label, "seeds": len(records)}
        numeric = {}
        for column, key in TABLE_COLUMNS.items():
            missing = [str(p) for p, r in zip(paths, records) if key not in r]
            if missing:
                raise DataError(missing[0], f"no '{key}' in the metrics record")
            values = np.array([r[key] for r in records], dtype=float)
            sd = values.std(ddof=1) if len(values) > 1 else float("nan")
            row[column] = f"{values.mean():.3f} ± {sd:.3f}" if len(values) > 1 else f"{values.mean():.3f}"
            numeric[f"{column} mean"], numeric[f"{column} sd"] = values.mean(), sd
        table.append({**row, **numeric})
    write_table(out, pd.DataFrame(table))


def forced_dimension_table(details: Sequence[str | Path], out: str | Path) -> None:
    """How well SVAE's forced dimensions hold their factors, per factor, over seeds.

    Factor f's forced dimension is latent dimension f. ``forced_mig`` is
    (I(z_f; v_f) - max_{k != f} I(z_k; v_f)) / H(v_f): the MIG with the forced
    dimension required to be the top one (negative when another dimension
    carries more). ``mig`` is the factor's ordinary MIG and ``forced_is_best``
    the fraction of seeds in which the forced dimension has the largest mutual
    information.

    Parameters
    ----------
    details : ``results/metrics/{svae model}/{dataset}_details.json`` of each seed.
    out : CSV with ``factor, forced_dim, forced_mig, forced_mig_sd, mig, forced_is_best, seeds``.
    """
    per_seed = []
    for path in details:
        record = read_json(path)
        mi = np.asarray(record["mig"]["mutual_info"])
        entropy = np.asarray(record["mig"]["entropy"])
        names = record["factor_names"]
        if mi.shape[0] <= len(names):
            raise DataError(path, f"{mi.shape[0]} latent dimensions cannot hold {len(names)} forced factors and a free one")
        for f, name in enumerate(names):
            others = np.delete(mi[:, f], f)
            per_seed.append({"factor": name, "forced_dim": f, "forced_mig": (mi[f, f] - others.max()) / entropy[f],
                             "mig": record["mig"]["per_factor_mig"][name], "forced_is_best": float(np.argmax(mi[:, f]) == f)})
    frame = pd.DataFrame(per_seed)
    summary = frame.groupby(["factor", "forced_dim"], sort=False).agg(
        forced_mig=("forced_mig", "mean"), forced_mig_sd=("forced_mig", "std"), mig=("mig", "mean"), forced_is_best=("forced_is_best", "mean"), seeds=("mig", "size")
    ).reset_index()
    write_table(out, summary)
