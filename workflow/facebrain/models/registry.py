"""Registry of model kinds: a config spec (``{"kind": ..., hyper-parameters}``) -> a model.

Every model the pipeline trains, encodes with or decodes with is a
:class:`LatentModel` subclass registered under its ``kind``::

    @register_model("betavae")
    class BetaVAE(LatentModel):
        hyperparameters = {"latent_dim": 10, "architecture": "a1", "beta": 4.0}
        ...

``build_model(spec, in_channels)`` checks the spec's keys against the class's
``hyperparameters`` (unknown keys and wrong types raise a ``ValueError`` that
names them), fills the defaults and constructs the model.

Extension point (new kinds such as SVAE, GVAE, ML-VAE, VAE-GAN plug in here)
---------------------------------------------------------------------------
A kind declares how it is trained through class attributes and methods; the
generic loop in :mod:`facebrain.training` does the rest (seeding, batches,
checkpoints with exact resume, progress, ``train_log.tsv``, evaluation):

``trained_by = "gradient"``
    The loop calls, once, ``configure_optimizers(lr) -> dict[str, Optimizer]``
    (one entry per optimiser: e.g. FactorVAE returns ``{"vae": ..,
    "discriminator": ..}``; all of them are checkpointed), then per step
    ``training_step(batch, optimizers) -> dict[str, float]``: the model runs
    its own forward/backward/optimiser steps and returns the losses to log
    (keys are free; ``reconstruction``, ``kl``, ``tc``, ``discriminator``,
    ``loss`` are the usual ones and become ``train_log.tsv`` columns).
``batch_kind = "images"``
    Name of the batch sampler in :data:`facebrain.models.batches.SAMPLERS`
    (register new ones with :func:`facebrain.models.batches.register_sampler`, e.g.
    ``"pairs"``: two images differing in one factor; ``"groups"``: images
    sharing factors). A sampler is ``sample(pool, batch_size, rng) -> batch``
    where ``pool`` is a :class:`facebrain.models.batches.TrainPool` (uint8 images,
    factors, factor names, device) and ``rng`` a ``numpy.random.Generator``;
    samplers must draw all randomness from ``rng`` so that resume is exact.
``trained_by = "fit"``
    Closed-form models (PCA, controls): the loop calls ``fit(pool, rng)`` once.

Every kind implements ``encode(x, ids=None) -> (mu, logvar)`` on float
images ``(B, C, 64, 64)`` in [0, 1], and, when ``decodable``, ``decode(z) ->
(B, C, 64, 64)`` images in [0, 1]. ``evaluate(x) -> dict[str, float]`` gives
the per-image test losses (``reconstruction`` in nats summed over pixels,
``kl``...). ``init_config()`` returns the constructor arguments (primitives
only) so that ``model.pt`` can be rebuilt with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import torch
from torch import nn

MODEL_KINDS: dict[str, type[LatentModel]] = {}
"""kind -> model class; filled by :func:`register_model`."""

SPEC_KEYS = ("kind", "seed")
"""Spec keys every kind accepts besides its own ``hyperparameters``."""

DETERMINISTIC_LOGVAR = float("-inf")
"""log-variance returned by deterministic encoders (PCA, oracle, random): variance 0."""


class LatentModel(nn.Module):
    """Base class of every model kind (see the module docstring for the interface).

    Parameters
    ----------
    in_channels : int
        Image channels: 1 (dSprites) or 3 (faces).
    latent_dim : int
        Number of latent dimensions K.
    """

    kind: ClassVar[str] = ""
    hyperparameters: ClassVar[dict[str, Any]] = {}
    trained_by: ClassVar[str] = "gradient"
    batch_kind: ClassVar[str] = "images"
    decodable: ClassVar[bool] = True
    needs_ids: ClassVar[bool] = False

    def __init__(self, in_channels: int, latent_dim: int):
        super().__init__()
        self.in_channels = int(in_channels)
        self.latent_dim = int(latent_dim)

    def init_config(self) -> dict[str, Any]:
        """Constructor keyword arguments (primitives) that rebuild this model's shape."""
        return {"in_channels": self.in_channels, "latent_dim": self.latent_dim}

    def encode(self, x: torch.Tensor, ids=None) -> tuple[torch.Tensor, torch.Tensor]:
        """Map images (B, C, 64, 64) in [0, 1] to (mu, logvar), each (B, K)."""
        raise NotImplementedError

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Map latents (B, K) to images (B, C, 64, 64) in [0, 1]."""
        raise ValueError(f"model kind '{self.kind}' has no decoder (it only encodes)")

    def evaluate(self, x: torch.Tensor, ids=None) -> dict[str, float]:
        """Test losses of a batch, averaged over its images (nats)."""
        raise NotImplementedError

    # gradient-trained kinds
    def configure_optimizers(self, lr: float) -> dict[str, torch.optim.Optimizer]:
        """The optimisers of this kind, by name (checkpointed by the loop)."""
        raise NotImplementedError

    def training_step(self, batch, optimizers: Mapping[str, torch.optim.Optimizer]) -> dict[str, float]:
        """One optimisation step on ``batch``; return the losses to log."""
        raise NotImplementedError

    # closed-form kinds
    def fit(self, pool, rng) -> None:
        """Fit the model on a :class:`facebrain.models.batches.TrainPool`."""
        raise NotImplementedError


def register_model(kind: str):
    """Class decorator registering a :class:`LatentModel` subclass under ``kind``."""

    def decorator(cls: type[LatentModel]) -> type[LatentModel]:
        if kind in MODEL_KINDS and MODEL_KINDS[kind] is not cls:
            raise ValueError(f"model kind '{kind}' is already registered by {MODEL_KINDS[kind].__name__}")
        cls.kind = kind
        MODEL_KINDS[kind] = cls
        return cls

    return decorator


def model_class(kind: str) -> type[LatentModel]:
    """Return the class registered for ``kind`` (ValueError listing the known kinds otherwise)."""
    _import_builtin_kinds()
    if kind not in MODEL_KINDS:
        raise ValueError(f"unknown model kind '{kind}'; known kinds: {', '.join(sorted(MODEL_KINDS))}")
    return MODEL_KINDS[kind]


def resolve_spec(spec: Mapping[str, Any], name: str = "model") -> dict[str, Any]:
    """Check a model spec and fill in its kind's defaults.

    Parameters
    ----------
    spec : mapping with ``kind`` and hyper-parameters (a `models:` entry of the config).
    name : the model's name, used in error messages.

    Returns
    -------
    dict: ``kind``, ``seed`` (default 0) and every hyper-parameter of the kind.
    """
    if "kind" not in spec:
        raise ValueError(f"model '{name}': spec has no 'kind'")
    cls = model_class(spec["kind"])
    unknown = sorted(set(spec) - set(SPEC_KEYS) - set(cls.hyperparameters))
    if unknown:
        raise ValueError(
            f"model '{name}' (kind {cls.kind}): unknown hyper-parameter(s) {unknown}; "
            f"this kind takes {sorted(cls.hyperparameters)}"
        )
    resolved = {"kind": cls.kind, "seed": int(spec.get("seed", 0))}
    for key, default in cls.hyperparameters.items():
        value = spec.get(key, default)
        if isinstance(default, (int, float)) and not isinstance(default, bool):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"model '{name}': '{key}' must be a number, got {value!r}")
            if isinstance(default, int):
                if value != int(value):
                    raise ValueError(f"model '{name}': '{key}' must be an integer, got {value!r}")
                value = int(value)
            else:
                value = float(value)
        resolved[key] = value
    return resolved


def build_model(spec: Mapping[str, Any], in_channels: int, name: str = "model") -> LatentModel:
    """Construct an untrained model from a spec (see :func:`resolve_spec`)."""
    resolved = resolve_spec(spec, name)
    cls = MODEL_KINDS[resolved["kind"]]
    kwargs = {k: resolved[k] for k in cls.hyperparameters}
    return cls(in_channels=in_channels, **kwargs)


def _import_builtin_kinds() -> None:
    """Import the modules that register the built-in kinds."""
    import facebrain.models  # noqa: F401  (registers on import)
