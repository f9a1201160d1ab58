from facebrain.models.dimension_labels import latent_factor_correlation
from facebrain.pipeline import run_step

run_step(
    snakemake,
    latent_factor_correlation,
    pairs=snakemake.params.pairs,
    latents=list(snakemake.input.latents),
    data=list(snakemake.input.data),
    out=snakemake.output[0],
)
