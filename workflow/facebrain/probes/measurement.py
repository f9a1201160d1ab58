"""The measurement network f(.) of Zheng et al. (2021, Sec. 3.3): semantics of face images.

Zheng et al. measured the semantics of generated faces (viewpoint, lighting,
albedo, depth) with an unsupervised 3D face decomposition (Unsup3d) trained
on the face data. That network is a separate later step; here f(.) is a small
supervised CNN trained on the face dataset's own labels: SynthFaces' true
continuous factors, or CelebA's 40 attributes (0/1) plus the landmark-derived
pose (yaw proxy, roll, mouth width), as ``results/data/{dataset}.h5`` holds
them; ``factors`` picks which (all by default). It is trained with the mean
squared error on standardised factors on the training split and validated on
the held-out real images (valid + test splits): Pearson r per factor.

Its 256-d penultimate layer is also the feature space of the Frechet distance
of :mod:`facebrain.probes.quality` (an offline stand-in for Inception features).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn
from tqdm import tqdm

from facebrain.datasets.prepared import IMAGE_SIZE, PreparedData, image_tensor
from facebrain.device import resolve_device
from facebrain.errors import DataError
from facebrain.io import write_table, write_torch
from facebrain.seeding import seed_everything

log = logging.getLogger(__name__)

WIDTH = 32
"""Channels of the first convolution (default); the four stride-2 convolutions have width x (1, 2, 4, 4)."""
FEATURES = 256
"""Size of the penultimate layer (the Frechet distance's feature space)."""
CACHE_BYTES = 2 << 30
"""Training images up to this size are read once and kept in memory."""


class MeasurementNet(nn.Module):
    """CNN regressing face semantics: images (N, 3, 64, 64) in [0, 1] -> (N, F) in the factors' units.

    Parameters
    ----------
    factor_names : the F semantics it measures.
    mean, std : float (F,): the training factors' mean and standard deviation
        (the network predicts standardised values; :meth:`forward` undoes it).
    width : channels of the first convolution.
    """

    def __init__(self, factor_names: Sequence[str], mean: np.ndarray, std: np.ndarray, width: int = WIDTH):
        super().__init__()
        self.factor_names = list(factor_names)
        self.width = width
        channels = (3, width, 2 * width, 4 * width, 4 * width)
        layers: list[nn.Module] = []
        for cin, cout in zip(channels[:-1], channels[1:]):
            layers += [nn.Conv2d(cin, cout, 4, stride=2, padding=1), nn.LeakyReLU(0.2)]
        self.trunk = nn.Sequential(*layers, nn.Flatten(), nn.Linear(channels[-1] * 4 * 4, FEATURES), nn.LeakyReLU(0.2))
        self.head = nn.Linear(FEATURES, len(self.factor_names))
        self.register_buffer("mean", torch.as_tensor(np.asarray(mean, np.float32)))
        self.register_buffer("std", torch.as_tensor(np.asarray(std, np.float32)))

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """The 256-d penultimate layer, (N, 256)."""
        return self.trunk(images)

    def standardised(self, images: torch.Tensor) -> torch.Tensor:
        """Predicted standardised factors, (N, F)."""
        return self.head(self.trunk(images))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.standardised(images) * self.std + self.mean


def _selected(data: PreparedData, factors: Sequence[str] | None) -> list[int]:
    names = data.factor_names
    if not factors:
        return list(range(len(names)))
    unknown = [f for f in factors if f not in names]
    if unknown:
        raise DataError(data.path, f"no factor(s) {unknown}; it has {names}")
    return [names.index(f) for f in factors]


def measure(net: nn.Module, images: np.ndarray, batch_size: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """Semantics and features of images.

    Parameters
    ----------
    net : a :class:`MeasurementNet` (or any module with ``forward`` and ``features``).
    images : float (n, 3, 64, 64) in [0, 1].
    batch_size : images per forward pass.

    Returns
    -------
    semantics : float64 (n, F), in the factors' units.
    features : float64 (n, 256).
    """
    device = next(net.parameters()).device
    semantics, features = [], []
    net.eval()
    with torch.no_grad():
        for i in range(0, len(images), batch_size):
            x = torch.as_tensor(images[i : i + batch_size], dtype=torch.float32, device=device)
            semantics.append(net(x).cpu().numpy())
            features.append(net.features(x).cpu().numpy())
    return np.concatenate(semantics).astype(np.float64), np.concatenate(features).astype(np.float64)


def real_images(data: PreparedData, indices: np.ndarray) -> np.ndarray:
    """Prepared images as float (n, 3, 64, 64) in [0, 1], the layout :func:`measure` takes."""
    return image_tensor(data.images(indices), "cpu").numpy()


def validation_r(net: MeasurementNet, data: PreparedData, columns: Sequence[int], indices: np.ndarray) -> pd.DataFrame:
    """Pearson r between measured and true factors of held-out real images.

    Returns
    -------
    DataFrame with columns ``factor``, ``r``, ``n_images`` (one row per factor).
    """
    measured, _ = measure(net, real_images(data, indices))
    truth = data.factors[indices][:, columns].astype(np.float64)
    r = [np.corrcoef(measured[:, k], truth[:, k])[0, 1] if truth[:, k].std() > 0 and measured[:, k].std() > 0 else np.nan for k in range(len(columns))]
    return pd.DataFrame({"factor": [data.factor_names[c] for c in columns], "r": r, "n_images": len(indices)})


def train_measurement(data_path: str | Path, model_out: str | Path, table_out: str | Path, seed: int, factors: Sequence[str] | None = None,
                      steps: int = 1000, batch_size: int = 64, lr: float = 1e-3, width: int = WIDTH, device: str = "auto") -> pd.DataFrame:
    """Train the measurement network on a prepared face dataset and validate it on held-out real images.

    Parameters
    ----------
    data_path : ``results/data/{dataset}.h5`` (3-channel faces with factors).
    model_out : the network, ``torch.save`` of ``{"state": ..., "factor_names": ..., "mean": ..., "std": ..., "width": ...}``.
    table_out : CSV ``factor, r, n_images``: Pearson r per factor on the valid + test images.
    seed : seeds the initialisation and the batches.
    factors : the factor names to measure (None or empty: all of the dataset's).
    steps, batch_size, lr : Adam training.
    width : channels of the first convolution (:class:`MeasurementNet`).
    device : torch device name.

    Returns
    -------
    The validation table written.
    """
    rng = seed_everything(seed)
    device = resolve_device(device)
    with PreparedData(data_path) as data:
        if data.channels != 3:
            raise DataError(data.path, f"the measurement network reads colour faces, got {data.channels} channel(s)")
        columns = _selected(data, factors)
        train, held_out = data.indices(0), np.flatnonzero(data.split != 0)
        if len(train) < 2 or len(held_out) < 2:
            raise DataError(data.path, f"needs >= 2 training and >= 2 held-out images, has {len(train)} and {len(held_out)}")
        truth = data.factors[:, columns].astype(np.float32)
        mean, std = truth[train].mean(0), np.maximum(truth[train].std(0), 1e-6)
        net = MeasurementNet([data.factor_names[c] for c in columns], mean, std, width).to(device)
        targets = torch.as_tensor((truth - mean) / std, device=device)
        optimiser = torch.optim.Adam(net.parameters(), lr=lr)
        cached = data.images(train) if len(train) * IMAGE_SIZE * IMAGE_SIZE * 3 <= CACHE_BYTES else None
        net.train()
        for step in tqdm(range(steps), desc="measurement network", mininterval=5):
            rows = rng.integers(0, len(train), batch_size)
            images = cached[rows] if cached is not None else data.images(train[rows])
            loss = torch.mean((net.standardised(image_tensor(images, device)) - targets[train[rows]]) ** 2)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            if step % 100 == 0 or step == steps - 1:
                log.info("step %d: mse %.4f", step, loss.item())
        table = validation_r(net, data, columns, held_out)
    log.info("validation r: %s", dict(zip(table["factor"], table["r"].round(3))))
    write_torch(model_out, {"state": {k: v.cpu() for k, v in net.state_dict().items()}, "factor_names": net.factor_names,
                            "mean": mean.tolist(), "std": std.tolist(), "width": width})
    write_table(table_out, table)
    return table


def load_measurement(path: str | Path, device: Any = "cpu") -> MeasurementNet:
    """The measurement network written by :func:`train_measurement`, in eval mode on ``device``."""
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
        net = MeasurementNet(saved["factor_names"], np.asarray(saved["mean"]), np.asarray(saved["std"]), saved["width"])
        net.load_state_dict(saved["state"])
    except (OSError, KeyError, RuntimeError) as err:
        raise DataError(path, f"not a measurement network ({err})") from err
    return net.to(device).eval()
