from facebrain.pipeline import run_step
from facebrain.probes.directions import closed_form_directions

run_step(
    snakemake,
    closed_form_directions,
    samples_path=snakemake.input[0],
    out=snakemake.output[0],
    seed=snakemake.params.seed,
    num_pairs=snakemake.params.num_pairs,
)
