"""Noise ceiling of the encoding score: how high rho could be given the reliability of the measured responses.

Per voxel, the split-half reliability ``r`` of the test-face responses (Pearson r across the test
faces between the test betas fitted on two halves of the runs, :func:`facebrain.encoding.glm.split_half_reliability`)
is Spearman-Brown corrected to the reliability of the full data, ``r_full = 2 r / (1 + r)``. A perfect
model's predictions correlate with the measured responses at about ``sqrt(r_full)`` (the correlation of
the true responses with their noisy measurement), so a voxel's ceiling is ``sqrt(max(r_full, 0))``. With 20 test faces a voxel's
reliability is noisy (its SD is about 0.2), and clipping it at 0 before the square root
biases a mean of voxel ceilings upwards where reliability is low; the subject's ceiling
therefore corrects and takes the square root of the *mean* split-half r over the voxels the
encoding score averages (the face-selective ones). By Jensen's inequality it is at least the
mean of the voxels' true ceilings, so a perfect model's mean rho stays below it.
Table 1 reports each rho as a fraction of it.
"""

from __future__ import annotations

import numpy as np


def spearman_brown(r: np.ndarray, factor: float = 2.0) -> np.ndarray:
    """Reliability of ``factor`` times the data from the reliability ``r`` of one part: ``f r / (1 + (f - 1) r)``."""
    r = np.asarray(r, dtype=np.float64)
    return factor * r / (1 + (factor - 1) * r)


def voxel_ceiling(split_half_r: np.ndarray) -> np.ndarray:
    """(V,) ceiling of each voxel's correlation: ``sqrt(max(spearman_brown(split_half_r), 0))``."""
    return np.sqrt(np.clip(spearman_brown(np.clip(split_half_r, -0.999, 1.0)), 0.0, None))


def noise_ceiling(split_half_r: np.ndarray) -> float:
    """The subject's ceiling over the given (selected) voxels: :func:`voxel_ceiling` of their mean split-half r."""
    return float(voxel_ceiling(np.array([np.mean(split_half_r)]))[0])
