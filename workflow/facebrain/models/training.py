"""The generic training loop of every model kind, with exact resume.

``train_model`` (the `train_model` rule's one call) builds the model named by a
spec (:mod:`facebrain.models.registry`), draws batches with the sampler the
model asks for (:data:`facebrain.models.batches.SAMPLERS`, keyed by the model's ``batch_kind``), lets
the model take its optimisation step (``training_step``) and logs the losses
it returns. Closed-form kinds (``trained_by = "fit"``) are fitted once instead.

Resume: every ``checkpoint_every`` steps the loop writes, atomically,
``checkpoint.pt`` beside the model: step, model and optimiser states, the RNG
states (torch CPU and CUDA, Python, and the numpy Generator that drives the
batch stream) and the log rows so far. A killed job, rerun, continues from the
last checkpoint and, on CPU, ends with exactly the weights of an uninterrupted
run. A checkpoint whose fingerprint (spec, train settings, seed, data
checksum) differs from the job's is ignored. Checkpoints hold only tensors and
primitive containers and are read with ``torch.load(weights_only=True)``.

Batch samplers and the pool they draw from live in :mod:`facebrain.models.batches`
(a model kind and its sampler stay in the models package, which never imports
this loop).
"""

from __future__ import annotations

import functools
import logging
import random
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from facebrain.datasets.face_grid import FaceGrid
from facebrain.datasets.prepared import PreparedData, image_tensor
from facebrain.device import resolve_device
from facebrain.errors import DataError
from facebrain.io import write_json, write_table, write_torch
from facebrain.models.batches import SAMPLERS, TrainPool
from facebrain.models.kinds import KINDS, resolve_spec
from facebrain.models.registry import LatentModel, build_model
from facebrain.models.vae import gaussian_total_correlation
from facebrain.provenance import config_hash, file_sha256
from facebrain.seeding import seed_everything

log = logging.getLogger(__name__)

CHECKPOINT_NAME = "checkpoint.pt"
"""File name of the resume checkpoint, written next to ``model.pt``."""
MODEL_FORMAT = 1
"""Version of the ``model.pt`` layout (see :func:`save_model`)."""
EVAL_BATCH = 256
"""Images per batch when evaluating (the TC estimate is per batch)."""
SPLIT_TRAIN, SPLIT_TEST = 0, 2


def training_seed(master_seed: int, model_seed: int) -> int:
    """The seed of one training run, from the config's master seed and the model's own seed."""
    return int(np.random.SeedSequence([int(master_seed), int(model_seed)]).generate_state(1)[0])


def _rng_state(stream: np.random.Generator) -> dict[str, Any]:
    state = {"torch": torch.get_rng_state(), "python": random.getstate(), "stream": stream.bit_generator.state}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: Mapping[str, Any], stream: np.random.Generator) -> None:
    torch.set_rng_state(state["torch"])
    random.setstate(state["python"])
    stream.bit_generator.state = state["stream"]
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _load_checkpoint(path: Path, fingerprint: str) -> dict[str, Any] | None:
    """The checkpoint at ``path`` if it belongs to this run (on CPU: the RNG states must stay there)."""
    if not path.exists():
        return None
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # a corrupt checkpoint is not fatal: start over
        log.warning("%s: unreadable checkpoint (%s); training from scratch", path, err)
        return None
    if ckpt.get("fingerprint") != fingerprint:
        log.warning("%s: checkpoint of other settings; training from scratch", path)
        return None
    return ckpt


def _save_checkpoint(path: Path, fingerprint, step, model, optimizers, stream, rows, accum) -> None:
    ckpt = {
        "fingerprint": fingerprint,
        "step": step,
        "model": model.state_dict(),
        "optimizers": {name: opt.state_dict() for name, opt in optimizers.items()},
        "rng": _rng_state(stream),
        "rows": rows,
        "accum": accum,
    }
    write_torch(path, ckpt)


