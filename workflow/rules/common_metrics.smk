# Helper functions of the metrics stage (paths, targets, config look-ups).
#
#   results/metrics/{model}/{dataset}.json          flat {metric: value} of one model (joined into hparam_search.csv)
#   results/metrics/{model}/{dataset}_details.json  per-factor MIG/SAP, MI and DCI importance matrices
#   results/tables/disentanglement_{dataset}.csv    Romeo's Table 1 (mean +- sd over metrics.seeds)
#   results/tables/svae_forced_dims_dsprites.csv    per-factor MIG of SVAE's forced dimensions
#   results/figures/svae_traversals_dsprites.png    SVAE traversals, rows labelled by factor
#   results/tables/linear_probe.csv                 Hejna et al. Table 1 on scikit-learn digits
#   results/tables/semantic_directions.csv (+ results/figures/semantic_directions_dendrogram.png)


METRIC_COUNT_KEYS = ("batch_size", "num_train", "num_eval", "num_variance_estimate", "num_observations")
"""The `metrics:` entries that set the sample counts of every metric job."""


def model_metrics_path(model, dataset):
    """The flat metrics record of one model (the models stage joins it into hparam_search.csv)."""
    return f"results/metrics/{model}/{dataset}.json"


def seed_model(name, seed):
    """The model file name of ``name`` with seed ``seed``: NAME itself for its own seed, else NAME-seedS."""
    return name if int(model_spec(name).get("seed", 0)) == int(seed) else f"{name}-seed{seed}"


def table_models(dataset):
    """{row label: [model file names, one per seed]} of the disentanglement table of ``dataset``."""
    labels = config["metrics"]["row_labels"]
    return {labels.get(name, name): [seed_model(name, s) for s in config["metrics"]["seeds"]] for name in config["metrics"]["tables"][dataset]}


def metrics_ground_truth(wildcards):
    """What the metrics of {dataset} sample from: the dSprites npz, or the prepared face data."""
    if wildcards.dataset == "dsprites":
        return dsprites_npz()
    return f"results/data/{wildcards.dataset}.h5"


def metrics_source(dataset):
    """The ground-truth source of ``dataset`` (facebrain.metrics.ground_truth.load_ground_truth):
    the dSprites grid, SynthFaces per `metrics.synthfaces_source`, CelebA's prepared images and attributes."""
    if dataset == "dsprites":
        return "dsprites"
    return config["metrics"]["synthfaces_source"] if dataset == "synthfaces" else "prepared"


def metrics_source_of_wildcards(wildcards):
    return metrics_source(wildcards.dataset)


def metric_counts():
    """Sample counts and estimator settings of every metric job (its params)."""
    section = config["metrics"]
    return {**{k: section[k] for k in METRIC_COUNT_KEYS}, "levels": section["levels"], "dci_estimators": section["dci_estimators"]}


def disentanglement_inputs(wildcards):
    """Per-seed metric records of every row of the table of {dataset}."""
    return [model_metrics_path(m, wildcards.dataset) for models in table_models(wildcards.dataset).values() for m in models]


def disentanglement_rows(wildcards):
    """params of the table rule: {row label: [metric records]} of {dataset}."""
    return {label: [model_metrics_path(m, wildcards.dataset) for m in models] for label, models in table_models(wildcards.dataset).items()}


def svae_details():
    """Metric details of every seed of the SVAE on dSprites."""
    name = config["metrics"]["svae_model"]
    return [f"results/metrics/{seed_model(name, s)}/dsprites_details.json" for s in config["metrics"]["seeds"]]


def svae_traversal_inputs(wildcards):
    name = seed_model(config["metrics"]["svae_model"], config["metrics"]["seeds"][0])
    return {
        "model": model_path(name, "dsprites"),
        "data": "results/data/dsprites.h5",
        "details": f"results/metrics/{name}/dsprites_details.json",
    }


def linear_probe_models():
    """{row label: model spec} of the linear-probe table (`metrics.linear_probe.models` looked up in its `specs`)."""
    probe = config["metrics"]["linear_probe"]
    unknown = [label for label in probe["models"] if label not in probe["specs"]]
    if unknown:
        raise ValueError(f"metrics.linear_probe.models: {unknown} not in metrics.linear_probe.specs ({sorted(probe['specs'])})")
    return {label: probe["specs"][label] for label in probe["models"]}


def linear_probe_settings():
    """Training settings of the linear-probe models."""
    probe = config["metrics"]["linear_probe"]
    return {k: probe[k] for k in ("variants", "steps", "batch_size", "lr", "bias")}


def semantic_inputs(wildcards):
    dataset = config["face_dataset"]
    return {
        "latents": [latents_path(m, dataset) for m in config["metrics"]["semantic"]["models"]],
        "data": f"results/data/{dataset}.h5",
    }


def metrics_final_targets():
    """The metrics stage's final targets (registered in metrics.smk)."""
    targets = [f"results/tables/disentanglement_{d}.csv" for d in config["metrics"]["tables"]]
    if "dsprites" in config["metrics"]["tables"]:
        targets += ["results/tables/svae_forced_dims_dsprites.csv", "results/figures/svae_traversals_dsprites.png"]
    targets += ["results/tables/linear_probe.csv", "results/tables/semantic_directions.csv", "results/figures/semantic_directions_dendrogram.png"]
    return targets
