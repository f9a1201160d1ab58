"""Encoding and decoding of fMRI responses with generative-model latents, per subject (Soulos & Isik 2020; VanRullen & Reddy 2019)."""
