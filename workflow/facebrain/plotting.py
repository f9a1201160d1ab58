"""Headless matplotlib and atomic figure saving, shared by every figure module."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from facebrain.io import atomic_path

log = logging.getLogger(__name__)


def pyplot():
    """Return ``matplotlib.pyplot`` on the non-interactive Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, out: str | Path, dpi: int = 120, **savefig_kwargs: Any) -> None:
    """Write ``fig`` to ``out`` atomically (format from the suffix), close it and log the path."""
    with atomic_path(out) as tmp:
        fig.savefig(tmp, dpi=dpi, **savefig_kwargs)
    pyplot().close(fig)
    log.info("wrote %s", out)
