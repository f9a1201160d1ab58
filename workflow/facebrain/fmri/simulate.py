"""The simulated fMRI dataset ``resources/simfmri``: ds001761's layout with planted truth.

:func:`simulate_dataset` writes, for every subject, the raw BIDS files of the
real dataset (events and sidecars of task-faces and task-loc runs, the stimulus
files ``stimuli/subXX/runNN/{F,M}NNNN.jpg`` -- small JPEGs of the face-dataset
image cropped around the face, as ds001761 shows them -- and
``stimuli/ImageNames2Celeba.txt``),
fMRIPrep-style derivatives (preprocessed BOLD in MNI152NLin2009cAsym res-2,
brain masks, confounds, and the BOLD sampled on fsaverage5 as fMRIPrep 21.0.1
names it, ``hemi-{L,R}_space-fsaverage5_bold.func.gii``) and the ground truth
under ``ground_truth/`` (never read by the analysis). The volume's planted
truth is :mod:`facebrain.fmri.phantom`'s, the surface's
:mod:`facebrain.fmri.surface_phantom`'s (same regions and map layout, planted
on vertices); both follow the signal model below, with the run's events and
head motion shared and noise drawn separately.

Signal model, per voxel v and volume t (in % signal change of the voxel's baseline)::

    y = face_amp[v] * X_face + object_amp[v] * X_object + 0.3 * face_amp[v] * X_img
        + sum_f tuning[v, f] * X_f + drift + motion artefact + global + AR(1) noise

where X_* are the events convolved with nilearn's Glover HRF and X_f has each
face trial weighted by the face's factor f, z-scored over the face dataset.
With the demo defaults (noise SD 1%, AR(1) 0.35, peak tuning 1.2% per SD,
face response 3%; scanner drift: a linear trend and cosines slower than
1/256 Hz of 0.5% SD per voxel; head motion: slow random walks with rare jerks,
leaking 0.15% per mm into every voxel; a global random walk) a single 1 s face moves a tuned voxel by about 0.4% per SD
of the factor at the HRF peak, i.e. a single-trial SNR of about 0.4 -- the
order of magnitude of real single-trial face responses at 3 T.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from facebrain.errors import DataError
from facebrain.fmri import design, fsaverage, layout, phantom, surface_phantom
from facebrain.io import atomic_dir, write_json, write_table, write_text
from facebrain.paths import bids

log = logging.getLogger(__name__)

MOTION = ("trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z")
N_ACOMPCOR = 6
HIGH_PASS_S = 128.0
DRIFT_PERIOD_S = 256.0
DRIFT_SD = 0.5
IMAGERY_FRACTION = 0.3
DISPLAYED_SIZE = 112  # pixels of the square stimulus files (ds001761's displayed JPEGs are small pre-cropped faces)
DISPLAYED_QUALITY = 75
SURFACE_STREAM = 1  # the surface's random stream of a subject: default_rng([seed, subject index, SURFACE_STREAM])
_SIDECAR = {
    "Modality": "MR",
    "MagneticFieldStrength": 3,
    "Manufacturer": "Philips",
    "ManufacturersModelName": "Achieva_dStream",
    "InstitutionName": "INSERM_PURPAN",
    "PatientPosition": "HFS",
    "MRAcquisitionType": "2D",
    "ScanningSequence": "GR",
    "SequenceVariant": "SK",
    "ScanOptions": "FS",
    "SliceThickness": 3,
    "SpacingBetweenSlices": 3.2,
    "EchoTime": 0.03,
    "RepetitionTime": design.TR,
    "FlipAngle": 75,
    "PhaseEncodingAxis": "j",
    "ConversionSoftware": "dcm2niix",
}


def read_face_factors(face_root: str | Path, factor_names: Sequence[str]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The face pool of the simulator: image ids, their true factors and sex.

    Parameters
    ----------
    face_root : a CelebA-layout folder (``img_align_celeba/``, ``list_attr_celeba.txt``;
        SynthFaces adds ``factors.tsv`` with ``image_id`` and one column per factor).
    factor_names : the factors voxels are tuned to: columns of ``factors.tsv``, or,
        for a dataset without it (CelebA), attribute names of ``list_attr_celeba.txt``.

    Returns
    -------
    (ids (N,) file names, factors (N, F) float64, male (N,) bool). ``male`` is the
    ``Male`` attribute of ``list_attr_celeba.txt`` when present, else ``gender > 0``.

    Raises
    ------
    DataError
        on a missing file or factor, or non-numeric factor values.
    """
    root = Path(face_root)
    attrs = _read_attributes(root / "list_attr_celeba.txt") if (root / "list_attr_celeba.txt").is_file() else None
    factors_path = root / "factors.tsv"
    if factors_path.is_file():
        table = pd.read_csv(factors_path, sep="\t", dtype={"image_id": str})
        source = factors_path
    elif attrs is not None:
        table, source = attrs, root / "list_attr_celeba.txt"
    else:
        raise DataError(root, "no factors.tsv or list_attr_celeba.txt: not a CelebA-layout face dataset")
    missing = [c for c in ("image_id", *factor_names) if c not in table.columns]
    if missing:
        raise DataError(source, f"missing column(s) {missing} (the simulator tunes voxels to them)")
    values = table[list(factor_names)].apply(pd.to_numeric, errors="coerce")
    if values.isna().any().any():
        raise DataError(source, "non-numeric or missing factor values")
    ids = table["image_id"].astype(str).tolist()
    if attrs is not None and "Male" in attrs.columns:
        male_by_id = dict(zip(attrs["image_id"], attrs["Male"] > 0))
        male = np.array([male_by_id.get(i, False) for i in ids])
    elif "gender" in table.columns:
        male = table["gender"].to_numpy(float) > 0
    else:
        raise DataError(source, "cannot tell female from male faces: no Male attribute and no gender factor")
    return ids, values.to_numpy(np.float64), male


