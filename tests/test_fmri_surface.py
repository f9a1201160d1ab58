"""The simulated fsaverage5 surface: fMRIPrep's GIFTI names, planted patches and tuning, and their recovery.

One subject is simulated at the demo's per-subject counts (3 localizer runs,
9 task-faces runs, 405 training faces): the localizer, the encoding GLM with
the true factors (the oracle) and the spin test must find what was planted
on the vertices.
"""

from __future__ import annotations

import dataclasses
import json
import re

import nibabel as nib
import numpy as np
import pytest
from conftest import make_face_dataset

from facebrain.encoding.glm import fit_encoding_glm
from facebrain.encoding.localizer import localize_subject
from facebrain.encoding.scaled_bold import ScaledBold, scale_runs
from facebrain.encoding.spin import random_rotations, spin_overlap, spin_sources
from facebrain.errors import DataError
from facebrain.fmri import design, fsaverage, spaces
from facebrain.fmri.reader import BidsFmriDataset
from facebrain.fmri.simulate import simulate_dataset
from facebrain.fmri.truth import true_factor_z

FACTORS = ["yaw", "smile", "gender", "skin_tone"]


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    """(simulated root, face dataset): one subject with the demo's per-subject counts."""
    tmp = tmp_path_factory.mktemp("surface")
    faces = make_face_dataset(tmp / "faces", n=450)
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(design.SCALES, "one_subject", dataclasses.replace(design.SCALES["demo"], subjects=1))
        root = simulate_dataset(faces, tmp / "sim", scale="one_subject", factors=FACTORS, seed=3)
    return root, faces


def truth_paths(root, desc):
    return [root / "ground_truth" / f"sub-01_hemi-{h}_space-fsaverage5_desc-{desc}" for h in fsaverage.HEMIS]


def planted(root):
    """(face-selective SpaceMask, tuning (F, 2 * 10242), region labels (2 * 10242,)) from the ground-truth GIFTIs."""
    selective = spaces.read_mask([p.with_name(p.name + "_mask.shape.gii") for p in truth_paths(root, "faceregions")])
    tuning = spaces.read_map([p.with_name(p.name + "_weights.func.gii") for p in truth_paths(root, "tuning")])[0]
    regions = spaces.read_map([p.with_name(p.name + "_dseg.label.gii") for p in truth_paths(root, "faceregions")])[0][0]
    return selective, tuning, regions


@pytest.fixture(scope="module")
def oracle_inputs(sim):
    """(task-faces runs of the surface, cortex SpaceMask, the stimuli's true factors as latents)."""
    root, faces = sim
    z_of = true_factor_z(root, faces / "factors.tsv")
    runs = BidsFmriDataset(root, space="fsaverage5").runs("01", "faces")
    latents = {}
    for run in runs:
        shown = run.events[run.events.face_id != ""]
        latents.update({s: z_of[f] for s, f in zip(shown.stim_name, shown.face_id)})
    return runs, spaces.surface_mask(), latents


@pytest.fixture(scope="module")
def oracle_fit(oracle_inputs):
    """The encoding GLM of the surface with the stimuli's true factors as latents."""
    runs, mask, latents = oracle_inputs
    return mask, fit_encoding_glm(runs, mask, latents)


def test_surface_runs_carry_fmriprep_names_and_shapes(sim, fixtures_dir):
    root, _ = sim
    def any_run(name):  # the demo has more localizer runs than the real sub-01: compare names up to the run number
        return re.sub(r"_run-\d+_", "_run-N_", name)

    real = {any_run(name) for name in (fixtures_dir / "ds001761-fmriprep_files.txt").read_text().split()}
    found = sorted(root.glob("derivatives/fmriprep/sub-01/ses-*/func/*space-fsaverage5*"))
    runs = BidsFmriDataset(root, space="fsaverage5").runs("01", "faces") + BidsFmriDataset(root, space="fsaverage5").runs("01", "loc")
    assert len(found) == 4 * len(runs)  # hemi-L/R GIFTI and sidecar per run
    for path in found:
        assert any_run(str(path.relative_to(root / "derivatives/fmriprep"))) in real, f"{path.name}: fMRIPrep 21.0.1 wrote no such name"
    for run in runs:
        assert [p.name.split("_hemi-")[1] for p in run.bold_files] == ["L_space-fsaverage5_bold.func.gii", "R_space-fsaverage5_bold.func.gii"]
        for hemi, path in zip(fsaverage.HEMIS, run.bold_files):
            img = nib.load(path)
            assert img.meta["AnatomicalStructurePrimary"] == fsaverage.STRUCTURE[hemi]
            assert len(img.darrays) == len(run.confounds)  # one data array per volume
            assert {d.data.shape for d in img.darrays} == {(fsaverage.N_VERTICES,)}
            assert json.loads(path.with_name(path.name.replace(".func.gii", ".json")).read_text())["RepetitionTime"] == design.TR


