"""SynthFaces: each factor checked on rendered pixels; the CelebA-layout dataset on disk."""

from __future__ import annotations

import colorsys

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from facebrain.datasets.celeba import ATTRIBUTE_NAMES, CelebALayout
from facebrain.datasets.faces import preprocess_face
from facebrain.datasets.synthfaces import FACTOR_NAMES, generate_synthfaces, render_face

SWEEP = np.linspace(-1, 1, 7)


def render(**factors) -> np.ndarray:
    return render_face(factors).astype(float)


def strictly_increasing(values) -> bool:
    return bool(np.all(np.diff(values) > 0))


def test_contract_shape_order_and_determinism():
    assert FACTOR_NAMES == ["yaw", "smile", "skin_tone", "gender", "hair_color", "light_direction", "background", "eyeglasses"]
    img = render_face({"yaw": 0.3, "smile": -0.2, "eyeglasses": 1})
    assert img.shape == (218, 178, 3) and img.dtype == np.uint8
    np.testing.assert_array_equal(img, render_face({"yaw": 0.3, "smile": -0.2, "eyeglasses": 1}))
    with pytest.raises(ValueError, match="unknown SynthFaces factor"):
        render_face({"age": 0.1})
    with pytest.raises(ValueError, match="outside"):
        render_face({"yaw": 1.5})


def test_yaw_turns_the_head_about_its_aligned_eyes():
    """The face turns towards the image's right; images are aligned on the eyes (as CelebA's), so the eyes
    stay on the centre line while the head's outline moves left and more hair shows on the left."""
    from facebrain.datasets.synthfaces import synthfaces_landmarks

    skin_x, dark_x = [], []
    ref = render()[130, 89]  # skin colour at the face's centre
    for yaw in SWEEP:
        img = render(yaw=yaw)[40:170]
        skin = np.abs(img - ref).sum(-1) < 60
        dark = img.sum(-1) < 250  # hair, eyes, brows
        skin_x.append(np.nonzero(skin)[1].mean())
        dark_x.append(np.nonzero(dark)[1].mean())
    assert strictly_increasing(-np.array(skin_x)), skin_x
    assert strictly_increasing(-np.array(dark_x)), dark_x
    assert skin_x[0] - skin_x[-1] > 8 and dark_x[0] - dark_x[-1] > 10
    base = {name: 0.0 for name in FACTOR_NAMES}
    marks = synthfaces_landmarks(pd.DataFrame([{**base, "yaw": yaw} for yaw in SWEEP]))
    eyes_x = (marks.lefteye_x + marks.righteye_x) / 2
    assert np.ptp(eyes_x) <= 1 and abs(eyes_x.mean() - 89) <= 1, eyes_x.tolist()
    nose = (marks.nose_x - eyes_x).to_numpy()  # the nose turns right of the eyes' midpoint
    assert np.all(np.diff(nose) >= 0) and nose[-1] - nose[0] >= 3, nose


@pytest.mark.parametrize("base", [{}, {"skin_tone": 0.6, "gender": -0.7, "hair_color": 0.8, "background": -0.4}])
def test_smile_changes_the_mouth_region_and_little_else(base):
    frown, smile = render(**base, smile=-1), render(**base, smile=1)
    changed = np.abs(frown - smile).sum(-1) > 30
    mouth = np.zeros_like(changed)
    mouth[135:172, 60:120] = True
    assert changed.sum() > 100
    assert changed[~mouth].sum() <= 0.02 * changed.sum()


def test_skin_tone_darkens_the_skin_only():
    imgs = [render(skin_tone=v) for v in SWEEP]
    cheek = [img[128:138, 95:105].mean() for img in imgs]
    assert strictly_increasing(-np.array(cheek)) and cheek[0] - cheek[-1] > 100
    for img in imgs[1:]:
        np.testing.assert_array_equal(img[:40], imgs[0][:40])  # background
        np.testing.assert_array_equal(img[70:78, 80:98], imgs[0][70:78, 80:98])  # hair


