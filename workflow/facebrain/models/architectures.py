"""The encoder and decoder networks shared by every neural model kind.

Losses differ between kinds; networks don't. The encoder is conv 32, 32, 64,
64 (stride 2, ReLU), fc 256, linear heads for the mean and the log-variance;
the decoder fc 256, fc 1024 (= 4x4x64), deconv 64, 32, 32, C (stride 2,
ReLU between) and outputs logits. The architectures differ in their kernels:

``"a1"`` (default)
    disentanglement_lib's ``conv_encoder`` (kernels 4, 4, 2, 2) with its
    ``deconv_decoder`` (every kernel 4): the network Soulos & Isik (2020) ran,
    their appendix A.1. Latent 24, 3 channels: 317,424 + 385,923 parameters.
``"a1_mirrored"``
    the A.1 encoder with a decoder mirroring it (kernels 2, 2, 4, 4): the
    appendix's "decoder mirrored" read literally (317,424 + 312,195).
``"all_k4"``
    every kernel 4 in both networks (391,152 + 385,923).

Images are (B, C, 64, 64); C = 1 (dSprites) or 3 (faces).
"""

from __future__ import annotations

import torch
from torch import nn

KERNELS: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {
    "a1": ((4, 4, 2, 2), (4, 4, 4, 4)),
    "a1_mirrored": ((4, 4, 2, 2), (2, 2, 4, 4)),
    "all_k4": ((4, 4, 4, 4), (4, 4, 4, 4)),
}
"""Architecture name -> (encoder kernels, decoder kernels), each in layer order."""

ARCHITECTURES = tuple(KERNELS)
"""Names accepted by :class:`Encoder` / :class:`Decoder`."""


def _kernels(architecture: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    if architecture not in KERNELS:
        raise ValueError(f"unknown architecture '{architecture}'; expected one of {ARCHITECTURES}")
    return KERNELS[architecture]


def _halving_conv(cin: int, cout: int, k: int, transposed: bool = False) -> nn.Module:
    """A stride-2 (de)convolution that halves (doubles) the side exactly for k in {2, 4}."""
    pad = (k - 2) // 2
    cls = nn.ConvTranspose2d if transposed else nn.Conv2d
    return cls(cin, cout, kernel_size=k, stride=2, padding=pad)


class Encoder(nn.Module):
    """Convolutional Gaussian encoder: images (B, C, 64, 64) -> (mu, logvar), each (B, K)."""

    def __init__(self, in_channels: int, latent_dim: int, architecture: str = "a1"):
        super().__init__()
        k = _kernels(architecture)[0]
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
        k = _kernels(architecture)[1]
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
