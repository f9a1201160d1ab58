"""VAE-GAN (Larsen et al. 2016), as used by VanRullen & Reddy (2019) for faces.

A VAE whose reconstruction error is measured in a feature layer of a GAN
discriminator instead of pixels. Networks are the shared ones: the encoder
and decoder of :mod:`facebrain.models.architectures`, and a discriminator
built from the same encoder (its convolutional stack gives the feature layer
Dis_l, 64 x 4 x 4 = 1024 features; its first head gives the real/fake logit).

Losses per batch (means over images): L_prior = KL(q(z|x) || N(0, I));
L_llike = 0.5 ||Dis_l(x) - Dis_l(x~)||^2 (a unit-variance Gaussian in the feature
layer); L_GAN = BCE(D(x), real) + BCE(D(x~), fake) + BCE(D(x_p), fake) for
reconstructions x~ and prior samples x_p. The encoder minimises
beta * L_prior + L_llike, the decoder gamma * L_llike plus the non-saturating
generator loss on x~ and x_p, the discriminator L_GAN.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from facebrain.models.architectures import Encoder
from facebrain.models.registry import register_model
from facebrain.models.vae import GaussianVAE, gaussian_kl

FEATURE_LAYER = 9
"""``Encoder.features[:FEATURE_LAYER]`` is the convolutional stack + flatten: the Dis_l layer."""


@register_model("vaegan")
class VAEGAN(GaussianVAE):
    """VAE-GAN with a discriminator feature-layer reconstruction loss (see module docstring)."""

    def __init__(self, in_channels: int, **hyperparameters):
        super().__init__(in_channels, **hyperparameters)
        self.discriminator = Encoder(in_channels, 1, self.architecture)

    def discriminate(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Discriminator features Dis_l(x) (B, 1024) and real/fake logits (B,) of images (B, C, 64, 64)."""
        features = self.discriminator.features[:FEATURE_LAYER](x)
        logit = self.discriminator.mu(self.discriminator.features[FEATURE_LAYER:](features)).squeeze(1)
        return features, logit

    def configure_optimizers(self, lr: float) -> dict[str, torch.optim.Optimizer]:
        return {
            "encoder": torch.optim.Adam(self.encoder.parameters(), lr=lr),
            "decoder": torch.optim.Adam(self.decoder.parameters(), lr=lr),
            "discriminator": torch.optim.Adam(self.discriminator.parameters(), lr=lr),
        }

    def training_step(self, batch: torch.Tensor, optimizers) -> dict[str, torch.Tensor]:
        mu, logvar = self.encoder(batch)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        x_rec = torch.sigmoid(self.decoder(z))
        x_prior = torch.sigmoid(self.decoder(torch.randn_like(mu)))

        _, logit_real = self.discriminate(batch)
        _, logit_rec = self.discriminate(x_rec.detach())
        _, logit_prior = self.discriminate(x_prior.detach())
        ones, zeros = torch.ones_like(logit_real), torch.zeros_like(logit_real)
        d_loss = F.binary_cross_entropy_with_logits(logit_real, ones) + F.binary_cross_entropy_with_logits(logit_rec, zeros) + F.binary_cross_entropy_with_logits(logit_prior, zeros)
        optimizers["discriminator"].zero_grad(set_to_none=True)
        d_loss.backward()
        optimizers["discriminator"].step()

        features_real, _ = self.discriminate(batch)
        features_rec, logit_rec = self.discriminate(x_rec)
        _, logit_prior = self.discriminate(x_prior)
        llike = 0.5 * ((features_rec - features_real.detach()) ** 2).sum(dim=1).mean()
        kl = gaussian_kl(mu, logvar).sum(dim=1).mean()
        generator = F.binary_cross_entropy_with_logits(logit_rec, ones) + F.binary_cross_entropy_with_logits(logit_prior, ones)
        encoder_loss = self.beta * kl + llike
        decoder_loss = self.gamma * llike + generator
        encoder_params, decoder_params = list(self.encoder.parameters()), list(self.decoder.parameters())
        encoder_grads = torch.autograd.grad(encoder_loss, encoder_params, retain_graph=True)
        decoder_grads = torch.autograd.grad(decoder_loss, decoder_params)
        for params, grads, name in ((encoder_params, encoder_grads, "encoder"), (decoder_params, decoder_grads, "decoder")):
            optimizers[name].zero_grad(set_to_none=True)
            for p, g in zip(params, grads):
                p.grad = g
            optimizers[name].step()
        return {"llike": llike.detach(), "kl": kl.detach(), "generator": generator.detach(), "discriminator": d_loss.detach(), "loss": (encoder_loss + decoder_loss).detach()}

    @torch.no_grad()
    def evaluate(self, x: torch.Tensor, ids=None) -> dict[str, float]:
        """Test losses (nats per image): pixel ``reconstruction`` (Bernoulli NLL of decoding mu), ``kl``, ``llike``."""
        mu, logvar = self.encoder(x)
        x_rec = torch.sigmoid(self.decoder(mu))
        features_real, _ = self.discriminate(x)
        features_rec, _ = self.discriminate(x_rec)
        return {
            "reconstruction": F.binary_cross_entropy_with_logits(self.decoder(mu), x, reduction="sum").item() / x.shape[0],
            "kl": gaussian_kl(mu, logvar).sum(dim=1).mean().item(),
            "llike": 0.5 * ((features_rec - features_real) ** 2).sum(dim=1).mean().item(),
        }
