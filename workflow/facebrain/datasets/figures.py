"""Figures of the input datasets: samples and one-factor sweeps."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def _image_grid(out: str | Path, title: str, rows: list[tuple[str, list[np.ndarray], list[str]]], cmap: str | None = None) -> Figure:
    """Save a labelled grid: one row per (label, images, per-image captions); return the figure (closed)."""
    from facebrain.plotting import pyplot, save_figure

    plt = pyplot()

    n_cols = max(len(images) for _, images, _ in rows)
    height, width = rows[0][1][0].shape[:2]
    cell = 1.3
    fig, axes = plt.subplots(len(rows), n_cols, figsize=(cell * n_cols * width / height + 1.6, cell * len(rows) + 0.8), squeeze=False)
    for r, (label, images, captions) in enumerate(rows):
        for c in range(n_cols):
            ax = axes[r, c]
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(False)
            if c < len(images):
                ax.imshow(images[c], cmap=cmap, vmin=0, vmax=255 if images[c].max() > 1 else 1, interpolation="nearest")
                if captions[c]:
                    ax.set_title(captions[c], fontsize=7, pad=2)
        axes[r, 0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=9)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return save_figure(fig, out, dpi=110)


def synthfaces_figure(root: str | Path, out: str | Path, n_samples: int = 8, steps: int = 7) -> Figure:
    """Sample SynthFaces images, then one sweep per factor with all other factors at 0.

    Parameters
    ----------
    root : the SynthFaces folder (CelebA layout).
    out : output ``.png``.
    n_samples : images per sample row (two sample rows).
    steps : values per sweep, evenly spaced in [-1, 1] (eyeglasses: 0 and 1).

    Returns
    -------
    Figure
        The figure written (closed): two sample rows, then one row per factor.
    """
    from facebrain.datasets.celeba import CelebALayout
    from facebrain.datasets.synthfaces import BINARY_FACTORS, FACTOR_NAMES, render_face

    layout = CelebALayout(root)
    names = list(layout.partition().index[: 2 * n_samples])
    samples = [np.asarray(layout.read_image(name)) for name in names]
    rows = [(f"samples {i + 1}", samples[i * n_samples : (i + 1) * n_samples], names[i * n_samples : (i + 1) * n_samples])
            for i in range(2) if samples[i * n_samples : (i + 1) * n_samples]]
    for factor in FACTOR_NAMES:
        values = [0.0, 1.0] if factor in BINARY_FACTORS else np.linspace(-1, 1, steps)
        rows.append((factor, [render_face({factor: v}) for v in values], [f"{v:+.2f}" for v in values]))
    return _image_grid(out, "SynthFaces: samples (top) and one-factor sweeps (others at 0)", rows)


def dsprites_figure(npz: str | Path, out: str | Path, n_samples: int = 8, seed: int = 0) -> Figure:
    """Random dSprites images, then one sweep per factor through its grid (others at a fixed setting).

    Parameters
    ----------
    npz : the dSprites npz.
    out : output ``.png``.
    n_samples : random images per sample row (two rows).
    seed : seeds the choice of samples.

    Returns
    -------
    Figure
        The figure written (closed): two sample rows, then one row per factor but colour.
    """
    from facebrain.datasets.dsprites import DSprites, LATENT_NAMES, SHAPES

    data = DSprites(npz)
    rng = np.random.default_rng(seed)
    pick = np.sort(rng.choice(data.n, size=min(2 * n_samples, data.n), replace=False))
    imgs = data.images(pick)
    rows = [(f"samples {i + 1}", list(imgs[i * n_samples : (i + 1) * n_samples]), [""] * n_samples) for i in range(2)]
    sizes = data.latents_sizes
    base = np.array([0, 2, sizes[2] - 1, 0, sizes[4] // 2, sizes[5] // 2])  # a large heart, upright, centred
    for axis, name in enumerate(LATENT_NAMES):
        if name == "color":
            continue
        count = min(int(sizes[axis]), 8)
        steps = np.unique(np.round(np.linspace(0, sizes[axis] - 1, count)).astype(int))
        classes = np.repeat(base[None], len(steps), axis=0)
        classes[:, axis] = steps
        values = data.latents_values[data.index(classes), axis]
        captions = [SHAPES[int(v)] if name == "shape" else f"{v:.2f}" for v in values]
        rows.append((name, list(data.images(data.index(classes))), captions))
    return _image_grid(out, "dSprites: samples (top) and one-factor sweeps", rows, cmap="gray")
