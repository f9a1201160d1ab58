"""Prepared datasets ``results/data/{dataset}.h5``: writer, reader and torch batches.

File layout (the cross-stage contract)::

    images        uint8   (N, 64, 64, C)   C = 1 (dSprites, values 0/255) or 3 (faces, RGB)
    factors       float32 (N, F)           ground-truth factors (CelebA: the 40 attributes as 0/1)
    factor_names  str     (F,)
    split         int8    (N,)             0 train / 1 valid / 2 test
    ids           str     (N,)             faces: CelebA file name '000123.jpg'; dSprites: index in the npz
    factor_classes int64  (N, F)           dSprites only: the grid index of each factor
    attrs                                  provenance (rule, config hash, inputs, versions, git revision)

``images`` is stored in gzip-compressed chunks of :data:`CHUNK_IMAGES` images,
so reading a random batch decompresses only the chunks it touches.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from facebrain.errors import DataError
from facebrain.io import atomic_path, h5_attr_value

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

CHUNK_IMAGES = 8
"""Images per HDF5 chunk of ``images``."""
IMAGE_SIZE = 64
"""Side (pixels) of prepared images."""
SPLIT_NAMES = {0: "train", 1: "valid", 2: "test"}
"""Meaning of the ``split`` codes."""
REQUIRED = ("images", "factors", "factor_names", "split", "ids")


def write_prepared(
    path: str | Path,
    images: np.ndarray | Iterable[np.ndarray],
    factors: np.ndarray,
    factor_names: Sequence[str],
    split: np.ndarray,
    ids: Sequence[str],
    factor_classes: np.ndarray | None = None,
    provenance: Mapping[str, Any] | None = None,
    attrs: Mapping[str, Any] | None = None,
    compression_level: int = 4,
) -> None:
    """Write a prepared dataset atomically (nothing is left at ``path`` on failure).

    Parameters
    ----------
    path : output ``.h5`` path.
    images : uint8 array (N, 64, 64, C), C in {1, 3}, or an iterable of such
        blocks (concatenated in order; lets large datasets stream to disk).
    factors : float array (N, F).
    factor_names : F names.
    split : int array (N,) with values in {0, 1, 2}.
    ids : N unique identifiers (str).
    factor_classes : optional int array (N, F), the grid index of each factor.
    provenance, attrs : file attributes (provenance record, dataset metadata).
    compression_level : gzip level of ``images``.

    Raises
    ------
    DataError
        If shapes or values are inconsistent (naming ``path``).
    """
    import h5py

    factors = np.asarray(factors, dtype=np.float32)
    split = np.asarray(split)
    ids = np.asarray([str(i) for i in ids], dtype=object)
    n = len(ids)
    if factors.ndim != 2 or factors.shape[0] != n:
        raise DataError(path, f"factors has shape {factors.shape}, expected ({n}, F)")
    if len(factor_names) != factors.shape[1]:
        raise DataError(path, f"{len(factor_names)} factor names for {factors.shape[1]} factor columns")
    if split.shape != (n,) or not np.isin(split, list(SPLIT_NAMES)).all():
        raise DataError(path, f"split must have shape ({n},) and values in 0/1/2")
    if len(set(ids.tolist())) != n:
        raise DataError(path, "ids are not unique")
    if factor_classes is not None and np.shape(factor_classes) != factors.shape:
        raise DataError(path, f"factor_classes has shape {np.shape(factor_classes)}, expected {factors.shape}")
    if isinstance(images, np.ndarray):
        blocks: Iterable[np.ndarray] = (images[i : i + 4096] for i in range(0, len(images), 4096))
    else:
        blocks = images

    with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
        dset = None
        done = 0
        for block in blocks:
            block = np.asarray(block)
            if block.size == 0:
                continue
            if block.dtype != np.uint8 or block.ndim != 4 or block.shape[1:3] != (IMAGE_SIZE, IMAGE_SIZE) or block.shape[3] not in (1, 3):
                raise DataError(path, f"images must be uint8 (N, {IMAGE_SIZE}, {IMAGE_SIZE}, 1|3), got {block.dtype} {block.shape}")
            if dset is None:
                c = block.shape[3]
                dset = f.create_dataset(
                    "images", shape=(n, IMAGE_SIZE, IMAGE_SIZE, c), dtype=np.uint8,
                    chunks=(min(CHUNK_IMAGES, max(n, 1)), IMAGE_SIZE, IMAGE_SIZE, c),
                    compression="gzip", compression_opts=compression_level,
                )
            if done + len(block) > n:
                raise DataError(path, f"more images than the {n} ids")
            dset[done : done + len(block)] = block
            done += len(block)
        if done != n:
            raise DataError(path, f"{done} images for {n} ids")
        f.create_dataset("factors", data=factors, compression="gzip")
        f.create_dataset("factor_names", data=np.asarray(list(factor_names), dtype=object), dtype=h5py.string_dtype())
        f.create_dataset("split", data=split.astype(np.int8))
        f.create_dataset("ids", data=ids, dtype=h5py.string_dtype())
        if factor_classes is not None:
            f.create_dataset("factor_classes", data=np.asarray(factor_classes, dtype=np.int64), compression="gzip")
        for key, value in {**(attrs or {}), **(provenance or {})}.items():
            f.attrs[key] = h5_attr_value(value)
    log.info("wrote %s: %d images, %d factors, split sizes %s", path, n, factors.shape[1],
             {SPLIT_NAMES[s]: int((split == s).sum()) for s in SPLIT_NAMES})


class PreparedData:
    """Read a prepared dataset ``results/data/{dataset}.h5``.

    Metadata (factors, names, split, ids) is loaded on opening; images are
    read on demand. Use as a context manager or call :meth:`close`.

    Parameters
    ----------
    path : the ``.h5`` file written by :func:`write_prepared`.

    Attributes
    ----------
    path : Path
    n : int, number of images.
    channels : int, 1 (dSprites) or 3 (faces).
    factor_names : list[str], F names.
    factors : float32 (N, F).
    factor_classes : int64 (N, F) or None (dSprites only).
    split : int8 (N,), 0 train / 1 valid / 2 test.
    ids : numpy str array (N,).
    attrs : dict, the file attributes (provenance and dataset metadata).

    Raises
    ------
    DataError
        If the file is missing, not HDF5, or lacks a required dataset.
    """

    def __init__(self, path: str | Path):
        import h5py

        self.path = Path(path)
        if not self.path.is_file():
            raise DataError(self.path, "prepared dataset not found")
        try:
            self._file = h5py.File(self.path, "r")
        except OSError as err:
            raise DataError(self.path, f"not a readable HDF5 file ({err})") from err
        f = self._file
        missing = [k for k in REQUIRED if k not in f]
        if missing:
            self._file.close()
            raise DataError(self.path, f"missing dataset(s) {missing}; expected {list(REQUIRED)}")
        self._images = f["images"]
        self.n = int(self._images.shape[0])
        self.channels = int(self._images.shape[3])
        self.factor_names = [s.decode() if isinstance(s, bytes) else str(s) for s in f["factor_names"][:]]
        self.factors = f["factors"][:].astype(np.float32)
        self.split = f["split"][:].astype(np.int8)
        self.ids = np.asarray([s.decode() if isinstance(s, bytes) else str(s) for s in f["ids"][:]])
        self.factor_classes = f["factor_classes"][:] if "factor_classes" in f else None
        self.attrs = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in f.attrs.items()}
        if not (self.factors.shape[0] == self.split.shape[0] == self.ids.shape[0] == self.n):
            self._file.close()
            raise DataError(self.path, "images, factors, split and ids differ in length")
        self._chunk = int((self._images.chunks or (self.n,))[0])

    def images(self, indices: Sequence[int] | np.ndarray | None = None) -> np.ndarray:
        """Return images as uint8 (n, 64, 64, C), in the order of ``indices`` (all when None).

        Indices may repeat and come in any order; reading touches each
        compressed chunk once.
        """
        if indices is None:
            return self._images[:]
        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        if idx.size == 0:
            return np.zeros((0, *self._images.shape[1:]), dtype=np.uint8)
        if idx.min() < 0 or idx.max() >= self.n:
            raise IndexError(f"{self.path}: image index out of range [0, {self.n})")
        uniq = np.unique(idx)
        out = np.empty((len(uniq), *self._images.shape[1:]), dtype=np.uint8)
        lo, hi = int(uniq[0]), int(uniq[-1]) + 1
        if len(uniq) * 4 >= hi - lo:  # dense selection: read contiguous slabs
            slab = 1 << 15
            for start in range(lo, hi, slab):
                sel = uniq[(uniq >= start) & (uniq < start + slab)]
                if sel.size:
                    out[np.searchsorted(uniq, sel)] = self._images[start : min(start + slab, hi)][sel - start]
            return out[np.searchsorted(uniq, idx)]
        chunk_of = uniq // self._chunk
        bounds = np.flatnonzero(np.diff(chunk_of)) + 1
        for group_start, group in zip(np.r_[0, bounds], np.split(uniq, bounds)):
            lo, hi = int(group[0]), int(group[-1]) + 1
            out[group_start : group_start + len(group)] = self._images[lo:hi][group - lo]
        return out[np.searchsorted(uniq, idx)]

    def indices(self, split: int) -> np.ndarray:
        """Return the int64 indices of the images in ``split`` (0 train, 1 valid, 2 test)."""
        if split not in SPLIT_NAMES:
            raise ValueError(f"split must be one of {sorted(SPLIT_NAMES)}, got {split!r}")
        return np.flatnonzero(self.split == split).astype(np.int64)

    def close(self) -> None:
        """Close the HDF5 file."""
        self._file.close()

    def __enter__(self) -> PreparedData:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"PreparedData({str(self.path)!r}, n={self.n}, channels={self.channels}, factors={self.factor_names})"


def image_floats(images: np.ndarray) -> np.ndarray:
    """uint8 images as floats, the scale the models decode to: (n, H, W, C) uint8 -> float32 in [0, 1], same shape."""
    return np.asarray(images, dtype=np.float32) / np.float32(255.0)


def image_tensor(images: np.ndarray, device) -> torch.Tensor:
    """Images as the models take them.

    Parameters
    ----------
    images : uint8 (n, 64, 64, C), as :meth:`PreparedData.images` returns them.
    device : torch device the tensor goes to.

    Returns
    -------
    torch.FloatTensor (n, C, 64, 64), values in [0, 1].
    """
    import torch  # heavy: only the model stages pay for it

    return torch.from_numpy(np.ascontiguousarray(images)).to(device).permute(0, 3, 1, 2).float().div_(255.0)


def iterate_batches(
    data: PreparedData,
    indices: Sequence[int] | np.ndarray,
    batch_size: int,
    rng: np.random.Generator,
    device: Any = "cpu",
    cache_bytes: int = 4 << 30,
) -> Iterator[Any]:
    """Yield an infinite shuffled stream of image batches as torch tensors.

    Each pass over ``indices`` is a fresh permutation drawn from ``rng``;
    batches always hold ``batch_size`` images (a batch may span two passes).
    When the selected images fit in ``cache_bytes`` they are read once and
    kept in memory; otherwise each batch is read from the file.

    Parameters
    ----------
    data : an open :class:`PreparedData`.
    indices : int array (M,), the images to draw from (e.g. ``data.indices(0)``).
    batch_size : images per batch.
    rng : numpy Generator (seeded from the config) that drives the shuffling.
    device : torch device or its name ('auto' resolves like the config's ``device``).
    cache_bytes : memory budget for keeping the selected images in RAM.

    Yields
    ------
    torch.FloatTensor
        (batch_size, C, 64, 64), values in [0, 1], on ``device``.
    """
    from facebrain.device import resolve_device

    indices = np.asarray(indices, dtype=np.int64)
    if indices.size == 0:
        raise ValueError(f"{data.path}: no images to draw batches from")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    device = resolve_device(device) if isinstance(device, str) else device
    per_image = IMAGE_SIZE * IMAGE_SIZE * data.channels
    cached = data.images(indices) if indices.size * per_image <= cache_bytes else None
    order = np.empty(0, dtype=np.int64)
    while True:
        while order.size < batch_size:
            order = np.concatenate([order, rng.permutation(indices.size)])
        take, order = order[:batch_size], order[batch_size:]
        batch = cached[take] if cached is not None else data.images(indices[take])
        yield image_tensor(batch, device)
