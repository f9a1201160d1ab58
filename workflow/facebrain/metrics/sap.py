"""SAP score (Attribute Predictability; Kumar et al. 2018), as disentanglement_lib computes it.

For each code dimension j and factor k, S[j, k] says how well z_j alone predicts
factor k. SAP is the mean over factors of the gap between the two best
dimensions. :func:`compute_sap` is disentanglement_lib's ``sap_score`` (the
SAP that Romeo 2023 and the disentanglement_lib papers report): discrete
factors get a one-vs-rest ``LinearSVC(C=0.01, class_weight="balanced")`` on
the raw scalar z_j and S is its plain test accuracy; continuous factors
(``continuous_factors=True``) get the squared correlation (R^2) of z_j with the
factor on the training sample.

:func:`compute_sap_quadratic` is this project's variant under its own name
(column ``sap_quadratic``): the SVM (C = 1) gets the features (z_j, z_j^2) of
standardised codes, so a one-vs-rest boundary can be an interval and an
interior level of an ordinal factor is separable, and S is the balanced
accuracy rescaled to chance 0, perfect 1. The two are not comparable
(the variant reads far higher on the same code).
"""

from __future__ import annotations

import logging

import numpy as np
from sklearn.metrics import balanced_accuracy_score
from sklearn.svm import LinearSVC

from facebrain.metrics.utils import RepresentationFunction, generate_disjoint_factor_codes, normalize

logger = logging.getLogger(__name__)


def compute_sap(ground_truth_data, representation_function: RepresentationFunction, random_state: np.random.Generator, num_train: int = 10_000,
                num_test: int = 5_000, batch_size: int = 16, continuous_factors: bool = False) -> dict:
    """SAP score, disentanglement_lib's ``sap_score``.

    Parameters
    ----------
    ground_truth_data : :class:`~facebrain.metrics.ground_truth.GroundTruthData`.
    representation_function : observations (n, H, W, C) -> codes (n, K), K >= 2.
    random_state : numpy Generator.
    num_train, num_test : observations to fit and to test the SVMs (disjoint samples).
    batch_size : observations encoded per call.
    continuous_factors : score factors by R^2 instead of SVM accuracy (disentanglement_lib's default: False).

    Returns
    -------
    dict with ``sap`` (mean gap of the two best dimensions), ``per_factor_sap`` (factor -> gap),
    ``score_matrix`` (K x F, :func:`sap_score_matrix`) and ``samples`` (the disjoint
    training and test samples' sizes, :func:`~facebrain.metrics.utils.generate_disjoint_factor_codes`).
    """
    codes_train, factors_train, codes_test, factors_test, samples = generate_disjoint_factor_codes(
        ground_truth_data, representation_function, num_train, num_test, random_state, batch_size)
    if codes_train.shape[1] < 2:
        raise ValueError("SAP needs at least two code dimensions")
    scores = sap_score_matrix(codes_train, factors_train, codes_test, factors_test, continuous_factors)
    result = _result(scores, ground_truth_data.factor_names, samples)
    logger.info("SAP (disentanglement_lib): %.3f", result["sap"])
    return result


def sap_score_matrix(codes_train: np.ndarray, factors_train: np.ndarray, codes_test: np.ndarray, factors_test: np.ndarray,
                     continuous_factors: bool = False) -> np.ndarray:
    """disentanglement_lib's SAP score matrix, (K, F).

    Discrete factors: test accuracy of ``LinearSVC(C=0.01, class_weight="balanced")`` fitted on
    the scalar code ``codes_train[:, j]``. Continuous factors: cov(z_j, y_k)^2 / (var z_j var y_k)
    on the training codes (0 for a constant dimension).
    """
    scores = np.zeros((codes_train.shape[1], factors_train.shape[1]))
    for j in range(codes_train.shape[1]):
        for k in range(factors_train.shape[1]):
            if continuous_factors:
                cov = np.cov(codes_train[:, j], factors_train[:, k], ddof=1)
                scores[j, k] = cov[0, 1] ** 2 / (cov[0, 0] * cov[1, 1]) if cov[0, 0] > 1e-12 else 0.0
            else:
                model = LinearSVC(C=0.01, class_weight="balanced").fit(codes_train[:, j, None], factors_train[:, k])
                scores[j, k] = np.mean(model.predict(codes_test[:, j, None]) == factors_test[:, k])
    return scores


def sap_from_score_matrix(scores: np.ndarray) -> np.ndarray:
    """Per factor, the gap between the best and the second-best dimension of a (K, F) score matrix."""
    ordered = np.sort(scores, axis=0)
    return ordered[-1] - ordered[-2]


def _result(scores: np.ndarray, factor_names, samples) -> dict:
    gaps = sap_from_score_matrix(scores)
    return {
        "sap": float(np.mean(gaps)),
        "per_factor_sap": {name: float(g) for name, g in zip(factor_names, gaps)},
        "score_matrix": scores.tolist(),
        "samples": samples,
    }


def compute_sap_quadratic(ground_truth_data, representation_function: RepresentationFunction, random_state: np.random.Generator,
                          num_train: int = 10_000, num_test: int = 5_000, batch_size: int = 16, svm_c: float = 1.0) -> dict:
    """The project's SAP variant: (z, z^2) features of standardised codes, balanced accuracy rescaled to chance 0.

    Parameters as :func:`compute_sap`; ``svm_c`` is the SVMs' inverse regularisation.

    Returns
    -------
    dict as :func:`compute_sap`, whose ``sap`` is this variant's score (in [0, 1]).
    """
    codes_train, factors_train, codes_test, factors_test, samples = generate_disjoint_factor_codes(
        ground_truth_data, representation_function, num_train, num_test, random_state, batch_size)
    if codes_train.shape[1] < 2:
        raise ValueError("SAP needs at least two code dimensions")
    codes_train, codes_test = normalize(codes_train, codes_test)
    scores = np.array([[_predictability(codes_train[:, j], factors_train[:, k], codes_test[:, j], factors_test[:, k], svm_c)
                        for k in range(factors_train.shape[1])] for j in range(codes_train.shape[1])])
    result = _result(scores, ground_truth_data.factor_names, samples)
    logger.info("SAP (z, z^2 variant): %.3f", result["sap"])
    return result


def _predictability(z_train, y_train, z_test, y_test, svm_c) -> float:
    """Balanced test accuracy of a linear SVM on (z, z^2) rescaled to chance 0, perfect 1."""
    classes = np.unique(y_train)
    if len(classes) < 2:
        return 0.0
    features_train = np.stack([z_train, z_train**2], axis=1)
    features_test = np.stack([z_test, z_test**2], axis=1)
    model = LinearSVC(C=svm_c, class_weight="balanced", max_iter=5000).fit(features_train, y_train)
    accuracy = balanced_accuracy_score(y_test, model.predict(features_test))
    chance = 1.0 / len(classes)
    return max(0.0, (accuracy - chance) / (1.0 - chance))
