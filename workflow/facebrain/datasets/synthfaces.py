"""SynthFaces: procedurally rendered colour faces with known generative factors.

Every image is a deterministic function of eight factors (:data:`FACTOR_NAMES`):

========== ========= =========================================================
factor     range     what it changes
========== ========= =========================================================
yaw        [-1, 1]   head rotation about the vertical axis, +-40 degrees
                     (positive turns the face towards the image's right;
                     images are aligned on the eyes as CelebA's are, so the
                     head's outline moves against the background as it turns)
smile      [-1, 1]   mouth curvature (frown .. broad open smile with teeth), width
skin_tone  [-1, 1]   skin colour, pale .. dark
gender     [-1, 1]   female .. male appearance: jaw width and squareness,
                     face length, hair length, eyebrow thickness, lip colour
hair_color [-1, 1]   black .. brown .. blond
light_dir. [-1, 1]   azimuth of the key light, +-70 degrees (Lambertian shading)
background [-1, 1]   background hue (blue .. green .. orange)
eyeglasses {0, 1}    dark-framed glasses
========== ========= =========================================================

The head is a 3D surface (an ellipsoid whose lower half is reshaped into a
jaw) inside a hair shell, over a neck and shoulders. Each pixel's ray is
intersected with these surfaces in closed form, the hit point is rotated
back into head coordinates, and the face's features (eyes, brows, nose,
mouth, glasses, ears, hairline) are painted in the head's (longitude,
height) coordinates, so that yaw is a real rotation: features slide and
foreshorten, one ear and more hair come into view. Images are rendered at
2x and box-filtered to CelebA's aligned size, 178 x 218 (anti-aliased).

:func:`generate_synthfaces` writes a dataset in CelebA's own layout.
"""

from __future__ import annotations

import colorsys
import logging
import math
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from PIL import Image
from tqdm import tqdm

from facebrain.datasets.faces import preprocess_face

log = logging.getLogger(__name__)

FACTOR_NAMES = ["yaw", "smile", "skin_tone", "gender", "hair_color", "light_direction", "background", "eyeglasses"]
"""The generative factors, in the order of ``factors.tsv`` and the prepared ``factors``."""
BINARY_FACTORS = ("eyeglasses",)
WIDTH, HEIGHT = 178, 218
SUPERSAMPLE = 2
MAX_YAW = math.radians(40)
MAX_LIGHT = math.radians(70)

_CENTER = (89.0, 122.0)  # head centre in the 178 x 218 image (pixels)
_UNIT = 54.0  # pixels per head unit (the head's half-height)
_SKIN = (np.array([240, 208, 186]), np.array([96, 62, 44]))
_HAIR = (np.array([22, 18, 16]), np.array([112, 70, 38]), np.array([232, 196, 128]))
_SHIRT = np.array([70, 82, 100])
_LIPS = np.array([176, 70, 80])
# The mouth (head units): half-width at a neutral smile and its change per unit of smile, how far
# the corners rise, how far it opens onto the teeth at smile 1 (opening from smile > MOUTH_OPENS_AT),
# and how much of the opening's lower half the teeth fill. Large enough that the smile is a visible
# share of the 64x64 image (as CelebA's open smiles are), not a line a few pixels long.
MOUTH_WIDTH, MOUTH_WIDEN, MOUTH_BEND, MOUTH_OPEN, MOUTH_OPENS_AT, TEETH_DOWN = 0.32, 0.08, 0.22, 0.22, 0.0, 0.5


def _check_factors(factors: Mapping[str, float]) -> dict[str, float]:
    unknown = set(factors) - set(FACTOR_NAMES)
    if unknown:
        raise ValueError(f"unknown SynthFaces factor(s) {sorted(unknown)}; expected {FACTOR_NAMES}")
    out = {name: float(factors.get(name, 0.0)) for name in FACTOR_NAMES}
    for name, value in out.items():
        lo = 0.0 if name in BINARY_FACTORS else -1.0
        if not lo <= value <= 1.0 or not math.isfinite(value):
            raise ValueError(f"SynthFaces factor {name}={value} is outside [{lo:g}, 1]")
    return out


