from facebrain.latents import write_latents
from facebrain.pipeline import run_step

run_step(snakemake, write_latents, model=snakemake.input.model, data=snakemake.input.data, out=snakemake.output[0], device=snakemake.config["device"])
