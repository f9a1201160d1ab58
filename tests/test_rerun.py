"""Rerun semantics: after the smoke `all`, changing one hyper-parameter of
one model makes `snakemake -n` plan that model's jobs and what lies downstream
of them, and nothing else (params are a rerun trigger; each rule's params hold
only the config entries it depends on)."""

from __future__ import annotations

import re

import pytest
import yaml

from conftest import dry_run_jobs, smoke_config

pytestmark = pytest.mark.workflow


def changed_hyperparameter(config: dict) -> tuple[str, str, float]:
    """(model, key, new value): the first trained model with a real-valued hyper-parameter, that value doubled."""
    for name in config["train"]["models"]:
        for key, value in config["models"][name].items():
            if isinstance(value, float):
                return name, key, value * 2
    pytest.skip("no trained model in the smoke preset has a real-valued hyper-parameter")


def belongs_to(path: str, model: str) -> bool:
    """Whether ``path`` is one of ``model``'s own files (also its NAME-seedN replicates)."""
    return re.search(rf"(^|/){re.escape(model)}(-seed\d+)?(/|_|\.|$)", path) is not None


def test_nothing_is_planned_after_the_smoke_run(smoke_run):
    jobs = dry_run_jobs(smoke_run, "all", "--configfile", "presets/smoke.yaml")
    assert [job["rule"] for job in jobs] == [], "the smoke run left jobs to do"


def test_changing_one_models_hyperparameter_plans_only_its_downstream_jobs(smoke_run, tmp_path):
    model, key, value = changed_hyperparameter(smoke_config())
    override = tmp_path / "override.yaml"
    override.write_text(yaml.safe_dump({"models": {model: {key: value}}}))
    jobs = dry_run_jobs(smoke_run, "all", "--configfile", "presets/smoke.yaml", str(override))

    own = [job for job in jobs if any(belongs_to(out, model) for out in job["output"])]
    trained = [job for job in own if job["rule"] == "train_model"]
    assert trained, f"changing models.{model}.{key} planned no training of {model}: {[j['rule'] for j in jobs]}"
    for job in trained:
        assert "Params have changed" in job["reason"], job
    planned = {out for job in jobs for out in job["output"]}
    for job in jobs:
        if job in own or job["rule"] == "all":
            continue
        upstream = set(job["input"]) & planned
        assert upstream, f"rule {job['rule']} ({job['output']}) is planned but depends on nothing that changed with models.{model}.{key}"
    other_trainings = [job["output"] for job in jobs if job["rule"] == "train_model" and job not in own]
    assert not other_trainings, other_trainings


def test_changing_the_confound_set_refits_the_glms_but_trains_nothing(smoke_run, tmp_path):
    confounds = smoke_config()["fmri"].get("confounds") or ["trans_x"]
    override = tmp_path / "override.yaml"
    override.write_text(yaml.safe_dump({"fmri": {"confounds": list(confounds)[:3]}}))
    jobs = dry_run_jobs(smoke_run, "all", "--configfile", "presets/smoke.yaml", str(override))
    rules = {job["rule"] for job in jobs}
    assert {"encoding_localizer", "encoding_glm"} <= rules, rules
    assert not rules & {"train_model", "simulate_fmri", "encode_latents"}, rules
