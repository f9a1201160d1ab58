"""Gaussian VAEs with a Bernoulli likelihood on pixel logits: the shared base,
the VAE and the beta-VAE.

Loss (per image, averaged over the batch, in nats): the Bernoulli negative
log-likelihood of the pixels given decoder logits (summed over pixels and
channels, as disentanglement_lib does for dSprites and faces alike), plus the
KL divergence of the diagonal Gaussian posterior from N(0, I) (summed over
latents), plus a kind-specific regulariser (:meth:`GaussianVAE.objective`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import torch
import torch.nn.functional as F

from facebrain.models.architectures import Decoder, Encoder
from facebrain.models.registry import LatentModel, register_model, run_phases

EVAL_SAMPLE_SEED = 0
"""Seed of the posterior samples used by :meth:`GaussianVAE.evaluate` (TC estimate)."""


def gaussian_log_density(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """Elementwise log N(z; mu, exp(logvar)) (broadcasting), in nats."""
    return -0.5 * (math.log(2 * math.pi) + logvar + (z - mu) ** 2 * torch.exp(-logvar))


def total_correlation(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """Minibatch-weighted-sampling estimate of the total correlation of q(z) (nats).

    As disentanglement_lib's beta-TCVAE, with the batch as the empirical
    distribution of x: log q(z_i) ~ logsumexp_j log q(z_i|x_j) - log B and
    log prod_k q(z_ik) ~ sum_k [logsumexp_j log q(z_ik|x_j) - log B]. (The
    constant (K - 1) log B, which disentanglement_lib omits, does not change
    gradients; with it, independent codes give an estimate near 0.)

    Parameters
    ----------
    z, mu, logvar : (B, K) samples and posterior parameters.

    Returns
    -------
    scalar tensor: mean over the batch of log q(z) - sum_k log q(z_k).
    """
    log_qz_prob = gaussian_log_density(z[:, None, :], mu[None, :, :], logvar[None, :, :])  # (B, B, K)
    log_qz_product = torch.logsumexp(log_qz_prob, dim=1).sum(dim=1)
    log_qz = torch.logsumexp(log_qz_prob.sum(dim=2), dim=1)
    batch, dims = z.shape
    return (log_qz - log_qz_product).mean() + (dims - 1) * math.log(batch)


def gaussian_total_correlation(means: np.ndarray) -> float:
    """Total correlation of a Gaussian fitted to codes: -1/2 log det of their correlation matrix (nats).

    A dependence measure of the aggregate posterior means (n, K): 0 for uncorrelated
    dimensions whatever the posterior width (unlike :func:`total_correlation`, which grows as
    the posteriors sharpen, even on independent codes); for a Gaussian with correlation
    matrix R it is the exact total correlation. Constant dimensions are left out (they
    carry no dependence).
    """
    means = np.asarray(means, dtype=np.float64)
    live = means.std(axis=0) > 1e-12
    if live.sum() < 2:
        return 0.0
    _, logdet = np.linalg.slogdet(np.corrcoef(means[:, live], rowvar=False))
    return float(-0.5 * logdet)


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, exp(logvar)) || N(0, 1)) per element, (B, K), in nats."""
    return 0.5 * (mu**2 + torch.exp(logvar) - logvar - 1.0)


