# metrics stage: disentanglement metrics of trained models and the tables of
# Romeo (SVAE), Hejna et al. (linear probe) and Zheng et al. (semantic
# directions). Paths and config look-ups live in common_metrics.smk.


rule model_metrics:
    input:
        model=model_of_wildcards,
        ground_truth=metrics_ground_truth,
    output:
        record="results/metrics/{model}/{dataset}.json",
        details="results/metrics/{model}/{dataset}_details.json",
    log:
        log_path("model_metrics", "{model}/{dataset}"),
    benchmark:
        benchmark_path("model_metrics", "{model}/{dataset}")
    params:
        counts=metric_counts(),
        source=metrics_source_of_wildcards,
        seed=config["seed"],
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/model_metrics.py"


rule disentanglement_table:
    input:
        disentanglement_inputs,
    output:
        report(
            "results/tables/disentanglement_{dataset}.csv",
            caption="../report/disentanglement_table.rst",
            category="Romeo 2023 (SVAE)",
            subcategory="Table 1",
        ),
    log:
        log_path("disentanglement_table", "{dataset}"),
    benchmark:
        benchmark_path("disentanglement_table", "{dataset}")
    params:
        rows=disentanglement_rows,
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/disentanglement_table.py"


rule svae_forced_dims:
    input:
        svae_details(),
    output:
        report(
            "results/tables/svae_forced_dims_dsprites.csv",
            caption="../report/svae_forced_dims.rst",
            category="Romeo 2023 (SVAE)",
            subcategory="Forced dimensions",
        ),
    log:
        log_path("svae_forced_dims"),
    benchmark:
        benchmark_path("svae_forced_dims")
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/svae_forced_dims.py"


rule svae_traversals:
    input:
        unpack(svae_traversal_inputs),
    output:
        report(
            "results/figures/svae_traversals_dsprites.png",
            caption="../report/svae_traversals.rst",
            category="Romeo 2023 (SVAE)",
            subcategory="Fig. 7 traversals",
        ),
    log:
        log_path("svae_traversals"),
    benchmark:
        benchmark_path("svae_traversals")
    params:
        steps=config["metrics"]["traversal_steps"],
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/svae_traversals.py"


rule linear_probe:
    output:
        report(
            "results/tables/linear_probe.csv",
            caption="../report/linear_probe.rst",
            category="Hejna et al.",
            subcategory="Table 1 linear probe",
        ),
    log:
        log_path("linear_probe"),
    benchmark:
        benchmark_path("linear_probe")
    params:
        models=linear_probe_models(),
        settings=linear_probe_settings(),
        seed=config["seed"],
    threads: 2
    resources:
        mem_mb=4000,
        runtime=120,
        gpu=gpu_resources(),
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/linear_probe.py"


rule semantic_directions:
    input:
        unpack(semantic_inputs),
    output:
        table=report(
            "results/tables/semantic_directions.csv",
            caption="../report/semantic_directions.rst",
            category="Zheng et al. 2021",
            subcategory="Semantic directions",
        ),
        figure=report(
            "results/figures/semantic_directions_dendrogram.png",
            caption="../report/semantic_directions_dendrogram.rst",
            category="Zheng et al. 2021",
            subcategory="Semantic directions",
        ),
    log:
        log_path("semantic_directions"),
    benchmark:
        benchmark_path("semantic_directions")
    params:
        models=config["metrics"]["semantic"]["models"],
        num_pairs=config["metrics"]["semantic"]["num_pairs"],
        seed=config["seed"],
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/semantic_directions.py"


register_final_targets("metrics", metrics_final_targets())
