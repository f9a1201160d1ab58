"""The simulated brain: a cropped MNI152NLin2009cAsym res-2 grid with planted face regions and tuning maps.

Geometry (MNI mm, per hemisphere, mirrored in x): FFA-like (40, -54, -20),
OFA-like (40, -80, -10) and STS-like (46, -56, 2) blobs, each a flat-topped
sphere of radius 4-6 mm whose centre, radius and gain vary per subject. Inside
them voxels respond to faces (objects evoke 30% of it), and are tuned
linearly to the z-scored true factors of the face shown:

- 1st factor (rotation, 'yaw'): OFA-like blobs only;
- 2nd factor ('smile'): STS-like blobs only -- spatially distinct from the 1st;
- 3rd and 4th factors ('gender', 'skin_tone'): FFA-like blobs, their peaks 6 mm
  apart along y so the two maps partly overlap (as in Soulos & Isik's Fig. 5/7);
- further factors: small maps (2 mm) at random positions inside the regions.

Posterior (early visual, y < -76 mm) non-face voxels respond equally to faces
and objects, so faces > objects, not faces > fixation, isolates the regions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: The MNI152NLin2009cAsym res-2 template grid: voxel (i, j, k) -> mm.
MNI_RES2_AFFINE = np.array([[2.0, 0, 0, -96.0], [0, 2.0, 0, -132.0], [0, 0, 2.0, -78.0], [0, 0, 0, 1]])
#: The cropped grid: first voxel of the crop in the template and the crop's shape
#: (x -50..50 mm, y -90..-44 mm, z -28..8 mm: occipito-temporal cortex of both hemispheres).
CROP_START = (23, 21, 25)
CROP_SHAPE = (51, 24, 19)
REGIONS = {"FFA": (40.0, -54.0, -20.0), "OFA": (40.0, -80.0, -10.0), "STS": (46.0, -56.0, 2.0)}
OBJECT_FRACTION = 0.3
EARLY_VISUAL_Y = -76.0
EARLY_VISUAL_GAIN = 1.0
LAYOUT = (("OFA", (0.0, 0.0, 0.0), 4.0), ("STS", (0.0, 0.0, 0.0), 4.0), ("FFA", (0.0, -3.0, 0.0), 3.5), ("FFA", (0.0, 3.0, 0.0), 3.5))


def crop_affine() -> np.ndarray:
    """The (4, 4) affine of the cropped grid: the template's, shifted to the crop's first voxel."""
    affine = MNI_RES2_AFFINE.copy()
    affine[:3, 3] = MNI_RES2_AFFINE[:3, :3] @ np.asarray(CROP_START, float) + MNI_RES2_AFFINE[:3, 3]
    return affine


def voxel_mm() -> np.ndarray:
    """MNI coordinates (mm) of every voxel of the crop, shape (*CROP_SHAPE, 3)."""
    ijk = np.stack(np.meshgrid(*[np.arange(n) for n in CROP_SHAPE], indexing="ij"), axis=-1).astype(float)
    return ijk @ crop_affine()[:3, :3].T + crop_affine()[:3, 3]


@dataclass
class Phantom:
    """A subject's planted truth on the cropped grid (all arrays (*CROP_SHAPE) or (*CROP_SHAPE, F)).

    Attributes
    ----------
    brain : bool, the brain mask.
    regions : int8 labels, 0 outside face regions, 1..6 = left/right FFA, OFA, STS.
    region_names : names of labels 1..6.
    face_amp, object_amp : response to a face / object, % signal change.
    tuning : (..., F) % signal change per standard deviation of each factor.
    baseline : mean BOLD intensity (arbitrary units, 0 outside the brain).
    """

    brain: np.ndarray
    regions: np.ndarray
    region_names: list[str]
    face_amp: np.ndarray
    object_amp: np.ndarray
    tuning: np.ndarray
    baseline: np.ndarray

    @property
    def face_selective(self) -> np.ndarray:
        """bool mask of the planted face-selective voxels."""
        return self.regions > 0


def make_phantom(rng: np.random.Generator, n_factors: int, face_gain: float, tuning_gain: float, planted: bool = True) -> Phantom:
    """Draw one subject's phantom.

    Parameters
    ----------
    rng : the subject's random generator (blob jitter, radii, gains, baseline).
    n_factors : number of tuned factors F (see the module's map layout).
    face_gain : face response at a region's centre, % signal change.
    tuning_gain : peak tuning, % signal change per SD of a factor.
    planted : False for the null mode (tuning all zero).
    """
    mm = voxel_mm()
    centre = np.array([0.0, -67.0, -10.0])
    semi = np.array([60.0, 36.0, 30.0])
    brain = (((mm - centre) / semi) ** 2).sum(-1) <= 1.0
    regions = np.zeros(CROP_SHAPE, np.int8)
    face_amp = np.zeros(CROP_SHAPE, np.float32)
    names, centres = [], {}
    for name, (x, y, z) in REGIONS.items():
        for side, sign in (("l", -1.0), ("r", 1.0)):
            c = np.array([sign * x, y, z]) + rng.uniform(-3.0, 3.0, size=3)
            radius = rng.uniform(4.5, 6.5)
            gain = face_gain * rng.uniform(0.8, 1.2)
            dist = np.linalg.norm(mm - c, axis=-1)
            inside = (dist <= radius) & brain & (regions == 0)
            names.append(f"{side}{name}")
            regions[inside] = len(names)
            face_amp[inside] = gain * (1.0 - 0.3 * (dist[inside] / radius) ** 2)
            centres[f"{side}{name}"] = c
    object_amp = OBJECT_FRACTION * face_amp
    early = brain & (regions == 0) & (mm[..., 1] < EARLY_VISUAL_Y)
    face_amp[early] = EARLY_VISUAL_GAIN
    object_amp[early] = EARLY_VISUAL_GAIN
    tuning = np.zeros((*CROP_SHAPE, n_factors), np.float32)
    if planted:
        subject_gain = tuning_gain * rng.uniform(0.85, 1.15)
        for f in range(n_factors):
            for region, offset, sigma in _factor_layout(f, rng):
                for side in ("l", "r"):
                    c = centres[f"{side}{region}"] + np.asarray(offset)
                    bump = np.exp(-0.5 * (np.linalg.norm(mm - c, axis=-1) / sigma) ** 2)
                    inside = regions == names.index(f"{side}{region}") + 1
                    tuning[..., f][inside] += subject_gain * bump[inside]
    baseline = np.where(brain, 600.0 + 250.0 * np.exp(-(((mm - centre) / semi) ** 2).sum(-1)) + rng.normal(0, 20, CROP_SHAPE), 0.0)
    return Phantom(brain, regions, names, face_amp, object_amp, tuning, baseline.astype(np.float32))


def _factor_layout(f: int, rng: np.random.Generator) -> Sequence[tuple[str, tuple[float, float, float], float]]:
    """(region, offset mm, sigma mm) of the map(s) of factor ``f``."""
    if f < len(LAYOUT):
        return [LAYOUT[f]]
    region = str(rng.choice(list(REGIONS)))
    return [(region, tuple(rng.uniform(-3.0, 3.0, size=3)), 2.0)]
