"""Stacked ensembles: several runs of one kind trained in one process, as one model.

``train_ensemble`` (the `train_ensemble` rule's one call) trains M models that
share kind, dataset and network shape (the seeds and grid points of a search;
their float hyper-parameters, such as ``beta`` or ``gamma``, may differ) the way
:func:`facebrain.models.training.train_model` trains each of them, and writes
each member's ``model.pt``, ``train_log.tsv``, ``evaluation.json`` and
checkpoint exactly as its own run would: downstream rules cannot tell the
difference.

How: the members' parameters are stacked along a leading axis
(``torch.func.stack_module_state``); each phase of the kind's step
(:func:`facebrain.models.registry.run_phases`) runs once for all members through
``torch.func.vmap`` of ``torch.func.functional_call``, on a batch (M, B, C, 64,
64); one optimiser per phase updates the stacked parameters (Adam is elementwise,
so it is M independent Adams). Each member keeps its own random streams: its
numpy batch stream and a torch generator in the state its own run's global
generator would have, from which its noise is drawn before the step. So member
m sees exactly its own run's batches and noise, and its weights after any
number of steps equal its run's to float rounding (vmapped convolutions sum in
another order).

Only ``stackable`` kinds (:data:`facebrain.models.kinds.KINDS`: vae, betavae,
btcvae, dipvae_i, dipvae_ii, factorvae) train as ensembles.
"""

from __future__ import annotations

import copy
import functools
import logging
import random
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn
from tqdm import tqdm

from facebrain.datasets.face_grid import FaceGrid
from facebrain.datasets.prepared import PreparedData
from facebrain.device import resolve_device
from facebrain.errors import DataError
from facebrain.io import write_json, write_table, write_torch
from facebrain.models.batches import SAMPLERS, TrainPool
from facebrain.models.kinds import member_floats, resolve_spec, stack_key
from facebrain.models.registry import LatentModel, build_model
from facebrain.models.training import (
    CHECKPOINT_NAME,
    SPLIT_TEST,
    SPLIT_TRAIN,
    LossAccumulator,
    _fingerprint,
    _load_checkpoint,
    evaluate_model,
    save_model,
    training_seed,
)
from facebrain.seeding import seed_everything

log = logging.getLogger(__name__)


class _Phase(nn.Module):
    """``model.<method>(batch, noise, carry)`` as a module's forward, with the member's float
    hyper-parameters set on the model: what ``functional_call`` runs for one member."""

    def __init__(self, model: LatentModel, method: str):
        super().__init__()
        self.model = model
        self.method = method

    def forward(self, floats, batch, noise, carry):
        for key, value in floats.items():
            setattr(self.model, key, value)
        return getattr(self.model, self.method)(batch, noise, carry)


