"""PCA baseline (scikit-learn): latents are the principal-component scores of the pixels."""

from __future__ import annotations

import logging

import numpy as np
import torch
import torch.nn.functional as F

from facebrain.datasets.prepared import image_floats
from facebrain.models.registry import DETERMINISTIC_LOGVAR, LatentModel, register_model

log = logging.getLogger(__name__)

PROBABILITY_EPS = 1e-4
"""Reconstructions are clipped to [eps, 1 - eps] before the Bernoulli loss."""


@register_model("pca")
class PCA(LatentModel):
    """Principal components of the flattened training images (pixels in [0, 1]).

    ``latent_dim`` components are asked for; at most ``min(n_fit_images, pixels)``
    exist, so a small demo dataset gets fewer (logged and stored in ``model.pt``).
    ``max_fit_images`` caps the (randomly drawn) training images the SVD sees.
    Decoding is the inverse transform, clipped to [0, 1].
    """

    def __init__(self, in_channels: int, **hyperparameters):
        super().__init__(in_channels, **hyperparameters)
        pixels = in_channels * 64 * 64
        self.register_buffer("mean", torch.zeros(pixels))
        self.register_buffer("components", torch.zeros(self.latent_dim, pixels))
        self.register_buffer("explained_variance", torch.zeros(self.latent_dim))

    def fit(self, pool, rng) -> None:
        from sklearn.decomposition import PCA as SkPCA  # lazy: every model job imports the kinds, only a pca fit needs sklearn

        n = len(pool.indices)
        rows = np.sort(rng.choice(n, size=min(n, self.max_fit_images), replace=False))
        # (n, 64, 64, C) -> channel-first, the layout encode() and decode() flatten.
        x = image_floats(pool.images[rows]).transpose(0, 3, 1, 2).reshape(len(rows), -1)
        n_components = min(self.latent_dim, x.shape[0], x.shape[1])
        if n_components < self.latent_dim:
            log.warning("pca: %d components asked for, %d images allow only %d", self.latent_dim, x.shape[0], n_components)
        seed = int(rng.integers(2**31 - 1))
        pca = SkPCA(n_components=n_components, svd_solver="randomized" if n_components < min(x.shape) // 2 else "full", random_state=seed)
        pca.fit(x)
        self.latent_dim = n_components
        self.mean = torch.from_numpy(pca.mean_.astype(np.float32))
        self.components = torch.from_numpy(pca.components_.astype(np.float32))
        self.explained_variance = torch.from_numpy(pca.explained_variance_.astype(np.float32))
        log.info("pca: %d components explain %.1f%% of the pixel variance", n_components, 100 * pca.explained_variance_ratio_.sum())

    def encode(self, x: torch.Tensor, ids=None):
        mu = (x.flatten(1) - self.mean) @ self.components.T
        return mu, torch.full_like(mu, DETERMINISTIC_LOGVAR)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        flat = z @ self.components + self.mean
        return flat.clamp(0.0, 1.0).view(z.shape[0], self.in_channels, 64, 64)

    @torch.no_grad()
    def evaluate(self, x: torch.Tensor, ids=None) -> dict[str, float]:
        """``reconstruction``: Bernoulli NLL (nats per image) of the clipped reconstruction."""
        recon = self.decode(self.encode(x)[0]).clamp(PROBABILITY_EPS, 1 - PROBABILITY_EPS)
        nll = F.binary_cross_entropy(recon, x, reduction="sum") / x.shape[0]
        return {"reconstruction": nll.item()}
