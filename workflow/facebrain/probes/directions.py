"""Closed-form semantic directions in a generator's W space (Zheng et al. 2021, Eq. 3, Table 2, Eq. 4).

For n latents w = mapping(z) the generated faces are measured by the
measurement network f(.) (:mod:`facebrain.probes.measurement`), giving
semantics y (n, F). From random pairs of the first half of the samples,
dW = w_i - w_j and dY = y_i - y_j give the directions
v = (dW^T dW)^-1 dW^T dY (Eq. 3, :func:`facebrain.probes.semantic.regression_directions`,
the same closed form as the VAE-latent analysis); on the other half each
projection w^T v_d is correlated with every measured semantic (Table 2: rows
semantics, columns directions). Eq. 4 edits a latent along a unit direction,
w + s * sigma * v / ||v||, sigma the standard deviation of the projections.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import h5py
import numpy as np
import pandas as pd

from facebrain.device import resolve_device
from facebrain.errors import DataError
from facebrain.io import write_h5, write_table
from facebrain.probes.generated import Generator, edit_grid, plot_grid, projection_sigmas, sample_w, synthesize
from facebrain.probes.measurement import load_measurement, measure
from facebrain.probes.semantic import projection_correlations, regression_directions

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from torch import nn

log = logging.getLogger(__name__)

MEASURED_SIZE = 64
"""Generated images are resized to this side before they are measured."""


def load_generator(model_path: str | Path, device: Any):
    """The EMA generator of a trained ``stylegan2`` model (``facebrain.models.stylegan2.load_generator``)."""
    from facebrain.models.stylegan2 import load_generator as load

    return load(model_path, device)


def generated_semantics(generator: Generator, measurement: nn.Module, n: int, seed: int, batch_size: int = 64) -> dict[str, np.ndarray]:
    """Latents of ``n`` generated faces with their measured semantics and features.

    Returns
    -------
    dict: ``w`` float32 (n, w_dim), ``semantics`` float64 (n, F), ``features`` float64 (n, 256).
    """
    w = sample_w(generator, n, seed)
    semantics, features = [], []
    for i in range(0, n, batch_size):
        y, f = measure(measurement, synthesize(generator, w[i : i + batch_size], seed + 1, batch_size, MEASURED_SIZE))
        semantics.append(y)
        features.append(f)
    return {"w": w, "semantics": np.concatenate(semantics), "features": np.concatenate(features)}


def measure_generated(model_path: str | Path, measurement_path: str | Path, out: str | Path, num_samples: int, seed: int,
                      device: str = "auto", provenance: Mapping[str, Any] | None = None) -> None:
    """Write ``num_samples`` latents of a generator with the semantics measured on their images.

    Parameters
    ----------
    model_path : a trained ``stylegan2`` model (``results/models/{model}/{dataset}/model.pt``).
    measurement_path : the measurement network (:func:`facebrain.probes.measurement.train_measurement`).
    out : HDF5 with ``w`` (n, w_dim), ``semantics`` (n, F), ``features`` (n, 256), ``semantic_names`` (F,).
    num_samples : n.
    seed : seeds z and the per-layer noise.
    device : torch device name.
    """
    device = resolve_device(device)
    measurement = load_measurement(measurement_path, device)
    samples = generated_semantics(load_generator(model_path, device), measurement, num_samples, seed)
    log.info("measured %d generated faces: semantic sd %s", num_samples, np.round(samples["semantics"].std(0), 3).tolist())
    write_h5(out, {**samples, "semantic_names": np.asarray(measurement.factor_names, dtype=object)}, attrs=provenance)


def read_samples(path: str | Path) -> dict[str, np.ndarray]:
    """The arrays of a file written by :func:`measure_generated` (semantic names as a list of str)."""
    try:
        with h5py.File(path, "r") as f:
            out = {k: f[k][()] for k in ("w", "semantics", "features")}
            out["semantic_names"] = [s.decode() if isinstance(s, bytes) else str(s) for s in f["semantic_names"][()]]
    except (OSError, KeyError) as err:
        raise DataError(path, f"not a file of generated semantics ({err})") from err
    return out


def fit_directions(w: np.ndarray, semantics: np.ndarray, seed: int, num_pairs: int) -> dict[str, np.ndarray]:
    """Eq. 3 on the first half of the samples, judged on the second half.

    Parameters
    ----------
    w : float (n, w_dim) latents, n >= 4.
    semantics : float (n, F) measured semantics.
    seed : seeds the random pairs.
    num_pairs : pairs (i, j) of the fitting half.

    Returns
    -------
    dict: ``directions`` float64 (w_dim, F) (column d: the direction of semantic d),
    ``correlations`` float64 (F semantics, F directions), Pearson r of w^T v_d with
    semantic f on the held-out half, ``unit`` (w_dim, F) and ``sigma`` (F,) of the
    Eq. 4 edits (:func:`facebrain.probes.generated.projection_sigmas` on all samples).
    """
    w = np.asarray(w, np.float64)
    half = len(w) // 2
    if half < 2:
        raise ValueError(f"need >= 4 samples, got {len(w)}")
    directions = regression_directions(w[:half], semantics[:half], np.random.default_rng(seed), num_pairs)
    unit, sigma = projection_sigmas(w, directions)
    return {"directions": directions, "correlations": projection_correlations(w[half:], semantics[half:], directions), "unit": unit, "sigma": sigma}


def closed_form_directions(samples_path: str | Path, out: str | Path, seed: int, num_pairs: int, provenance: Mapping[str, Any] | None = None) -> dict[str, np.ndarray]:
    """Fit and write the directions of every measured semantic of one generator (:func:`fit_directions`).

    Parameters
    ----------
    samples_path : generated semantics (:func:`measure_generated`).
    out : HDF5 with the arrays of :func:`fit_directions` and ``semantic_names``.
    seed, num_pairs : as :func:`fit_directions`.

    Returns
    -------
    The arrays written.
    """
    samples = read_samples(samples_path)
    fit = fit_directions(samples["w"], samples["semantics"], seed, num_pairs)
    log.info("held-out r of each semantic with its own direction: %s",
             dict(zip(samples["semantic_names"], np.round(np.diag(fit["correlations"]), 3))))
    write_h5(out, {**fit, "semantic_names": np.asarray(samples["semantic_names"], dtype=object)}, attrs=provenance)
    return fit


def read_directions(path: str | Path) -> dict[str, Any]:
    """The arrays of a file written by :func:`closed_form_directions` (semantic names as a list of str)."""
    try:
        with h5py.File(path, "r") as f:
            out = {k: f[k][()] for k in ("directions", "correlations", "unit", "sigma")}
            out["semantic_names"] = [s.decode() if isinstance(s, bytes) else str(s) for s in f["semantic_names"][()]]
    except (OSError, KeyError) as err:
        raise DataError(path, f"not a file of closed-form directions ({err})") from err
    return out


def direction_column(semantic: str) -> str:
    """The Table 2 column of the direction of ``semantic``: ``v_<semantic>``."""
    return f"v_{semantic}"


def table2(directions: Mapping[str, str | Path], decorrelation: Mapping[str, float], out: str | Path) -> pd.DataFrame:
    """Zheng et al. Table 2: correlation of each direction's projection with each measured semantic, per generator.

    Parameters
    ----------
    directions : model name -> its directions file (:func:`closed_form_directions`).
    decorrelation : model name -> the weight of its decorrelation regulariser (0: plain StyleGAN2).
    out : CSV, one row per (model, semantic): ``model``, ``decorrelation``, ``semantic``,
        then one column ``v_<semantic>`` per direction holding Pearson r (held-out samples)
        between the measured ``semantic`` and the projection on that direction.

    Returns
    -------
    The table written.
    """
    frames = []
    for model, path in directions.items():
        fit = read_directions(path)
        names = fit["semantic_names"]
        frame = pd.DataFrame(fit["correlations"], columns=[direction_column(n) for n in names])
        frame.insert(0, "semantic", names)
        frame.insert(0, "decorrelation", float(decorrelation[model]))
        frame.insert(0, "model", model)
        frames.append(frame)
    table = pd.concat(frames, ignore_index=True)
    write_table(out, table, float_format="%.4f")
    return table


def manipulation_figure(model_path: str | Path, directions_path: str | Path, measurement_path: str | Path, out: str | Path,
                        seed: int, steps: Sequence[float], semantics: Sequence[str] | None = None, device: str = "auto") -> Figure:
    """Zheng et al. Eq. 4 / Fig. 1: a generated face edited along each semantic's direction.

    Parameters
    ----------
    model_path : the trained ``stylegan2`` model.
    directions_path : its directions (:func:`closed_form_directions`).
    measurement_path : the measurement network; each image is annotated with its
        row's measured semantic.
    out : output PNG.
    seed : seeds the edited latent and the noise.
    steps : columns, in units of the direction's projection sigma.
    semantics : rows (all measured semantics when None).
    device : torch device name.

    Returns
    -------
    The figure: rows = semantics, columns = steps.
    """
    device = resolve_device(device)
    generator = load_generator(model_path, device)
    fit = read_directions(directions_path)
    names = fit["semantic_names"]
    unknown = [s for s in semantics or () if s not in names]
    if unknown:
        raise DataError(directions_path, f"semantics {unknown} were not measured; measured: {names}")
    rows = [names.index(s) for s in (semantics or names)]
    images = edit_grid(generator, sample_w(generator, 1, seed)[0].astype(np.float64), fit["unit"][:, rows], fit["sigma"][rows], steps, seed, MEASURED_SIZE)
    measured, _ = measure(load_measurement(measurement_path, device), images.reshape(-1, *images.shape[2:]))
    values = measured.reshape(len(rows), len(steps), -1)[np.arange(len(rows)), :, rows]
    return plot_grid(images, [names[r] for r in rows], steps, "Edits along closed-form directions w + s sigma v (Eq. 4); under each face: its measured semantic", out, values)
