"""Writing NIfTI and GIFTI images atomically with provenance."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from facebrain.io import atomic_path
from facebrain.provenance import add_gifti_provenance, add_nifti_provenance


def save_nifti(img, path: str | Path, provenance: Mapping[str, Any] | None = None) -> None:
    """Save a nibabel image to ``path`` atomically, with an optional provenance extension."""
    import nibabel as nib

    if provenance:
        img = add_nifti_provenance(img, provenance)
    with atomic_path(path) as tmp:
        nib.save(img, str(tmp))


def gifti_image(arrays, structure: str, intent: str = "NIFTI_INTENT_NONE", names=None, meta=None, labels=None,
                encoding: str = "GIFTI_ENCODING_B64GZ"):
    """A GIFTI image with one float32 data array per row of ``arrays``.

    Parameters
    ----------
    arrays : (n_arrays, n_vertices) or (n_vertices,) values (one row per volume of a time
        series, or per map).
    structure : the file's ``AnatomicalStructurePrimary`` ('CortexLeft' or 'CortexRight', as fMRIPrep writes).
    intent : NIfTI intent of every data array, e.g. 'NIFTI_INTENT_TIME_SERIES' for BOLD,
        'NIFTI_INTENT_ESTIMATE' for betas, 'NIFTI_INTENT_LABEL' for integer labels.
    names : optional name of each array (stored as the array's ``Name`` metadata).
    meta : further file-level metadata (str -> str).
    labels : for a label image, integer key -> label name (the GIFTI label table).
    encoding : 'GIFTI_ENCODING_B64GZ' (gzipped base64, for maps) or 'GIFTI_ENCODING_B64BIN'
        (base64: noisy float time series do not compress, and writing them is 8 times faster).
    """
    import nibabel as nib

    rows = np.atleast_2d(np.asarray(arrays))
    dtype = np.int32 if intent == "NIFTI_INTENT_LABEL" else np.float32
    darrays = []
    for i, row in enumerate(rows):
        array_meta = nib.gifti.GiftiMetaData({"Name": str(names[i])}) if names is not None else None
        darrays.append(nib.gifti.GiftiDataArray(np.ascontiguousarray(row, dtype=dtype), intent=intent, meta=array_meta, encoding=encoding))
    file_meta = nib.gifti.GiftiMetaData({"AnatomicalStructurePrimary": structure, **{str(k): str(v) for k, v in (meta or {}).items()}})
    table = None
    if labels is not None:
        table = nib.gifti.GiftiLabelTable()
        for key, name in sorted(labels.items()):
            label = nib.gifti.GiftiLabel(key=int(key))
            label.label = str(name)
            table.labels.append(label)
    return nib.gifti.GiftiImage(darrays=darrays, meta=file_meta, labeltable=table)


def save_gifti(img, path: str | Path, provenance: Mapping[str, Any] | None = None) -> None:
    """Save a nibabel GIFTI image to ``path`` atomically, with an optional provenance record in its metadata."""
    import nibabel as nib

    if provenance:
        img = add_gifti_provenance(img, provenance)
    with atomic_path(path) as tmp:
        nib.save(img, str(tmp))
