"""Surface figures as Soulos & Isik (2020) show them: maps on the inflated fsaverage5 right hemisphere.

Every panel is nilearn's ``plot_surf_stat_map`` on fsaverage5's inflated mesh
with FreeSurfer's sulcal depth as background (dark: sulci), the
face-selective vertices outlined (``plot_surf_contours``), values below
``THRESHOLD`` in magnitude transparent, and a symmetric diverging colour scale
with its unit on the colour bar:

- :func:`plot_surface_rho` (Fig. 4): one subject x model, the voxelwise
  Spearman rho in the face-selective vertices, lateral and ventral views;
- :func:`plot_surface_betas` (Fig. 5/7 for one subject) and
  :func:`plot_surface_betas_group` (Fig. 5/7, subjects side by side): the beta
  maps of the labelled latent dimensions, one shared scale per dimension;
- :func:`surface_view_html`: nilearn's interactive ``view_surf`` page (both
  hemispheres can be turned with the mouse);
- :func:`plot_surface_figures`: a subject x model's rho figure, beta-map figure
  and page in one job (one import of nilearn's plotting).

Maps are read with :func:`facebrain.fmri.spaces.read_map` from their GIFTI
pairs (hemi-L, hemi-R).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from facebrain.fmri import fsaverage
from facebrain.io import read_json
from facebrain.paths import bids
from facebrain.plotting import pyplot, save_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

THRESHOLD = 1e-6
VIEWS = ("lateral", "ventral")
HEMI = "R"
ZOOM = 1.45  # of matplotlib's 3D box: the inflated hemisphere fills its panel
BETA_UNIT = "beta (% signal change per SD of the latent)"
RHO_INCHES, RHO_DPI = (9.0, 4.2), 110
"""Size and resolution of :func:`plot_surface_rho`'s figure."""
BETAS_DPI = 90
"""Resolution of :func:`plot_surface_betas_group`'s figure (its size: :func:`betas_figure_inches`)."""
PANEL_INCHES, BAR_INCHES, LEFT_INCHES = (2.1, 1.6), 0.75, 0.3
"""A beta-map panel (one view of one subject), the colour-bar strip below a row, the left margin."""


def _right(grid: np.ndarray) -> np.ndarray:
    """The right hemisphere's part of (..., 2 * 10242) vertex values."""
    return fsaverage.split_hemispheres(grid)[HEMI]


def _read(paths) -> np.ndarray:
    from facebrain.fmri.spaces import read_map

    values, space, _ = read_map(paths)
    if space != fsaverage.SPACE:
        raise ValueError(f"{paths}: a surface figure needs fsaverage5 maps, got a {space} map")
    return values


@functools.lru_cache(maxsize=1)
def _inflated_mesh():
    """The right hemisphere's inflated fsaverage5 mesh, read once per process (nilearn parses every
    fsaverage GIFTI of both hemispheres on each ``load_fsaverage``: about a fifth of a figure's CPU
    when each panel read it), in memory: nilearn's mesh of a file re-reads its GIFTI each time a
    plot asks for its coordinates or faces (~8 times a panel, ~6 ms each)."""
    from nilearn import datasets

    return datasets.load_fsaverage(fsaverage.SPACE)["inflated"].parts[fsaverage.NILEARN_HEMI[HEMI]].loaded()


def _panel(fig, ax, values: np.ndarray, outline: np.ndarray, view: str, vmax: float, title: str) -> None:
    """One right-hemisphere view: ``values`` (10242,) on the inflated mesh over sulcal depth, ``outline`` (10242,) bool contoured."""
    from nilearn import plotting

    mesh = _inflated_mesh()
    plotting.plot_surf_stat_map(
        surf_mesh=mesh, stat_map=np.where(np.abs(values) > THRESHOLD, values, 0.0), bg_map=fsaverage.hemisphere(HEMI).sulc,
        hemi="right", view=view, cmap="RdBu_r", colorbar=False, threshold=THRESHOLD, vmin=-vmax, vmax=vmax,
        symmetric_cbar=True, bg_on_data=True, axes=ax, figure=fig,
    )
    if outline.any():
        plotting.plot_surf_contours(surf_mesh=mesh, roi_map=outline.astype(int), hemi="right", levels=[1], colors=["k"], axes=ax, figure=fig)
    ax.set_box_aspect(None, zoom=ZOOM)
    ax.set_title(title, fontsize=9, y=0.92)


