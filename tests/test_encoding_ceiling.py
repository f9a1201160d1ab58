"""Noise ceiling: Spearman-Brown, and a perfect model's rho against the ceiling as the noise falls."""

import numpy as np
import pytest

from facebrain.encoding.ceiling import noise_ceiling, spearman_brown, voxel_ceiling
from facebrain.encoding.glm import split_half_reliability
from facebrain.encoding.permutation import spearman_columns


def test_spearman_brown():
    np.testing.assert_allclose(spearman_brown(np.array([0.0, 0.5, 1.0])), [0.0, 2 / 3, 1.0])
    assert voxel_ceiling(np.array([-0.5]))[0] == 0.0 and voxel_ceiling(np.array([-1.0]))[0] == 0.0


def oracle_and_ceiling(noise, rng, n_faces=20, n_vox=2000):
    """Two halves of test-face responses = true responses + noise; the oracle predicts the truth up to a small fit error."""
    true = rng.normal(size=(n_faces, n_vox))
    halves = [true + noise * rng.normal(size=true.shape) for _ in range(2)]
    oracle = true + 0.2 * rng.normal(size=true.shape)
    measured = (halves[0] + halves[1]) / 2
    return spearman_columns(oracle, measured).mean(), noise_ceiling(split_half_reliability(*halves))


def test_oracle_below_the_ceiling_and_approaching_it_as_noise_falls():
    rng = np.random.default_rng(0)
    noises = [4.0, 2.0, 1.0, 0.5, 0.25]
    results = [oracle_and_ceiling(noise, rng) for noise in noises]
    gaps = [ceiling - rho for rho, ceiling in results]
    fractions = [rho / ceiling for rho, ceiling in results]
    assert all(gap > 0 for gap in gaps), gaps
    assert all(np.diff(fractions) > 0), fractions
    assert fractions[-1] > 0.93 and fractions[-1] - fractions[0] > 0.05


def test_ceiling_tracks_the_reliability():
    """Noise-free halves: ceiling 1; pure noise: the clipped ceiling stays small."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(20, 500))
    assert noise_ceiling(split_half_reliability(x, x)) == pytest.approx(1.0)
    assert noise_ceiling(split_half_reliability(rng.normal(size=(20, 500)), rng.normal(size=(20, 500)))) < 0.35


def test_split_halves_cover_every_test_face_in_both_halves():
    """Alternating sets (ds001761): every face in both halves; a different subset per run (the simulator): most faces shown twice do."""
    import pandas as pd

    from facebrain.encoding.glm import split_halves

    class Run:
        def __init__(self, faces):
            self.events = pd.DataFrame({"trial_type": "test_face", "stim_name": list(faces)})

    alternating = [Run(range(10)), Run(range(10, 20))] * 3
    assert split_halves(alternating) == [0, 1, 1, 0, 0, 1]
    rng = np.random.default_rng(0)
    subsets = [Run(rng.choice(20, 10, replace=False)) for _ in range(6)]
    halves = split_halves(subsets)
    covered = [set().union(*(set(r.events.stim_name) for r, h in zip(subsets, halves) if h == half)) for half in (0, 1)]
    shown_twice = {f for f in range(20) if sum(f in set(r.events.stim_name) for r in subsets) >= 2}
    assert len(shown_twice & covered[0] & covered[1]) >= 0.8 * len(shown_twice)


def test_split_halves_of_few_overlapping_runs_put_most_faces_in_both_halves():
    """sub-01 of the demo: six runs without test faces, then two disjoint sets of 10 and a run with 5 of each.

    The greedy order alone put the first and the third together (5 faces in both halves, the
    noise ceiling a correlation over 5 single-trial betas: 0 on fsaverage5); the two disjoint
    runs against the mixed one give 10.
    """
    import pandas as pd

    from facebrain.encoding.glm import split_halves

    class Run:
        def __init__(self, faces):
            self.events = pd.DataFrame({"trial_type": "test_face", "stim_name": list(faces)}) if faces else pd.DataFrame({"trial_type": ["train_face"], "stim_name": ["T1"]})

    runs = [Run(())] * 6 + [Run(range(10)), Run(range(10, 20)), Run([*range(5), *range(10, 15)])]
    halves = split_halves(runs)
    covered = [set().union(*(set(r.events.stim_name) for r, h in zip(runs, halves) if h == half and len(r.events) > 1)) for half in (0, 1)]
    assert len(covered[0] & covered[1]) == 10, halves
    assert halves[:6] == [0, 1, 0, 1, 0, 1]  # runs without test faces stay where the greedy order put them
