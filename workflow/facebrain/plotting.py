"""Headless matplotlib and atomic figure saving, shared by every figure module."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from facebrain.io import atomic_path

if TYPE_CHECKING:
    from matplotlib.figure import Figure

log = logging.getLogger(__name__)


def pyplot():
    """Return ``matplotlib.pyplot`` on the non-interactive Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig: Figure, out: str | Path, dpi: int = 120, **savefig_kwargs: Any) -> Figure:
    """Write ``fig`` to ``out`` atomically (format from the suffix), close it and log the path.

    Returns
    -------
    Figure
        ``fig`` itself (closed: its axes, images and texts remain readable), so
        that a figure function can return what it drew and tests can check it.
    """
    with atomic_path(out) as tmp:
        fig.savefig(tmp, dpi=dpi, **savefig_kwargs)
    pyplot().close(fig)
    log.info("wrote %s", out)
    return fig
