"""Latent traversal figures: one grid, drawn by :func:`plot_traversals`
(Soulos & Isik Fig. 2/6) and :func:`plot_forced_traversals` (Romeo Fig. 7).

:func:`plot_traversals`, one figure per model and dataset: the input face on the left; one row per
latent dimension (the ``dims`` dimensions with the largest mean KL from the
prior on the test images, or for deterministic encoders such as PCA the
largest variance); columns decode the input's code with that one dimension
set to values from -3 to 3 (prior standard deviations; for deterministic
encoders, standard deviations of that dimension's test codes around their mean).

:func:`plot_forced_traversals`: an SVAE's forced dimensions, one row per factor,
labelled with the dimension's mutual information with its factor (from the
metrics stage's details JSON).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import h5py
import numpy as np
import pandas as pd

from facebrain.datasets.prepared import PreparedData, image_floats
from facebrain.errors import DataError
from facebrain.io import read_json
from facebrain.models.latents import decode_latents, encode_images
from facebrain.plotting import pyplot, save_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

log = logging.getLogger(__name__)

TRAVERSAL_RANGE = 3.0
"""Traversals span [-TRAVERSAL_RANGE, TRAVERSAL_RANGE] standard deviations."""


def traversal_codes(base: np.ndarray, dims: np.ndarray, values: np.ndarray, center: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Codes of a traversal grid.

    Parameters
    ----------
    base : (K,) the input image's code.
    dims : (R,) dimensions to traverse (rows).
    values : (S,) traversal values in standard deviations (columns).
    center, scale : (K,) the value 0 and the unit of each dimension.

    Returns
    -------
    float32 (R * S, K), row-major: row r, column s sets ``dims[r]`` to ``center + values[s] * scale``.
    """
    codes = np.repeat(base[None, :], len(dims) * len(values), axis=0).astype(np.float32)
    for r, d in enumerate(dims):
        codes[r * len(values) : (r + 1) * len(values), d] = center[d] + values * scale[d]
    return codes


def plot_traversals(model: str | Path, data: str | Path, latents: str | Path, labels: str | Path, out: str | Path, *, model_name: str, dataset: str,
                    dims: int = 10, steps: int = 7) -> Figure:
    """Draw the traversal figure of one model on one dataset (PNG).

    Parameters
    ----------
    model : ``model.pt`` of a decodable kind.
    data : the prepared dataset (the input is its first test image).
    latents : the model's latents of ``data``.
    labels : the model's dimension labels (row names).
    out : PNG path.
    model_name, dataset : the model's name and its dataset (the title).
    dims : rows (dimensions with the largest KL / variance).
    steps : columns, evenly spaced over [-3, 3].

    Returns
    -------
    Figure
        The figure written (closed): ``dims`` rows of ``steps + 1`` image axes.
    """
    with h5py.File(latents, "r") as f:
        mu, logvar = f["mu"][:], f["logvar"][:]
    with PreparedData(data) as prepared:
        held = prepared.indices(2)
        if len(held) == 0:
            raise DataError(data, "no test images to traverse")
        if len(mu) != prepared.n:
            raise DataError(latents, f"{len(mu)} codes for the {prepared.n} images of {data}")
        image = prepared.images(held[:1])[0]
    test_mu, test_lv = mu[held], logvar[held]
    deterministic = not np.isfinite(test_lv).all()
    if deterministic:
        ranking = test_mu.var(axis=0)
        center, scale = test_mu.mean(axis=0), test_mu.std(axis=0)
        unit, rank_name = "s.d. of the dimension's test codes", "var"
    else:
        ranking = (0.5 * (test_mu**2 + np.exp(test_lv) - test_lv - 1)).mean(axis=0)
        center, scale = np.zeros(mu.shape[1]), np.ones(mu.shape[1])
        unit, rank_name = "prior s.d.", "KL"
    order = np.argsort(-ranking, kind="stable")[:dims]
    values = np.linspace(-TRAVERSAL_RANGE, TRAVERSAL_RANGE, steps)
    decoded = decode_latents(model, traversal_codes(test_mu[0], order, values, center, scale), device="cpu")
    names = pd.read_csv(labels, sep="\t").set_index("dim")
    row_labels = []
    for d in order:
        label = names.loc[d, "factor"] if d in names.index and isinstance(names.loc[d, "factor"], str) else ""
        corr = f" |r|={names.loc[d, 'abs_corr']:.2f}" if label else ""
        row_labels.append(f"z{d} {label}{corr}\n{rank_name}={ranking[d]:.2g}")
    log.info("%s: %d dimensions x %d values", out, len(order), steps)
    return draw_traversal_grid(image, decoded, values, row_labels, f"Latent traversals: {model_name} on {dataset}",
                               f"value of the traversed dimension ({unit})", out)