def test_gender_widens_the_jaw_and_shortens_the_hair():
    widths, low_hair = [], []
    for v in SWEEP:
        img = render(gender=v, hair_color=-1, skin_tone=-1, background=-1)
        dark = img.sum(-1) < 120  # black hair
        face = (np.abs(img - img[150, 2]).sum(-1) > 60) & ~dark
        widths.append(face[160].sum())
        low_hair.append(dark[150:200].sum())
    assert strictly_increasing(widths), widths
    assert np.all(np.diff(low_hair) <= 0) and low_hair[0] > 300 and low_hair[-1] == 0, low_hair


def test_hair_color_changes_the_hair_only():
    imgs = [render(hair_color=v) for v in SWEEP]
    hair = [img[70:78, 80:98].mean() for img in imgs]
    assert strictly_increasing(hair) and hair[-1] - hair[0] > 100
    for img in imgs[1:]:
        np.testing.assert_array_equal(img[125:140, 80:100], imgs[0][125:140, 80:100])  # face
        np.testing.assert_array_equal(img[:40], imgs[0][:40])  # background


def test_light_direction_moves_the_bright_side():
    asymmetry = []
    for v in SWEEP:
        lum = render(light_direction=v).mean(-1)
        asymmetry.append(lum[110:150, 90:108].mean() - lum[110:150, 70:88].mean())  # right minus left cheek
    assert strictly_increasing(asymmetry) and asymmetry[0] < -20 < 20 < asymmetry[-1], asymmetry


def test_background_changes_the_hue_behind_the_head_only():
    imgs = [render(background=v) for v in SWEEP]
    hues = [colorsys.rgb_to_hsv(*(img[5, 5] / 255))[0] for img in imgs]
    assert strictly_increasing(-np.array(hues)), hues
    for img in imgs[1:]:
        np.testing.assert_array_equal(img[90:160, 70:110], imgs[0][90:160, 70:110])


def test_eyeglasses_draw_frames_around_the_eyes():
    plain, glasses = render(eyeglasses=0), render(eyeglasses=1)
    changed = np.abs(plain - glasses).sum(-1) > 30
    rows = np.nonzero(changed)[0]
    assert changed.sum() > 200 and rows.min() >= 100 and rows.max() <= 130


@pytest.mark.parametrize("factor", FACTOR_NAMES)
def test_every_factor_is_visible_after_preprocessing(factor):
    low = 0.0 if factor == "eyeglasses" else -1.0
    a = preprocess_face(Image.fromarray(render_face({factor: low}))).astype(float)
    b = preprocess_face(Image.fromarray(render_face({factor: 1.0}))).astype(float)
    assert (np.abs(a - b).sum(-1) > 30).sum() >= 40  # at least 40 of the 64x64 model-input pixels change


def test_generate_writes_celeba_layout_with_ground_truth(tmp_path):
    root = tmp_path / "synthfaces"
    generate_synthfaces(root, n_images=20, valid_fraction=0.1, test_fraction=0.2, seed=5, workers=2)
    layout = CelebALayout(root)
    attrs, partition, factors = layout.attributes(), layout.partition(), layout.factors()
    assert list(attrs.columns) == ATTRIBUTE_NAMES and attrs.index[0] == "000001.jpg" and len(attrs) == 20
    assert partition.tolist() == [0] * 14 + [1] * 2 + [2] * 4
    assert list(factors.columns) == FACTOR_NAMES
    assert ((factors.drop(columns="eyeglasses").abs() <= 1).all().all()) and set(factors.eyeglasses) <= {0.0, 1.0}
    np.testing.assert_array_equal(attrs.Male == 1, factors.gender > 0)
    np.testing.assert_array_equal(attrs.Eyeglasses == 1, factors.eyeglasses == 1)
    np.testing.assert_array_equal(attrs.Smiling == 1, factors.smile > 0.2)
    img = layout.read_image("000007.jpg")
    assert img.size == (178, 218)
    expected = render_face(factors.loc["000007.jpg"].to_dict())
    assert np.abs(np.asarray(img, float) - expected).mean() < 4  # only JPEG loss
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary folder left
