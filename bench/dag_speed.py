"""Time `snakemake -n all` on the default config or a preset (target: under 5 s).

Gives the CPU time of the snakemake process (user + sys, what the DAG costs whatever
else runs on the machine) beside its wall time, and the number of jobs of the DAG.

Usage: .venv/bin/python bench/dag_speed.py [--repeats 3] [--configfile FILE]
e.g.   .venv/bin/python bench/dag_speed.py --configfile presets/paper.yaml
"""

from __future__ import annotations

import argparse
import re
import resource
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
    cmd = [str(Path(sys.executable).with_name("snakemake")), "-n", "all", "--quiet", "rules", "all"]
    if args.configfile:
        cmd += ["--configfile", args.configfile]
    times, cpus = [], []
    for _ in range(args.repeats):
        start, before = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
        done = subprocess.run(cmd, cwd=REPO, check=True, capture_output=True, text=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        times.append(time.perf_counter() - start)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    total = re.search(r"^total\s+(\d+)", done.stdout + done.stderr, re.M)
    print(f"snakemake -n all{' --configfile ' + args.configfile if args.configfile else ''}: {total[1] if total else '?'} jobs; "
          f"CPU median {statistics.median(cpus):.2f} s (min {min(cpus):.2f}, max {max(cpus):.2f}), wall median {statistics.median(times):.2f} s "
          f"over {args.repeats} runs; target < 5 s")


if __name__ == "__main__":
    main()
