from facebrain.encoding.figures import plot_reconstructions
from facebrain.paths import bids
from facebrain.pipeline import run_step

w, i = snakemake.wildcards, snakemake.input
run_step(snakemake, plot_reconstructions, model_path=i.model, decoded_h5=i.decoded, latents_h5=i.latents, bids_root=snakemake.params.root,
         subject=w.subject, title=f"{bids(subject=w.subject)} {w.model}", out_png=snakemake.output[0], device=snakemake.params.device)
