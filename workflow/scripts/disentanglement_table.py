from facebrain.metrics.evaluate import disentanglement_table
from facebrain.pipeline import run_step

run_step(snakemake, disentanglement_table, rows=snakemake.params.rows, out=snakemake.output[0])
