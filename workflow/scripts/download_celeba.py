from pathlib import Path

from facebrain.datasets.celeba import download_celeba
from facebrain.pipeline import run_step

run_step(snakemake, download_celeba, root=Path(snakemake.output[0]).parent, source=snakemake.params.source,
         base_url=snakemake.params.base_url)
