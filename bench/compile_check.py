"""``train.compile`` for real: a kind trained N steps eager and compiled (torch.compile's default
backend, inductor), from the same seed; prints the time of each, the compiled run's images/s
after its first (compiling) log row, and how far the compiled weights are from the eager ones.

    .venv/bin/python bench/compile_check.py [--kinds vae factorvae] [--steps 20] [--data results/data/synthfaces.h5]
        [--device cpu] [--out results/bench/compile_check]

Trains on a prepared dataset (the demo's: ``snakemake --cores 2 results/data/synthfaces.h5``) with
the demo's batch size and lr, one torch thread on CPU. Inductor caches what it compiled
(``TORCHINDUCTOR_CACHE_DIR``); the bench gives it an empty cache, so the compiled run's time is
what a job on a fresh machine pays. Wall time includes inductor's compile workers, which the
process's CPU time does not count.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import pandas as pd
import torch

from facebrain.models.training import train_model

SPECS = {"vae": {"kind": "vae", "latent_dim": 24}, "factorvae": {"kind": "factorvae", "latent_dim": 24, "gamma": 24.0}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kinds", nargs="+", default=list(SPECS), choices=list(SPECS))
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--data", type=Path, default=Path("results/data/synthfaces.h5"))
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", type=Path, default=Path("results/bench/compile_check"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    os.environ["TORCHINDUCTOR_CACHE_DIR"] = tempfile.mkdtemp(prefix="inductor-cache-")
    settings = {"steps": args.steps, "batch_size": 64, "lr": 1e-3, "checkpoint_every": args.steps, "log_every": max(1, args.steps // 2), "eval_images": 64}
    rows = []
    for kind in args.kinds:
        weights = {}
        for compiled in (False, True):
            out = args.out / f"{kind}-{'compiled' if compiled else 'eager'}" / "model.pt"
            cpu, wall = time.process_time(), time.perf_counter()
            train_model(args.data, out, out.with_name("train_log.tsv"), out.with_name("evaluation.json"), kind, SPECS[kind], {**settings, "compile": compiled}, 0, args.device)
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            log = pd.read_csv(out.with_name("train_log.tsv"), sep="\t")
            weights[compiled] = torch.load(out, weights_only=True)["state_dict"]
            rows.append({"kind": kind, "compile": compiled, "wall_s": round(wall, 1), "cpu_s": round(cpu, 1),
                         "images_per_s_after_first_row": round(log.images_per_s.iloc[-1]), "max_weight_diff": "-", "mean_weight_diff": "-"})
        diffs = torch.cat([(weights[True][k].float() - v.float()).abs().flatten() for k, v in weights[False].items()])
        rows[-1] |= {"max_weight_diff": f"{diffs.max().item():.1e}", "mean_weight_diff": f"{diffs.mean().item():.1e}"}
    print(f"device: {args.device}, torch {torch.__version__}, {args.steps} steps")
    print(pd.DataFrame(rows).to_markdown(index=False))


if __name__ == "__main__":
    main()