def _lerp3(colors: tuple[np.ndarray, ...], t: float) -> np.ndarray:
    """Piecewise-linear colour along ``colors`` for ``t`` in [-1, 1]."""
    pos = (t + 1) / 2 * (len(colors) - 1)
    i = min(int(pos), len(colors) - 2)
    w = pos - i
    return (1 - w) * colors[i] + w * colors[i + 1]


class _Surface:
    """A surface of revolution-like shape x^2/A(y)^2 + z^2/C(y)^2 = 1, seen after a yaw rotation."""

    def __init__(self, half_width, half_depth):
        self.A, self.C = half_width, half_depth

    def hit(self, X, Y, psi, far=False):
        """View-space depth Z (nan where missed) and head coords (x, z) of the nearest (or, with ``far``, the farthest) hit."""
        A, C = self.A(Y), self.C(Y)
        ok = (A > 1e-6) & (C > 1e-6)
        A, C = np.where(ok, A, 1.0), np.where(ok, C, 1.0)
        c, s = math.cos(psi), math.sin(psi)
        qa = s * s / A**2 + c * c / C**2
        qb = 2 * X * c * s * (1 / C**2 - 1 / A**2)
        qc = X * X * (c * c / A**2 + s * s / C**2) - 1
        disc = qb * qb - 4 * qa * qc
        ok = ok & (disc >= 0)
        Z = (-qb + (-1 if far else 1) * np.sqrt(np.where(ok, disc, 0))) / (2 * qa)
        Z = np.where(ok, Z, np.nan)
        return Z, X * c - Z * s, X * s + Z * c

    def normal(self, x, y, z, psi):
        """Unit normal in view space at head-space points (x, y, z)."""
        h = 1e-3
        A, C = self.A(y), self.C(y)
        dA = (self.A(y + h) - self.A(y - h)) / (2 * h)
        dC = (self.C(y + h) - self.C(y - h)) / (2 * h)
        A, C = np.maximum(A, 1e-3), np.maximum(C, 1e-3)
        nx, nz = x / A**2, z / C**2
        ny = -(x * x * dA / A**3 + z * z * dC / C**3)
        c, s = math.cos(psi), math.sin(psi)
        vx, vz = nx * c + nz * s, -nx * s + nz * c
        norm = np.sqrt(vx * vx + ny * ny + vz * vz) + 1e-9
        return vx / norm, ny / norm, vz / norm


def _hair_length(g: float) -> float:
    """How far the hair falls below the head centre (head units) for gender appearance ``g`` in [0, 1]."""
    return 0.05 + 1.25 * (1 - g)


def _head_surfaces(g: float) -> tuple[_Surface, _Surface]:
    """Face and hair-shell surfaces for gender appearance ``g`` in [0 female, 1 male]."""
    a, c = 0.74 + 0.04 * g, 0.86
    chin = 1.0 + 0.06 * g  # face length below the centre
    p_low = 1.7 + 1.6 * g  # jaw squareness (superellipse exponent)
    jaw = 0.86 + 0.16 * g  # lower-face width relative to the cheeks

    def profile(y):
        y = np.asarray(y, dtype=np.float64)
        up = np.sqrt(np.clip(1 - y * y, 0, None))
        t = np.clip(-y / chin, 0, 1)
        low = jaw * np.clip(1 - t**p_low, 0, None) ** (1 / p_low) + (1 - jaw) * np.sqrt(np.clip(1 - t * t, 0, None)) * (1 - t)
        return np.where(y >= 0, up, low)

    face = _Surface(lambda y: a * profile(y), lambda y: c * profile(y))
    top, length = 1.12, _hair_length(g)
    ha, hc = 1.08 * a, 1.1 * c

    def hair_profile(y):
        y = np.asarray(y, dtype=np.float64)
        up = np.sqrt(np.clip(1 - (y / top) ** 2, 0, None))
        fall = np.clip((y + length) / 0.15, 0, 1)  # rounded ends
        flare = 1 + 0.25 * (1 - g) * np.clip(-y / 0.6, 0, 1)  # long hair falls wider than the face
        return np.where(y >= 0, up, flare * np.sqrt(fall))

    hair = _Surface(lambda y: ha * hair_profile(y), lambda y: hc * hair_profile(y))
    return face, hair


