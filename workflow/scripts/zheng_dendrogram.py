from facebrain.pipeline import run_step
from facebrain.probes.localized import dendrogram_figure

run_step(snakemake, dendrogram_figure, localized_path=snakemake.input[0], out=snakemake.output[0])
