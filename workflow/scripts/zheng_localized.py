from facebrain.pipeline import run_step
from facebrain.probes.localized import localized_components

run_step(
    snakemake,
    localized_components,
    model_path=snakemake.input.model,
    out=snakemake.output[0],
    seed=snakemake.params.seed,
    device=snakemake.config["device"],
    **snakemake.params.settings,
)
