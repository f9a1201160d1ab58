from facebrain.datasets.dsprites import obtain_dsprites
from facebrain.pipeline import run_step

run_step(snakemake, obtain_dsprites, out=snakemake.output[0], **snakemake.params.source)
