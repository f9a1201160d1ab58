from facebrain.pipeline import run_step
from facebrain.provenance import collect_provenance

run_step(snakemake, collect_provenance, out=snakemake.output[0])
