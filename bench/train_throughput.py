"""Training throughput (images/s) of one step per model kind at batch 64, beside a
minimal hand-written torch loop of the same network and loss, and of stacked ensembles.

    .venv/bin/python bench/train_throughput.py [--steps 60] [--device auto] [--channels 3] [--threads 1]
        [--ensembles 1 4 16] [--ensemble-steps 5] [--kinds vae factorvae]

The pipeline's step is the real one: the ``images`` sampler of
:mod:`facebrain.models.batches` (uint8 pool -> float batch), the model's
``training_step`` and the loop's on-device loss sums (read once at the end, as at
``log_every``). The baseline indexes a uint8 tensor and writes the loss inline.
ratio = pipeline / baseline (the pipeline should add no overhead: >= 0.9).

``ensemble M``: M members of the kind as one :class:`facebrain.models.ensemble.StackedEnsemble`
(each with its own batch stream and noise generator, as ``train_ensemble`` runs them);
images/s counts every member's images. ``xM`` = ensemble / pipeline, i.e. the speed-up
over training the M models one after another (M sequential runs have the single run's
images/s).

On CPU the clock is the process's CPU time (``time.process_time``): on a machine shared
with other jobs wall time measures the neighbours. Use ``--threads 1`` there. On CUDA it
is wall time after a synchronisation. The device (CPU model or GPU name) is printed.
"""

from __future__ import annotations

import argparse
import math
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow"))

from facebrain.device import resolve_device  # noqa: E402
from facebrain.models.batches import TrainPool, sample_images  # noqa: E402
from facebrain.models.ensemble import StackedEnsemble, draw_stacked, member_batch, stack_batches  # noqa: E402
from facebrain.models.factorvae import permute_dims  # noqa: E402
from facebrain.models.registry import build_model  # noqa: E402
from facebrain.models.training import LossAccumulator  # noqa: E402

BATCH = 64
KINDS = {"vae": {}, "betavae": {"beta": 4.0}, "factorvae": {"gamma": 24.0}, "btcvae": {"beta": 6.0}, "dipvae_i": {}, "dipvae_ii": {}}


class ArrayData:
    """The two members of PreparedData a TrainPool reads: images(indices) and factors."""

    def __init__(self, images: np.ndarray):
        self._images = images
        self.factors = np.zeros((len(images), 1), np.float32)

    def images(self, indices):
        return self._images[indices]


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def clock(device):
    """Seconds: the process's CPU time on CPU (immune to other jobs on the machine), wall time on a GPU."""
    return time.perf_counter() if device.type == "cuda" else time.process_time()