class FaceImages:
    """Image bytes of a CelebA-layout dataset, from ``img_align_celeba/`` or CelebA's ``img_align_celeba.zip``."""

    def __init__(self, root: Path):
        self.folder = root / "img_align_celeba"
        self.zip_path = root / "img_align_celeba.zip"
        self._zip = None
        if not self.folder.is_dir() and not self.zip_path.is_file():
            raise DataError(root, "no img_align_celeba/ folder or img_align_celeba.zip")

    def read(self, image_id: str) -> bytes:
        """The JPEG bytes of ``image_id`` ('000123.jpg'); DataError when absent."""
        path = self.folder / image_id
        if path.is_file():
            return path.read_bytes()
        if self.zip_path.is_file():
            import zipfile

            if self._zip is None:
                self._zip = zipfile.ZipFile(self.zip_path)
            try:
                return self._zip.read(f"img_align_celeba/{image_id}")
            except KeyError:
                pass
        raise DataError(path, "face image listed in the face dataset's factors but missing")

    def displayed(self, image_id: str) -> bytes:
        """The stimulus file shown in the scanner for ``image_id``: as ds001761's small JPEGs, cropped around the face.

        The face-dataset image's centred square of side 148/178 of its shorter side (the training
        crop, :func:`facebrain.datasets.faces.preprocess_face`) resized to :data:`DISPLAYED_SIZE`
        pixels, JPEG quality :data:`DISPLAYED_QUALITY` (a few KB, like the real files).
        """
        import io

        from PIL import Image

        from facebrain.datasets.faces import CROP_FRACTION

        with Image.open(io.BytesIO(self.read(image_id))) as img:
            img = img.convert("RGB")
            w, h = img.size
            side = round(CROP_FRACTION * min(w, h))
            left, top = (w - side) // 2, (h - side) // 2
            shown = img.crop((left, top, left + side, top + side)).resize((DISPLAYED_SIZE, DISPLAYED_SIZE), Image.Resampling.LANCZOS)
        out = io.BytesIO()
        shown.save(out, format="JPEG", quality=DISPLAYED_QUALITY)
        return out.getvalue()


def _read_attributes(path: Path) -> pd.DataFrame:
    """list_attr_celeba.txt (count line, attribute names, then 'file v1..vA') as a DataFrame with image_id."""
    lines = path.read_text().splitlines()
    if len(lines) < 2:
        raise DataError(path, "fewer than 2 lines: expected a count line and the attribute names")
    names = lines[1].split()
    rows = [line.split() for line in lines[2:] if line.strip()]
    bad = next((i for i, r in enumerate(rows) if len(r) != len(names) + 1), None)
    if bad is not None:
        raise DataError(path, f"line {bad + 3} has {len(rows[bad]) - 1} values, expected {len(names)}")
    table = pd.DataFrame([r[1:] for r in rows], columns=names).apply(pd.to_numeric, errors="coerce")
    table.insert(0, "image_id", [r[0] for r in rows])
    return table


