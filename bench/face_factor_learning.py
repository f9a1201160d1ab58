"""Which SynthFaces factors a face model has learned after N training steps: cross-validated R^2 of each factor from its latents.

Trains each named model of the config (``models:``) on the demo's prepared SynthFaces
(``results/data/synthfaces.h5``, from ``snakemake --cores 2 results/data/synthfaces.h5``)
with the config's ``train:`` settings but ``--steps`` steps (and ``--batch-size``, if given), on one CPU thread, into
``--out`` (no pipeline output is touched), encodes every face and prints the
5-fold ridge R^2 of each factor from the latent means, with the CPU seconds it took.
PCA and the random projection are fitted the same way for comparison.

Usage: .venv/bin/python bench/face_factor_learning.py [--models vae factorvae pca random] [--steps 300 3000] [--batch-size 16] [--out results/bench/face_factor_learning]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import h5py
import pandas as pd
import torch
import yaml
from snakemake.utils import validate

from facebrain import paths
from facebrain.models.latents import encode_images
from facebrain.models.training import train_model

sys.path.insert(0, str(Path(__file__).parent))
from encoding_by_planted_factor import factor_r2  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=["vae", "factorvae", "pca", "random"])
    parser.add_argument("--steps", nargs="+", type=int, default=[300])
    parser.add_argument("--batch-size", type=int, default=None, help="images per step (default: the config's train.batch_size)")
    parser.add_argument("--out", type=Path, default=Path("results/bench/face_factor_learning"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    config = yaml.safe_load(Path("config.yaml").read_text())
    validate(config["train"], "workflow/schemas/train.schema.yaml")  # fills the defaults, as the Snakefile does
    data = paths.path("prepared", dataset="synthfaces")
    with h5py.File(data, "r") as f:
        images, factors = f["images"][()], f["factors"][()]
        names, ids = list(f["factor_names"].asstr()[()]), list(f["ids"].asstr()[()])
    batch_size = args.batch_size or config["train"]["batch_size"]
    rows = []
    for steps in args.steps:
        for model in args.models:
            out = args.out / f"{model}-{steps}-b{batch_size}" / "model.pt"
            start = time.process_time()
            if not out.exists():
                train = {**config["train"], "steps": steps, "batch_size": batch_size}
                train_model(data, out, out.with_name("train_log.tsv"), out.with_name("evaluation.json"), model, config["models"][model], train, config["seed"], "cpu")
            mu, _ = encode_images(out, images, ids, "cpu")
            rows.append({"model": model, "steps": steps, "batch_size": batch_size, "cpu_s": round(time.process_time() - start), **dict(zip(names, factor_r2(mu, factors).round(2)))})
            print(pd.DataFrame(rows[-1:]).to_string(index=False, header=len(rows) == 1), flush=True)
    print()
    print(pd.DataFrame(rows).to_markdown(index=False))


if __name__ == "__main__":
    main()
