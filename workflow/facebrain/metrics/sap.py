"""SAP score (Attribute Predictability; Kumar et al. 2018).

For each code dimension j and factor k, a linear SVM predicts k's class from
j alone; S[j, k] is its balanced test accuracy, rescaled so that chance is 0
and perfect prediction 1 (factors differ in their number of levels). SAP is the mean over factors
of the gap between the two best dimensions. disentanglement_lib gives the
one-vs-rest LinearSVC only the scalar z_j, which cannot isolate an interior
level of an ordinal factor (one threshold per class); we give it the features
(z_j, z_j^2), so each one-vs-rest boundary can be an interval of z_j and a
dimension that encodes a factor monotonically predicts all its levels.
"""

from __future__ import annotations

import logging

import numpy as np

from facebrain.metrics.utils import RepresentationFunction, generate_disjoint_factor_codes, normalize

logger = logging.getLogger(__name__)


def compute_sap(ground_truth_data, representation_function: RepresentationFunction, random_state: np.random.Generator, num_train: int = 10_000, num_test: int = 5_000, batch_size: int = 16, svm_c: float = 1.0) -> dict:
    """SAP score.

    Parameters
    ----------
    ground_truth_data : :class:`~facebrain.metrics.ground_truth.GroundTruthData`.
    representation_function : observations (n, H, W, C) -> codes (n, K), K >= 2.
    random_state : numpy Generator.
    num_train, num_test : observations to fit and to test the SVMs.
    batch_size : observations encoded per call.
    svm_c : inverse regularisation of the SVMs.

    Returns
    -------
    dict with ``sap`` (mean gap, in [0, 1]), ``per_factor_sap`` (factor -> gap)
    ``score_matrix`` (K x F balanced accuracies) and ``samples`` (the disjoint training and
    test samples' sizes, :func:`~facebrain.metrics.utils.generate_disjoint_factor_codes`).
    """
    codes_train, factors_train, codes_test, factors_test, samples = generate_disjoint_factor_codes(
        ground_truth_data, representation_function, num_train, num_test, random_state, batch_size)
    if codes_train.shape[1] < 2:
        raise ValueError("SAP needs at least two code dimensions")
    codes_train, codes_test = normalize(codes_train, codes_test)
    scores = np.array([[_predictability(codes_train[:, j], factors_train[:, k], codes_test[:, j], factors_test[:, k], svm_c) for k in range(factors_train.shape[1])] for j in range(codes_train.shape[1])])
    ordered = np.sort(scores, axis=0)[::-1]
    gaps = ordered[0] - ordered[1]
    result = {
        "sap": float(np.mean(gaps)),
        "per_factor_sap": {name: float(g) for name, g in zip(ground_truth_data.factor_names, gaps)},
        "score_matrix": scores.tolist(),
        "samples": samples,
    }
    logger.info("SAP: %.3f", result["sap"])
    return result


def _predictability(z_train, y_train, z_test, y_test, svm_c) -> float:
    """Balanced test accuracy of a linear SVM on (z, z^2) rescaled to chance 0, perfect 1."""
    from sklearn.metrics import balanced_accuracy_score
    from sklearn.svm import LinearSVC

    classes = np.unique(y_train)
    if len(classes) < 2:
        return 0.0
    features_train = np.stack([z_train, z_train**2], axis=1)
    features_test = np.stack([z_test, z_test**2], axis=1)
    model = LinearSVC(C=svm_c, class_weight="balanced", max_iter=5000).fit(features_train, y_train)
    accuracy = balanced_accuracy_score(y_test, model.predict(features_test))
    chance = 1.0 / len(classes)
    return max(0.0, (accuracy - chance) / (1.0 - chance))