def save_model(model: LatentModel, path: str | Path, name: str, spec: Mapping[str, Any], provenance: Mapping[str, Any] | None = None) -> None:
    """Write ``model.pt`` atomically.

    Layout (a dict of tensors and primitives, loadable with ``weights_only=True``):
    ``format``, ``kind``, ``name``, ``spec`` (the config spec with its kind's defaults filled in),
    ``init_config`` (constructor arguments), ``state_dict``, ``provenance``.
    """
    payload = {
        "format": MODEL_FORMAT,
        "kind": model.kind,
        "name": name,
        "spec": dict(spec),
        "init_config": model.init_config(),
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "provenance": {k: str(v) for k, v in (provenance or {}).items()},
    }
    write_torch(path, payload)


def evaluate_model(model: LatentModel, data, indices: np.ndarray, device: torch.device) -> dict[str, float]:
    """Average the model's per-image test losses (``model.evaluate``) over ``indices``.

    Returns
    -------
    dict: loss name -> mean over images (nats per image); ``n_images``. Kinds that report a
    minibatch ``tc`` also get ``tc_gaussian``: the Gaussian total correlation of the test
    images' posterior means (:func:`facebrain.models.vae.gaussian_total_correlation`), ~0 for
    independent codes whatever the posterior width.
    """
    model.eval()
    sums: dict[str, float] = {}
    means = []
    for start in range(0, len(indices), EVAL_BATCH):
        chunk = indices[start : start + EVAL_BATCH]
        x = image_tensor(data.images(chunk), device)
        ids = [str(i) for i in data.ids[chunk]]
        with torch.no_grad():
            losses = model.evaluate(x, ids=ids)
            if "tc" in losses:
                means.append(model.encode(x, ids=ids)[0].cpu().numpy())
        for key, value in losses.items():
            sums[key] = sums.get(key, 0.0) + value * len(chunk)
    result = {k: v / len(indices) for k, v in sums.items()}
    if means:
        result["tc_gaussian"] = gaussian_total_correlation(np.concatenate(means))
    return {**result, "n_images": int(len(indices))}


def train_model(
    data: str | Path,
    model_out: str | Path,
    log_out: str | Path,
    evaluation_out: str | Path,
    name: str,
    spec: Mapping[str, Any],
    train: Mapping[str, Any],
    seed: int,
    device: str = "auto",
    face_grid: str | Path | None = None,
    provenance: Mapping[str, Any] | None = None,
) -> LatentModel:
    """Train (or fit) one model on a prepared dataset; write the model, its log and its test losses.

    Parameters
    ----------
    data : ``results/data/{dataset}.h5`` (:class:`facebrain.datasets.prepared.PreparedData`).
    model_out : ``model.pt`` (see :func:`save_model`); ``checkpoint.pt`` lives beside it while training.
    log_out : ``train_log.tsv``: one row per ``log_every`` steps: ``step``, the mean of each loss
        the model logs over those steps (nats per image), ``images_per_s``.
    evaluation_out : JSON with the test-split losses (nats per image) of the trained model.
    name : the model's name in the config (``models:``).
    spec : its spec (``kind`` and hyper-parameters).
    train : the config's ``train`` settings: ``steps``, ``batch_size``, ``lr``,
        ``checkpoint_every``, ``log_every``, ``eval_images`` (and ``compile``: torch.compile
        the step's phases, :func:`compiled_step`).
    seed : the config's master seed (combined with the spec's ``seed``).
    device : 'auto', 'cpu', 'cuda', ...
    face_grid : the rendered SynthFaces grid (``results/data/synthfaces_grid.h5``) that the
        pair sampler reads SynthFaces pairs from; None: pairs are rendered on demand.

    Returns
    -------
    the trained model (on ``device``, eval mode).
    """
    try:
        resolved = resolve_spec(spec, name)  # a bad spec fails before any data is read
    except ValueError as err:
        raise DataError(model_out, str(err)) from err
    device_t = resolve_device(device)
    run_seed = training_seed(seed, int(spec.get("seed", 0)))
    with PreparedData(data) as prepared:
        stream = seed_everything(run_seed)  # before building: the initial weights come from the seed
        model = build_model(spec, in_channels=prepared.channels, name=name).to(device_t)
        train_idx, test_idx = prepared.indices(SPLIT_TRAIN), prepared.indices(SPLIT_TEST)
        if len(train_idx) == 0:
            raise DataError(data, "no training images (split == 0)")
        pool = TrainPool(prepared, train_idx, device_t, FaceGrid(face_grid) if face_grid is not None else None)
        log.info("training %s (%s) on %s: %d training images, device %s, seed %d", name, model.kind, data, len(train_idx), device_t, run_seed)
        if pool.face_grid is not None:
            log.info("SynthFaces pairs are read from %s (nothing is rendered during training)", pool.face_grid)
        if model.trained_by == "fit":
            rows = _fit(model, pool, stream)
        else:
            sampler = SAMPLERS.get(model.batch_kind)
            if sampler is None:
                raise ValueError(f"model kind '{model.kind}' asks for batch kind '{model.batch_kind}'; known: {sorted(SAMPLERS)}")
            rows = optimise(model, functools.partial(sampler, pool), train, stream, Path(model_out).with_name(CHECKPOINT_NAME),
                            _fingerprint(spec, train, run_seed, data, face_grid))
        eval_idx = test_idx if len(test_idx) else train_idx
        if not len(test_idx):
            log.warning("%s has no test split; evaluating on training images", data)
        eval_idx = eval_idx[: int(train["eval_images"])]
        evaluation = {"model": name, "kind": model.kind, "latent_dim": model.latent_dim, **evaluate_model(model, prepared, eval_idx, device_t)}
    save_model(model, model_out, name, resolved, provenance)
    write_table(log_out, pd.DataFrame(rows))
    write_json(evaluation_out, evaluation)
    Path(model_out).with_name(CHECKPOINT_NAME).unlink(missing_ok=True)
    log.info("test losses of %s: %s", name, evaluation)
    return model