def _smoothstep(edge, x, width):
    """0 where x << edge, 1 where x >> edge, a linear ramp of ``width`` between (anti-aliasing)."""
    return np.clip((x - edge) / width + 0.5, 0, 1)


def render_face(factors: Mapping[str, float]) -> np.ndarray:
    """Render one SynthFaces image.

    Parameters
    ----------
    factors : mapping factor name -> value (see :data:`FACTOR_NAMES`);
        continuous factors in [-1, 1], ``eyeglasses`` in [0, 1] (> 0.5 draws
        glasses). Missing factors take their neutral value 0.

    Returns
    -------
    numpy.ndarray
        uint8 (218, 178, 3) RGB, deterministic given ``factors``.
    """
    f = _check_factors(factors)
    g = (f["gender"] + 1) / 2
    psi = f["yaw"] * MAX_YAW
    ss = SUPERSAMPLE
    px = ((np.arange(WIDTH * ss) + 0.5) / ss).astype(np.float32)
    py = ((np.arange(HEIGHT * ss) + 0.5) / ss).astype(np.float32)
    face, hair = _head_surfaces(g)
    X = ((px - _CENTER[0]) / _UNIT + _eye_shift(face, psi))[None, :]  # (1, W) head units, x right; eyes' midpoint at the centre
    Y = (-(py - _CENTER[1]) / _UNIT)[:, None]  # (H, 1) head units, y up

    phi = f["light_direction"] * MAX_LIGHT
    light = np.array([math.sin(phi), 0.35, math.cos(phi)])
    light /= np.linalg.norm(light)

    hue = 0.6 - 0.25 * (f["background"] + 1)  # 0.6 blue .. 0.1 orange
    bg = np.array(colorsys.hsv_to_rgb(hue % 1.0, 0.45, 0.85)) * 255
    img = np.broadcast_to(bg * (1 - 0.12 * (py / HEIGHT))[:, None, None], (len(py), len(px), 3)).copy()

    skin = _lerp3(_SKIN, f["skin_tone"])
    hair_rgb = _lerp3(_HAIR, f["hair_color"])

    # shoulders (2D, lit from the same side)
    sh = ((X / 1.75) ** 2 + ((Y + 2.05) / 0.75) ** 2) <= 1
    shirt = _SHIRT * (1 + 0.18 * math.sin(phi) * np.clip(X / 1.75, -1, 1))[..., None]
    img = np.where(sh[..., None], shirt, img)

    # neck: a vertical cylinder
    rn = 0.34 + 0.08 * g
    neck = (np.abs(X) < rn) & (Y < -0.45) & (Y > -1.75)
    nz_ = np.sqrt(np.clip(rn * rn - X * X, 0, None))
    nshade = 0.3 + 0.55 * np.clip((X / rn) * light[0] + (nz_ / rn) * light[2], 0, None)
    img = np.where(neck[..., None], skin * 0.92 * nshade[..., None], img)

    # the head lies inside this window; everything below is computed there only
    rows = np.flatnonzero((Y[:, 0] > -1.45) & (Y[:, 0] < 1.25))
    cols = np.flatnonzero(np.abs(X[0]) < 1.1)
    win = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
    X, Y = X[:, win[1]], Y[win[0], :]
    shape2d = (Y.shape[0], X.shape[1])
    Zf, xf, zf = face.hit(X, Y, psi)
    Zh, xh, zh = hair.hit(X, Y, psi)
    theta_h = np.arctan2(xh, zh)
    # hair region on the shell: above the hairline, or behind the face's sides
    hairline = 0.5 - 0.32 * np.clip(np.abs(theta_h) / (math.pi / 2), 0, 1.4) ** 2
    beside_face = (np.abs(xh) > 0.97 * face.A(Y)) & ((zh < 0.2) | (Y > -0.7))  # hair falling beside the face
    ears_free = (_hair_length(g) < 0.25) & (Y > -0.2) & (Y < 0.22)  # short hair leaves the ears visible
    on_hair = ~np.isnan(Zh) & ((Y > hairline) | ((beside_face | (np.abs(theta_h) > 1.45)) & ~ears_free))
    on_face = ~np.isnan(Zf)
    hair_front = on_hair & (~on_face | (Zh > Zf))
    # the inside of the hair shell (hair hanging behind the neck) where nothing is in front of it
    Zb, _, _ = hair.hit(X, Y, psi, far=True)
    hair_back = ~np.isnan(Zb) & ~on_face & ~hair_front & ~neck[win] & (Y < 0.3)

    # face colour from features painted in head coordinates (u = longitude, v = height)
    u = np.arctan2(xf, zf)
    v = np.broadcast_to(Y, shape2d)
    col = np.broadcast_to(skin, shape2d + (3,)).copy()

    def paint(mask, rgb):
        """Blend ``rgb`` (a colour or a per-pixel colour array) into ``col`` with opacity ``mask``."""
        where = np.nonzero(mask > 0)
        m = np.clip(np.asarray(mask, dtype=np.float64)[where], 0, 1)[:, None]
        rgb = np.asarray(rgb, dtype=np.float64)
        rgb = rgb[where] if rgb.ndim == 3 else rgb
        col[where] = (1 - m) * col[where] + m * rgb

    # ears at the sides of the head
    for side in (-1, 1):
        d = ((u - side * 1.5) / 0.12) ** 2 + ((v - 0.02) / 0.16) ** 2
        paint(_smoothstep(1.0, 1 / np.maximum(d, 1e-6), 0.3), skin * 0.82)
    # eyes, irises, brows
    for side in (-1, 1):
        du, dv = u - side * 0.37, v - 0.12
        eye = (du / 0.14) ** 2 + (dv / 0.06) ** 2
        paint(1 - _smoothstep(1.0, eye, 0.25), (236, 232, 226))
        iris = (du / 0.055) ** 2 + (dv / 0.055) ** 2
        paint((1 - _smoothstep(1.0, iris, 0.3)) * (eye < 1.1), (70, 48, 30))
        paint((1 - _smoothstep(0.3, iris, 0.1)) * (eye < 1.1), (12, 10, 10))
        lid = np.abs(dv - 0.06 * np.sqrt(np.clip(1 - (du / 0.15) ** 2, 0, 1))) < 0.012
        paint(lid * (np.abs(du) < 0.15), skin * 0.45)
        brow_v = 0.27 + 0.035 * np.cos(du / 0.2 * 1.3)
        brow_t = 0.018 + 0.022 * g
        brow = (np.abs(v - brow_v) < brow_t) & (np.abs(du + side * 0.02) < 0.19)
        paint(brow * 0.9, hair_rgb * 0.7 + 10)
    # nose: shading on the side away from the light, nostrils
    nose = (np.abs(u) < 0.08) & (v < 0.05) & (v > -0.3)
    side_dark = np.clip(-np.sign(phi + 1e-6) * u / 0.08, 0, 1) * nose
    paint(side_dark * 0.35, skin * 0.6)
    for side in (-1, 1):
        nos = ((u - side * 0.065) / 0.035) ** 2 + ((v + 0.3) / 0.018) ** 2
        paint(1 - _smoothstep(1.0, nos, 0.4), skin * 0.4)
    # mouth: the smile bends the line between the lips, widens it and opens it onto the teeth
    smile = f["smile"]
    w = MOUTH_WIDTH + MOUTH_WIDEN * smile
    t = np.clip(u / w, -1.2, 1.2)
    centre = -0.55 + MOUTH_BEND * smile * t * t - 0.05 * smile
    inside = np.abs(t) < 1
    taper = np.sqrt(np.clip(1 - t * t, 0, 1))
    upper = 0.03 + 0.015 * taper
    lower = 0.035 + 0.03 * taper
    lips_rgb = skin * (0.7 - 0.15 * (1 - g)) + _LIPS * (0.3 + 0.15 * (1 - g))
    open_h = MOUTH_OPEN * max(smile - MOUTH_OPENS_AT, 0) / (1 - MOUTH_OPENS_AT) * taper
    lips = inside & (v < centre + upper + open_h / 2) & (v > centre - lower - open_h / 2)
    paint(lips, lips_rgb)
    gap = inside & (np.abs(v - centre) < np.maximum(open_h / 2, 0.006))
    paint(gap, (60, 25, 30))
    teeth = inside & (v > centre - TEETH_DOWN * open_h / 2) & (v < centre + open_h / 2) & (np.abs(t) < 0.8)
    paint(teeth, (238, 236, 228))
    # eyeglasses: frames around the eyes and a bridge
    if f["eyeglasses"] > 0.5:
        for side in (-1, 1):
            r = np.sqrt(((u - side * 0.37) / 0.2) ** 2 + ((v - 0.1) / 0.13) ** 2)
            paint((np.abs(r - 1) < 0.12) * 1.0, (25, 25, 30))
            paint((r < 0.88) * 0.15, (120, 140, 160))
            temple = (np.abs(v - 0.17) < 0.017) & (np.abs(u) > 0.57) & (np.abs(u) < 1.45) & (u * side > 0)
            paint(temple, (25, 25, 30))
        bridge = (np.abs(u) < 0.18) & (np.abs(v - 0.16) < 0.018)
        paint(bridge, (25, 25, 30))

    # Lambertian shading of face and hair
    nfx, nfy, nfz = face.normal(xf, Y, zf, psi)
    face_shade = 0.35 + 0.7 * np.clip(nfx * light[0] + nfy * light[1] + nfz * light[2], 0, None)
    nhx, nhy, nhz = hair.normal(xh, Y, zh, psi)
    hair_shade = 0.3 + 0.7 * np.clip(nhx * light[0] + nhy * light[1] + nhz * light[2], 0, None)
    strands = 1 + 0.1 * np.sin(38 * theta_h + 5 * Y)
    hair_col = hair_rgb * (hair_shade * strands)[..., None]
    face_col = col * face_shade[..., None]

    head = img[win]
    head[...] = np.where(hair_back[..., None], hair_rgb * 0.4 * strands[..., None], head)
    head[...] = np.where((on_face & ~hair_front)[..., None], face_col, head)
    head[...] = np.where(hair_front[..., None], hair_col, head)
    img = np.clip(img, 0, 255).reshape(HEIGHT, ss, WIDTH, ss, 3).mean(axis=(1, 3))
    return np.round(img).astype(np.uint8)


