"""beta-TCVAE (Chen et al. 2018): reconstruction + KL + (beta - 1) * TC, with the
total correlation estimated by minibatch-weighted sampling (as disentanglement_lib)."""

from __future__ import annotations

from facebrain.models.registry import register_model
from facebrain.models.vae import BetaVAE, total_correlation


@register_model("btcvae")
class BetaTCVAE(BetaVAE):
    """beta-TCVAE; ``beta`` weighs the total-correlation term of the KL decomposition."""
    def objective(self, terms):
        tc = total_correlation(terms["z"], terms["mu"], terms["logvar"])
        loss = terms["reconstruction"] + terms["kl"] + (self.beta - 1.0) * tc
        return loss, {"reconstruction": terms["reconstruction"].detach(), "kl": terms["kl"].detach(), "tc": tc.detach(), "loss": loss.detach()}
