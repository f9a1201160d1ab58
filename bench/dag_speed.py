"""Time `snakemake -n all` on the default config (target: under 5 s).

Usage: .venv/bin/python bench/dag_speed.py [--repeats 3] [--configfile FILE]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--configfile", default=None)
    args = parser.parse_args()
    cmd = [str(Path(sys.executable).with_name("snakemake")), "-n", "all", "--quiet", "all"]
    if args.configfile:
        cmd += ["--configfile", args.configfile]
    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        subprocess.run(cmd, cwd=REPO, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    print(f"snakemake -n all: median {statistics.median(times):.2f} s over {args.repeats} runs (min {min(times):.2f}, max {max(times):.2f}); target < 5 s")


if __name__ == "__main__":
    main()
