"""Generative models and baselines, all behind one registry (:mod:`.registry`).

Importing this package imports no torch (the workflow reads :mod:`.kinds` while
building the DAG); :func:`.registry.model_class` and :func:`.registry.build_model`
import the kinds' modules (:data:`.registry.BUILTIN_KIND_MODULES`) on first use.

- :mod:`.kinds`          what each kind is, declared once (hyper-parameters, training, decoder); torch-free

- :mod:`.architectures`  the shared encoder/decoder networks (Soulos & Isik A.1; disentanglement_lib's conv)
- :mod:`.vae`            VAE and beta-VAE (kinds ``vae``, ``betavae``)
- :mod:`.factorvae`      FactorVAE (``factorvae``)
- :mod:`.btcvae`         beta-TCVAE (``btcvae``)
- :mod:`.dipvae`         DIP-VAE-I/II (``dipvae_i``, ``dipvae_ii``)
- :mod:`.pca`            PCA baseline (``pca``)
- :mod:`.controls`       ceiling and floor controls (``oracle``, ``random``)
- :mod:`.svae`, :mod:`.grouped`, :mod:`.explicit`  pair-supervised kinds (``svae``, ``gvae``, ``mlvae``, ``explicit``; metrics stage)
- :mod:`.vaegan`         VAE-GAN (``vaegan``; metrics stage)
- :mod:`.stylegan2`      StyleGAN2 with Zheng et al.'s decorrelation of W and an inversion encoder (``stylegan2``)
- :mod:`.batches`        the training pool and the batch samplers (``images``); :mod:`.pairs` the ``pairs`` sampler
"""
