"""Reading and collecting provenance records of HDF5 and NIfTI outputs."""

from __future__ import annotations

import hashlib
import json

import nibabel as nib
import numpy as np
import pytest

from facebrain.errors import DataError
from facebrain.io import write_h5
from facebrain.nifti import save_nifti
from facebrain.provenance import collect_provenance, environment_record, make_provenance, read_provenance


@pytest.fixture
def results(tmp_path):
    """A results/ folder with one HDF5 and one NIfTI output carrying provenance, and one without."""
    root = tmp_path / "results"
    src = tmp_path / "resources" / "in.txt"
    src.parent.mkdir()
    src.write_text("input")
    prov = make_provenance("train", {"model": "vae", "beta": 4.0}, [src])
    write_h5(root / "latents" / "vae" / "dsprites.h5", {"mu": np.zeros((3, 2), np.float32)}, attrs=prov)
    img = nib.Nifti1Image(np.ones((2, 2, 2), np.float32), np.eye(4))
    save_nifti(img, root / "encoding" / "sub-01" / "rho.nii.gz", provenance=make_provenance("encode", {"alpha": 1.0}, [src]))
    write_h5(root / "bare.h5", {"x": np.arange(3)})
    write_h5(root / "generated.h5", {"x": np.arange(3)}, attrs=make_provenance("simulate", {"n": 3}))
    (root / "table1.csv").write_text("a,b\n1,2\n")
    return root


def test_read_provenance_decodes_h5_and_nifti_records(results):
    h5 = read_provenance(results / "latents" / "vae" / "dsprites.h5")
    assert h5["rule"] == "train"
    assert h5["params"] == {"beta": 4.0, "model": "vae"}
    assert list(h5["inputs"].values()) == [hashlib.sha256(b"input").hexdigest()]
    assert "torch" in h5["versions"]
    nii = read_provenance(results / "encoding" / "sub-01" / "rho.nii.gz")
    assert nii["rule"] == "encode" and nii["params"] == {"alpha": 1.0}
    assert read_provenance(results / "bare.h5") == {}


def test_collect_provenance_lists_every_file_and_flags_missing_records(results):
    out = results / "provenance.json"
    collect_provenance(out, provenance=make_provenance("collect_provenance"))
    data = json.loads(out.read_text())
    assert sorted(data["files"]) == ["results/bare.h5", "results/encoding/sub-01/rho.nii.gz", "results/generated.h5", "results/latents/vae/dsprites.h5"]
    # a generator without input files has complete provenance (inputs {})
    assert data["files"]["results/generated.h5"]["inputs"] == {}
    assert data["missing"] == {"results/bare.h5": ["rule", "config_hash", "inputs", "versions"]}
    assert data["rules"] == {"(unknown)": 1, "encode": 1, "simulate": 1, "train": 1}
    assert data["files"]["results/latents/vae/dsprites.h5"]["config_hash"] == make_provenance("train", {"model": "vae", "beta": 4.0})["config_hash"]
    assert data["collected_by"]["rule"] == "collect_provenance"


def test_collect_provenance_skips_temporary_files_of_running_jobs(results):
    (results / ".rho.nii.gz.tmpab12.nii.gz").write_bytes(b"partial")
    data = collect_provenance(results / "provenance.json")
    assert not any(".tmp" in name for name in data["files"])


def test_corrupt_output_raises_data_error_naming_the_file_and_writes_nothing(results):
    bad = results / "broken.h5"
    bad.write_bytes(b"not an hdf5 file")
    with pytest.raises(DataError, match="broken.h5: cannot read provenance"):
        collect_provenance(results / "provenance.json")
    assert not (results / "provenance.json").exists()


def test_unsupported_file_type_is_a_data_error(tmp_path):
    path = tmp_path / "table.csv"
    path.write_text("a\n")
    with pytest.raises(DataError, match="table.csv: provenance is read from"):
        read_provenance(path)


def test_environment_record_resolves_the_configured_device(tmp_path):
    out = tmp_path / "env.json"
    record = environment_record(out, device="cpu", provenance=make_provenance("environment", {"device": "cpu"}))
    assert json.loads(out.read_text()) == record
    assert record["device"] == "cpu"
    assert record["provenance"]["params"] == {"device": "cpu"}
    assert record["versions"]["numpy"] == np.__version__
