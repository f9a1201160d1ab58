"""Explicit disentanglement of known factors (Hejna et al.).

The latent code is split into a content part z (``latent_dim`` dims, Gaussian
posterior) and explicit factor dims y (one per factor named in ``factors``).
The encoder predicts y (``y_hat``, supervised by the true standardised factor
values); the decoder reconstructs x from [z, y]. On pairs (x, x') that differ
in one factor:

- similarity: ``similarity`` * KL(q(z|x) || q(z|x')), so z ignores the factor;
- forward cycle: decode [z, y'] (x's content with x' factor values), encode the
  result, and ask for z back and y' predicted: ``cycle`` * (||mu_z - z||^2 + ||y_hat - y'||^2);
- adversary: a predictor g(z) of y is trained to minimise its squared error
  while the encoder maximises it (``adversary`` * its error is subtracted
  from the encoder's loss): min-max.

``encode`` returns [mu_z, y_hat] (log-variance -inf for y_hat), so the
latents of an explicit model have ``latent_dim + len(factors)`` dims, the
factor dims last; ``decode`` takes the same layout.
"""

from __future__ import annotations

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
        self.content_dim = content_dim
        self.predictor = nn.Sequential(nn.Linear(content_dim, ADVERSARY_HIDDEN), nn.ReLU(), nn.Linear(ADVERSARY_HIDDEN, len(names)))

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

    def training_step(self, batch: PairBatch, optimizers) -> dict[str, float]:
        columns = batch.factor_columns(self.factors)
        y1, y2 = batch.y1[:, columns], batch.y2[:, columns]
        mu_z, logvar_z, y_hat = self._split(batch.x1)
        z = mu_z + torch.exp(0.5 * logvar_z) * torch.randn_like(mu_z)
        reconstruction = F.binary_cross_entropy_with_logits(self.decoder(torch.cat([z, y1], dim=1)), batch.x1, reduction="sum") / batch.x1.shape[0]
        kl = gaussian_kl(mu_z, logvar_z).sum(dim=1).mean()
        supervised = ((y_hat - y1) ** 2).sum(dim=1).mean()
        loss = reconstruction + self.beta * kl + self.supervision * supervised
        logs = {"reconstruction": reconstruction.item(), "kl": kl.item(), "factor_mse": supervised.item()}
        if self.similarity:
            mu_z2, logvar_z2, _ = self._split(batch.x2)
            similarity = dimension_kl(mu_z, logvar_z, mu_z2, logvar_z2).sum(dim=1).mean()
            loss = loss + self.similarity * similarity
            logs["similarity"] = similarity.item()
        if self.cycle:
            crossed = torch.sigmoid(self.decoder(torch.cat([z, y2], dim=1)))
            mu_c, _, y_c = self._split(crossed)
            cycle = ((mu_c - z) ** 2).sum(dim=1).mean() + ((y_c - y2) ** 2).sum(dim=1).mean()
            loss = loss + self.cycle * cycle
            logs["cycle"] = cycle.item()
        if self.adversary:
            adversarial = ((self.predictor(z) - y1) ** 2).sum(dim=1).mean()
            loss = loss - self.adversary * adversarial
            logs["adversary_encoder"] = adversarial.item()
        optimizers["vae"].zero_grad(set_to_none=True)
        loss.backward()
        optimizers["vae"].step()
        predictor_loss = ((self.predictor(z.detach()) - y1) ** 2).sum(dim=1).mean()
        optimizers["adversary"].zero_grad(set_to_none=True)
        predictor_loss.backward()
        optimizers["adversary"].step()
        return {**logs, "adversary": predictor_loss.item(), "loss": loss.item()}

    @torch.no_grad()
    def evaluate(self, x: torch.Tensor, ids=None) -> dict[str, float]:
        """Test losses (nats per image): ``reconstruction`` decoding [mu_z, y_hat], ``kl`` of z."""
        mu, _ = self.encode(x)
        mu_z, logvar_z, _ = self._split(x)
        reconstruction = F.binary_cross_entropy_with_logits(self.decoder(mu), x, reduction="sum") / x.shape[0]
        return {"reconstruction": reconstruction.item(), "kl": gaussian_kl(mu_z, logvar_z).sum(dim=1).mean().item()}
