# models stage: train every named model, cache its latents, label its
# dimensions, draw traversals and the model tables. Paths and config look-ups
# live in common_models.smk.


rule train_model:
    input:
        data=prepared_data,
    output:
        model="results/models/{model}/{dataset}/model.pt",
        log="results/models/{model}/{dataset}/train_log.tsv",
        evaluation="results/models/{model}/{dataset}/evaluation.json",
    log:
        log_path("train_model", "{model}/{dataset}"),
    benchmark:
        benchmark_path("train_model", "{model}/{dataset}")
    params:
        spec=spec_of_wildcards,
        train=train_settings,
        seed=config["seed"],
    threads: config["train"]["threads"]
    resources:
        mem_mb=8000,
        runtime=240,
        gpu=gpu_resources(),
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/train_model.py"


rule encode_latents:
    input:
        model=model_of_wildcards,
        data=prepared_data,
    output:
        latents="results/latents/{model}/{dataset}.h5",
        labels=report(
            "results/latents/{model}/{dataset}_dimension_labels.tsv",
            caption="../report/dimension_labels.rst",
            category="Models",
            subcategory="Dimension labels",
        ),
    log:
        log_path("encode_latents", "{model}/{dataset}"),
    benchmark:
        benchmark_path("encode_latents", "{model}/{dataset}")
    threads: 1
    resources:
        mem_mb=8000,
        runtime=60,
        gpu=gpu_resources(),
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/encode_latents.py"


rule traversal_figure:
    input:
        model=model_of_wildcards,
        data=prepared_data,
        latents="results/latents/{model}/{dataset}.h5",
        labels="results/latents/{model}/{dataset}_dimension_labels.tsv",
    output:
        report(
            "results/figures/traversals/{model}_{dataset}.png",
            caption="../report/traversals.rst",
            category="Models",
            subcategory="Latent traversals",
        ),
    log:
        log_path("traversal_figure", "{model}_{dataset}"),
    benchmark:
        benchmark_path("traversal_figure", "{model}_{dataset}")
    params:
        dims=config["train"]["traversal_dims"],
        steps=config["train"]["traversal_steps"],
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/traversal_figure.py"


rule reconstruction_table:
    input:
        reconstruction_inputs,
    output:
        report(
            "results/tables/reconstruction_loss.csv",
            caption="../report/reconstruction_loss.rst",
            category="Models",
            subcategory="Tables",
        ),
    log:
        log_path("reconstruction_table"),
    benchmark:
        benchmark_path("reconstruction_table")
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/reconstruction_table.py"


rule hparam_table:
    input:
        evaluations=hparam_inputs,
        metrics=hparam_metric_inputs,
    output:
        report(
            "results/tables/hparam_search.csv",
            caption="../report/hparam_search.rst",
            category="Models",
            subcategory="Tables",
        ),
    log:
        log_path("hparam_table"),
    benchmark:
        benchmark_path("hparam_table")
    params:
        specs=hparam_specs(),
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/hparam_table.py"


rule latent_factor_correlation:
    input:
        unpack(correlation_inputs),
    output:
        report(
            "results/tables/latent_factor_correlation.csv",
            caption="../report/latent_factor_correlation.rst",
            category="Models",
            subcategory="Tables",
        ),
    log:
        log_path("latent_factor_correlation"),
    benchmark:
        benchmark_path("latent_factor_correlation")
    params:
        pairs=trained_pairs(),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/latent_factor_correlation.py"


register_final_targets("models", models_final_targets())
