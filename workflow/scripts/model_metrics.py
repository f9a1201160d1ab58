from facebrain.metrics.evaluate import evaluate_model
from facebrain.pipeline import run_step

counts = snakemake.params.counts
run_step(
    snakemake,
    evaluate_model,
    model=snakemake.input.model,
    ground_truth=snakemake.input.ground_truth,
    out=snakemake.output.record,
    details_out=snakemake.output.details,
    source=snakemake.params.source,
    counts=counts,
    seed=snakemake.params.seed,
    levels=counts["levels"],
    dci_estimators=counts["dci_estimators"],
    device=snakemake.config["device"],
    workers=snakemake.threads,
)