def simulate_dataset(
    face_root: str | Path,
    out: str | Path,
    scale: str = "demo",
    mode: str = "planted",
    factors: Sequence[str] = ("yaw", "smile", "gender", "skin_tone"),
    tuning_gain: float = 1.2,
    face_gain: float = 3.0,
    noise_sd: float = 1.0,
    ar1: float = 0.35,
    leaked_test_faces: int = 2,
    duplicate_names: int = 1,
    seed: int = 0,
    provenance: Mapping[str, Any] | None = None,
) -> Path:
    """Write the simulated ds001761 to ``out`` (built in a temporary folder, then renamed into place).

    Parameters
    ----------
    face_root : the face dataset the stimuli come from (CelebA layout, see :func:`read_face_factors`).
    out : the BIDS root to create (e.g. ``resources/simfmri``); replaced if present.
    scale : a key of :data:`facebrain.fmri.design.SCALES` ('smoke', 'demo', 'paper_like').
    mode : 'planted' (tuned voxels) or 'null' (no tuning; face responses remain).
    factors : true factors voxels are tuned to (see :mod:`facebrain.fmri.phantom` for the maps).
    tuning_gain : peak tuning, % signal change per SD of a factor.
    face_gain : face response in face regions, % signal change.
    noise_sd, ar1 : SD (% signal change) and lag-1 coefficient of the AR(1) noise.
    leaked_test_faces : per subject, test-face images also shown as training faces.
    duplicate_names : per subject, training images shown under two stimulus names.
    seed : master seed; subject i uses ``np.random.default_rng([seed, i])``.
    provenance : record stored in every NIfTI and in ``ground_truth/simulation.json``.

    Returns
    -------
    Path of ``out``.

    Raises
    ------
    DataError
        when the face dataset is unusable or too small for the scale.
    """
    if scale not in design.SCALES:
        raise ValueError(f"unknown scale {scale!r}; expected one of {sorted(design.SCALES)}")
    if mode not in ("planted", "null"):
        raise ValueError(f"unknown mode {mode!r}; expected 'planted' or 'null'")
    sc = design.SCALES[scale]
    face_root, out = Path(face_root), Path(out)
    ids, values, male = read_face_factors(face_root, factors)
    images = FaceImages(face_root)
    mean, sd = values.mean(0), values.std(0)
    if np.any(sd == 0):
        raise DataError(face_root / "factors.tsv", f"factor(s) {[f for f, s in zip(factors, sd) if s == 0]} are constant")
    z = (values - mean) / sd
    need = sc.train_faces + design.N_TEST_FACES
    if len(ids) < need or male.sum() < design.N_TEST_FACES // 2 or (~male).sum() < design.N_TEST_FACES // 2:
        raise DataError(face_root, f"{len(ids)} faces ({int(male.sum())} male); scale {scale!r} needs {need} per subject "
                                   f"and at least {design.N_TEST_FACES // 2} of each sex")
    with atomic_dir(out) as tmp:
        _write_dataset_files(tmp, sc.subjects, factors, mode, scale)
        settings = dict(scale=scale, mode=mode, factors=list(factors), tuning_gain=tuning_gain, face_gain=face_gain,
                        noise_sd=noise_sd, ar1=ar1, leaked_test_faces=leaked_test_faces, duplicate_names=duplicate_names, seed=seed)
        name_lines: list[str] = []
        planted: dict[str, Any] = {}
        for index, sub in enumerate(tqdm(design.subject_labels(sc.subjects), desc="simulated subjects", unit="subject")):
            rng = np.random.default_rng([seed, index])
            surface_rng = np.random.default_rng([seed, index, SURFACE_STREAM])
            planted[bids(subject=sub)] = _simulate_subject(
                tmp, images, sub, index, sc, rng, ids, z, male, list(factors), mode, tuning_gain, face_gain,
                noise_sd, ar1, leaked_test_faces, duplicate_names, name_lines, provenance, surface_rng,
            )
        write_text(tmp / layout.IMAGE_NAMES, "\n".join(name_lines) + "\n")
        write_json(tmp / layout.GROUND_TRUTH / "simulation.json", {
            "settings": settings, "factor_mean": dict(zip(factors, mean)), "factor_sd": dict(zip(factors, sd)),
            "subjects": planted, "provenance": dict(provenance or {}),
        })
    log.info("wrote %s (%s, %s)", out, scale, mode)
    return out


