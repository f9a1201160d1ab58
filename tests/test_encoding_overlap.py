"""Overlap of labelled dimensions' maps against the volume's spatial null (circular shifts)."""

import numpy as np
import pytest

from facebrain.encoding.overlap import ShiftNull, overlap_test

SHAPE = (48, 24, 18)  # about the simulator's 51 x 24 x 19 crop


def blob(centre, sd=2.0):
    grid = np.stack(np.meshgrid(*[np.arange(n) for n in SHAPE], indexing="ij"), axis=-1)
    return np.exp(-((grid - np.asarray(centre)) ** 2).sum(-1) / (2 * sd**2))


@pytest.fixture(scope="module")
def planted():
    """As the simulator plants them: gender and skin tone peaks 3 voxels (6 mm) apart, yaw and smile in separate regions."""
    rng = np.random.default_rng(0)
    inside = np.zeros(SHAPE, bool)
    inside[2:46, 2:22, 2:16] = True
    maps = {"gender": blob((14, 10, 8)), "skin_tone": blob((17, 10, 8)), "yaw": blob((30, 8, 7)), "smile": blob((8, 17, 10))}
    maps = {f: m[inside] + 0.05 * rng.normal(size=inside.sum()) for f, m in maps.items()}
    region = sum(m > 0.15 for m in maps.values()) > 0
    return inside, np.flatnonzero(region), maps


def test_shift_surrogate_moves_the_whole_map():
    inside = np.ones((4, 5, 3), bool)
    values = np.arange(60.0)
    null = ShiftNull(inside, np.arange(60))
    surrogate = null.surrogates(values, 50, np.random.default_rng(0))
    shift = null.shifts[0]
    expected = np.roll(values.reshape(4, 5, 3), tuple(shift), axis=(0, 1, 2)).ravel()
    np.testing.assert_array_equal(surrogate[0], expected)
    assert not (null.shifts == 0).all(axis=1).any()
    outside = np.ones((4, 5, 3), bool)
    outside[0] = False
    assert np.isnan(ShiftNull(outside, np.arange(45)).surrogates(np.zeros(45), 30, np.random.default_rng(1))).any()


def test_planted_overlap_is_above_chance_and_distinct_maps_are_not(planted):
    inside, region, maps = planted
    null = ShiftNull(inside, region)
    rng = np.random.default_rng(1)
    shared = overlap_test(maps["gender"], maps["skin_tone"], null, 0.2, 999, rng)
    distinct = overlap_test(maps["yaw"], maps["smile"], null, 0.2, 999, rng)
    assert shared.p < 0.05 and shared.dice > shared.chance
    assert distinct.p > 0.05 and distinct.dice < 0.1
    assert 0 < shared.chance < 0.5
