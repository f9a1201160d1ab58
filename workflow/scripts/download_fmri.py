from facebrain.fmri.download import download_ds001761
from facebrain.pipeline import run_step

run_step(snakemake, download_ds001761, root=snakemake.params.root, manifest=snakemake.output[0], **snakemake.params.download)