def _colorbar(fig, rect, vmax: float, label: str) -> None:
    """A horizontal colour bar from -vmax to vmax at ``rect`` (figure coordinates)."""
    import matplotlib as mpl

    cax = fig.add_axes(rect)
    mappable = mpl.cm.ScalarMappable(norm=mpl.colors.Normalize(-vmax, vmax), cmap="RdBu_r")
    fig.colorbar(mappable, cax=cax, orientation="horizontal").set_label(label, fontsize=8)
    cax.tick_params(labelsize=7)


def _vmax(values: np.ndarray, floor: float = 1e-3) -> float:
    finite = np.abs(values[np.isfinite(values)])
    return float(max(finite.max() if finite.size else 0.0, floor))


def plot_surface_rho(rho: Sequence[str | Path], selective: Sequence[str | Path], summary_json: str | Path, title: str, out_png: str | Path) -> Figure:
    """Paper Fig. 4 on the surface: voxelwise Spearman rho of one subject x model, right hemisphere; return the figure written (closed).

    Parameters
    ----------
    rho, selective : GIFTI pairs (hemi-L, hemi-R) of the rho map (0 outside the analysed
        vertices) and of the face-selective mask.
    summary_json : the encoding summary (``rho``, ``p``, ``n_voxels``).
    title : e.g. 'sub-01, factorvae'.
    """
    from facebrain.encoding.tables import stars

    plt = pyplot()
    values, outline = _right(_read(rho)[0]), _right(_read(selective)[0]) > 0
    summary = read_json(summary_json, "summary JSON")
    vmax = _vmax(values)
    fig = plt.figure(figsize=RHO_INCHES)
    for i, view in enumerate(VIEWS):
        ax = fig.add_axes((0.5 * i, 0.16, 0.5, 0.68), projection="3d")
        _panel(fig, ax, values, outline, view, vmax, f"right hemisphere, {view} view")
    _colorbar(fig, (0.3, 0.1, 0.4, 0.035), vmax, "Spearman rho (predicted vs measured, 20 test faces)")
    fig.suptitle(f"{title}: voxelwise Spearman rho on fsaverage5 (inflated; black outline: face-selective)\n"
                 f"mean {summary['rho']:.3f}{stars(summary['p'])} (p = {summary['p']:.4f}) over {summary['n_voxels']} face-selective vertices",
                 fontsize=10)
    return save_figure(fig, out_png, dpi=RHO_DPI)


def _labelled(labels_tsv: str | Path, min_abs_corr: float) -> list[tuple[str, int]]:
    from facebrain.encoding.tables import labelled_dimensions

    return sorted(labelled_dimensions(labels_tsv, min_abs_corr).items(), key=lambda item: item[1])


def betas_figure_inches(n_subjects: int, n_dims: int) -> tuple[float, float]:
    """Width and height (inches) of :func:`plot_surface_betas_group`'s figure: per labelled dimension
    (at least one row) a row of panels (two views per subject) above its colour bar, a title above."""
    return LEFT_INCHES + PANEL_INCHES[0] * (len(VIEWS) * n_subjects), _title_inches(n_subjects) + max(1, n_dims) * (PANEL_INCHES[1] + BAR_INCHES)


def _title_inches(n_subjects: int) -> float:
    return 0.6 if n_subjects > 1 else 1.0


