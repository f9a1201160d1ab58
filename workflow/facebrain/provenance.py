"""Provenance records attached to every HDF5 and NIfTI output.

A record says which rule made a file, with which parameters (and their hash),
from which inputs (with checksums), under which package versions and git
revision. ``results/provenance.json`` collects them.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import platform
import subprocess
import sys
from collections.abc import Iterable, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

from facebrain.device import resolve_device
from facebrain.errors import DataError
from facebrain.io import read_h5_attrs, write_json
from facebrain.nifti import read_gifti_provenance, read_nifti_provenance

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


REQUIRED_KEYS = ("rule", "config_hash", "inputs", "versions")
JSON_KEYS = ("params", "inputs", "versions")
PROVENANCE_SUFFIXES = (".h5", ".nii", ".nii.gz", ".gii")


def read_provenance(path: str | Path) -> dict[str, Any]:
    """Return the provenance record of an HDF5 (file attributes), NIfTI (extension) or GIFTI (metadata) output.

    The JSON-text fields (``params``, ``inputs``, ``versions``) are decoded into
    objects. A file without provenance gives ``{}``.

    Raises
    ------
    facebrain.errors.DataError
        If ``path`` is not ``.h5``, ``.nii``/``.nii.gz`` or ``.gii``, or cannot be
        read as such.
    """
    path = Path(path)
    try:
        if path.name.endswith(".h5"):
            record = read_h5_attrs(path)
        elif path.name.endswith((".nii", ".nii.gz")):
            record = read_nifti_provenance(path)
        elif path.name.endswith(".gii"):
            record = read_gifti_provenance(path)
        else:
            raise DataError(path, f"provenance is read from {', '.join(PROVENANCE_SUFFIXES)} files only")
    except DataError:
        raise
    except Exception as err:  # h5py/nibabel raise OSError, ValueError, ImageFileError, ...
        raise DataError(path, f"cannot read provenance: {type(err).__name__}: {err}") from err
    try:
        return decode_provenance(record)
    except ValueError as err:
        raise DataError(path, f"provenance attribute is not valid JSON: {err}") from None


def decode_provenance(record: Mapping[str, Any]) -> dict[str, Any]:
    """Return a copy of a provenance record with its JSON-text fields (params, inputs, versions) decoded.

    numpy values (as h5py returns attributes) become plain Python values.
    Raises ValueError when a JSON-text field does not parse.
    """
    decoded = {key: _plain(value) for key, value in record.items()}
    for key in JSON_KEYS:
        if isinstance(decoded.get(key), str) and decoded[key]:
            decoded[key] = json.loads(decoded[key])
    return decoded


def _plain(value: Any) -> Any:
    """numpy scalars/arrays from HDF5 attributes -> JSON-serialisable Python values."""
    if hasattr(value, "tolist"):
        return value.tolist()
    return value


def find_provenance_files(root: str | Path) -> list[Path]:
    """Return the HDF5, NIfTI and GIFTI files under ``root`` (sorted; temporary ``.*.tmp*`` files skipped)."""
    root = Path(root)
    found = [p for p in root.rglob("*") if p.is_file() and p.name.endswith(PROVENANCE_SUFFIXES) and not p.name.startswith(".")]
    return sorted(found)


def collect_provenance(out: str | Path, root: str | Path | None = None, provenance: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Collect the provenance record of every HDF5/NIfTI/GIFTI file under ``root`` into one JSON file.

    Parameters
    ----------
    out : the JSON file to write (``results/provenance.json``).
    root : folder searched recursively; default: the folder of ``out`` (``results``).
    provenance : the collecting rule's own record, stored under ``"collected_by"``.

    Returns
    -------
    dict written to ``out``: ``files`` (path relative to ``root``'s parent ->
    record, with the file's ``size`` in bytes), ``missing`` (path -> list of
    required keys it lacks: rule, config_hash, inputs, versions), ``rules``
    (rule -> number of files) and ``collected_by``. Files without complete
    provenance are logged as warnings and listed, not dropped.
    """
    logger = logging.getLogger(__name__)
    root = Path(out).parent if root is None else Path(root)
    base = root.parent
    files: dict[str, Any] = {}
    missing: dict[str, list[str]] = {}
    rules: dict[str, int] = {}
    paths = find_provenance_files(root)
    logger.info("collecting provenance of %d HDF5/NIfTI files under %s", len(paths), root)
    for path in paths:
        key = str(path.relative_to(base))
        record = read_provenance(path)
        record["size"] = path.stat().st_size
        files[key] = record
        lacking = [k for k in REQUIRED_KEYS if record.get(k) in (None, "")]  # inputs may be {}: a generator
        if lacking:
            missing[key] = lacking
            logger.warning("%s lacks provenance: %s", key, ", ".join(lacking))
        rule = record.get("rule") or "(unknown)"
        rules[rule] = rules.get(rule, 0) + 1
    result = {"files": files, "missing": missing, "rules": dict(sorted(rules.items())), "collected_by": decode_provenance(provenance or {})}
    write_json(out, result)
    return result


def environment_record(out: str | Path, device: str = "auto", provenance: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Write the software and device environment a job sees to a JSON file.

    Run as a job (on the cluster, on a GPU node when ``gpu: true``), it
    records what the pipeline's jobs run with: package versions, git
    revision, Python and platform, and the torch device that ``device``
    resolves to with the CUDA devices visible to the job.

    Parameters
    ----------
    out : the JSON file to write.
    device : the config's ``device`` (auto | cpu | cuda[:N] | mps).
    provenance : the rule's provenance record, stored under ``"provenance"``.

    Returns
    -------
    dict written to ``out`` with keys ``python``, ``platform``, ``versions``,
    ``git_revision``, ``device`` (resolved, e.g. 'cpu' or 'cuda'),
    ``cuda_devices`` (names), ``cuda_visible_devices`` (the environment
    variable, '' if unset) and ``provenance``.
    """
    import torch

    cuda = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())] if torch.cuda.is_available() else []
    record = {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "versions": package_versions(),
        "git_revision": git_revision(),
        "device": str(resolve_device(device)),
        "cuda_devices": cuda,
        "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES", ""),
        "provenance": decode_provenance(provenance or {}),
    }
    write_json(out, record)
    return record
