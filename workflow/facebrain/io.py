"""Atomic file writing and HDF5/NIfTI helpers shared by every stage.

Every output is written to a temporary file next to its destination and
renamed into place only when complete, so a failed or killed job never leaves
a half-written file that looks finished. Files and folders end with the mode
a plain ``open()``/``mkdir()`` gives under the user's umask, not the private
mode of the temporary.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from facebrain.errors import DataError

if TYPE_CHECKING:
    import pandas as pd


def current_umask() -> int:
    """Return the process's file-mode creation mask (e.g. ``0o022``).

    Read from ``/proc/self/status`` where available (no side effect);
    elsewhere set and restored at once with ``os.umask``.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path: str | Path, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path in ``path``'s folder; rename it to ``path`` on success.

    On an exception the temporary file is removed and ``path`` is left as it
    was (absent or the previous complete version). ``suffix`` defaults to the
    destination's own suffixes, so writers that infer the format from the name
    (nibabel, numpy, matplotlib) keep working.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix is None:
        suffix = "".join(path.suffixes)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.tmp", suffix=suffix, dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    # mkstemp creates 0600; give the file the mode open() would (group
    # collaborators on a shared project folder read what the umask allows).
    tmp_path.chmod(0o666 & ~current_umask())
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def atomic_dir(path: str | Path) -> Iterator[Path]:
    """Yield a temporary folder beside ``path``; swap it into place as ``path`` on success.

    An existing ``path`` is replaced only once the new folder is complete; on
    an exception the temporary folder is removed and ``path`` is untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.tmp", dir=path.parent))
    tmp.chmod(0o777 & ~current_umask())  # mkdtemp creates 0700; mkdir's mode instead
    try:
        yield tmp
        if path.exists():
            shutil.rmtree(path)
        os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_text(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def write_json(path: str | Path, obj: Any) -> None:
    """Write ``obj`` as indented JSON to ``path`` atomically."""
    write_text(path, json.dumps(obj, indent=2, sort_keys=True, default=_json_default) + "\n")


def read_json(path: str | Path, what: str = "JSON file") -> Any:
    """Read a JSON file written by :func:`write_json`.

    Raises
    ------
    facebrain.errors.DataError
        naming ``path`` (and ``what`` it should be) when it is missing or not valid JSON.
    """
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError) as err:
        raise DataError(path, f"not a readable {what} ({err})") from err


def read_tsv(path: str | Path, what: str = "table", columns: Sequence[str] = ()) -> pd.DataFrame:
    """Read a tab-separated file as strings (no NA parsing: ``n/a`` stays text).

    Returns the table, one str column per header field. Raises
    :class:`facebrain.errors.DataError` naming ``path`` (and ``what`` it should be)
    when it is missing, empty or malformed, or lacks any of ``columns``.
    """
    import pandas as pd  # here, not at import: every job imports this module, few read tables (~0.4 CPU-s)

    try:
        table = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise DataError(path, f"cannot read {what}: {err}") from err
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise DataError(path, f"missing {what} column(s) {missing}; found {list(table.columns)}")
    return table


def write_table(path: str | Path, frame, **kwargs) -> None:
    """Write a pandas DataFrame atomically; ``.tsv`` paths are tab-separated."""
    sep = "\t" if str(path).endswith(".tsv") else ","
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, sep=sep, index=False, **kwargs)


def write_torch(path: str | Path, obj: Any) -> None:
    """``torch.save`` ``obj`` to ``path`` atomically, the same bytes for the same ``obj``.

    ``torch.save`` to a file stores the file's name inside the zip archive (the
    temporary's random name, here); saved to memory the archive is named
    ``archive`` whatever the destination, so identical runs give identical files.
    """
    import torch

    buffer = io.BytesIO()
    torch.save(obj, buffer)
    with atomic_path(path) as tmp:
        tmp.write_bytes(buffer.getbuffer())


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def h5_attr_value(value: Any) -> Any:
    """Convert a provenance value into something h5py stores as an attribute."""
    if value is None:
        return ""
    if isinstance(value, (str, int, float, bool, np.generic, np.ndarray)):
        return value
    return json.dumps(value, sort_keys=True, default=_json_default)


def write_h5(
    path: str | Path,
    datasets: Mapping[str, np.ndarray],
    attrs: Mapping[str, Any] | None = None,
    chunks: Mapping[str, tuple[int, ...]] | None = None,
    compression: str | None = "gzip",
) -> None:
    """Write arrays (and file attributes) to an HDF5 file atomically.

    Parameters
    ----------
    path : output ``.h5`` path.
    datasets : name -> array. String arrays are stored as UTF-8 variable-length strings.
    attrs : file-level attributes (provenance); non-scalar values are stored as JSON.
    chunks : optional chunk shape per dataset name (for fast random batch reads).
    compression : h5py compression filter for numeric datasets with >= 2 dims.
    """
    import h5py

    chunks = dict(chunks or {})
    with atomic_path(path) as tmp:
        with h5py.File(tmp, "w") as f:
            for name, arr in datasets.items():
                arr = np.asarray(arr)
                if arr.dtype.kind in "UO":
                    f.create_dataset(name, data=arr.astype(object), dtype=h5py.string_dtype())
                    continue
                kwargs = {}
                if name in chunks:
                    kwargs["chunks"] = chunks[name]
                if compression and arr.ndim >= 2 and arr.size > 0:
                    kwargs["compression"] = compression
                f.create_dataset(name, data=arr, **kwargs)
            for key, value in (attrs or {}).items():
                f.attrs[key] = h5_attr_value(value)


def read_h5_attrs(path: str | Path) -> dict[str, Any]:
    """Return the file-level attributes of an HDF5 file as a plain dict."""
    import h5py

    with h5py.File(path, "r") as f:
        return {k: (v.decode() if isinstance(v, bytes) else v) for k, v in f.attrs.items()}
