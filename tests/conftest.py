"""Shared fixtures and helpers: paths to the repository and the real-data
fixtures, a runner that executes the real Snakefile through the snakemake CLI
in a copy of the repository (and reads its dry-run plan), the smoke preset's
config, the tiny data sets several test modules build, and readers of what a
figure shows (its image grid, its pixels)."""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from PIL import Image
from snakemake.utils import update_config, validate

from facebrain.datasets.prepared import write_prepared

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO.parent / "shared" / "fixtures"
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
COPY_IGNORE = shutil.ignore_patterns(".venv", ".snakemake", ".git", "results", "resources", "logs", "benchmarks", "__pycache__", ".pytest_cache", "*.egg-info")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Order the modules: the first that reads the shared ``smoke_run`` first, then the modules with
    a ``workflow`` test (snakemake runs), then the others, the other smoke readers last.

    This is the order of a one-process run (``-n 0``). Under pytest-xdist, ``--dist loadfile``
    re-sorts the modules by their number of tests (its default ``--loadscope-reorder``), so this
    order only breaks its ties. Honouring it (``--no-loadscope-reorder``) was slower: 18 min 20 s
    against 17 min 36 s for the suite on 2 idle cores (fresh clones of 7cab0db). Removing the hook
    gave 20 min 38 s in one run; tests the order cannot affect took up to 30 % longer in that run,
    so it was not counted against the hook.
    """
    smoke_modules = sorted({item.module.__name__ for item in items if "smoke_run" in getattr(item, "fixturenames", ())})
    workflow_modules = {item.module.__name__ for item in items if item.get_closest_marker("workflow")}

    def rank(item: pytest.Item) -> int:
        module = item.module.__name__
        if module in smoke_modules:
            return 0 if module == smoke_modules[0] else 3
        return 1 if module in workflow_modules else 2

    items.sort(key=rank)  # stable: keeps the order within each module


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    """../shared/fixtures: small real samples of ds001761 and dSprites."""
    if not FIXTURES.is_dir():
        pytest.skip(f"real-data fixtures not found at {FIXTURES}")
    return FIXTURES


def copy_repo(dest: Path) -> Path:
    """Copy the workflow (no environment, results or resources) to ``dest``; return it."""
    shutil.copytree(REPO, dest, ignore=COPY_IGNORE)
    for empty in ("resources", "results"):
        (dest / empty).mkdir(exist_ok=True)
    return dest


def run_snakemake(workdir: Path, *args: str, check: bool = True, timeout: int = 1200) -> subprocess.CompletedProcess:
    """Run ``snakemake ARGS`` in ``workdir``; return the completed process (stdout+stderr in .stdout)."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.run([SNAKEMAKE, *args], cwd=workdir, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout[-8000:]}")
    return proc


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory) -> Path:
    """A copy of the repository in which `snakemake --cores 2 all` ran with the smoke preset.

    Shared by every workflow test of the session, so the pipeline runs once: under pytest-xdist
    the workers share one copy (in the session's common temp folder); the first worker that
    needs it runs the pipeline while holding a lock, and the others wait for it.
    """
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent  # the folder of all workers' temp folders
    root, done = shared / "smoke", shared / "smoke.done"
    with open(shared / "smoke.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not done.exists():
            shutil.rmtree(root, ignore_errors=True)  # what a failed attempt left
            workdir = copy_repo(root / "repo")
            run_snakemake(workdir, "--cores", "2", "all", "--configfile", "presets/smoke.yaml")
            done.touch()
    return root / "repo"


def dry_run_jobs(workdir: Path, *args: str) -> list[dict[str, object]]:
    """Parse `snakemake -n ARGS` into jobs: {'rule', 'input': [...], 'output': [...], 'reason'}."""
    proc = run_snakemake(workdir, "-n", *args)
    jobs: list[dict[str, object]] = []
    for line in proc.stdout.splitlines():
        head = re.match(r"^(?:local)?rule (\S+):$", line)
        if head:
            jobs.append({"rule": head.group(1), "input": [], "output": [], "reason": ""})
            continue
        field = re.match(r"^\s+(input|output|reason): (.*)$", line)
        if field and jobs:
            key, value = field.groups()
            jobs[-1][key] = value if key == "reason" else [v.strip() for v in value.split(",") if v.strip()]
    return jobs


def smoke_config(defaults: bool = False) -> dict:
    """config.yaml updated by presets/smoke.yaml, merged as snakemake merges --configfile;
    with ``defaults``, also filled with the schemas' defaults as the Snakefile's validation fills them
    (the config the rules see)."""
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    update_config(config, yaml.safe_load((REPO / "presets" / "smoke.yaml").read_text()) or {})
    if defaults:
        schemas = REPO / "workflow" / "schemas"
        validate(config, str(schemas / "config.schema.yaml"))
        for section in ("datasets", "models", "train", "fmri", "encoding", "metrics"):
            validate(config[section], str(schemas / f"{section}.schema.yaml"))
    return config


SQUARE_FACTORS = ["scale", "posX", "posY"]
"""Factors of :func:`make_square_dataset`."""


def make_square_dataset(path: Path, n: int = 90, channels: int = 1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Squares of known scale and position on black: a tiny dSprites-like prepared file; return (images, factors)."""
    rng = np.random.default_rng(seed)
    factors = np.stack([rng.integers(4, 12, n), rng.integers(12, 52, n), rng.integers(12, 52, n)], axis=1).astype(np.float32)
    images = np.zeros((n, 64, 64, channels), np.uint8)
    for i, (s, x, y) in enumerate(factors.astype(int)):
        images[i, y - s // 2 : y + s // 2 + 1, x - s // 2 : x + s // 2 + 1] = 255
    split = np.r_[np.zeros(n - 30), np.ones(10), 2 * np.ones(20)].astype(np.int8)
    write_prepared(path, images, factors, SQUARE_FACTORS, split, [str(i) for i in range(n)])
    return images, factors


def image_grid(fig) -> list[list]:
    """The axes of ``fig`` that show an image, as rows (top to bottom) of axes (left to right), by their position."""
    rows: dict[float, list] = {}
    for ax in fig.axes:
        if ax.get_images():
            rows.setdefault(round(ax.get_position().y0, 4), []).append(ax)
    return [sorted(rows[y], key=lambda ax: ax.get_position().x0) for y in sorted(rows, reverse=True)]


def shown_image(ax) -> np.ndarray:
    """The array the (first) image of ``ax`` shows."""
    return np.asarray(ax.get_images()[0].get_array())


def colour_ranges(fig) -> list[tuple[float, float]]:
    """The value range of each colour bar of a nilearn figure (the axes that draw a gradient, not an image)."""
    return [ax.get_ylim() for ax in fig.axes if ax.collections and not ax.get_images()]


def assert_same_picture(expected: Path, actual: Path, tolerance: float = 2.0) -> None:
    """Both PNGs have the same size and an RMS pixel difference (0-255 scale) of at most ``tolerance``
    (room for the last bits of floating-point decoding, not for another layout)."""
    with Image.open(expected) as a, Image.open(actual) as b:
        assert a.format == b.format == "PNG"
        assert a.size == b.size, f"{expected} is {a.size} pixels, {actual} is {b.size}"
        diff = np.asarray(a.convert("RGB"), float) - np.asarray(b.convert("RGB"), float)
    rms = float(np.sqrt((diff**2).mean()))
    assert rms <= tolerance, f"{expected} differs from {actual}: RMS {rms:.2f}"


FACE_FACTORS = ["yaw", "smile", "skin_tone", "gender", "hair_color", "light_direction", "background", "eyeglasses"]
"""Factors of :func:`make_face_dataset` (SynthFaces' factors)."""


def make_face_dataset(root: Path, n: int = 260, seed: int = 0) -> Path:
    """A CelebA-layout folder: img_align_celeba/NNNNNN.jpg, list_attr_celeba.txt (Male), factors.tsv."""
    rng = np.random.default_rng(seed)
    (root / "img_align_celeba").mkdir(parents=True)
    values = rng.uniform(-1, 1, size=(n, len(FACE_FACTORS)))
    ids = [f"{i + 1:06d}.jpg" for i in range(n)]
    for i, name in enumerate(ids):
        Image.fromarray(rng.integers(0, 255, size=(218, 178, 3), dtype=np.uint8)).save(root / "img_align_celeba" / name)
    table = pd.DataFrame(values, columns=FACE_FACTORS)
    table.insert(0, "image_id", ids)
    table.to_csv(root / "factors.tsv", sep="\t", index=False)
    male = np.where(values[:, FACE_FACTORS.index("gender")] > 0, 1, -1)
    lines = [str(n), "Male"] + [f"{i} {m}" for i, m in zip(ids, male)]
    (root / "list_attr_celeba.txt").write_text("\n".join(lines) + "\n")
    return root
