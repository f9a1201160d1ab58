"""Writing NIfTI images atomically with provenance."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from facebrain.io import atomic_path
from facebrain.provenance import add_nifti_provenance


def save_nifti(img, path: str | Path, provenance: Mapping[str, Any] | None = None) -> None:
    """Save a nibabel image to ``path`` atomically, with an optional provenance extension."""
    import nibabel as nib

    if provenance:
        img = add_nifti_provenance(img, provenance)
    with atomic_path(path) as tmp:
        nib.save(img, str(tmp))
