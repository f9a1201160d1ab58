"""Time and peak memory of the subject-level encoding GLM (facebrain.encoding.glm.fit_encoding_glm), per space.

Writes synthetic task-faces runs (events with training faces every 3 s, test
faces, one-backs, 15 confounds) to a temporary folder and fits the GLM, in
either analysis space:

* volume (MNI152NLin2009cAsym_res-2): one gzipped 4D NIfTI per run, every voxel of the grid analysed;
* surface (fsaverage5): a GIFTI per hemisphere and run (one data array per volume,
  as fMRIPrep writes them: 2 x 10,242 vertices), the cortex analysed (medial wall excluded).

Scales:

* demo: the simulated demo's counts (9 runs x ~110 volumes; the volume ~25k voxels, K = 24);
* real: ds001761 per subject is ~100 runs x 200 volumes (the volume ~200k voxels). Writing
  100 such runs (16 GB of volume BOLD) is too slow for a benchmark, so ``--real-runs``
  runs (default 3) are fitted and the time is extrapolated linearly to 100 runs;
  memory does not grow with the number of runs (one run in memory at a time plus
  P x V running sums), so the measured peak is the real-scale peak.

Peak memory is the process's maximum resident set size (ru_maxrss), measured in
a fresh child process per scale and space; the fit's CPU time (all threads) is
given beside its wall time, which other load on the machine inflates.

One read per subject (issue 19.1): after the fit of one model from the BOLD files (what a
model's GLM cost before), the runs are masked and scaled once (facebrain.encoding.scaled_bold.scale_runs)
and the GLMs of ``--models`` models (K = 24 each) are fitted in one pass over that file
(facebrain.encoding.glm.fit_encoding_glms; the first model's betas checked against the fit
from the BOLD files); the cost of all models of a subject is given beside one model's fit
from the BOLD files. The BLAS pool is capped at one thread, as a GLM job (threads: 1) runs.
The scaled file of the measured runs stays in the page cache; at the real count (16 GB a
subject in the volume) the pass also reads it from disk (once with ``ols``, twice with ``ar1``).

Usage: .venv/bin/python bench/glm.py [--scale demo|real|both] [--space volume|surface|both] [--real-runs 3] [--models 9] [--noise-model ols|ar1]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

SCALES = {"demo": {"runs": 9, "volumes": 110, "grid": (32, 32, 25), "K": 24}, "real": {"runs": 100, "volumes": 200, "grid": (64, 64, 49), "K": 24}}


SPACES = ("volume", "surface")


@dataclass
class Run:
    bold: Path
    events: pd.DataFrame
    confounds: pd.DataFrame
    tr: float = 2.0
    bold_files: tuple[Path, ...] = ()


def write_bold(folder: Path, r: int, n_vol: int, space: str, grid, rng) -> tuple[Path, ...]:
    """One run's synthetic BOLD: a 4D NIfTI (volume), or fMRIPrep's hemi-L/hemi-R GIFTI time series (surface)."""
    import nibabel as nib

    from facebrain.fmri import fsaverage
    from facebrain.nifti import gifti_image

    if space == "volume":
        path = folder / f"run{r:03d}.nii.gz"
        nib.save(nib.Nifti1Image((100 + rng.normal(size=grid + (n_vol,))).astype(np.float32), np.eye(4)), path)
        return (path,)
    files = []
    for hemi in fsaverage.HEMIS:
        path = folder / f"run{r:03d}_hemi-{hemi}_space-fsaverage5_bold.func.gii"
        data = (100 + rng.normal(size=(n_vol, fsaverage.N_VERTICES))).astype(np.float32)
        nib.save(gifti_image(data, fsaverage.STRUCTURE[hemi], intent="NIFTI_INTENT_TIME_SERIES", encoding="GIFTI_ENCODING_B64BIN"), path)
        files.append(path)
    return tuple(files)


def make_runs(folder: Path, n_runs: int, n_vol: int, grid, rng, space: str = "volume") -> tuple[list[Run], dict]:
    latents = {f"T{i:05d}.jpg": rng.normal(size=24) for i in range(n_runs * n_vol)}
    tests = [f"F{i:02d}.jpg" for i in range(20)]
    latents.update({t: rng.normal(size=24) for t in tests})
    train = iter([name for name in latents if name.startswith("T")])
    runs = []
    for r in range(n_runs):
        rows, t = [], 6.0
        while t < n_vol * 2.0 - 12:
            k = len(rows)
            if k % 6 == 5:
                rows.append((t, 1.0, "test_face", tests[(r % 2) * 10 + (k // 6) % 10], 0))
            else:
                rows.append((t, 1.0, "train_face", next(train), int(k % 17 == 3)))
            t += 3.0
        events = pd.DataFrame(rows, columns=["onset", "duration", "trial_type", "stim_name", "oneback"])
        files = write_bold(folder, r, n_vol, space, grid, rng)
        runs.append(Run(files[0], events, pd.DataFrame(rng.normal(size=(n_vol, 15)), columns=[f"c{i}" for i in range(15)]), bold_files=files))
    return runs, latents


def timed(call):
    """(result, wall seconds, CPU seconds of this process) of ``call()``."""
    start, cpu_start = time.perf_counter(), time.process_time()
    result = call()
    return result, time.perf_counter() - start, time.process_time() - cpu_start


def fit_child(scale: str, space: str, n_runs: int, n_models: int, noise_model: str, queue) -> None:
    from threadpoolctl import threadpool_limits

    from facebrain.encoding.glm import fit_encoding_glm, fit_encoding_glms
    from facebrain.encoding.scaled_bold import ScaledBold, scale_runs
    from facebrain.fmri.spaces import VOLUME, SpaceMask, surface_mask

    threadpool_limits(1)  # a GLM job has threads: 1 (facebrain.pipeline caps the BLAS pool at it)
    cfg = SCALES[scale]
    rng = np.random.default_rng(0)
    mask = SpaceMask(VOLUME, np.ones(cfg["grid"], bool)) if space == "volume" else surface_mask()
    with tempfile.TemporaryDirectory() as tmp:
        runs, latents = make_runs(Path(tmp), n_runs, cfg["volumes"], cfg["grid"], rng, space)
        models = {"m0": latents} | {f"m{i}": {name: rng.normal(size=cfg["K"]) for name in latents} for i in range(1, n_models)}
        mb_per_run = sum(f.stat().st_size for f in runs[0].bold_files) / 1e6
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        fit, elapsed, cpu = timed(lambda: fit_encoding_glm(runs, mask, latents, noise_model=noise_model))
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        # one read per subject: scale once, then every model's GLM in one pass over the scaled file; a fit's cost
        # is fixed (z maps, solves, start-up) + per run, so one-run fits give the fixed part for the extrapolation
        _, one_run, one_run_cpu = timed(lambda: fit_encoding_glm(runs[:1], mask, latents, noise_model=noise_model))
        scaled = Path(tmp) / "scaled_bold.h5"
        _, scale_s, scale_cpu = timed(lambda: scale_runs(runs, mask, scaled))
        bold = ScaledBold(scaled, runs, mask.n_elements)
        fits, all_s, all_cpu = timed(lambda: dict(fit_encoding_glms(runs, mask, models, noise_model=noise_model, bold=bold)))
        np.testing.assert_allclose(fits["m0"].betas, fit.betas, rtol=1e-5, atol=1e-6 * np.abs(fit.betas).max(), err_msg="betas of the one-read fit differ")
        _, all_one_run, all_one_run_cpu = timed(lambda: dict(fit_encoding_glms(runs[:1], mask, models, noise_model=noise_model, bold=bold)))
    queue.put({"scale": scale, "space": space, "noise_model": noise_model, "runs_fitted": n_runs, "volumes": cfg["volumes"], "elements": mask.n_elements,
               "mb_per_run": mb_per_run, "regressors": len(fit.columns), "seconds": elapsed, "cpu_seconds": cpu, "peak_rss_mb": peak_mb,
               "rss_before_fit_mb": rss_before / 1024, "models": n_models, "one_run_seconds": one_run, "one_run_cpu_seconds": one_run_cpu,
               "scale_seconds": scale_s, "scale_cpu_seconds": scale_cpu, "all_models_seconds": all_s, "all_models_cpu_seconds": all_cpu,
               "all_models_one_run_seconds": all_one_run, "all_models_one_run_cpu_seconds": all_one_run_cpu})


def one_read_costs(res: dict, n_runs_all: int) -> dict:
    """Wall and CPU seconds at ``n_runs_all`` runs of one model's fit from the BOLD files and of all models with one read per subject.

    A fit costs fixed + per run x runs: per run from the fits of ``runs_fitted`` runs and of one run;
    the scaling costs per run only.
    """
    n, out = res["runs_fitted"], {}
    for kind, key in (("wall", "seconds"), ("cpu", "cpu_seconds")):
        today, today_one = res[key], res[f"one_run_{key}"]
        both, both_one = res[f"all_models_{key}"], res[f"all_models_one_run_{key}"]
        per_run, both_per_run = (today - today_one) / (n - 1), (both - both_one) / (n - 1)
        one_model = today_one - per_run + per_run * n_runs_all
        all_models = res[f"scale_{key}"] / n * n_runs_all + both_one - both_per_run + both_per_run * n_runs_all
        out[kind] = {"one_model_today": one_model, "all_models_one_read": all_models, "ratio": all_models / one_model,
                     "per_run_today": per_run, "per_run_scale": res[f"scale_{key}"] / n, "per_run_all_models": both_per_run,
                     "fixed_all_models": both_one - both_per_run}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", choices=["demo", "real", "both"], default="both")
    parser.add_argument("--space", choices=[*SPACES, "both"], default="both")
    parser.add_argument("--real-runs", type=int, default=3)
    parser.add_argument("--models", type=int, default=9, help="models fitted per subject (the paper preset's 9)")
    parser.add_argument("--noise-model", choices=["ols", "ar1"], default="ols")
    args = parser.parse_args()
    ctx = mp.get_context("spawn")
    for scale in (["demo", "real"] if args.scale == "both" else [args.scale]):
        for space in (SPACES if args.space == "both" else [args.space]):
            n_runs = SCALES[scale]["runs"] if scale == "demo" else args.real_runs
            queue = ctx.Queue()
            proc = ctx.Process(target=fit_child, args=(scale, space, n_runs, args.models, args.noise_model, queue))
            proc.start()
            res = queue.get(timeout=3600)
            proc.join()
            per_run = res["seconds"] / n_runs
            res["seconds_per_run"] = per_run
            res["seconds_extrapolated_all_runs"] = per_run * SCALES[scale]["runs"]
            res["cpu_seconds_extrapolated_all_runs"] = res["cpu_seconds"] / n_runs * SCALES[scale]["runs"]
            print(json.dumps(res))
            print(f"{scale} {space}: {n_runs} runs x {res['volumes']} vols x {res['elements']} elements ({res['mb_per_run']:.0f} MB of BOLD a run), "
                  f"{res['regressors']} task regressors: {res['seconds']:.1f} s ({per_run:.2f} s/run; {SCALES[scale]['runs']} runs -> "
                  f"{res['seconds_extrapolated_all_runs'] / 60:.1f} min; CPU {res['cpu_seconds']:.1f} s -> "
                  f"{res['cpu_seconds_extrapolated_all_runs'] / 60:.1f} min), peak RSS {res['peak_rss_mb']:.0f} MB", flush=True)
            if n_runs > 1:
                costs = one_read_costs(res, SCALES[scale]["runs"])
                print(json.dumps({"one_read": costs}))
                for kind, c in costs.items():
                    print(f"  one read per subject, {kind} ({SCALES[scale]['runs']} runs, {args.noise_model}): one model from the BOLD files "
                          f"{c['one_model_today'] / 60:.1f} min ({c['per_run_today']:.2f} s/run), {args.models} such fits "
                          f"{args.models * c['one_model_today'] / 60:.1f} min; scaled once ({c['per_run_scale']:.2f} s/run) + the {args.models} models "
                          f"in one pass over the file ({c['fixed_all_models']:.1f} s + {c['per_run_all_models']:.2f} s/run) = "
                          f"{c['all_models_one_read'] / 60:.1f} min, {c['ratio']:.2f}x one model's fit from the BOLD files", flush=True)


if __name__ == "__main__":
    main()
