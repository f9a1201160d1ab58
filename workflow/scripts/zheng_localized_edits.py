from facebrain.pipeline import run_step
from facebrain.probes.localized import sampling_figure

run_step(
    snakemake,
    sampling_figure,
    model_path=snakemake.input.model,
    localized_path=snakemake.input.localized,
    out=snakemake.output[0],
    seed=snakemake.params.seed,
    steps=snakemake.params.steps,
    max_rows=snakemake.params.max_rows,
    device=snakemake.config["device"],
)
