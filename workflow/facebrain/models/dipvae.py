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

    hyperparameters = {**GaussianVAE.hyperparameters, "lambda_od": 10.0, "lambda_d": 100.0}

    def __init__(self, in_channels: int, latent_dim: int = 10, architecture: str = "a1", lambda_od: float = 10.0, lambda_d: float = 100.0):
        super().__init__(in_channels, latent_dim, architecture)
        self.lambda_od = float(lambda_od)
        self.lambda_d = float(lambda_d)

    def init_config(self) -> dict:
        return {**super().init_config(), "lambda_od": self.lambda_od, "lambda_d": self.lambda_d}

    def regularised_covariance(self, terms) -> torch.Tensor:
        """The covariance the penalty acts on (K, K)."""
        raise NotImplementedError

    def objective(self, terms):
        cov = self.regularised_covariance(terms)
        diag = torch.diagonal(cov)
        off = cov - torch.diag(diag)
        dip = self.lambda_od * (off**2).sum() + self.lambda_d * ((diag - 1.0) ** 2).sum()
        loss = terms["reconstruction"] + terms["kl"] + dip
        return loss, {"reconstruction": terms["reconstruction"].item(), "kl": terms["kl"].item(), "dip": dip.item(), "loss": loss.item()}


@register_model("dipvae_i")
class DIPVAEI(_DIPVAE):
    """DIP-VAE-I: penalises Cov[mu(x)]."""

    def regularised_covariance(self, terms):
        return covariance(terms["mu"])


@register_model("dipvae_ii")
class DIPVAEII(_DIPVAE):
    """DIP-VAE-II: penalises Cov[z] = Cov[mu(x)] + E[diag(exp(logvar))]."""

    hyperparameters = {**GaussianVAE.hyperparameters, "lambda_od": 10.0, "lambda_d": 10.0}

    def regularised_covariance(self, terms):
        return covariance(terms["mu"]) + torch.diag(torch.exp(terms["logvar"]).mean(dim=0))
