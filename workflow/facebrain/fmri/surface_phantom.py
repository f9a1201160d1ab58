"""The simulated brain on fsaverage5: face-selective patches and tuning planted on vertices.

The surface counterpart of :mod:`facebrain.fmri.phantom`, with the same regions
and the same map layout, planted directly on the cortical sheet. Per
hemisphere, three patches sit on the vertices of the mid-thickness surface
nearest to the volume phantom's centres (``phantom.REGIONS``, mirrored in x):
FFA-like on the ventral temporal surface (fusiform), OFA-like on the lateral
occipital surface and STS-like on the posterior superior temporal sulcus. A
patch is a geodesic disc of radius 10-13 mm around a centre jittered by up to
4 mm along the sheet (about 35-70 vertices at fsaverage5's 3 mm spacing).

Inside the patches vertices respond to faces (objects evoke 30% of it) and are
tuned to the z-scored true factors, as in the volume:

- 1st factor (rotation, 'yaw'): OFA-like patches only;
- 2nd factor ('smile'): STS-like patches only -- spatially distinct from the 1st;
- 3rd and 4th factors ('gender', 'skin_tone'): FFA-like patches, their peaks
  on the vertices nearest 5 mm posterior / anterior of the centre, Gaussian in
  geodesic distance (SD 6 mm), so the two maps partly overlap;
- further factors: small maps (SD 3 mm) around random vertices of a patch.

Early visual cortex (mid-thickness y < -76 mm, outside the patches) responds
equally to faces and objects. Every array covers both hemispheres, left then
right (2 x 10,242 vertices); the medial wall carries baseline and noise only.
"""

from __future__ import annotations

import numpy as np

from facebrain.fmri import fsaverage
from facebrain.fmri.phantom import EARLY_VISUAL_GAIN, EARLY_VISUAL_Y, OBJECT_FRACTION, REGIONS, Phantom

RADIUS_MM = (10.0, 13.0)
JITTER_MM = 4.0
#: (region, offset of the peak along y in mm, geodesic SD in mm) of the first four factors.
LAYOUT = (("OFA", 0.0, 6.0), ("STS", 0.0, 6.0), ("FFA", -5.0, 6.0), ("FFA", 5.0, 6.0))
EXTRA_SD_MM = 3.0


def make_surface_phantom(rng: np.random.Generator, n_factors: int, face_gain: float, tuning_gain: float, planted: bool = True) -> Phantom:
    """Draw one subject's surface phantom.

    Parameters
    ----------
    rng : the subject's random generator for the surface (centre jitter, radii, gains, baseline).
    n_factors : number of tuned factors F (see the module's map layout).
    face_gain : face response at a patch's centre, % signal change.
    tuning_gain : peak tuning, % signal change per SD of a factor.
    planted : False for the null mode (tuning all zero).

    Returns
    -------
    :class:`facebrain.fmri.phantom.Phantom` whose arrays are (2 * 10242,) or
    (2 * 10242, F) over the vertices of both hemispheres (left then right);
    ``brain`` is True on every vertex (fMRIPrep samples the medial wall too).
    """
    n = fsaverage.N_VERTICES
    regions = np.zeros(2 * n, np.int8)
    face_amp = np.zeros(2 * n, np.float32)
    early = np.zeros(2 * n, bool)
    names: list[str] = []
    peaks: dict[str, tuple[int, int]] = {}  # region name -> (offset of its hemisphere, centre vertex)
    hemis = ((0, "l", "L"), (n, "r", "R"))
    for name, (x, y, z) in REGIONS.items():  # label order of the volume phantom: lFFA rFFA lOFA rOFA lSTS rSTS
        for offset, side, hemi in hemis:
            mesh = fsaverage.hemisphere(hemi)
            sign = -1.0 if hemi == "L" else 1.0
            base = mesh.nearest_vertex((sign * x, y, z), within=mesh.cortex)
            near = np.flatnonzero((mesh.geodesic_mm(base, limit=JITTER_MM) <= JITTER_MM) & mesh.cortex)
            centre = int(rng.choice(near))
            radius = rng.uniform(*RADIUS_MM)
            gain = face_gain * rng.uniform(0.8, 1.2)
            dist = mesh.geodesic_mm(centre)
            inside = (dist <= radius) & mesh.cortex & (regions[offset:offset + n] == 0)
            names.append(f"{side}{name}")
            regions[offset:offset + n][inside] = len(names)
            face_amp[offset:offset + n][inside] = gain * (1.0 - 0.3 * (dist[inside] / radius) ** 2)
            peaks[f"{side}{name}"] = (offset, centre)
    for offset, _, hemi in hemis:
        mesh = fsaverage.hemisphere(hemi)
        early[offset:offset + n] = mesh.cortex & (mesh.midthickness[:, 1] < EARLY_VISUAL_Y)
    early &= regions == 0
    object_amp = OBJECT_FRACTION * face_amp
    face_amp[early] = EARLY_VISUAL_GAIN
    object_amp[early] = EARLY_VISUAL_GAIN
    tuning = np.zeros((2 * n, n_factors), np.float32)
    if planted:
        subject_gain = tuning_gain * rng.uniform(0.85, 1.15)
        for f in range(n_factors):
            region, shift, sd = LAYOUT[f] if f < len(LAYOUT) else (str(rng.choice(list(REGIONS))), None, EXTRA_SD_MM)
            for side, hemi in (("l", "L"), ("r", "R")):
                offset, centre = peaks[f"{side}{region}"]
                mesh = fsaverage.hemisphere(hemi)
                inside = regions[offset:offset + n] == names.index(f"{side}{region}") + 1
                if shift is None:
                    peak = int(rng.choice(np.flatnonzero(inside)))
                else:
                    peak = mesh.nearest_vertex(mesh.midthickness[centre] + np.array([0.0, shift, 0.0]), within=inside)
                bump = np.exp(-0.5 * (mesh.geodesic_mm(peak) / sd) ** 2)
                tuning[offset:offset + n, f][inside] += subject_gain * bump[inside]
    baseline = 700.0 + rng.normal(0.0, 30.0, 2 * n)
    return Phantom(np.ones(2 * n, bool), regions, names, face_amp, object_amp, tuning, baseline.astype(np.float32))
