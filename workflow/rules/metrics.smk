# metrics stage: disentanglement metrics of trained models and the tables of
# Romeo (SVAE), Hejna et al. (linear probe) and Zheng et al. (semantic
# directions). Paths: facebrain.paths; config look-ups and targets: common_metrics.smk.


rule model_metrics:
    input:
        model=paths.path("model"),
        ground_truth=metrics_ground_truth,
    output:
        record=paths.path("metrics"),
        details=paths.path("metric_details"),
    log:
        paths.log("model_metrics", "model", "dataset"),
    benchmark:
        paths.benchmark("model_metrics", "model", "dataset")
    params:
        counts=metric_counts(),
        source=metrics_source_of_wildcards,
        seed=config["seed"],
    threads: config["metrics"]["threads"]
    resources:
        mem_mb=4000,
        runtime=60,
        cpu_threads=job_threads,
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/model_metrics.py"


rule disentanglement_table:
    """Romeo 2023 Table 1. Cells: facebrain.metrics.evaluate.evaluate_model (each metric per model and seed, rule model_metrics; this rule gives mean and sd over seeds)."""
    input:
        disentanglement_inputs,
    output:
        report(
            paths.path("disentanglement_table"),
            caption="../report/disentanglement_table.rst",
            category="Romeo 2023 (SVAE)",
            subcategory="Table 1",
        ),
    log:
        paths.log("disentanglement_table", "dataset"),
    benchmark:
        paths.benchmark("disentanglement_table", "dataset")
    params:
        rows=disentanglement_rows,
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
        cpu_threads=job_threads,
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/disentanglement_table.py"


rule svae_forced_dims:
    """SVAE's forced dimensions per factor. Cells: facebrain.metrics.evaluate.forced_dimension_table (forced MIG from the mutual information of rule model_metrics)."""
    input:
        svae_details(),
    output:
        report(
            paths.path("svae_forced_dims_table"),
            caption="../report/svae_forced_dims.rst",
            category="Romeo 2023 (SVAE)",
            subcategory="Forced dimensions",
        ),
    log:
        paths.log("svae_forced_dims"),
    benchmark:
        paths.benchmark("svae_forced_dims")
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
        cpu_threads=job_threads,
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/svae_forced_dims.py"


rule svae_traversals:
    input:
        unpack(svae_traversal_inputs),
    output:
        report(
            paths.path("svae_traversals_figure"),
            caption="../report/svae_traversals.rst",
            category="Romeo 2023 (SVAE)",
            subcategory="Fig. 7 traversals",
        ),
    log:
        paths.log("svae_traversals"),
    benchmark:
        paths.benchmark("svae_traversals")
    params:
        model=svae_traversal_model(),
        steps=config["metrics"]["traversal_steps"],
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
        cpu_threads=job_threads,
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/svae_traversals.py"


rule linear_probe:
    """Hejna et al. Table 1. Cells: facebrain.probes.digits.linear_probe_table (probe accuracy per model and digit variant)."""
    output:
        report(
            paths.path("linear_probe_table"),
            caption="../report/linear_probe.rst",
            category="Hejna et al.",
            subcategory="Table 1 linear probe",
        ),
    log:
        paths.log("linear_probe"),
    benchmark:
        paths.benchmark("linear_probe")
    params:
        models=linear_probe_models(),
        settings=linear_probe_settings(),
        seed=config["seed"],
    threads: 1  # its small batch-32 steps: a second torch thread gave no speed-up and ~5x the CPU time (threads spinning)
    resources:
        mem_mb=4000,
        runtime=120,
        gpu=gpu_resources(),
        cpu_threads=job_threads,
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/linear_probe.py"


rule semantic_directions:
    """Zheng et al. 2021 directions vs semantics. Cells: facebrain.probes.semantic.semantic_directions (correlation of each closed-form direction with every factor)."""
    input:
        unpack(semantic_inputs),
    output:
        table=report(
            paths.path("semantic_table"),
            caption="../report/semantic_directions.rst",
            category="Zheng et al. 2021",
            subcategory="Semantic directions",
        ),
        figure=report(
            paths.path("semantic_dendrogram"),
            caption="../report/semantic_directions_dendrogram.rst",
            category="Zheng et al. 2021",
            subcategory="Semantic directions",
        ),
    log:
        paths.log("semantic_directions"),
    benchmark:
        paths.benchmark("semantic_directions")
    params:
        models=config["metrics"]["semantic"]["models"],
        num_pairs=config["metrics"]["semantic"]["num_pairs"],
        seed=config["seed"],
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
        cpu_threads=job_threads,
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/semantic_directions.py"


register_final_targets("metrics", metrics_final_targets())
