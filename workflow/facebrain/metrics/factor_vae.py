"""FactorVAE score ("z-min variance"; Kim & Mnih 2018), as in disentanglement_lib.

Codes are divided by their global standard deviation; dimensions whose
global standard deviation is below ``prune_std`` are dropped. Each point fixes
one factor k across a batch and votes for the dimension of least variance;
the classifier maps each dimension to the factor it received most votes for
(majority vote), and the score is its accuracy on evaluation points.
"""

from __future__ import annotations

import logging

import numpy as np

from facebrain.metrics.utils import RepresentationFunction, generate_batch_factor_code, representation

logger = logging.getLogger(__name__)


def compute_factor_vae(ground_truth_data, representation_function: RepresentationFunction, random_state: np.random.Generator, batch_size: int = 64, num_train: int = 10_000, num_eval: int = 5_000, num_variance_estimate: int = 10_000, prune_std: float = 0.05) -> dict[str, float]:
    """FactorVAE score.

    Parameters
    ----------
    ground_truth_data : :class:`~facebrain.metrics.ground_truth.GroundTruthData`.
    representation_function : observations (n, H, W, C) -> codes (n, K).
    random_state : numpy Generator.
    batch_size : observations per point (all share the fixed factor).
    num_train, num_eval : points for the majority vote and for evaluating it.
    num_variance_estimate : observations for the global variances.
    prune_std : dimensions with a global sd below this are inactive.

    Returns
    -------
    dict with ``train_accuracy``, ``eval_accuracy`` (fractions; chance 1/F)
    and ``num_active_dims``.
    """
    codes, _ = generate_batch_factor_code(ground_truth_data, representation_function, num_variance_estimate, random_state, batch_size)
    global_sd = codes.std(axis=0)
    active = global_sd >= prune_std
    if not active.any():
        logger.warning("FactorVAE score: no dimension has sd >= %g; score 0", prune_std)
        return {"train_accuracy": 0.0, "eval_accuracy": 0.0, "num_active_dims": 0}
    votes = np.zeros((codes.shape[1], ground_truth_data.num_factors), dtype=np.int64)
    for dim, k in _points(ground_truth_data, representation_function, random_state, batch_size, num_train, global_sd, active):
        votes[dim, k] += 1
    classifier = np.argmax(votes, axis=1)
    train_accuracy = votes[np.arange(len(votes)), classifier].sum() / votes.sum()
    eval_points = _points(ground_truth_data, representation_function, random_state, batch_size, num_eval, global_sd, active)
    eval_accuracy = np.mean([classifier[dim] == k for dim, k in eval_points])
    scores = {"train_accuracy": float(train_accuracy), "eval_accuracy": float(eval_accuracy), "num_active_dims": int(active.sum())}
    logger.info("FactorVAE score: %s", scores)
    return scores


def _points(ground_truth_data, representation_function, random_state, batch_size, num_points, global_sd, active) -> list[tuple[int, int]]:
    """(dimension of least normalised variance, fixed factor) for ``num_points`` batches."""
    active_dims = np.flatnonzero(active)
    points = []
    for _ in range(num_points):
        k = int(random_state.integers(ground_truth_data.num_factors))
        fixed = np.full(batch_size, random_state.integers(ground_truth_data.factors_num_values[k]))
        _, observations = ground_truth_data.sample_fixed_factor(k, fixed, random_state)
        codes = representation(representation_function, observations)
        variances = np.var(codes[:, active_dims] / global_sd[active_dims], axis=0, ddof=1)
        points.append((int(active_dims[np.argmin(variances)]), k))
    return points
