"""Linear probes on rotated and colour-biased digits (Hejna et al., Table 1).

Data: scikit-learn's bundled 8x8 handwritten digits (1,797 images, 10
classes), upsampled (bilinear) to 64x64 so that the shared architectures
apply, and given one nuisance factor, ``style`` in [-1, 1]:

- ``rotated``: the digit is rotated by style * 90 degrees (grey, C = 1);
- ``colour``: the digit is coloured with hue (style + 1) / 2 * 5/6 (C = 3); in
  the training split the hue is biased towards the class (with probability
  ``bias`` a class-specific hue plus a little noise, else uniform); in the
  test split it is uniform, so a code that carries colour instead of shape
  misleads the probe.

Models (any registered kind; pair kinds get pairs of the same digit at two
style values) are trained on the training split; a logistic regression on
their frozen content code (``mu``, without the explicit factor dims of
explicit models) is fitted on the training images and its class accuracy
measured on the test images. The R^2 of a linear regression of style from
the same code measures how much nuisance the code keeps.

Differences from Hejna et al. (also in the table's caption): scikit-learn's
8x8 digits instead of MNIST, this module's rotation range (+-90 degrees) and
colour bias (``bias``), the shared 64x64 architectures.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import cross_val_score

from facebrain.device import resolve_device
from facebrain.io import write_table
from facebrain.metrics.utils import normalize
from facebrain.models.pairs import PairBatch
from facebrain.models.registry import build_model
from facebrain.models.training import optimise
from facebrain.seeding import seed_everything

logger = logging.getLogger(__name__)

VARIANTS = ("rotated", "colour")
SIDE = 64
FACTOR = "style"
STYLE_SD = 1.0 / math.sqrt(3.0)
"""Standard deviation of a uniform style in [-1, 1] (styles are standardised by it)."""
CLASS_NOISE = 0.05
"""sd of the noise around the class-specific hue of biased training images."""


def render_digits(base: torch.Tensor, style: torch.Tensor, variant: str) -> torch.Tensor:
    """Render 8x8 digits at a style value.

    Parameters
    ----------
    base : float (n, 1, 8, 8) in [0, 1].
    style : float (n,) in [-1, 1].
    variant : 'rotated' (rotation by style * 90 degrees) or 'colour' (hue (style + 1) / 2 * 5/6).

    Returns
    -------
    float (n, 1 or 3, 64, 64) in [0, 1].
    """
    up = F.interpolate(base, size=(SIDE, SIDE), mode="bilinear", align_corners=False).clamp(0, 1)
    if variant == "rotated":
        angle = style * (math.pi / 2)
        cos, sin, zero = torch.cos(angle), torch.sin(angle), torch.zeros_like(angle)
        theta = torch.stack([torch.stack([cos, -sin, zero], 1), torch.stack([sin, cos, zero], 1)], 1)
        grid = F.affine_grid(theta, list(up.shape), align_corners=False)
        return F.grid_sample(up, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    if variant == "colour":
        hue = (style + 1) / 2 * (5 / 6)
        # HSV -> RGB at full saturation and value
        k = (torch.tensor([5.0, 3.0, 1.0], device=hue.device)[None, :] + hue[:, None] * 6) % 6
        rgb = 1 - torch.clamp(torch.minimum(k, 4 - k), 0, 1)
        return up * rgb[:, :, None, None]
    raise ValueError(f"unknown digits variant '{variant}'; expected one of {VARIANTS}")


class DigitsTask:
    """One variant of the digits data: split, fixed styles, batches and pairs.

    Parameters
    ----------
    variant : 'rotated' or 'colour'.
    random_state : numpy Generator (split, styles).
    bias : probability that a colour training image has its class's hue.
    test_fraction : fraction of digits held out for the probe's test.
    device : torch device of the batches.
    """

    def __init__(self, variant: str, random_state: np.random.Generator, bias: float = 0.9, test_fraction: float = 0.3, device: torch.device | str = "cpu"):

        if variant not in VARIANTS:
            raise ValueError(f"unknown digits variant '{variant}'; expected one of {VARIANTS}")
        digits = load_digits()
        self.variant = variant
        self.device = torch.device(device)
        self.base = torch.from_numpy(digits.images.astype(np.float32) / 16.0)[:, None]
        self.labels = digits.target.astype(np.int64)
        n = len(self.labels)
        order = random_state.permutation(n)
        n_test = int(round(test_fraction * n))
        self.test, self.train = np.sort(order[:n_test]), np.sort(order[n_test:])
        style = random_state.uniform(-1.0, 1.0, size=n)
        if variant == "colour":
            class_style = np.linspace(-1.0, 1.0, 10)[self.labels] + CLASS_NOISE * random_state.standard_normal(n)
            biased = np.zeros(n, bool)
            biased[self.train] = random_state.random(len(self.train)) < bias
            style = np.where(biased, np.clip(class_style, -1.0, 1.0), style)
        self.style = style.astype(np.float32)
        self.channels = 1 if variant == "rotated" else 3

    def images(self, rows: np.ndarray, style: np.ndarray | None = None) -> torch.Tensor:
        """Digits ``rows`` rendered at their own (or the given) styles: (n, C, 64, 64) on the device."""
        style = self.style[rows] if style is None else style
        return render_digits(self.base[rows], torch.from_numpy(np.asarray(style, np.float32)), self.variant).to(self.device)

    def batch(self, batch_size: int, random_state: np.random.Generator) -> torch.Tensor:
        """A batch of training images (the ``images`` batch kind)."""
        return self.images(random_state.choice(self.train, size=batch_size))

    def two_batches(self, batch_size: int, random_state: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """Two independent batches (the ``two_image_batches`` kind: FactorVAE as Kim & Mnih's Algorithm 2)."""
        return self.batch(batch_size, random_state), self.batch(batch_size, random_state)

    def pairs(self, batch_size: int, random_state: np.random.Generator) -> PairBatch:
        """Pairs of the same training digit at its own style and at a uniformly drawn one."""
        rows = random_state.choice(self.train, size=batch_size)
        style2 = random_state.uniform(-1.0, 1.0, size=batch_size).astype(np.float32)
        y1 = torch.from_numpy(self.style[rows][:, None] / STYLE_SD).to(self.device)
        y2 = torch.from_numpy(style2[:, None] / STYLE_SD).to(self.device)
        changed = torch.zeros(batch_size, dtype=torch.long, device=self.device)
        return PairBatch(self.images(rows), self.images(rows, style2), y1, y2, changed, (FACTOR,))


def train_on_digits(model, task: DigitsTask, steps: int, batch_size: int, lr: float, random_state: np.random.Generator) -> list[dict[str, float]]:
    """Train a registered model kind on a digits task through :func:`facebrain.models.training.optimise`; return its losses per step."""
    draws = {"images": task.batch, "pairs": task.pairs, "two_image_batches": task.two_batches}
    if model.batch_kind not in draws:
        raise ValueError(f"digits: model kind '{model.kind}' trains on '{model.batch_kind}' batches; the digits give {sorted(draws)}")
    draw = draws[model.batch_kind]
    return optimise(model, draw, {"steps": steps, "batch_size": batch_size, "lr": lr, "log_every": 1}, random_state)


@torch.no_grad()
def content_code(model, images: torch.Tensor, batch_size: int = 256) -> np.ndarray:
    """The posterior means of ``images`` without the explicit factor dims: float64 (n, K_content)."""
    k = getattr(model, "content_dim", model.latent_dim)
    return np.concatenate([model.encode(images[i : i + batch_size])[0][:, :k].cpu().numpy() for i in range(0, len(images), batch_size)]).astype(np.float64)


def probe_scores(train_codes: np.ndarray, train_labels: np.ndarray, test_codes: np.ndarray, test_labels: np.ndarray, test_style: np.ndarray) -> dict[str, float]:
    """Class accuracy of a logistic-regression probe and the style R^2 of a linear regression, on the test codes."""
    train_codes, test_codes = normalize(train_codes, test_codes)
    probe = LogisticRegression(max_iter=5000).fit(train_codes, train_labels)
    style_r2 = cross_val_score(LinearRegression(), test_codes, test_style, cv=5, scoring="r2").mean()
    return {"accuracy": float(probe.score(test_codes, test_labels)), "style_r2": float(max(style_r2, 0.0))}


def linear_probe_table(models: Mapping[str, Mapping[str, Any]], out: str | Path, seed: int, variants: Sequence[str] = VARIANTS, steps: int = 300,
                       batch_size: int = 64, lr: float = 1e-3, bias: float = 0.9, device: str = "auto") -> None:
    """Train every model on every digits variant and write the linear-probe table.

    Parameters
    ----------
    models : row label -> model spec (``kind`` and hyper-parameters; explicit
        kinds name the factor ``style``).
    out : CSV with columns ``variant, model, kind, accuracy`` (test class
        accuracy of the probe, chance 0.1), ``style_r2`` and ``final_loss``.
    seed : seeds the data, the training and the probes.
    variants : digits variants ('rotated', 'colour').
    steps, batch_size, lr : training of each model.
    bias : colour variant: probability of the class hue in training.
    device : torch device name ('auto', 'cpu', 'cuda', ...).
    """
    dev = resolve_device(device)
    rows = []
    for v, variant in enumerate(variants):
        task = DigitsTask(variant, np.random.default_rng([seed, v]), bias=bias, device=dev)
        for m, (label, spec) in enumerate(models.items()):
            rng = seed_everything(int(np.random.SeedSequence([seed, v, m]).generate_state(1)[0]))
            model = build_model(spec, in_channels=task.channels, name=label).to(dev)
            logs = train_on_digits(model, task, steps, batch_size, lr, rng)
            scores = probe_scores(content_code(model, task.images(task.train)), task.labels[task.train],
                                  content_code(model, task.images(task.test)), task.labels[task.test], task.style[task.test])
            rows.append({"variant": variant, "model": label, "kind": model.kind, **scores, "final_loss": logs[-1]["loss"]})
            logger.info("digits %s %s: %s", variant, label, scores)
    write_table(out, pd.DataFrame(rows))
