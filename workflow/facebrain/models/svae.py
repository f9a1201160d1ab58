"""SVAE (Romeo 2023): beta-VAE plus a pair loss on pairs that differ in one factor.

For a pair (x1, x2) whose factor d differs, with codes z1, z2 (K dims),

    L_pair = -(z1_d - z2_d)^2 + 1/(K-1) sum_{k != d} (z1_k - z2_k)^2,

so the change shows in the *forced* dimension d and nowhere else. Factor c of
the data set (in its ``factor_names`` order) is forced into latent dimension c;
K >= F (Romeo's own setting is K = F, every dimension forced; K > F leaves
K - F free dimensions). The loss is the beta-VAE loss of both images plus
``pair_weight`` times the batch mean of the pair loss.

Two choices, each a hyper-parameter:

``pair_codes``
    ``"mean"`` (default): z1, z2 are the posterior means; ``"sample"``: the
    sampled codes the reconstructions decode, as Romeo's SVAE.
``pair_form``
    ``"divided"`` (default, :func:`pair_loss`): L_pair divided by the pair's
    total squared change ||z1 - z2||^2 (plus :data:`PAIR_EPS`); ``"romeo"``
    (:func:`romeo_pair_loss`): L_pair as written.

Why the project divides: as written, L_pair is unbounded below. The encoder
lowers it without limit by moving the two posterior means apart (to +a and -a
in dimension d: pair term -4 a^2 * pair_weight, KL term beta a^2 / 2), so for
beta < 8 * pair_weight (Romeo's beta 4 and weight 1 included) nothing stops it,
while a weight small enough to keep it bounded is outweighed by the KL. Divided
by the total change it lies in [-1, 1/(K-1)], depends only on *where* the
change goes, not on its size, and is minimal (-1) when all of it is in
dimension d. On the demo dSprites (600 steps, weight 100) the forced dimensions
of scale, posX and posY then carry their factors (README, "Metrics"). Romeo's
setting (K = F, sampled codes, L_pair as written, beta 4, weight 1) is the
config's ``svae_romeo``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from facebrain.models.registry import register_model
from facebrain.models.vae import GaussianVAE

PAIR_EPS = 1e-3
"""Added to ||z1 - z2||^2 before dividing, so identical codes give a finite loss."""

if TYPE_CHECKING:
    from facebrain.models.pairs import PairBatch


PAIR_FORMS = ("divided", "romeo")
"""SVAE's pair losses: divided by the pair's total squared change (the project's), or as Romeo wrote it."""
PAIR_CODES = ("mean", "sample")
"""The codes SVAE's pair loss compares: posterior means, or the sampled codes."""


def _pair_changes(z1: torch.Tensor, z2: torch.Tensor, changed: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Per pair (B,): squared change in the forced dimension, mean squared change over the
    other K - 1 dimensions, and the total squared change."""
    diff2 = (z1 - z2) ** 2
    total = diff2.sum(dim=1)
    forced = diff2.gather(1, changed[:, None]).squeeze(1)
    return forced, (total - forced) / (diff2.shape[1] - 1), total


def romeo_pair_loss(z1: torch.Tensor, z2: torch.Tensor, changed: torch.Tensor) -> torch.Tensor:
    """Romeo's pair loss as written, averaged over the batch: -(dz_d)^2 + 1/(K-1) sum_{k != d} (dz_k)^2.

    Parameters
    ----------
    z1, z2 : (B, K) codes of the two images of each pair (K >= 2).
    changed : long (B,), the forced dimension of the factor that differs.

    Returns
    -------
    scalar tensor, unbounded below (squared code units).
    """
    forced, others, _ = _pair_changes(z1, z2, changed)
    return (others - forced).mean()


def pair_loss(z1: torch.Tensor, z2: torch.Tensor, changed: torch.Tensor) -> torch.Tensor:
    """Romeo's pair loss divided by the pair's total squared change, averaged over the batch.

    Parameters
    ----------
    z1, z2 : (B, K) codes of the two images of each pair (K >= 2).
    changed : long (B,), the forced dimension of the factor that differs.

    Returns
    -------
    scalar tensor in [-1, 1/(K-1)]: -1 when the codes differ in the forced
    dimension only, 1/(K-1) when they differ everywhere but there.
    """
    forced, others, total = _pair_changes(z1, z2, changed)
    return ((others - forced) / (total + PAIR_EPS)).mean()


@register_model("svae")
class SVAE(GaussianVAE):
    """SVAE: beta-VAE on both images of each pair + ``pair_weight`` * the pair loss of
    ``pair_form`` on the codes of ``pair_codes`` (see the module docstring)."""

    def __init__(self, in_channels: int, **hyperparameters):
        super().__init__(in_channels, **hyperparameters)
        if self.pair_form not in PAIR_FORMS:
            raise ValueError(f"svae: pair_form must be one of {PAIR_FORMS}, got {self.pair_form!r}")
        if self.pair_codes not in PAIR_CODES:
            raise ValueError(f"svae: pair_codes must be one of {PAIR_CODES}, got {self.pair_codes!r}")
        if self.latent_dim < 2:
            raise ValueError(f"svae: latent_dim must be at least 2 (the pair loss averages over the K - 1 other dimensions), got {self.latent_dim}")

    def training_step(self, batch: PairBatch, optimizers) -> dict[str, torch.Tensor]:
        n_factors = len(batch.factor_names)
        if n_factors > self.latent_dim:
            raise ValueError(f"svae: latent_dim {self.latent_dim} is smaller than the {n_factors} forced factor dimensions")
        terms = self.forward_terms(torch.cat([batch.x1, batch.x2]))
        z1, z2 = terms["z" if self.pair_codes == "sample" else "mu"].chunk(2)
        pair = (pair_loss if self.pair_form == "divided" else romeo_pair_loss)(z1, z2, batch.changed)
        loss = terms["reconstruction"] + self.beta * terms["kl"] + self.pair_weight * pair
        optimizers["vae"].zero_grad(set_to_none=True)
        loss.backward()
        optimizers["vae"].step()
        return {"reconstruction": terms["reconstruction"].detach(), "kl": terms["kl"].detach(), "pair": pair.detach(), "loss": loss.detach()}
