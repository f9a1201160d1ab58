"""Shared helpers of the disentanglement metrics (disentanglement_lib's ``utils``).

Every metric draws observations from a :class:`~facebrain.metrics.ground_truth.GroundTruthData`,
maps them through a *representation function* ``f(observations) -> codes``
(``codes`` float array (n, K)) and compares codes with the true factors.
Arrays are sample-major: codes (n, K), factors (n, F).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from sklearn.metrics import mutual_info_score

RepresentationFunction = Callable[[np.ndarray], np.ndarray]


def representation(representation_function: RepresentationFunction, observations: np.ndarray) -> np.ndarray:
    """Apply ``representation_function`` and check its output.

    Parameters
    ----------
    representation_function : maps observations (n, H, W, C) to codes.
    observations : array (n, H, W, C).

    Returns
    -------
    codes : float64 array (n, K).
    """
    codes = np.asarray(representation_function(observations), dtype=np.float64)
    if codes.ndim != 2 or codes.shape[0] != len(observations):
        raise ValueError(f"representation function returned shape {codes.shape}, expected ({len(observations)}, K)")
    if not np.all(np.isfinite(codes)):
        raise ValueError("representation function returned non-finite codes")
    return codes


def generate_batch_factor_code(ground_truth_data, representation_function: RepresentationFunction, num_points: int, random_state: np.random.Generator, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Sample ``num_points`` observations with their factor classes and codes.

    Returns
    -------
    codes : float64 (num_points, K).
    factors : int64 (num_points, F), the factor classes (indices into each factor's levels).
    """
    codes, factors = [], []
    done = 0
    while done < num_points:
        n = min(batch_size, num_points - done)
        batch_factors, observations = ground_truth_data.sample(n, random_state)
        codes.append(representation(representation_function, observations))
        factors.append(batch_factors)
        done += n
    return np.concatenate(codes), np.concatenate(factors)


def generate_disjoint_factor_codes(ground_truth_data, representation_function: RepresentationFunction, num_train: int, num_test: int,
                                   random_state: np.random.Generator, batch_size: int):
    """Codes and factor classes of a training and a test sample with no observation in common.

    Returns
    -------
    (codes_train, factors_train, codes_test, factors_test, info): codes float64 (n, K), factors
    int64 (n, F); info as :meth:`~facebrain.metrics.ground_truth.GroundTruthData.sample_disjoint`
    (fewer points than asked when the pool is too small).
    """
    (factors_train, obs_train), (factors_test, obs_test), info = ground_truth_data.sample_disjoint(num_train, num_test, random_state)

    def encode(observations: np.ndarray) -> np.ndarray:
        return np.concatenate([representation(representation_function, observations[i : i + batch_size]) for i in range(0, len(observations), batch_size)])

    return encode(obs_train), factors_train, encode(obs_test), factors_test, info


def discretize(codes: np.ndarray, num_bins: int) -> np.ndarray:
    """Discretise each column of ``codes`` (n, K) into ``num_bins`` equal-width bins over its range.

    Returns int64 (n, K) bin indices in [0, num_bins).
    """
    out = np.zeros(codes.shape, dtype=np.int64)
    for j in range(codes.shape[1]):
        edges = np.histogram_bin_edges(codes[:, j], bins=num_bins)
        out[:, j] = np.digitize(codes[:, j], edges[1:-1])
    return out


def discrete_mutual_info(codes: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """Mutual information (nats) between each discrete code column and each factor column.

    Parameters
    ----------
    codes : int (n, K). factors : int (n, F).

    Returns
    -------
    float64 (K, F).
    """
    return np.array([[mutual_info_score(factors[:, f], codes[:, k]) for f in range(factors.shape[1])] for k in range(codes.shape[1])])


def discrete_entropy(factors: np.ndarray) -> np.ndarray:
    """Entropy (nats) of each discrete column of ``factors`` (n, F); float64 (F,)."""
    return np.array([mutual_info_score(factors[:, f], factors[:, f]) for f in range(factors.shape[1])])


def normalize(train: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Standardise ``train`` and ``test`` (n, K) with the mean and sd of ``train`` (constant columns keep sd 1)."""
    mean = train.mean(axis=0)
    sd = train.std(axis=0)
    sd[sd == 0] = 1.0
    return (train - mean) / sd, (test - mean) / sd
