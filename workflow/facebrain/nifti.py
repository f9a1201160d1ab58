"""Reading NIfTI and GIFTI images with errors that name the file; writing them atomically with provenance
(attached and read back here: a JSON extension of a NIfTI, metadata of a GIFTI).

Every reader of an image goes through :func:`load_nifti` or :func:`load_gifti`:
nibabel reads only a NIfTI's header on ``load`` and the data later, so a
truncated or corrupt file would otherwise fail far from its name (a bare
``EOFError`` from gzip). These read everything at once and raise
:class:`facebrain.errors.DataError` naming the file and the problem.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from facebrain.errors import DataError
from facebrain.io import atomic_path


def load_nifti(path: str | Path, what: str = "NIfTI image", dtype=None):
    """Read a NIfTI file's header and all its data.

    Parameters
    ----------
    path : a ``.nii`` or ``.nii.gz`` file.
    what : what the file is, for the error message ('BOLD image', 'brain mask', ...).
    dtype : numpy dtype to read the data as (None: nibabel's, with the header's scaling applied).

    Returns
    -------
    A nibabel image whose ``dataobj`` is the data in memory (same affine and header).

    Raises
    ------
    DataError
        naming ``path`` when it is missing, not a NIfTI, or truncated/corrupt (e.g. a gzip
        stream that ends early).
    """
    import nibabel as nib

    try:
        img = nib.load(str(path))
        data = np.asarray(img.dataobj, dtype=dtype)
    except Exception as exc:  # nibabel, gzip and zlib raise many types for unreadable files
        raise DataError(path, f"cannot read {what}: {type(exc).__name__}: {exc}") from exc
    if not isinstance(img, nib.Nifti1Image):
        raise DataError(path, f"{what} is a {type(img).__name__}, expected a NIfTI image")
    return img.__class__(data, img.affine, img.header)


def check_nifti(path: str | Path, what: str = "NIfTI image") -> None:
    """Read ``path`` to the end and discard it; DataError naming the file if it cannot be read (:func:`load_nifti`)."""
    load_nifti(path, what)


def load_gifti(path: str | Path, what: str = "GIFTI image"):
    """Read a GIFTI file (XML and every data array).

    Returns
    -------
    the nibabel ``GiftiImage``.

    Raises
    ------
    DataError
        naming ``path`` when it is missing, truncated, not valid GIFTI XML, or has no data array.
    """
    import nibabel as nib

    try:
        img = nib.load(str(path))
        arrays = [d.data for d in img.darrays] if isinstance(img, nib.gifti.GiftiImage) else []
    except Exception as exc:  # nibabel, expat, base64 and zlib raise many types for unreadable files
        raise DataError(path, f"cannot read {what}: {type(exc).__name__}: {exc}") from exc
    if not arrays:
        raise DataError(path, f"{what} is not a GIFTI image with data arrays")
    return img


NIFTI_EXTENSION_CODE = 6  # NIfTI-1 'comment' extension


def add_nifti_provenance(img, provenance: Mapping[str, Any]):
    """Attach a provenance record to a nibabel NIfTI image as a JSON comment extension; return the image."""
    import nibabel as nib

    ext = nib.nifti1.Nifti1Extension(NIFTI_EXTENSION_CODE, json.dumps(dict(provenance), sort_keys=True).encode())
    img.header.extensions.append(ext)
    return img


def read_nifti_provenance(path: str | Path) -> dict[str, Any]:
    """Return the provenance record stored in a NIfTI file by :func:`add_nifti_provenance` ({} if none)."""
    import nibabel as nib

    try:
        img = nib.load(str(path))
    except Exception as exc:  # nibabel raises many types for unreadable files
        raise DataError(path, f"cannot read NIfTI header: {type(exc).__name__}: {exc}") from exc
    for ext in img.header.extensions:
        if ext.get_code() == NIFTI_EXTENSION_CODE:
            try:
                return json.loads(ext.get_content())
            except (ValueError, TypeError):
                continue
    return {}


GIFTI_META_KEY = "facebrain_provenance"


def add_gifti_provenance(img, provenance: Mapping[str, Any]):
    """Attach a provenance record to a nibabel GIFTI image as JSON in its file metadata; return the image."""
    img.meta[GIFTI_META_KEY] = json.dumps(dict(provenance), sort_keys=True)
    return img


def read_gifti_provenance(path: str | Path) -> dict[str, Any]:
    """Return the provenance record stored in a GIFTI file by :func:`add_gifti_provenance` ({} if none)."""
    text = load_gifti(path).meta.get(GIFTI_META_KEY)
    return json.loads(text) if text else {}


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
