from facebrain.dimension_labels import label_dimensions
from facebrain.pipeline import run_step

run_step(snakemake, label_dimensions, latents=snakemake.input.latents, data=snakemake.input.data, out=snakemake.output[0])
