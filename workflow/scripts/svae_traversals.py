from facebrain.metrics.evaluate import forced_traversals
from facebrain.pipeline import run_step

run_step(
    snakemake,
    forced_traversals,
    model=snakemake.input.model,
    data=snakemake.input.data,
    details=snakemake.input.details,
    out=snakemake.output[0],
    model_name=snakemake.params.model,
    dataset="dsprites",
    steps=snakemake.params.steps,
)
