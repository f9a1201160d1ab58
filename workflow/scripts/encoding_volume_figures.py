from facebrain.encoding.figures import plot_volume_figures
from facebrain.paths import bids
from facebrain.pipeline import run_step

i, o, p, w = snakemake.input, snakemake.output, snakemake.params, snakemake.wildcards
run_step(snakemake, plot_volume_figures, rho_nii=i.rho, brain_mask_nii=i.brain_mask, summary_json=i.summary, betas_nii=i.betas, zmaps_nii=i.zmaps,
         selective_nii=i.mask, labels_tsv=i.labels, title=f"{bids(subject=w.subject)} {w.model}", out_rho=o.rho, out_betas=o.betas,
         min_abs_corr=p.min_abs_corr, fdr_alpha=p.fdr_alpha)