def _simulate_subject(root: Path, images: FaceImages, sub: str, index: int, sc: design.Scale, rng: np.random.Generator,
                      ids: list[str], z: np.ndarray, male: np.ndarray, factors: list[str], mode: str,
                      tuning_gain: float, face_gain: float, noise_sd: float, ar1: float, n_leaked: int, n_dupes: int,
                      name_lines: list[str], provenance, surface_rng: np.random.Generator) -> dict[str, Any]:
    """One subject: stimuli, events, BOLD (volume and fsaverage5), confounds and ground truth. Returns what was planted."""
    import nibabel as nib

    from facebrain.nifti import save_nifti

    brain = phantom.make_phantom(rng, len(factors), face_gain, tuning_gain, planted=mode == "planted")
    surface = surface_phantom.make_surface_phantom(surface_rng, len(factors), face_gain, tuning_gain, planted=mode == "planted")
    affine = phantom.crop_affine()
    save_nifti(nib.Nifti1Image(brain.face_selective.astype(np.uint8), affine), root / layout.truth_file(sub, "faceregions", "mask"), provenance)
    save_nifti(nib.Nifti1Image(brain.regions, affine), root / layout.truth_file(sub, "faceregions", "dseg"), provenance)
    save_nifti(nib.Nifti1Image(brain.tuning, affine), root / layout.truth_file(sub, "tuning", "weights"), provenance)
    _write_surface_truth(root, sub, surface, factors, provenance)

    # faces: 20 test faces (10 F, 10 M), unique training faces, planted leaks and duplicate names
    order = rng.permutation(len(ids))
    test_idx = np.concatenate([order[~male[order]][:10], order[male[order]][:10]])
    rest = order[~np.isin(order, test_idx)][: sc.train_faces]
    leaked = rng.choice(test_idx, size=min(n_leaked, len(test_idx)), replace=False)
    slots = rng.permutation(sc.train_faces)
    rest[slots[: len(leaked)]] = leaked
    dup_slots = slots[len(leaked): len(leaked) + n_dupes]
    dup_sources = slots[len(leaked) + n_dupes: len(leaked) + 2 * n_dupes]
    rest[dup_slots] = rest[dup_sources]
    base = 1000 + 10000 * index
    counters = {"F": base, "M": base}
    test_numbers = rng.choice(np.arange(base + 8000, base + 9000), size=len(test_idx), replace=False)
    test_names = [f"{'M' if male[i] else 'F'}{n}.jpg" for i, n in zip(test_idx, test_numbers)]
    shown_count = dict.fromkeys(test_names, 0)
    face_of = {name: i for name, i in zip(test_names, test_idx)}

    sessions = []
    global_run, train_pos = 0, 0
    for ses_i in range(sc.sessions):
        ses = f"{ses_i + 1:02d}"
        if ses_i == 0:
            for r in range(sc.loc_runs):
                sessions.append((ses, "loc", r + 1, design.loc_run_events(r), None))
        for r in range(sc.faces_runs):
            global_run += 1
            chunk = rest[train_pos: train_pos + sc.train_per_run]
            train_pos += sc.train_per_run
            train_names = []
            for i in chunk:
                sex = "M" if male[i] else "F"
                counters[sex] += 1
                name = f"{sex}{counters[sex]}.jpg"
                face_of[name] = i
                train_names.append(name)
            shown_tests = [] if ses_i < sc.test_free_sessions(index) else _pick_test_faces(rng, test_names, shown_count)
            imagery = ses_i + 1 >= sc.imagery_from_session and r == 0
            events = design.faces_run_events(rng, sub, global_run, train_names, shown_tests, sc.oneback_per_run, imagery, sc.fix_fraction)
            for name in train_names + shown_tests:
                stim = layout.stimulus_file(sub, global_run, name)
                dest = root / layout.STIMULI / stim
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_bytes(images.displayed(ids[face_of[name]]))
                name_lines.append(f"{stim} {ids[face_of[name]]}")
            sessions.append((ses, "faces", r + 1, events, global_run))

    for ses, task, run, events, _ in tqdm(sessions, desc=f"{bids(subject=sub)} runs", unit="run", leave=False):
        n_vol = design.run_volumes(events) if task == "faces" else int(len(events) * design.LOC_BLOCK / design.TR)
        design.write_events(events, root / layout.raw_file(sub, ses, task, run, "events", ".tsv"))
        write_json(root / layout.raw_file(sub, ses, task, run, "bold", ".json"), dict(_SIDECAR, TaskName=task))
        bold, confounds, confounds_sidecar, surface_bold = simulate_run(brain, events, n_vol, {n: z[i] for n, i in face_of.items()}, rng,
                                                                        noise_sd, ar1, surface, surface_rng)
        derivatives = layout.derivative_files(sub, ses, task, run)
        save_nifti(nib.Nifti1Image(bold, affine), root / derivatives["bold"], provenance)
        _write_surface_run(root, sub, ses, task, run, surface_bold, provenance)
        save_nifti(nib.Nifti1Image(brain.brain.astype(np.uint8), affine), root / derivatives["mask"], provenance)
        write_json(root / derivatives["bold.json"],
                   {"RepetitionTime": design.TR, "TaskName": task, "SkullStripped": False, "SliceTimingCorrected": False})
        write_table(root / derivatives["confounds"], confounds, na_rep="n/a")
        write_json(root / derivatives["confounds.json"], confounds_sidecar)
    leaked_names = sorted(n for n, i in face_of.items() if i in set(leaked.tolist()) and n not in test_names)
    return {
        "test_faces": test_names,
        "leaked_training_names": leaked_names,
        "duplicate_images": [ids[i] for i in rest[dup_slots]],
        "regions": brain.region_names,
        "n_face_selective_voxels": int(brain.face_selective.sum()),
        "n_brain_voxels": int(brain.brain.sum()),
        "n_face_selective_vertices": int(surface.face_selective.sum()),
    }