class StackedEnsemble:
    """M models of one kind and shape with their parameters stacked along a leading axis.

    Parameters
    ----------
    models : the members (same class and :func:`stack_key`), each on the same device.

    Attributes
    ----------
    module : a copy of the first member whose parameters and buffers are the stacked ones
        (M, ...); its ``configure_optimizers`` gives the ensemble's optimisers.
    floats : float hyper-parameter -> (M,) tensor of the members' values.
    """

    def __init__(self, models: Sequence[LatentModel]):
        if not models[0].stackable:
            raise ValueError(f"model kind '{models[0].kind}' cannot train as a stacked ensemble (its step is not phases)")
        self.size = len(models)
        self.module = copy.deepcopy(models[0])
        params, buffers = torch.func.stack_module_state(list(models))
        for name, value in params.items():
            owner, leaf = self._owner(name)
            setattr(owner, leaf, nn.Parameter(value))
        for name, value in buffers.items():
            owner, leaf = self._owner(name)
            owner.register_buffer(leaf, value)
        device = next(models[0].parameters()).device
        self.floats = {k: torch.tensor([float(getattr(m, k)) for m in models], device=device) for k in member_floats(self._spec(models[0]))}
        self._defaults = {k: getattr(self.module, k) for k in self.floats}
        self._phases: dict[str, Callable] = {}

    @staticmethod
    def _spec(model: LatentModel) -> dict[str, Any]:
        return {"kind": model.kind, **{k: getattr(model, k) for k in model.hyperparameters}}

    def _owner(self, name: str) -> tuple[nn.Module, str]:
        prefix, _, leaf = name.rpartition(".")
        return self.module.get_submodule(prefix), leaf

    def state(self) -> dict[str, torch.Tensor]:
        """The stacked parameters and buffers by name (each (M, ...))."""
        return {**dict(self.module.named_parameters()), **dict(self.module.named_buffers())}

    def member_state(self, m: int) -> dict[str, torch.Tensor]:
        """Member ``m``'s state dict (its slices of the stacked tensors)."""
        return {k: v[m].detach().clone() for k, v in self.module.state_dict().items()}

    def load_member_state(self, m: int, state: Mapping[str, torch.Tensor]) -> None:
        """Set member ``m``'s slices from a single model's state dict."""
        with torch.no_grad():
            for k, v in self.module.state_dict().items():
                v[m].copy_(state[k])

    def phase(self, method: str, compile_phase: bool = False) -> Callable:
        """The vmapped phase ``method``: (batch (M, ...), noise (M, ...), carry (M, ...)) -> (loss (M,), logs, carry)."""
        if method not in self._phases:
            runner = _Phase(self.module, method)
            names = list(self.state())

            def one_member(state, floats, batch, noise, carry):
                return torch.func.functional_call(runner, {f"model.{k}": v for k, v in zip(names, state)}, (floats, batch, noise, carry))

            vmapped = torch.func.vmap(one_member)
            self._phases[method] = torch.compile(vmapped) if compile_phase else vmapped
        return self._phases[method]

    def step(self, batch, noise, optimizers: Mapping[str, torch.optim.Optimizer], compile_phases: bool = False) -> dict[str, torch.Tensor]:
        """One training step of every member: the kind's phases, vmapped; logs are (M,) tensors."""
        logs: dict[str, torch.Tensor] = {}
        carry: dict[str, torch.Tensor] = {}
        state = tuple(self.state().values())
        try:
            for optimiser, method in self.module.phases:
                loss, phase_logs, carry = self.phase(method, compile_phases)(state, self.floats, batch, noise, carry)
                optimizers[optimiser].zero_grad(set_to_none=True)
                loss.sum().backward()  # member m's parameters get the gradient of member m's loss
                optimizers[optimiser].step()
                logs.update(phase_logs)
        finally:
            for key, value in self._defaults.items():
                setattr(self.module, key, value)
        return logs


def stack_batches(parts: Sequence[Any]) -> Any:
    """Stack the members' batches (tensors, or tuples/dicts of them) along a new leading axis."""
    first = parts[0]
    if isinstance(first, torch.Tensor):
        return torch.stack(list(parts))
    if isinstance(first, tuple):
        return tuple(stack_batches([p[i] for p in parts]) for i in range(len(first)))
    if isinstance(first, dict):
        return {k: stack_batches([p[k] for p in parts]) for k in first}
    raise TypeError(f"cannot stack batches of type {type(first).__name__}")


class _RowsOnly:
    """What a batch sampler sees of the training pool, with ``batch(rows)`` giving back the rows
    instead of the images: the sampler draws from a member's stream exactly as in its own run,
    and :func:`draw_stacked` gathers every member's images at once."""

    def __init__(self, pool: TrainPool):
        self.indices = pool.indices

    @staticmethod
    def batch(rows: np.ndarray) -> np.ndarray:
        return np.asarray(rows, dtype=np.int64)


