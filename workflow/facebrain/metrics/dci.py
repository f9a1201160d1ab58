"""DCI: disentanglement, completeness, informativeness (Eastwood & Williams 2018),
as in disentanglement_lib.

One gradient-boosted tree classifier per factor predicts the factor's class
from the codes; its feature importances form a (K codes x F factors) matrix R.
Disentanglement is the importance-weighted mean over codes of
1 - H_F(R[k] / sum R[k]); completeness the importance-weighted mean over
factors of 1 - H_K(R[:, f] / sum R[:, f]); informativeness the classifiers'
mean test accuracy.
"""

from __future__ import annotations

import logging

import numpy as np
from sklearn.ensemble import GradientBoostingClassifier

from facebrain.metrics.utils import RepresentationFunction, generate_disjoint_factor_codes

logger = logging.getLogger(__name__)


def compute_dci(ground_truth_data, representation_function: RepresentationFunction, random_state: np.random.Generator, num_train: int = 10_000, num_test: int = 5_000, batch_size: int = 16, n_estimators: int = 100) -> dict[str, float]:
    """DCI scores.

    Parameters
    ----------
    ground_truth_data : :class:`~facebrain.metrics.ground_truth.GroundTruthData`.
    representation_function : observations (n, H, W, C) -> codes (n, K).
    random_state : numpy Generator.
    num_train, num_test : observations to fit and to test the classifiers.
    batch_size : observations encoded per call.
    n_estimators : boosting stages per classifier (scikit-learn's default 100 is disentanglement_lib's).

    Returns
    -------
    dict with ``disentanglement``, ``completeness`` (in [0, 1]),
    ``informativeness_train`` and ``informativeness_test`` (accuracies) and
    ``importance`` (K x F list of lists) and ``samples`` (the disjoint training and test
    samples' sizes, :func:`~facebrain.metrics.utils.generate_disjoint_factor_codes`).
    """
    codes_train, factors_train, codes_test, factors_test, samples = generate_disjoint_factor_codes(
        ground_truth_data, representation_function, num_train, num_test, random_state, batch_size)
    importance, train_acc, test_acc = _importance_matrix(codes_train, factors_train, codes_test, factors_test, random_state, n_estimators)
    scores = {
        "disentanglement": disentanglement(importance),
        "completeness": completeness(importance),
        "informativeness_train": train_acc,
        "informativeness_test": test_acc,
        "importance": importance.tolist(),
        "samples": samples,
    }
    logger.info("DCI: D %.3f C %.3f I %.3f", scores["disentanglement"], scores["completeness"], test_acc)
    return scores


def _importance_matrix(x_train, y_train, x_test, y_test, random_state, n_estimators) -> tuple[np.ndarray, float, float]:

    importance = np.zeros((x_train.shape[1], y_train.shape[1]))
    train_acc, test_acc = [], []
    for f in range(y_train.shape[1]):
        if len(np.unique(y_train[:, f])) < 2:
            raise ValueError(f"factor {f} takes a single value in the {len(y_train)} training points; draw more points")
        model = GradientBoostingClassifier(n_estimators=n_estimators, random_state=int(random_state.integers(2**31)))
        model.fit(x_train, y_train[:, f])
        importance[:, f] = np.abs(model.feature_importances_)
        train_acc.append(model.score(x_train, y_train[:, f]))
        test_acc.append(model.score(x_test, y_test[:, f]))
    return importance, float(np.mean(train_acc)), float(np.mean(test_acc))


def _entropy_complement(p: np.ndarray, axis: int) -> np.ndarray:
    """1 - entropy of the normalised rows/columns of ``p`` with log base ``p.shape[axis]``."""
    base = p.shape[axis]
    total = p.sum(axis=axis, keepdims=True)
    q = np.divide(p, total, out=np.full_like(p, 1.0 / base), where=total > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -np.nansum(np.where(q > 0, q * np.log(q), 0.0), axis=axis) / np.log(base)
    return 1.0 - h


def disentanglement(importance: np.ndarray) -> float:
    """Disentanglement of an importance matrix (K codes x F factors); 0 when F == 1 or all importances are 0."""
    if importance.shape[1] < 2 or importance.sum() == 0:
        return 0.0
    weights = importance.sum(axis=1) / importance.sum()
    return float(np.sum(weights * _entropy_complement(importance, axis=1)))


def completeness(importance: np.ndarray) -> float:
    """Completeness of an importance matrix (K codes x F factors); 0 when K == 1 or all importances are 0."""
    if importance.shape[0] < 2 or importance.sum() == 0:
        return 0.0
    weights = importance.sum(axis=0) / importance.sum()
    return float(np.sum(weights * _entropy_complement(importance, axis=0)))
