"""dSprites: the official npz (download) or a procedural regeneration in the same format.

The npz (Matthey et al. 2017) holds ``imgs`` (N, 64, 64) uint8 in {0, 1},
``latents_values`` (N, 6) float64, ``latents_classes`` (N, 6) int64 and a
pickled ``metadata`` dict, in C-order over the factors (color 1, shape 3,
scale 6, orientation 40, posX 32, posY 32): N = 737,280.

Geometry of the regeneration (matched to real images, see
``tests/test_datasets_dsprites.py``): a pixel is on when its centre lies
inside the sprite (no anti-aliasing). In canvas units (a pixel is 1 x 1,
x to the right, y down) the sprite's reference point is at
``(16 + 32 posX, 16 + 32 posY)``; the sprite is rotated counter-clockwise on
screen by ``orientation`` radians and scaled by ``scale``. At scale 1: the
square has side 19.2 px (0.3 of the canvas), the ellipse semi-axes 12.75 x
7.25 px (long axis horizontal at orientation 0), the heart (tip down) is two
discs of radius 5.2 px whose centres are 4.5 px left/right of the axis and
4 px above the reference point, joined to a tip 10 px below it.
"""

from __future__ import annotations

import logging
import pickle
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from facebrain.datasets.download import download
from facebrain.errors import DataError

log = logging.getLogger(__name__)

FILENAME = "dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz"
URL = "https://github.com/deepmind/dsprites-dataset/raw/master/" + FILENAME
GIT_SHA1 = "d98996d3f8ee1550e06b9d4ed78d0beb478910d5"
"""Git blob sha1 of the official npz."""
LATENT_NAMES = ("color", "shape", "scale", "orientation", "posX", "posY")
FACTOR_NAMES = ["shape", "scale", "orientation", "posX", "posY"]
"""The factors that vary (``color`` is constant); columns of the prepared ``factors``."""
FULL_GRID = {"orientation": 40, "posX": 32, "posY": 32}
"""Number of values of the factors whose grid may be reduced (see :func:`latent_values`)."""
SHAPES = {1: "square", 2: "ellipse", 3: "heart"}
"""``latents_values`` shape code -> name."""

SQUARE_SIDE = 19.2
ELLIPSE_AXES = (12.75, 7.25)
HEART_LOBE_RADIUS = 5.2
HEART_LOBE_X = 4.5
HEART_LOBE_Y = 4.0
HEART_TIP_Y = -10.0
CANVAS = 64
WINDOW = 32  # side of the square window around a sprite's centre that can hold it


def latent_values(orientation: int = 40, posX: int = 32, posY: int = 32) -> dict[str, np.ndarray]:
    """Return the possible values of each latent (dSprites' own grid by default).

    Parameters
    ----------
    orientation, posX, posY : number of grid values; orientation spans
        linspace(0, 2 pi, n) (radians), positions linspace(0, 1, n).

    Returns
    -------
    dict
        latent name -> float64 array of its values, in :data:`LATENT_NAMES` order.
    """
    for name, n in (("orientation", orientation), ("posX", posX), ("posY", posY)):
        if n < 2:
            raise ValueError(f"dSprites grid: {name} needs at least 2 values, got {n}")
    return {
        "color": np.array([1.0]),
        "shape": np.array([1.0, 2.0, 3.0]),
        "scale": np.linspace(0.5, 1.0, 6),
        "orientation": np.linspace(0.0, 2 * np.pi, orientation),
        "posX": np.linspace(0.0, 1.0, posX),
        "posY": np.linspace(0.0, 1.0, posY),
    }


