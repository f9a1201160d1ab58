from facebrain.datasets.dsprites import prepare_dsprites
from facebrain.pipeline import run_step

opts = snakemake.params.prepare
run_step(
    snakemake,
    prepare_dsprites,
    npz=snakemake.input[0],
    out=snakemake.output[0],
    n_images=opts["prepared_images"],
    valid_fraction=opts["valid_fraction"],
    test_fraction=opts["test_fraction"],
    seed=opts["seed"],
)
