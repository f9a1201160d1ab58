# Helpers shared by all stages -- final-target registry, wildcard
# constraints, log/benchmark paths and config look-ups. Path logic lives here
# (or in the stage's own rule file), never in lambdas inside rules.

import os

FINAL_TARGETS = {}


def register_final_targets(stage, paths):
    """Add ``paths`` (a list) to the targets of `rule all` under ``stage``."""
    FINAL_TARGETS.setdefault(stage, []).extend(paths)


def all_targets(wildcards):
    """Every final target of every stage (the input of `rule all`)."""
    return [path for stage in FINAL_TARGETS for path in FINAL_TARGETS[stage]]


def log_path(rule_name, pattern=""):
    """logs/<rule>/<pattern>.log, e.g. log_path("train", "{model}/{dataset}")."""
    return f"logs/{rule_name}/{pattern or rule_name}.log"


def benchmark_path(rule_name, pattern=""):
    """benchmarks/<rule>/<pattern>.tsv, mirroring log_path."""
    return f"benchmarks/{rule_name}/{pattern or rule_name}.tsv"


def gpu_resources():
    """The `gpu` resource of training rules: 1 when the config says so, else 0."""
    return 1 if config["gpu"] else 0



# Stage-specific helper functions live beside this file, one file per stage
# (rule files hold rules only, as `snakemake --lint` asks).
include: "common_datasets.smk"
include: "common_models.smk"
include: "common_fmri.smk"
include: "common_encoding.smk"
include: "common_metrics.smk"
include: "common_provenance.smk"
