# Zheng et al. 2021 analysis (rules in zheng.smk): config look-ups and target lists.
# Settings: config["metrics"]["zheng"]; the StyleGAN2s are trained on the face dataset by train_model.


def zheng_settings():
    return config["metrics"]["zheng"]


def zheng_models():
    """The `stylegan2` models compared (`metrics.zheng.models`); each must be a `models:` spec of kind stylegan2."""
    names = zheng_settings()["models"]
    wrong = [name for name in names if resolve_spec(model_spec(name), name)["kind"] != "stylegan2"]
    if wrong:
        raise ValueError(f"metrics.zheng.models: {wrong} are not models of kind stylegan2")
    return names


def zheng_decorrelation():
    """{model: weight of its decorrelation regulariser} (0: plain StyleGAN2), from the models' specs."""
    return {name: float(resolve_spec(model_spec(name), name)["decorrelation"]) for name in zheng_models()}


def zheng_localized_fit():
    """The settings of the Eq. 5 fit (`metrics.zheng.localized` but the figure's `max_rows`)."""
    return {k: v for k, v in zheng_settings()["localized"].items() if k != "max_rows"}


def zheng_files(name):
    """File ``name`` of every compared model on the face dataset, {model: path}."""
    return {m: paths.path(name, model=m, dataset=config["face_dataset"]) for m in zheng_models()}


def zheng_table1_inputs(wildcards):
    dataset = config["face_dataset"]
    return {
        "models": list(zheng_files("model").values()),
        "samples": list(zheng_files("zheng_samples").values()),
        "data": paths.path("prepared", dataset=dataset),
        "measurement": paths.path("measurement_net", dataset=dataset),
    }


def zheng_final_targets():
    """Tables 1 and 2, the measurement network's validation and the figures of each compared model (none without models)."""
    if not zheng_models():
        return []
    dataset = config["face_dataset"]
    per_model = ("zheng_manipulation_figure", "zheng_dendrogram_figure", "zheng_localized_figure")
    return [paths.path("zheng_table1"), paths.path("zheng_table2"), paths.path("measurement_table", dataset=dataset)] + [
        paths.path(name, model=m, dataset=dataset) for name in per_model for m in zheng_models()
    ]