def _fingerprint(spec, train, run_seed, data, face_grid=None) -> str:
    settings = {k: v for k, v in train.items() if k in ("steps", "batch_size", "lr")}
    inputs = {"data": file_sha256(data)}
    if face_grid is not None:
        inputs["face_grid"] = file_sha256(face_grid)
    return config_hash({"spec": dict(spec), "train": settings, "seed": run_seed, **inputs})


def _fit(model: LatentModel, pool: TrainPool, rng: np.random.Generator) -> list[dict[str, Any]]:
    start = time.perf_counter()
    model.fit(pool, rng)
    elapsed = time.perf_counter() - start
    model.eval()
    return [{"step": 0, "images_per_s": len(pool.indices) / max(elapsed, 1e-9)}]


def optimise(model: LatentModel, draw: Callable[[int, np.random.Generator], Any], train: Mapping[str, Any], stream: np.random.Generator,
             checkpoint: Path | None = None, fingerprint: str = "") -> list[dict[str, Any]]:
    """The training loop: ``train["steps"]`` optimisation steps of ``model``, each on ``draw(batch_size, stream)``.

    Parameters
    ----------
    model : a registered kind trained by optimisation (its ``training_step`` takes what ``draw`` returns).
    draw : ``draw(batch_size, stream)`` -> one batch; all its randomness from ``stream``.
    train : ``steps``, ``batch_size``, ``lr``, ``log_every`` (and ``checkpoint_every`` with a checkpoint);
        the model may override some (``model.training_settings``); those its kind does not read may be
        absent (:func:`facebrain.models.kinds.train_settings`).
    stream : the numpy Generator of the batch stream (saved in checkpoints).
    checkpoint : where the resumable state is written every ``checkpoint_every`` steps and
        resumed from when its ``fingerprint`` matches; None: no checkpoints.
    fingerprint : identifies the run a checkpoint belongs to.

    Returns
    -------
    One row per ``log_every`` steps: ``step``, the mean of each loss over those steps, ``images_per_s``.
    """
    train = model.training_settings(train)
    steps, batch_size = int(train["steps"]), int(train["batch_size"])
    every_log = int(train["log_every"])
    every_ckpt = int(train["checkpoint_every"]) if checkpoint is not None else 0
    model.train()
    optimizers = model.configure_optimizers(float(train["lr"]) if "lr" in train else None)  # no lr: the kind does not read it
    rows: list[dict[str, Any]] = []
    losses = LossAccumulator(next(model.parameters()).device)
    start = 0
    ckpt = _load_checkpoint(checkpoint, fingerprint) if checkpoint is not None else None
    if ckpt is not None:
        model.load_state_dict(ckpt["model"])
        for name, opt in optimizers.items():
            opt.load_state_dict(ckpt["optimizers"][name])
        _set_rng_state(ckpt["rng"], stream)
        start, rows = int(ckpt["step"]), list(ckpt["rows"])
        losses.restore(ckpt["accum"])
        log.info("resuming from %s at step %d of %d", checkpoint, start, steps)
    step_fn = compiled_step(model) if train.get("compile", False) else model.training_step
    tick = time.perf_counter()
    for step in tqdm(range(start + 1, steps + 1), initial=start, total=steps, desc=f"train {model.kind}", mininterval=10):
        losses.add(step_fn(draw(batch_size, stream), optimizers))
        if step % every_log == 0 or step == steps:
            n, means = losses.read()  # the one host synchronisation: every log_every steps
            now = time.perf_counter()
            rows.append({"step": step, **means, "images_per_s": n * batch_size / max(now - tick, 1e-9)})
            log.info("step %d/%d %s", step, steps, {k: round(v, 2) for k, v in rows[-1].items() if k != "step"})
            tick = now
        if checkpoint is not None and step % every_ckpt == 0 and step < steps:
            _save_checkpoint(checkpoint, fingerprint, step, model, optimizers, stream, rows, losses.state())
    model.eval()
    return rows


