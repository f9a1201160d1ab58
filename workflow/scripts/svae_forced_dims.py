from facebrain.metrics.evaluate import forced_dimension_table
from facebrain.pipeline import run_step

run_step(snakemake, forced_dimension_table, details=list(snakemake.input), out=snakemake.output[0])
