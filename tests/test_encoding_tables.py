"""Pipeline steps downstream of the GLM (accuracy, tables, figures) on small files made here."""

import json

import h5py
import nibabel as nib
import numpy as np
import pandas as pd
import pytest

from facebrain.encoding.accuracy import evaluate_encoding
from facebrain.encoding.figures import plot_beta_maps, plot_group_figures, plot_rho_map
from facebrain.encoding.tables import labelled_dimensions, stars, write_beta_overlap, write_decoding_table, write_table1
from facebrain.errors import DataError
from facebrain.fmri.spaces import VOLUME, SpaceMask
from facebrain.io import write_h5
from conftest import colour_ranges

SHAPE = (8, 8, 5)


@pytest.fixture
def glm_files(tmp_path):
    """A GLM file whose test betas follow the prediction in half of the voxels, with its masks."""
    rng = np.random.default_rng(0)
    affine = np.diag([2.0, 2.0, 2.0, 1.0])
    brain = np.ones(SHAPE, np.uint8)
    brain[0] = 0
    selective = np.zeros(SHAPE, np.uint8)
    selective[2:6, 2:6, 1:4] = 1
    nib.save(nib.Nifti1Image(brain, affine), tmp_path / "brain.nii.gz")
    nib.save(nib.Nifti1Image(selective, affine), tmp_path / "sel.nii.gz")
    n_vox, k = int(brain.sum()), 3
    W = np.zeros((k, n_vox), np.float32)
    sel = selective[brain > 0] > 0
    W[0, sel] = 1.0  # dim 0 and dim 1 share the selective voxels; dim 2 elsewhere
    W[1, sel] = 0.8
    W[2, ~sel] = 1.0
    W += 0.01 * rng.normal(size=W.shape).astype(np.float32)
    z_test = rng.normal(size=(20, k))
    test = z_test @ W + 0.5 * rng.normal(size=(20, n_vox))
    write_h5(tmp_path / "glm.h5", {"W": W, "bias": np.zeros(n_vox, np.float32), "test_betas": test.astype(np.float32), "z_test": z_test,
                                   "test_faces": np.array([f"F{i}.jpg" for i in range(20)], dtype=object), "split_half_r": np.ones(n_vox, np.float32)})
    SpaceMask(VOLUME, brain > 0, affine).save(W, tmp_path / "betas.nii.gz")
    SpaceMask(VOLUME, brain > 0, affine).save(8 * W, tmp_path / "zmaps.nii.gz")
    pd.DataFrame({"dim": [0, 1, 2], "factor": ["gender", "skin_tone", "yaw"], "abs_corr": [0.9, 0.7, 0.8]}).to_csv(tmp_path / "labels.tsv", sep="\t", index=False)
    return tmp_path


def test_evaluate_encoding_writes_score_and_maps(glm_files):
    t = glm_files
    res = evaluate_encoding(t / "glm.h5", t / "brain.nii.gz", t / "sel.nii.gz", t / "enc.h5", t / "enc.json", t / "rho.nii.gz", t / "fdr.nii.gz", n_permutations=199, seed=1)
    summary = json.loads((t / "enc.json").read_text())
    assert summary["n_voxels"] == 48 and summary["p"] == pytest.approx(1 / 200) and summary["rho"] > 0.5
    rho = np.asarray(nib.load(t / "rho.nii.gz").dataobj)
    assert rho.shape == SHAPE and (rho[nib.load(t / "sel.nii.gz").get_fdata() == 0] == 0).all()
    assert np.isclose(rho[nib.load(t / "sel.nii.gz").get_fdata() > 0].mean(), res.score, atol=1e-6)
    with h5py.File(t / "enc.h5") as f:
        assert f["null"].shape == (199,) and f.attrs["n_permutations"] == 199
    nib.save(nib.Nifti1Image(np.zeros(SHAPE, np.uint8), np.eye(4)), t / "empty.nii.gz")
    with pytest.raises(DataError, match="empty.nii.gz.*no face-selective voxel"):
        evaluate_encoding(t / "glm.h5", t / "brain.nii.gz", t / "empty.nii.gz", t / "e.h5", t / "e.json", t / "r.nii.gz", t / "f.nii.gz", n_permutations=99)
    assert not (t / "e.json").exists()
    fig = plot_rho_map(t / "rho.nii.gz", t / "brain.nii.gz", t / "enc.json", "sub-01 test", t / "rho.png")
    rho_max = float(np.abs(rho).max())
    assert colour_ranges(fig) == [pytest.approx((-rho_max, rho_max), rel=0.05)]  # the colour bar, its ends rounded by nilearn
    for ax in fig.axes:  # every slice maps colours from -max|rho| to max|rho|
        assert [(im.norm.vmin, im.norm.vmax) for im in ax.get_images()] in ([], [pytest.approx((-rho_max, rho_max))])
    fig = plot_beta_maps(t / "betas.nii.gz", t / "zmaps.nii.gz", t / "sel.nii.gz", t / "labels.tsv", "sub-01 test", t / "betas.png")
    inside = nib.load(t / "sel.nii.gz").get_fdata() > 0
    beta_max = float(np.abs(nib.load(t / "betas.nii.gz").get_fdata()[inside]).max())
    # one row per labelled dimension: beta (one shared scale) beside its FDR-thresholded z map
    assert colour_ranges(fig)[::2] == [pytest.approx((-beta_max, beta_max), rel=0.05)] * 3
    titles = [text.get_text() for ax in fig.axes for text in ax.texts if text.get_text().startswith("dim ")]
    assert [title.split(":")[0] for title in titles[::2]] == ["dim 0 ~ gender", "dim 1 ~ skin_tone", "dim 2 ~ yaw"]
    assert all(": z, FDR q < 0.05" in title for title in titles[1::2])


