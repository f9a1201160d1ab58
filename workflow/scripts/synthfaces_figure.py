from facebrain.datasets.figures import synthfaces_figure
from facebrain.pipeline import run_step

run_step(snakemake, synthfaces_figure, root=snakemake.input[0], out=snakemake.output[0])
