"""Explicit disentanglement of known factors (Hejna et al.).

The latent code is split into a content part z (``latent_dim`` dims, Gaussian
posterior) and explicit factor dims y (one per factor named in ``factors``).
The encoder predicts y (``y_hat``, supervised by the true standardised factor
values, weight ``supervision``); the decoder reconstructs x from [z, y_hat]:
it sees the encoder's factor dims, never the true factor values. On pairs
(x, x') that differ in one factor, each term on only when its weight is
non-zero:

- similarity: ``similarity`` * KL(q(z|x) || q(z|x')), so z ignores the factor;
- forward cycle (Hejna's Eq. 2, a swap reconstruction): decode [z, y_hat'],
  x's content with the factor dims of x', and ask for x' (Bernoulli NLL,
  weight ``cycle``): z must hold what x and x' share and y what differs;
- adversary: a predictor g(z) of the factors, each quantised into
  ``adversary_bins`` classes (:func:`quantise_factors`), is trained to
  minimise its cross-entropy; the encoder minimises ``adversary`` times the
  cross-entropy of g(z) against the uniform distribution over the classes
  (bounded below by log(bins) per factor, reached when z tells g nothing).

The predictor g is trained in every configuration (its cross-entropy is logged
as ``adversary``: how much factor information z holds); only ``adversary > 0``
lets it act on the encoder.

``encode`` returns [mu_z, y_hat] (log-variance -inf for y_hat), so the
latents of an explicit model have ``latent_dim + len(factors)`` dims, the
factor dims last; ``decode`` takes the same layout.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import nn

from facebrain.models.grouped import dimension_kl
from facebrain.models.registry import DETERMINISTIC_LOGVAR, register_model
from facebrain.models.vae import GaussianVAE, gaussian_kl

if TYPE_CHECKING:
    from facebrain.models.pairs import PairBatch

ADVERSARY_HIDDEN = 256
"""Hidden units of the adversarial factor predictor g(z)."""
FACTOR_RANGE = math.sqrt(3.0)
"""Standardised factors are quantised over [-FACTOR_RANGE, FACTOR_RANGE]: the range of a
standardised uniform factor (values beyond it fall into the end classes)."""


def quantise_factors(y: torch.Tensor, bins: int) -> torch.Tensor:
    """Class labels of standardised factor values: ``bins`` equal-width classes over
    [-sqrt(3), sqrt(3)] (equally frequent for a uniform factor).

    Parameters
    ----------
    y : float (B, F) standardised factor values.
    bins : number of classes per factor.

    Returns
    -------
    long (B, F) in [0, bins).
    """
    edges = torch.linspace(-FACTOR_RANGE, FACTOR_RANGE, bins + 1, device=y.device)[1:-1]
    return torch.bucketize(y.contiguous(), edges)


@register_model("explicit")
class ExplicitVAE(GaussianVAE):
    """VAE with explicit factor dims, similarity, forward-cycle and adversarial losses (see module docstring)."""

    def __init__(self, in_channels: int, **hyperparameters):
        names = [n.strip() for n in str(hyperparameters.get("factors", "")).split(",") if n.strip()]
        if not names:
            raise ValueError("explicit: 'factors' must name at least one factor (comma-separated)")
        content_dim = int(hyperparameters.get("latent_dim", self.hyperparameters["latent_dim"]))
        # K (self.latent_dim, what encode returns) is the content code plus one dimension per factor
        super().__init__(in_channels, **{**hyperparameters, "factors": ",".join(names), "latent_dim": content_dim + len(names)})
        if self.adversary_bins < 2:
            raise ValueError(f"explicit: adversary_bins must be at least 2, got {self.adversary_bins}")
        self.content_dim = content_dim
        self.n_factors = len(names)
        self.predictor = nn.Sequential(nn.Linear(content_dim, ADVERSARY_HIDDEN), nn.ReLU(),
                                       nn.Linear(ADVERSARY_HIDDEN, len(names) * self.adversary_bins))

    def init_config(self) -> dict:
        """The spec's ``latent_dim`` is the content code's width (K minus the factors)."""
        return {**super().init_config(), "latent_dim": self.content_dim}

    def _split(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(mu_z, logvar_z, y_hat) of images x."""
        mu, logvar = self.encoder(x)
        k = self.content_dim
        return mu[:, :k], logvar[:, :k], mu[:, k:]

    def encode(self, x: torch.Tensor, ids=None) -> tuple[torch.Tensor, torch.Tensor]:
        mu_z, logvar_z, y_hat = self._split(x)
        return torch.cat([mu_z, y_hat], dim=1), torch.cat([logvar_z, torch.full_like(y_hat, DETERMINISTIC_LOGVAR)], dim=1)

    def configure_optimizers(self, lr: float) -> dict[str, torch.optim.Optimizer]:
        return {"vae": torch.optim.Adam(self.vae_parameters(), lr=lr), "adversary": torch.optim.Adam(self.predictor.parameters(), lr=lr)}

    def predictor_logits(self, z: torch.Tensor) -> torch.Tensor:
        """The adversary g's logits of each factor's class: (B, F, adversary_bins)."""
        return self.predictor(z).view(z.shape[0], self.n_factors, self.adversary_bins)

    def _bernoulli_nll(self, code: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Bernoulli NLL of ``target`` images under the decoder at ``code`` (summed over pixels, mean over the batch)."""
        return F.binary_cross_entropy_with_logits(self.decoder(code), target, reduction="sum") / target.shape[0]

    def training_step(self, batch: PairBatch, optimizers) -> dict[str, torch.Tensor]:
        columns = batch.factor_columns(self.factors)
        y1 = batch.y1[:, columns]
        mu_z, logvar_z, y_hat = self._split(batch.x1)
        z = mu_z + torch.exp(0.5 * logvar_z) * torch.randn_like(mu_z)
        reconstruction = self._bernoulli_nll(torch.cat([z, y_hat], dim=1), batch.x1)
        kl = gaussian_kl(mu_z, logvar_z).sum(dim=1).mean()
        supervised = ((y_hat - y1) ** 2).sum(dim=1).mean()
        loss = reconstruction + self.beta * kl + self.supervision * supervised
        logs = {"reconstruction": reconstruction.detach(), "kl": kl.detach(), "factor_mse": supervised.detach()}
        if self.similarity or self.cycle:
            mu_z2, logvar_z2, y_hat2 = self._split(batch.x2)
        if self.similarity:
            similarity = dimension_kl(mu_z, logvar_z, mu_z2, logvar_z2).sum(dim=1).mean()
            loss = loss + self.similarity * similarity
            logs["similarity"] = similarity.detach()
        if self.cycle:
            swap = self._bernoulli_nll(torch.cat([z, y_hat2], dim=1), batch.x2)  # Hejna Eq. 2: x' from (z, y')
            loss = loss + self.cycle * swap
            logs["cycle"] = swap.detach()
        labels = quantise_factors(y1, self.adversary_bins)
        if self.adversary:
            confusion = -F.log_softmax(self.predictor_logits(z), dim=2).mean(dim=2).sum(dim=1).mean()
            loss = loss + self.adversary * confusion
            logs["adversary_encoder"] = confusion.detach()
        optimizers["vae"].zero_grad(set_to_none=True)
        loss.backward()
        optimizers["vae"].step()
        logits = self.predictor_logits(z.detach())
        predictor_loss = F.cross_entropy(logits.reshape(-1, self.adversary_bins), labels.reshape(-1)) * self.n_factors
        optimizers["adversary"].zero_grad(set_to_none=True)
        predictor_loss.backward()
        optimizers["adversary"].step()
        return {**logs, "adversary": predictor_loss.detach(), "loss": loss.detach()}

    @torch.no_grad()
    def evaluate(self, x: torch.Tensor, ids=None) -> dict[str, float]:
        """Test losses (nats per image): ``reconstruction`` decoding [mu_z, y_hat], ``kl`` of z."""
        mu, _ = self.encode(x)
        mu_z, logvar_z, _ = self._split(x)
        reconstruction = F.binary_cross_entropy_with_logits(self.decoder(mu), x, reduction="sum") / x.shape[0]
        return {"reconstruction": reconstruction.item(), "kl": gaussian_kl(mu_z, logvar_z).sum(dim=1).mean().item()}
