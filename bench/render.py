"""SynthFaces rendering throughput, and what the grid rendered once saves.

Measures, on this machine:
1. ``render_face`` alone (one 178x218 face, one core) and ``render_faces`` (render +
   preprocess to 64x64, as training and the metrics see faces) on 1, 2, ... worker
   processes, checking that every worker count gives the same bytes;
2. reading from the grid file (``facebrain.datasets.face_grid``) at the paper
   preset's size (5 levels: 156,250 cells, 1.9 GB; written here with synthetic
   pixels, the same layout and reader): a training step's 64 pairs
   (``facebrain.models.pairs.sample_pairs``) and the metrics' batches of 64 faces;
3. the metrics' representation function (a fresh A.1 VAE's posterior mean, CPU);
then estimates one paper-preset SynthFaces evaluation (``model_metrics``: the
observations its five metrics draw at the counts of presets/paper.yaml) with the
grid and with on-demand rendering, and the grid's own rendering time.

Usage: .venv/bin/python bench/render.py [--n 48] [--workers 1 2] [--levels 5]
"""

from __future__ import annotations

import argparse
import math
import os
import tempfile
import time
from pathlib import Path
from unittest import mock

import numpy as np
import torch
import yaml

import facebrain.datasets.face_grid as face_grid
from facebrain.datasets.prepared import PreparedData, write_prepared
from facebrain.datasets.synthfaces import FACTOR_NAMES, render_face, render_faces, sample_factors
from facebrain.metrics.evaluate import representation_function
from facebrain.metrics.ground_truth import SynthFacesGrid
from facebrain.models.batches import TrainPool
from facebrain.models.pairs import sample_pairs
from facebrain.models.registry import build_model
from facebrain.models.training import save_model

PAPER = Path(__file__).resolve().parents[1] / "presets" / "paper.yaml"


def observations_per_evaluation(counts: dict) -> dict[str, int]:
    """Observations each metric of ``facebrain.metrics.evaluate.evaluate_model`` draws (and encodes)."""
    points, batch, n = counts["num_train"] + counts["num_eval"], counts["batch_size"], counts["num_observations"]
    return {
        "z-diff": points * batch * 2,  # a point: batch_size pairs
        "z-min": counts["num_variance_estimate"] + points * batch,
        "MIG": n,
        "DCI": n + n // 2,
        "SAP": n + n // 2,
    }


def timed(func, repeat: int, clock=time.perf_counter) -> float:
    """Seconds (of ``clock``) per call of ``func``, best of three rounds of ``repeat`` calls."""
    best = math.inf
    for _ in range(3):
        start = clock()
        for _ in range(repeat):
            func()
        best = min(best, (clock() - start) / repeat)
    return best


