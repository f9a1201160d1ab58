from facebrain.pipeline import run_step
from facebrain.probes.directions import manipulation_figure

run_step(
    snakemake,
    manipulation_figure,
    model_path=snakemake.input.model,
    directions_path=snakemake.input.directions,
    measurement_path=snakemake.input.measurement,
    out=snakemake.output[0],
    seed=snakemake.params.seed,
    steps=snakemake.params.steps,
    semantics=snakemake.params.semantics,
    device=snakemake.config["device"],
)
