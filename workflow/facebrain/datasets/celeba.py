"""CelebA's layout: reader and validator (real CelebA and SynthFaces), download, preparation.

A CelebA-layout folder holds ``img_align_celeba/NNNNNN.jpg`` (178 x 218; real
CelebA may keep them in ``img_align_celeba.zip`` instead: the reader opens
either), ``list_attr_celeba.txt`` (the image count, the 40 attribute names,
then ``file v1 .. v40`` with values in {-1, 1}), ``list_eval_partition.txt``
(``file 0|1|2``) and, for SynthFaces, ``factors.tsv`` (``image_id`` and the
ground-truth factors).
"""

from __future__ import annotations

import functools
import io
import logging
import urllib.parse
import zipfile
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from PIL import Image
from tqdm import tqdm

from facebrain.datasets.download import download, verify_checksum
from facebrain.errors import DataError, OfflineError

log = logging.getLogger(__name__)

ATTRIBUTE_NAMES = [
    "5_o_Clock_Shadow", "Arched_Eyebrows", "Attractive", "Bags_Under_Eyes", "Bald", "Bangs", "Big_Lips", "Big_Nose",
    "Black_Hair", "Blond_Hair", "Blurry", "Brown_Hair", "Bushy_Eyebrows", "Chubby", "Double_Chin", "Eyeglasses",
    "Goatee", "Gray_Hair", "Heavy_Makeup", "High_Cheekbones", "Male", "Mouth_Slightly_Open", "Mustache",
    "Narrow_Eyes", "No_Beard", "Oval_Face", "Pale_Skin", "Pointy_Nose", "Receding_Hairline", "Rosy_Cheeks",
    "Sideburns", "Smiling", "Straight_Hair", "Wavy_Hair", "Wearing_Earrings", "Wearing_Hat", "Wearing_Lipstick",
    "Wearing_Necklace", "Wearing_Necktie", "Young",
]
"""CelebA's 40 binary attributes, in the order of ``list_attr_celeba.txt``."""
CELEBA_MD5 = {
    "img_align_celeba.zip": "00d2c5bc6d35e252742224ab0c1e8fcb",
    "list_attr_celeba.txt": "75e246fa4810816ffd6ee81facbd244c",
    "identity_CelebA.txt": "32bd1bd63d3c78cd57e08160ec5ed1e2",
    "list_bbox_celeba.txt": "00566efa6fedff7a56946cd1c10f1c16",
    "list_landmarks_align_celeba.txt": "cc24ecafdb5b50baae59b03474781f8c",
    "list_eval_partition.txt": "d32c9cbf5e040fd4025c592c306e6668",
}
"""Official md5 of CelebA's files (as torchvision lists them)."""
IMAGE_SIZE = (178, 218)
"""(width, height) of CelebA's aligned images."""


CELEBA_GDRIVE_IDS = {
    "img_align_celeba.zip": "0B7EVK8r0v71pZjFTYXZWM3FlRnM",
    "list_attr_celeba.txt": "0B7EVK8r0v71pblRyaVFSWGxPY0U",
    "identity_CelebA.txt": "1_ee_0u7vcNLOfNLegJRHmolfH5ICW-XS",
    "list_bbox_celeba.txt": "0B7EVK8r0v71pbThiMVRxWXZ4dU0",
    "list_landmarks_align_celeba.txt": "0B7EVK8r0v71pd0FJY3Blby1HUTQ",
    "list_eval_partition.txt": "0B7EVK8r0v71pY0NSMzRuSXJEVkk",
}
"""Google Drive file ids of CelebA's official distribution (as torchvision lists them)."""
GDRIVE_URL = "https://drive.google.com/uc"
"""Google Drive's download endpoint (``?id=<file id>&export=download``)."""


def drive_download_url(file_id: str, gdrive_url: str = GDRIVE_URL, timeout: float = 60.0) -> str:
    """The URL that serves a public Google Drive file's bytes.

    Drive answers ``<gdrive_url>?id=<id>&export=download`` with the file itself (small
    files) or, for files too large for its virus scan (CelebA's 1.4 GB zip), with an
    HTML page whose download form carries the real URL (``drive.usercontent.google.com``
    with ``confirm`` and ``uuid``); that page is parsed by gdown, the maintained client.

    Raises
    ------
    OfflineError
        when Drive cannot be reached, refuses, or answers with an error page (e.g. its
        download quota for the file is exceeded).
    """
    import urllib.error
    import urllib.request

    from gdown.download import get_url_from_gdrive_confirmation
    from gdown.exceptions import FileURLRetrievalError

    url = f"{gdrive_url}?{urllib.parse.urlencode({'id': file_id, 'export': 'download'})}"
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers={"User-Agent": "facebrain"}), timeout=timeout) as response:
            if not response.headers.get("Content-Type", "").startswith("text/html"):
                return url
            page = response.read().decode("utf-8", "replace")
    except (urllib.error.URLError, OSError) as err:
        raise OfflineError(f"{url}: {getattr(err, 'reason', err)}") from err
    try:
        return get_url_from_gdrive_confirmation(page)
    except FileURLRetrievalError as err:
        raise OfflineError(f"{url}: Google Drive refused the file ({err})") from err


