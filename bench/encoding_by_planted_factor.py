"""Table 1 of the simulated data, read against the planted truth: which factors each model's latents carry, and its rho by the factor a voxel was tuned to.

The simulator plants linear tuning to a few SynthFaces factors (``ground_truth/factors.json``:
yaw in OFA-like, smile in STS-like, gender and skin tone in FFA-like blobs), so on simulated
data Table 1's mean rho mixes voxels tuned to factors a model has learned with voxels tuned
to factors it has not. This script splits it:

1. for each model, the cross-validated R^2 (5-fold ridge) of each planted factor from the
   model's latents of the stimulus faces (``stimulus_latents.h5`` of sub-01);
2. for each space, subject and model, the mean Spearman rho over the face-selective elements
   whose strongest planted weight is on each factor (``none``: face-selective but not tuned).

Run it from a finished demo (``snakemake --cores 2 all``); it reads only files under
``results/`` and ``resources/simfmri`` and writes nothing.

Usage: .venv/bin/python bench/encoding_by_planted_factor.py [--root .] [--models vae factorvae pca random oracle]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

from facebrain import paths
from facebrain.encoding.glm import read_stimulus_latents
from facebrain.fmri import layout
from facebrain.fmri.spaces import SURFACE, read_map

SPACES = ("MNI152NLin2009cAsym", "fsaverage5")


def factor_r2(latents: np.ndarray, factors: np.ndarray, folds: int = 5) -> np.ndarray:
    """Cross-validated R^2 of each column of ``factors`` (N, F) from ``latents`` (N, K) by ridge regression -> (F,)."""
    from sklearn.linear_model import RidgeCV
    from sklearn.model_selection import cross_val_predict

    out = []
    for y in factors.T:
        pred = cross_val_predict(RidgeCV(alphas=np.logspace(-3, 3, 13)), latents, y, cv=folds)
        out.append(1 - np.mean((pred - y) ** 2) / np.var(y))
    return np.array(out)


def planted_labels(root: Path, subject: str, space: str, like: Path) -> np.ndarray:
    """Index of the factor with the largest |planted weight| per element of the analysis grid (-1: none).

    ``like`` is a map of the analysis (its grid: the volume's NIfTI, or the surface's hemi-L GIFTI).
    """
    sim = root / paths.path("fmri_simulated")
    if space == "fsaverage5":
        files = [sim / layout.truth_file(subject, "tuning", "weights", ".func.gii", hemi=h, space=space) for h in paths.HEMIS]
        weights = read_map(files)[0].T  # (elements, F)
    else:
        import nibabel as nib
        from nilearn.image import resample_to_img

        truth = nib.load(sim / layout.truth_file(subject, "tuning", "weights"))
        weights = np.asarray(resample_to_img(truth, nib.load(like), interpolation="nearest", force_resample=True, copy_header=True).dataobj)
    strongest = np.abs(weights).argmax(-1)
    return np.where(np.abs(weights).max(-1) > 0, strongest, -1)


def rho_by_factor(root: Path, subjects: list[str], models: list[str], factors: list[str]) -> pd.DataFrame:
    """Mean rho over face-selective elements grouped by their strongest planted factor: one row per space x subject x model."""
    rows = []
    for space in SPACES:
        surface = space == "fsaverage5"
        for subject in subjects:
            selective_files = [root / p for p in paths.map_files("face_selective", surface, subject=subject, space=space)]
            selective, kind, _ = read_map(selective_files)
            selective = selective[0] > 0 if kind == SURFACE else selective > 0
            label = planted_labels(root, subject, space, selective_files[0])
            for model in models:
                rho = read_map([root / p for p in paths.map_files("rho", surface, subject=subject, space=space, model=model)])[0]
                rho = rho[0] if surface else rho
                row = {"space": space, "subject": subject, "model": model, "all": np.nanmean(rho[selective])}
                for f, name in enumerate([*factors, "none"]):
                    inside = selective & (label == (f if name != "none" else -1))
                    row[name] = np.nanmean(rho[inside]) if inside.any() else np.nan
                    row[f"n {name}"] = int(inside.sum())
                rows.append(row)
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=Path("."))
    parser.add_argument("--models", nargs="+", default=["vae", "factorvae", "pca", "random", "oracle"])
    parser.add_argument("--subjects", nargs="+", default=["01", "02", "03", "04"])
    args = parser.parse_args()
    sim = args.root / paths.path("fmri_simulated")
    factors = json.loads((sim / layout.GROUND_TRUTH / "factors.json").read_text())
    table = pd.read_csv(args.root / paths.path("face_root", dataset="synthfaces") / "factors.tsv", sep="\t", dtype={"image_id": str}).set_index("image_id")

    print("Cross-validated R^2 of each planted factor from the latents of sub-01's stimulus faces (5-fold ridge):\n")
    r2 = {}
    for model in args.models:
        latents, face_of = read_stimulus_latents(args.root / paths.path("stimulus_latents", subject=args.subjects[0], model=model))
        names = sorted(latents)
        r2[model] = factor_r2(np.stack([latents[n] for n in names]), table.loc[[face_of[n] for n in names], factors].to_numpy(float))
    print(pd.DataFrame(r2, index=factors).T.round(2).to_markdown())

    print("\nMean Spearman rho over face-selective elements, by the factor each element's planted tuning is strongest on:\n")
    by_factor = rho_by_factor(args.root, args.subjects, args.models, factors)
    for space, part in by_factor.groupby("space", sort=False):
        print(f"space-{space}:\n")
        counts = [c for c in part.columns if c.startswith("n ")]
        print(part.drop(columns=["space", *counts]).round(3).to_markdown(index=False))
        print("\nface-selective elements per planted factor:", part.groupby("subject")[counts].first().to_dict("index"))
        print()


if __name__ == "__main__":
    main()
