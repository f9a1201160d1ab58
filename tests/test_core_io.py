"""Atomic writing, HDF5 helpers, provenance records and device choice."""

from __future__ import annotations

import json

import h5py
import nibabel as nib
import numpy as np
import pytest

from facebrain.device import resolve_device
from facebrain.errors import DataError
from facebrain.io import atomic_path, read_h5_attrs, read_tsv, write_h5, write_json
from facebrain.nifti import read_nifti_provenance, save_nifti
from facebrain.provenance import config_hash, file_sha256, make_provenance


def test_atomic_path_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out" / "table.csv"
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("killed")
    assert not target.exists()
    assert list(target.parent.iterdir()) == []


def test_atomic_path_keeps_the_previous_version_on_failure(tmp_path):
    target = tmp_path / "x.json"
    write_json(target, {"a": 1})
    with pytest.raises(ValueError):
        with atomic_path(target) as tmp:
            tmp.write_text("{broken")
            raise ValueError
    assert json.loads(target.read_text()) == {"a": 1}


def test_atomic_path_keeps_the_suffix_for_format_sniffing(tmp_path):
    with atomic_path(tmp_path / "map.nii.gz") as tmp:
        assert tmp.name.endswith(".nii.gz")
        tmp.write_bytes(b"")


def test_write_h5_round_trip_with_strings_and_attrs(tmp_path):
    path = tmp_path / "d.h5"
    images = np.arange(2 * 4 * 4 * 1, dtype=np.uint8).reshape(2, 4, 4, 1)
    write_h5(path, {"images": images, "ids": np.array(["000001.jpg", "000002.jpg"])}, attrs={"rule": "r", "params": {"k": [1, 2]}}, chunks={"images": (1, 4, 4, 1)})
    with h5py.File(path) as f:
        np.testing.assert_array_equal(f["images"][:], images)
        assert f["images"].chunks == (1, 4, 4, 1)
        assert [s.decode() for s in f["ids"][:]] == ["000001.jpg", "000002.jpg"]
    attrs = read_h5_attrs(path)
    assert attrs["rule"] == "r"
    assert json.loads(attrs["params"]) == {"k": [1, 2]}


def test_provenance_hash_follows_params_and_inputs(tmp_path):
    src = tmp_path / "in.txt"
    src.write_text("a")
    first = make_provenance("rule_x", {"beta": 4}, [src])
    assert first["config_hash"] == config_hash({"beta": 4}) != config_hash({"beta": 5})
    assert json.loads(first["inputs"]) == {str(src): file_sha256(src)}
    assert "torch" in json.loads(first["versions"])
    src.write_text("b")
    assert make_provenance("rule_x", {"beta": 4}, [src])["inputs"] != first["inputs"]


def test_nifti_provenance_round_trip(tmp_path):
    img = nib.Nifti1Image(np.zeros((2, 2, 2), dtype=np.float32), np.eye(4))
    path = tmp_path / "beta.nii.gz"
    save_nifti(img, path, provenance={"rule": "glm", "config_hash": "abc"})
    assert read_nifti_provenance(path) == {"rule": "glm", "config_hash": "abc"}
    assert nib.load(path).shape == (2, 2, 2)


def test_resolve_device():
    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type in {"cpu", "cuda", "mps"}
    import torch

    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="no CUDA device"):
            resolve_device("cuda")


def test_data_error_survives_pickling():
    import pickle


    err = pickle.loads(pickle.dumps(DataError("a/b.jpg", "not a JPEG")))
    assert isinstance(err, DataError)
    assert (err.path, err.problem, str(err)) == ("a/b.jpg", "not a JPEG", "a/b.jpg: not a JPEG")


def test_atomic_dir_replaces_only_when_complete(tmp_path):
    from facebrain.io import atomic_dir

    out = tmp_path / "tree"
    with atomic_dir(out) as tmp:
        (tmp / "a.txt").write_text("v1")
    with pytest.raises(RuntimeError):
        with atomic_dir(out) as tmp:
            (tmp / "a.txt").write_text("v2-partial")
            raise RuntimeError("killed")
    assert (out / "a.txt").read_text() == "v1"
    assert [p.name for p in tmp_path.iterdir()] == ["tree"]


def test_set_threads_caps_torch_without_importing_it():
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from facebrain.pipeline import set_threads\n"
        "set_threads(1)\n"
        "assert 'torch' not in sys.modules, 'set_threads imported torch'\n"
        "import torch\n"
        "print(torch.get_num_threads())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "1"


