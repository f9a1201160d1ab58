from facebrain.models.tables import reconstruction_table
from facebrain.pipeline import run_step

run_step(snakemake, reconstruction_table, evaluations=list(snakemake.input), datasets=snakemake.params.datasets, out=snakemake.output[0])