def test_medial_wall_is_one_midline_region_per_hemisphere():
    from scipy.sparse.csgraph import connected_components

    for hemi, x_sign in (("L", -1), ("R", 1)):
        mesh = fsaverage.hemisphere(hemi)
        wall = ~mesh.cortex
        assert 400 < wall.sum() < 1000
        graph = mesh.edge_graph[wall][:, wall]
        assert connected_components(graph, directed=False)[0] == 1
        # the wall faces the other hemisphere: its pial x lies nearer the midline than the cortex's
        assert np.median(x_sign * mesh.pial[wall, 0]) < np.median(x_sign * mesh.pial[mesh.cortex, 0]) - 20


def test_patches_sit_on_the_ventral_and_lateral_temporal_surface(sim):
    root, _ = sim
    _, _, regions = planted(root)
    names = json.loads((root / "ground_truth/simulation.json").read_text())["subjects"]["sub-01"]["regions"]
    assert names == ["lFFA", "rFFA", "lOFA", "rOFA", "lSTS", "rSTS"]
    mid = np.concatenate([fsaverage.hemisphere(h).midthickness for h in fsaverage.HEMIS])
    sulc = np.concatenate([fsaverage.hemisphere(h).sulc for h in fsaverage.HEMIS])
    for label, name in enumerate(names, start=1):
        patch = regions == label
        assert 25 <= patch.sum() <= 100, name
        x, y, z = mid[patch].mean(0)
        assert (x < 0) == name.startswith("l")
        assert -90 < y < -40, name  # occipito-temporal
        if name.endswith("FFA"):
            assert z < -12 and 25 < abs(x) < 50  # ventral: the fusiform gyrus
            assert np.median(sulc[patch]) < 3  # mostly on the gyrus, not in a sulcus' depth
        else:
            assert abs(x) > 35  # lateral surface
    assert not regions[~fsaverage.cortex_mask()].any()


def test_planted_surface_maps_distinct_and_overlapping(sim):
    root, _ = sim
    _, tuning, _ = planted(root)
    on = tuning > 0.2 * tuning.max(axis=1, keepdims=True)
    yaw, smile, gender, skin = on
    assert yaw.sum() > 10 and smile.sum() > 10
    assert not (yaw & smile).any()
    overlap = (gender & skin).sum() / min(gender.sum(), skin.sum())
    assert 0.1 < overlap < 0.9


def test_localizer_finds_the_planted_patches(sim, tmp_path):
    root, _ = sim
    out = {name: [tmp_path / f"{name}_hemi-{h}.func.gii" for h in fsaverage.HEMIS] for name in ("brain", "z", "selective")}
    n = localize_subject(root, "01", out["brain"], out["z"], out["selective"], tmp_path / "localizer.json", reader_options={"space": "fsaverage5"})
    found = spaces.read_mask(out["selective"]).inside
    truth = planted(root)[0].inside
    dice = 2 * (found & truth).sum() / (found.sum() + truth.sum())
    assert dice > 0.8, dice
    assert n == found.sum()
    assert np.array_equal(spaces.read_mask(out["brain"]).inside, fsaverage.cortex_mask())  # medial wall excluded
    assert json.loads((tmp_path / "localizer.json").read_text())["space"] == "fsaverage5"


def test_oracle_weights_match_the_planted_tuning(sim, oracle_fit):
    root, _ = sim
    mask, fit = oracle_fit
    selective, tuning, _ = planted(root)
    keep = mask.select(selective.inside)
    assert fit.W.shape == (len(FACTORS), mask.n_elements)  # a vertex is a voxel to the GLM
    estimated, true = fit.W[:, keep], mask.select(tuning)[:, keep]
    r = np.corrcoef(estimated.ravel(), true.ravel())[0, 1]
    assert r > 0.8, r