def download_celeba(root: str | Path, source: str = "gdrive", base_url: str = "", files: Sequence[str] = tuple(CELEBA_MD5),
                    gdrive_url: str = GDRIVE_URL) -> None:
    """Download CelebA's files into ``root``, each verified by md5 (resumable ``.part`` files).

    Files already present are verified and kept. When any file cannot be
    downloaded, nothing partial is left in place (an interrupted transfer keeps
    its ``.part`` to resume) and an OfflineError lists every missing file with
    its md5 and where to put it.

    Parameters
    ----------
    root : destination folder (e.g. ``resources/celeba``).
    source : 'gdrive' (CelebA's official Google Drive files, :data:`CELEBA_GDRIVE_IDS`) or
        'mirror' (each file fetched from ``base_url + name``).
    base_url : the mirror's URL prefix (source 'mirror').
    files : the file names to fetch (keys of :data:`CELEBA_MD5`).
    gdrive_url : Google Drive's download endpoint (tests point it at a local server).
    """
    if source not in ("gdrive", "mirror"):
        raise ValueError(f"unknown CelebA source {source!r}; expected 'gdrive' or 'mirror'")
    root = Path(root)
    missing = []
    for name in files:
        try:
            if source == "mirror":
                url = base_url.rstrip("/") + "/" + name
            elif (root / name).is_file():
                url = ""  # present: verified without any request
            else:
                url = drive_download_url(CELEBA_GDRIVE_IDS[name], gdrive_url)
            download(url, root / name, "md5", CELEBA_MD5[name])
        except OfflineError as err:
            log.error("%s", err)
            missing.append(name)
    if missing:
        host = f"Google Drive ({gdrive_url})" if source == "gdrive" else base_url
        listing = "\n".join(f"  {root / name}  (md5 {CELEBA_MD5[name]}; Drive id {CELEBA_GDRIVE_IDS[name]})" for name in missing)
        raise OfflineError(
            f"could not download CelebA from {host} (offline, or the host refused). CelebA is distributed "
            "from Google Drive (https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html, 'Align&Cropped Images' and "
            f"'Anno'/'Eval'); download these files by hand and place them at:\n{listing}\n"
            "then run again (or set datasets.celeba.source: mirror and datasets.celeba.base_url to a mirror)."
        )