def _prepared_face(row: np.ndarray) -> np.ndarray:
    """One face as the prepared data set holds it: :func:`render_face`, then :func:`preprocess_face`."""
    return preprocess_face(Image.fromarray(render_face(dict(zip(FACTOR_NAMES, map(float, row))))))


def render_faces(values: np.ndarray, workers: int = 1) -> np.ndarray:
    """Render faces as the prepared data set holds them, on ``workers`` processes.

    Each face is a deterministic function of its row, and rows come back in
    order, so the result is the same bytes whatever the number of workers.

    Parameters
    ----------
    values : float (n, 8), factor values, columns in :data:`FACTOR_NAMES` order.
    workers : rendering processes (1: in this process, no pool).

    Returns
    -------
    uint8 (n, 64, 64, 3): :func:`render_face`, then :func:`facebrain.datasets.faces.preprocess_face`.
    """
    values = np.asarray(values, dtype=np.float64)
    workers = min(int(workers), len(values))
    if workers <= 1:
        return np.stack([_prepared_face(row) for row in values])
    with ProcessPoolExecutor(workers) as pool:  # chunks of ~4 per worker: few round trips, balanced ends
        return np.stack(list(pool.map(_prepared_face, values, chunksize=max(1, len(values) // (4 * workers)))))


def sample_factors(n: int, rng: np.random.Generator, eyeglasses_rate: float = 0.3) -> pd.DataFrame:
    """Draw ``n`` independent factor settings.

    Continuous factors are uniform on [-1, 1]; ``eyeglasses`` is 1 with
    probability ``eyeglasses_rate``.

    Returns
    -------
    pandas.DataFrame
        (n, 8), columns :data:`FACTOR_NAMES`.
    """
    values = rng.uniform(-1.0, 1.0, size=(n, len(FACTOR_NAMES)))
    frame = pd.DataFrame(values, columns=FACTOR_NAMES)
    frame["eyeglasses"] = (rng.random(n) < eyeglasses_rate).astype(float)
    return frame


def celeba_attributes(factors: pd.DataFrame) -> pd.DataFrame:
    """Derive CelebA's 40 binary attributes (+1 / -1) from SynthFaces factors.

    Attributes the renderer can show are derived from the factors:
    Smiling (smile > 0.2), Mouth_Slightly_Open (smile > 0.25: the teeth show clearly),
    Male (gender > 0), Wearing_Lipstick (gender < 0), Heavy_Makeup
    (gender < -0.5), Bushy_Eyebrows (gender > 0.5), Oval_Face
    (gender < -0.3), Pale_Skin (skin_tone < -0.5), Black_Hair
    (hair_color < -0.4), Blond_Hair (hair_color > 0.4), Brown_Hair (between),
    Eyeglasses; every face has Bangs, Straight_Hair, No_Beard and Young.
    The others (hats, beards, ...) never occur: -1.

    Parameters
    ----------
    factors : DataFrame with columns :data:`FACTOR_NAMES` (n rows).

    Returns
    -------
    pandas.DataFrame
        int (n, 40), columns :data:`facebrain.datasets.celeba.ATTRIBUTE_NAMES`.
    """
    from facebrain.datasets.celeba import ATTRIBUTE_NAMES

    f = factors
    true = pd.Series(True, index=f.index)
    derived = {
        "Smiling": f.smile > 0.2,
        "Mouth_Slightly_Open": f.smile > 0.25,
        "Male": f.gender > 0,
        "Wearing_Lipstick": f.gender < 0,
        "Heavy_Makeup": f.gender < -0.5,
        "Bushy_Eyebrows": f.gender > 0.5,
        "Oval_Face": f.gender < -0.3,
        "Pale_Skin": f.skin_tone < -0.5,
        "Black_Hair": f.hair_color < -0.4,
        "Blond_Hair": f.hair_color > 0.4,
        "Brown_Hair": (f.hair_color >= -0.4) & (f.hair_color <= 0.4),
        "Eyeglasses": f.eyeglasses > 0.5,
        "Bangs": true, "Straight_Hair": true, "No_Beard": true, "Young": true,
    }
    out = pd.DataFrame(-1, index=f.index, columns=ATTRIBUTE_NAMES, dtype=int)
    for name, mask in derived.items():
        out.loc[mask, name] = 1
    return out


# Where the landmarks sit on the head, in its (longitude u, height v) coordinates, as painted
# by render_face: the eye centres, and the mouth corners at the ends of the line between the lips.
_EYE_U, _EYE_V = 0.37, 0.12
# SynthFaces' nose is painted flat on the head's surface (no 3D ridge). Its landmark is the
# painted nose's lower part, where the face is widest below the eyes: a point far in front of
# the eyes' plane, so its offset from the eyes' midpoint follows the head's rotation.
_NOSE_V = -0.2


def _surface_x(face: _Surface, u: float, v: float, psi: float) -> float:
    """Horizontal position (head units, from the head's axis) of the face surface's point at longitude ``u``, height ``v`` after a yaw ``psi``."""
    a, c = float(face.A(np.array(v))), float(face.C(np.array(v)))
    r = 1.0 / math.sqrt(math.sin(u) ** 2 / a**2 + math.cos(u) ** 2 / c**2)
    return r * math.sin(u) * math.cos(psi) + r * math.cos(u) * math.sin(psi)


def _eye_shift(face: _Surface, psi: float) -> float:
    """Where the eyes' midpoint sits (head units, right of the head's axis) after a yaw ``psi``.

    Images are aligned as CelebA's are: on the eyes. The head is drawn shifted by minus this
    amount, so the eyes' midpoint stays on the image's centre line while the head's outline,
    hair, ears and neck move the other way as it turns.
    """
    return 0.5 * (_surface_x(face, -_EYE_U, _EYE_V, psi) + _surface_x(face, _EYE_U, _EYE_V, psi))


def _project(face: _Surface, u: float, v: float, psi: float) -> tuple[float, float]:
    """Image pixel (x, y) of the face surface's point at longitude ``u``, height ``v`` after a yaw ``psi`` (eyes aligned, see :func:`_eye_shift`)."""
    return _CENTER[0] + (_surface_x(face, u, v, psi) - _eye_shift(face, psi)) * _UNIT, _CENTER[1] - v * _UNIT


def synthfaces_landmarks(factors: pd.DataFrame) -> pd.DataFrame:
    """CelebA's five landmarks of each SynthFaces image, projected from its 3D head.

    The eye centres, the nose (see ``_NOSE_V``) and the mouth corners (the smile widens and
    lifts them) are points of the rendered head surface in its own coordinates; each is
    rotated by the face's yaw and projected as :func:`render_face` does, then rounded to
    whole pixels as CelebA's file has them.

    Parameters
    ----------
    factors : DataFrame with columns :data:`FACTOR_NAMES` (n rows).

    Returns
    -------
    int DataFrame (n, 10), same index, columns
    :data:`facebrain.datasets.landmarks.LANDMARK_COLUMNS`.
    """
    from facebrain.datasets.landmarks import LANDMARK_COLUMNS

    rows = []
    for yaw, smile, gender in zip(factors["yaw"], factors["smile"], factors["gender"]):
        face, _ = _head_surfaces((gender + 1) / 2)
        psi = yaw * MAX_YAW
        mouth_u, mouth_v = MOUTH_WIDTH + MOUTH_WIDEN * smile, -0.55 + (MOUTH_BEND - 0.05) * smile  # the ends of the line between the lips
        points = [(-_EYE_U, _EYE_V), (_EYE_U, _EYE_V), (0.0, _NOSE_V), (-mouth_u, mouth_v), (mouth_u, mouth_v)]
        rows.append([round(c) for u, v in points for c in _project(face, u, v, psi)])
    return pd.DataFrame(rows, index=factors.index, columns=LANDMARK_COLUMNS, dtype=int)


def _render_to_file(job: tuple[str, dict[str, float], int]) -> None:
    path, factors, quality = job
    Image.fromarray(render_face(factors)).save(path, format="JPEG", quality=quality)


def generate_synthfaces(out_dir: str | Path, n_images: int, valid_fraction: float = 0.1, test_fraction: float = 0.1,
                        eyeglasses_rate: float = 0.3, jpeg_quality: int = 95, seed: int = 0, workers: int = 1,
                        provenance: Mapping[str, Any] | None = None) -> None:
    """Render a SynthFaces dataset in CelebA's layout.

    Writes, under ``out_dir``: ``img_align_celeba/NNNNNN.jpg`` (178 x 218,
    numbered from 000001 like CelebA), ``list_attr_celeba.txt`` (count line,
    the 40 attribute names, then ``file v1..v40`` in {-1, 1}, see
    :func:`celeba_attributes`), ``list_eval_partition.txt`` (``file 0|1|2``;
    like CelebA, train images come first, then valid, then test),
    ``list_landmarks_align_celeba.txt`` (CelebA's layout, :func:`synthfaces_landmarks`),
    ``factors.tsv`` (``image_id`` and the factor values) and ``README``.
    The folder is built next to ``out_dir`` and renamed into place when
    complete (an existing ``out_dir`` is replaced).

    Parameters
    ----------
    out_dir : destination folder (e.g. ``resources/synthfaces``).
    n_images : number of images.
    valid_fraction, test_fraction : fractions of images in the valid and test partitions.
    eyeglasses_rate : probability of glasses.
    jpeg_quality : JPEG quality (CelebA's images are JPEGs too).
    seed : seeds the factor draws.
    workers : rendering processes.
    provenance : recorded in the README.
    """
    from facebrain.datasets.landmarks import LANDMARKS_FILE, write_landmarks
    from facebrain.io import atomic_dir, write_table, write_text

    if n_images < 1:
        raise ValueError(f"n_images must be >= 1, got {n_images}")
    out_dir = Path(out_dir)
    rng = np.random.default_rng(seed)
    factors = sample_factors(n_images, rng, eyeglasses_rate)
    names = [f"{i + 1:06d}.jpg" for i in range(n_images)]
    n_test, n_valid = round(test_fraction * n_images), round(valid_fraction * n_images)
    partition = np.zeros(n_images, dtype=int)
    partition[n_images - n_test - n_valid : n_images - n_test] = 1
    partition[n_images - n_test :] = 2

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    with atomic_dir(out_dir) as tmp:
        (tmp / "img_align_celeba").mkdir()
        jobs = [(str(tmp / "img_align_celeba" / name), row, jpeg_quality)
                for name, row in zip(names, factors.to_dict("records"))]
        log.info("rendering %d SynthFaces images with %d worker(s) into %s", n_images, workers, out_dir)
        if workers > 1:
            with ProcessPoolExecutor(workers) as pool:
                for _ in tqdm(pool.map(_render_to_file, jobs, chunksize=16), total=n_images, desc="SynthFaces"):
                    pass
        else:
            for job in tqdm(jobs, desc="SynthFaces"):
                _render_to_file(job)
        attrs = celeba_attributes(factors)
        lines = [str(n_images), " ".join(attrs.columns)]
        lines += [f"{name} " + " ".join(f"{v:2d}" for v in row) for name, row in zip(names, attrs.to_numpy())]
        write_text(tmp / "list_attr_celeba.txt", "\n".join(lines) + "\n")
        write_text(tmp / "list_eval_partition.txt", "".join(f"{n} {p}\n" for n, p in zip(names, partition)))
        write_landmarks(tmp / LANDMARKS_FILE, synthfaces_landmarks(factors).set_axis(names))
        write_table(tmp / "factors.tsv", pd.concat([pd.Series(names, name="image_id"), factors], axis=1), float_format="%.6f")
        write_text(tmp / "README", _readme(n_images, seed, provenance))


def _readme(n_images: int, seed: int, provenance: Mapping[str, Any] | None) -> str:
    return (
        "SynthFaces: procedurally rendered faces in CelebA's layout (facebrain.datasets.synthfaces).\n"
        f"{n_images} images, seed {seed}. factors.tsv holds the ground-truth factors "
        f"({', '.join(FACTOR_NAMES)}); continuous ones in [-1, 1], eyeglasses 0/1.\n"
        f"provenance: {dict(provenance or {})}\n"
    )
