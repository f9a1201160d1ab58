from facebrain.encoding.surface_figures import plot_surface_figures
from facebrain.pipeline import run_step

i, o, w = snakemake.input, snakemake.output, snakemake.wildcards
run_step(snakemake, plot_surface_figures, rho=list(i.rho), selective=list(i.face_selective), summary_json=i.summary, betas=list(i.betas),
         labels_tsv=i.labels, subject=w.subject, model=w.model, out_rho=o.rho, out_betas=o.betas, out_view=o.view, min_abs_corr=snakemake.params.min_abs_corr)
