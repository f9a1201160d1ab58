"""Latent traversal figures (Soulos & Isik Fig. 2/6).

One figure per model and dataset: the input face on the left; one row per
latent dimension (the ``dims`` dimensions with the largest mean KL from the
prior on the test images, or for deterministic encoders such as PCA the
largest variance); columns decode the input's code with that one dimension
set to values from -3 to 3 (prior standard deviations; for deterministic
encoders, standard deviations of that dimension's test codes around their mean).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from facebrain.errors import DataError
from facebrain.latents import decode_latents

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
    import h5py

    from facebrain.plotting import pyplot, save_figure

    plt = pyplot()

    from facebrain.datasets.prepared import PreparedData

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

    cmap = "gray" if image.shape[2] == 1 else None
    fig, axes = plt.subplots(len(order), steps + 1, figsize=(1.1 * (steps + 1) + 1.6, 1.1 * len(order) + 1.0), squeeze=False)
    for r, d in enumerate(order):
        row = [image.astype(np.float32) / 255.0] + [decoded[r * steps + s] for s in range(steps)]
        for c, img in enumerate(row):
            ax = axes[r, c]
            ax.imshow(img.squeeze(-1) if cmap else img, cmap=cmap, vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title("input" if c == 0 else f"{values[c - 1]:+.1f}", fontsize=8)
        label = names.loc[d, "factor"] if d in names.index and isinstance(names.loc[d, "factor"], str) else ""
        corr = f" |r|={names.loc[d, 'abs_corr']:.2f}" if label else ""
        axes[r, 0].set_ylabel(f"z{d} {label}{corr}\n{rank_name}={ranking[d]:.2g}", fontsize=7, rotation=0, ha="right", va="center")
    fig.suptitle(f"Latent traversals: {model_name} on {dataset}", fontsize=10)
    fig.supxlabel(f"value of the traversed dimension ({unit})", fontsize=8)
    fig.tight_layout()
    log.info("%s: %d dimensions x %d values", out, len(order), steps)
    return save_figure(fig, out, dpi=100)
