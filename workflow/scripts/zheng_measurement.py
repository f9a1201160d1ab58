from facebrain.pipeline import run_step
from facebrain.probes.measurement import train_measurement

run_step(
    snakemake,
    train_measurement,
    data_path=snakemake.input.data,
    model_out=snakemake.output.model,
    table_out=snakemake.output.table,
    seed=snakemake.params.seed,
    device=snakemake.config["device"],
    **snakemake.params.settings,
)
