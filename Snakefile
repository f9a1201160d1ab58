# facebrain: disentangled generative models of faces and face-selective cortex.
# The default target `all` builds every table and figure; see README.md.

from snakemake.utils import min_version, validate

from facebrain.config import coerce_command_line_values

min_version("9.0")


configfile: "config.yaml"


# --config 'train={steps: 400}' passes nested values as strings: read them as
# the numbers/booleans the schema wants (each one logged).
coerce_command_line_values(config, "workflow/schemas/config.schema.yaml")
validate(config, "workflow/schemas/config.schema.yaml")
# Defaults inside the $ref'd section schemas are not filled by the top-level
# validation (jsonschema switches validator at a sub-schema's $schema), so
# each section is validated again against its own schema, which fills them.
for section in ("datasets", "models", "train", "fmri", "encoding", "metrics"):
    validate(config[section], f"workflow/schemas/{section}.schema.yaml")


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"


wildcard_constraints:
    **paths.wildcard_constraints(),


rule all:
    input:
        all_targets,
    default_target: True


include: "workflow/rules/datasets.smk"
include: "workflow/rules/models.smk"
include: "workflow/rules/fmri.smk"
include: "workflow/rules/encoding.smk"
include: "workflow/rules/metrics.smk"
include: "workflow/rules/zheng.smk"
include: "workflow/rules/provenance.smk"
