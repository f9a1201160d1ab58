from facebrain.encoding.figures import plot_beta_maps
from facebrain.paths import bids
from facebrain.pipeline import run_step

w = snakemake.wildcards
run_step(snakemake, plot_beta_maps, betas_nii=snakemake.input.betas, selective_nii=snakemake.input.mask, labels_tsv=snakemake.input.labels,
         title=f"{bids(subject=w.subject)} {w.model}", out_png=snakemake.output[0], min_abs_corr=snakemake.params.min_abs_corr)
