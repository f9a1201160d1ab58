"""Naming latent dimensions by the known factor they track, and a max-correlation score.

For each latent dimension the best-matching ground-truth factor (SynthFaces'
yaw, smile, ...; dSprites' shape, scale, ...; CelebA's attributes and landmark
attributes) is the one with the largest absolute Pearson correlation between
the posterior means and the factor over the held-out (test) images, so figures
can name "rotation" or "smile". The paper's labels came from two human raters
looking at traversals; :func:`apply_rater_labels` lets such a file (``dim``,
``label``) replace the automatic labels of a model.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import h5py
import numpy as np
import pandas as pd

from facebrain.datasets.prepared import PreparedData
from facebrain.errors import DataError
from facebrain.io import read_tsv, write_table

log = logging.getLogger(__name__)

HELD_OUT_SPLIT = 2
"""The split whose images are used (2 = test)."""
MIN_IMAGES = 3


def abs_correlation(latents: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """Absolute Pearson correlation of every latent dimension with every factor.

    Parameters
    ----------
    latents : float (N, K).
    factors : float (N, F).

    Returns
    -------
    float64 (K, F) in [0, 1]; 0 where a latent or a factor is constant.
    """
    z = np.asarray(latents, dtype=np.float64)
    f = np.asarray(factors, dtype=np.float64)
    zc, fc = z - z.mean(axis=0), f - f.mean(axis=0)
    zn, fn = np.sqrt((zc**2).sum(axis=0)), np.sqrt((fc**2).sum(axis=0))
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = (zc.T @ fc) / np.outer(zn, fn)
    return np.nan_to_num(np.abs(corr), nan=0.0, posinf=0.0).clip(0.0, 1.0)


def matched_correlation(corr: np.ndarray) -> float:
    """Mean correlation coefficient (MCC): the mean |corr| of the best one-to-one
    matching of factors to distinct latent dimensions (Hungarian algorithm).

    Parameters
    ----------
    corr : (K, F) absolute correlations (:func:`abs_correlation`).

    Returns
    -------
    float in [0, 1], averaged over the min(K, F) matched factors.
    """
    from scipy.optimize import linear_sum_assignment  # ~0.6 CPU-s to import: not for every job that imports the models' latents

    rows, cols = linear_sum_assignment(-corr)
    return float(corr[rows, cols].mean())


def _held_out(latents: str | Path, data: str | Path):
    """(mu, factors, factor_names) of the held-out images, with ids checked against the dataset."""
    try:
        with h5py.File(latents, "r") as f:
            mu = f["mu"][:]
            ids = np.asarray([s.decode() if isinstance(s, bytes) else str(s) for s in f["ids"][:]])
    except (OSError, KeyError) as err:
        raise DataError(latents, f"not a latents file with 'mu' and 'ids' ({err})") from err
    with PreparedData(data) as prepared:
        if len(ids) != prepared.n or not np.array_equal(ids, prepared.ids):
            raise DataError(latents, f"ids do not match the images of {data}; re-encode the dataset")
        held = prepared.indices(HELD_OUT_SPLIT)
        if len(held) < MIN_IMAGES:
            raise DataError(data, f"only {len(held)} held-out (test) images; need at least {MIN_IMAGES}")
        return mu[held], prepared.factors[held], list(prepared.factor_names)


def label_dimensions(latents: str | Path, data: str | Path, out: str | Path) -> pd.DataFrame:
    """Write ``{dataset}_dimension_labels.tsv``: the best-matching factor of each latent dimension.

    Parameters
    ----------
    latents : ``results/latents/{model}/{dataset}.h5``.
    data : ``results/data/{dataset}.h5`` (the factors and the test split).
    out : TSV with columns ``dim`` (0-based), ``factor`` (name; '' when the dimension is
        constant), ``abs_corr`` (absolute Pearson correlation on the test images).

    Returns
    -------
    the table.
    """
    mu, factors, names = _held_out(latents, data)
    corr = abs_correlation(mu, factors)
    best = corr.argmax(axis=1)
    score = corr[np.arange(len(best)), best]
    table = pd.DataFrame({"dim": np.arange(corr.shape[0]), "factor": [names[j] if s > 0 else "" for j, s in zip(best, score)], "abs_corr": score})
    write_table(out, table)
    log.info("labelled %d dimensions of %s: %s", len(table), latents, dict(zip(table["dim"], table["factor"])))
    return table


def latent_factor_correlation(pairs: Sequence[Sequence[str]], latents: Sequence[str], data: Sequence[str], out: str | Path) -> pd.DataFrame:
    """Write the max-correlation scores of several models: how well latents match the true factors.

    Parameters
    ----------
    pairs : (model, dataset) per row.
    latents, data : the matching latents files and prepared datasets.
    out : CSV with ``model, dataset, latent_dim, mcc`` (:func:`matched_correlation`),
        ``mean_max_corr`` (mean over factors of the best |corr| of any dimension),
        and ``max_corr_<factor>`` per factor (columns of other datasets' factors are empty).
    """
    rows = []
    for (model, dataset), lat, dat in zip(pairs, latents, data):
        mu, factors, names = _held_out(lat, dat)
        corr = abs_correlation(mu, factors)
        best = corr.max(axis=0)
        rows.append({
            "model": model, "dataset": dataset, "latent_dim": corr.shape[0],
            "mcc": matched_correlation(corr), "mean_max_corr": float(best.mean()),
            **{f"max_corr_{name}": float(v) for name, v in zip(names, best)},
        })
    table = pd.DataFrame(rows)
    write_table(out, table)
    return table


RATER_COLUMNS = ("dim", "label")


def read_rater_labels(path: str | Path) -> dict[int, str]:
    """Read a raters' labels file: TSV with columns ``dim`` (0-based latent dimension) and ``label``.

    Raises
    ------
    DataError
        when the file is unreadable, lacks a column, has a non-integer or repeated dim, or an empty label.
    """
    table = read_tsv(path, "rater labels", RATER_COLUMNS)
    if not table["dim"].str.strip().str.fullmatch(r"\d+").all():
        raise DataError(path, "dim must be a non-negative integer (0-based latent dimension)")
    dims = table["dim"].astype(int)
    if dims.duplicated().any():
        raise DataError(path, f"dim {int(dims[dims.duplicated()].iloc[0])} is labelled twice")
    if (table["label"].str.strip() == "").any():
        raise DataError(path, f"empty label for dim {int(dims[table['label'].str.strip() == ''].iloc[0])}")
    return dict(zip(dims, table["label"].str.strip()))


def apply_rater_labels(auto_tsv: str | Path, out: str | Path, raters_tsv: str | Path | None = None) -> pd.DataFrame:
    """Pipeline step: the labels the beta-map figures and tables use.

    Parameters
    ----------
    auto_tsv : the automatic labels (:func:`label_dimensions`).
    out : TSV with columns ``dim``, ``factor``, ``abs_corr`` and ``source``.
    raters_tsv : the raters' file of the model (:func:`read_rater_labels`), or None. When given,
        its labels replace the automatic ones (``source`` 'raters'; dims it leaves out are
        unlabelled, and the abs_corr threshold does not apply to them); else the automatic
        labels are kept (``source`` 'auto').

    Returns
    -------
    the table.
    """
    try:
        auto = pd.read_csv(auto_tsv, sep="\t", keep_default_na=False)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise DataError(auto_tsv, f"cannot read dimension labels: {err}") from err
    if raters_tsv is None:
        table = auto.assign(source="auto")
    else:
        raters = read_rater_labels(raters_tsv)
        unknown = sorted(set(raters) - set(auto["dim"].astype(int)))
        if unknown:
            raise DataError(raters_tsv, f"dim(s) {unknown} are not latent dimensions of the model (0..{len(auto) - 1})")
        table = auto.assign(factor=[raters.get(int(d), "") for d in auto["dim"]], source="raters")
        log.info("rater labels from %s replace the automatic ones: %s", raters_tsv, raters)
    write_table(out, table[["dim", "factor", "abs_corr", "source"]])
    return table