def test_beta_overlap_separates_distinct_and_shared_maps(glm_files):
    t = glm_files
    table = write_beta_overlap([t / "glm.h5"], [t / "brain.nii.gz"], [t / "brain.nii.gz"], [t / "labels.tsv"], ["01"], ["m"], ["MNI152NLin2009cAsym"],
                               t / "overlap.csv", top_fraction=0.15, n_null=99)
    pair = {frozenset((a, b)): d for a, b, d in zip(table.factor_a, table.factor_b, table.dice)}
    assert pair[frozenset(("gender", "skin_tone"))] > 0.8
    assert pair[frozenset(("gender", "yaw"))] < 0.1
    assert list(pd.read_csv(t / "overlap.csv").columns) == ["subject", "model", "space", "factor_a", "dim_a", "factor_b", "dim_b", "dice", "chance", "p",
                                                            "null", "n_null", "n_top"]
    assert set(table.null) == {"shift"} and (table.n_null == 99).all()


def test_labelled_dimensions_keep_the_best_dim_per_factor(tmp_path):
    pd.DataFrame({"dim": [0, 1, 2, 3], "factor": ["smile", "smile", "yaw", "hair"], "abs_corr": [0.6, 0.9, 0.7, 0.2]}).to_csv(tmp_path / "l.tsv", sep="\t", index=False)
    assert labelled_dimensions(tmp_path / "l.tsv", 0.5) == {"smile": 1, "yaw": 2}
    (tmp_path / "bad.tsv").write_text("dim\tname\n0\tx\n")
    with pytest.raises(DataError, match="bad.tsv.*abs_corr"):
        labelled_dimensions(tmp_path / "bad.tsv", 0.5)


def test_tables_and_group_figures(tmp_path):
    rows = [("01", "oracle", 0.4, 0.0005), ("01", "random", 0.01, 0.4), ("02", "oracle", 0.3, 0.002), ("02", "random", -0.02, 0.7)]
    rows = [(s, m, sp, rho * scale, p) for sp, scale in (("MNI152NLin2009cAsym", 1.0), ("fsaverage5", 0.5)) for s, m, rho, p in rows]
    enc, dec = [], []
    for i, (s, m, _, rho, p) in enumerate(rows):
        (tmp_path / f"e{i}.json").write_text(json.dumps({"rho": rho, "p": p, "ceiling": 0.8, "rho_ceiling": rho / 0.8, "n_voxels": 50, "n_permutations": 1999}))
        (tmp_path / f"d{i}.json").write_text(json.dumps({"pairwise_accuracy": 0.5 + rho, "p": p, "identification": "pairwise", "gender_accuracy": 0.6,
                                                          "gender_p": 0.2, "n_voxels": 50, "n_latents": 4, "ridge": 0.0, "ridge_cv": False}))
        enc.append(tmp_path / f"e{i}.json")
        dec.append(tmp_path / f"d{i}.json")
    subjects, models, spaces = [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]
    write_table1(enc, subjects, models, spaces, tmp_path / "t1.csv", tmp_path / "t1.md")
    md = (tmp_path / "t1.md").read_text().splitlines()
    assert md[2] == "space-MNI152NLin2009cAsym:" and md[10] == "space-fsaverage5:"  # one block per space
    assert md[4] == md[12] == "| model | sub-01 | sub-02 |"
    assert md[6] == "| oracle | 0.400*** | 0.300** |" and md[14] == "| oracle | 0.200*** | 0.150** |"
    assert md[8] == md[16] == "| noise ceiling | 0.800 | 0.800 |"
    assert pd.read_csv(tmp_path / "t1.csv").groupby("space").size().to_dict() == {"MNI152NLin2009cAsym": 4, "fsaverage5": 4}
    table = write_decoding_table(dec, subjects, models, spaces, tmp_path / "dec.csv", comparisons=[["oracle", "random"], ["vaegan", "pca1024"]])
    diff = table[table.model == "oracle - random"].set_index(["space", "subject"])
    assert diff.loc[("MNI152NLin2009cAsym", "sub-01"), "pairwise_accuracy"] == pytest.approx(0.39) and len(table) == 12
    assert diff.loc[("fsaverage5", "sub-01"), "pairwise_accuracy"] == pytest.approx(0.195)
    figures = plot_group_figures(tmp_path / "t1.csv", tmp_path / "dec.csv", tmp_path / "g1.png", tmp_path / "g2.png", tmp_path / "g3.png")
    assert [ax.get_title() for ax in figures[2].axes] == [f"sub-0{s} space-{sp}" for sp in ("MNI152NLin2009cAsym", "fsaverage5") for s in (1, 2)]
    for fig, values in zip(figures, ({"sub-01": [0.4, 0.01], "sub-02": [0.3, -0.02]}, {"sub-01": [0.9, 0.51], "sub-02": [0.8, 0.48]})):
        assert [ax.get_title() for ax in fig.axes] == ["space-MNI152NLin2009cAsym", "space-fsaverage5"]  # one panel per space
        dots = {dots.get_label(): dots.get_offsets()[:, 1].tolist() for dots in fig.axes[0].collections}  # one set of dots per subject
        assert dots == {subject: pytest.approx(v) for subject, v in values.items()}
    assert [stars(p) for p in (0.0005, 0.005, 0.03, 0.2)] == ["***", "**", "*", ""]
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(DataError, match="broken.json"):
        write_table1([tmp_path / "broken.json"], ["01"], ["x"], ["fsaverage5"], tmp_path / "b.csv", tmp_path / "b.md")
    assert not (tmp_path / "b.csv").exists()
