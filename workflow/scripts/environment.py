from facebrain.pipeline import run_step
from facebrain.provenance import environment_record

run_step(snakemake, environment_record, out=snakemake.output[0], device=snakemake.params.device)
