"""Prepared HDF5: writer validation and atomicity, reader, torch batches."""

from __future__ import annotations

import numpy as np
import pytest

from facebrain.datasets.prepared import CHUNK_IMAGES, PreparedData, iterate_batches, write_prepared
from facebrain.errors import DataError


def _write(path, n=100, channels=3, **overrides):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (n, 64, 64, channels), dtype=np.uint8)
    kwargs = dict(
        images=images,
        factors=rng.normal(size=(n, 2)),
        factor_names=["a", "b"],
        split=np.r_[np.zeros(n - 20), np.ones(10), 2 * np.ones(10)].astype(int),
        ids=[f"{i + 1:06d}.jpg" for i in range(n)],
        provenance={"rule": "test"},
    )
    kwargs.update(overrides)
    write_prepared(path, **kwargs)
    return kwargs


def test_roundtrip_and_random_reads(tmp_path):
    path = tmp_path / "d.h5"
    written = _write(path)
    with PreparedData(path) as data:
        assert data.n == 100 and data.channels == 3
        assert data.factor_names == ["a", "b"]
        assert data.ids[0] == "000001.jpg" and data.attrs["rule"] == "test"
        np.testing.assert_allclose(data.factors, written["factors"].astype(np.float32))
        idx = np.array([99, 3, 3, 40, 0, 65])  # unsorted, repeated, several chunks
        np.testing.assert_array_equal(data.images(idx), written["images"][idx])
        np.testing.assert_array_equal(data.images(), written["images"])
        assert data.indices(2).tolist() == list(range(90, 100))
        assert data.factor_classes is None
        assert data._images.chunks[0] == CHUNK_IMAGES and data._images.compression == "gzip"


def test_iterate_batches_shape_range_coverage_and_determinism(tmp_path):
    path = tmp_path / "d.h5"
    written = _write(path, channels=1)
    with PreparedData(path) as data:
        train = data.indices(0)
        stream = iterate_batches(data, train, 16, np.random.default_rng(1), device="cpu")
        batches = [next(stream) for _ in range(5)]  # 80 images = one pass over the 80 training images
        assert batches[0].shape == (16, 1, 64, 64) and batches[0].dtype.is_floating_point
        assert 0.0 <= float(min(b.min() for b in batches)) and float(max(b.max() for b in batches)) <= 1.0
        seen = np.concatenate([(b.numpy()[:, 0] * 255).round().astype(np.uint8) for b in batches])
        expected = written["images"][train][..., 0]
        # one pass is a permutation of the training images
        assert sorted(map(bytes, seen)) == sorted(map(bytes, expected))
        again = iterate_batches(data, train, 16, np.random.default_rng(1), device="cpu")
        np.testing.assert_array_equal(next(again).numpy(), batches[0].numpy())
        uncached = iterate_batches(data, train, 16, np.random.default_rng(1), device="cpu", cache_bytes=0)
        np.testing.assert_array_equal(next(uncached).numpy(), batches[0].numpy())


@pytest.mark.parametrize(
    "override, problem",
    [
        ({"factor_names": ["a"]}, "factor names"),
        ({"split": np.full(100, 3)}, "split"),
        ({"ids": ["same"] * 100}, "not unique"),
        ({"images": np.zeros((100, 32, 32, 3), np.uint8)}, "images must be uint8"),
        ({"images": np.zeros((99, 64, 64, 3), np.uint8)}, "99 images for 100 ids"),
    ],
)
def test_bad_input_names_the_file_and_leaves_nothing(tmp_path, override, problem):
    path = tmp_path / "bad.h5"
    with pytest.raises(DataError, match=problem) as err:
        _write(path, **override)
    assert str(path) in str(err.value)
    assert list(tmp_path.iterdir()) == []


def test_failure_midway_through_streamed_images_leaves_nothing(tmp_path):
    path = tmp_path / "d.h5"

    def blocks():
        yield np.zeros((50, 64, 64, 3), np.uint8)
        raise DataError("img_align_celeba/000051.jpg", "corrupt")

    with pytest.raises(DataError, match="000051.jpg"):
        _write(path, images=blocks())
    assert list(tmp_path.iterdir()) == []


def test_reader_rejects_missing_and_foreign_files(tmp_path):
    with pytest.raises(DataError, match="not found"):
        PreparedData(tmp_path / "none.h5")
    (tmp_path / "junk.h5").write_bytes(b"not hdf5")
    with pytest.raises(DataError, match="not a readable HDF5"):
        PreparedData(tmp_path / "junk.h5")
    import h5py

    with h5py.File(tmp_path / "partial.h5", "w") as f:
        f["images"] = np.zeros((1, 64, 64, 1), np.uint8)
    with pytest.raises(DataError, match="missing dataset"):
        PreparedData(tmp_path / "partial.h5")
