from facebrain.pipeline import run_step
from facebrain.models.training import train_model

run_step(
    snakemake,
    train_model,
    data=snakemake.input.data,
    model_out=snakemake.output.model,
    log_out=snakemake.output.log,
    evaluation_out=snakemake.output.evaluation,
    name=snakemake.wildcards.model,
    spec=snakemake.params.spec,
    train=snakemake.params.train,
    seed=snakemake.params.seed,
    device=snakemake.config["device"],
    face_grid=snakemake.input.get("face_grid"),
)
