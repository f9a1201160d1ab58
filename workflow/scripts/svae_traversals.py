from facebrain.pipeline import run_step
from facebrain.models.traversals import plot_forced_traversals

run_step(
    snakemake,
    plot_forced_traversals,
    model=snakemake.input.model,
    data=snakemake.input.data,
    details=snakemake.input.details,
    out=snakemake.output[0],
    model_name=snakemake.params.model,
    dataset="dsprites",
    steps=snakemake.params.steps,
)
