"""SVAE (Romeo 2023): beta-VAE plus a pair loss on pairs that differ in one factor.

For a pair (x1, x2) whose factor d differs, with posterior means z1, z2 (K dims),

    L_pair = -(z1_d - z2_d)^2 + 1/(K-1) sum_{k != d} (z1_k - z2_k)^2,

so the change shows in the *forced* dimension d and nowhere else. Factor c of
the data set (in its ``factor_names`` order) is forced into latent dimension c;
the remaining K - F dimensions are free. The loss is the beta-VAE loss of both
images plus ``pair_weight`` times the batch mean of L_pair.

L_pair is taken divided by the pair's total squared change ||z1 - z2||^2 (plus
:data:`PAIR_EPS`). As written, L_pair is unbounded below: the encoder lowers it
without limit by moving the two posterior means apart (to +a and -a in dimension
d: pair term -4 a^2 * pair_weight, KL term beta a^2 / 2), so for beta < 8 *
pair_weight (Romeo's beta 4 and weight 1 included) nothing stops it, while a
weight small enough to keep it bounded is outweighed by the KL. Divided by the
total change it lies in [-1, 1/(K-1)], depends only on *where* the change goes,
not on its size, and is minimal (-1) when all of it is in dimension d. On the
demo dSprites (600 steps, weight 100) the forced dimensions of scale, posX and
posY then carry their factors (README, "Metrics").
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


def pair_loss(mu1: torch.Tensor, mu2: torch.Tensor, changed: torch.Tensor) -> torch.Tensor:
    """Romeo's pair loss divided by the pair's total squared change, averaged over the batch.

    Parameters
    ----------
    mu1, mu2 : (B, K) posterior means of the two images of each pair.
    changed : long (B,), the forced dimension of the factor that differs.

    Returns
    -------
    scalar tensor in [-1, 1/(K-1)]: -1 when the codes differ in the forced
    dimension only, 1/(K-1) when they differ everywhere but there.
    """
    diff2 = (mu1 - mu2) ** 2
    total = diff2.sum(dim=1)
    forced = diff2.gather(1, changed[:, None]).squeeze(1)
    others = (total - forced) / (diff2.shape[1] - 1)
    return ((others - forced) / (total + PAIR_EPS)).mean()


@register_model("svae")
class SVAE(GaussianVAE):
    """SVAE: beta-VAE on both images of each pair + ``pair_weight`` * :func:`pair_loss`."""

    def training_step(self, batch: PairBatch, optimizers) -> dict[str, float]:
        n_factors = len(batch.factor_names)
        if n_factors >= self.latent_dim:
            raise ValueError(f"svae: latent_dim {self.latent_dim} must exceed the {n_factors} forced factor dimensions")
        terms = self.forward_terms(torch.cat([batch.x1, batch.x2]))
        mu1, mu2 = terms["mu"].chunk(2)
        pair = pair_loss(mu1, mu2, batch.changed)
        loss = terms["reconstruction"] + self.beta * terms["kl"] + self.pair_weight * pair
        optimizers["vae"].zero_grad(set_to_none=True)
        loss.backward()
        optimizers["vae"].step()
        return {"reconstruction": terms["reconstruction"].item(), "kl": terms["kl"].item(), "pair": pair.item(), "loss": loss.item()}
