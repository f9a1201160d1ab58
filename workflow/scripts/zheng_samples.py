from facebrain.pipeline import run_step
from facebrain.probes.directions import measure_generated

run_step(
    snakemake,
    measure_generated,
    model_path=snakemake.input.model,
    measurement_path=snakemake.input.measurement,
    out=snakemake.output[0],
    num_samples=snakemake.params.num_samples,
    seed=snakemake.params.seed,
    device=snakemake.config["device"],
)
