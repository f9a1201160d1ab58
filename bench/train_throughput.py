"""Training throughput (images/s) of one step per model kind at batch 64, beside a
minimal hand-written torch loop of the same network and loss.

    .venv/bin/python bench/train_throughput.py [--steps 60] [--device auto] [--channels 3] [--threads 1]

The pipeline's step is the real one: the ``images`` sampler of
:mod:`facebrain.models.training` (uint8 pool -> float batch) and the model's
``training_step``. The baseline indexes a uint8 tensor and writes the loss
inline. ratio = pipeline / baseline (the pipeline should add no overhead: >= 0.9).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow"))

from facebrain.device import resolve_device  # noqa: E402
from facebrain.models.batches import TrainPool, sample_images  # noqa: E402
from facebrain.models.factorvae import permute_dims  # noqa: E402
from facebrain.models.registry import build_model  # noqa: E402

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


def pipeline_rate(kind, hp, images, device, steps):
    torch.manual_seed(0)
    model = build_model({"kind": kind, "latent_dim": 24, **hp}, in_channels=images.shape[3]).to(device).train()
    optimizers = model.configure_optimizers(1e-4)
    pool = TrainPool(ArrayData(images), np.arange(len(images)), device)
    rng = np.random.default_rng(0)
    for i in range(steps + 5):
        if i == 5:
            _sync(device)
            start = time.perf_counter()
        model.training_step(sample_images(pool, BATCH, rng), optimizers)
    _sync(device)
    return steps * BATCH / (time.perf_counter() - start)


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
            start = time.perf_counter()
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
    return steps * BATCH / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--channels", type=int, default=3, choices=(1, 3))
    parser.add_argument("--repeats", type=int, default=2, help="alternate pipeline/baseline runs; the best of each is kept")
    parser.add_argument("--kinds", nargs="*", default=list(KINDS))
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    images = np.random.default_rng(0).integers(0, 256, (2048, 64, 64, args.channels), dtype=np.uint8)
    print(f"device {device}, torch threads {torch.get_num_threads()}, batch {BATCH}, {args.channels} channel(s), {args.steps} steps")
    pipeline_rate("vae", {}, images, device, args.steps)  # warm-up: allocator, caches, clocks
    baseline_rate("vae", {}, images, device, args.steps)
    print(f"{'kind':<11} {'pipeline img/s':>15} {'baseline img/s':>15} {'ratio':>6}")
    for kind in args.kinds:
        ours, base = [], []
        for _ in range(args.repeats):
            ours.append(pipeline_rate(kind, KINDS[kind], images, device, args.steps))
            base.append(baseline_rate(kind, KINDS[kind], images, device, args.steps))
        print(f"{kind:<11} {max(ours):>15.0f} {max(base):>15.0f} {max(ours) / max(base):>6.2f}")


if __name__ == "__main__":
    main()
