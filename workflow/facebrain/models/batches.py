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

    @functools.cached_property
    def image_store(self) -> torch.Tensor:
        """The training images as a uint8 tensor (M, 64, 64, C) that batches are indexed from.

        On CPU it shares :attr:`images`' memory (no copy). On CUDA it sits on the device when
        it takes at most :data:`DEVICE_POOL_SHARE` of the free device memory (CelebA 64x64:
        2.5 GB), so a batch is gathered and converted there with no host copy; otherwise
        it is pinned host memory that batches are copied from asynchronously.
        """
        host = torch.from_numpy(np.ascontiguousarray(self.images))
        if self.device.type != "cuda":
            return host
        if host.numel() <= DEVICE_POOL_SHARE * torch.cuda.mem_get_info(self.device)[0]:
            return host.to(self.device)
        return host.pin_memory()

    def batch(self, rows: np.ndarray) -> torch.Tensor:
        """Images at positions ``rows`` of the pool as float (B, C, 64, 64) in [0, 1] on the device.

        The same values as :func:`facebrain.datasets.prepared.image_tensor` of the rows; the
        gather happens where :attr:`image_store` lives, with no host synchronisation on CUDA.
        """
        store = self.image_store
        index = torch.from_numpy(np.asarray(rows, dtype=np.int64))
        if store.device.type == "cuda":
            images = store[index.pin_memory().to(store.device, non_blocking=True)]
        elif self.device.type == "cuda":
            images = torch.empty((len(index), *store.shape[1:]), dtype=store.dtype, pin_memory=True)
            images = torch.index_select(store, 0, index, out=images).to(self.device, non_blocking=True)
        else:
            images = store[index].to(self.device)
        return images.permute(0, 3, 1, 2).float().div_(255.0)


DEVICE_POOL_SHARE = 0.5
"""Largest share of the free CUDA memory the training pool may take on the device (else: pinned host memory)."""

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