class LossAccumulator:
    """Sums of the logged losses since the last log row, kept on the device (float64; float32 on MPS).

    ``add`` queues additions without waiting for the device; ``read`` copies the sums to the
    host once (the loop's only synchronisation), returns their means and starts over. The
    float64 sums of float32 losses equal the host-side Python sums the loop kept before.
    With a leading members axis (a stacked ensemble) each sum is (M,).
    """

    def __init__(self, device: torch.device):
        self.device = device
        self.dtype = torch.float32 if device.type == "mps" else torch.float64  # MPS has no float64
        self.steps = 0
        self.sums: dict[str, torch.Tensor] = {}

    def add(self, losses: Mapping[str, Any]) -> None:
        """Add one step's losses (tensors or numbers)."""
        for key, value in losses.items():
            value = torch.as_tensor(value).detach().to(self.device, self.dtype)
            self.sums[key] = self.sums[key] + value if key in self.sums else value
        self.steps += 1

    def read(self) -> tuple[int, dict[str, Any]]:
        """(steps summed, {loss: mean over them}) as Python floats (lists of floats per member); resets."""
        n, keys = self.steps, list(self.sums)
        values = torch.stack([self.sums[k] for k in keys]).cpu().tolist() if keys else []
        self.steps, self.sums = 0, {}
        means = {k: [x / n for x in v] if isinstance(v, list) else v / n for k, v in zip(keys, values)}
        return n, means

    def state(self) -> dict[str, Any]:
        """The sums as a checkpoint holds them: ``{"_steps": n, loss: float (or list per member)}``."""
        return {"_steps": self.steps, **{k: v.cpu().tolist() for k, v in self.sums.items()}}

    def restore(self, state: Mapping[str, Any]) -> None:
        """Continue from :meth:`state` (a checkpoint's ``accum``)."""
        state = dict(state)
        self.steps = int(state.pop("_steps"))
        self.sums = {k: torch.tensor(v, dtype=self.dtype, device=self.device) for k, v in state.items()}


def compiled_step(model: LatentModel) -> Callable[[Any, Mapping[str, torch.optim.Optimizer]], dict[str, torch.Tensor]]:
    """``model.training_step`` with its phases compiled by ``torch.compile`` (``train.compile``).

    Only the phases (forward and loss, pure functions of parameters, batch and noise) are
    compiled; noise draws and optimiser steps stay eager. Kinds that are not ``stackable``
    raise a ValueError (their steps are not written as phases).
    """
    if not model.stackable:
        raise ValueError(f"train.compile: model kind '{model.kind}' cannot be compiled (only kinds whose step is phases: "
                         f"{', '.join(sorted(k for k, d in KINDS.items() if d.stackable))})")
    for _, method in model.phases:
        setattr(model, method, torch.compile(getattr(model, method)))
    return model.training_step
