from facebrain.datasets.face_grid import write_face_grid
from facebrain.pipeline import run_step

run_step(
    snakemake,
    write_face_grid,
    out=snakemake.output[0],
    levels=snakemake.params.levels,
    workers=snakemake.threads,
)
