"""Time and peak memory of the full dSprites regeneration (737,280 images; targets: < 5 min, < 4 GB on 2 cores),
of preparing results/data/dsprites.h5 from it, and of random batch reads from the prepared file.

Each step runs in a fresh child process, so its peak resident memory is measured alone.

Usage: .venv/bin/python bench/dsprites_generation.py [--workdir DIR] [--batches 50]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STEPS = {
    "regenerate": "from facebrain.datasets.dsprites import regenerate_dsprites as f; f({npz!r})",
    "prepare": "from facebrain.datasets.dsprites import prepare_dsprites as f; f({npz!r}, {h5!r})",
    "random batches": (
        "import numpy as np, time; from facebrain.datasets.prepared import PreparedData, iterate_batches\n"
        "d = PreparedData({h5!r}); s = iterate_batches(d, d.indices(0), 64, np.random.default_rng(0), 'cpu', cache_bytes=0)\n"
        "t = time.perf_counter(); [next(s) for _ in range({batches})]\n"
        "print(f'  {{(time.perf_counter() - t) / {batches} * 1000:.1f}} ms per random batch of 64 read from the file')"
    ),
}


def run_step(code: str) -> tuple[float, float]:
    """Run ``code`` in a child python; return (wall seconds, peak RSS in GB of that child)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    wall = time.perf_counter() - start
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return wall, max(peak_kb, before) / 1024**2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workdir", default=None, help="where to write the ~55 MB npz and ~65 MB h5 (default: a temporary folder)")
    parser.add_argument("--batches", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        npz, h5 = str(Path(tmp) / "dsprites.npz"), str(Path(tmp) / "dsprites.h5")
        for name, template in STEPS.items():
            wall, peak = run_step(template.format(npz=npz, h5=h5, batches=args.batches))
            size = Path(npz if name == "regenerate" else h5).stat().st_size / 1e6
            print(f"{name}: {wall:.1f} s wall, peak RSS {peak:.2f} GB (children so far), output {size:.0f} MB")


if __name__ == "__main__":
    main()
