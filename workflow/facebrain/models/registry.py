"""Registry of model kinds: a config spec (``{"kind": ..., hyper-parameters}``) -> a model.

Every model the pipeline trains, encodes with or decodes with is a
:class:`LatentModel` subclass registered under its ``kind``::

    @register_model("betavae")
    class BetaVAE(GaussianVAE):
        def objective(self, terms): ...   # uses self.beta

What a kind is (its hyper-parameters with defaults, ``trained_by``,
``batch_kind``, ``decodable``, ``needs_ids``) is declared once, torch-free, in
:data:`facebrain.models.kinds.KINDS`; ``register_model`` copies those facts
onto the class. ``LatentModel.__init__(in_channels, **hyperparameters)`` fills
the defaults and sets one attribute per hyper-parameter (``self.beta``), and
``init_config`` returns them, so a class states none of them again.
``build_model(spec, in_channels)`` checks the spec's keys against the kind's
hyper-parameters (unknown keys and wrong types raise a ``ValueError`` that
names them), fills the defaults and constructs the model.

Extension point (new kinds such as SVAE, GVAE, ML-VAE, VAE-GAN plug in here)
---------------------------------------------------------------------------
A kind declares how it is trained through its :class:`~facebrain.models.kinds.Kind`
and its methods; the generic loop in :mod:`facebrain.models.training` does the rest (seeding, batches,
checkpoints with exact resume, progress, ``train_log.tsv``, evaluation):

``trained_by = "gradient"``
    The loop takes its settings from ``training_settings(train)`` (the config's
    ``train:``, unless the kind overrides steps or batch size), calls, once, ``configure_optimizers(lr) -> dict[str, Optimizer]``
    (one entry per optimiser: e.g. FactorVAE returns ``{"vae": ..,
    "discriminator": ..}``; all of them are checkpointed), then per step
    ``training_step(batch, optimizers) -> dict[str, Tensor]``: the model runs
    its own forward/backward/optimiser steps and returns the losses to log as
    0-d tensors, never ``.item()`` (keys are free; ``reconstruction``, ``kl``,
    ``tc``, ``discriminator``, ``loss`` are the usual ones and become
    ``train_log.tsv`` columns; the loop accumulates them on the device).
``stackable = True`` (the VAE family)
    The step is ``phases``: ``draw_noise(batch, generator)`` draws its random
    numbers first, then each phase is a pure function of (parameters, batch,
    noise) (:func:`run_phases`), so the kind can train as a stacked ensemble
    (:mod:`facebrain.models.ensemble`) and under ``train.compile``.
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

import importlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import torch
from torch import nn

from facebrain.errors import DataError
from facebrain.models.kinds import KINDS, coerce_hyperparameter, resolve_spec

MODEL_KINDS: dict[str, type[LatentModel]] = {}
"""kind -> model class; filled by :func:`register_model`."""

DETERMINISTIC_LOGVAR = float("-inf")
"""log-variance returned by deterministic encoders (PCA, oracle, random): variance 0."""


class LatentModel(nn.Module):
    """Base class of every model kind (see the module docstring for the interface).

    Parameters
    ----------
    in_channels : int
        Image channels: 1 (dSprites) or 3 (faces).
    **hyperparameters
        The kind's hyper-parameters (:data:`facebrain.models.kinds.KINDS`);
        missing ones take their default, each becomes an attribute
        (``latent_dim``: the number of latent dimensions K).
    """

    kind: ClassVar[str] = ""
    hyperparameters: ClassVar[Mapping[str, Any]] = {}
    trained_by: ClassVar[str] = "gradient"
    batch_kind: ClassVar[str] = "images"
    decodable: ClassVar[bool] = True
    needs_ids: ClassVar[bool] = False
    stackable: ClassVar[bool] = False
    train_overrides: ClassVar[tuple[str, ...]] = ()
    phases: ClassVar[tuple[tuple[str, str], ...]] = ()

    def __init__(self, in_channels: int, **hyperparameters: Any):
        super().__init__()
        unknown = sorted(set(hyperparameters) - set(self.hyperparameters))
        if unknown:
            raise TypeError(f"model kind '{self.kind}' takes no hyper-parameter(s) {unknown}; it takes {sorted(self.hyperparameters)}")
        self.in_channels = int(in_channels)
        for key, default in self.hyperparameters.items():
            setattr(self, key, coerce_hyperparameter(key, default, hyperparameters.get(key, default), self.kind))
        if self.kind in KINDS:
            self.batch_kind = KINDS[self.kind].batch_kind_for({key: getattr(self, key) for key in self.hyperparameters})

    def init_config(self) -> dict[str, Any]:
        """Constructor keyword arguments (primitives) that rebuild this model's shape."""
        return {"in_channels": self.in_channels, **{key: getattr(self, key) for key in self.hyperparameters}}

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
    def training_settings(self, train: Mapping[str, Any]) -> dict[str, Any]:
        """The loop's settings for this model: the config's ``train`` entries (``steps``, ``batch_size``, ...),
        each of its kind's ``train_overrides`` (StyleGAN2's ``steps``, ``batch_size``) replaced by the
        hyper-parameter of that name where it is > 0."""
        return {**train, **{key: getattr(self, key) for key in self.train_overrides if getattr(self, key) > 0}}

    def configure_optimizers(self, lr: float | None) -> dict[str, torch.optim.Optimizer]:
        """The optimisers of this kind, by name (checkpointed by the loop); ``lr`` is ``train.lr``
        (None for a kind that declares it unused)."""
        raise NotImplementedError

    def training_step(self, batch, optimizers: Mapping[str, torch.optim.Optimizer]) -> dict[str, torch.Tensor]:
        """One optimisation step on ``batch``; return the losses to log (0-d tensors on the device:
        the loop reads them only when it writes a log row, so the step never waits for the device)."""
        raise NotImplementedError

    # closed-form kinds
    def fit(self, pool, rng) -> None:
        """Fit the model on a :class:`facebrain.models.batches.TrainPool`."""
        raise NotImplementedError


