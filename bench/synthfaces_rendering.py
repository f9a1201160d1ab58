"""Rendering rate of SynthFaces (target: the demo's 3,000 faces well under two minutes on 2 cores).

Usage: .venv/bin/python bench/synthfaces_rendering.py [--n 400] [--workers 2]
"""

from __future__ import annotations

import argparse
import tempfile
import time

from facebrain.datasets.synthfaces import generate_synthfaces, render_face


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=400)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    start = time.perf_counter()
    for i in range(50):
        render_face({"yaw": i / 50, "eyeglasses": i % 2})
    single = (time.perf_counter() - start) / 50
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        generate_synthfaces(f"{tmp}/synthfaces", n_images=args.n, workers=args.workers)
        wall = time.perf_counter() - start
    print(f"render_face: {single * 1000:.1f} ms per image (one core)")
    print(f"generate_synthfaces: {args.n} images in {wall:.1f} s with {args.workers} workers "
          f"({args.n / wall:.1f} images/s; 3,000 images ~ {3000 / args.n * wall:.0f} s)")


if __name__ == "__main__":
    main()
