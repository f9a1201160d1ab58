"""Spin permutations of fsaverage5 (Alexander-Bloch et al. 2018): rotation bookkeeping and the null's calibration."""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from facebrain.encoding.spin import dice_rows, random_rotations, spin_overlap, spin_sources, top_fraction
from facebrain.fmri import fsaverage

N = fsaverage.N_VERTICES


def nearest(hemi, point):
    return int(np.argmin(np.linalg.norm(fsaverage.hemisphere(hemi).sphere - point, axis=1)))


def test_identity_rotation_keeps_every_vertex():
    vertices = np.array([0, 17, N - 1, N, N + 500, 2 * N - 1])
    assert spin_sources(np.eye(3)[None], vertices).tolist() == [vertices.tolist()]


def test_rotation_moves_values_and_mirrors_the_right_hemisphere():
    quarter = Rotation.from_euler("z", 90, degrees=True).as_matrix()  # (100, 0, 0) -> (0, 100, 0)
    left_target, right_target = nearest("L", (0, 100, 0)), nearest("R", (0, 100, 0))
    (sources,) = spin_sources(quarter[None], np.array([left_target, N + right_target]))
    assert sources[0] == nearest("L", (100, 0, 0))
    assert sources[1] == N + nearest("R", (-100, 0, 0))  # mirrored: the right hemisphere turns the other way


def test_top_fraction_skips_missing_values():
    values = np.array([[np.nan, 5.0, -4.0, 1.0, 0.5], [3.0, np.nan, np.nan, np.nan, np.nan]])
    keep = top_fraction(values, 0.4)
    assert keep.tolist() == [[False, True, True, False, False], [True, False, False, False, False]]
    assert dice_rows(keep[0], keep[0]) == 1.0


def smooth_map(rng, n_bumps=12, width=25.0):
    """Random smooth field on both spheres (sum of Gaussian bumps, width in mm on the radius-100 sphere)."""
    out = []
    for hemi in fsaverage.HEMIS:
        sphere = fsaverage.hemisphere(hemi).sphere
        centres = sphere[rng.choice(N, n_bumps, replace=False)]
        dist = np.linalg.norm(sphere[:, None, :] - centres[None], axis=2)
        out.append(np.exp(-0.5 * (dist / width) ** 2) @ rng.normal(size=n_bumps))
    return np.concatenate(out)


def test_spin_null_is_calibrated_on_independent_smooth_maps():
    rng = np.random.default_rng(4)
    mid = np.concatenate([fsaverage.hemisphere(h).midthickness for h in fsaverage.HEMIS])
    region = np.flatnonzero(fsaverage.cortex_mask() & (mid[:, 1] < -40))  # occipito-temporal cortex
    sources = spin_sources(random_rotations(200, rng), region)
    p = np.array([spin_overlap(smooth_map(rng), smooth_map(rng), region, 0.2, sources).p for _ in range(40)])
    assert 0.3 < np.median(p) < 0.7
    assert np.mean(p < 0.05) <= 0.15
    same = smooth_map(rng)
    result = spin_overlap(same, same, region, 0.2, sources)
    assert result.dice == 1.0 and result.p < 0.02 and result.chance < 0.5


def test_spin_null_rotates_whole_maps_onto_the_region_with_one_set_of_rotations():
    from facebrain.encoding.spin import SpinNull

    region = np.arange(100, 160)
    null = SpinNull(region)
    values = np.arange(2 * N, dtype=float)  # each vertex carries its own index
    first = null.surrogates(values, 5, np.random.default_rng(0))
    assert first.shape == (5, 60)
    np.testing.assert_array_equal(first, null.sources[:5])  # the values come from the rotations' source vertices
    assert not np.isin(first, region).all()  # values from outside the region rotate in
    again = null.surrogates(values[::-1].copy(), 8, np.random.default_rng(99))
    np.testing.assert_array_equal(again[:5], 2 * N - 1 - first)  # the same rotations for the next map
    assert len(null.sources) == 8
