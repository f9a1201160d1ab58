"""Mutual Information Gap (Chen et al. 2018), as in disentanglement_lib.

Codes are discretised into equal-width bins; for each factor, the gap between
the largest and second-largest mutual information with any code dimension,
divided by the factor's entropy. MIG is the mean over factors.
"""

from __future__ import annotations

import logging

import numpy as np

from facebrain.metrics.utils import RepresentationFunction, discrete_entropy, discrete_mutual_info, discretize, generate_batch_factor_code

logger = logging.getLogger(__name__)


def compute_mig(ground_truth_data, representation_function: RepresentationFunction, random_state: np.random.Generator, num_train: int = 10_000, batch_size: int = 16, num_bins: int = 20) -> dict:
    """MIG.

    Parameters
    ----------
    ground_truth_data : :class:`~facebrain.metrics.ground_truth.GroundTruthData`.
    representation_function : observations (n, H, W, C) -> codes (n, K), K >= 2.
    random_state : numpy Generator.
    num_train : observations.
    batch_size : observations encoded per call.
    num_bins : bins of the code discretisation.

    Returns
    -------
    dict with ``discrete_mig`` (mean over factors, in [0, 1]),
    ``per_factor_mig`` (factor name -> gap / entropy), ``best_dim``
    (factor name -> the code dimension of largest mutual information) and
    ``mutual_info`` (K x F list of lists, nats) and ``entropy`` (F, nats).
    """
    codes, factors = generate_batch_factor_code(ground_truth_data, representation_function, num_train, random_state, batch_size)
    if codes.shape[1] < 2:
        raise ValueError("MIG needs at least two code dimensions")
    mi = discrete_mutual_info(discretize(codes, num_bins), factors)
    entropy = discrete_entropy(factors)
    ordered = np.sort(mi, axis=0)[::-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        gaps = np.where(entropy > 0, (ordered[0] - ordered[1]) / entropy, 0.0)
    names = list(ground_truth_data.factor_names)
    scores = {
        "discrete_mig": float(np.mean(gaps)),
        "per_factor_mig": {name: float(g) for name, g in zip(names, gaps)},
        "best_dim": {name: int(d) for name, d in zip(names, np.argmax(mi, axis=0))},
        "mutual_info": mi.tolist(),
        "entropy": entropy.tolist(),
    }
    logger.info("MIG: %.3f per factor %s", scores["discrete_mig"], scores["per_factor_mig"])
    return scores