def _write_surface_run(root: Path, sub: str, ses: str, task: str, run: int, values: np.ndarray, provenance) -> None:
    """A run's fsaverage5 BOLD as fMRIPrep 21.0.1 names it: one GIFTI per hemisphere (a data array per volume) and its sidecar."""
    from facebrain.nifti import gifti_image, save_gifti

    for hemi, part in fsaverage.split_hemispheres(values).items():
        img = gifti_image(part, fsaverage.STRUCTURE[hemi], intent="NIFTI_INTENT_TIME_SERIES", encoding="GIFTI_ENCODING_B64BIN")
        save_gifti(img, root / layout.surface_derivative_file(sub, ses, task, run, hemi), provenance)
        write_json(root / layout.surface_derivative_file(sub, ses, task, run, hemi, "bold.json"), {"RepetitionTime": design.TR, "TaskName": task})


def _write_surface_truth(root: Path, sub: str, surface: phantom.Phantom, factors: Sequence[str], provenance) -> None:
    """The planted patches and tuning on fsaverage5, one GIFTI per hemisphere and map beside the volume truth."""
    from facebrain.nifti import gifti_image, save_gifti

    labels = {0: "none", **{i + 1: name for i, name in enumerate(surface.region_names)}}
    for hemi in fsaverage.HEMIS:
        part = {k: fsaverage.split_hemispheres(v.T)[hemi] for k, v in
                (("mask", surface.face_selective.astype(np.float32)), ("dseg", surface.regions), ("tuning", surface.tuning))}
        def truth(desc, suffix, extension):
            return root / layout.truth_file(sub, desc, suffix, extension, hemi=hemi, space=fsaverage.SPACE)

        structure = fsaverage.STRUCTURE[hemi]
        save_gifti(gifti_image(part["mask"], structure), truth("faceregions", "mask", ".shape.gii"), provenance)
        save_gifti(gifti_image(part["dseg"], structure, intent="NIFTI_INTENT_LABEL", labels=labels), truth("faceregions", "dseg", ".label.gii"), provenance)
        save_gifti(gifti_image(part["tuning"], structure, intent="NIFTI_INTENT_ESTIMATE", names=list(factors)),
                   truth("tuning", "weights", ".func.gii"), provenance)


