"""Peak memory of ONE model's encoding GLM from the scaled BOLD, as rules encoding_glm_model* run it.

Synthetic task-faces runs as bench/glm.py writes them (its ``make_runs``; every voxel of the grid
analysed), scaled once (facebrain.encoding.scaled_bold.scale_runs), then the GLM of one model of
K latent dimensions (facebrain.encoding.glm.fit_encoding_glms, ols or ar1, the BLAS pool at one thread as in
a GLM job) and its betas and z maps written as NIfTI. Run it under ``/usr/bin/time -v``: the
"Maximum resident set size" is the number; the line printed also gives the peak before the fit
(the synthetic data's generation, which a job does not have). Memory does not grow with the
number of runs (one run in memory at a time plus P x V running sums).

The constants of ``glm_model_mem_mb`` (workflow/rules/common_encoding.smk) come from it:

    /usr/bin/time -v .venv/bin/python bench/glm_memory.py --latents 24     # demo volume: 32 x 32 x 25 voxels, 9 runs x 110 volumes
    /usr/bin/time -v .venv/bin/python bench/glm_memory.py --latents 512
    /usr/bin/time -v .venv/bin/python bench/glm_memory.py --latents 1024
    /usr/bin/time -v .venv/bin/python bench/glm_memory.py --latents 24 --grid 64 64 49 --runs 2 --volumes 200   # the real volume's ~200k voxels
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from glm import make_runs  # noqa: E402  (bench/glm.py)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--latents", type=int, default=24, help="K, the model's latent dimensions")
    parser.add_argument("--grid", type=int, nargs=3, default=(32, 32, 25), help="the volume's grid (every voxel analysed)")
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--volumes", type=int, default=110, help="volumes per run")
    parser.add_argument("--noise-model", choices=["ols", "ar1"], default="ols")
    args = parser.parse_args()
    from threadpoolctl import threadpool_limits

    from facebrain.encoding.glm import fit_encoding_glms
    from facebrain.encoding.scaled_bold import ScaledBold, scale_runs
    from facebrain.fmri.spaces import VOLUME, SpaceMask

    threadpool_limits(1)
    rng = np.random.default_rng(0)
    mask = SpaceMask(VOLUME, np.ones(tuple(args.grid), bool))
    with tempfile.TemporaryDirectory() as tmp:
        runs, _ = make_runs(Path(tmp), args.runs, args.volumes, tuple(args.grid), rng)
        latents = {name: rng.normal(size=args.latents) for run in runs for name in run.events.stim_name}
        scaled = Path(tmp) / "scaled_bold.h5"
        scale_runs(runs, mask, scaled)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        cpu = time.process_time()
        fit = dict(fit_encoding_glms(runs, mask, {"model": latents}, noise_model=args.noise_model, bold=ScaledBold(scaled, runs, mask.n_elements)))["model"]
        mask.save(fit.W, [Path(tmp) / "betas.nii.gz"])
        mask.save(fit.z_latents, [Path(tmp) / "zmaps.nii.gz"])
        print(f"{args.noise_model}: K = {args.latents}, V = {mask.n_elements} voxels, {args.runs} runs x {args.volumes} volumes: P = {fit.betas.shape[0]} task regressors; "
              f"peak RSS before the fit {before:.0f} MB, after {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB; "
              f"fit CPU {time.process_time() - cpu:.1f} s", flush=True)


if __name__ == "__main__":
    main()
