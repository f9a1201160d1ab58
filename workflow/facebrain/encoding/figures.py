"""Figures of the encoding stage: voxelwise rho and beta maps (nilearn), reconstructions, group summaries."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from facebrain.io import read_json
from facebrain.plotting import frozen_gc, pyplot, save_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def _slices(img, n: int = 5) -> list[float]:
    """z coordinates (mm) of the ``n`` axial slices with the most non-zero voxels of ``img``, in order."""
    data = np.asarray(img.dataobj)
    data = data if data.ndim == 3 else np.abs(data).max(axis=3)
    counts = (data != 0).sum(axis=(0, 1))
    picks = np.sort(np.argsort(-counts, kind="stable")[: min(n, counts.size)])
    return [float((img.affine @ [0, 0, k, 1])[2]) for k in picks]


def _brain_outline(display, brain_mask) -> None:
    """Draw the brain mask's outline on a nilearn display."""
    with frozen_gc():
        display.add_contours(brain_mask, levels=[0.5], colors="0.4", linewidths=0.8)


def plot_rho_map(rho_nii: str | Path, brain_mask_nii: str | Path, summary_json: str | Path, title: str, out_png: str | Path) -> Figure:
    """Paper Fig. 4: voxelwise Spearman rho in the face-selective voxels on axial slices, with a colour bar
    from -max|rho| to max|rho|; return the figure written (closed)."""
    from nilearn import plotting

    from facebrain.encoding.tables import stars
    from facebrain.nifti import load_nifti

    plt = pyplot()
    rho, bg = load_nifti(rho_nii, "rho map"), load_nifti(brain_mask_nii, "brain mask")
    summary = read_json(summary_json, "summary JSON")
    fig = plt.figure(figsize=(12, 3.2))
    vmax = max(float(np.abs(np.asarray(rho.dataobj)).max()), 1e-3)
    with frozen_gc():
        display = plotting.plot_stat_map(
            rho, bg_img=None, display_mode="z", cut_coords=_slices(rho), cmap="RdBu_r", vmax=vmax, symmetric_cbar=True, colorbar=True, figure=fig,
            title=f"{title}: voxelwise Spearman rho (colour), mean {summary['rho']:.3f}{stars(summary['p'])} "
            f"(p = {summary['p']:.4f}, {summary['n_voxels']} face-selective voxels)",
            black_bg=False, draw_cross=False, annotate=True,
        )
    _brain_outline(display, bg)
    return save_figure(fig, out_png, dpi=120, bbox_inches="tight")


def plot_beta_maps(betas_nii: str | Path, zmaps_nii: str | Path, selective_nii: str | Path, labels_tsv: str | Path, title: str, out_png: str | Path,
                   min_abs_corr: float = 0.5, fdr_alpha: float = 0.05) -> Figure:
    """Paper Fig. 5/7: the beta map (% signal change per SD of the latent) of each labelled dimension, and its z map.

    One row per labelled dimension (:func:`facebrain.encoding.tables.labelled_dimensions`),
    restricted to the face-selective voxels, axial slices: left the betas (shared symmetric colour
    scale), right the GLM's z map thresholded by Benjamini-Hochberg FDR at ``fdr_alpha`` over the
    face-selective voxels (two-sided). Returns the figure written (closed).
    """
    from nilearn import image, plotting
    from scipy import stats

    from facebrain.encoding.permutation import fdr_bh
    from facebrain.encoding.tables import labelled_dimensions
    from facebrain.nifti import load_nifti

    plt = pyplot()
    betas, selective = load_nifti(betas_nii, "beta map"), load_nifti(selective_nii, "face-selective mask")
    dims = labelled_dimensions(labels_tsv, min_abs_corr)
    inside = np.asarray(selective.dataobj) > 0
    data, zdata = np.asarray(betas.dataobj), np.asarray(load_nifti(zmaps_nii, "z map").dataobj)
    if data.ndim == 3:
        data, zdata = data[..., None], zdata[..., None]
    fig = plt.figure(figsize=(18, 2.6 * max(1, len(dims)) + 0.4))
    if not dims:
        fig.text(0.5, 0.5, f"no latent dimension matches a known factor with |r| >= {min_abs_corr}", ha="center")
    vmax = max(float(np.abs(data[inside]).max()) if inside.any() else 1.0, 1e-6)
    cuts = _slices(selective)
    for row, (factor, dim) in enumerate(sorted(dims.items(), key=lambda item: item[1])):
        height, bottom = 0.9 / len(dims), 1 - (row + 1) / len(dims)
        z = zdata[..., dim][inside]
        significant, _ = fdr_bh(2 * stats.norm.sf(np.abs(z)), fdr_alpha)
        z_shown = np.zeros(inside.shape, np.float32)
        z_shown[inside] = np.where(significant, z, 0.0)
        for col, (values, label, cmap, top) in enumerate([
            (np.where(inside, data[..., dim], 0.0), "beta (% signal change per SD)", "RdBu_r", vmax),
            (z_shown, f"z, FDR q < {fdr_alpha} ({int(significant.sum())} voxels)", "RdBu_r", max(float(np.abs(z).max()) if z.size else 1.0, 1e-6)),
        ]):
            ax = fig.add_axes((0.5 * col, bottom, 0.5, height))
            with frozen_gc():
                display = plotting.plot_stat_map(image.new_img_like(selective, values), bg_img=None, display_mode="z", cut_coords=cuts, cmap=cmap,
                                                 vmax=top, symmetric_cbar=True, colorbar=True, axes=ax, title=f"dim {dim} ~ {factor}: {label}",
                                                 black_bg=False, draw_cross=False)
            _brain_outline(display, selective)
    fig.suptitle(f"{title}: beta and FDR-thresholded z maps of the labelled latent dimensions (face-selective voxels)", y=1.02)
    return save_figure(fig, out_png, dpi=120, bbox_inches="tight")