def plot_forced_traversals(model: str | Path, data: str | Path, details: str | Path, out: str | Path, *, model_name: str, dataset: str, steps: int = 7,
                           span: float = 2.5) -> Figure:
    """SVAE traversals (Romeo Fig. 7): one row per forced dimension, labelled by its factor.

    Parameters
    ----------
    model : the SVAE's ``model.pt``.
    data : the prepared data set (the input is its first test image).
    details : the model's metrics details (row labels carry each forced dimension's MIG with its factor).
    out : PNG path.
    model_name, dataset : the model's name and its dataset (the title).
    steps : columns, evenly spaced over [-span, span] prior standard deviations around the input's code.
    span : half-width of the traversal (prior s.d.).

    Returns
    -------
    Figure
        The figure written (closed): one row of ``steps + 1`` image axes per factor.
    """
    record = read_json(details, "metrics details JSON")
    names = record["factor_names"]
    mi, entropy = np.asarray(record["mig"]["mutual_info"]), np.asarray(record["mig"]["entropy"])
    with PreparedData(data) as prepared:
        held = prepared.indices(2)
        rows = held[:1] if len(held) else np.arange(1)
        image = prepared.images(rows)
        ids = [str(prepared.ids[rows[0]])]
    mu, _ = encode_images(model, image, ids, device="cpu")
    k = mu.shape[1]
    dims = np.arange(len(names))
    values = np.linspace(-span, span, steps)
    decoded = decode_latents(model, traversal_codes(mu[0], dims, values, np.zeros(k), np.ones(k)), device="cpu")
    labels = [f"z{d}: {names[d]}\nMI/H={mi[d, r] / entropy[r]:.2f}" for r, d in enumerate(dims)]
    return draw_traversal_grid(image[0], decoded, values, labels, f"SVAE forced dimensions: {model_name} on {dataset}",
                               "value of the forced dimension (prior s.d.)", out)


def draw_traversal_grid(image: np.ndarray, decoded: np.ndarray, values: np.ndarray, labels: list[str], title: str, xlabel: str,
                        out: str | Path) -> Figure:
    """Save the traversal grid: a row per traversed dimension, the input image then its decodings.

    Parameters
    ----------
    image : uint8 (64, 64, C), the input.
    decoded : float (R * S, 64, 64, C) in [0, 1], row-major as :func:`traversal_codes` orders the codes.
    values : (S,) the traversal values (column titles).
    labels : R row labels.
    title, xlabel : the figure's title and the label under the columns.
    out : PNG path.

    Returns
    -------
    Figure
        The figure written (closed): R rows of S + 1 image axes.
    """
    plt = pyplot()
    steps = len(values)
    grey = image.shape[-1] == 1
    fig, axes = plt.subplots(len(labels), steps + 1, figsize=(1.1 * (steps + 1) + 2.0, 1.1 * len(labels) + 1.0), squeeze=False)
    for r, label in enumerate(labels):
        for c, img in enumerate([image_floats(image)] + [decoded[r * steps + s] for s in range(steps)]):
            ax = axes[r, c]
            ax.imshow(img[..., 0] if grey else img, cmap="gray" if grey else None, vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title("input" if c == 0 else f"{values[c - 1]:+.1f}", fontsize=8)
        axes[r, 0].set_ylabel(label, fontsize=7, rotation=0, ha="right", va="center")
    fig.suptitle(title, fontsize=10)
    fig.supxlabel(xlabel, fontsize=8)
    fig.tight_layout()
    return save_figure(fig, out, dpi=100)