class CelebALayout:
    """Read and validate a folder in CelebA's layout (real CelebA or SynthFaces).

    Parameters
    ----------
    root : the folder.

    Raises
    ------
    DataError
        When a required file is missing (naming it).
    """

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.attr_path = self.root / "list_attr_celeba.txt"
        self.partition_path = self.root / "list_eval_partition.txt"
        self.factors_path = self.root / "factors.tsv"
        self.image_dir = self.root / "img_align_celeba"
        self.image_zip = self.root / "img_align_celeba.zip"
        for path in (self.attr_path, self.partition_path):
            if not path.is_file():
                raise DataError(path, "missing (expected CelebA's layout: list_attr_celeba.txt, list_eval_partition.txt, img_align_celeba/)")
        if not self.image_dir.is_dir() and not self.image_zip.is_file():
            raise DataError(self.image_dir, "missing: neither the img_align_celeba/ folder nor img_align_celeba.zip exists")

    def attributes(self) -> pd.DataFrame:
        """Return the attributes: int DataFrame (N, 40) in {-1, 1}, index = file names, columns :data:`ATTRIBUTE_NAMES`."""
        path = self.attr_path
        lines = path.read_text().splitlines()
        if len(lines) < 2:
            raise DataError(path, "too short: expected a count line and a line of attribute names")
        try:
            count = int(lines[0].strip())
        except ValueError as err:
            raise DataError(path, f"line 1 should be the number of images, got {lines[0]!r}") from err
        names = lines[1].split()
        absent = [a for a in ATTRIBUTE_NAMES if a not in names]
        if absent or len(names) != len(ATTRIBUTE_NAMES):
            raise DataError(path, f"line 2 has {len(names)} attribute names; missing column(s) {absent}")
        rows, files = [], []
        for number, line in enumerate(lines[2:], start=3):
            parts = line.split()
            if not parts:
                continue
            if len(parts) != len(names) + 1:
                raise DataError(path, f"line {number} has {len(parts) - 1} values, expected {len(names)}")
            files.append(parts[0])
            rows.append(parts[1:])
        values = np.asarray(rows, dtype=object)
        try:
            values = values.astype(int)
        except ValueError as err:
            raise DataError(path, f"non-integer attribute value ({err})") from err
        if values.size and not np.isin(values, (-1, 1)).all():
            bad = int(np.argwhere(~np.isin(values, (-1, 1)))[0, 0]) + 3
            raise DataError(path, f"line {bad} has a value outside {{-1, 1}}")
        if len(files) != count:
            raise DataError(path, f"line 1 announces {count} images but {len(files)} are listed")
        frame = pd.DataFrame(values.reshape(len(files), len(names)), index=pd.Index(files, name="image_id"), columns=names)
        return frame[ATTRIBUTE_NAMES]

    def partition(self) -> pd.Series:
        """Return the partition: int Series (0 train / 1 valid / 2 test), index = file names."""
        path = self.partition_path
        files, parts = [], []
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            fields = line.split()
            if not fields:
                continue
            if len(fields) != 2 or fields[1] not in ("0", "1", "2"):
                raise DataError(path, f"line {number} should be 'file 0|1|2', got {line!r}")
            files.append(fields[0])
            parts.append(int(fields[1]))
        return pd.Series(parts, index=pd.Index(files, name="image_id"), name="partition")

    def factors(self) -> pd.DataFrame | None:
        """Return ``factors.tsv`` (float DataFrame indexed by file name) or None when absent (real CelebA)."""
        if not self.factors_path.is_file():
            return None
        try:
            frame = pd.read_csv(self.factors_path, sep="\t")
        except (pd.errors.ParserError, UnicodeDecodeError) as err:
            raise DataError(self.factors_path, f"unreadable table ({err})") from err
        if "image_id" not in frame.columns or frame.shape[1] < 2:
            raise DataError(self.factors_path, "expected an 'image_id' column followed by factor columns")
        frame = frame.set_index("image_id")
        if frame.isna().any().any() or not all(pd.api.types.is_numeric_dtype(t) for t in frame.dtypes):
            raise DataError(self.factors_path, "factor values must be numbers without gaps")
        return frame.astype(np.float32)

    def read_image(self, name: str, archive: zipfile.ZipFile | None = None) -> Image.Image:
        """Open and fully decode one image (RGB); DataError naming the file when it is missing or corrupt."""
        if archive is not None:
            label = f"{self.image_zip}:img_align_celeba/{name}"
            try:
                data = archive.read(f"img_align_celeba/{name}")
            except KeyError as err:
                raise DataError(label, "missing from the archive") from err
            source: Any = io.BytesIO(data)
        else:
            label = source = self.image_dir / name
            if not source.is_file():
                raise DataError(label, "image listed in list_attr_celeba.txt is missing")
        try:
            with Image.open(source) as img:
                img.load()
                return img.convert("RGB")
        except (OSError, SyntaxError, ValueError) as err:
            raise DataError(label, f"corrupt or unreadable image ({err})") from err


@functools.lru_cache(maxsize=4)
def _open_archive(path: str) -> zipfile.ZipFile:
    """Open a zip once per process (reading CelebA's central directory of 202,599 entries takes a while)."""
    return zipfile.ZipFile(path)


def load_faces(root: str | Path, ids: Sequence[str]) -> np.ndarray:
    """CelebA-layout images by id with exactly the training preprocessing of :func:`prepare_faces`.

    Parameters
    ----------
    root : the CelebA-layout folder (``img_align_celeba/`` or ``img_align_celeba.zip``).
    ids : image file names ('000123.jpg').

    Returns
    -------
    uint8 (n, 64, 64, 3): each image decoded and preprocessed by
    :func:`facebrain.datasets.faces.preprocess_face` (the rows ``results/data/{dataset}.h5`` holds).

    Raises
    ------
    DataError
        naming an image that is missing or unreadable.
    """
    from facebrain.datasets.faces import FACE_SIZE, preprocess_face

    layout = CelebALayout(root)
    archive = _open_archive(str(layout.image_zip)) if not layout.image_dir.is_dir() else None
    if not len(ids):
        return np.empty((0, FACE_SIZE, FACE_SIZE, 3), np.uint8)
    return np.stack([preprocess_face(layout.read_image(name, archive)) for name in ids])


