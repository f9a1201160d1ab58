# models stage: config look-ups and target lists (paths come from facebrain.paths).
#
# Models are named specs in `models:` (kind + hyper-parameters). Any name
# resolves through `model_spec`, including NAME-seedN (NAME's spec with seed
# N) and the names `train.grid` expands to, so other stages can ask for any
# model (or seed replicate) by its {model} entity. A training job's params
# carry only that model's spec and the train settings, so editing one model
# reruns only its own downstream jobs.

import itertools
import re

from facebrain.models.kinds import TRAIN_SETTINGS, kind, stack_key
from facebrain.models.kinds import train_settings as kind_train_settings


SEED_SUFFIX = re.compile(r"^(?P<base>.+)-seed(?P<seed>[0-9]+)$")


def _grid_value_label(value):
    """'6.4' for 6.4, '24' for 24 or 24.0: grid values as they appear in model names."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def grid_models():
    """Expand `train.grid` into {name: spec}: NAME_<key><value>_... for each grid point."""
    grid = config["train"]["grid"]
    if not grid:
        return {}
    keys = sorted(grid["axes"])
    specs = {}
    for values in itertools.product(*(grid["axes"][k] for k in keys)):
        label = "_".join(f"{k.replace('_', '')}{_grid_value_label(v)}" for k, v in zip(keys, values))
        specs[f"{grid['name']}_{label}"] = {**grid["base"], **dict(zip(keys, values))}
    return specs


MODEL_SPECS = {**config["models"], **grid_models()}


def model_spec(name):
    """The spec (dict: kind + hyper-parameters) of model ``name``; NAME-seedN gives NAME's spec with seed N."""
    if name in MODEL_SPECS:
        return dict(MODEL_SPECS[name])
    match = SEED_SUFFIX.match(name)
    if match and match["base"] in MODEL_SPECS:
        return {**MODEL_SPECS[match["base"]], "seed": int(match["seed"])}
    raise ValueError(f"model '{name}' is not in the config's `models:` (nor a grid model or NAME-seedN of one); known: {sorted(MODEL_SPECS)}")


def model_is_decodable(name):
    """Whether model ``name`` has a decoder (its kind's `decodable`, facebrain.models.kinds)."""
    return kind(model_spec(name)["kind"]).decodable


def model_is_fitted(name):
    """Whether model ``name`` is fitted in closed form (its kind's `trained_by` is "fit")."""
    return kind(model_spec(name)["kind"]).trained_by == "fit"


def train_settings(wildcards):
    """params of the training rule: the `train:` entries the job of {model} reads (facebrain.models.kinds.train_settings:
    a closed-form fit ignores steps, lr, ...; StyleGAN2 its lr, and steps / batch_size where its spec sets them),
    so changing another entry does not retrain it; `compile` only when on."""
    spec = model_spec(wildcards.model)
    settings = kind_train_settings(spec, config["train"])
    return with_compile(settings) if kind(spec["kind"]).trained_by == "gradient" else settings


def gradient_train_settings():
    """The `train:` entries of a stacked ensemble's job (its kinds read all of them)."""
    return with_compile({k: config["train"][k] for k in TRAIN_SETTINGS})


def with_compile(settings):
    """``settings`` with `compile` when `train.compile` is on (off: jobs keep their params)."""
    return {**settings, "compile": True} if config["train"]["compile"] else settings


def face_grid_input(wildcards):
    """The SynthFaces grid a pair kind reads its SynthFaces pairs from (`train.synthfaces_pairs: grid`); {} for other jobs."""
    pairs_from_grid = wildcards.dataset == "synthfaces" and config["train"]["synthfaces_pairs"] == "grid"
    spec = model_spec(wildcards.model)
    if pairs_from_grid and kind(spec["kind"]).batch_kind_for(spec) == "pairs":
        return {"face_grid": paths.path("face_grid")}
    return {}


def spec_of_wildcards(wildcards):
    """params of the training rule: the spec of {model}."""
    return model_spec(wildcards.model)


def trained_pairs():
    """(model, dataset) for every model of `train.models` on every dataset of `train.datasets`."""
    return [(m, d) for d in config["train"]["datasets"] for m in config["train"]["models"]]


def grid_pairs():
    """(model, dataset) of every grid point and seed of `train.grid` ([] without a grid)."""
    grid = config["train"]["grid"]
    if not grid:
        return []
    return [(f"{name}-seed{seed}", grid["dataset"]) for name in grid_models() for seed in grid["seeds"]]


def hparam_pairs():
    """Rows of hparam_search.csv: the grid's models, or without a grid the gradient-trained models."""
    return grid_pairs() or [(m, d) for m, d in trained_pairs() if not model_is_fitted(m)]


def pair_files(name, pairs):
    """paths.path(name) of every (model, dataset) of ``pairs``."""
    return [paths.path(name, model=m, dataset=d) for m, d in pairs]


def reconstruction_pairs():
    """(model, dataset) of every trained decodable model: the rows of reconstruction_loss.csv."""
    return [(m, d) for m, d in trained_pairs() if model_is_decodable(m)]


def reconstruction_inputs(wildcards):
    return pair_files("evaluation", reconstruction_pairs())


def reconstruction_datasets():
    """params of the reconstruction table: the dataset of each of its evaluations."""
    return [d for _, d in reconstruction_pairs()]


def hparam_inputs(wildcards):
    """evaluation.json and the metrics stage's per-model record of every hparam_search row."""
    return {"evaluations": pair_files("evaluation", hparam_pairs()), "metrics": pair_files("metrics", hparam_pairs())}


def correlation_inputs(wildcards):
    """Latents of every trained model and the prepared datasets they encode."""
    pairs = trained_pairs()
    return {"latents": pair_files("latents", pairs), "data": [paths.path("prepared", dataset=d) for _, d in pairs]}


def traversal_models():
    """Models drawn as latent traversals (`train.traversal_models`, default every decodable trained model)."""
    chosen = config["train"]["traversal_models"]
    return [m for m in (config["train"]["models"] if chosen is None else chosen) if model_is_decodable(m)]


def models_final_targets():
    """Every trained model with its latents and dimension labels, the traversal figures and the model tables."""
    pairs = trained_pairs()
    targets = pair_files("model", pairs) + pair_files("latents", pairs) + pair_files("dimension_labels", pairs)
    targets += pair_files("traversal_figure", [(m, d) for d in config["train"]["datasets"] for m in traversal_models()])
    return targets + [paths.path(name) for name in ("reconstruction_table", "hparam_table", "latent_factor_table")]


def hparam_specs():
    """params of the hparam table: model name -> dataset and spec of each row."""
    return [{"model": m, "dataset": d, **model_spec(m)} for m, d in hparam_pairs()]


def ensemble_groups():
    """With `train.ensemble`: [(dataset, [model, ...])] of the stacked ensembles (rule train_ensemble_N).

    Candidates are the gradient-trained models of `train.models` on each of `train.datasets`
    and every grid point and seed of `train.grid`; those of a stackable kind that share dataset,
    kind and network shape (facebrain.models.ensemble.stack_key) form one group; a group of
    one model stays a train_model job. Without `train.ensemble`: [].
    """
    if not config["train"]["ensemble"]:
        return []
    groups = {}
    for model, dataset in dict.fromkeys(trained_pairs() + grid_pairs()):
        spec = model_spec(model)
        if kind(spec["kind"]).stackable:
            groups.setdefault((dataset, stack_key(spec)), []).append(model)
    return [(dataset, models) for (dataset, _), models in groups.items() if len(models) > 1]
