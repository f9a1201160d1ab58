from facebrain.pipeline import run_step
from facebrain.probes.directions import table2

run_step(
    snakemake,
    table2,
    directions=dict(zip(snakemake.params.models, snakemake.input)),
    decorrelation=snakemake.params.decorrelation,
    out=snakemake.output[0],
)
