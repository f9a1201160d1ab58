"""Provenance records attached to every HDF5 and NIfTI output.

A record says which rule made a file, with which parameters (and their hash),
from which inputs (with checksums), under which package versions and git
revision. ``results/provenance.json`` collects them.
"""

from __future__ import annotations

import functools
import hashlib
import json
import subprocess
from collections.abc import Iterable, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES = ("facebrain", "torch", "numpy", "scipy", "nilearn", "nibabel", "h5py", "scikit-learn", "pandas", "snakemake")


def config_hash(params: Any) -> str:
    """Return the sha256 (hex, first 16 chars) of ``params`` serialised as sorted JSON."""
    text = json.dumps(params, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@functools.lru_cache(maxsize=256)
def _file_sha256(path: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_sha256(path: str | Path) -> str:
    """Return the sha256 hex digest of a file (a directory hashes its sorted file list and contents)."""
    path = Path(path)
    if path.is_dir():
        digest = hashlib.sha256()
        for child in sorted(p for p in path.rglob("*") if p.is_file()):
            digest.update(str(child.relative_to(path)).encode())
            digest.update(file_sha256(child).encode())
        return digest.hexdigest()
    st = path.stat()
    return _file_sha256(str(path), st.st_size, st.st_mtime_ns)


@functools.lru_cache(maxsize=1)
def package_versions() -> dict[str, str]:
    """Return the installed versions of the packages that shape facebrain's numbers."""
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


@functools.lru_cache(maxsize=1)
def git_revision() -> str:
    """Return the repository's HEAD commit (with ``-dirty`` if modified), or '' outside git."""
    here = Path(__file__).resolve().parent
    try:
        rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=here, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""
    return rev + ("-dirty" if dirty else "")


def make_provenance(rule: str, params: Mapping[str, Any] | None = None, inputs: Iterable[str | Path] = ()) -> dict[str, Any]:
    """Build a provenance record.

    Parameters
    ----------
    rule : name of the producing Snakemake rule (or function, outside Snakemake).
    params : the parameters that determine the output; hashed into ``config_hash``.
    inputs : input files; each is recorded with its sha256.

    Returns
    -------
    dict with keys ``rule``, ``config_hash``, ``params`` (JSON text), ``inputs``
    (JSON text: path -> sha256), ``versions`` (JSON text), ``git_revision``.
    """
    params = dict(params or {})
    return {
        "rule": rule,
        "config_hash": config_hash(params),
        "params": json.dumps(params, sort_keys=True, default=str),
        "inputs": json.dumps({str(p): file_sha256(p) for p in inputs if Path(p).exists()}, sort_keys=True),
        "versions": json.dumps(package_versions(), sort_keys=True),
        "git_revision": git_revision(),
    }


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

    img = nib.load(str(path))
    for ext in img.header.extensions:
        if ext.get_code() == NIFTI_EXTENSION_CODE:
            try:
                return json.loads(ext.get_content())
            except (ValueError, TypeError):
                continue
    return {}
