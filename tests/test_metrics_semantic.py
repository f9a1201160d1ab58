"""Closed-form semantic directions recover planted linear factor directions."""

from __future__ import annotations

import numpy as np
import pytest

from facebrain.probes.semantic import cosine_distance, projection_correlations, regression_directions


def planted(n=2000, k=6, f=3, noise=0.05, seed=0):
    rng = np.random.default_rng(seed)
    factors = rng.standard_normal((n, f))
    mixing = rng.standard_normal((f, k))
    latents = factors @ mixing + noise * rng.standard_normal((n, k))
    return latents, factors


def test_directions_predict_their_own_factor():
    latents, factors = planted()
    directions = regression_directions(latents, factors, np.random.default_rng(1), num_pairs=3000)
    corr = projection_correlations(latents, factors, directions)
    assert corr.shape == (3, 3)
    assert np.all(np.diag(corr) > 0.99)
    assert np.all(np.abs(corr - np.diag(np.diag(corr)))[~np.eye(3, dtype=bool)] < 0.1)


def test_directions_of_noise_do_not_predict():
    rng = np.random.default_rng(2)
    latents, factors = rng.standard_normal((2000, 6)), rng.standard_normal((2000, 2))
    corr = projection_correlations(latents, factors, regression_directions(latents, factors, rng, num_pairs=3000))
    assert np.all(np.abs(corr) < 0.15)


def test_absolute_cosine_distance_ignores_sign():
    v = np.array([[1.0, -2.0, 0.0], [0.0, 0.0, 1.0]])
    dist = cosine_distance(v)
    assert dist[0, 1] == pytest.approx(0.0)
    assert dist[0, 2] == pytest.approx(1.0)
    assert np.allclose(dist, dist.T)


def test_mismatched_rows_are_rejected():
    with pytest.raises(ValueError, match="matching rows"):
        regression_directions(np.zeros((5, 2)), np.zeros((4, 1)), np.random.default_rng(0))
