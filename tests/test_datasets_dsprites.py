"""dSprites: regenerated geometry vs real images, npz format, reader errors, preparation."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest

from facebrain.datasets.dsprites import SHAPES, DSprites, prepare_dsprites, regenerate_dsprites, render_factors
from facebrain.datasets.prepared import PreparedData
from facebrain.errors import DataError

SMALL = {"orientation": 4, "posX": 3, "posY": 2}  # 3 x 6 x 4 x 3 x 2 = 432 images


@pytest.fixture(scope="module")
def small_npz(tmp_path_factory):
    path = tmp_path_factory.mktemp("dsprites") / "dsprites.npz"
    regenerate_dsprites(path, grid=SMALL)
    return path


def test_regenerated_geometry_matches_real_images(fixtures_dir):
    real = np.load(fixtures_dir / "dsprites_sample" / "dsprites_sample_12.npz")
    rendered = render_factors(real["latents_values"]).astype(bool)
    truth = real["imgs"].astype(bool)
    iou = (rendered & truth).sum((1, 2)) / (rendered | truth).sum((1, 2))
    shapes = real["latents_values"][:, 1].astype(int)
    per_shape = {SHAPES[s]: float(iou[shapes == s].mean()) for s in np.unique(shapes)}
    print("IoU per shape:", per_shape, "mean:", float(iou.mean()))
    assert iou.mean() >= 0.85
    assert min(per_shape.values()) >= 0.85


def test_npz_has_the_official_keys_and_c_order(small_npz):
    with np.load(small_npz, allow_pickle=True) as f:
        assert set(f.files) == {"imgs", "latents_values", "latents_classes", "metadata"}
        imgs, values, classes = f["imgs"], f["latents_values"], f["latents_classes"]
        meta = f["metadata"].item()
    assert imgs.shape == (432, 64, 64) and imgs.dtype == np.uint8 and set(np.unique(imgs)) == {0, 1}
    assert meta["latents_sizes"].tolist() == [1, 3, 6, 4, 3, 2] and meta["grid"] == SMALL
    # C-order: the last factor (posY) varies fastest
    assert classes[:3, 5].tolist() == [0, 1, 0] and classes[:3, 4].tolist() == [0, 0, 1]
    np.testing.assert_allclose(values[:, 2][::24][:6], np.linspace(0.5, 1, 6))  # 24 = 4 x 3 x 2 images per scale
    # each image is the rendering of its own latents
    pick = [0, 77, 431]
    np.testing.assert_array_equal(render_factors(values[pick]), imgs[pick])


def test_reader_streams_packed_images_and_indexes_the_grid(small_npz):
    data = DSprites(small_npz)
    with np.load(small_npz) as f:
        imgs = f["imgs"]
    assert data.n == 432 and data.latents_sizes.tolist() == [1, 3, 6, 4, 3, 2]
    np.testing.assert_array_equal(data.images([5, 400]), imgs[[5, 400]])
    assert data.index(data.latents_classes[[7, 300]]).tolist() == [7, 300]


def test_truncated_npz_is_a_data_error(small_npz, tmp_path):
    bad = tmp_path / "truncated.npz"
    bad.write_bytes(small_npz.read_bytes()[: small_npz.stat().st_size // 2])
    with pytest.raises(DataError, match="truncated or corrupt") as err:
        DSprites(bad)
    assert str(bad) in str(err.value)


def test_npz_without_a_key_is_a_data_error(small_npz, tmp_path):
    bad = tmp_path / "nokey.npz"
    with zipfile.ZipFile(small_npz) as src, zipfile.ZipFile(bad, "w") as dst:
        for name in src.namelist():
            if name != "latents_classes.npy":
                dst.writestr(name, src.read(name))
    with pytest.raises(DataError, match="latents_classes"):
        DSprites(bad)


def test_prepare_subsamples_scales_pixels_and_keeps_classes(small_npz, tmp_path):
    out = tmp_path / "dsprites.h5"
    prepare_dsprites(small_npz, out, n_images=200, valid_fraction=0.1, test_fraction=0.1, seed=3)
    source = DSprites(small_npz)
    with PreparedData(out) as data:
        assert data.n == 200 and data.channels == 1
        assert data.factor_names == ["shape", "scale", "orientation", "posX", "posY"]
        ids = data.ids.astype(int)
        np.testing.assert_array_equal(data.images()[..., 0], source.images(ids) * 255)
        np.testing.assert_array_equal(data.factor_classes, source.latents_classes[ids, 1:])
        np.testing.assert_allclose(data.factors, source.latents_values[ids, 1:].astype(np.float32))
        assert np.bincount(data.split, minlength=3).tolist() == [160, 20, 20]
    again = tmp_path / "again.h5"
    prepare_dsprites(small_npz, again, n_images=200, valid_fraction=0.1, test_fraction=0.1, seed=3)
    with PreparedData(again) as a, PreparedData(out) as b:
        assert a.ids.tolist() == b.ids.tolist() and a.split.tolist() == b.split.tolist()


def test_prepare_of_a_corrupt_npz_leaves_no_output(small_npz, tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(small_npz.read_bytes()[:5000])
    with pytest.raises(DataError):
        prepare_dsprites(bad, tmp_path / "out.h5")
    assert not (tmp_path / "out.h5").exists()
