from facebrain.encoding.surface_figures import surface_view_html
from facebrain.paths import bids
from facebrain.pipeline import run_step

w = snakemake.wildcards
run_step(snakemake, surface_view_html, values=list(snakemake.input.rho), title=f"{bids(subject=w.subject)}, {w.model}", out_html=snakemake.output[0])
