"""Zheng et al. 2021 Table 1 analogue: image quality with and without the decorrelation regulariser.

Zheng et al. report FID and perceptual path length (PPL). FID needs the
Inception network's weights, which cannot be downloaded offline, and PPL's
LPIPS distance needs VGG weights. Offline this module reports

- a Frechet distance between real and generated faces in the 256-d feature
  space of the measurement network (:mod:`facebrain.probes.measurement`),
  the same formula as FID: ||mu_r - mu_g||^2 + Tr(S_r + S_g - 2 (S_r S_g)^(1/2));
- PPL in W with the pixel distance: for latents w1, w2 = mapping(z1, z2) and
  t ~ U(0, 1), d = mean squared pixel difference between G(lerp(w1, w2, t))
  and G(lerp(w1, w2, t + eps)), divided by eps^2, averaged over pairs after
  dropping those outside the 1st-99th percentiles (as Karras et al. 2019).
  Both images of a pair share their per-layer noise.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import linalg

from facebrain.datasets.prepared import PreparedData
from facebrain.device import resolve_device
from facebrain.io import write_table
from facebrain.probes.directions import load_generator, read_samples
from facebrain.probes.generated import Generator, sample_w, synthesize
from facebrain.probes.measurement import load_measurement, measure, real_images

log = logging.getLogger(__name__)


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Frechet distance between Gaussians fitted to feature sets ``a`` (n, d) and ``b`` (m, d)."""
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = linalg.sqrtm(cov_a @ cov_b)
    if not np.isfinite(root).all():
        offset = 1e-6 * np.eye(len(cov_a))
        root = linalg.sqrtm((cov_a + offset) @ (cov_b + offset))
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a + cov_b - 2.0 * np.real(root)))


def path_length(generator: Generator, num_pairs: int, seed: int, epsilon: float = 1e-4, batch_size: int = 64) -> float:
    """Perceptual path length in W with the mean squared pixel distance (module docstring).

    Parameters
    ----------
    generator : a :class:`facebrain.probes.generated.Generator`.
    num_pairs : latent pairs.
    seed : seeds the latents, t and the noise.
    epsilon : the step along the path.
    batch_size : images per synthesis call.

    Returns
    -------
    The mean of d / eps^2 over the pairs within the 1st-99th percentiles.
    """
    w = sample_w(generator, 2 * num_pairs, seed).astype(np.float64)
    t = np.random.default_rng(seed + 1).uniform(0.0, 1.0 - epsilon, (num_pairs, 1))
    start, end = w[:num_pairs], w[num_pairs:]
    a = synthesize(generator, start + t * (end - start), seed + 2, batch_size)
    b = synthesize(generator, start + (t + epsilon) * (end - start), seed + 2, batch_size)
    d = ((a.astype(np.float64) - b) ** 2).mean(axis=(1, 2, 3)) / epsilon**2
    lo, hi = np.percentile(d, [1, 99])
    return float(d[(d >= lo) & (d <= hi)].mean())


def table1(models: Mapping[str, str | Path], samples: Mapping[str, str | Path], decorrelation: Mapping[str, float], data_path: str | Path,
           measurement_path: str | Path, out: str | Path, seed: int, num_real: int, num_ppl: int, epsilon: float = 1e-4,
           device: str = "auto") -> pd.DataFrame:
    """Zheng et al. Table 1 analogue: Frechet distance (measurement features) and pixel PPL per generator.

    Parameters
    ----------
    models : model name -> trained ``stylegan2`` model.
    samples : model name -> its generated semantics and features (:func:`facebrain.probes.directions.measure_generated`).
    decorrelation : model name -> weight of its decorrelation regulariser (0: plain StyleGAN2).
    data_path : the prepared face data set (real images).
    measurement_path : the measurement network.
    out : CSV with columns ``model, decorrelation, frechet_distance_measurement, ppl_pixel,
        n_real, n_generated, n_ppl_pairs``.
    seed : seeds the real images drawn and the PPL latents.
    num_real : real images (a random subset of all splits; all when fewer).
    num_ppl : latent pairs of PPL.
    epsilon : PPL's step.
    device : torch device name.

    Returns
    -------
    The table written.
    """
    device = resolve_device(device)
    measurement = load_measurement(measurement_path, device)
    with PreparedData(data_path) as data:
        chosen = np.sort(np.random.default_rng(seed).permutation(data.n)[:num_real])
        _, real = measure(measurement, real_images(data, chosen))
    rows = []
    for model, path in models.items():
        generated = read_samples(samples[model])["features"]
        ppl = path_length(load_generator(path, device), num_ppl, seed, epsilon)
        rows.append({"model": model, "decorrelation": float(decorrelation[model]), "frechet_distance_measurement": frechet_distance(real, generated),
                     "ppl_pixel": ppl, "n_real": len(real), "n_generated": len(generated), "n_ppl_pairs": num_ppl})
        log.info("%s: %s", model, rows[-1])
    table = pd.DataFrame(rows)
    write_table(out, table, float_format="%.4f")
    return table
