from facebrain.pipeline import run_step
from facebrain.probes.semantic import semantic_directions

run_step(
    snakemake,
    semantic_directions,
    latents=dict(zip(snakemake.params.models, snakemake.input.latents)),
    data_path=snakemake.input.data,
    table=snakemake.output.table,
    figure=snakemake.output.figure,
    seed=snakemake.params.seed,
    num_pairs=snakemake.params.num_pairs,
)