def _inside(shape: int, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Whether sprite-frame points (u right, v up; pixels at scale 1) lie inside ``shape``."""
    if shape == 1:
        half = SQUARE_SIDE / 2
        return (np.abs(u) <= half) & (np.abs(v) <= half)
    if shape == 2:
        a, b = ELLIPSE_AXES
        return (u / a) ** 2 + (v / b) ** 2 <= 1.0
    if shape == 3:
        x, r = np.abs(u), HEART_LOBE_RADIUS
        lobes = (x - HEART_LOBE_X) ** 2 + (v - HEART_LOBE_Y) ** 2 <= r * r
        height = HEART_LOBE_Y - HEART_TIP_Y
        body = (v >= HEART_TIP_Y) & (v <= HEART_LOBE_Y) & (x <= 0.98 * (HEART_LOBE_X + r) * (v - HEART_TIP_Y) / height)
        return lobes | body
    raise ValueError(f"unknown dSprites shape code {shape!r}; expected 1, 2 or 3")


def render_sprites(shape: int, scale: float, orientation: float, posX: np.ndarray, posY: np.ndarray) -> np.ndarray:
    """Render one sprite at every (posX, posY) pair of a grid.

    Parameters
    ----------
    shape : 1 square, 2 ellipse, 3 heart.
    scale : in [0.5, 1].
    orientation : radians, counter-clockwise on screen.
    posX : float array (nx,) in [0, 1].
    posY : float array (ny,) in [0, 1].

    Returns
    -------
    numpy.ndarray
        uint8 (nx, ny, 64, 64) in {0, 1}; ``[i, j]`` is the sprite at (posX[i], posY[j]).
    """
    posX = np.atleast_1d(np.asarray(posX, dtype=np.float64))
    posY = np.atleast_1d(np.asarray(posY, dtype=np.float64))
    cx, cy = 16 + 32 * posX, 16 + 32 * posY
    x0 = np.clip(np.round(cx).astype(int) - WINDOW // 2, 0, CANVAS - WINDOW)
    y0 = np.clip(np.round(cy).astype(int) - WINDOW // 2, 0, CANVAS - WINDOW)
    offs = np.arange(WINDOW) + 0.5
    dx = (x0[:, None] + offs[None, :] - cx[:, None]) / scale  # (nx, W), x right
    dy = -(y0[:, None] + offs[None, :] - cy[:, None]) / scale  # (ny, W), y up
    c, s = np.cos(orientation), np.sin(orientation)
    u = c * dx[:, None, None, :] + s * dy[None, :, :, None]  # (nx, ny, W rows, W cols)
    v = -s * dx[:, None, None, :] + c * dy[None, :, :, None]
    window = _inside(shape, u, v)
    out = np.zeros((len(posX), len(posY), CANVAS, CANVAS), dtype=np.uint8)
    rows = y0[None, :, None, None] + np.arange(WINDOW)[None, None, :, None]
    cols = x0[:, None, None, None] + np.arange(WINDOW)[None, None, None, :]
    ii = np.arange(len(posX))[:, None, None, None]
    jj = np.arange(len(posY))[None, :, None, None]
    out[ii, jj, rows, cols] = window
    return out


def render_factors(latents: np.ndarray) -> np.ndarray:
    """Render sprites from rows of ``latents_values``.

    Parameters
    ----------
    latents : float array (N, 6) (color, shape, scale, orientation, posX, posY),
        or (N, 5) without color.

    Returns
    -------
    numpy.ndarray
        uint8 (N, 64, 64) in {0, 1}.
    """
    latents = np.atleast_2d(np.asarray(latents, dtype=np.float64))
    latents = latents[:, -5:]
    return np.stack([render_sprites(int(round(sh)), sc, th, x, y)[0, 0] for sh, sc, th, x, y in latents]) \
        if len(latents) else np.zeros((0, CANVAS, CANVAS), dtype=np.uint8)


def _iter_grid_blocks(values: Mapping[str, np.ndarray]) -> Iterator[np.ndarray]:
    """Yield the images in C-order, one (nx * ny, 64, 64) block per (shape, scale, orientation)."""
    for shape in values["shape"]:
        for scale in values["scale"]:
            for orientation in values["orientation"]:
                block = render_sprites(int(shape), scale, orientation, values["posX"], values["posY"])
                yield block.reshape(-1, CANVAS, CANVAS)


def _grid_latents(values: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    sizes = [len(values[k]) for k in LATENT_NAMES]
    classes = np.stack(np.meshgrid(*[np.arange(n) for n in sizes], indexing="ij"), axis=-1).reshape(-1, len(sizes))
    latents = np.stack([values[k][classes[:, i]] for i, k in enumerate(LATENT_NAMES)], axis=1)
    return latents.astype(np.float64), classes.astype(np.int64)


def _write_npy_member(zf: zipfile.ZipFile, name: str, shape: tuple[int, ...], dtype: np.dtype, blocks) -> None:
    header = {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)), "fortran_order": False, "shape": tuple(shape)}
    with zf.open(name + ".npy", "w", force_zip64=True) as member:
        np.lib.format.write_array_header_1_0(member, header)
        for block in blocks:
            member.write(np.ascontiguousarray(block, dtype=dtype).tobytes())


def regenerate_dsprites(out: str | Path, grid: Mapping[str, int] | None = None, compresslevel: int = 1,
                        provenance: Mapping[str, Any] | None = None) -> None:
    """Write a procedurally regenerated dSprites npz (same keys and C-order as the official file).

    Images are rendered and compressed block by block, so memory stays far
    below the 2.9 GB the full ``imgs`` array takes.

    Parameters
    ----------
    out : output ``.npz`` path (written atomically).
    grid : optional reduced grid, e.g. ``{"orientation": 10, "posX": 8, "posY": 8}``
        (defaults: :data:`FULL_GRID`); recorded in ``metadata['latents_sizes']``.
    compresslevel : zlib level of the npz members (1: fast; the output is ~30 MB for the full grid).
    provenance : stored in ``metadata['provenance']``.
    """
    from facebrain.io import atomic_path

    grid = {**FULL_GRID, **(grid or {})}
    values = latent_values(**grid)
    latents, classes = _grid_latents(values)
    n = len(latents)
    sizes = np.array([len(values[k]) for k in LATENT_NAMES])
    metadata = {
        "title": "dSprites dataset (facebrain procedural regeneration)",
        "description": "Procedurally regenerated 2D shapes in the format of deepmind/dsprites-dataset; "
                       "geometry matched to the official images (see facebrain.datasets.dsprites).",
        "version": 1,
        "latents_names": LATENT_NAMES,
        "latents_possible_values": {k: values[k] for k in LATENT_NAMES},
        "latents_sizes": sizes,
        "grid": dict(grid),
        "provenance": dict(provenance or {}),
    }
    n_blocks = int(np.prod(sizes[:4]))
    log.info("rendering %d dSprites images, grid %s, into %s", n, dict(zip(LATENT_NAMES, sizes.tolist())), out)
    with atomic_path(out) as tmp, zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=compresslevel) as zf:
        blocks = tqdm(_iter_grid_blocks(values), total=n_blocks, desc="dSprites", unit="block")
        _write_npy_member(zf, "imgs", (n, CANVAS, CANVAS), np.uint8, blocks)
        _write_npy_member(zf, "latents_values", latents.shape, np.float64, [latents])
        _write_npy_member(zf, "latents_classes", classes.shape, np.int64, [classes])
        with zf.open("metadata.npy", "w") as member:
            np.save(member, np.array(metadata, dtype=object), allow_pickle=True)


def download_dsprites(out: str | Path, url: str = URL) -> None:
    """Download the official dSprites npz to ``out`` and verify its git blob sha1 (:data:`GIT_SHA1`)."""
    download(url, out, "git-sha1", GIT_SHA1)


def obtain_dsprites(out: str | Path, source: str = "regenerate", url: str = URL, grid: Mapping[str, int] | None = None,
                    provenance: Mapping[str, Any] | None = None) -> None:
    """Produce the dSprites npz at ``out`` from ``source``.

    Parameters
    ----------
    out : the npz path.
    source : 'regenerate' (:func:`regenerate_dsprites`, offline) or 'download'
        (:func:`download_dsprites`, verified by git blob sha1).
    url : download URL.
    grid : reduced grid when regenerating (see :func:`regenerate_dsprites`).
    provenance : recorded in the regenerated file's metadata.
    """
    if source == "download":
        download_dsprites(out, url)
    elif source == "regenerate":
        regenerate_dsprites(out, grid=grid, provenance=provenance)
    else:
        raise ValueError(f"dSprites source must be 'regenerate' or 'download', got {source!r}")


class DSprites:
    """Read a dSprites npz (official or regenerated) with images kept bit-packed in memory.

    The full ``imgs`` take 2.9 GB as uint8; here they are streamed from the
    npz and kept as packed bits (360 MB).

    Parameters
    ----------
    path : the ``.npz``.

    Attributes
    ----------
    latents_values : float64 (N, 6); latents_classes : int64 (N, 6);
    latents_sizes : int (6,); metadata : dict; n : int.

    Raises
    ------
    DataError
        Missing key, truncated or corrupt file, inconsistent shapes.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if not self.path.is_file():
            raise DataError(self.path, "dSprites npz not found")
        try:
            with zipfile.ZipFile(self.path) as zf:
                names = {Path(n).stem for n in zf.namelist()}
                missing = {"imgs", "latents_values", "latents_classes", "metadata"} - names
                if missing:
                    raise DataError(self.path, f"missing key(s) {sorted(missing)} in the npz")
                self.latents_values = self._read_small(zf, "latents_values")
                self.latents_classes = self._read_small(zf, "latents_classes").astype(np.int64)
                self.metadata = self._read_metadata(zf)
                self._packed, shape = self._read_packed_images(zf)
        except (zipfile.BadZipFile, EOFError, OSError, ValueError, pickle.UnpicklingError) as err:
            if isinstance(err, DataError):
                raise
            raise DataError(self.path, f"truncated or corrupt npz ({type(err).__name__}: {err})") from err
        self.n = shape[0]
        if shape[1:] != (CANVAS, CANVAS) or self.latents_values.shape != (self.n, 6) or self.latents_classes.shape != (self.n, 6):
            raise DataError(self.path, f"inconsistent shapes: imgs {shape}, latents_values {self.latents_values.shape}, "
                                       f"latents_classes {self.latents_classes.shape}")
        self.latents_sizes = np.asarray(self.metadata.get("latents_sizes", self.latents_classes.max(0) + 1)).astype(np.int64)
        if int(np.prod(self.latents_sizes)) != self.n:
            raise DataError(self.path, f"latents_sizes {self.latents_sizes.tolist()} do not multiply to {self.n} images")

    @staticmethod
    def _read_small(zf: zipfile.ZipFile, key: str) -> np.ndarray:
        with zf.open(key + ".npy") as f:
            return np.lib.format.read_array(f, allow_pickle=False)

    @staticmethod
    def _read_metadata(zf: zipfile.ZipFile) -> dict:
        with zf.open("metadata.npy") as f:
            meta = np.lib.format.read_array(f, allow_pickle=True, pickle_kwargs={"encoding": "latin1"})
        meta = meta.item() if meta.dtype == object and meta.shape == () else meta
        return {(k.decode() if isinstance(k, bytes) else k): v for k, v in dict(meta).items()}

    def _read_packed_images(self, zf: zipfile.ZipFile) -> tuple[np.ndarray, tuple[int, ...]]:
        with zf.open("imgs.npy") as f:
            version = np.lib.format.read_magic(f)
            reader = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            shape, fortran, dtype = reader(f)
            if fortran or dtype != np.uint8 or len(shape) != 3:
                raise DataError(self.path, f"imgs must be C-order uint8 (N, 64, 64), got {dtype} {shape}")
            per = shape[1] * shape[2]
            packed = np.empty((shape[0], per // 8), dtype=np.uint8)
            step = 8192
            for start in range(0, shape[0], step):
                count = min(step, shape[0] - start)
                raw = f.read(count * per)
                if len(raw) != count * per:
                    raise DataError(self.path, f"imgs is truncated: {start + len(raw) // per} of {shape[0]} images")
                packed[start : start + count] = np.packbits(np.frombuffer(raw, np.uint8).reshape(count, per) > 0, axis=1)
        return packed, tuple(shape)

    def images(self, indices: np.ndarray | None = None) -> np.ndarray:
        """Return images as uint8 (n, 64, 64) in {0, 1} (all when ``indices`` is None)."""
        packed = self._packed if indices is None else self._packed[np.asarray(indices, dtype=np.int64)]
        return np.unpackbits(packed, axis=1).reshape(-1, CANVAS, CANVAS)

    def index(self, classes: np.ndarray) -> np.ndarray:
        """Return the image indices (int64, (M,)) of rows of latent classes (M, 6) (C-order grid)."""
        return np.ravel_multi_index(np.asarray(classes, dtype=np.int64).T, tuple(self.latents_sizes)).astype(np.int64)


def prepare_dsprites(npz: str | Path, out: str | Path, n_images: int = 0, valid_fraction: float = 0.05,
                     test_fraction: float = 0.05, seed: int = 0, provenance: Mapping[str, Any] | None = None) -> None:
    """Write the prepared dSprites HDF5 (``results/data/dsprites.h5``) from the npz.

    Parameters
    ----------
    npz : official or regenerated dSprites npz.
    out : output ``.h5`` (see :mod:`facebrain.datasets.prepared`); images are
        stored as 0/255 (C = 1), ``factors`` are the ``latents_values`` of
        :data:`FACTOR_NAMES`, ``factor_classes`` their grid indices, ``ids``
        the image's index in the npz (decimal string).
    n_images : keep a random subset of this many images (0: all).
    valid_fraction, test_fraction : fractions of the kept images assigned at
        random to the validation (1) and test (2) splits.
    seed : seeds the subset and the split.
    provenance : file attributes.
    """
    from facebrain.datasets.prepared import write_prepared

    data = DSprites(npz)
    rng = np.random.default_rng(seed)
    if n_images and n_images < data.n:
        keep = np.sort(rng.choice(data.n, size=n_images, replace=False))
    else:
        keep = np.arange(data.n)
    split = _random_split(len(keep), valid_fraction, test_fraction, rng)
    log.info("preparing %d of %d dSprites images from %s", len(keep), data.n, npz)
    step = 8192
    blocks = (data.images(keep[i : i + step])[..., None] * np.uint8(255) for i in tqdm(range(0, len(keep), step), desc="prepare"))
    write_prepared(
        out, blocks, factors=data.latents_values[keep, 1:], factor_names=FACTOR_NAMES, split=split,
        ids=[str(i) for i in keep], factor_classes=data.latents_classes[keep, 1:], provenance=provenance,
        attrs={"dataset": "dsprites", "source_npz": str(npz), "latents_sizes": data.latents_sizes[1:].tolist(),
               "pixel_values": "0 background, 255 sprite"},
    )


def _random_split(n: int, valid_fraction: float, test_fraction: float, rng: np.random.Generator) -> np.ndarray:
    """Return int8 (n,) split codes: a random ``test_fraction`` -> 2, ``valid_fraction`` -> 1, the rest 0."""
    if not (0 <= valid_fraction and 0 <= test_fraction and valid_fraction + test_fraction < 1):
        raise ValueError(f"valid_fraction {valid_fraction} + test_fraction {test_fraction} must be in [0, 1)")
    order = rng.permutation(n)
    n_test, n_valid = int(round(test_fraction * n)), int(round(valid_fraction * n))
    split = np.zeros(n, dtype=np.int8)
    split[order[:n_test]] = 2
    split[order[n_test : n_test + n_valid]] = 1
    return split
