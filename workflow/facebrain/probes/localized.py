"""Localized representation learning (Zheng et al. 2021, Eq. 5, Fig. 6 and Fig. 7).

The Jacobian J of the generated pixels with respect to w (Zheng et al. take
it of the canonical albedo and depth maps of their 3D decomposition, which
this pipeline does not have: here it is the image's pixels, so a component's
map mixes shape, texture and pose) is factorised as

    min_{U, V} ||J - U V^T||_F^2 + alpha ||U||_1 + beta sum_{i != j} (v_i^T v_j)^2,  ||v_p|| = 1,

U (pixels, P) sparse pixel maps, V (w_dim, P) their directions in W. The
Jacobians of several latents are stacked (rows: sample x pixel), so a map is
the mean |u_p| over samples. The unit norm is kept exactly by optimising
V = V' / ||V'|| (column-wise) with Adam on U and V'; both start from the rank-P
SVD of J. Components with ||u_p|| < ``min_norm`` (0.01 in the paper) are
discarded; the kept directions are clustered by Ward's method on 1 - |cos|
(Fig. 6) and a face is edited along each (Fig. 7).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import h5py
import numpy as np
from tqdm import tqdm

from facebrain.device import resolve_device
from facebrain.errors import DataError
from facebrain.io import write_h5
from facebrain.plotting import pyplot, save_figure
from facebrain.probes.generated import Generator, edit_grid, plot_grid, projection_sigmas, resize, sample_w
from facebrain.probes.semantic import ward_dendrogram

if TYPE_CHECKING:
    import torch
    from matplotlib.figure import Figure

log = logging.getLogger(__name__)

MAX_WIDTH = 40.0
"""Widest dendrogram figure, inches (P = 200 kept components share it)."""


def load_generator(model_path: str | Path, device: Any):
    """The trained generator: :func:`facebrain.probes.directions.load_generator`, imported on use so that
    the dendrogram's job (:func:`dendrogram_figure`) never imports torch (~1.5 CPU-s)."""
    from facebrain.probes.directions import load_generator as load

    return load(model_path, device)


def image_jacobian(generator: Generator, w: np.ndarray, seed: int, size: int | None = None, chunk_size: int = 32) -> np.ndarray:
    """Jacobians of the generated pixels with respect to w, by forward-mode differentiation.

    Parameters
    ----------
    generator : a :class:`facebrain.probes.generated.Generator`.
    w : float (n, w_dim) latents.
    seed : seed of the per-layer noise (held fixed while differentiating).
    size : optional side the images are resized to first.
    chunk_size : tangents per vectorised forward pass.

    Returns
    -------
    float32 (n, 3 * H * W, w_dim): d pixel / d w, pixels in (channel, row, column) order.
    """
    import torch
    from torch.func import jvp, vmap

    device = next(iter(generator.parameters())).device if hasattr(generator, "parameters") else torch.device("cpu")
    eye = torch.eye(generator.w_dim, device=device)
    out = []
    for row in np.asarray(w, np.float32):
        point = torch.as_tensor(row, device=device)

        def pixels(v: torch.Tensor) -> torch.Tensor:
            return resize(generator.synthesis(v[None]), size).reshape(-1)

        with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
            torch.manual_seed(seed)
            columns = vmap(lambda t: jvp(pixels, (point,), (t,))[1], randomness="same", chunk_size=chunk_size)(eye)
        out.append(columns.T.detach().cpu().numpy())
    return np.stack(out)


def localized_objective(jacobian: torch.Tensor, u: torch.Tensor, v: torch.Tensor, alpha: float, beta: float) -> torch.Tensor:
    """Eq. 5: ||J - U V^T||_F^2 + alpha ||U||_1 + beta sum_{i != j} (v_i^T v_j)^2 (V's columns taken as given)."""
    import torch

    gram = v.T @ v
    off_diagonal = gram - torch.diag(torch.diag(gram))
    return ((jacobian - u @ v.T) ** 2).sum() + alpha * u.abs().sum() + beta * (off_diagonal**2).sum()