def run_phases(model: LatentModel, batch, noise: Mapping[str, torch.Tensor], optimizers: Mapping[str, torch.optim.Optimizer]) -> dict[str, torch.Tensor]:
    """One training step of a kind declared ``stackable``: its ``phases`` in order.

    Each phase ``(optimiser, method)`` computes ``loss, logs, carry = model.<method>(batch, noise,
    carry)`` (a pure function of the parameters, the batch and the noise the step drew
    beforehand) and lets its optimiser take one step on ``loss``; ``carry`` passes detached
    values (FactorVAE's codes) to the next phase. A stacked ensemble
    (:mod:`facebrain.models.ensemble`) runs the same phases vmapped over its members.

    Returns
    -------
    dict: the logs of every phase (0-d tensors).
    """
    logs: dict[str, torch.Tensor] = {}
    carry: dict[str, torch.Tensor] = {}
    for optimiser, method in model.phases:
        loss, phase_logs, carry = getattr(model, method)(batch, noise, carry)
        optimizers[optimiser].zero_grad(set_to_none=True)
        loss.backward()
        optimizers[optimiser].step()
        logs.update(phase_logs)
    return logs


def register_model(kind: str):
    """Class decorator registering a :class:`LatentModel` subclass under ``kind``."""

    def decorator(cls: type[LatentModel]) -> type[LatentModel]:
        if kind in MODEL_KINDS and MODEL_KINDS[kind] is not cls:
            raise ValueError(f"model kind '{kind}' is already registered by {MODEL_KINDS[kind].__name__}")
        if kind not in KINDS:
            raise ValueError(f"model kind '{kind}' is not declared in facebrain.models.kinds.KINDS")
        declared = KINDS[kind]
        cls.kind = kind
        cls.hyperparameters = declared.hyperparameters
        cls.trained_by, cls.batch_kind = declared.trained_by, declared.batch_kind
        cls.decodable, cls.needs_ids = declared.decodable, declared.needs_ids
        cls.stackable = declared.stackable
        cls.train_overrides = declared.train_overrides
        MODEL_KINDS[kind] = cls
        return cls

    return decorator


def model_class(kind: str) -> type[LatentModel]:
    """Return the class registered for ``kind`` (ValueError listing the known kinds otherwise)."""
    classes = registered_kinds()
    if kind not in classes:
        raise ValueError(f"unknown model kind '{kind}'; known kinds: {', '.join(sorted(classes))}")
    return classes[kind]


def build_model(spec: Mapping[str, Any], in_channels: int, name: str = "model") -> LatentModel:
    """Construct an untrained model from a spec (see :func:`facebrain.models.kinds.resolve_spec`)."""
    resolved = resolve_spec(spec, name)
    cls = model_class(resolved["kind"])
    kwargs = {k: resolved[k] for k in cls.hyperparameters}
    return cls(in_channels=in_channels, **kwargs)


def read_model_file(path: str | Path) -> LatentModel:
    """Rebuild the model a ``model.pt`` holds (``torch.load(weights_only=True)``; CPU, eval mode).

    Raises
    ------
    DataError
        If the file is missing, unreadable or not a facebrain model (the message names ``path``).
    """
    if not Path(path).is_file():
        raise DataError(path, "model file not found")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:
        raise DataError(path, f"not a readable model file ({err})") from err
    missing = [k for k in ("kind", "init_config", "state_dict") if k not in payload]
    if missing:
        raise DataError(path, f"model file lacks {missing}; was it written by facebrain.models.training.save_model?")
    try:
        model = model_class(payload["kind"])(**payload["init_config"])
        model.load_state_dict(payload["state_dict"])
    except (ValueError, RuntimeError, TypeError) as err:
        raise DataError(path, f"cannot rebuild model of kind '{payload['kind']}': {err}") from err
    return model.eval()


BUILTIN_KIND_MODULES = ("vae", "factorvae", "btcvae", "dipvae", "pca", "controls", "svae", "grouped", "explicit", "vaegan", "pairs", "stylegan2")
"""Modules of :mod:`facebrain.models` whose classes register the built-in kinds (and ``pairs``: their batch sampler)."""


def registered_kinds() -> dict[str, type[LatentModel]]:
    """kind -> class of every built-in kind (importing their modules on first use)."""
    _import_builtin_kinds()
    return dict(MODEL_KINDS)


def _import_builtin_kinds() -> None:
    """Import the modules that register the built-in kinds."""
    for module in BUILTIN_KIND_MODULES:
        importlib.import_module(f"facebrain.models.{module}")
