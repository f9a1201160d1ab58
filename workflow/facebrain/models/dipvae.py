"""DIP-VAE-I and -II (Kumar et al. 2018): the VAE loss plus a penalty that pushes the
covariance of the aggregate posterior towards the identity."""

from __future__ import annotations

import torch

from facebrain.models.registry import register_model
from facebrain.models.vae import GaussianVAE


def covariance(x: torch.Tensor) -> torch.Tensor:
    """Covariance (K, K) of the rows of x (B, K), normalised by B."""
    centred = x - x.mean(dim=0, keepdim=True)
    return centred.T @ centred / x.shape[0]


class _DIPVAE(GaussianVAE):
    """Shared DIP-VAE: ``lambda_od * sum(offdiag(C)^2) + lambda_d * sum((diag(C) - 1)^2)``."""

    def regularised_covariance(self, terms) -> torch.Tensor:
        """The covariance the penalty acts on (K, K)."""
        raise NotImplementedError

    def objective(self, terms):
        cov = self.regularised_covariance(terms)
        diag = torch.diagonal(cov)
        off = cov - torch.diag(diag)
        dip = self.lambda_od * (off**2).sum() + self.lambda_d * ((diag - 1.0) ** 2).sum()
        loss = terms["reconstruction"] + terms["kl"] + dip
        return loss, {"reconstruction": terms["reconstruction"].detach(), "kl": terms["kl"].detach(), "dip": dip.detach(), "loss": loss.detach()}


@register_model("dipvae_i")
class DIPVAEI(_DIPVAE):
    """DIP-VAE-I: penalises Cov[mu(x)]."""

    def regularised_covariance(self, terms):
        return covariance(terms["mu"])


@register_model("dipvae_ii")
class DIPVAEII(_DIPVAE):
    """DIP-VAE-II: penalises Cov[z] = Cov[mu(x)] + E[diag(exp(logvar))]."""


    def regularised_covariance(self, terms):
        return covariance(terms["mu"]) + torch.diag(torch.exp(terms["logvar"]).mean(dim=0))
