"""Images of a style-based generator, drawn for the analyses of Zheng et al. (2021).

The analyses (:mod:`facebrain.probes.directions`, :mod:`facebrain.probes.localized`,
:mod:`facebrain.probes.quality`) take any object with the interface of
:class:`Generator` (the EMA generator that ``facebrain.models.stylegan2.load_generator``
returns), so their tests can use small stand-ins.

Every image of one :func:`synthesize` call is drawn under the same per-layer
noise, whatever the batch: the torch random stream is reset to the call's seed
before each batch and each image's noise comes from its own batch slot, so two
calls with the same seed and batch layout differ only through ``w`` (what the
path length needs); :func:`edit_grid` draws one image a call, so every cell of
its grid has the same noise.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from facebrain.plotting import pyplot, save_figure

if TYPE_CHECKING:
    import torch
    from matplotlib.figure import Figure


class Generator(Protocol):
    """What the analyses need of a generator.

    Attributes
    ----------
    z_dim : size of the input noise z.
    w_dim : size of the intermediate latent w.
    """

    z_dim: int
    w_dim: int

    def mapping(self, z: torch.Tensor) -> torch.Tensor:
        """z (N, z_dim) -> w (N, w_dim)."""

    def synthesis(self, w: torch.Tensor) -> torch.Tensor:
        """w (N, w_dim) -> images float (N, 3, H, W) in [0, 1]."""


def sample_w(generator: Generator, n: int, seed: int, batch_size: int = 256) -> np.ndarray:
    """Draw ``n`` intermediate latents w = mapping(z), z ~ N(0, I).

    Parameters
    ----------
    generator : a :class:`Generator` (its parameters' device is used).
    n : number of latents.
    seed : seeds z.
    batch_size : latents per mapping call.

    Returns
    -------
    float32 (n, w_dim).
    """
    import torch

    device = _device(generator)
    z = torch.from_numpy(np.random.default_rng(seed).standard_normal((n, generator.z_dim)).astype(np.float32))
    with torch.no_grad():
        return np.concatenate([generator.mapping(z[i : i + batch_size].to(device)).cpu().numpy() for i in range(0, n, batch_size)]) if n else np.zeros((0, generator.w_dim), np.float32)


def synthesize(generator: Generator, w: np.ndarray, seed: int, batch_size: int = 64, size: int | None = None) -> np.ndarray:
    """Images of latents ``w``, each batch drawn under the noise of ``seed``.

    Parameters
    ----------
    generator : a :class:`Generator`.
    w : float (n, w_dim) latents.
    seed : seed of the per-layer noise (the same for every batch).
    batch_size : images per synthesis call.
    size : when given, images are resized (area average) to ``size`` x ``size``.

    Returns
    -------
    float32 (n, 3, H, W) in [0, 1].
    """
    import torch

    device = _device(generator)
    out = []
    for i in range(0, len(w), batch_size):
        with torch.no_grad(), torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
            torch.manual_seed(seed)
            images = generator.synthesis(torch.as_tensor(np.asarray(w[i : i + batch_size], np.float32), device=device))
        out.append(resize(images, size).clamp(0, 1).cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0, 3, size or 0, size or 0), np.float32)


def resize(images: torch.Tensor, size: int | None) -> torch.Tensor:
    """``images`` (N, C, H, W) area-resized to ``size`` x ``size`` (unchanged when None or already that size)."""
    from torch.nn import functional

    if size is None or images.shape[-1] == size and images.shape[-2] == size:
        return images
    return functional.interpolate(images, size=(size, size), mode="area")


def projection_sigmas(w: np.ndarray, directions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit directions and the standard deviation of the latents' projections on them.

    Parameters
    ----------
    w : float (n, w_dim) latents.
    directions : float (w_dim, R) directions (any norm).

    Returns
    -------
    unit : float64 (w_dim, R), the directions scaled to norm 1.
    sigma : float64 (R,), std of ``w @ unit`` (the unit of the steps of :func:`edit_grid`).
    """
    unit = directions / np.maximum(np.linalg.norm(directions, axis=0, keepdims=True), 1e-12)
    return unit, (np.asarray(w, np.float64) @ unit).std(axis=0)


def edit_grid(generator: Generator, w0: np.ndarray, unit: np.ndarray, sigma: np.ndarray, steps: Sequence[float], seed: int, size: int | None = None) -> np.ndarray:
    """Images of the edits w0 + s * sigma_r * v_r (Zheng et al. Eq. 4): one row per direction, one column per step.

    Parameters
    ----------
    generator : a :class:`Generator`.
    w0 : float (w_dim,), the latent edited.
    unit : float (w_dim, R) unit directions v_r.
    sigma : float (R,), the step unit of each direction (:func:`projection_sigmas`).
    steps : the S steps s, in units of sigma.
    seed : noise seed (every cell is drawn under the same noise).
    size : optional side the images are resized to.

    Returns
    -------
    float32 (R, S, 3, H, W) in [0, 1].
    """
    steps = np.asarray(steps, np.float64)
    w = w0[None, None, :] + (steps[None, :, None] * sigma[:, None, None]) * unit.T[:, None, :]
    images = synthesize(generator, w.reshape(-1, w.shape[-1]), seed, batch_size=1, size=size)
    return images.reshape(len(sigma), len(steps), *images.shape[1:])


def plot_grid(images: np.ndarray, row_labels: Sequence[str], steps: Sequence[float], title: str, out: str | Path,
              annotations: np.ndarray | None = None) -> Figure:
    """Draw an edit grid (rows: directions, columns: steps) and write it to ``out``.

    Parameters
    ----------
    images : float (R, S, 3, H, W) in [0, 1] (:func:`edit_grid`).
    row_labels : R labels, written left of each row.
    steps : S steps, the column titles (``-2.0 sigma`` ...).
    title : the figure's title.
    out : output PNG.
    annotations : optional float (R, S), a value written under each image
        (the measured semantic of the row).

    Returns
    -------
    The figure (closed): axes in row-major order, ``R * S`` of them.
    """
    plt = pyplot()
    rows, cols = images.shape[:2]
    fig, axes = plt.subplots(rows, cols, figsize=(1.2 * cols + 1.2, 1.3 * rows + 0.6), squeeze=False)
    for r in range(rows):
        for c in range(cols):
            ax = axes[r, c]
            ax.imshow(np.transpose(images[r, c], (1, 2, 0)))
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(f"{steps[c]:+.1f} sigma", fontsize=8)
            if c == 0:
                ax.set_ylabel(row_labels[r], fontsize=8)
            if annotations is not None:
                ax.set_xlabel(f"{annotations[r, c]:.2f}", fontsize=7)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return save_figure(fig, out, dpi=100)


def _device(generator: Generator) -> torch.device:
    import torch

    parameter = next(iter(generator.parameters()), None) if hasattr(generator, "parameters") else None
    return parameter.device if parameter is not None else torch.device("cpu")
