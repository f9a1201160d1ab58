from facebrain.encoding.figures import plot_beta_maps
from facebrain.paths import bids
from facebrain.pipeline import run_step

i, p, w = snakemake.input, snakemake.params, snakemake.wildcards
run_step(snakemake, plot_beta_maps, betas_nii=i.betas, zmaps_nii=i.zmaps, selective_nii=i.mask, labels_tsv=i.labels, title=f"{bids(subject=w.subject)} {w.model}",
         out_png=snakemake.output[0], min_abs_corr=p.min_abs_corr, fdr_alpha=p.fdr_alpha)
