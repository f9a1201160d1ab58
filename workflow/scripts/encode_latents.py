from facebrain.models.latents import write_latents
from facebrain.pipeline import run_step

run_step(
    snakemake,
    write_latents,
    model=snakemake.input.model,
    data=snakemake.input.data,
    out=snakemake.output.latents,
    labels_out=snakemake.output.labels,
    device=snakemake.config["device"],
)