def fit_localized(jacobian: np.ndarray, components: int, alpha: float, beta: float, lr: float, steps: int, seed: int) -> dict[str, np.ndarray]:
    """Minimise Eq. 5 with Adam under ||v_p|| = 1.

    Parameters
    ----------
    jacobian : float (m, w_dim), stacked Jacobian rows (sample x pixel).
    components : P.
    alpha, beta : weights of the sparsity of U and of the orthogonality of V.
    lr, steps : Adam.
    seed : seeds the directions that pad the SVD start when P > rank.

    Returns
    -------
    dict: ``u`` float32 (m, P), ``v`` float32 (w_dim, P) with unit columns,
    ``objective`` float64 (steps + 1,), Eq. 5 before the first step and after each.
    """
    import torch

    j = torch.as_tensor(np.asarray(jacobian, np.float32))
    _, _, vh = torch.linalg.svd(j, full_matrices=False)
    start = vh[:components].T
    if start.shape[1] < components:
        padding = torch.from_numpy(np.random.default_rng(seed).standard_normal((j.shape[1], components - start.shape[1])).astype(np.float32))
        start = torch.cat([start, padding], dim=1)
    v_free = start.clone().requires_grad_(True)
    u = (j @ (start / start.norm(dim=0))).detach().requires_grad_(True)
    optimiser = torch.optim.Adam([u, v_free], lr=lr)
    history = []
    for step in tqdm(range(steps + 1), desc="localized components", mininterval=5):
        loss = localized_objective(j, u, v_free / v_free.norm(dim=0), alpha, beta)
        history.append(loss.item())
        if step == steps:
            break
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    log.info("Eq. 5 objective: %.4g -> %.4g in %d Adam steps", history[0], history[-1], steps)
    with torch.no_grad():
        v = v_free / v_free.norm(dim=0)
    return {"u": u.detach().numpy(), "v": v.numpy(), "objective": np.asarray(history)}


def kept_components(u: np.ndarray, min_norm: float) -> np.ndarray:
    """Indices of the components whose map has norm ||u_p|| >= ``min_norm`` (the others are discarded)."""
    return np.flatnonzero(np.linalg.norm(u, axis=0) >= min_norm)


def component_maps(u: np.ndarray, num_samples: int, side: int) -> np.ndarray:
    """Each component's pixel map: mean |u_p| over the samples and colour channels, float (P, side, side)."""
    return np.abs(u).reshape(num_samples, 3, side, side, -1).mean(axis=(0, 1)).transpose(2, 0, 1)


def localized_components(model_path: str | Path, out: str | Path, seed: int, num_samples: int, components: int, alpha: float, beta: float,
                         lr: float, steps: int, min_norm: float, size: int, device: str = "auto",
                         provenance: Mapping[str, Any] | None = None) -> dict[str, np.ndarray]:
    """Localized components of a trained generator (Eq. 5), written to HDF5.

    Parameters
    ----------
    model_path : the trained ``stylegan2`` model.
    out : HDF5 with ``v`` (w_dim, P), ``u_norm`` (P,), ``kept`` (P,) bool, ``maps`` (P, size, size),
        ``sigma`` (P,) (std of the projections of 1000 latents on v_p: the unit of Fig. 7's steps),
        ``objective`` (steps + 1,).
    seed : seeds the latents and the noise.
    num_samples : latents whose Jacobians are stacked.
    components, alpha, beta, lr, steps : :func:`fit_localized` (paper: 200, 1, 1, 1e-4).
    min_norm : components with ||u_p|| below it are discarded (paper: 0.01).
    size : side of the images differentiated (the generator's output is resized to it).
    device : torch device name.

    Returns
    -------
    The arrays written.
    """
    generator = load_generator(model_path, resolve_device(device))
    jacobian = image_jacobian(generator, sample_w(generator, num_samples, seed), seed + 1, size)
    fit = fit_localized(jacobian.reshape(-1, jacobian.shape[-1]), components, alpha, beta, lr, steps, seed)
    norms = np.linalg.norm(fit["u"], axis=0)
    kept = np.zeros(components, bool)
    kept[kept_components(fit["u"], min_norm)] = True
    log.info("kept %d of %d components (||u|| >= %g)", kept.sum(), components, min_norm)
    _, sigma = projection_sigmas(sample_w(generator, 1000, seed + 2), fit["v"])
    arrays = {"v": fit["v"], "u_norm": norms, "kept": kept, "maps": component_maps(fit["u"], num_samples, size), "sigma": sigma, "objective": fit["objective"]}
    write_h5(out, arrays, attrs=provenance)
    return arrays


def read_localized(path: str | Path) -> dict[str, np.ndarray]:
    """The arrays of a file written by :func:`localized_components`."""
    try:
        with h5py.File(path, "r") as f:
            return {k: f[k][()] for k in ("v", "u_norm", "kept", "maps", "sigma", "objective")}
    except (OSError, KeyError) as err:
        raise DataError(path, f"not a file of localized components ({err})") from err


