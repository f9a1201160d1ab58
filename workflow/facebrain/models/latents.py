"""Encoding images and decoding latents with any trained model; the latents HDF5 files.

The one encode function every consumer uses (latents of the prepared datasets,
fMRI stimuli, metrics)::

    from facebrain.models.latents import encode_images, decode_latents
    mu, logvar = encode_images("results/models/factorvae/synthfaces/model.pt", images, ids)
    recon = decode_latents("results/models/factorvae/synthfaces/model.pt", mu)

``results/latents/{model}/{dataset}.h5`` holds ``mu`` and ``logvar`` float32
(N, K) and ``ids`` (N,) str in the prepared dataset's order, with provenance
attributes and the attributes ``model``, ``kind``, ``latent_dim``.
Deterministic encoders (pca, oracle, random) give ``logvar = -inf`` (variance 0).
"""

from __future__ import annotations

import functools
import itertools
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from facebrain.datasets.prepared import PreparedData, image_tensor
from facebrain.device import resolve_device
from facebrain.errors import DataError
from facebrain.io import write_h5
from facebrain.models.dimension_labels import label_dimensions
from facebrain.models.registry import LatentModel, read_model_file

log = logging.getLogger(__name__)


@functools.lru_cache(maxsize=8)
def _load(path: str, mtime_ns: int, device: str) -> LatentModel:
    return read_model_file(path).to(torch.device(device)).eval()


def _model_device(model: LatentModel) -> torch.device:
    for tensor in itertools.chain(model.parameters(), model.buffers()):
        return tensor.device
    return torch.device("cpu")


def load_model(model_path: str | Path, device: str = "auto") -> LatentModel:
    """Load a trained ``model.pt`` (``weights_only=True``) in eval mode on ``device``.

    Loaded models are cached (keyed by path, modification time and device).

    Raises
    ------
    DataError
        If the file is missing, unreadable or not a facebrain model.
    """
    path = Path(model_path)
    if not path.is_file():
        raise DataError(path, "model file not found")
    return _load(str(path), path.stat().st_mtime_ns, str(resolve_device(device)))


def encode_images(
    model_path: str | Path,
    images: np.ndarray,
    ids: Sequence[str],
    device: str = "auto",
    batch_size: int = 256,
) -> tuple[np.ndarray, np.ndarray]:
    """Encode images with a trained model of any kind.

    Parameters
    ----------
    model_path : ``results/models/{model}/{dataset}/model.pt``.
    images : uint8 (N, 64, 64, C), C the model's channels (1 dSprites, 3 faces).
    ids : N image ids (the prepared dataset's ``ids``; the oracle looks its factors up by them).
    device : 'auto', 'cpu', 'cuda', ...
    batch_size : images per forward pass.

    Returns
    -------
    mu, logvar : float32 (N, K) posterior means and log-variances
        (``-inf`` log-variance for deterministic encoders).

    Raises
    ------
    DataError
        If the images have the wrong dtype or shape, ids and images differ in
        length, or (oracle) an id is unknown; the message names ``model_path``.
    """
    model = load_model(model_path, device)
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[1:] != (64, 64, model.in_channels):
        raise DataError(model_path, f"images must be uint8 (N, 64, 64, {model.in_channels}) for this model, got {images.dtype} {images.shape}")
    ids = [str(i) for i in ids]
    if len(ids) != len(images):
        raise DataError(model_path, f"{len(ids)} ids for {len(images)} images")
    dev = _model_device(model)
    mus, logvars = [], []
    with torch.no_grad():
        for start in range(0, len(images), batch_size):
            x = image_tensor(images[start : start + batch_size], dev)
            try:
                mu, logvar = model.encode(x, ids=ids[start : start + batch_size])
            except ValueError as err:
                raise DataError(model_path, str(err)) from err
            mus.append(mu.float().cpu().numpy())
            logvars.append(logvar.float().cpu().numpy())
    k = model.latent_dim
    return (np.concatenate(mus) if mus else np.zeros((0, k), np.float32)), (np.concatenate(logvars) if logvars else np.zeros((0, k), np.float32))


def decode_latents(model_path: str | Path, z: np.ndarray, device: str = "auto") -> np.ndarray:
    """Decode latents to images with a trained model (neural kinds and PCA).

    Parameters
    ----------
    model_path : ``model.pt`` of a decodable kind.
    z : float (N, K).
    device : 'auto', 'cpu', 'cuda', ...

    Returns
    -------
    float32 (N, 64, 64, C) images in [0, 1].

    Raises
    ------
    DataError
        If the kind has no decoder (oracle, random) or ``z`` has the wrong shape.
    """
    model = load_model(model_path, device)
    if not model.decodable:
        raise DataError(model_path, f"model kind '{model.kind}' has no decoder; only neural models and pca decode")
    z = np.asarray(z, dtype=np.float32)
    if z.ndim != 2 or z.shape[1] != model.latent_dim:
        raise DataError(model_path, f"latents must be (N, {model.latent_dim}), got {z.shape}")
    dev = _model_device(model)
    with torch.no_grad():
        out = [model.decode(torch.from_numpy(z[s : s + 256]).to(dev)).cpu().numpy() for s in range(0, len(z), 256)]
    images = np.concatenate(out) if out else np.zeros((0, model.in_channels, 64, 64), np.float32)
    return np.ascontiguousarray(images.transpose(0, 2, 3, 1), dtype=np.float32)


def write_latents(
    model: str | Path,
    data: str | Path,
    out: str | Path,
    labels_out: str | Path | None = None,
    device: str = "auto",
    batch_size: int = 256,
    provenance: Mapping[str, Any] | None = None,
) -> None:
    """Encode every image of a prepared dataset and write ``results/latents/{model}/{dataset}.h5``.

    Parameters
    ----------
    model : ``model.pt``.
    data : ``results/data/{dataset}.h5``.
    out : the latents file: ``mu``, ``logvar`` float32 (N, K), ``ids`` (N,), in the dataset's order.
    labels_out : optional ``{dataset}_dimension_labels.tsv``, written from the new latents by
        :func:`facebrain.models.dimension_labels.label_dimensions`.
    """
    loaded = load_model(model, device)
    with PreparedData(data) as prepared:
        mus, logvars = [], []
        chunk = max(batch_size, 4096)
        for start in tqdm(range(0, prepared.n, chunk), desc="encode", mininterval=10):
            idx = np.arange(start, min(start + chunk, prepared.n))
            mu, logvar = encode_images(model, prepared.images(idx), prepared.ids[idx], device, batch_size)
            mus.append(mu)
            logvars.append(logvar)
        ids = prepared.ids
    mu, logvar = np.concatenate(mus), np.concatenate(logvars)
    attrs = {**(provenance or {}), "model": str(model), "kind": loaded.kind, "latent_dim": loaded.latent_dim}
    write_h5(out, {"mu": mu, "logvar": logvar, "ids": np.asarray(ids, dtype=object)}, attrs=attrs)
    log.info("wrote %s: %d images x %d latents", out, *mu.shape)
    if labels_out is not None:

        try:
            label_dimensions(out, data, labels_out)
        except BaseException:
            Path(out).unlink(missing_ok=True)  # no half-finished job output
            raise
