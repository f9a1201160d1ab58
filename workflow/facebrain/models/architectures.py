"""The encoder and decoder networks shared by every neural model kind.

Losses differ between kinds; networks don't. Two architectures:

``"a1"``
    Soulos & Isik (2020), appendix A.1: conv 32-k4-s2, 32-k4-s2, 64-k2-s2,
    64-k2-s2 (ReLU), fc 256, linear heads for the mean and the log-variance;
    the decoder mirrors it (fc 256, fc 1024, deconv 64-k2-s2, 32-k2-s2,
    32-k4-s2, C-k4-s2) and outputs logits.
``"dlib"``
    disentanglement_lib's ``conv_encoder`` / ``deconv_decoder``: the same with
    every kernel 4x4.

Images are (B, C, 64, 64); C = 1 (dSprites) or 3 (faces).
"""

from __future__ import annotations

import torch
from torch import nn

ARCHITECTURES = ("a1", "dlib")
"""Names accepted by :func:`build_encoder` / :func:`build_decoder`."""


def _kernels(architecture: str) -> tuple[int, int, int, int]:
    if architecture == "a1":
        return (4, 4, 2, 2)
    if architecture == "dlib":
        return (4, 4, 4, 4)
    raise ValueError(f"unknown architecture '{architecture}'; expected one of {ARCHITECTURES}")


def _halving_conv(cin: int, cout: int, k: int, transposed: bool = False) -> nn.Module:
    """A stride-2 (de)convolution that halves (doubles) the side exactly for k in {2, 4}."""
    pad = (k - 2) // 2
    cls = nn.ConvTranspose2d if transposed else nn.Conv2d
    return cls(cin, cout, kernel_size=k, stride=2, padding=pad)


class Encoder(nn.Module):
    """Convolutional Gaussian encoder: images (B, C, 64, 64) -> (mu, logvar), each (B, K)."""

    def __init__(self, in_channels: int, latent_dim: int, architecture: str = "a1"):
        super().__init__()
        k = _kernels(architecture)
        chans = (in_channels, 32, 32, 64, 64)
        layers: list[nn.Module] = []
        for i in range(4):
            layers += [_halving_conv(chans[i], chans[i + 1], k[i]), nn.ReLU()]
        self.features = nn.Sequential(*layers, nn.Flatten(), nn.Linear(64 * 4 * 4, 256), nn.ReLU())
        self.mu = nn.Linear(256, latent_dim)
        self.logvar = nn.Linear(256, latent_dim)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.features(x)
        return self.mu(h), self.logvar(h)


class Decoder(nn.Module):
    """Mirrored deconvolutional decoder: latents (B, K) -> pixel logits (B, C, 64, 64)."""

    def __init__(self, in_channels: int, latent_dim: int, architecture: str = "a1"):
        super().__init__()
        k = _kernels(architecture)[::-1]
        chans = (64, 64, 32, 32, in_channels)
        self.fc = nn.Sequential(nn.Linear(latent_dim, 256), nn.ReLU(), nn.Linear(256, 64 * 4 * 4), nn.ReLU())
        layers: list[nn.Module] = []
        for i in range(4):
            layers.append(_halving_conv(chans[i], chans[i + 1], k[i], transposed=True))
            if i < 3:
                layers.append(nn.ReLU())
        self.deconv = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.deconv(self.fc(z).view(-1, 64, 4, 4))