def draw_stacked(pool: TrainPool, sampler: Callable[[Any, int, np.random.Generator], Any], batch_size: int,
                 streams: Sequence[np.random.Generator]) -> Any:
    """Every member's batch, stacked along a leading axis (M, ...), in one gather from the pool.

    Parameters
    ----------
    pool : the training pool.
    sampler : a sampler of :data:`facebrain.models.batches.SAMPLERS` whose batches are images of the pool
        (``images``, ``two_image_batches``: those of the stackable kinds), or a tuple of them.
    batch_size : images per member and batch.
    streams : each member's numpy batch stream; member m's rows are drawn from ``streams[m]``.

    Returns
    -------
    The members' batches as :func:`stack_batches` of their own runs' batches would give them
    (the same rows and pixel values): one index copy, gather and conversion instead of one per member.
    """
    rows = [sampler(_RowsOnly(pool), batch_size, stream) for stream in streams]

    def gather(parts: Sequence[np.ndarray]) -> torch.Tensor:
        images = pool.batch(np.concatenate(parts))
        return images.reshape(len(parts), len(parts[0]), *images.shape[1:])

    if isinstance(rows[0], tuple):
        return tuple(gather([r[i] for r in rows]) for i in range(len(rows[0])))
    return gather(rows)


def member_batch(batch: Any, m: int) -> Any:
    """Member ``m``'s batch (tensor or tuple of tensors) of a stacked batch."""
    return tuple(b[m] for b in batch) if isinstance(batch, tuple) else batch[m]


def _slice_optimizer_state(state: Mapping[str, Any], m: int) -> dict[str, Any]:
    """Member ``m``'s optimiser state dict: stacked tensors sliced, 0-d ones (``step``) kept."""
    per_param = {i: {k: v[m].clone() if isinstance(v, torch.Tensor) and v.dim() else v for k, v in s.items()} for i, s in state["state"].items()}
    return {"state": per_param, "param_groups": copy.deepcopy(state["param_groups"])}


