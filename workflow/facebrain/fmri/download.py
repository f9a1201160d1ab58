"""Download of the real ds001761 (raw events, sidecars, stimuli) and its fMRIPrep derivatives.

Client: plain HTTPS against OpenNeuro's public S3 buckets, no credentials and
no extra dependency:

- raw dataset: ``https://s3.amazonaws.com/openneuro.org/ds001761/`` (OpenNeuro's
  bucket; the same files as ``openneuro-py download --dataset ds001761``);
- derivatives: ``https://s3.amazonaws.com/openneuro-derivatives/fmriprep/ds001761-fmriprep/``
  (the S3 copy of the OpenNeuroDerivatives datalad dataset ds001761-fmriprep).

Files are listed with the S3 ListObjectsV2 API (key, size, ETag), so only the
chosen subjects, sessions and output spaces are fetched: raw ``events.tsv`` and
``bold.json`` (not the raw BOLD, which the analysis does not read), the top-level
files, the subjects' stimuli and ``ImageNames2Celeba.txt``; from the derivatives,
for every run with events, the files the analysis reads, named from the run's
entities by :func:`facebrain.fmri.layout.derivative_files` (``desc-preproc_bold``
and ``desc-brain_mask`` in a volume space, ``hemi-L``/``hemi-R`` ``bold.func.gii`` on
fsaverage5, the ``desc-confounds_timeseries``
table, their sidecars). A run whose derivatives are not listed stops the
download with its name.

Every file is downloaded to ``<dest>.part`` (an interrupted file resumes with an
HTTP Range request), then checked against S3's size and ETag -- the MD5 of the
file for single-part uploads, the MD5 of the parts' MD5s (``<hex>-<n parts>``)
for multipart uploads, verified by trying the part sizes consistent with the
size and part count -- and only then renamed into place. A file already present
with the right size and checksum is not downloaded again, so a second run after
an interruption only fetches what is missing.
"""

from __future__ import annotations

import hashlib
import logging
import os
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from facebrain.datasets.download import stream_to_part
from facebrain.errors import DataError, OfflineError
from facebrain.fmri import layout
from facebrain.io import write_json

log = logging.getLogger(__name__)

BLOCK = 1 << 20
MIB = 1 << 20
S3_NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


@dataclass(frozen=True)
class S3Object:
    """One listed object: its key relative to the dataset prefix, size (bytes) and ETag (quotes removed)."""

    key: str
    size: int
    etag: str


def _split_base(base_url: str) -> tuple[str, str]:
    """'https://s3.amazonaws.com/bucket/a/b' -> ('https://s3.amazonaws.com/bucket', 'a/b/')."""
    parsed = urllib.parse.urlsplit(base_url.rstrip("/"))
    parts = parsed.path.strip("/").split("/")
    bucket_url = urllib.parse.urlunsplit((parsed.scheme, parsed.netloc, "/" + parts[0], "", ""))
    prefix = "/".join(parts[1:])
    return bucket_url, (prefix + "/") if prefix else ""


def _open(url: str, timeout: float = 60.0):
    request = urllib.request.Request(url, headers={"User-Agent": "facebrain"})
    try:
        return urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError:
        raise
    except (urllib.error.URLError, OSError) as err:
        raise OfflineError(_offline_message(url, str(getattr(err, "reason", err)))) from err


def _offline_message(url: str, reason: str) -> str:
    return (
        f"cannot download {url} ({reason}). This machine seems to be offline or the host refused. "
        "Use fmri.source: simulate (offline), or copy ds001761 and its fMRIPrep derivatives "
        "into resources/ds001761 in the BIDS layout and run again (present, verified files are kept)."
    )