def plot_volume_figures(rho_nii: str | Path, brain_mask_nii: str | Path, summary_json: str | Path, betas_nii: str | Path, zmaps_nii: str | Path,
                        selective_nii: str | Path, labels_tsv: str | Path, title: str, out_rho: str | Path, out_betas: str | Path,
                        min_abs_corr: float = 0.5, fdr_alpha: float = 0.05) -> tuple[Figure, Figure]:
    """Pipeline step: one subject x model's volume figures, :func:`plot_rho_map` (Fig. 4) to ``out_rho`` and
    :func:`plot_beta_maps` (Fig. 5/7) to ``out_betas``, in one process: importing ``nilearn.plotting`` costs a
    job ~2.5-3 CPU-s, about as much as drawing a figure. Arguments are those of the two functions; returns
    both figures (closed)."""
    return (plot_rho_map(rho_nii, brain_mask_nii, summary_json, title, out_rho),
            plot_beta_maps(betas_nii, zmaps_nii, selective_nii, labels_tsv, title, out_betas, min_abs_corr, fdr_alpha))


def plot_reconstructions(model_path: str | Path, decoded_h5: str | Path, latents_h5: str | Path, bids_root: str | Path, subject: str, title: str, out_png: str | Path, device: str = "auto") -> Figure:
    """VanRullen & Reddy Fig.: test faces (top), the model's reconstruction of their true latents
    (middle) and the reconstruction of the latents decoded from the brain (bottom); return the figure written (closed)."""
    import h5py
    from PIL import Image

    from facebrain.datasets.faces import preprocess_face
    from facebrain.datasets.prepared import image_floats
    from facebrain.encoding.glm import read_stimulus_latents
    from facebrain.encoding.stimuli import subject_stimuli
    from facebrain.models.latents import decode_latents

    plt = pyplot()
    with h5py.File(decoded_h5, "r") as f:
        decoded = f["decoded"][()]
        tests = list(f["test_faces"].asstr()[()])
    latents, _ = read_stimulus_latents(latents_h5)
    names, _, paths = subject_stimuli(bids_root, subject)
    path_of = dict(zip(names, paths))
    truth = []
    for name in tests:
        with Image.open(path_of[name]) as img:
            truth.append(preprocess_face(img.convert("RGB")))
    own = decode_latents(model_path, np.stack([latents[t] for t in tests]), device=device)
    brain = decode_latents(model_path, decoded, device=device)
    rows = [("test face", image_floats(np.stack(truth))), ("model (true latents)", own), ("decoded from fMRI", brain)]
    n = len(tests)
    fig, axes = plt.subplots(3, n, figsize=(1.1 * n, 3.8), squeeze=False)
    for r, (label, imgs) in enumerate(rows):
        for c in range(n):
            ax = axes[r, c]
            ax.imshow(np.clip(imgs[c].squeeze(), 0, 1), cmap="gray" if imgs.shape[-1] == 1 else None)
            ax.set_xticks([])
            ax.set_yticks([])
            if c == 0:
                ax.set_ylabel(label, fontsize=7)
            if r == 0:
                ax.set_title(tests[c], fontsize=6)
    fig.suptitle(f"{title}: reconstructions of the test faces")
    return save_figure(fig, out_png, dpi=120, bbox_inches="tight")