def device_name(device):
    """The GPU's name, or the CPU model from /proc/cpuinfo."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
        return next(line.split(":", 1)[1].strip() for line in lines if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or "cpu"


def pipeline_rate(kind, hp, images, device, steps):
    torch.manual_seed(0)
    model = build_model({"kind": kind, "latent_dim": 24, **hp}, in_channels=images.shape[3]).to(device).train()
    optimizers = model.configure_optimizers(1e-4)
    pool = TrainPool(ArrayData(images), np.arange(len(images)), device)
    rng = np.random.default_rng(0)
    losses = LossAccumulator(device)
    for i in range(steps + 5):
        if i == 5:
            _sync(device)
            start = clock(device)
        losses.add(model.training_step(sample_images(pool, BATCH, rng), optimizers))
    losses.read()  # the loop's one synchronisation per log row
    _sync(device)
    return steps * BATCH / (clock(device) - start)


def ensemble_rate(kind, hp, images, device, steps, members):
    """images/s of ``members`` models of ``kind`` trained as one stacked ensemble (every member's images counted)."""
    torch.manual_seed(0)
    models = [build_model({"kind": kind, "latent_dim": 24, **hp}, in_channels=images.shape[3]).to(device) for _ in range(members)]
    ensemble = StackedEnsemble(models)
    module = ensemble.module.train()
    optimizers = module.configure_optimizers(1e-4)
    pool = TrainPool(ArrayData(images), np.arange(len(images)), device)
    streams = [np.random.default_rng(m) for m in range(members)]
    generators = [torch.Generator(device=device).manual_seed(m) for m in range(members)]
    losses = LossAccumulator(device)
    warm = 2
    for i in range(steps + warm):
        if i == warm:
            _sync(device)
            start = clock(device)
        batch = draw_stacked(pool, sample_images, BATCH, streams)  # as optimise_ensemble draws: one gather for all members
        noise = stack_batches([module.draw_noise(member_batch(batch, m), g) for m, g in enumerate(generators)])
        losses.add(ensemble.step(batch, noise, optimizers))
    losses.read()
    _sync(device)
    return steps * BATCH * members / (clock(device) - start)


def baseline_rate(kind, hp, images, device, steps):
    """A minimal loop: same networks (encoder, decoder, discriminator), loss written inline."""
    torch.manual_seed(0)
    model = build_model({"kind": kind, "latent_dim": 24, **hp}, in_channels=images.shape[3]).to(device).train()
    enc, dec = model.encoder, model.decoder
    opt = torch.optim.Adam(list(enc.parameters()) + list(dec.parameters()), lr=1e-4)
    disc = getattr(model, "discriminator", None)
    opt_d = torch.optim.Adam(disc.parameters(), lr=1e-4, betas=(0.5, 0.9)) if disc is not None else None
    data = torch.from_numpy(images)
    for i in range(steps + 5):
        if i == 5:
            _sync(device)
            start = clock(device)
        x = data[torch.randint(len(data), (BATCH,))].to(device).permute(0, 3, 1, 2).float() / 255.0
        mu, logvar = enc(x)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        recon = F.binary_cross_entropy_with_logits(dec(z), x, reduction="sum") / BATCH
        kl = (0.5 * (mu**2 + logvar.exp() - logvar - 1)).sum(1).mean()
        if kind == "betavae":
            loss = recon + hp["beta"] * kl
        elif kind == "btcvae":
            lq = -0.5 * (math.log(2 * math.pi) + logvar[None] + (z[:, None] - mu[None]) ** 2 * torch.exp(-logvar[None]))
            tc = (torch.logsumexp(lq.sum(2), 1) - torch.logsumexp(lq, 1).sum(1)).mean()
            loss = recon + kl + (hp["beta"] - 1) * tc
        elif kind in ("dipvae_i", "dipvae_ii"):
            c = (mu - mu.mean(0)).T @ (mu - mu.mean(0)) / BATCH
            if kind == "dipvae_ii":
                c = c + torch.diag(logvar.exp().mean(0))
            d = torch.diagonal(c)
            loss = recon + kl + model.lambda_od * ((c - torch.diag(d)) ** 2).sum() + model.lambda_d * ((d - 1) ** 2).sum()
        elif kind == "factorvae":
            logits = disc(z)
            loss = recon + kl + hp["gamma"] * (logits[:, 0] - logits[:, 1]).mean()
        else:
            loss = recon + kl
        opt.zero_grad()
        loss.backward()
        opt.step()
        if disc is not None:
            zd = z.detach()
            target = torch.zeros(BATCH, dtype=torch.long, device=device)
            d_loss = 0.5 * (F.cross_entropy(disc(zd), target) + F.cross_entropy(disc(permute_dims(zd)), target + 1))
            opt_d.zero_grad()
            d_loss.backward()
            opt_d.step()
    _sync(device)
    return steps * BATCH / (clock(device) - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--channels", type=int, default=3, choices=(1, 3))
    parser.add_argument("--repeats", type=int, default=2, help="alternate pipeline/baseline runs; the best of each is kept")
    parser.add_argument("--kinds", nargs="*", default=list(KINDS))
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--ensembles", type=int, nargs="*", default=[1, 4, 16], help="stacked-ensemble sizes")
    parser.add_argument("--ensemble-steps", type=int, default=5, help="timed steps of each ensemble (after 2 warm-up steps)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    images = np.random.default_rng(0).integers(0, 256, (2048, 64, 64, args.channels), dtype=np.uint8)
    timer = "wall time" if device.type == "cuda" else "process CPU time"
    print(f"device {device} ({device_name(device)}), torch {torch.__version__}, threads {torch.get_num_threads()}, batch {BATCH}, "
          f"{args.channels} channel(s), {args.steps} steps ({args.ensemble_steps} per ensemble), clock: {timer}")
    pipeline_rate("vae", {}, images, device, args.steps)  # warm-up: allocator, caches, clocks
    baseline_rate("vae", {}, images, device, args.steps)
    header = f"{'kind':<11} {'pipeline img/s':>15} {'baseline img/s':>15} {'ratio':>6}"
    header += "".join(f" {f'ensemble {m} img/s':>19} {f'x{m}':>6}" for m in args.ensembles)
    print(header)
    for kind in args.kinds:
        ours, base = [], []
        for _ in range(args.repeats):
            ours.append(pipeline_rate(kind, KINDS[kind], images, device, args.steps))
            base.append(baseline_rate(kind, KINDS[kind], images, device, args.steps))
        line = f"{kind:<11} {max(ours):>15.0f} {max(base):>15.0f} {max(ours) / max(base):>6.2f}"
        for members in args.ensembles:
            rate = ensemble_rate(kind, KINDS[kind], images, device, args.ensemble_steps, members)
            line += f" {rate:>19.0f} {rate / max(ours):>6.2f}"
        print(line, flush=True)


if __name__ == "__main__":
    main()
