"""Analyses of latent spaces beyond the disentanglement metrics.

- :mod:`.semantic`  closed-form semantic directions (Zheng et al. 2021) and their Ward dendrogram
- :mod:`.digits`    rotated and colour-biased digits and the linear-probe table (Hejna et al.)
"""