def _load_faces(job: tuple[str, Sequence[str]]) -> np.ndarray | tuple[str, str]:
    """:func:`load_faces` of a block of images (runs in a worker process).

    Returns uint8 (n, 64, 64, 3), or the (path, problem) of a DataError
    (DataError itself does not survive pickling back from the worker).
    """
    root, names = job
    try:
        return load_faces(root, names)
    except DataError as err:
        return err.path, err.problem


def _raise_errors(blocks):
    for block in blocks:
        if isinstance(block, tuple):
            raise DataError(*block)
        yield block


def prepare_faces(root: str | Path, out: str | Path, n_images: int = 0, workers: int = 1,
                  checksums: Mapping[str, str] | None = None, provenance: Mapping[str, Any] | None = None) -> None:
    """Write the prepared HDF5 of a CelebA-layout dataset (``results/data/{celeba,synthfaces}.h5``).

    Images are centre-cropped and resized to 64 x 64 with
    :func:`facebrain.datasets.faces.preprocess_face`. ``factors`` are the
    ground truth of ``factors.tsv`` when present (SynthFaces), else the 40
    attributes as 0/1 followed, when ``list_landmarks_align_celeba.txt`` is
    there, by the continuous landmark attributes ``yaw`` (proxy), ``roll`` and
    ``mouth_width`` (:func:`facebrain.datasets.landmarks.landmark_factors`), so
    a dimension can be labelled by head rotation on real CelebA; ``split`` is ``list_eval_partition.txt``; ``ids`` the
    file names.

    Parameters
    ----------
    root : the CelebA-layout folder.
    out : output ``.h5`` (written atomically: nothing is left on failure).
    n_images : keep only the first ``n_images`` listed images (0: all).
    workers : decoding processes.
    checksums : optional file name -> md5 to verify first (real CelebA).
    provenance : file attributes.
    """
    from facebrain.datasets.landmarks import LANDMARK_FACTORS, LANDMARKS_FILE, landmark_factors, read_landmarks
    from facebrain.datasets.prepared import write_prepared

    layout = CelebALayout(root)
    for name, md5 in (checksums or {}).items():
        if (layout.root / name).is_file():
            verify_checksum(layout.root / name, "md5", md5)
    attrs = layout.attributes()
    partition = layout.partition()
    names = attrs.index
    missing = names.difference(partition.index)
    if len(missing):
        raise DataError(layout.partition_path, f"{len(missing)} image(s) of list_attr_celeba.txt have no partition, e.g. {missing[0]}")
    factors = layout.factors()
    if factors is not None:
        absent = names.difference(factors.index)
        if len(absent):
            raise DataError(layout.factors_path, f"{len(absent)} image(s) have no factors, e.g. {absent[0]}")
    if n_images:
        names = names[:n_images]
    if factors is not None:
        values, factor_names, kind = factors.loc[names].to_numpy(), list(factors.columns), "ground-truth factors"
    else:
        values, factor_names, kind = (attrs.loc[names].to_numpy() > 0).astype(np.float32), list(ATTRIBUTE_NAMES), "CelebA attributes (0/1)"
        landmarks_path = layout.root / LANDMARKS_FILE
        if landmarks_path.is_file():
            landmarks = read_landmarks(landmarks_path)
            absent = names.difference(landmarks.index)
            if len(absent):
                raise DataError(landmarks_path, f"{len(absent)} image(s) have no landmarks, e.g. {absent[0]}")
            values = np.hstack([values, landmark_factors(landmarks.loc[names]).to_numpy()])
            factor_names += LANDMARK_FACTORS
            kind += " and landmark attributes (yaw proxy, roll, mouth width)"
    log.info("preparing %d face images from %s (%s)", len(names), layout.root, kind)
    step = 256
    jobs = [(str(layout.root), list(names[i : i + step])) for i in range(0, len(names), step)]
    with ProcessPoolExecutor(max(1, workers)) as pool:
        blocks = _raise_errors(tqdm(pool.map(_load_faces, jobs), total=len(jobs), desc="faces", unit="block"))
        write_prepared(
            out, blocks, factors=values, factor_names=factor_names, split=partition.loc[names].to_numpy(),
            ids=list(names), provenance=provenance,
            attrs={"dataset_root": str(layout.root), "factors_kind": kind,
                   "preprocessing": "centre crop 148/178 of the shorter side, Lanczos resize to 64x64 (facebrain.datasets.faces)"},
        )
