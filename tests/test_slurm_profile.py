"""The execution profiles are consistent with the workflow and the SLURM plugin
(no cluster needed: tests/test_slurm.py runs one)."""

from __future__ import annotations

import dataclasses

import pytest
import yaml

from conftest import REPO, run_snakemake

PROFILES = REPO / "profiles"


def load(name: str) -> dict:
    return yaml.safe_load((PROFILES / name / "config.v8+.yaml").read_text())


def plugin_settings() -> set[str]:
    """The plugin's settings as profile keys (slurm-<field with dashes>)."""
    from snakemake_executor_plugin_slurm import ExecutorSettings

    return {"slurm-" + field.name.replace("_", "-") for field in dataclasses.fields(ExecutorSettings)}


@pytest.mark.parametrize("name", ["slurm", "slurm-test"])
def test_slurm_profiles_use_only_settings_the_plugin_has(name):
    profile = load(name)
    assert profile["executor"] == "slurm"
    unknown = {key for key in profile if key.startswith("slurm-")} - plugin_settings()
    assert not unknown, f"profiles/{name}: not settings of snakemake-executor-plugin-slurm: {unknown}"


def test_slurm_profile_has_account_and_partition_placeholders():
    defaults = load("slurm")["default-resources"]
    assert defaults["slurm_account"].startswith("<") and defaults["slurm_partition"].startswith("<")
    assert {"mem_mb", "runtime"} <= set(defaults)


def test_set_resources_name_existing_rules_that_declare_gpu():
    rules = set(run_snakemake(REPO, "--list-rules").stdout.split())
    per_rule = load("slurm")["set-resources"]
    assert set(per_rule) <= rules, f"profiles/slurm names rules the workflow lacks: {set(per_rule) - rules}"
    gpu_rules = set()
    for path in (REPO / "workflow" / "rules").glob("*.smk"):
        for block in path.read_text().split("\nrule ")[1:]:
            if "gpu=gpu_resources()" in block:
                gpu_rules.add(block.split(":", 1)[0].strip())
    assert gpu_rules <= set(per_rule), f"rules declaring gpu without a GPU partition in profiles/slurm: {gpu_rules - set(per_rule)}"


def test_workflow_profile_sets_no_resources_that_would_override_the_cluster_profile():
    # profiles/default is loaded on every run and overrides --profile per key.
    assert not {"default-resources", "set-resources", "resources", "executor"} & set(load("default"))
