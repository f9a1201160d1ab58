"""The five disentanglement metrics on a small synthetic ground truth.

Observations are the factor classes themselves, so a representation function
can return the true factors (permuted and rescaled), a rotation that mixes
them, or codes that ignore them.
"""

from __future__ import annotations

import numpy as np
import pytest

from facebrain.metrics.beta_vae import compute_beta_vae
from facebrain.metrics.dci import compute_dci, completeness, disentanglement
from facebrain.metrics.factor_vae import compute_factor_vae
from facebrain.metrics.ground_truth import GroundTruthData
from facebrain.metrics.mig import compute_mig
from facebrain.metrics.sap import compute_sap, compute_sap_quadratic, sap_from_score_matrix, sap_score_matrix


class ToyGroundTruth(GroundTruthData):
    """Four factors with 3-6 levels; an observation is its factor vector, shape (1, 1, F)."""

    factor_names = ["a", "b", "c", "d"]
    factors_num_values = [3, 4, 5, 6]
    observation_shape = (1, 1, 4)

    def sample_observations_from_factors(self, factors, random_state):
        return np.asarray(factors, dtype=np.float64)[:, None, None, :]


F = 4
PERMUTATION = np.array([2, 0, 3, 1])
SCALES = np.array([3.0, -0.5, 7.0, 0.2])


def true_factors(obs):
    """The factors, permuted and rescaled, plus small noise."""
    x = obs[:, 0, 0, :]
    return x[:, PERMUTATION] * SCALES + 0.01 * np.random.default_rng(len(x)).standard_normal(x.shape)


def random_codes(obs):
    return np.random.default_rng(int(obs.sum() * 1000) % 2**32).standard_normal((len(obs), F))


# A rotation by 45 degrees in the planes (a, b) and (c, d) of the standardised
# factors: every code dimension mixes two factors equally.
ROTATION = np.kron(np.eye(2), np.array([[1.0, 1.0], [1.0, -1.0]]) / np.sqrt(2))


def rotated_factors(obs):
    x = obs[:, 0, 0, :]
    levels = np.array(ToyGroundTruth.factors_num_values)
    z = (x - (levels - 1) / 2) / np.sqrt((levels**2 - 1) / 12)
    return z @ ROTATION


METRICS = {
    "beta_vae": lambda gt, f, rs: compute_beta_vae(gt, f, rs, batch_size=16, num_train=300, num_eval=200)["eval_accuracy"],
    "factor_vae": lambda gt, f, rs: compute_factor_vae(gt, f, rs, batch_size=32, num_train=300, num_eval=200, num_variance_estimate=1000)["eval_accuracy"],
    "mig": lambda gt, f, rs: compute_mig(gt, f, rs, num_train=2000)["discrete_mig"],
    "dci": lambda gt, f, rs: compute_dci(gt, f, rs, num_train=600, num_test=300, n_estimators=20)["disentanglement"],
    "sap_quadratic": lambda gt, f, rs: compute_sap_quadratic(gt, f, rs, num_train=1000, num_test=500)["sap"],
}
CHANCE = {"beta_vae": 1 / F, "factor_vae": 1 / F, "mig": 0.0, "dci": 0.0, "sap_quadratic": 0.0}


@pytest.mark.parametrize("name", METRICS)
def test_true_factors_score_near_one(name):
    score = METRICS[name](ToyGroundTruth(), true_factors, np.random.default_rng(0))
    assert score > 0.9, score


@pytest.mark.parametrize("name", METRICS)
def test_random_codes_score_near_chance(name):
    score = METRICS[name](ToyGroundTruth(), random_codes, np.random.default_rng(1))
    assert abs(score - CHANCE[name]) < 0.15, score


@pytest.mark.parametrize("name", METRICS)
def test_rotation_scores_lower_than_identity(name):
    identity = METRICS[name](ToyGroundTruth(), true_factors, np.random.default_rng(2))
    mixed = METRICS[name](ToyGroundTruth(), rotated_factors, np.random.default_rng(2))
    assert mixed < identity - 0.2, (mixed, identity)


def test_same_seed_same_scores():
    a = compute_mig(ToyGroundTruth(), rotated_factors, np.random.default_rng(5), num_train=500)
    b = compute_mig(ToyGroundTruth(), rotated_factors, np.random.default_rng(5), num_train=500)
    assert a == b


def test_dci_on_known_importance_matrices():
    assert disentanglement(np.eye(3)) == pytest.approx(1.0)
    assert completeness(np.eye(3)) == pytest.approx(1.0)
    assert disentanglement(np.ones((3, 3))) == pytest.approx(0.0)
    # one code explains two factors: perfectly complete, half disentangled
    r = np.array([[1.0, 1.0], [0.0, 0.0]])
    assert completeness(r) == pytest.approx(1.0)
    assert disentanglement(r) == pytest.approx(0.0)


def test_mig_reports_per_factor_gaps_and_best_dimension():
    result = compute_mig(ToyGroundTruth(), true_factors, np.random.default_rng(0), num_train=2000)
    assert set(result["per_factor_mig"]) == set(ToyGroundTruth.factor_names)
    # factor f sits in code dimension where PERMUTATION == f
    assert [result["best_dim"][n] for n in ToyGroundTruth.factor_names] == [int(np.flatnonzero(PERMUTATION == f)[0]) for f in range(F)]


def test_bad_representation_shape_is_rejected():
    with pytest.raises(ValueError, match="shape"):
        compute_mig(ToyGroundTruth(), lambda obs: np.zeros(len(obs)), np.random.default_rng(0), num_train=32)


def test_sap_is_disentanglement_libs_on_hand_computed_codes():
    """Continuous branch: R^2 of each dimension with the factor; discrete: LinearSVC(C=0.01) accuracy."""
    y = np.array([[0.0], [1.0], [2.0], [3.0]])
    codes = np.column_stack([y[:, 0], [0.0, 1.0, 0.0, 1.0]])  # R^2 = 1 and (1/3)^2 / (1/3 * 5/3) = 0.2
    scores = sap_score_matrix(codes, y, codes, y, continuous_factors=True)
    np.testing.assert_allclose(scores[:, 0], [1.0, 0.2])
    assert sap_from_score_matrix(scores) == pytest.approx([0.8])

    labels = np.repeat([0, 1], 100)[:, None]
    codes = np.column_stack([10.0 * (2 * labels[:, 0] - 1), np.zeros(200)])  # separable; constant (one class predicted)
    scores = sap_score_matrix(codes, labels, codes, labels)
    np.testing.assert_allclose(scores[:, 0], [1.0, 0.5])  # raw accuracy, not rescaled to chance
    assert sap_from_score_matrix(scores) == pytest.approx([0.5])


def test_sap_and_its_quadratic_variant_differ_on_the_same_code():
    """On the toy's true factors the variant reads near 1; disentanglement_lib's 1-D SVMs cannot reach interior levels."""
    dlib = compute_sap(ToyGroundTruth(), true_factors, np.random.default_rng(0), num_train=1000, num_test=500)["sap"]
    variant = METRICS["sap_quadratic"](ToyGroundTruth(), true_factors, np.random.default_rng(0))
    assert variant > 0.9 and dlib < variant - 0.2, (dlib, variant)
