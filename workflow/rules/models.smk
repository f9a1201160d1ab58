# models stage: train every named model, cache its latents, label its
# dimensions, draw traversals and the model tables.
# Paths: facebrain.paths; config look-ups and targets: common_models.smk.


rule train_model:
    """Train one model on one dataset. Cells: facebrain.models.training.train_model (losses per logged step in train_log.tsv; test losses of facebrain.models.training.evaluate_model in evaluation.json)."""
    input:
        unpack(face_grid_input),
        data=paths.path("prepared"),
    output:
        model=paths.path("model"),
        log=paths.path("train_log"),
        evaluation=paths.path("evaluation"),
    log:
        paths.log("train_model", "model", "dataset"),
    benchmark:
        paths.benchmark("train_model", "model", "dataset")
    params:
        spec=spec_of_wildcards,
        train=train_settings,
        seed=config["seed"],
    threads: config["train"]["threads"]
    resources:
        mem_mb=8000,
        runtime=240,
        gpu=gpu_resources(),
        cpu_threads=job_threads,
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/train_model.py"


# With `train.ensemble`, each group of ensemble_groups() is one job of a rule of its own
# (train_ensemble_1, ...) whose outputs are its members' files: a rule without wildcards, so
# Snakemake prefers it to train_model for those files.
for number, (ensemble_dataset, ensemble_models) in enumerate(ensemble_groups(), start=1):

    rule:
        """Train models of one kind and shape on one dataset as one stacked ensemble. Cells: facebrain.models.ensemble.train_ensemble (each member's files as facebrain.models.training.train_model writes them)."""
        name:
            f"train_ensemble_{number}"
        input:
            data=paths.path("prepared", dataset=ensemble_dataset),
        output:
            model=[paths.path("model", model=m, dataset=ensemble_dataset) for m in ensemble_models],
            log=[paths.path("train_log", model=m, dataset=ensemble_dataset) for m in ensemble_models],
            evaluation=[paths.path("evaluation", model=m, dataset=ensemble_dataset) for m in ensemble_models],
        log:
            paths.log("train_ensemble", model=ensemble_models[0], dataset=ensemble_dataset),
        benchmark:
            paths.benchmark("train_ensemble", model=ensemble_models[0], dataset=ensemble_dataset)
        params:
            names=ensemble_models,
            specs=[model_spec(m) for m in ensemble_models],
            train=gradient_train_settings(),
            seed=config["seed"],
        threads: config["train"]["threads"]
        resources:
            mem_mb=8000,
            runtime=240,
            gpu=gpu_resources(),
            cpu_threads=job_threads,
        conda:
            "../../envs/facebrain.yaml"
        script:
            "../scripts/train_ensemble.py"


rule encode_latents:
    """Latents of every image, and dimension labels. Cells: facebrain.models.dimension_labels.label_dimensions (best factor and abs. correlation per dimension, test images)."""
    input:
        model=paths.path("model"),
        data=paths.path("prepared"),
    output:
        latents=paths.path("latents"),
        labels=report(
            paths.path("dimension_labels"),
            caption="../report/dimension_labels.rst",
            category="Models",
            subcategory="Dimension labels",
        ),
    log:
        paths.log("encode_latents", "model", "dataset"),
    benchmark:
        paths.benchmark("encode_latents", "model", "dataset")
    threads: 1
    resources:
        mem_mb=8000,
        runtime=60,
        gpu=gpu_resources(),
        cpu_threads=job_threads,
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/encode_latents.py"


rule traversal_figure:
    input:
        model=paths.path("model"),
        data=paths.path("prepared"),
        latents=paths.path("latents"),
        labels=paths.path("dimension_labels"),
    output:
        report(
            paths.path("traversal_figure"),
            caption="../report/traversals.rst",
            category="Models",
            subcategory="Latent traversals",
        ),
    log:
        paths.log("traversal_figure", "model", "dataset"),
    benchmark:
        paths.benchmark("traversal_figure", "model", "dataset")
    params:
        dims=config["train"]["traversal_dims"],
        steps=config["train"]["traversal_steps"],
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
        cpu_threads=job_threads,
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/traversal_figure.py"


rule reconstruction_table:
    """Test reconstruction loss, KL and TC per trained model. Cells: facebrain.models.training.evaluate_model (run by train_model; this rule lists them)."""
    input:
        reconstruction_inputs,
    output:
        report(
            paths.path("reconstruction_table"),
            caption="../report/reconstruction_loss.rst",
            category="Models",
            subcategory="Tables",
        ),
    log:
        paths.log("reconstruction_table"),
    benchmark:
        paths.benchmark("reconstruction_table")
    params:
        datasets=reconstruction_datasets(),
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
        cpu_threads=job_threads,
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/reconstruction_table.py"


rule hparam_table:
    """The hyper-parameter search. Cells: facebrain.models.training.evaluate_model (losses, run by train_model); facebrain.metrics.evaluate.evaluate_model (disentanglement scores, rule model_metrics); hyper-parameters from the config."""
    input:
        unpack(hparam_inputs),
    output:
        report(
            paths.path("hparam_table"),
            caption="../report/hparam_search.rst",
            category="Models",
            subcategory="Tables",
        ),
    log:
        paths.log("hparam_table"),
    benchmark:
        paths.benchmark("hparam_table")
    params:
        specs=hparam_specs(),
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
        cpu_threads=job_threads,
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/hparam_table.py"


rule latent_factor_correlation:
    """Latents vs known factors per model. Cells: facebrain.models.dimension_labels.latent_factor_correlation (MCC, best correlation per factor)."""
    input:
        unpack(correlation_inputs),
    output:
        report(
            paths.path("latent_factor_table"),
            caption="../report/latent_factor_correlation.rst",
            category="Models",
            subcategory="Tables",
        ),
    log:
        paths.log("latent_factor_correlation"),
    benchmark:
        paths.benchmark("latent_factor_correlation")
    params:
        pairs=trained_pairs(),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
        cpu_threads=job_threads,
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/latent_factor_correlation.py"


register_final_targets("models", models_final_targets())
