from facebrain.fmri.figures import plot_fmri_overview
from facebrain.pipeline import run_step

run_step(snakemake, plot_fmri_overview, bids_root=snakemake.params.root, subject=snakemake.wildcards.subject, out=snakemake.output[0])