def synthetic_faces(values, workers=1):
    """Stand-in renderer for writing a full-size grid quickly: distinct pixels, no rendering."""
    values = np.asarray(values)
    return np.broadcast_to((np.abs(values).sum(axis=1) * 31 % 256).astype(np.uint8)[:, None, None, None], (len(values), 64, 64, 3))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=48, help="faces rendered per worker count")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--levels", type=int, default=5, help="levels of the grid read back (the paper preset's)")
    args = parser.parse_args()
    torch.set_num_threads(1)

    face = {"yaw": 0.3, "smile": 0.5, "eyeglasses": 1}
    single, single_cpu = timed(lambda: render_face(face), 5), timed(lambda: render_face(face), 5, time.process_time)
    print(f"render_face: {single * 1000:.1f} ms per 178x218 face, {single_cpu * 1000:.1f} CPU-ms (one process)")
    values = sample_factors(args.n, np.random.default_rng(0)).to_numpy()
    reference, rates, cpu_per_face = None, {}, {}
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} (a loaded machine leaves workers less than a core each)")
    for workers in args.workers:
        before, start = os.times(), time.perf_counter()
        faces = render_faces(values, workers=workers)
        wall, after = time.perf_counter() - start, os.times()
        cpu = sum(after[:4]) - sum(before[:4])  # this process and its (joined) workers, user + system
        reference = faces if reference is None else reference
        assert faces.tobytes() == reference.tobytes(), f"{workers} workers gave other bytes"
        rates[workers], cpu_per_face[workers] = args.n / wall, cpu / args.n
        print(f"render_faces: {args.n} faces on {workers} worker(s): {wall:.2f} s, {rates[workers]:.1f} faces/s "
              f"(x{rates[workers] / rates[args.workers[0]]:.2f}), {cpu / args.n * 1000:.0f} CPU-ms per face; "
              f"same bytes as {args.workers[0]} worker(s)")

    paper = yaml.safe_load(PAPER.read_text())
    counts = paper["metrics"]
    cells = math.prod(len(v) for v in face_grid.grid_values(args.levels))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        start = time.perf_counter()
        with mock.patch.object(face_grid, "render_faces", synthetic_faces):
            face_grid.write_face_grid(tmp / "grid.h5", levels=args.levels, block=8192)
        print(f"grid file: {cells} cells, {(tmp / 'grid.h5').stat().st_size / 1e9:.2f} GB, written in {time.perf_counter() - start:.1f} s (synthetic pixels)")
        grid = face_grid.FaceGrid(tmp / "grid.h5")
        rng = np.random.default_rng(0)
        factors = sample_factors(64, rng).to_numpy()
        write_prepared(tmp / "pool.h5", np.zeros((64, 64, 64, 3), np.uint8), factors, FACTOR_NAMES, np.zeros(64, np.int8), [str(i) for i in range(64)])
        with PreparedData(tmp / "pool.h5") as data:
            pool = TrainPool(data, np.arange(64), torch.device("cpu"), grid)
            pair_step = timed(lambda: sample_pairs(pool, 64, rng), 20)
        print(f"pairs from the grid: {pair_step * 1000:.1f} ms per batch of 64 pairs (rendered: 128 faces, ~{128 * single:.1f} s here)")
        truth = SynthFacesGrid(tmp / "grid.h5")
        read = timed(lambda: truth.sample_observations_from_factors(truth.sample_factors(64, rng), rng), 50) / 64
        print(f"metrics' ground truth from the grid: {read * 1e6:.0f} us per face (batches of 64 random cells)")
        model = build_model({"kind": "vae", "latent_dim": 24}, in_channels=3)
        save_model(model.eval(), tmp / "model.pt", "vae", {"kind": "vae", "latent_dim": 24})
        encode = representation_function(tmp / "model.pt", "cpu")
        batch = grid.images(rng.integers(grid.size, size=64))
        encoded = timed(lambda: encode(batch), 10) / 64
        print(f"representation (A.1 VAE posterior mean, CPU, 1 thread): {encoded * 1e6:.0f} us per face")

    obs = observations_per_evaluation(counts)
    total = sum(obs.values())
    print(f"one paper-preset SynthFaces evaluation draws {total:,} observations ({', '.join(f'{k} {v:,}' for k, v in obs.items())})")
    print(f"  with the grid: reading {total * read / 60:.1f} min + encoding {total * encoded / 60:.0f} min on one CPU core "
          f"(the metrics' own classifiers on top: bench/metrics_protocol.py --scale paper)")
    # on demand: an LRU cache of 50,000 faces over uniformly drawn cells misses about 1 - 50,000 / cells of the
    # time once full; every cell drawn is rendered at least once
    renders = max(total * (1 - min(1.0, 50_000 / cells)), min(cells, total))
    serial = cpu_per_face[args.workers[0]]
    print(f"  rendered on demand (50k-face cache): ~{renders:,.0f} renders, ~{renders * serial / 3600:.1f} h on one core")
    best = max(rates)
    print(f"the grid itself: {cells:,} faces, {cells * serial / 3600:.2f} CPU-hours; {cells / rates[best] / 3600:.2f} h here on "
          f"{best} worker(s) at the measured rate; ~{cells * cpu_per_face[best] / 16 / 60:.0f} min on 16 free cores")


if __name__ == "__main__":
    main()
