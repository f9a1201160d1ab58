"""Time the fMRI simulator and measure how well its planted truth can be recovered.

For a scale (default demo) it simulates into a temporary folder from a face
dataset in CelebA layout (default resources/synthfaces), then per subject:
- tuning recovery: per-run OLS with the true z-scored factors as regressors
  (plus face, imagery, confounds, trend), averaged over runs; Pearson r with the
  planted tuning over the planted face-selective voxels, per factor;
- localizer: the encoding stage's faces > objects z map
  (facebrain.encoding.localizer) thresholded at p < 1e-4; Dice with the planted regions.

Usage: .venv/bin/python bench/fmri_simulation.py [--faces resources/synthfaces] [--scale demo] [--mode planted]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd


def recovered_r(data, sub: str, z_of: dict) -> list[float]:
    from nilearn.glm.first_level import compute_regressor

    truth = data.root / "ground_truth"
    selective = nib.load(truth / f"sub-{sub}_desc-faceregions_mask.nii.gz").get_fdata() > 0
    planted = nib.load(truth / f"sub-{sub}_desc-tuning_weights.nii.gz").get_fdata()[selective]
    estimates = []
    for run in data.runs(sub, "faces"):
        y = nib.load(run.bold).get_fdata()[selective].T
        y = 100 * (y / y.mean(0) - 1)
        ev, t = run.events, np.arange(len(y)) * run.tr
        face = ev.trial_type.isin(["train_face", "test_face"]).to_numpy()

        def reg(rows, amp):
            return compute_regressor(np.vstack([ev.onset[rows], ev.duration[rows], amp]), "glover", t)[0][:, 0]

        zs = np.stack([z_of[f] for f in ev.face_id[face]])
        img = (ev.trial_type == "img").to_numpy()
        x = np.column_stack([reg(face, np.ones(face.sum())), reg(img, np.ones(img.sum()))]
                            + [reg(face, zs[:, f]) for f in range(zs.shape[1])]
                            + [run.confounds.to_numpy(), np.ones(len(y)), np.linspace(-1, 1, len(y))])
        estimates.append(np.linalg.lstsq(x, y, rcond=None)[0][2:2 + zs.shape[1]])
    w_hat = np.mean(estimates, axis=0)
    return [float(np.corrcoef(w_hat[f], planted[:, f])[0, 1]) for f in range(planted.shape[1])]


def localizer_dice(data, sub: str, p: float = 1e-4) -> float:
    from facebrain.encoding.glm import brain_mask
    from facebrain.encoding.localizer import face_selective_mask, localizer_zmap

    runs = data.runs(sub, "loc")
    selected = np.asarray(face_selective_mask(localizer_zmap(runs, brain_mask([r.mask for r in runs])), p).dataobj) > 0
    planted = nib.load(data.root / "ground_truth" / f"sub-{sub}_desc-faceregions_mask.nii.gz").get_fdata() > 0
    return float(2 * (selected & planted).sum() / (selected.sum() + planted.sum()))


def main() -> None:
    from facebrain.fmri.reader import BidsFmriDataset
    from facebrain.fmri.simulate import simulate_dataset

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--faces", default="resources/synthfaces")
    parser.add_argument("--scale", default="demo")
    parser.add_argument("--mode", default="planted")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        root = simulate_dataset(args.faces, Path(tmp) / "simfmri", scale=args.scale, mode=args.mode)
        elapsed = time.perf_counter() - start
        size = sum(f.stat().st_size for f in root.rglob("*") if f.is_file())
        print(f"simulate {args.scale}/{args.mode}: {elapsed:.1f} s, {size / 1e6:.0f} MB")
        info = json.loads((root / "ground_truth/simulation.json").read_text())
        factors = info["settings"]["factors"]
        table = pd.read_csv(Path(args.faces) / "factors.tsv", sep="\t").set_index("image_id")[factors]
        z = (table - pd.Series(info["factor_mean"])[factors]) / pd.Series(info["factor_sd"])[factors]
        z_of = {i: row.to_numpy() for i, row in z.iterrows()}
        data = BidsFmriDataset(root)
        for sub in data.subjects():
            r = recovered_r(data, sub, z_of)
            print(f"sub-{sub}: tuning r " + ", ".join(f"{f} {v:.2f}" for f, v in zip(factors, r))
                  + f"; localizer Dice {localizer_dice(data, sub):.2f}")


if __name__ == "__main__":
    main()