def plot_surface_betas_group(betas: Sequence[str | Path], selective: Sequence[str | Path], subjects: Sequence[str],
                             labels_tsv: str | Path, title: str, out_png: str | Path, min_abs_corr: float = 0.5) -> Figure:
    """Paper Fig. 5/7 on the surface: beta maps of the labelled dimensions, subjects side by side; return the figure written (closed).

    One row per labelled dimension (:func:`facebrain.encoding.tables.labelled_dimensions`), one
    column per subject and view (right hemisphere, lateral and ventral), betas shown in the
    face-selective vertices; each row has one symmetric colour scale shared by all subjects.

    Parameters
    ----------
    betas, selective : per subject in turn, the GIFTI pair (hemi-L, hemi-R) of its beta maps (one
        array per latent dimension), and of its face-selective mask (two files per subject).
    subjects : the subjects' labels ('01', ...), in the order of ``betas``.
    labels_tsv : the model's dimension labels (the same for every subject).
    title : e.g. 'factorvae'.
    """
    from facebrain.fmri.spaces import split_maps

    plt = pyplot()
    dims = _labelled(labels_tsv, min_abs_corr)
    maps, outlines = [], []
    on_surface = [fsaverage.SPACE] * len(subjects)
    for beta_paths, sel_paths in zip(split_maps(betas, on_surface), split_maps(selective, on_surface), strict=True):
        outline = _right(_read(sel_paths)[0]) > 0
        maps.append(np.where(outline, _right(_read(beta_paths)), 0.0))
        outlines.append(outline)
    (panel_w, panel_h), bar_h, left = PANEL_INCHES, BAR_INCHES, LEFT_INCHES
    width, height = betas_figure_inches(len(subjects), len(dims))
    top = _title_inches(len(subjects))
    fig = plt.figure(figsize=(width, height))
    if not dims:
        fig.text(0.5, 0.5, f"no latent dimension matches a known factor with |r| >= {min_abs_corr}", ha="center")
    for r, (factor, dim) in enumerate(dims):
        vmax = _vmax(np.stack([m[dim] for m in maps]))
        row_top = height - top - r * (panel_h + bar_h)
        for s, subject in enumerate(subjects):
            for v, view in enumerate(VIEWS):
                x = left + (s * len(VIEWS) + v) * panel_w
                ax = fig.add_axes((x / width, (row_top - panel_h) / height, panel_w / width, panel_h / height), projection="3d")
                _panel(fig, ax, maps[s][dim], outlines[s], view, vmax, f"{bids(subject=subject)}, {view}")
        bar_w = min(4.0, 0.6 * width)
        _colorbar(fig, ((width - bar_w) / 2 / width, (row_top - panel_h - 0.12) / height, bar_w / width, 0.09 / height), vmax,
                  f"dim {dim} ~ {factor}: {BETA_UNIT}")
    import textwrap

    heading = (f"{title}: beta maps of the labelled latent dimensions, right hemisphere (fsaverage5, inflated; "
               "black outline: face-selective; one colour scale per dimension)")
    fig.suptitle(textwrap.fill(heading, int(12 * width)), fontsize=10, y=1 - 0.1 / height, va="top")
    return save_figure(fig, out_png, dpi=BETAS_DPI)


def plot_surface_betas(betas: Sequence[str | Path], selective: Sequence[str | Path], labels_tsv: str | Path, subject: str, model: str,
                       out_png: str | Path, min_abs_corr: float = 0.5) -> Figure:
    """Paper Fig. 5/7 for one subject (see :func:`plot_surface_betas_group`): ``subject`` a label ('01'), ``model`` its name."""
    return plot_surface_betas_group(betas, selective, [subject], labels_tsv, model, out_png, min_abs_corr)


def plot_surface_figures(rho: Sequence[str | Path], selective: Sequence[str | Path], summary_json: str | Path, betas: Sequence[str | Path],
                         labels_tsv: str | Path, subject: str, model: str, out_rho: str | Path, out_betas: str | Path, out_view: str | Path,
                         min_abs_corr: float = 0.5) -> tuple[Figure, Figure]:
    """Pipeline step: one subject x model's surface figures in one process (importing ``nilearn.plotting``
    costs a job ~2.5-3 CPU-s, about as much as drawing a figure; the inflated mesh is read once):
    :func:`plot_surface_rho` to ``out_rho``, :func:`plot_surface_betas` to ``out_betas`` and
    :func:`surface_view_html` of the rho map to ``out_view``, titled '<sub-XX>, <model>'.
    ``subject`` is a label ('01'); the other arguments are those of the three functions.
    Returns the two figures (closed)."""
    title = f"{bids(subject=subject)}, {model}"
    figures = (plot_surface_rho(rho, selective, summary_json, title, out_rho),
               plot_surface_betas(betas, selective, labels_tsv, subject, model, out_betas, min_abs_corr))
    surface_view_html(rho, title, out_view)
    return figures


def surface_view_html(values: Sequence[str | Path], title: str, out_html: str | Path, label: str = "Spearman rho") -> None:
    """An interactive page (nilearn ``view_surf``) of a map on both inflated hemispheres over sulcal depth.

    Parameters
    ----------
    values : the GIFTI pair (hemi-L, hemi-R) of the map (first data array).
    title : shown above the brain, with ``label`` (the map's quantity and unit).
    """
    from nilearn import datasets, plotting

    from facebrain.fmri.spaces import surface_image
    from facebrain.io import write_text

    grid = _read(values)[0]
    mesh = datasets.load_fsaverage(fsaverage.SPACE)["inflated"]
    sulc = surface_image(np.concatenate([fsaverage.hemisphere(h).sulc for h in fsaverage.HEMIS]))
    view = plotting.view_surf(surf_mesh=mesh, surf_map=surface_image(grid), bg_map=sulc, hemi="both", threshold=THRESHOLD,
                              vmax=_vmax(grid), symmetric_cmap=True, bg_on_data=True, title=f"{title}: {label}", title_fontsize=14)
    write_text(out_html, view.get_standalone())
