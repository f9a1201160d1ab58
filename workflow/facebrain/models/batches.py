"""What the training loop draws batches from, and the batch samplers.

A model kind names the batch it trains on (``batch_kind``); the sampler
registered under that name draws it from the :class:`TrainPool`:
``@register_sampler("pairs") def sample_pairs(pool, batch_size, rng)``
returns whatever the kind's ``training_step`` takes. Samplers draw all their
randomness from ``rng`` (a ``numpy.random.Generator``) so that the loop's
resume (:mod:`facebrain.models.training`) stays exact. ``"images"`` is here; the pair
sampler of the weakly supervised kinds is in :mod:`facebrain.models.pairs`.
``"two_image_batches"`` (two independent ``"images"`` draws) serves FactorVAE's
Algorithm 2 form.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from facebrain.datasets.prepared import image_tensor


@dataclass
class TrainPool:
    """What samplers and ``fit`` draw from: an open dataset and its training indices.

    Attributes
    ----------
    data : facebrain.datasets.prepared.PreparedData
    indices : int64 (M,), indices of the training images in ``data``.
    device : torch.device the batches go to.
    face_grid : facebrain.datasets.face_grid.FaceGrid or None; SynthFaces pairs are read
        from this rendered grid instead of rendered on demand (:mod:`facebrain.models.pairs`).
    """

    data: Any
    indices: np.ndarray
    device: torch.device
    face_grid: Any = None

    @functools.cached_property
    def images(self) -> np.ndarray:
        """The training images, uint8 (M, 64, 64, C), read once into memory."""
        return self.data.images(self.indices)

    @functools.cached_property
    def factors(self) -> np.ndarray:
        """The training images' factors, float32 (M, F)."""
        return self.data.factors[self.indices]

    def batch(self, rows: np.ndarray) -> torch.Tensor:
        """Images at positions ``rows`` of the pool as float (B, C, 64, 64) in [0, 1] on the device."""
        return image_tensor(self.images[rows], self.device)


SAMPLERS: dict[str, Callable[[TrainPool, int, np.random.Generator], Any]] = {}
"""batch kind -> ``sample(pool, batch_size, rng) -> batch``."""


def register_sampler(batch_kind: str):
    """Decorator registering a batch sampler under ``batch_kind``."""

    def decorator(func):
        SAMPLERS[batch_kind] = func
        return func

    return decorator


@register_sampler("images")
def sample_images(pool: TrainPool, batch_size: int, rng: np.random.Generator) -> torch.Tensor:
    """A batch of ``batch_size`` distinct training images drawn uniformly: (B, C, 64, 64) in [0, 1]."""
    n = len(pool.indices)
    return pool.batch(rng.choice(n, size=batch_size, replace=n < batch_size))


@register_sampler("two_image_batches")
def sample_two_image_batches(pool: TrainPool, batch_size: int, rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Two independently drawn ``"images"`` batches (FactorVAE's VAE and discriminator steps, Kim & Mnih's Algorithm 2)."""
    return sample_images(pool, batch_size, rng), sample_images(pool, batch_size, rng)
