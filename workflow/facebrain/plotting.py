"""Headless matplotlib and atomic figure saving, shared by every figure module."""

from __future__ import annotations

import contextlib
import gc
import logging
from collections.abc import Iterator
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


@contextlib.contextmanager
def frozen_gc() -> Iterator[None]:
    """Exempt every object that exists on entry from garbage collection until exit.

    nilearn (0.13) runs a full ``gc.collect()`` each time it reads an image's data
    (``safe_get_data``), several times per ``plot_stat_map``; in a figure of many panels each
    collection walks every matplotlib object drawn so far (a 16-panel beta-map figure spent 2/3
    of its CPU there). Wrap each nilearn call: its collections then walk only the objects that
    call creates. Objects are collected as usual after exit.
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


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