def list_objects(base_url: str, prefix: str, delimiter: str = "", timeout: float = 60.0) -> list[S3Object]:
    """List the objects under ``base_url``/``prefix`` with S3's ListObjectsV2 (all pages).

    Parameters
    ----------
    base_url : e.g. 'https://s3.amazonaws.com/openneuro.org/ds001761' (bucket URL + dataset prefix).
    prefix : key prefix below the dataset, e.g. 'sub-01/ses-01/func/' ('' for the top level).
    delimiter : '/' to list only one level.

    Returns
    -------
    S3Object per key, keys relative to the dataset prefix.
    """
    bucket_url, root = _split_base(base_url)
    objects, token = [], None
    while True:
        query = {"list-type": "2", "prefix": root + prefix}
        if delimiter:
            query["delimiter"] = delimiter
        if token:
            query["continuation-token"] = token
        url = f"{bucket_url}?{urllib.parse.urlencode(query)}"
        try:
            with _open(url, timeout=timeout) as response:
                tree = ET.fromstring(response.read())
        except urllib.error.HTTPError as err:
            raise OfflineError(f"listing {url} failed: HTTP {err.code} {err.reason}") from err
        except ET.ParseError as err:
            raise DataError(url, f"not an S3 ListObjectsV2 response: {err}") from err
        for item in tree.iter(f"{S3_NS}Contents"):
            key = item.findtext(f"{S3_NS}Key", "")
            objects.append(S3Object(key[len(root):], int(item.findtext(f"{S3_NS}Size", "0")), item.findtext(f"{S3_NS}ETag", "").strip('"')))
        if tree.findtext(f"{S3_NS}IsTruncated", "false") != "true":
            return objects
        token = tree.findtext(f"{S3_NS}NextContinuationToken")


def s3_etag_matches(path: str | Path, etag: str) -> bool:
    """Whether ``path``'s content has the S3 ETag ``etag`` (single-part MD5 or multipart '<md5>-<n>')."""
    path = Path(path)
    if "-" not in etag:
        digest = hashlib.md5()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(BLOCK), b""):
                digest.update(block)
        return digest.hexdigest() == etag.lower()
    expected, n_parts = etag.lower().rsplit("-", 1)
    n = int(n_parts)
    size = path.stat().st_size
    for part_size in _candidate_part_sizes(size, n):
        digest = hashlib.md5()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(part_size), b""):
                digest.update(hashlib.md5(block).digest())
        if digest.hexdigest() == expected:
            return True
    return False


