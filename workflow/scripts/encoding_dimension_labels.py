from facebrain.models.dimension_labels import apply_rater_labels
from facebrain.pipeline import run_step

run_step(snakemake, apply_rater_labels, auto_tsv=snakemake.input.auto, out=snakemake.output[0],
         raters_tsv=snakemake.input.raters[0] if snakemake.input.raters else None)
