# Shared by every stage: the path layer, the final-target registry and the
# GPU resource. Each stage's config look-ups and target lists are in
# common_<stage>.smk; every path comes from facebrain.paths:
#   paths.path(name)               a rule's pattern, e.g. results/encoding/sub-{subject}/space-{space}/{model}/glm.h5
#   paths.path(name, **entities)   a concrete file, e.g. paths.path("glm", subject="01", space="fsaverage5", model="vae")
#   paths.log(rule, *wildcards)    logs/<rule>/<entities>.log (paths.benchmark likewise)

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


include: "common_datasets.smk"
include: "common_models.smk"
include: "common_fmri.smk"
include: "common_encoding.smk"
include: "common_metrics.smk"
include: "common_zheng.smk"
include: "common_provenance.smk"
