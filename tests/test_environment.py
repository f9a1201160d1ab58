"""The pins live in requirements.txt; the conda env and the installed packages agree with them."""

from __future__ import annotations

from importlib import metadata

import yaml
from packaging.requirements import Requirement

from conftest import REPO


def requirement_pins() -> dict[str, str]:
    pins = {}
    for line in (REPO / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            req = Requirement(line)
            (spec,) = req.specifier
            assert spec.operator == "==", f"requirements.txt: {line} is not an exact pin"
            pins[req.name.lower()] = spec.version
    return pins


def test_requirements_are_exact_pins_of_the_core_stack():
    pins = requirement_pins()
    for name in ("torch", "snakemake", "snakemake-executor-plugin-slurm", "nilearn", "nibabel", "h5py", "pybids", "numpy", "scikit-learn"):
        assert name in pins, name
    assert pins["torch"] == "2.13.0"
    assert pins["snakemake"].startswith("9.")


def test_conda_envs_agree_with_requirements():
    pins = requirement_pins()
    for env_file in sorted((REPO / "envs").glob("*.yaml")):
        env = yaml.safe_load(env_file.read_text())
        pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
        conda_pins = {}
        for item in pip_section:
            if item.startswith("-"):
                continue
            req = Requirement(item)
            (spec,) = req.specifier
            conda_pins[req.name.lower()] = spec.version
        assert conda_pins == pins, f"{env_file.name} disagrees with requirements.txt"


def test_installed_versions_match_the_pins():
    pins = requirement_pins()
    for name, version in pins.items():
        installed = metadata.version(name).split("+")[0]
        assert installed == version, f"{name}: installed {installed}, pinned {version}"
