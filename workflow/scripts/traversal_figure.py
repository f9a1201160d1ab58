from facebrain.pipeline import run_step
from facebrain.models.traversals import plot_traversals

run_step(
    snakemake,
    plot_traversals,
    model=snakemake.input.model,
    data=snakemake.input.data,
    latents=snakemake.input.latents,
    labels=snakemake.input.labels,
    out=snakemake.output[0],
    model_name=snakemake.wildcards.model,
    dataset=snakemake.wildcards.dataset,
    dims=snakemake.params.dims,
    steps=snakemake.params.steps,
)
