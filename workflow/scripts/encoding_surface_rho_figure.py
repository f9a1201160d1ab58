from facebrain.encoding.surface_figures import plot_surface_rho
from facebrain.paths import bids
from facebrain.pipeline import run_step

i, w = snakemake.input, snakemake.wildcards
run_step(snakemake, plot_surface_rho, rho=list(i.rho), selective=list(i.face_selective), summary_json=i.summary,
         title=f"{bids(subject=w.subject)}, {w.model}", out_png=snakemake.output[0])
