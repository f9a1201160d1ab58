from facebrain.datasets.synthfaces import generate_synthfaces
from facebrain.pipeline import run_step

opts = snakemake.params.synthfaces
run_step(
    snakemake,
    generate_synthfaces,
    out_dir=snakemake.output[0],
    n_images=opts["n_images"],
    valid_fraction=opts["valid_fraction"],
    test_fraction=opts["test_fraction"],
    eyeglasses_rate=opts["eyeglasses_rate"],
    jpeg_quality=opts["jpeg_quality"],
    seed=snakemake.params.seed,
    workers=snakemake.threads,
)
