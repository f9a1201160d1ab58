from facebrain.datasets.figures import dsprites_figure
from facebrain.pipeline import run_step

run_step(snakemake, dsprites_figure, npz=snakemake.input[0], out=snakemake.output[0], seed=snakemake.params.seed)