def _stack_optimizer_states(states: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The ensemble's optimiser state dict from its members' (the inverse of :func:`_slice_optimizer_state`)."""
    first = states[0]
    stacked = {i: {k: torch.stack([s["state"][i][k] for s in states]) if isinstance(v, torch.Tensor) and v.dim() else v for k, v in p.items()}
               for i, p in first["state"].items()}
    return {"state": stacked, "param_groups": copy.deepcopy(first["param_groups"])}


class _Member:
    """One member's run: name, spec, seed, its random streams, its files."""

    def __init__(self, name, spec, run_seed, model, stream, generator, python_state, fingerprint, model_out):
        self.name, self.spec, self.run_seed, self.model = name, spec, run_seed, model
        self.stream, self.generator, self.python_state = stream, generator, python_state
        self.fingerprint = fingerprint
        self.checkpoint = Path(model_out).with_name(CHECKPOINT_NAME)

    def rng_state(self) -> dict[str, Any]:
        """The RNG states as its own run's checkpoint holds them (the torch stream under 'torch', or 'cuda' on a GPU)."""
        if self.generator.device.type == "cuda":
            return {"torch": torch.get_rng_state(), "python": self.python_state, "stream": self.stream.bit_generator.state,
                    "cuda": [self.generator.get_state()]}
        return {"torch": self.generator.get_state(), "python": self.python_state, "stream": self.stream.bit_generator.state}

    def set_rng_state(self, state: Mapping[str, Any]) -> None:
        self.stream.bit_generator.state = state["stream"]
        if self.generator.device.type == "cuda":
            if "cuda" in state:
                self.generator.set_state(state["cuda"][0])
        else:
            self.generator.set_state(state["torch"])


def train_ensemble(
    data: str | Path,
    model_outs: Sequence[str | Path],
    log_outs: Sequence[str | Path],
    evaluation_outs: Sequence[str | Path],
    names: Sequence[str],
    specs: Sequence[Mapping[str, Any]],
    train: Mapping[str, Any],
    seed: int,
    device: str = "auto",
    face_grid: str | Path | None = None,
    provenance: Mapping[str, Any] | None = None,
) -> list[LatentModel]:
    """Train M models of one kind and shape as one stacked ensemble; write each member's files as its own run's.

    Parameters
    ----------
    data : ``results/data/{dataset}.h5``, the dataset every member trains on.
    model_outs, log_outs, evaluation_outs : each member's ``model.pt``, ``train_log.tsv`` and
        ``evaluation.json`` (as :func:`facebrain.models.training.train_model` writes them;
        ``checkpoint.pt`` beside each ``model.pt`` while training).
    names, specs : each member's model name and spec; the specs share :func:`stack_key`.
    train, seed, device, face_grid, provenance : as for :func:`facebrain.models.training.train_model`
        (``train.compile`` compiles the vmapped phases).

    Returns
    -------
    the trained members (on ``device``, eval mode).
    """
    if not (len(model_outs) == len(log_outs) == len(evaluation_outs) == len(names) == len(specs)) or not names:
        raise ValueError("train_ensemble: one model, log, evaluation, name and spec per member (at least one)")
    try:
        resolved = [resolve_spec(spec, name) for spec, name in zip(specs, names)]
        keys = {stack_key(spec) for spec in resolved}
    except ValueError as err:
        raise DataError(model_outs[0], str(err)) from err
    if len(keys) > 1:
        raise DataError(model_outs[0], f"the members {list(names)} differ in kind or shape ({sorted(keys)}); an ensemble stacks one kind and shape")
    device_t = resolve_device(device)
    with PreparedData(data) as prepared:
        members = []
        for name, spec, model_out in zip(names, specs, model_outs):
            run_seed = training_seed(seed, int(spec.get("seed", 0)))
            stream = seed_everything(run_seed)  # as its own run: the initial weights come from the seed
            model = build_model(spec, in_channels=prepared.channels, name=name).to(device_t)
            generator = torch.Generator(device=device_t)
            if device_t.type == "cuda":
                generator.manual_seed(run_seed)  # its run's CUDA generator: seeded, untouched by the build on the CPU
            else:
                generator.set_state(torch.get_rng_state())  # its run's global generator after the build
            members.append(_Member(name, spec, run_seed, model, stream, generator, random.getstate(),
                                   _fingerprint(spec, train, run_seed, data, face_grid), model_out))
        train_idx, test_idx = prepared.indices(SPLIT_TRAIN), prepared.indices(SPLIT_TEST)
        if len(train_idx) == 0:
            raise DataError(data, "no training images (split == 0)")
        pool = TrainPool(prepared, train_idx, device_t, FaceGrid(face_grid) if face_grid is not None else None)
        first = members[0].model
        log.info("training %d %s models as one stacked ensemble on %s: %s; %d training images, device %s",
                 len(members), first.kind, data, ", ".join(m.name for m in members), len(train_idx), device_t)
        ensemble = StackedEnsemble([m.model for m in members])
        sampler = SAMPLERS.get(first.batch_kind)
        if sampler is None:
            raise ValueError(f"model kind '{first.kind}' asks for batch kind '{first.batch_kind}'; known: {sorted(SAMPLERS)}")
        rows = optimise_ensemble(ensemble, members, functools.partial(draw_stacked, pool, sampler), train)
        eval_idx = (test_idx if len(test_idx) else train_idx)[: int(train["eval_images"])]
        for m, member in enumerate(members):
            member.model.load_state_dict(ensemble.member_state(m))
            member.model.eval()
            evaluation = {"model": member.name, "kind": member.model.kind, "latent_dim": member.model.latent_dim,
                          **evaluate_model(member.model, prepared, eval_idx, device_t)}
            save_model(member.model, model_outs[m], member.name, resolved[m], provenance)
            write_table(log_outs[m], pd.DataFrame(rows[m]))
            write_json(evaluation_outs[m], evaluation)
            member.checkpoint.unlink(missing_ok=True)
            log.info("test losses of %s: %s", member.name, evaluation)
    return [m.model for m in members]


def optimise_ensemble(ensemble: StackedEnsemble, members: Sequence[_Member], draw: Callable[[int, Sequence[np.random.Generator]], Any],
                      train: Mapping[str, Any]) -> list[list[dict[str, Any]]]:
    """The training loop of :func:`facebrain.models.training.optimise`, for every member at once.

    Each step draws every member's batch rows from its own stream (``draw(batch_size, streams)``:
    the stacked batch, :func:`draw_stacked`) and its noise from its own generator (one draw per
    member: a torch generator draws for itself alone), then runs :meth:`StackedEnsemble.step`. Every ``checkpoint_every`` steps each
    member's checkpoint is written as its own run's; a rerun resumes when every member's
    checkpoint belongs to it and they stand at the same step.

    Returns
    -------
    per member: its ``train_log.tsv`` rows.
    """
    steps, batch_size = int(train["steps"]), int(train["batch_size"])
    every_log, every_ckpt = int(train["log_every"]), int(train["checkpoint_every"])
    compile_phases = bool(train.get("compile", False))
    module = ensemble.module
    module.train()
    optimizers = module.configure_optimizers(float(train["lr"]))
    losses = LossAccumulator(next(module.parameters()).device)
    rows: list[list[dict[str, Any]]] = [[] for _ in members]
    start = 0
    ckpts = [_load_checkpoint(m.checkpoint, m.fingerprint) for m in members]
    if all(c is not None for c in ckpts) and len({int(c["step"]) for c in ckpts}) == 1:
        for i, (member, ckpt) in enumerate(zip(members, ckpts)):
            ensemble.load_member_state(i, ckpt["model"])
            member.set_rng_state(ckpt["rng"])
        for name, opt in optimizers.items():
            opt.load_state_dict(_stack_optimizer_states([c["optimizers"][name] for c in ckpts]))
        start, rows = int(ckpts[0]["step"]), [list(c["rows"]) for c in ckpts]
        accums = [dict(c["accum"]) for c in ckpts]
        losses.restore({"_steps": accums[0]["_steps"], **{k: [a[k] for a in accums] for k in accums[0] if k != "_steps"}})
        log.info("resuming the ensemble at step %d of %d", start, steps)
    tick = time.perf_counter()
    for step in tqdm(range(start + 1, steps + 1), initial=start, total=steps, desc=f"train {len(members)} x {module.kind}", mininterval=10):
        batch = draw(batch_size, [m.stream for m in members])
        noise = stack_batches([module.draw_noise(member_batch(batch, i), m.generator) for i, m in enumerate(members)])
        losses.add(ensemble.step(batch, noise, optimizers, compile_phases))
        if step % every_log == 0 or step == steps:
            n, means = losses.read()  # the one host synchronisation: every log_every steps
            now = time.perf_counter()
            for i in range(len(members)):
                rows[i].append({"step": step, **{k: v[i] for k, v in means.items()}, "images_per_s": n * batch_size / max(now - tick, 1e-9)})
            log.info("step %d/%d %s", step, steps, {k: [round(x, 2) for x in v] for k, v in means.items()})
            tick = now
        if step % every_ckpt == 0 and step < steps:
            accum = losses.state()
            states = {name: opt.state_dict() for name, opt in optimizers.items()}
            for i, member in enumerate(members):
                write_torch(member.checkpoint, {
                    "fingerprint": member.fingerprint,
                    "step": step,
                    "model": ensemble.member_state(i),
                    "optimizers": {name: _slice_optimizer_state(state, i) for name, state in states.items()},
                    "rng": member.rng_state(),
                    "rows": rows[i],
                    "accum": {"_steps": accum["_steps"], **{k: v[i] for k, v in accum.items() if k != "_steps"}},
                })
    module.eval()
    return rows
