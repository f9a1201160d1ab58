# metrics stage: config look-ups and target lists (paths come from facebrain.paths).

from facebrain.models.kinds import resolve_spec


METRIC_COUNT_KEYS = ("batch_size", "num_train", "num_eval", "num_variance_estimate", "num_observations")
"""The `metrics:` entries that set the sample counts of every metric job."""


def seed_model(name, seed):
    """The model file name of ``name`` with seed ``seed``: NAME itself for its own seed, else NAME-seedS."""
    return name if int(model_spec(name).get("seed", 0)) == int(seed) else f"{name}-seed{seed}"


SVAE_PAIR_FORMS = {"divided": "divided pair loss", "romeo": "pair loss as Romeo wrote it"}
SVAE_PAIR_CODES = {"mean": "posterior means", "sample": "sampled codes"}
"""How an SVAE row's label names its pair loss (facebrain.models.svae: pair_form, pair_codes)."""


def row_label(name):
    """The table row label of model ``name`` (`metrics.row_labels`, else the name); an SVAE row
    also names its pair loss form, the codes it compares and its latent size."""
    label = config["metrics"]["row_labels"].get(name, name)
    spec = resolve_spec(model_spec(name), name)
    if spec["kind"] == "svae":
        label += f" ({SVAE_PAIR_FORMS[spec['pair_form']]} on {SVAE_PAIR_CODES[spec['pair_codes']]}; K {spec['latent_dim']})"
    return label


def table_models(dataset):
    """{row label: [model file names, one per seed]} of the disentanglement table of ``dataset``."""
    return {row_label(name): [seed_model(name, s) for s in config["metrics"]["seeds"]] for name in config["metrics"]["tables"][dataset]}


def metrics_ground_truth(wildcards):
    """What the metrics of {dataset} sample from: the dSprites npz, the SynthFaces grid (source grid), or the prepared face data."""
    if wildcards.dataset == "dsprites":
        return paths.path("dsprites_npz")
    if metrics_source(wildcards.dataset) == "grid":
        return paths.path("face_grid")
    return paths.path("prepared", dataset=wildcards.dataset)


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
    return [paths.path("metrics", model=m, dataset=wildcards.dataset) for models in table_models(wildcards.dataset).values() for m in models]


def disentanglement_rows(wildcards):
    """params of the table rule: {row label: [metric records]} of {dataset}."""
    return {label: [paths.path("metrics", model=m, dataset=wildcards.dataset) for m in models]
            for label, models in table_models(wildcards.dataset).items()}


def svae_details():
    """Metric details of every seed of the SVAE on dSprites."""
    name = config["metrics"]["svae_model"]
    return [paths.path("metric_details", model=seed_model(name, s), dataset="dsprites") for s in config["metrics"]["seeds"]]


def svae_traversal_model():
    """The SVAE whose forced dimensions are drawn: the first seed of `metrics.svae_model`."""
    return seed_model(config["metrics"]["svae_model"], config["metrics"]["seeds"][0])


def svae_traversal_inputs(wildcards):
    name = svae_traversal_model()
    return {
        "model": paths.path("model", model=name, dataset="dsprites"),
        "data": paths.path("prepared", dataset="dsprites"),
        "details": paths.path("metric_details", model=name, dataset="dsprites"),
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
        "latents": [paths.path("latents", model=m, dataset=dataset) for m in config["metrics"]["semantic"]["models"]],
        "data": paths.path("prepared", dataset=dataset),
    }


def metrics_final_targets():
    """The disentanglement tables of `metrics.tables`, SVAE's forced dimensions (with dSprites), the linear probe and the semantic directions."""
    targets = [paths.path("disentanglement_table", dataset=d) for d in config["metrics"]["tables"]]
    if "dsprites" in config["metrics"]["tables"]:
        targets += [paths.path("svae_forced_dims_table"), paths.path("svae_traversals_figure")]
    return targets + [paths.path(name) for name in ("linear_probe_table", "semantic_table", "semantic_dendrogram")]
