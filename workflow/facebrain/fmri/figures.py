"""Overview figure of a subject's fMRI data: the design of a faces run, a localizer run, and (simulated data) the planted maps."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from facebrain.errors import DataError
from facebrain.fmri import layout
from facebrain.paths import bids

if TYPE_CHECKING:
    from matplotlib.figure import Figure


TRIAL_ROWS = ("train_face", "test_face", "fix", "img")
TRIAL_COLOURS = {"train_face": "tab:blue", "test_face": "tab:red", "fix": "0.5", "img": "tab:purple",
                 "face": "tab:red", "object": "tab:green"}


def plot_fmri_overview(bids_root: str | Path, subject: str, out: str | Path) -> Figure:
    """Write a PNG: events of the first faces run that shows test faces (with the face regressor),
    the first localizer run's blocks, and -- when ``ground_truth/`` exists (simulated data) -- the
    planted face regions and tuning maps (axial maximum-intensity projections).

    Parameters
    ----------
    bids_root : dataset root (``resources/simfmri`` or ``resources/ds001761``).
    subject : label ('01').
    out : the PNG to write.

    Returns
    -------
    Figure
        The figure written (closed).
    """
    from facebrain.plotting import pyplot, save_figure

    plt = pyplot()
    from nilearn.glm.first_level import compute_regressor

    from facebrain.fmri.reader import BidsFmriDataset

    data = BidsFmriDataset(bids_root)
    faces = data.runs(subject, "faces")
    run = next((r for r in faces if (r.events.trial_type == "test_face").any()), faces[0])
    truth = Path(bids_root) / layout.truth_file(subject, "tuning", "weights")
    maps = _planted_slices(truth, Path(bids_root) / layout.truth_file(subject, "faceregions", "mask")) if truth.is_file() else None
    n_maps = 0 if maps is None else maps[0].shape[-1] + 1
    fig = plt.figure(figsize=(max(12, 3.4 * n_maps), 9 if maps is not None else 5), constrained_layout=True)
    grid = fig.add_gridspec(3 if maps is not None else 2, max(n_maps, 1), height_ratios=[1.3, 0.5, 1.2][: 3 if maps is not None else 2])

    ax = fig.add_subplot(grid[0, :])
    ev = run.events
    for row, kind in enumerate(TRIAL_ROWS):
        sel = ev[ev.trial_type == kind]
        ax.broken_barh(list(zip(sel.onset, sel.duration)), (row - 0.4, 0.8), color=TRIAL_COLOURS[kind])
        one = sel[sel.oneback == 1]
        ax.plot(one.onset, np.full(len(one), row + 0.45), "kv", markersize=4, label="one-back repeat" if row == 0 else None)
    n_vol = len(run.confounds) if run.confounds_path.is_file() else int(np.ceil((ev.onset + ev.duration).max() / run.tr)) + 5
    t = np.arange(n_vol) * run.tr
    face = ev.trial_type.isin(["train_face", "test_face"])
    reg = compute_regressor(np.vstack([ev.onset[face], ev.duration[face], np.ones(face.sum())]), "glover", t)[0][:, 0]
    ax.plot(t, len(TRIAL_ROWS) - 0.5 + reg / max(reg.max(), 1e-9), color="k", lw=1, label="face regressor (Glover HRF)")
    ax.set_yticks(range(len(TRIAL_ROWS)), TRIAL_ROWS)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("trial type")
    ax.set_title(f"{bids(subject=subject, session=run.session, task='faces', run=run.run)}: {int(face.sum())} face trials, TR {run.tr:g} s")
    ax.legend(loc="upper right", fontsize=8)

    ax = fig.add_subplot(grid[1, :])
    try:
        loc = data.runs(subject, "loc")[0]
    except DataError:  # a subject without localizer runs: say so in the panel
        ax.text(0.5, 0.5, "no task-loc run", ha="center", va="center", transform=ax.transAxes)
    else:
        for block in loc.events.itertuples():
            ax.broken_barh([(block.onset, block.duration)], (0, 1), color=TRIAL_COLOURS.get(block.trial_type, "0.8"), alpha=0.7)
            ax.text(block.onset + block.duration / 2, 0.5, block.trial_type, ha="center", va="center")
        ax.set_title(f"task-loc run-{loc.run:02d} (ses-{loc.session}): 16 s blocks")
    ax.set_xlabel("time (s)")
    ax.set_yticks([])

    if maps is not None:
        tuning, regions, factors, z_mm = maps
        ax = fig.add_subplot(grid[2, 0])
        im = ax.imshow(regions.T, origin="lower", cmap="Greys", vmin=0, vmax=1)
        ax.set_title(f"planted face regions\n(max over z = {z_mm} mm)", fontsize=9)
        ax.set_xlabel("x (voxels, L to R)")
        ax.set_ylabel("y (voxels, P to A)")
        fig.colorbar(im, ax=ax, shrink=0.7, label="face-selective")
        vmax = max(float(tuning.max()), 1e-6)
        for i, name in enumerate(factors):
            ax = fig.add_subplot(grid[2, i + 1])
            im = ax.imshow(tuning[..., i].T, origin="lower", cmap="magma", vmin=0, vmax=vmax)
            ax.contour(regions.T, levels=[0.5], colors="c", linewidths=0.5)
            ax.set_title(f"planted tuning: {name}\n(max over z)", fontsize=9)
            ax.set_xlabel("x (voxels)")
            fig.colorbar(im, ax=ax, shrink=0.7, label="% signal / SD")
    return save_figure(fig, out, dpi=110)


def _planted_slices(path: Path, regions_path: Path):
    """Axial maximum-intensity projections: tuning (X, Y, F), regions (X, Y), factor names, z range (mm)."""
    import json

    from facebrain.nifti import load_nifti

    img = load_nifti(path, "planted tuning map", dtype=float)
    tuning = np.asarray(img.dataobj)
    regions = np.asarray(load_nifti(regions_path, "planted face regions").dataobj) > 0
    factors = json.loads((path.parent / "factors.json").read_text())
    z = [float((img.affine @ np.array([0, 0, k, 1]))[2]) for k in (0, tuning.shape[2] - 1)]
    return tuning.max(axis=2), regions.any(axis=2), factors, f"{z[0]:g} to {z[1]:g}"
