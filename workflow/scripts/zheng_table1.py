from facebrain.pipeline import run_step
from facebrain.probes.quality import table1

models = snakemake.params.models
run_step(
    snakemake,
    table1,
    models=dict(zip(models, snakemake.input.models)),
    samples=dict(zip(models, snakemake.input.samples)),
    decorrelation=snakemake.params.decorrelation,
    data_path=snakemake.input.data,
    measurement_path=snakemake.input.measurement,
    out=snakemake.output[0],
    seed=snakemake.params.seed,
    device=snakemake.config["device"],
    **snakemake.params.settings,
)
