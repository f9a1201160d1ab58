# facebrain: disentangled generative models of faces and face-selective cortex.
# The default target `all` builds every table and figure; see README.md.

from jsonschema import ValidationError
from snakemake.exceptions import WorkflowError
from snakemake.utils import min_version

from facebrain.config import coerce_command_line_values, validate_config

min_version("9.0")


configfile: "config.yaml"


# --config 'train={steps: 400}' passes nested values as strings: read them as
# the numbers/booleans the schema wants (each one logged). Then the schema
# checks the config and fills in its defaults, each section's from its own
# schema file (facebrain.config.validate_config: snakemake.utils.validate's
# checks, with each schema file read once).
CONFIG_SCHEMA = f"{workflow.basedir}/workflow/schemas/config.schema.yaml"
coerce_command_line_values(config, CONFIG_SCHEMA)
try:
    validate_config(config, CONFIG_SCHEMA)
except ValidationError as error:
    raise WorkflowError("Error validating config file.", error)


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
