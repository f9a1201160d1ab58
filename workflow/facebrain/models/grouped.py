"""Group-based weakly supervised VAEs: GVAE (Hosoya 2019) and ML-VAE (Bouchacourt et al. 2018).

Each training pair (x1, x2) shares all factors but one. The posteriors of
the *shared* latent dimensions are replaced by one group posterior, used by
both images: GVAE averages the Gaussian parameters (mean of means, mean of
variances); ML-VAE multiplies the two Gaussians (precision-weighted mean). Its
group variance is by default disentanglement_lib's 2 v1 v2 / (v1 + v2) (the
harmonic mean, twice the product's variance; Romeo's ML-VAE numbers come from
it); ``group_variance: product`` gives the exact product's 1 / (1/v1 + 1/v2). Which
dimensions are shared follows Locatello et al. (2020): with the per-dimension
KL delta_k = KL(q(z_k|x1) || q(z_k|x2)), the adaptive variants share the
dimensions with delta_k below tau = (max_k delta_k + min_k delta_k) / 2; the
non-adaptive ones share all but the ``num_changed`` dimensions of largest
delta_k. Loss: reconstructions of both images + beta * both KLs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

from facebrain.models.registry import register_model
from facebrain.models.vae import GaussianVAE, gaussian_kl

if TYPE_CHECKING:
    from facebrain.models.pairs import PairBatch


def dimension_kl(mu1: torch.Tensor, logvar1: torch.Tensor, mu2: torch.Tensor, logvar2: torch.Tensor) -> torch.Tensor:
    """KL(N(mu1, exp(logvar1)) || N(mu2, exp(logvar2))) per dimension, (B, K), in nats."""
    return 0.5 * (torch.exp(logvar1 - logvar2) + (mu2 - mu1) ** 2 * torch.exp(-logvar2) - 1.0 + logvar2 - logvar1)


def shared_dimensions(delta: torch.Tensor, adaptive: bool, num_changed: int) -> torch.Tensor:
    """Boolean (B, K): which latent dimensions each pair shares, from the per-dimension KL ``delta`` (B, K)."""
    if adaptive:
        tau = 0.5 * (delta.max(dim=1, keepdim=True).values + delta.min(dim=1, keepdim=True).values)
        return delta < tau
    top = delta.topk(num_changed, dim=1).indices
    return ~torch.zeros_like(delta, dtype=torch.bool).scatter_(1, top, True)


class GroupVAE(GaussianVAE):
    """Shared training of GVAE and ML-VAE; subclasses define :meth:`aggregate`."""

    def __init__(self, in_channels: int, **hyperparameters):
        super().__init__(in_channels, **hyperparameters)
        if not 1 <= self.num_changed < self.latent_dim:
            raise ValueError(f"num_changed must be in [1, latent_dim), got {self.num_changed}")

    @staticmethod
    def aggregate(mu1, logvar1, mu2, logvar2) -> tuple[torch.Tensor, torch.Tensor]:
        """The group posterior (mu, logvar), each (B, K), of two Gaussian posteriors."""
        raise NotImplementedError

    def training_step(self, batch: PairBatch, optimizers) -> dict[str, torch.Tensor]:
        mu1, logvar1 = self.encoder(batch.x1)
        mu2, logvar2 = self.encoder(batch.x2)
        shared = shared_dimensions(dimension_kl(mu1, logvar1, mu2, logvar2).detach(), self.adaptive, self.num_changed)
        mu_g, logvar_g = self.aggregate(mu1, logvar1, mu2, logvar2)
        reconstruction = kl = 0.0
        for x, mu, logvar in ((batch.x1, mu1, logvar1), (batch.x2, mu2, logvar2)):
            mu = torch.where(shared, mu_g, mu)
            logvar = torch.where(shared, logvar_g, logvar)
            z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
            reconstruction = reconstruction + F.binary_cross_entropy_with_logits(self.decoder(z), x, reduction="sum") / (2 * x.shape[0])
            kl = kl + gaussian_kl(mu, logvar).sum(dim=1).mean() / 2
        loss = reconstruction + self.beta * kl
        optimizers["vae"].zero_grad(set_to_none=True)
        loss.backward()
        optimizers["vae"].step()
        return {"reconstruction": reconstruction.detach(), "kl": kl.detach(), "shared_dims": shared.float().sum(dim=1).mean(), "loss": loss.detach()}


@register_model("gvae")
class GVAE(GroupVAE):
    """GVAE: the group posterior averages the two posteriors' means and variances."""

    @staticmethod
    def aggregate(mu1, logvar1, mu2, logvar2):
        return 0.5 * (mu1 + mu2), torch.log(0.5 * (torch.exp(logvar1) + torch.exp(logvar2)))


GROUP_VARIANCES = ("dlib", "product")
"""ML-VAE group variances: disentanglement_lib's 2 v1 v2 / (v1 + v2), or the exact product's v1 v2 / (v1 + v2)."""


def mlvae_group_posterior(mu1, logvar1, mu2, logvar2, group_variance: str = "dlib") -> tuple[torch.Tensor, torch.Tensor]:
    """ML-VAE's group posterior (mu, logvar), each (B, K), of two Gaussian posteriors.

    The mean is the product's precision-weighted mean (mu1/v1 + mu2/v2) / (1/v1 + 1/v2) in both
    forms; the variance is 2 v1 v2 / (v1 + v2) for ``'dlib'`` (disentanglement_lib's
    ``MLVae``) or 1 / (1/v1 + 1/v2) for ``'product'`` (the normalised product of the Gaussians).
    """
    if group_variance not in GROUP_VARIANCES:
        raise ValueError(f"group_variance must be one of {GROUP_VARIANCES}, got {group_variance!r}")
    precision1, precision2 = torch.exp(-logvar1), torch.exp(-logvar2)
    product_var = 1.0 / (precision1 + precision2)
    mean = product_var * (mu1 * precision1 + mu2 * precision2)
    return mean, torch.log(2.0 * product_var if group_variance == "dlib" else product_var)


@register_model("mlvae")
class MLVAE(GroupVAE):
    """ML-VAE: the group posterior is the product of the two Gaussians (:func:`mlvae_group_posterior`)."""

    def __init__(self, in_channels: int, **hyperparameters):
        super().__init__(in_channels, **hyperparameters)
        if self.group_variance not in GROUP_VARIANCES:
            raise ValueError(f"group_variance must be one of {GROUP_VARIANCES}, got {self.group_variance!r}")

    def aggregate(self, mu1, logvar1, mu2, logvar2):
        return mlvae_group_posterior(mu1, logvar1, mu2, logvar2, self.group_variance)
