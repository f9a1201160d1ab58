from facebrain.encoding.surface_figures import plot_surface_betas
from facebrain.pipeline import run_step

i, w = snakemake.input, snakemake.wildcards
run_step(snakemake, plot_surface_betas, betas=list(i.betas), selective=list(i.face_selective), labels_tsv=i.labels, subject=w.subject,
         model=w.model, out_png=snakemake.output[0], min_abs_corr=snakemake.params.min_abs_corr)
