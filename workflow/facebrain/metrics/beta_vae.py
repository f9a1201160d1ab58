"""BetaVAE score ("z-diff"; Higgins et al. 2017), as in disentanglement_lib.

Each training point fixes one factor k across a batch of pairs of
observations, takes the mean absolute difference of the pairs' codes, and is
labelled k; a logistic regression predicts k from that feature. The score is
the classifier's accuracy on points drawn independently for evaluation.
"""

from __future__ import annotations

import logging

import numpy as np
from sklearn.linear_model import LogisticRegression

from facebrain.metrics.utils import RepresentationFunction, normalize, representation

logger = logging.getLogger(__name__)


def compute_beta_vae(ground_truth_data, representation_function: RepresentationFunction, random_state: np.random.Generator, batch_size: int = 64, num_train: int = 10_000, num_eval: int = 5_000) -> dict[str, float]:
    """BetaVAE score.

    Parameters
    ----------
    ground_truth_data : :class:`~facebrain.metrics.ground_truth.GroundTruthData`.
    representation_function : observations (n, H, W, C) -> codes (n, K).
    random_state : numpy Generator.
    batch_size : pairs averaged into one point.
    num_train, num_eval : points for training and evaluating the classifier.

    Returns
    -------
    dict with ``train_accuracy`` and ``eval_accuracy`` (fractions; chance is 1/F).
    """
    x_train, y_train = _points(ground_truth_data, representation_function, random_state, batch_size, num_train)
    x_eval, y_eval = _points(ground_truth_data, representation_function, random_state, batch_size, num_eval)
    x_train, x_eval = normalize(x_train, x_eval)  # standardised features: lbfgs converges in few iterations
    model = LogisticRegression(max_iter=2000, random_state=int(random_state.integers(2**31)))
    model.fit(x_train, y_train)
    scores = {"train_accuracy": float(model.score(x_train, y_train)), "eval_accuracy": float(model.score(x_eval, y_eval))}
    logger.info("BetaVAE score: %s", scores)
    return scores


def _points(ground_truth_data, representation_function, random_state, batch_size, num_points) -> tuple[np.ndarray, np.ndarray]:
    """Features (num_points, K) and labels (num_points,) of the BetaVAE score."""
    features, labels = [], []
    for _ in range(num_points):
        k = int(random_state.integers(ground_truth_data.num_factors))
        factors1, observations1 = ground_truth_data.sample(batch_size, random_state)
        _, observations2 = ground_truth_data.sample_fixed_factor(k, factors1[:, k], random_state)
        codes1 = representation(representation_function, observations1)
        codes2 = representation(representation_function, observations2)
        features.append(np.mean(np.abs(codes1 - codes2), axis=0))
        labels.append(k)
    return np.array(features), np.array(labels)
