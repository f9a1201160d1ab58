"""CelebA's landmarks: the file's layout, the continuous attributes (yaw proxy, roll, mouth width),
SynthFaces' landmarks from its 3D head, and the landmark attributes in the prepared CelebA."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from facebrain.datasets.celeba import ATTRIBUTE_NAMES, prepare_faces
from facebrain.datasets.landmarks import LANDMARK_COLUMNS, LANDMARK_FACTORS, landmark_factors, read_landmarks, write_landmarks
from facebrain.datasets.prepared import PreparedData
from facebrain.datasets.synthfaces import generate_synthfaces, render_face, sample_factors, synthfaces_landmarks
from facebrain.errors import DataError

# the first two lines of CelebA's list_landmarks_align_celeba.txt and its first row
REAL_HEAD = "202599\nlefteye_x lefteye_y righteye_x righteye_y nose_x nose_y leftmouth_x leftmouth_y rightmouth_x rightmouth_y\n"
REAL_ROW = "000001.jpg 69  109  106  113   77  142   73  152  108  154\n"


def test_real_layout_is_read_and_gives_the_attributes(tmp_path):
    path = tmp_path / "list_landmarks_align_celeba.txt"
    path.write_text(REAL_HEAD.replace("202599", "1") + REAL_ROW)
    lm = read_landmarks(path)
    assert list(lm.columns) == LANDMARK_COLUMNS and lm.loc["000001.jpg", "nose_x"] == 77
    f = landmark_factors(lm).loc["000001.jpg"]
    assert f.yaw == pytest.approx((77 - 87.5) / np.hypot(37, 4))  # nose left of the eyes' midpoint
    assert f.roll == pytest.approx(np.degrees(np.arctan2(4, 37)), rel=1e-5)
    assert f.mouth_width == pytest.approx(np.hypot(35, 2) / np.hypot(37, 4), rel=1e-5)
    path.write_text(REAL_HEAD + REAL_ROW)
    with pytest.raises(DataError, match="announces 202599 images but 1"):
        read_landmarks(path)
    path.write_text("1\nlefteye_x lefteye_y\n" + REAL_ROW)
    with pytest.raises(DataError, match="line 2"):
        read_landmarks(path)


def test_synthfaces_yaw_proxy_tracks_the_true_yaw():
    factors = sample_factors(2000, np.random.default_rng(0))
    attrs = landmark_factors(synthfaces_landmarks(factors))
    assert np.corrcoef(attrs.yaw, factors.yaw)[0, 1] > 0.9
    assert np.corrcoef(attrs.mouth_width, factors.smile)[0, 1] > 0.5
    assert np.abs(attrs.roll).max() < 5  # SynthFaces heads do not roll


def test_synthfaces_landmarks_sit_on_the_rendered_eyes():
    for yaw in (-0.4, 0.0, 0.4):
        factors = pd.DataFrame([{"yaw": yaw, "smile": 0.0, "skin_tone": -1.0, "gender": 0.0, "hair_color": 0.0,
                                 "light_direction": 0.0, "background": 0.0, "eyeglasses": 0.0}])
        img = render_face(factors.iloc[0].to_dict()).astype(float).mean(axis=2)
        lm = synthfaces_landmarks(factors).iloc[0]
        for side in ("lefteye", "righteye"):
            x, y = lm[f"{side}_x"], lm[f"{side}_y"]
            assert img[y - 1 : y + 2, x - 1 : x + 2].min() < 0.5 * np.median(img[90:150, 60:120])  # the dark iris


def test_synthfaces_writes_the_landmark_file_in_celebas_layout(tmp_path):
    generate_synthfaces(tmp_path / "synthfaces", 5, seed=1)
    text = (tmp_path / "synthfaces" / "list_landmarks_align_celeba.txt").read_text()
    assert text.splitlines()[1] == REAL_HEAD.splitlines()[1]
    lm = read_landmarks(tmp_path / "synthfaces" / "list_landmarks_align_celeba.txt")
    factors = pd.read_csv(tmp_path / "synthfaces" / "factors.tsv", sep="\t").set_index("image_id")
    assert list(lm.index) == list(factors.index) == [f"{i:06d}.jpg" for i in range(1, 6)]


def test_prepared_celeba_has_the_landmark_attributes_beside_the_40(tmp_path):
    root = tmp_path / "celeba"
    (root / "img_align_celeba").mkdir(parents=True)
    rng = np.random.default_rng(0)
    ids = [f"{i + 1:06d}.jpg" for i in range(6)]
    for name in ids:
        Image.fromarray(rng.integers(0, 255, (218, 178, 3), dtype=np.uint8)).save(root / "img_align_celeba" / name)
    rows = [f"{name} {' '.join(map(str, rng.choice([-1, 1], len(ATTRIBUTE_NAMES))))}" for name in ids]
    (root / "list_attr_celeba.txt").write_text("\n".join([str(len(ids)), " ".join(ATTRIBUTE_NAMES), *rows]) + "\n")
    (root / "list_eval_partition.txt").write_text("".join(f"{name} {i % 3}\n" for i, name in enumerate(ids)))
    landmarks = pd.DataFrame(rng.integers(60, 160, (len(ids), 10)), index=ids, columns=LANDMARK_COLUMNS)
    write_landmarks(root / "list_landmarks_align_celeba.txt", landmarks)
    prepare_faces(root, tmp_path / "celeba.h5")
    data = PreparedData(tmp_path / "celeba.h5")
    assert data.factor_names == ATTRIBUTE_NAMES + LANDMARK_FACTORS
    np.testing.assert_allclose(data.factors[:, -3:], landmark_factors(landmarks).to_numpy(), rtol=1e-6)
