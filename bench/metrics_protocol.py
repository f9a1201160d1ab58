"""Time the five disentanglement metrics (without encoding) at the demo and paper sample counts.

The representation is a fixed random linear map of the true factor classes of
a dSprites-sized grid (5 factors with 3, 6, 40, 32, 32 levels), so the timings
are of the metrics' own sampling and classifiers; encoding cost comes on top
(about 1 ms per 64x64 image on one CPU core for the A.1 encoder).

Usage: .venv/bin/python bench/metrics_protocol.py [--scale demo|paper]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from facebrain.metrics.beta_vae import compute_beta_vae
from facebrain.metrics.dci import compute_dci
from facebrain.metrics.factor_vae import compute_factor_vae
from facebrain.metrics.ground_truth import GroundTruthData
from facebrain.metrics.mig import compute_mig
from facebrain.metrics.sap import compute_sap

SCALES = {
    "demo": {"batch_size": 16, "num_train": 100, "num_eval": 50, "num_variance_estimate": 500, "num_observations": 1000, "dci_estimators": 20},
    "paper": {"batch_size": 64, "num_train": 10000, "num_eval": 5000, "num_variance_estimate": 10000, "num_observations": 10000, "dci_estimators": 100},
}


class Grid(GroundTruthData):
    factor_names = ["shape", "scale", "orientation", "posX", "posY"]
    factors_num_values = [3, 6, 40, 32, 32]
    observation_shape = (1, 1, 5)

    def sample_observations_from_factors(self, factors, random_state):
        return np.asarray(factors, dtype=np.float64)[:, None, None, :]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", choices=sorted(SCALES), default="demo")
    c = SCALES[parser.parse_args().scale]
    mixing = np.random.default_rng(0).standard_normal((5, 10))
    rep = lambda obs: obs[:, 0, 0, :] @ mixing  # noqa: E731
    n = c["num_observations"]
    runs = {
        "z-diff": lambda rs: compute_beta_vae(Grid(), rep, rs, c["batch_size"], c["num_train"], c["num_eval"]),
        "z-min": lambda rs: compute_factor_vae(Grid(), rep, rs, c["batch_size"], c["num_train"], c["num_eval"], c["num_variance_estimate"]),
        "MIG": lambda rs: compute_mig(Grid(), rep, rs, num_train=n),
        "DCI": lambda rs: compute_dci(Grid(), rep, rs, num_train=n, num_test=n // 2, n_estimators=c["dci_estimators"]),
        "SAP": lambda rs: compute_sap(Grid(), rep, rs, num_train=n, num_test=n // 2),
    }
    for name, run in runs.items():
        start = time.perf_counter()
        run(np.random.default_rng(0))
        print(f"{name:7s} {time.perf_counter() - start:8.2f} s")


if __name__ == "__main__":
    main()
