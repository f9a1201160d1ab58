# Zheng et al. 2021 on the StyleGAN2s (kind stylegan2, trained by train_model on the face
# dataset): measurement network, closed-form directions (Eq. 3, Table 2, Eq. 4), localized
# components (Eq. 5, Fig. 6, Fig. 7) and Table 1. Paths: facebrain.paths; settings and
# targets: common_zheng.smk.


rule zheng_measurement:
    """Measurement network f(.) validated on held-out real images. Cells: facebrain.probes.measurement.train_measurement (Pearson r per factor)."""
    input:
        data=paths.path("prepared"),
    output:
        model=paths.path("measurement_net"),
        table=report(
            paths.path("measurement_table"),
            caption="../report/zheng_measurement.rst",
            category="Zheng et al. 2021",
            subcategory="Measurement network",
        ),
    log:
        paths.log("zheng_measurement", "dataset"),
    benchmark:
        paths.benchmark("zheng_measurement", "dataset")
    params:
        settings=zheng_settings()["measurement"],
        seed=config["seed"],
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
        gpu=gpu_resources(),
        cpu_threads=job_threads,
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/zheng_measurement.py"


rule zheng_samples:
    input:
        model=paths.path("model"),
        measurement=paths.path("measurement_net"),
    output:
        paths.path("zheng_samples"),
    log:
        paths.log("zheng_samples", "model", "dataset"),
    benchmark:
        paths.benchmark("zheng_samples", "model", "dataset")
    params:
        num_samples=zheng_settings()["num_samples"],
        seed=config["seed"],
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
        gpu=gpu_resources(),
        cpu_threads=job_threads,
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/zheng_samples.py"


rule zheng_directions:
    input:
        paths.path("zheng_samples"),
    output:
        paths.path("zheng_directions"),
    log:
        paths.log("zheng_directions", "model", "dataset"),
    benchmark:
        paths.benchmark("zheng_directions", "model", "dataset")
    params:
        num_pairs=zheng_settings()["num_pairs"],
        seed=config["seed"],
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
        cpu_threads=job_threads,
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/zheng_directions.py"


rule zheng_table2:
    """Zheng et al. Table 2. Cells: facebrain.probes.directions.fit_directions (Pearson r of each closed-form direction's projection with each measured semantic, held-out generated faces)."""
    input:
        list(zheng_files("zheng_directions").values()),
    output:
        report(
            paths.path("zheng_table2"),
            caption="../report/zheng_table2.rst",
            category="Zheng et al. 2021",
            subcategory="Table 2 directions",
        ),
    log:
        paths.log("zheng_table2"),
    benchmark:
        paths.benchmark("zheng_table2")
    params:
        models=zheng_models(),
        decorrelation=zheng_decorrelation(),
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
        cpu_threads=job_threads,
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/zheng_table2.py"


rule zheng_manipulation:
    input:
        model=paths.path("model"),
        directions=paths.path("zheng_directions"),
        measurement=paths.path("measurement_net"),
    output:
        report(
            paths.path("zheng_manipulation_figure"),
            caption="../report/zheng_manipulation.rst",
            category="Zheng et al. 2021",
            subcategory="Eq. 4 edits",
        ),
    log:
        paths.log("zheng_manipulation", "model", "dataset"),
    benchmark:
        paths.benchmark("zheng_manipulation", "model", "dataset")
    params:
        steps=zheng_settings()["steps"],
        semantics=zheng_settings()["semantics"],
        seed=config["seed"],
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
        cpu_threads=job_threads,
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/zheng_manipulation.py"


rule zheng_localized:
    input:
        model=paths.path("model"),
    output:
        paths.path("zheng_localized"),
    log:
        paths.log("zheng_localized", "model", "dataset"),
    benchmark:
        paths.benchmark("zheng_localized", "model", "dataset")
    params:
        settings=zheng_localized_fit(),
        seed=config["seed"],
    threads: 1
    resources:
        mem_mb=8000,
        runtime=120,
        gpu=gpu_resources(),
        cpu_threads=job_threads,
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/zheng_localized.py"


rule zheng_dendrogram:
    input:
        paths.path("zheng_localized"),
    output:
        report(
            paths.path("zheng_dendrogram_figure"),
            caption="../report/zheng_dendrogram.rst",
            category="Zheng et al. 2021",
            subcategory="Fig. 6 localized components",
        ),
    log:
        paths.log("zheng_dendrogram", "model", "dataset"),
    benchmark:
        paths.benchmark("zheng_dendrogram", "model", "dataset")
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
        cpu_threads=job_threads,
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/zheng_dendrogram.py"


rule zheng_localized_edits:
    input:
        model=paths.path("model"),
        localized=paths.path("zheng_localized"),
    output:
        report(
            paths.path("zheng_localized_figure"),
            caption="../report/zheng_localized_edits.rst",
            category="Zheng et al. 2021",
            subcategory="Fig. 7 localized edits",
        ),
    log:
        paths.log("zheng_localized_edits", "model", "dataset"),
    benchmark:
        paths.benchmark("zheng_localized_edits", "model", "dataset")
    params:
        steps=zheng_settings()["steps"],
        max_rows=zheng_settings()["localized"]["max_rows"],
        seed=config["seed"],
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
        cpu_threads=job_threads,
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/zheng_localized_edits.py"


rule zheng_table1:
    """Zheng et al. Table 1 analogue. Cells: facebrain.probes.quality.table1 (Frechet distance in the measurement network's features, pixel PPL)."""
    input:
        unpack(zheng_table1_inputs),
    output:
        report(
            paths.path("zheng_table1"),
            caption="../report/zheng_table1.rst",
            category="Zheng et al. 2021",
            subcategory="Table 1 quality",
        ),
    log:
        paths.log("zheng_table1"),
    benchmark:
        paths.benchmark("zheng_table1")
    params:
        models=zheng_models(),
        decorrelation=zheng_decorrelation(),
        settings=zheng_settings()["quality"],
        seed=config["seed"],
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
        gpu=gpu_resources(),
        cpu_threads=job_threads,
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/zheng_table1.py"


register_final_targets("zheng", zheng_final_targets())
