from pathlib import Path

from facebrain.datasets.celeba import prepare_faces
from facebrain.pipeline import run_step

root = snakemake.input[0] if Path(snakemake.input[0]).is_dir() else Path(snakemake.input[0]).parent
run_step(
    snakemake,
    prepare_faces,
    root=root,
    out=snakemake.output[0],
    n_images=snakemake.params.prepare["prepared_images"],
    workers=snakemake.threads,
    checksums=snakemake.params.checksums,
)
