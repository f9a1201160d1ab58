"""FactorVAE (Kim & Mnih 2018): the VAE loss plus gamma times a total-correlation
estimate from a discriminator that tells q(z) from the product of its marginals.

Where the discriminator's samples of the product of marginals come from
(hyper-parameter ``discriminator_batch``):

``"same"`` (default)
    disentanglement_lib's ``FactorVAE``: the VAE step's own codes, each
    dimension permuted across the batch. Soulos & Isik trained with
    disentanglement_lib, so the presets use this form.
``"independent"``
    Kim & Mnih's Algorithm 2: after the VAE step, a second, independently drawn
    batch is encoded and *its* codes are permuted; the discriminator tells the
    VAE step's codes from those. Training then draws two batches per step
    (batch kind ``"two_image_batches"``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from facebrain.models.registry import register_model, run_phases
from facebrain.models.vae import GaussianVAE

DISCRIMINATOR_LR = 1e-4
DISCRIMINATOR_BETAS = (0.5, 0.9)
DISCRIMINATOR_BATCHES = ("same", "independent")
"""Sources of the discriminator's permuted codes: the VAE step's batch, or a second batch."""


def draw_permutations(batch: int, dims: int, device, generator: torch.Generator | None = None) -> torch.Tensor:
    """One permutation of the batch per latent dimension: int64 (K, B), from ``generator``
    (None: torch's global generator)."""
    return torch.stack([torch.randperm(batch, generator=generator, device=device) for _ in range(dims)])


def permute_dims(z: torch.Tensor, permutations: torch.Tensor | None = None) -> torch.Tensor:
    """Permute each latent dimension independently across the batch: (B, K) -> (B, K).

    Samples from the product of the marginals of the batch's q(z). ``permutations``
    (K, B) from :func:`draw_permutations`; None: drawn here.
    """
    if permutations is None:
        permutations = draw_permutations(*z.shape, z.device)
    return z.gather(0, permutations.T)


class Discriminator(nn.Module):
    """MLP of 6 hidden layers x 1000 units, LeakyReLU(0.2), -> 2 logits (0: q(z), 1: permuted)."""

    def __init__(self, latent_dim: int, hidden: int = 1000, depth: int = 6):
        super().__init__()
        layers: list[nn.Module] = []
        width = latent_dim
        for _ in range(depth):
            layers += [nn.Linear(width, hidden), nn.LeakyReLU(0.2)]
            width = hidden
        layers.append(nn.Linear(width, 2))
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


@register_model("factorvae")
class FactorVAE(GaussianVAE):
    """FactorVAE: reconstruction + KL + gamma * TC, TC = mean(logit_0 - logit_1) of the
    discriminator; the discriminator has its own Adam (lr 1e-4, betas (0.5, 0.9)) and is
    trained on the VAE step's codes against dimension-wise permuted codes of the same batch
    (``discriminator_batch="same"``) or of a second batch (``"independent"``; see the module
    docstring)."""

    def __init__(self, in_channels: int, **hyperparameters):
        super().__init__(in_channels, **hyperparameters)
        if self.discriminator_batch not in DISCRIMINATOR_BATCHES:
            raise ValueError(f"discriminator_batch must be one of {DISCRIMINATOR_BATCHES}, got {self.discriminator_batch!r}")
        self.discriminator = Discriminator(self.latent_dim)

    def configure_optimizers(self, lr: float):
        return {
            "vae": torch.optim.Adam(self.vae_parameters(), lr=lr),
            "discriminator": torch.optim.Adam(self.discriminator.parameters(), lr=DISCRIMINATOR_LR, betas=DISCRIMINATOR_BETAS),
        }

    phases = (("vae", "vae_losses"), ("discriminator", "discriminator_losses"))

    def draw_noise(self, batch, generator=None):
        """The step's random draws in the order the step uses them: ``eps`` of the VAE step,
        (``"independent"``) ``eps_other`` of the second batch, then ``permutations`` (K, B)."""
        x, x_other = batch if self.discriminator_batch == "independent" else (batch, None)
        noise = super().draw_noise(x, generator)
        if x_other is not None:
            noise["eps_other"] = super().draw_noise(x_other, generator)["eps"]
        noise["permutations"] = draw_permutations(x.shape[0], self.latent_dim, x.device, generator)
        return noise

    def vae_losses(self, batch, noise, carry):
        """The VAE phase: reconstruction + KL + gamma * the discriminator's TC estimate; carries the codes z."""
        x = batch[0] if self.discriminator_batch == "independent" else batch
        terms = self.forward_terms(x, noise["eps"])
        logits = self.discriminator(terms["z"])
        tc = (logits[:, 0] - logits[:, 1]).mean()
        loss = terms["reconstruction"] + terms["kl"] + self.gamma * tc
        logs = {"reconstruction": terms["reconstruction"].detach(), "kl": terms["kl"].detach(), "tc": tc.detach(), "loss": loss.detach()}
        return loss, logs, {"z": terms["z"].detach()}

    def discriminator_losses(self, batch, noise, carry):
        """The discriminator phase: the VAE step's codes against permuted codes of the same batch
        (``"same"``) or of the second batch encoded with the updated encoder (``"independent"``)."""
        z = carry["z"]
        if self.discriminator_batch == "same":
            z_perm = permute_dims(z, noise["permutations"])
        else:
            with torch.no_grad():  # Algorithm 2: z' ~ q(z|x') with the updated encoder
                mu, logvar = self.encoder(batch[1])
                z_perm = permute_dims(mu + torch.exp(0.5 * logvar) * noise["eps_other"], noise["permutations"])
        real = torch.zeros(z.shape[0], dtype=torch.long, device=z.device)
        d_loss = 0.5 * (F.cross_entropy(self.discriminator(z), real) + F.cross_entropy(self.discriminator(z_perm), real + 1))
        return d_loss, {"discriminator": d_loss.detach()}, carry

    def training_step(self, batch, optimizers) -> dict[str, torch.Tensor]:
        """One VAE step, then one discriminator step.

        ``batch``: images (B, C, 64, 64) (``"same"``), or two independent such batches
        (``"independent"``: the VAE step's, then the one whose permuted codes the discriminator sees).
        """
        return run_phases(self, batch, self.draw_noise(batch), optimizers)
