"""What each model kind is, declared once: its hyper-parameters with their
defaults, how it is trained, whether it decodes.

This module imports no torch, so the workflow asks it while building the DAG
(which kinds are fitted in closed form, which have a decoder) and a wrong
hyper-parameter in the config is named before any job runs. The classes that
implement the kinds (:mod:`facebrain.models.registry`, ``@register_model``)
take these facts from here; they restate none of them.

Adding a kind: one :class:`Kind` entry in :data:`KINDS`, and a class
registered under the same name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

SPEC_KEYS = ("kind", "seed")
"""Spec keys every kind accepts besides its own hyper-parameters."""
TRAIN_SETTINGS = ("steps", "batch_size", "lr", "checkpoint_every", "log_every", "eval_images")
"""The `train:` entries the training loop of a gradient-trained kind reads (unless its :class:`Kind` says otherwise)."""
FIT_SETTINGS = ("eval_images",)
"""The `train:` entries a closed-form fit reads."""


@dataclass(frozen=True)
class Kind:
    """The facts of one model kind.

    Attributes
    ----------
    hyperparameters : mapping name -> default (int, float, bool or str); the
        default's type is the type the config must give.
    trained_by : "gradient" (the generic training loop calls ``training_step``)
        or "fit" (closed form: ``fit(pool, rng)`` once).
    batch_kind : sampler of :data:`facebrain.models.training.SAMPLERS` ("images", "pairs").
    batch_kind_by : hyper-parameter -> {value: batch kind}: the batch kind a model takes
        instead of ``batch_kind`` when that hyper-parameter has that value (FactorVAE's
        ``discriminator_batch: independent`` draws two batches per step).
    decodable : whether the kind has a decoder (latents -> images).
    needs_ids : whether ``encode`` needs the images' dataset ids (the oracle).
    stackable : whether the kind's step is phases of pure functions of (parameters, batch,
        noise) (:func:`facebrain.models.registry.run_phases`): it can train as a stacked
        ensemble (:mod:`facebrain.models.ensemble`, ``train.ensemble``) and compiled
        (``train.compile``).
    unused_settings : entries of :data:`TRAIN_SETTINGS` the kind never reads (StyleGAN2's
        own learning rates replace ``train.lr``).
    train_overrides : hyper-parameters named like a `train:` entry that replace it when
        > 0 (StyleGAN2's ``steps``, ``batch_size``; 0: the config's).
    code_size : the hyper-parameter that gives the number of latent dimensions a model encodes
        images to (StyleGAN2: ``w_dim``); None: the dataset's factors (the oracle).
    """

    hyperparameters: Mapping[str, Any] = field(default_factory=dict)
    trained_by: str = "gradient"
    batch_kind: str = "images"
    batch_kind_by: Mapping[str, Mapping[Any, str]] = field(default_factory=dict)
    decodable: bool = True
    needs_ids: bool = False
    stackable: bool = False
    unused_settings: tuple[str, ...] = ()
    train_overrides: tuple[str, ...] = ()
    code_size: str | None = "latent_dim"

    def __post_init__(self):
        object.__setattr__(self, "hyperparameters", MappingProxyType(dict(self.hyperparameters)))

    def batch_kind_for(self, hyperparameters: Mapping[str, Any]) -> str:
        """The batch kind of a model with these hyper-parameters (``batch_kind`` unless ``batch_kind_by`` says otherwise)."""
        for key, kinds in self.batch_kind_by.items():
            value = hyperparameters.get(key, self.hyperparameters[key])
            if value in kinds:
                return kinds[value]
        return self.batch_kind


_VAE = {"latent_dim": 10, "architecture": "a1"}
"""Hyper-parameters of every kind of the VAE family (encoder/decoder shape)."""

KINDS: dict[str, Kind] = {
    "vae": Kind(_VAE, stackable=True),
    "betavae": Kind({**_VAE, "beta": 4.0}, stackable=True),
    "btcvae": Kind({**_VAE, "beta": 6.0}, stackable=True),
    "factorvae": Kind({**_VAE, "gamma": 6.4, "discriminator_batch": "same"},
                      batch_kind_by={"discriminator_batch": {"independent": "two_image_batches"}}, stackable=True),
    "dipvae_i": Kind({**_VAE, "lambda_od": 10.0, "lambda_d": 100.0}, stackable=True),
    "dipvae_ii": Kind({**_VAE, "lambda_od": 10.0, "lambda_d": 10.0}, stackable=True),
    "vaegan": Kind({**_VAE, "beta": 1.0, "gamma": 0.01}),
    "svae": Kind({**_VAE, "beta": 4.0, "pair_weight": 100.0, "pair_form": "divided", "pair_codes": "mean"}, batch_kind="pairs"),
    "gvae": Kind({**_VAE, "beta": 1.0, "adaptive": True, "num_changed": 1}, batch_kind="pairs"),
    "mlvae": Kind({**_VAE, "beta": 1.0, "adaptive": True, "num_changed": 1, "group_variance": "dlib"}, batch_kind="pairs"),
    "explicit": Kind({**_VAE, "factors": "", "beta": 1.0, "supervision": 1.0, "similarity": 0.0, "cycle": 0.0, "adversary": 0.0,
                      "adversary_bins": 10},
                     batch_kind="pairs"),
    # StyleGAN2 (facebrain.models.stylegan2): demo-sized widths by default (the paper preset sets
    # StyleGAN2's); r1_gamma = stylegan2-ada's "auto" 0.0002 * resolution^2 / batch at 64 px, batch 64;
    # latents are w (the inversion encoder's), decoded by the EMA synthesis network; steps and
    # batch_size > 0 replace train.steps / train.batch_size for this model (0: the config's).
    "stylegan2": Kind({"z_dim": 64, "w_dim": 64, "mapping_layers": 8, "mapping_lr_mult": 0.01, "resolution": 64,
                       "channel_base": 1024, "channel_max": 64, "r1_gamma": 0.0128, "r1_every": 16, "pl_weight": 0.0,
                       "pl_every": 4, "ema_kimg": 10.0, "ema_rampup": 0.05, "decorrelation": 0.0, "decorrelation_batch": 256, "lr": 0.0025,
                       "beta1": 0.0, "beta2": 0.99, "encoder_lr": 0.001, "steps": 0, "batch_size": 0},
                      unused_settings=("lr",), train_overrides=("steps", "batch_size"), code_size="w_dim"),
    "pca": Kind({"latent_dim": 24, "max_fit_images": 20000}, trained_by="fit"),
    "random": Kind({"latent_dim": 24}, trained_by="fit", decodable=False),
    "oracle": Kind({}, trained_by="fit", decodable=False, needs_ids=True, code_size=None),
}
"""kind name -> :class:`Kind`; the one declaration of every built-in kind."""


def kind(name: str) -> Kind:
    """The :class:`Kind` declared under ``name`` (ValueError listing the known kinds otherwise)."""
    if name not in KINDS:
        raise ValueError(f"unknown model kind '{name}'; known kinds: {', '.join(sorted(KINDS))}")
    return KINDS[name]


def coerce_hyperparameter(key: str, default: Any, value: Any, name: str = "model") -> Any:
    """``value`` as the type of ``default`` (int, float, bool or str); ValueError naming ``key`` if it is not one."""
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ValueError(f"model '{name}': '{key}' must be true or false, got {value!r}")
        return value
    if isinstance(default, (int, float)):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"model '{name}': '{key}' must be a number, got {value!r}")
        if isinstance(default, int):
            if value != int(value):
                raise ValueError(f"model '{name}': '{key}' must be an integer, got {value!r}")
            return int(value)
        return float(value)
    if isinstance(default, str) and not isinstance(value, str):
        raise ValueError(f"model '{name}': '{key}' must be a string, got {value!r}")
    return value


def resolve_spec(spec: Mapping[str, Any], name: str = "model") -> dict[str, Any]:
    """Check a model spec and fill in its kind's defaults.

    Parameters
    ----------
    spec : mapping with ``kind`` and hyper-parameters (a `models:` entry of the config).
    name : the model's name, used in error messages.

    Returns
    -------
    dict: ``kind``, ``seed`` (default 0) and every hyper-parameter of the kind,
    typed as the kind's defaults.
    """
    if "kind" not in spec:
        raise ValueError(f"model '{name}': spec has no 'kind'")
    declared = kind(spec["kind"])
    unknown = sorted(set(spec) - set(SPEC_KEYS) - set(declared.hyperparameters))
    if unknown:
        raise ValueError(
            f"model '{name}' (kind {spec['kind']}): unknown hyper-parameter(s) {unknown}; "
            f"this kind takes {sorted(declared.hyperparameters)}"
        )
    resolved = {"kind": spec["kind"], "seed": int(spec.get("seed", 0))}
    for key, default in declared.hyperparameters.items():
        resolved[key] = coerce_hyperparameter(key, default, spec.get(key, default), name)
    return resolved


def train_settings(spec: Mapping[str, Any], train: Mapping[str, Any]) -> dict[str, Any]:
    """The entries of the config's ``train:`` that training a model of ``spec`` reads: the
    training rule's params, so a change to another entry does not retrain the model.

    Parameters
    ----------
    spec : a model spec (``kind`` and hyper-parameters).
    train : the config's ``train:`` section (at least the entries of :data:`TRAIN_SETTINGS`).

    Returns
    -------
    dict: :data:`FIT_SETTINGS` for a closed-form kind; :data:`TRAIN_SETTINGS` for a gradient-trained
    one less its kind's ``unused_settings`` and the ``train_overrides`` the spec sets (> 0); in
    :data:`TRAIN_SETTINGS` order.
    """
    resolved = resolve_spec(spec)
    declared = kind(resolved["kind"])
    if declared.trained_by == "fit":
        return {key: train[key] for key in FIT_SETTINGS}
    overridden = {key for key in declared.train_overrides if resolved[key] > 0}
    return {key: train[key] for key in TRAIN_SETTINGS if key not in declared.unused_settings and key not in overridden}


def latent_count(spec: Mapping[str, Any]) -> int | None:
    """The number of latent dimensions (K) a model of ``spec`` encodes images to; None when it is the
    dataset's number of factors (a kind whose ``code_size`` is None: the oracle)."""
    resolved = resolve_spec(spec)
    size = kind(resolved["kind"]).code_size
    return None if size is None else int(resolved[size])


def stack_key(spec: Mapping[str, Any]) -> tuple:
    """What the members of one stacked ensemble (:mod:`facebrain.models.ensemble`) share: the kind
    and every hyper-parameter that is not a float (network shape, forms); seeds and float
    hyper-parameters (loss weights such as ``beta``, ``gamma``) may differ."""
    resolved = resolve_spec(spec)
    declared = kind(resolved["kind"])
    return tuple(sorted((k, v) for k, v in resolved.items() if k != "seed" and not isinstance(declared.hyperparameters.get(k), float)))


def member_floats(spec: Mapping[str, Any]) -> dict[str, float]:
    """The float hyper-parameters of a spec: those that may differ within a stacked ensemble."""
    resolved = resolve_spec(spec)
    declared = kind(resolved["kind"])
    return {k: v for k, v in resolved.items() if isinstance(declared.hyperparameters.get(k), float)}