def plot_group(table_csv: str | Path, value: str, chance: float | None, ylabel: str, title: str, out_png: str | Path) -> Figure:
    """Group figure: ``value`` per model (bars: mean over subjects, dots: subjects, stars from each subject's p), one panel per space;
    return the figure written (closed)."""
    from facebrain.encoding.tables import stars

    plt = pyplot()
    table = pd.read_csv(table_csv)
    table = table[table.p.notna() & (table.kind == "model" if "kind" in table else True)]
    models = list(dict.fromkeys(table.model))
    subjects = list(dict.fromkeys(table.subject))
    spaces = list(dict.fromkeys(table.space))
    fig, axes = plt.subplots(1, len(spaces), figsize=(len(spaces) * (1.2 * len(models) + 2.5), 3.8), sharey=True, squeeze=False)
    for ax, space in zip(axes[0], spaces):
        block = table[table.space == space]
        means = block.groupby("model", sort=False)[value].mean().reindex(models)
        ax.bar(range(len(models)), means, color="0.8", edgecolor="0.3", label="mean over subjects")
        width = 0.6 / max(1, len(subjects))
        for s, subject in enumerate(subjects):
            rows = block[block.subject == subject].set_index("model").reindex(models)
            x = np.arange(len(models)) - 0.3 + width * (s + 0.5)
            ax.scatter(x, rows[value], s=18, zorder=3, label=subject)
            for xi, v, p in zip(x, rows[value], rows.p):
                if np.isfinite(v):
                    ax.annotate(stars(p), (xi, v), textcoords="offset points", xytext=(0, 3), ha="center", fontsize=7)
        if chance is not None:
            ax.axhline(chance, color="k", ls="--", lw=0.8, label="chance")
        ax.axhline(0, color="k", lw=0.5)
        ax.set_xticks(range(len(models)), models, rotation=30, ha="right")
        ax.set_xlabel("model")
        ax.set_title(f"space-{space}", fontsize=9)
    axes[0][0].set_ylabel(ylabel)
    axes[0][-1].legend(fontsize=7, loc="best")
    fig.suptitle(title)
    return save_figure(fig, out_png, dpi=120, bbox_inches="tight")


def plot_ceiling(table1_csv: str | Path, out_png: str | Path) -> Figure:
    """Models vs the noise ceiling, one panel per subject: bars = each model's rho, red lines = the ceiling of the
    measured responses it is scored against (its GLM's test betas), bar labels = rho as a percentage of that ceiling;
    one panel per subject and space. Returns the figure written (closed)."""
    plt = pyplot()
    table = pd.read_csv(table1_csv)
    table = table[table.kind == "model"]
    panels = list(dict.fromkeys(zip(table.subject, table.space)))
    fig, axes = plt.subplots(1, len(panels), figsize=(2.6 * len(panels) + 1, 3.6), sharey=True, squeeze=False)
    for ax, (subject, space) in zip(axes[0], panels):
        rows = table[(table.subject == subject) & (table.space == space)]
        x = np.arange(len(rows))
        ax.bar(x, rows.rho, color="0.7", edgecolor="0.3")
        ax.hlines(rows.ceiling, x - 0.45, x + 0.45, color="C3", lw=2, label="noise ceiling of the model's fit")
        for xi, rho, frac in zip(x, rows.rho, rows.rho_ceiling):
            ax.annotate(f"{100 * frac:.0f}%", (xi, max(rho, 0)), textcoords="offset points", xytext=(0, 3), ha="center", fontsize=7)
        ax.axhline(0, color="k", lw=0.5)
        ax.set_xticks(x, rows.model, rotation=30, ha="right")
        ax.set_title(f"{subject} space-{space}", fontsize=9)
    top = float(np.nanmax(np.concatenate([table.ceiling.to_numpy(), table.rho.to_numpy()])))
    axes[0, 0].set_ylim(top=1.3 * top if np.isfinite(top) and top > 0 else None)
    axes[0, 0].legend(fontsize=7, loc="upper left")
    axes[0, 0].set_ylabel("mean Spearman rho (face-selective voxels)")
    fig.suptitle("Encoding accuracy against the noise ceiling (labels: % of the ceiling)")
    return save_figure(fig, out_png, dpi=120, bbox_inches="tight")


def plot_group_figures(table1_csv: str | Path, decoding_csv: str | Path, out_rho: str | Path, out_decoding: str | Path,
                       out_ceiling: str | Path) -> tuple[Figure, Figure, Figure]:
    """Pipeline step: the group figures of encoding (from results/table1.csv: per model, and against the noise ceiling)
    and decoding (results/tables/decoding.csv); return the three figures (closed)."""
    rho = plot_group(table1_csv, "rho", None, "mean Spearman rho (face-selective voxels)", "Encoding accuracy per model and subject (*** p < 0.001)", out_rho)
    decoding = plot_group(decoding_csv, "pairwise_accuracy", 0.5, "pairwise identification accuracy", "Decoding: pairwise identification of the test faces", out_decoding)
    return rho, decoding, plot_ceiling(table1_csv, out_ceiling)