def test_a_job_starts_without_the_heavy_libraries():
    """Every script job imports facebrain.pipeline (and with it provenance, io, nifti): the libraries a
    step needs are its own imports (pandas alone is ~0.4 CPU-s, torch ~2)."""
    import subprocess
    import sys

    heavy = ("pandas", "torch", "scipy", "sklearn", "matplotlib", "nilearn", "nibabel", "h5py")
    code = f"import sys, facebrain.pipeline; print([m for m in {heavy!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize("umask", [0o022, 0o002], ids=["umask022", "umask002"])
def test_atomic_outputs_get_the_mode_of_the_umask(tmp_path, umask):
    import os
    import stat

    from facebrain.io import atomic_dir

    old = os.umask(umask)
    try:
        write_json(tmp_path / "x.json", {"a": 1})
        with atomic_dir(tmp_path / "folder") as tmp:
            (tmp / "inner.txt").write_text("x")
        plain = tmp_path / "plain.txt"
        plain.write_text("x")
    finally:
        os.umask(old)
    mode = lambda p: stat.S_IMODE(p.stat().st_mode)  # noqa: E731
    assert mode(tmp_path / "x.json") == 0o666 & ~umask == mode(plain)
    assert mode(tmp_path / "folder") == 0o777 & ~umask


def test_truncated_nifti_and_gifti_are_named(tmp_path):
    from facebrain.nifti import gifti_image, load_gifti, load_nifti, save_gifti

    rng = np.random.default_rng(0)
    save_nifti(nib.Nifti1Image(rng.normal(size=(4, 4, 4, 20)).astype(np.float32), np.diag([2.0, 2.0, 2.0, 1.0])), tmp_path / "bold.nii.gz")
    img = load_nifti(tmp_path / "bold.nii.gz", "BOLD image")
    assert img.shape == (4, 4, 4, 20) and img.affine[0, 0] == 2.0 and isinstance(img.dataobj, np.ndarray)
    save_gifti(gifti_image(rng.normal(size=(5, 642)), "CortexLeft"), tmp_path / "x_hemi-L.func.gii")
    for name, read in (("bold.nii.gz", load_nifti), ("x_hemi-L.func.gii", load_gifti)):
        data = (tmp_path / name).read_bytes()
        cut = tmp_path / f"cut_{name}"
        cut.write_bytes(data[: len(data) // 2])
        with pytest.raises(DataError, match=rf"cut_{name}: cannot read") as err:
            read(cut)
        assert err.value.path == str(cut)
    with pytest.raises(DataError, match="missing.nii.gz: cannot read brain mask"):
        load_nifti(tmp_path / "missing.nii.gz", "brain mask")


def test_read_tsv_keeps_text_and_names_the_file_and_the_missing_column(tmp_path):
    (tmp_path / "events.tsv").write_text("onset\tstim_file\n1.5\tn/a\n")
    table = read_tsv(tmp_path / "events.tsv", "events table", ["onset"])
    assert table.to_dict("list") == {"onset": ["1.5"], "stim_file": ["n/a"]}
    with pytest.raises(DataError, match=r"events.tsv: missing events table column\(s\) \['trial_type'\]") as err:
        read_tsv(tmp_path / "events.tsv", "events table", ["onset", "trial_type"])
    assert err.value.path == str(tmp_path / "events.tsv")
    (tmp_path / "empty.tsv").write_bytes(b"")
    with pytest.raises(DataError, match="empty.tsv: cannot read stimulus audit"):
        read_tsv(tmp_path / "empty.tsv", "stimulus audit")
    with pytest.raises(DataError, match="absent.tsv: cannot read rater labels"):
        read_tsv(tmp_path / "absent.tsv", "rater labels")


def test_frozen_gc_leaves_older_garbage_to_after_the_block():
    import gc
    import weakref

    from facebrain.plotting import frozen_gc

    class Node:
        pass

    def cycle():
        a, b = Node(), Node()
        a.other, b.other = b, a
        return weakref.ref(a)

    gc.disable()  # no automatic collection between the steps
    try:
        old = cycle()  # unreachable cycle that exists before the block: frozen
        with frozen_gc():
            new = cycle()  # created inside: collected as usual
            gc.collect()
            assert old() is not None and new() is None
        gc.collect()
        assert old() is None
    finally:
        gc.enable()
