"""The CelebA-layout reader and face preparation: validation errors, zip images, preprocessing."""

from __future__ import annotations

import shutil
import zipfile

import numpy as np
import pytest
from PIL import Image

from facebrain.datasets.celeba import ATTRIBUTE_NAMES, CelebALayout, prepare_faces
from facebrain.datasets.faces import preprocess_face
from facebrain.datasets.landmarks import LANDMARK_FACTORS
from facebrain.datasets.prepared import PreparedData
from facebrain.datasets.synthfaces import generate_synthfaces
from facebrain.errors import DataError


@pytest.fixture(scope="module")
def synth_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("faces") / "synthfaces"
    generate_synthfaces(root, n_images=12, valid_fraction=0.25, test_fraction=0.25, seed=1, workers=1)
    return root


@pytest.fixture
def layout_copy(synth_root, tmp_path):
    return shutil.copytree(synth_root, tmp_path / "copy")


def test_preprocess_face_centre_crop_and_resize():
    img = np.zeros((218, 178, 3), np.uint8)
    img[35:183, 15:163] = 255  # exactly the 148 x 148 centre crop of a CelebA image
    out = preprocess_face(Image.fromarray(img))
    assert out.shape == (64, 64, 3) and out.dtype == np.uint8
    assert out.min() >= 250  # nothing outside the crop leaks in
    gray = preprocess_face(Image.new("L", (300, 300), 128))
    assert gray.shape == (64, 64, 3) and (gray == 128).all()


def test_prepare_synthfaces_content(synth_root, tmp_path):
    out = tmp_path / "synthfaces.h5"
    prepare_faces(synth_root, out, workers=2)
    layout = CelebALayout(synth_root)
    with PreparedData(out) as data:
        assert data.n == 12 and data.channels == 3
        assert data.factor_names[:2] == ["yaw", "smile"] and len(data.factor_names) == 8
        assert data.ids.tolist() == [f"{i:06d}.jpg" for i in range(1, 13)]
        assert data.split.tolist() == [0] * 6 + [1] * 3 + [2] * 3
        np.testing.assert_allclose(data.factors, layout.factors().to_numpy())
        np.testing.assert_array_equal(data.images([4])[0], preprocess_face(layout.read_image("000005.jpg")))


def test_real_celeba_layout_from_zip_gives_attributes_as_factors(layout_copy, tmp_path):
    (layout_copy / "factors.tsv").unlink()  # real CelebA has no ground truth
    with zipfile.ZipFile(layout_copy / "img_align_celeba.zip", "w") as zf:
        for jpg in sorted((layout_copy / "img_align_celeba").iterdir()):
            zf.write(jpg, f"img_align_celeba/{jpg.name}")
    shutil.rmtree(layout_copy / "img_align_celeba")
    out = tmp_path / "celeba.h5"
    prepare_faces(layout_copy, out, n_images=5)
    with PreparedData(out) as data:
        # the 40 attributes, then the landmark attributes (SynthFaces writes CelebA's landmark file too)
        assert data.n == 5 and data.factor_names == ATTRIBUTE_NAMES + LANDMARK_FACTORS
        attrs = CelebALayout(layout_copy).attributes().iloc[:5]
        np.testing.assert_array_equal(data.factors[:, : len(ATTRIBUTE_NAMES)], (attrs.to_numpy() > 0).astype(np.float32))


def test_missing_attribute_column_is_named(layout_copy):
    path = layout_copy / "list_attr_celeba.txt"
    lines = path.read_text().splitlines()
    names = lines[1].split()
    drop = names.index("Smiling")
    lines[1] = " ".join(n for i, n in enumerate(names) if i != drop)
    lines[2:] = [" ".join(v for i, v in enumerate(line.split()) if i != drop + 1) for line in lines[2:]]
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match="Smiling") as err:
        CelebALayout(layout_copy).attributes()
    assert str(path) in str(err.value)


def test_short_attribute_row_is_named_with_its_line(layout_copy):
    path = layout_copy / "list_attr_celeba.txt"
    lines = path.read_text().splitlines()
    lines[4] = lines[4].rsplit(" ", 1)[0]
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match="line 5 has 39 values, expected 40"):
        CelebALayout(layout_copy).attributes()


def test_bad_partition_and_factor_files(layout_copy):
    (layout_copy / "list_eval_partition.txt").write_text("000001.jpg 7\n")
    with pytest.raises(DataError, match="line 1 should be"):
        CelebALayout(layout_copy).partition()
    (layout_copy / "factors.tsv").write_text("image_id\tyaw\n000001.jpg\tleft\n")
    with pytest.raises(DataError, match="factors.tsv: factor values must be numbers"):
        CelebALayout(layout_copy).factors()


def test_missing_image_folder_is_named(layout_copy):
    shutil.rmtree(layout_copy / "img_align_celeba")
    with pytest.raises(DataError, match="img_align_celeba"):
        CelebALayout(layout_copy)


def test_corrupt_jpeg_names_the_file_and_leaves_no_h5(layout_copy, tmp_path):
    bad = layout_copy / "img_align_celeba" / "000009.jpg"
    bad.write_bytes(bad.read_bytes()[:300])
    out = tmp_path / "out" / "synthfaces.h5"
    with pytest.raises(DataError, match="000009.jpg: corrupt or unreadable image"):
        prepare_faces(layout_copy, out, workers=2)
    assert not out.parent.exists() or list(out.parent.iterdir()) == []


def test_checksum_of_annotation_files_is_enforced(layout_copy, tmp_path):
    with pytest.raises(DataError, match="md5 checksum mismatch"):
        prepare_faces(layout_copy, tmp_path / "x.h5", checksums={"list_eval_partition.txt": "0" * 32})
    assert not (tmp_path / "x.h5").exists()
