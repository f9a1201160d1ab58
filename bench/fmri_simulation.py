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
    from facebrain.fmri.truth import recover_tuning, true_factor_z

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
        z_of = true_factor_z(root, Path(args.faces) / "factors.tsv")
        factors = json.loads((root / "ground_truth/factors.json").read_text())
        data = BidsFmriDataset(root)
        for sub in data.subjects():
            w_hat, w = recover_tuning(data, sub, z_of)
            r = [np.corrcoef(a, b)[0, 1] for a, b in zip(w_hat, w)]
            print(f"sub-{sub}: tuning r " + ", ".join(f"{f} {v:.2f}" for f, v in zip(factors, r))
                  + f"; localizer Dice {localizer_dice(data, sub):.2f}")


if __name__ == "__main__":
    main()
