from facebrain.pipeline import run_step
from facebrain.probes.digits import linear_probe_table

run_step(
    snakemake,
    linear_probe_table,
    models=snakemake.params.models,
    out=snakemake.output[0],
    seed=snakemake.params.seed,
    device=snakemake.config["device"],
    **snakemake.params.settings,
)
