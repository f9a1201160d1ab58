"""Shared fixtures: paths to the repository and the real-data fixtures, and a
runner that executes the real Snakefile through the snakemake CLI in a copy
of the repository."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO.parent / "shared" / "fixtures"
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
COPY_IGNORE = shutil.ignore_patterns(".venv", ".snakemake", ".git", "results", "resources", "logs", "benchmarks", "__pycache__", ".pytest_cache", "*.egg-info")


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

    Shared by every workflow test of the session, so the pipeline runs once.
    """
    workdir = copy_repo(tmp_path_factory.mktemp("smoke") / "repo")
    run_snakemake(workdir, "--cores", "2", "all", "--configfile", "presets/smoke.yaml")
    return workdir