def component_label(p: int) -> str:
    """The label of component ``p`` in the figures: ``c<p>``."""
    return f"c{p}"


def dendrogram_figure(localized_path: str | Path, out: str | Path) -> Figure:
    """Zheng et al. Fig. 6: Ward dendrogram of the kept components by 1 - |cos|, each leaf's pixel map below it.

    Parameters
    ----------
    localized_path : :func:`localized_components` output.
    out : output PNG.

    Returns
    -------
    The figure: its first axes holds the dendrogram (tick labels: the leaves, ``c<p>``, the one
    naming of the components), then one axes per leaf with that component's map, in leaf order
    below its leaf, each map scaled to its own maximum (written below it: a component's maps in a.u., pixel
    intensity per unit of w) so that every component's extent shows, with the colour bar of that
    scale inset beside the last map (``fig.axes[-1].child_axes``).
    """
    plt = pyplot()
    fit = read_localized(localized_path)
    kept = np.flatnonzero(fit["kept"])
    labels = [component_label(p) for p in kept]
    fig = plt.figure(figsize=(min(MAX_WIDTH, max(4.0, 0.9 * len(kept) + 1)), 4.2))
    grid = fig.add_gridspec(2, max(len(kept), 1), height_ratios=(2.2, 1), top=0.8, hspace=0.35)  # room for a wrapped title
    tree_ax = fig.add_subplot(grid[0, :])
    if len(kept) >= 2:
        leaves = ward_dendrogram(fit["v"][:, kept], labels, tree_ax, orientation="top")
        tree_ax.set_ylabel("Ward linkage (1 - |cos|)")
    else:
        leaves = labels
        tree_ax.set_xticks(range(len(labels)), labels)
        tree_ax.text(0.5, 0.5, f"{len(kept)} component(s) kept: nothing to cluster", ha="center", transform=tree_ax.transAxes)
    ax = image = None
    for i, label in enumerate(leaves):
        ax = fig.add_subplot(grid[1, i])
        component_map = fit["maps"][kept[labels.index(label)]]
        peak = float(component_map.max())
        image = ax.imshow(component_map / peak if peak > 0 else component_map, cmap="magma", vmin=0.0, vmax=1.0)
        ax.text(0.5, -0.04, f"max {peak:.2g}", ha="center", va="top", fontsize=6, transform=ax.transAxes)
        ax.axis("off")
    if image is not None:  # in the right margin, as tall as the last map
        bar_ax = ax.inset_axes((1.12, 0.0, 0.1, 1.0))
        fig.colorbar(image, cax=bar_ax).set_label("mean |u| / map's max", fontsize=7)
        bar_ax.tick_params(labelsize=7)
    tree_ax.set_title(f"Localized components (Eq. 5): {len(kept)} of {len(fit['kept'])} kept (||u|| >= threshold); maps: mean |u| over samples", wrap=True)
    return save_figure(fig, out, dpi=100)


def sampling_figure(model_path: str | Path, localized_path: str | Path, out: str | Path, seed: int, steps: Sequence[float],
                    max_rows: int = 8, size: int = 64, device: str = "auto") -> Figure:
    """Zheng et al. Fig. 7: a generated face edited along the kept localized components.

    Parameters
    ----------
    model_path : the trained ``stylegan2`` model.
    localized_path : :func:`localized_components` output.
    out : output PNG.
    seed : seeds the edited latent and the noise.
    steps : columns, in units of each component's projection sigma.
    max_rows : at most this many kept components (those with the largest ||u_p||; when
        none is kept, the largest of all, as the title says).
    size : side of the images drawn.
    device : torch device name.

    Returns
    -------
    The figure: one row per drawn component (labelled ``c<p>``), one column per step.
    """
    generator = load_generator(model_path, resolve_device(device))
    fit = read_localized(localized_path)
    kept = np.flatnonzero(fit["kept"])
    note = "" if len(kept) else "; no component kept: the largest ||u|| shown"
    candidates = kept if len(kept) else np.arange(len(fit["kept"]))
    rows = candidates[np.argsort(-fit["u_norm"][candidates], kind="stable")[:max_rows]]
    images = edit_grid(generator, sample_w(generator, 1, seed)[0].astype(np.float64), fit["v"][:, rows].astype(np.float64), fit["sigma"][rows], steps, seed, size)
    return plot_grid(images, [component_label(p) for p in rows], steps, f"Edits along localized components w + s sigma v_p (Fig. 7){note}", out)