def test_ar1_prewhitening_on_the_surface(sim, oracle_inputs, oracle_fit):
    """noise_model ar1 on the GIFTI runs: positive AR(1) coefficients (the simulator plants 0.35 beside drifts and
    motion; measured median 0.13 after the nuisance regressors), the planted tuning still recovered, fewer latent
    |z| > 1.96 outside the face-selective patches than OLS gives (measured 0.092 vs 0.119 of the vertex x dimension pairs)."""
    runs, mask, latents = oracle_inputs
    fit = fit_encoding_glm(runs, mask, latents, noise_model="ar1")
    assert 0.05 < np.median(fit.ar1) < 0.35 and len(np.unique(fit.ar1)) > 5
    selective, tuning, _ = planted(sim[0])
    keep = mask.select(selective.inside)
    assert np.corrcoef(fit.W[:, keep].ravel(), mask.select(tuning)[:, keep].ravel())[0, 1] > 0.8
    ols = oracle_fit[1]
    fpr = [(np.abs(z[:, ~keep]) > 1.96).mean() for z in (fit.z_latents, ols.z_latents)]
    assert fpr[0] < 0.85 * fpr[1], fpr


def test_surface_glm_from_the_scaled_bold_file_is_the_glm_from_the_gifti_runs(oracle_inputs, oracle_fit, tmp_path):
    """The GIFTI runs scaled once per subject (the per-model GLMs' input) give the same betas and z maps."""
    runs, mask, latents = oracle_inputs
    scale_runs(runs, mask, tmp_path / "scaled.h5")
    fit = fit_encoding_glm(runs, mask, latents, bold=ScaledBold(tmp_path / "scaled.h5", runs, mask.n_elements))
    assert np.array_equal(fit.betas, oracle_fit[1].betas) and np.array_equal(fit.z_latents, oracle_fit[1].z_latents)


def test_spin_test_tells_overlapping_from_distinct_planted_maps(sim, oracle_fit):
    root, _ = sim
    mask, fit = oracle_fit
    region = np.flatnonzero(planted(root)[0].inside)
    maps = mask.full(fit.W, fill=np.nan)
    sources = spin_sources(random_rotations(1000, np.random.default_rng(0)), region)
    gender_skin = spin_overlap(maps[2], maps[3], region, 0.2, sources)
    yaw_smile = spin_overlap(maps[0], maps[1], region, 0.2, sources)
    assert gender_skin.p < 0.05 and gender_skin.dice > gender_skin.chance
    assert yaw_smile.p > 0.05


def test_short_surface_gifti_is_named(tmp_path):
    from facebrain.nifti import gifti_image, save_gifti

    save_gifti(gifti_image(np.zeros((3, 642)), "CortexLeft"), tmp_path / "x_hemi-L.func.gii")
    with pytest.raises(DataError, match=r"x_hemi-L.func.gii: data arrays of shape \[\(642,\)\]; expected \(10242,\)"):
        spaces.read_gifti_arrays(tmp_path / "x_hemi-L.func.gii")


def test_maps_round_trip_in_both_spaces(tmp_path):
    from facebrain.provenance import read_provenance

    rng = np.random.default_rng(0)
    surface = spaces.surface_mask()
    values = rng.normal(size=(3, surface.n_elements)).astype(np.float32)
    paths = [tmp_path / f"betas_hemi-{h}.func.gii" for h in fsaverage.HEMIS]
    surface.save(values, paths, provenance={"rule": "test"}, names=["a", "b", "c"])
    grid, space, _ = spaces.read_map(paths)
    assert space == "fsaverage5" and grid.shape == (3, 2 * fsaverage.N_VERTICES)
    np.testing.assert_array_equal(surface.select(grid), values)
    assert not grid[:, ~surface.inside].any()  # the medial wall is left empty
    assert read_provenance(paths[1])["rule"] == "test"
    assert nib.load(paths[0]).darrays[1].meta["Name"] == "b"

    inside = rng.random((4, 5, 6)) > 0.5
    volume = spaces.SpaceMask(spaces.VOLUME, inside, np.diag([2.0, 2.0, 2.0, 1.0]))
    values = rng.normal(size=(2, volume.n_elements)).astype(np.float32)
    volume.save(values, tmp_path / "betas.nii.gz")
    grid, space, affine = spaces.read_map(tmp_path / "betas.nii.gz")
    assert space == spaces.VOLUME and grid.shape == (4, 5, 6, 2) and affine[0, 0] == 2.0
    np.testing.assert_array_equal(volume.select(grid), values)