def _candidate_part_sizes(size: int, n_parts: int) -> Iterator[int]:
    """Whole-MiB part sizes p with ceil(size / p) == n_parts (how S3 clients choose them)."""
    for mib in range(1, 5 * 1024 + 1):
        p = mib * MIB
        if -(-size // p) == n_parts:
            yield p
        elif -(-size // p) < n_parts:
            return


def fetch(url: str, dest: str | Path, size: int, etag: str, timeout: float = 60.0) -> str:
    """Download ``url`` to ``dest`` unless a verified copy is there; resume a ``.part`` file.

    Returns
    -------
    'kept' (already present and verified) or 'downloaded'.

    Raises
    ------
    OfflineError
        the host cannot be reached or the connection dropped (the .part is kept for resuming).
    DataError
        the downloaded file has the wrong size or checksum (the bad file is removed).
    """
    dest = Path(dest)
    if dest.is_file() and dest.stat().st_size == size and s3_etag_matches(dest, etag):
        return "kept"
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    stream_to_part(url, part, lambda reason: _offline_message(url, reason), timeout, size=size)
    actual = part.stat().st_size
    if actual != size or not s3_etag_matches(part, etag):
        part.unlink(missing_ok=True)
        raise DataError(dest, f"downloaded from {url}: expected {size} bytes with ETag {etag}, got {actual} bytes "
                              "with another checksum (corrupt transfer; run again)")
    os.replace(part, dest)
    return "downloaded"


def select_raw(objects: Sequence[S3Object], subjects: Sequence[str]) -> list[S3Object]:
    """The raw files the analysis needs: top-level files, events and bold sidecars, the subjects' stimuli."""
    stim_dirs = tuple(f"{layout.STIMULI}/sub{layout.label(s)}/" for s in subjects)
    keep = []
    for obj in objects:
        key = obj.key
        if "/" not in key or key == str(layout.IMAGE_NAMES) or key.startswith(stim_dirs) or key.startswith(f"{layout.STIMULI}/placeholders/"):
            keep.append(obj)
        elif "/func/" in key and key.endswith(("_events.tsv", "_bold.json")):
            keep.append(obj)
    return keep


def needed_derivatives(raw: Sequence[S3Object], spaces: Sequence[str]) -> list[str]:
    """Keys (relative to the derivatives) of the fMRIPrep files the analysis reads in ``spaces``, for every run with events in ``raw``.

    The names come from the runs' entities (:func:`facebrain.fmri.layout.derivative_files`),
    so they are the names fMRIPrep wrote (``run-1`` where the raw events say ``run-01``).
    """
    from bids.layout import parse_file_entities

    keys = []
    for obj in raw:
        if "/func/" in obj.key and obj.key.endswith("_events.tsv"):
            e = parse_file_entities(obj.key)
            for space in spaces:
                files = layout.derivative_files(e["subject"], e["session"], e["task"], int(e["run"]), space)
                keys += [str(f.relative_to(layout.FMRIPREP)) for f in files.values()]
    return list(dict.fromkeys(keys))


def select_derivatives(objects: Sequence[S3Object], needed: Sequence[str], derivatives_url: str) -> list[S3Object]:
    """The listed derivatives to fetch: the top-level files and every key of ``needed``.

    Raises
    ------
    DataError
        naming the first needed file that the listing lacks (a run the analysis would read without its derivatives).
    """
    listed = {o.key for o in objects}
    missing = [key for key in needed if key not in listed]
    if missing:
        raise DataError(f"{derivatives_url}/{missing[0]}", f"not in the derivatives' listing ({len(missing)} of the "
                                                           f"{len(needed)} files the analysis reads are missing)")
    wanted = set(needed)
    return [o for o in objects if "/" not in o.key or o.key in wanted]


def download_ds001761(
    root: str | Path,
    manifest: str | Path,
    subjects: Sequence[str] = ("01", "02", "03", "04"),
    sessions: Sequence[str] = ("01", "02", "03", "04", "05", "06", "07", "08"),
    spaces: Sequence[str] = (layout.SPACE,),
    raw_url: str = "https://s3.amazonaws.com/openneuro.org/ds001761",
    derivatives_url: str = "https://s3.amazonaws.com/openneuro-derivatives/fmriprep/ds001761-fmriprep",
    timeout: float = 60.0,
    provenance: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Pipeline step: fetch the chosen part of ds001761 into ``root`` and write ``manifest``.

    Parameters
    ----------
    root : the local BIDS root (``resources/ds001761``); derivatives go to ``root/derivatives/fmriprep``.
    manifest : JSON written last: every file with its size, ETag and whether it was kept or downloaded.
    subjects, sessions : labels ('01').
    spaces : fMRIPrep output spaces, a volume with its res- entity ('MNI152NLin2009cAsym_res-2')
        and/or 'fsaverage5' (both hemispheres' GIFTIs); the confounds are fetched once.
    raw_url, derivatives_url : S3 URLs of the raw dataset and of the derivatives (bucket + prefix).
    timeout : socket timeout, s.

    Returns
    -------
    The manifest (dict).

    Raises
    ------
    OfflineError
        with what to do by hand, when the hosts cannot be reached.
    DataError
        when a chosen subject or session has no files, or a file fails verification.
    """
    root = Path(root)
    jobs: list[tuple[str, S3Object, Path]] = []
    raw = list_objects(raw_url, "", delimiter="/", timeout=timeout)
    raw += list_objects(raw_url, f"{layout.STIMULI}/", timeout=timeout)
    deriv = list_objects(derivatives_url, "", delimiter="/", timeout=timeout)
    for sub in subjects:
        for ses in sessions:
            func = f"{layout.func_dir(sub, ses)}/"
            raw_func = list_objects(raw_url, func, timeout=timeout)
            deriv_func = list_objects(derivatives_url, func, timeout=timeout)
            if not raw_func:
                raise DataError(f"{raw_url}/{func}", f"no files for sub-{sub} ses-{ses}")
            raw += raw_func
            deriv += deriv_func
    raw = select_raw(raw, subjects)
    jobs += [(raw_url, o, root / o.key) for o in raw]
    jobs += [(derivatives_url, o, root / layout.FMRIPREP / o.key) for o in select_derivatives(deriv, needed_derivatives(raw, spaces), derivatives_url)]
    total = sum(o.size for _, o, _ in jobs)
    log.info("ds001761: %d files, %.1f GB to verify or fetch into %s", len(jobs), total / 1e9, root)
    files = {}
    for base, obj, dest in tqdm(jobs, desc="ds001761 files", unit="file"):
        status = fetch(f"{base.rstrip('/')}/{urllib.parse.quote(obj.key)}", dest, obj.size, obj.etag, timeout)
        files[str(dest.relative_to(root))] = {"size": obj.size, "etag": obj.etag, "status": status}
    record = {"root": str(root), "raw_url": raw_url, "derivatives_url": derivatives_url, "subjects": list(subjects),
              "sessions": list(sessions), "spaces": list(spaces), "n_files": len(files), "bytes": total, "files": files,
              "provenance": dict(provenance or {})}
    write_json(manifest, record)
    return record
