from facebrain.encoding.figures import plot_rho_map
from facebrain.paths import bids
from facebrain.pipeline import run_step

w = snakemake.wildcards
run_step(snakemake, plot_rho_map, rho_nii=snakemake.input.rho, brain_mask_nii=snakemake.input.brain_mask, summary_json=snakemake.input.summary,
         title=f"{bids(subject=w.subject)} {w.model}", out_png=snakemake.output[0])
