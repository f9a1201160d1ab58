"""Resumable, checksum-verified downloads with a clear message when offline.

A download goes to ``<dest>.part``; an interrupted one resumes with an HTTP
``Range`` request. The file is moved to ``dest`` only after its checksum
matches, so ``dest`` is either absent or verified. When the host cannot be
reached (or refuses), :class:`facebrain.errors.OfflineError` says which file
to place where by hand.
"""

from __future__ import annotations

import hashlib
import logging
import os
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from tqdm import tqdm

from facebrain.errors import DataError, OfflineError

log = logging.getLogger(__name__)

ALGORITHMS = ("md5", "sha256", "git-sha1")
"""Supported checksum algorithms; ``git-sha1`` is the git blob hash (sha1 of ``b"blob <size>\\0" + content``)."""
BLOCK = 1 << 20


def file_checksum(path: str | Path, algorithm: str) -> str:
    """Return the hex checksum of a file.

    Parameters
    ----------
    path : the file.
    algorithm : one of :data:`ALGORITHMS`.
    """
    if algorithm not in ALGORITHMS:
        raise ValueError(f"unknown checksum algorithm {algorithm!r}; expected one of {ALGORITHMS}")
    path = Path(path)
    if algorithm == "git-sha1":
        digest = hashlib.sha1(f"blob {path.stat().st_size}\0".encode())
    else:
        digest = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(BLOCK), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_checksum(path: str | Path, algorithm: str, expected: str) -> None:
    """Raise DataError (naming ``path``, both checksums) unless the file's checksum is ``expected``."""
    actual = file_checksum(path, algorithm)
    if actual != expected.lower():
        raise DataError(path, f"{algorithm} checksum mismatch: expected {expected}, got {actual} "
                              "(corrupt or wrong file; delete it and download again)")


def download(url: str, dest: str | Path, algorithm: str, expected: str, timeout: float = 60.0) -> Path:
    """Download ``url`` to ``dest`` (resuming a ``.part`` file) and verify its checksum.

    An existing ``dest`` that verifies is kept without any network access.

    Parameters
    ----------
    url : http(s) URL.
    dest : destination path.
    algorithm, expected : the checksum the file must have (see :data:`ALGORITHMS`).
    timeout : socket timeout in seconds.

    Returns
    -------
    Path
        ``dest``, verified.

    Raises
    ------
    OfflineError
        The host could not be reached or refused the request; the message
        names the URL and says where to place the file by hand.
    DataError
        The downloaded file's checksum differs (the bad file is removed).
    """
    dest = Path(dest)
    if dest.is_file():
        verify_checksum(dest, algorithm, expected)
        log.info("%s is present and verified", dest)
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    stream_to_part(url, part, lambda reason: _manual_message(url, dest, algorithm, expected, reason), timeout)
    try:
        verify_checksum(part, algorithm, expected)
    except DataError as err:
        part.unlink(missing_ok=True)
        raise DataError(dest, f"downloaded from {url}: {err.problem}") from err
    os.replace(part, dest)
    return dest


def stream_to_part(url: str, part: Path, explain: Callable[[str], str], timeout: float = 60.0, size: int | None = None) -> None:
    """Fetch the rest of ``url`` into the partial file ``part``, resuming with an HTTP Range request.

    Parameters
    ----------
    url : http(s) URL.
    part : the ``.part`` file; its current size is where the transfer resumes.
    explain : builds the OfflineError message from the reason of a failure.
    timeout : socket timeout in seconds.
    size : the file's size in bytes when known: a complete ``part`` is not
        fetched again, and a ``part`` larger than it is restarted.

    Raises
    ------
    OfflineError
        The host could not be reached, refused, or the connection dropped
        (``part`` is kept, so a rerun resumes).
    """
    have = part.stat().st_size if part.is_file() else 0
    if size is not None and have > size:
        part.unlink()
        have = 0
    if size is not None and have == size:
        part.touch()  # complete (or an empty file, which needs no request)
        return
    request = urllib.request.Request(url, headers={"User-Agent": "facebrain"})
    if have:
        request.add_header("Range", f"bytes={have}-")
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as err:
        if err.code == 416 and have:  # the .part file is already complete
            return
        raise OfflineError(explain(f"HTTP {err.code} {err.reason}")) from err
    except (urllib.error.URLError, OSError) as err:
        raise OfflineError(explain(str(getattr(err, "reason", err)))) from err
    with response:
        resumed = bool(have) and response.status == 206
        total = size if size is not None else (response.length + (have if resumed else 0) if response.length is not None else None)
        log.info("downloading %s -> %s (%s bytes%s)", url, part, total, f", resuming at {have}" if resumed else "")
        try:
            with open(part, "ab" if resumed else "wb") as out, tqdm(
                total=total, initial=have if resumed else 0, unit="B", unit_scale=True, desc=part.name
            ) as bar:
                for block in iter(lambda: response.read(BLOCK), b""):
                    out.write(block)
                    bar.update(len(block))
        except OSError as err:  # connection dropped: keep the .part for resuming
            raise OfflineError(explain(f"connection lost ({err}); run again to resume from {part}")) from err


def _manual_message(url: str, dest: Path, algorithm: str, expected: str, reason: str) -> str:
    return (f"could not download {url} ({reason}). This machine seems to be offline or the host refused. "
            f"Download the file by hand and place it at {dest} ({algorithm} {expected}), then run again.")
