from facebrain.pipeline import run_step
from facebrain.models.ensemble import train_ensemble

run_step(
    snakemake,
    train_ensemble,
    data=snakemake.input.data,
    model_outs=snakemake.output.model,
    log_outs=snakemake.output.log,
    evaluation_outs=snakemake.output.evaluation,
    names=snakemake.params.names,
    specs=snakemake.params.specs,
    train=snakemake.params.train,
    seed=snakemake.params.seed,
    device=snakemake.config["device"],
)
