# Shared by every stage: the path layer, the final-target registry, the GPU
# resource and the limit on CPU-bound jobs. Each stage's config look-ups and target lists are in
# common_<stage>.smk; every path comes from facebrain.paths:
#   paths.path(name)               a rule's pattern, e.g. results/encoding/sub-{subject}/space-{space}/{model}/glm.h5
#   paths.path(name, **entities)   a concrete file, e.g. paths.path("glm", subject="01", space="fsaverage5", model="vae")
#   paths.log(rule, *wildcards)    logs/<rule>/<entities>.log (paths.benchmark likewise)

import os

from facebrain import paths

FINAL_TARGETS = {}


def register_final_targets(stage, targets):
    """Add ``targets`` (a list of paths) to the targets of `rule all` under ``stage``."""
    FINAL_TARGETS.setdefault(stage, []).extend(targets)


def all_targets(wildcards):
    """Every final target of every stage (the input of `rule all`)."""
    return [target for stage in FINAL_TARGETS for target in FINAL_TARGETS[stage]]


def gpu_resources():
    """The `gpu` resource of training rules: 1 when the config says so, else 0."""
    return 1 if config["gpu"] else 0


# Jobs never run more threads at once than the machine has CPUs. `--cores N`
# lets jobs of N threads in all run at once, also when N exceeds the CPUs: on
# 2 cores the mission's `--cores 8` ran 8 single-thread jobs at once,
# time-sliced, and cost more CPU than `--cores 2` (README "What the demo
# gives"). Every rule whose job computes (all but the downloads, which wait on
# the network) declares `cpu_threads=job_threads`, its threads; a local run
# limits cpu_threads to the CPUs snakemake may use (os.sched_getaffinity:
# taskset and cpusets count), so `--cores 8` on 2 CPUs runs as `--cores 2`
# (plus downloads) and on 8 or more CPUs as before. Snakemake's documented
# `--resources cpu_threads=N` sets another limit (workflow.global_resources
# is what --resources fills). Scope "local": on a cluster the main scheduler
# does not count it and no limit is set (each SLURM job has its own CPUs).
resource_scopes:
    cpu_threads="local",


def job_threads(wildcards, threads):
    """The `cpu_threads` resource of a CPU-bound rule: the job's threads (after --cores and --set-threads)."""
    return threads


if workflow.local_exec and "cpu_threads" not in workflow.global_resources:
    workflow.global_resources["cpu_threads"] = len(os.sched_getaffinity(0))


include: "common_datasets.smk"
include: "common_models.smk"
include: "common_fmri.smk"
include: "common_encoding.smk"
include: "common_metrics.smk"
include: "common_zheng.smk"
include: "common_provenance.smk"
