from facebrain.encoding.surface_figures import plot_surface_betas_group
from facebrain.pipeline import run_step

i, p = snakemake.input, snakemake.params
run_step(snakemake, plot_surface_betas_group, betas=list(i.betas), selective=list(i.selective), subjects=p.subjects, labels_tsv=i.labels,
         title=snakemake.wildcards.model, out_png=snakemake.output[0], min_abs_corr=p.min_abs_corr)