class GaussianVAE(LatentModel):
    """Shared base of the VAE family: encoder, decoder, reparameterisation, losses.

    Subclasses override :meth:`objective` (and, if they need more optimisers,
    :meth:`configure_optimizers` and :meth:`training_step`).
    """

    def __init__(self, in_channels: int, **hyperparameters):
        super().__init__(in_channels, **hyperparameters)
        self.encoder = Encoder(in_channels, self.latent_dim, self.architecture)
        self.decoder = Decoder(in_channels, self.latent_dim, self.architecture)

    def encode(self, x: torch.Tensor, ids=None) -> tuple[torch.Tensor, torch.Tensor]:
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.decoder(z))

    def draw_noise(self, batch: torch.Tensor, generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        """The step's random draws: ``eps`` (B, K) standard normal, the reparameterisation's noise.

        Drawn from ``generator`` (None: torch's global generator) before the step, so the step
        itself is a pure function of (parameters, batch, noise): what a stacked ensemble
        (:mod:`facebrain.models.ensemble`) vmaps and ``torch.compile`` traces. A single run
        draws exactly what ``torch.randn_like(mu)`` drew inside the step.
        """
        return {"eps": torch.randn((batch.shape[0], self.latent_dim), generator=generator, device=batch.device, dtype=batch.dtype)}

    def forward_terms(self, x: torch.Tensor, eps: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """Encode, sample z (with noise ``eps`` (B, K); None: drawn here), decode; return mu, logvar,
        z, logits and the per-batch ``reconstruction`` (Bernoulli NLL summed over pixels) and ``kl``
        (summed over latents)."""
        mu, logvar = self.encoder(x)
        z = mu + torch.exp(0.5 * logvar) * (torch.randn_like(mu) if eps is None else eps)
        logits = self.decoder(z)
        reconstruction = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / x.shape[0]
        kl = gaussian_kl(mu, logvar).sum(dim=1).mean()
        return {"mu": mu, "logvar": logvar, "z": z, "logits": logits, "reconstruction": reconstruction, "kl": kl}

    def objective(self, terms: Mapping[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The loss to minimise and the values to log (0-d tensors, read by the loop only when it logs);
        the plain VAE's ELBO here."""
        loss = terms["reconstruction"] + terms["kl"]
        return loss, {"reconstruction": terms["reconstruction"].detach(), "kl": terms["kl"].detach(), "loss": loss.detach()}

    def vae_parameters(self):
        """Parameters of the encoder and decoder (the VAE optimiser's)."""
        return list(self.encoder.parameters()) + list(self.decoder.parameters())

    def configure_optimizers(self, lr: float) -> dict[str, torch.optim.Optimizer]:
        return {"vae": torch.optim.Adam(self.vae_parameters(), lr=lr)}

    phases = (("vae", "vae_losses"),)
    """The step's phases in order: (optimiser, method); each method is a pure function
    ``(batch, noise, carry) -> (loss, logs, carry)`` whose loss its optimiser minimises
    (:func:`facebrain.models.registry.run_phases`)."""

    def vae_losses(self, batch: torch.Tensor, noise, carry):
        """The VAE phase: :meth:`objective` of :meth:`forward_terms` with the drawn noise."""
        loss, logs = self.objective(self.forward_terms(batch, noise["eps"]))
        return loss, logs, carry

    def training_step(self, batch: torch.Tensor, optimizers) -> dict[str, torch.Tensor]:
        return run_phases(self, batch, self.draw_noise(batch), optimizers)

    @torch.no_grad()
    def evaluate(self, x: torch.Tensor, ids=None) -> dict[str, float]:
        """Test losses of a batch (nats per image): ``reconstruction`` (decoding the
        posterior mean), ``kl`` and ``tc`` (minibatch-weighted sampling on the batch)."""
        mu, logvar = self.encoder(x)
        reconstruction = F.binary_cross_entropy_with_logits(self.decoder(mu), x, reduction="sum") / x.shape[0]
        generator = torch.Generator(device=x.device).manual_seed(EVAL_SAMPLE_SEED)
        z = mu + torch.exp(0.5 * logvar) * torch.randn(mu.shape, generator=generator, device=x.device)
        return {
            "reconstruction": reconstruction.item(),
            "kl": gaussian_kl(mu, logvar).sum(dim=1).mean().item(),
            "tc": total_correlation(z, mu, logvar).item(),
        }


@register_model("vae")
class VAE(GaussianVAE):
    """The VAE (Kingma & Welling 2014): reconstruction + KL."""


@register_model("betavae")
class BetaVAE(GaussianVAE):
    """beta-VAE (Higgins et al. 2017): reconstruction + beta * KL."""

    def objective(self, terms):
        loss = terms["reconstruction"] + self.beta * terms["kl"]
        return loss, {"reconstruction": terms["reconstruction"].detach(), "kl": terms["kl"].detach(), "loss": loss.detach()}