def _pick_test_faces(rng: np.random.Generator, test_names: list[str], shown_count: dict[str, int]) -> list[str]:
    """The 10 test faces of a run: 5 F and 5 M, the least shown so far (ties at random); updates ``shown_count``."""
    picked = []
    for sex in ("F", "M"):
        names = [n for n in test_names if n.startswith(sex)]
        order = np.lexsort((rng.random(len(names)), [shown_count[n] for n in names]))
        picked += [names[i] for i in order[: design.TEST_PER_RUN // 2]]
    for name in picked:
        shown_count[name] += 1
    return picked


def simulate_run(brain: phantom.Phantom, events: pd.DataFrame, n_volumes: int, z_of: Mapping[str, np.ndarray],
                 rng: np.random.Generator, noise_sd: float, ar1: float, surface: phantom.Phantom | None = None,
                 surface_rng: np.random.Generator | None = None) -> tuple[np.ndarray, pd.DataFrame, dict, np.ndarray | None]:
    """Simulate one run's preprocessed BOLD (volume, and optionally fsaverage5) and its fMRIPrep-style confounds.

    Parameters
    ----------
    brain : the subject's volume phantom.
    events : the run's events as written (trial_type 'train_face', 'test_face', 'Fix', 'Img',
        or padded 'face  '/'object'/'fix   ' blocks); ``stim_file`` names the face.
    n_volumes : number of volumes T (TR = 2 s).
    z_of : stimulus name ('F1148.jpg') -> (F,) z-scored true factors.
    rng : random generator (noise, drift, motion).
    noise_sd, ar1 : AR(1) noise SD (% signal change) and coefficient.
    surface : the subject's fsaverage5 phantom (:mod:`facebrain.fmri.surface_phantom`), or None.
    surface_rng : random generator of the surface's noise and drift (its own stream, so the
        volume is the same with or without the surface).

    Returns
    -------
    (bold int16 (*grid, T) in scanner units (baseline 600-850), confounds DataFrame (T, columns of
    fMRIPrep 21.0.1) and its JSON sidecar (dict), surface float32 (T, 2 * 10242) in scanner units or None). The surface shares the
    run's events and head motion (its artefact follows the confounds' motion parameters) and
    has its own noise, drift and global fluctuation.
    """
    regressors = task_regressors(events, n_volumes, z_of, brain.tuning.shape[-1])
    motion = _motion(rng, n_volumes)
    values = bold_values(brain, regressors, motion, rng, noise_sd, ar1)
    inside = brain.brain
    bold = np.zeros((*inside.shape, n_volumes), np.int16)
    bold[inside] = np.rint(values.T).astype(np.int16)
    confounds, sidecar = _confounds(values, brain, motion, _cosine_basis(n_volumes, design.TR, HIGH_PASS_S))
    surface_values = None
    if surface is not None:
        surface_values = bold_values(surface, regressors, motion, surface_rng, noise_sd, ar1).astype(np.float32)
    return bold, confounds, sidecar, surface_values


def task_regressors(events: pd.DataFrame, n_volumes: int, z_of: Mapping[str, np.ndarray], n_factors: int) -> dict[str, np.ndarray]:
    """The signal model's regressors of one run (events convolved with nilearn's Glover HRF).

    Returns
    -------
    dict with 'face', 'object', 'img' (T,) and 'factors' (T, n_factors): each face trial
    weighted by the face's z-scored factor.
    """
    from nilearn.glm.first_level import compute_regressor

    frame_times = np.arange(n_volumes) * design.TR
    kind = events["trial_type"].str.strip().str.lower()
    stim = events.get("stim_file", pd.Series("", index=events.index)).fillna("")
    names = stim.map(lambda s: s.rsplit("/", 1)[-1])

    def regressor(rows: np.ndarray, amplitudes: np.ndarray | None = None) -> np.ndarray:
        if not rows.any():
            return np.zeros(n_volumes)
        amp = np.ones(rows.sum()) if amplitudes is None else amplitudes
        cond = np.vstack([events["onset"].to_numpy(float)[rows], events["duration"].to_numpy(float)[rows], amp])
        return compute_regressor(cond, "glover", frame_times, oversampling=16)[0][:, 0]

    face_trials = kind.isin(["train_face", "test_face"]).to_numpy()
    if face_trials.any():
        zs = np.stack([z_of[n] for n in names[face_trials]])
        x_factors = np.stack([regressor(face_trials, zs[:, f]) for f in range(n_factors)], axis=1)
    else:
        x_factors = np.zeros((n_volumes, n_factors))
    return {
        "face": regressor(kind.isin(["train_face", "test_face", "face"]).to_numpy()),
        "object": regressor((kind == "object").to_numpy()),
        "img": regressor((kind == "img").to_numpy()),
        "factors": x_factors,
    }


def bold_values(brain: phantom.Phantom, regressors: Mapping[str, np.ndarray], motion: np.ndarray, rng: np.random.Generator,
                noise_sd: float, ar1: float) -> np.ndarray:
    """BOLD of the phantom's in-brain elements (voxels or vertices), (T, V) in scanner units.

    Signal (face, object, imagery and factor-tuned responses) plus AR(1) noise, scanner drift,
    a motion artefact linear in ``motion`` (T, 6) and a global random walk, all in % of
    ``brain.baseline``.
    """
    inside = brain.brain
    n_volumes = len(regressors["face"])
    v = int(inside.sum())
    signal = (np.outer(regressors["face"], brain.face_amp[inside]) + np.outer(regressors["object"], brain.object_amp[inside])
              + IMAGERY_FRACTION * np.outer(regressors["img"], brain.face_amp[inside] * (brain.regions[inside] > 0))
              + regressors["factors"] @ brain.tuning[inside].T)
    noise = np.empty((n_volumes, v))
    innovations = rng.normal(0.0, noise_sd, size=(n_volumes, v))
    noise[0] = innovations[0]
    scale = np.sqrt(1 - ar1**2)
    for t in range(1, n_volumes):
        noise[t] = ar1 * noise[t - 1] + scale * innovations[t]
    slow = np.column_stack([np.linspace(-1, 1, n_volumes), _cosine_basis(n_volumes, design.TR, DRIFT_PERIOD_S)])
    drift = slow @ rng.normal(0.0, DRIFT_SD, size=(slow.shape[1], v))
    artefact = (motion - motion.mean(0)) @ rng.normal(0.0, 0.15, size=(6, v))
    global_fluct = np.cumsum(rng.normal(0, 0.02, n_volumes))[:, None]
    percent = signal + noise + drift + artefact + global_fluct
    return brain.baseline[inside][None, :] * (1.0 + percent / 100.0)


def _motion(rng: np.random.Generator, n: int) -> np.ndarray:
    """Head motion (n, 6): translations (mm) and rotations (rad) as slow random walks with small jerks."""
    steps = rng.normal(0, 1, size=(n, 6)) * np.array([0.02, 0.03, 0.04, 0.0004, 0.0003, 0.0003])
    jerks = (rng.random((n, 1)) < 0.02) * rng.normal(0, 1, size=(n, 6)) * np.array([0.15, 0.2, 0.3, 0.003, 0.002, 0.002])
    return np.cumsum(steps + jerks, axis=0)


def _cosine_basis(n: int, tr: float, cutoff: float) -> np.ndarray:
    """fMRIPrep's discrete cosine drift regressors (n, K) for a ``cutoff`` s high-pass filter."""
    k = int(np.floor(2 * n * tr / cutoff))
    t = np.arange(n)
    return np.stack([np.sqrt(2.0 / n) * np.cos(np.pi * (t + 0.5) * j / n) for j in range(1, k + 1)], axis=1) if k else np.zeros((n, 0))


def _confounds(values: np.ndarray, brain: phantom.Phantom, motion: np.ndarray, cosines: np.ndarray) -> tuple[pd.DataFrame, dict]:
    """fMRIPrep 21.0.1's confounds table and its JSON sidecar, from the simulated data.

    The columns fMRIPrep 21.0.1 writes for a run without non-steady-state volumes:
    ``global_signal``, ``csf``, ``white_matter`` and the 6 motion parameters each with
    ``_derivative1``, ``_power2`` and ``_derivative1_power2`` expansions; ``csf_wm``,
    ``tcompcor``, ``dvars``, ``std_dvars``, ``framewise_displacement``, ``rmsd``;
    ``a_comp_cor_NN`` and ``cosineNN``. As in fMRIPrep's files the first row of every
    derivative, of DVARS, FD and RMSD has no value (written ``n/a``). The sidecar describes
    the aCompCor components (Method, Mask, SingularValue, VarianceExplained, Retained).
    """
    n = values.shape[0]
    table: dict[str, np.ndarray] = {}

    def expanded(name: str, x: np.ndarray) -> None:
        d = np.concatenate([[np.nan], np.diff(x)])
        table.update({name: x, f"{name}_derivative1": d, f"{name}_derivative1_power2": d**2, f"{name}_power2": x**2})

    mm_y = phantom.voxel_mm()[..., 1][brain.brain]
    central = np.abs(phantom.voxel_mm()[..., 0][brain.brain]) < 6  # a medial strip stands in for CSF
    deep = (~central) & (mm_y > -70) & (brain.regions[brain.brain] == 0)  # non-face anterior voxels for WM
    expanded("global_signal", values.mean(1))
    expanded("csf", values[:, central].mean(1))
    expanded("white_matter", values[:, deep].mean(1))
    table["csf_wm"] = values[:, central | deep].mean(1)
    variable = np.argsort(values.std(0))[-max(1, values.shape[1] // 50):]  # the most variable 2% stand in for tCompCor's voxels
    table["tcompcor"] = values[:, variable].mean(1)
    diff = np.diff(values, axis=0)
    dvars = np.concatenate([[np.nan], np.sqrt((diff**2).mean(1))])
    table["std_dvars"] = dvars / np.nanmedian(dvars)
    table["dvars"] = dvars
    d_motion = np.vstack([np.full(6, np.nan), np.diff(motion, axis=0)])
    table["framewise_displacement"] = np.abs(d_motion[:, :3]).sum(1) + 50.0 * np.abs(d_motion[:, 3:]).sum(1)
    table["rmsd"] = np.concatenate([[np.nan], np.sqrt((d_motion[1:, :3] ** 2).sum(1) + (50.0 * d_motion[1:, 3:]) ** 2 @ np.ones(3) / 3)])
    noise_roi = values[:, central | deep]
    centred = noise_roi - noise_roi.mean(0)
    u, singular, _ = np.linalg.svd(centred - cosines @ (cosines.T @ centred) if cosines.shape[1] else centred, full_matrices=False)
    explained = singular**2 / (singular**2).sum()
    sidecar = {}
    for j in range(min(N_ACOMPCOR, u.shape[1])):
        table[f"a_comp_cor_{j:02d}"] = u[:, j]
        sidecar[f"a_comp_cor_{j:02d}"] = {"Method": "aCompCor", "Mask": "combined", "Retained": True, "SingularValue": float(singular[j]),
                                          "VarianceExplained": float(explained[j]), "CumulativeVarianceExplained": float(explained[: j + 1].sum())}
    for j in range(cosines.shape[1]):
        table[f"cosine{j:02d}"] = cosines[:, j]
    for j, name in enumerate(MOTION):
        expanded(name, motion[:, j])
    return pd.DataFrame(table, index=range(n)).round(6), sidecar


def _write_dataset_files(root: Path, n_subjects: int, factors: Sequence[str], mode: str, scale: str) -> None:
    """Top-level BIDS files (as in ds001761), the derivatives' description and the ground truth's README."""
    from facebrain import __version__

    write_json(root / "dataset_description.json", {
        "Name": "facebrain simulated stand-in for OpenNeuro ds001761 (Reconstructing Faces from fMRI Patterns using Deep Generative Neural Networks)",
        "BIDSVersion": "1.0.2",
        "License": "CC0",
        "Authors": ["facebrain simulator"],
        "ReferencesAndLinks": ["VanRullen, R., & Reddy, L. (2019). Reconstructing faces from fMRI patterns using deep generative neural networks. Communications Biology 2, 193."],
    })
    rng = np.random.default_rng(n_subjects)
    participants = pd.DataFrame({"participant_id": [bids(subject=s) for s in design.subject_labels(n_subjects)],
                                 "age": rng.integers(22, 45, n_subjects), "sex": ["m"] * n_subjects})
    write_table(root / "participants.tsv", participants)
    write_text(root / "README", "Simulated stand-in for OpenNeuro ds001761 written by facebrain.fmri.simulate: same layout,\n"
                                "events and sidecars as the real dataset, fMRIPrep-style derivatives, planted truth in ground_truth/.\n")
    write_text(root / "CHANGES", "1.0.0\n\t- Simulated by facebrain.\n")
    write_text(root / ".bidsignore", "ground_truth/\n")
    write_json(root / layout.FMRIPREP / "dataset_description.json", {
        "Name": "fMRIPrep-style derivatives (simulated)",
        "BIDSVersion": "1.4.0",
        "DatasetType": "derivative",
        "GeneratedBy": [{"Name": "facebrain.fmri.simulate", "Version": __version__}],
    })
    _write_fixation(root / layout.STIMULI / layout.FIXATION_STIM)
    write_json(root / layout.GROUND_TRUTH / "factors.json", list(factors))
    write_text(root / layout.GROUND_TRUTH / "README", _TRUTH_README.format(factors=", ".join(factors), mode=mode, scale=scale))


def _write_fixation(path: Path) -> None:
    """The fixation cross shown on Fix and Img trials (stimuli/placeholders/fixation.png): grey, 178 x 218."""
    from PIL import Image

    from facebrain.io import atomic_path

    pixels = np.full((218, 178), 128, np.uint8)
    pixels[105:113, 79:99] = 0
    pixels[99:119, 85:93] = 0
    with atomic_path(path) as tmp:
        Image.fromarray(pixels).save(tmp, format="PNG")


_TRUTH_README = """Ground truth of the simulated dataset (never read by the analysis; tests only).

mode: {mode}; scale: {scale}
sub-XX_desc-faceregions_mask.nii.gz   1 inside the planted face-selective regions (faces > objects)
sub-XX_desc-faceregions_dseg.nii.gz   labels 1..6: lFFA rFFA lOFA rOFA lSTS rSTS (order in simulation.json)
sub-XX_desc-tuning_weights.nii.gz     4D, one volume per factor in factors.json ({factors}):
                                      % signal change per SD of the z-scored factor (z over the face dataset)
factors.json                          the order of the tuning volumes
simulation.json                       settings, factor means/SDs, per subject the test faces, planted
                                      leaks (training names of test-face images) and duplicated images
sub-XX_hemi-{{L,R}}_space-fsaverage5_desc-faceregions_mask.shape.gii    the same on fsaverage5's vertices
sub-XX_hemi-{{L,R}}_space-fsaverage5_desc-faceregions_dseg.label.gii    (one file per hemisphere; planted
sub-XX_hemi-{{L,R}}_space-fsaverage5_desc-tuning_weights.func.gii      on the surface, one data array per factor)
Signal model and SNR: see facebrain/fmri/simulate.py. In null mode the tuning volumes are zero.
"""
