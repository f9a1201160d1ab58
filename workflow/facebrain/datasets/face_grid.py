"""SynthFaces' factor grid, rendered once: every face the pair kinds and the metrics sample.

Each continuous factor of :data:`facebrain.datasets.synthfaces.FACTOR_NAMES`
takes ``levels`` evenly spaced values of [-1, 1] and eyeglasses takes 0 and 1
(:func:`grid_values`); every cell of that grid (``levels**7 * 2``: 156,250 at
5 levels) is rendered as the prepared data set holds its images
(:func:`facebrain.datasets.synthfaces.render_faces`, uint8 64 x 64 x 3), with a
process pool, in C order over the factors.

The file (``results/data/synthfaces_grid.h5``, written atomically by
:func:`write_face_grid`) holds

- ``images``: uint8 (N, 64, 64, 3), contiguous and uncompressed, so that
  :class:`FaceGrid` maps it into memory and reads any cells without
  decompressing (1.9 GB at 5 levels; the page cache keeps what is used);
- ``values/<factor>``: the factor's levels, float64;
- attributes ``format``, ``factor_names``, ``levels`` and the provenance.

Cell ``i`` holds the factor classes ``numpy.unravel_index(i, num_values)``;
the faces are byte for byte those that rendering on demand gives
(:class:`facebrain.metrics.ground_truth.SynthFaces`), whatever the number of
rendering processes.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import h5py
import numpy as np
from tqdm import tqdm

from facebrain.datasets.synthfaces import BINARY_FACTORS, FACTOR_NAMES, render_faces
from facebrain.errors import DataError
from facebrain.io import atomic_path, h5_attr_value

log = logging.getLogger(__name__)

GRID_FORMAT = 1
"""Version of the grid file's layout."""
IMAGE_SHAPE = (64, 64, 3)


def grid_values(levels: int) -> list[np.ndarray]:
    """The values of each factor on the grid, in :data:`FACTOR_NAMES` order.

    Parameters
    ----------
    levels : number of levels of each continuous factor (>= 2).

    Returns
    -------
    list of float64 arrays: ``linspace(-1, 1, levels)`` per continuous factor, [0, 1] for eyeglasses.
    """
    if levels < 2:
        raise ValueError(f"levels must be >= 2, got {levels}")
    return [np.array([0.0, 1.0]) if name in BINARY_FACTORS else np.linspace(-1.0, 1.0, levels) for name in FACTOR_NAMES]


def cell_values(values: Sequence[np.ndarray], classes: np.ndarray) -> np.ndarray:
    """Factor values float64 (n, F) of factor classes ``classes`` int (n, F) on a grid of ``values``."""
    classes = np.asarray(classes, dtype=np.int64)
    return np.stack([values[f][classes[:, f]] for f in range(len(values))], axis=1)


def write_face_grid(out: str | Path, levels: int = 5, workers: int = 1, block: int = 4096,
                    provenance: Mapping[str, Any] | None = None) -> None:
    """Render every cell of the SynthFaces factor grid into ``out`` (see the module docstring).

    Parameters
    ----------
    out : the grid file (``.h5``), written atomically: a failed job leaves nothing behind.
    levels : levels of each continuous factor.
    workers : rendering processes.
    block : cells rendered (and held in memory) at a time.
    provenance : file attributes.
    """
    values = grid_values(levels)
    sizes = [len(v) for v in values]
    n = math.prod(sizes)
    log.info("rendering the SynthFaces grid: %d levels, %d faces (%.2f GB) with %d worker(s) into %s",
             levels, n, n * math.prod(IMAGE_SHAPE) / 1e9, workers, out)
    with atomic_path(out) as tmp:
        with h5py.File(tmp, "w") as f:
            images = f.create_dataset("images", shape=(n, *IMAGE_SHAPE), dtype=np.uint8)  # contiguous: memory-mappable
            with tqdm(total=n, desc="SynthFaces grid", unit="face") as progress:
                for start in range(0, n, block):
                    cells = np.arange(start, min(n, start + block))
                    classes = np.stack(np.unravel_index(cells, sizes), axis=1)
                    images[start : start + len(cells)] = render_faces(cell_values(values, classes), workers)
                    progress.update(len(cells))
            for name, v in zip(FACTOR_NAMES, values):
                f.create_dataset(f"values/{name}", data=v)
            f.attrs["format"] = GRID_FORMAT
            f.attrs["factor_names"] = h5_attr_value(list(FACTOR_NAMES))
            f.attrs["levels"] = int(levels)
            for key, value in (provenance or {}).items():
                f.attrs[key] = h5_attr_value(value)


class FaceGrid:
    """A rendered SynthFaces grid, read lazily from its memory-mapped file.

    Parameters
    ----------
    path : a file written by :func:`write_face_grid`.

    Attributes
    ----------
    factor_names : the F factor names.
    values : list of F float64 arrays, each factor's levels.
    num_values : list of F int, the number of levels of each factor.
    size : number of cells N (= the product of ``num_values``).
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            with h5py.File(self.path, "r") as f:
                if int(f.attrs.get("format", -1)) != GRID_FORMAT:
                    raise DataError(self.path, f"not a SynthFaces grid of format {GRID_FORMAT} (attribute 'format' is {f.attrs.get('format')!r})")
                images = f["images"]
                self.values = [np.asarray(f[f"values/{name}"]) for name in FACTOR_NAMES]
                shape, dtype, offset = images.shape, images.dtype, images.id.get_offset()
        except (OSError, KeyError) as err:
            raise DataError(self.path, f"unreadable SynthFaces grid ({err})") from err
        self.factor_names = list(FACTOR_NAMES)
        self.num_values = [len(v) for v in self.values]
        self.size = math.prod(self.num_values)
        if shape != (self.size, *IMAGE_SHAPE) or dtype != np.uint8:
            raise DataError(self.path, f"images are {dtype} {shape}, expected uint8 {(self.size, *IMAGE_SHAPE)} (one per cell of the {self.num_values} grid)")
        if offset is None:
            raise DataError(self.path, "images are chunked or compressed; the grid must be contiguous to be memory-mapped")
        self._images = np.memmap(self.path, dtype=np.uint8, mode="r", offset=offset, shape=shape)

    def cells(self, classes: np.ndarray) -> np.ndarray:
        """Cell indices int64 (n,) of factor classes ``classes`` int (n, F)."""
        return np.ravel_multi_index(tuple(np.asarray(classes, dtype=np.int64).T), self.num_values).astype(np.int64)

    def factor_values(self, classes: np.ndarray) -> np.ndarray:
        """Factor values float64 (n, F) of factor classes ``classes`` int (n, F)."""
        return cell_values(self.values, classes)

    def images(self, cells: np.ndarray) -> np.ndarray:
        """The faces of ``cells`` (n,), uint8 (n, 64, 64, 3), read from the mapped file."""
        return np.asarray(self._images[np.asarray(cells, dtype=np.int64)])

    def __repr__(self) -> str:
        return f"FaceGrid({self.path}, {self.size} faces, levels {self.num_values})"
