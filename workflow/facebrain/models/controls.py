"""Controls with the encode interface of every model: a ceiling and a floor.

``oracle``
    The dataset's true factors as latents (z-scored with the training split's
    mean and standard deviation), looked up by image id: what a perfectly
    disentangled model would give. Only meaningful for data with known factors
    (dSprites, SynthFaces; CelebA's 40 binary attributes otherwise).
``random``
    A fixed random Gaussian projection of the centred pixels, scaled by
    1/sqrt(pixels): a representation with no learned structure.
Neither decodes.
"""

from __future__ import annotations

import numpy as np
import torch

from facebrain.models.registry import DETERMINISTIC_LOGVAR, LatentModel, register_model


@register_model("oracle")
class Oracle(LatentModel):
    """True factors by image id; ``latent_dim`` is the number of factors."""

    def __init__(self, in_channels: int, latent_dim: int = 0, ids=(), factor_names=()):
        super().__init__(in_channels)
        self.latent_dim = int(latent_dim)  # fitted: the number of factors
        self.ids = [str(i) for i in ids]
        self.factor_names = [str(f) for f in factor_names]
        self.register_buffer("factors", torch.zeros(len(self.ids), latent_dim))
        self._rows = {image_id: row for row, image_id in enumerate(self.ids)}

    def init_config(self) -> dict:
        return {**super().init_config(), "latent_dim": self.latent_dim, "ids": self.ids, "factor_names": self.factor_names}

    def fit(self, pool, rng) -> None:
        data = pool.data
        factors = np.asarray(data.factors, dtype=np.float64)
        train = factors[pool.indices]
        std = train.std(axis=0)
        scaled = (factors - train.mean(axis=0)) / np.where(std > 0, std, 1.0)
        self.__init__(self.in_channels, factors.shape[1], list(data.ids), list(data.factor_names))
        self.factors = torch.from_numpy(scaled.astype(np.float32))

    def encode(self, x: torch.Tensor, ids=None):
        if ids is None:
            raise ValueError("the oracle encodes by image id; pass ids")
        missing = [i for i in ids if str(i) not in self._rows]
        if missing:
            raise ValueError(f"{len(missing)} id(s) are not in the oracle's dataset, e.g. {missing[:3]}")
        rows = torch.as_tensor([self._rows[str(i)] for i in ids], dtype=torch.long, device=self.factors.device)
        mu = self.factors[rows]
        return mu, torch.full_like(mu, DETERMINISTIC_LOGVAR)

    def evaluate(self, x: torch.Tensor, ids=None) -> dict[str, float]:
        return {}


@register_model("random")
class RandomProjection(LatentModel):
    """z = P (x - 0.5) / sqrt(D): P a fixed (K, D) standard-normal matrix drawn from the model's seed."""

    def __init__(self, in_channels: int, **hyperparameters):
        super().__init__(in_channels, **hyperparameters)
        self.register_buffer("projection", torch.zeros(self.latent_dim, in_channels * 64 * 64))

    def fit(self, pool, rng) -> None:
        pixels = self.projection.shape[1]
        projection = rng.standard_normal((self.latent_dim, pixels)) / np.sqrt(pixels)
        self.projection = torch.from_numpy(projection.astype(np.float32))

    def encode(self, x: torch.Tensor, ids=None):
        mu = (x.flatten(1) - 0.5) @ self.projection.T
        return mu, torch.full_like(mu, DETERMINISTIC_LOGVAR)

    def evaluate(self, x: torch.Tensor, ids=None) -> dict[str, float]:
        return {}
