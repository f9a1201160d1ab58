"""Generative models and baselines, all behind one registry (:mod:`.registry`).

- :mod:`.architectures`  the shared encoder/decoder networks (Soulos & Isik A.1; disentanglement_lib's conv)
- :mod:`.vae`            VAE and beta-VAE (kinds ``vae``, ``betavae``)
- :mod:`.factorvae`      FactorVAE (``factorvae``)
- :mod:`.btcvae`         beta-TCVAE (``btcvae``)
- :mod:`.dipvae`         DIP-VAE-I/II (``dipvae_i``, ``dipvae_ii``)
- :mod:`.pca`            PCA baseline (``pca``)
- :mod:`.controls`       ceiling and floor controls (``oracle``, ``random``)
- :mod:`.svae`, :mod:`.grouped`, :mod:`.explicit`  pair-supervised kinds (``svae``, ``gvae``, ``mlvae``, ``explicit``; metrics stage)
- :mod:`.vaegan`         VAE-GAN (``vaegan``; metrics stage)
- :mod:`.batches`        the training pool and the batch samplers (``images``); :mod:`.pairs` the ``pairs`` sampler
"""

from facebrain.models import btcvae, controls, dipvae, factorvae, pca, vae  # noqa: F401  (register the kinds)
from facebrain.models import explicit, grouped, svae, vaegan  # noqa: F401  (metrics stage's kinds)
from facebrain.models import pairs  # noqa: F401  (registers the "pairs" batch sampler of those kinds)
from facebrain.models.registry import MODEL_KINDS, LatentModel, build_model, register_model, resolve_spec

__all__ = ["MODEL_KINDS", "LatentModel", "build_model", "register_model", "resolve_spec"]
