from facebrain.models.tables import hparam_table
from facebrain.pipeline import run_step

run_step(
    snakemake,
    hparam_table,
    evaluations=list(snakemake.input.evaluations),
    specs=snakemake.params.specs,
    metrics=list(snakemake.input.metrics),
    out=snakemake.output[0],
)
