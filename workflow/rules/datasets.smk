# datasets stage: input datasets in their real layouts (downloaded or
# generated offline) and the prepared HDF5 files every model trains on.
# Paths and config look-ups live in common_datasets.smk.


rule dsprites_npz:
    output:
        DSPRITES_NPZ,
    log:
        log_path("dsprites_npz"),
    benchmark:
        benchmark_path("dsprites_npz")
    params:
        source=dsprites_source_params(),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=15,
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/dsprites_npz.py"


rule synthfaces:
    output:
        directory(face_root("synthfaces")),
    log:
        log_path("synthfaces"),
    benchmark:
        benchmark_path("synthfaces")
    params:
        synthfaces=synthfaces_params(),
        seed=config["seed"],
    threads: config["datasets"]["synthfaces"]["threads"]
    resources:
        mem_mb=2000,
        runtime=30,
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/synthfaces.py"


rule download_celeba:
    output:
        celeba_files(),
    log:
        log_path("download_celeba"),
    benchmark:
        benchmark_path("download_celeba")
    params:
        base_url=config["datasets"]["celeba"]["base_url"],
    threads: 1
    resources:
        mem_mb=1000,
        runtime=180,
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/download_celeba.py"


rule prepare_dsprites:
    input:
        dsprites_npz(),
    output:
        "results/data/dsprites.h5",
    log:
        log_path("prepare_dsprites"),
    benchmark:
        benchmark_path("prepare_dsprites")
    params:
        prepare=dataset_prepare_params("dsprites"),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/prepare_dsprites.py"


rule prepare_synthfaces:
    input:
        face_root("synthfaces"),
    output:
        "results/data/synthfaces.h5",
    log:
        log_path("prepare_synthfaces"),
    benchmark:
        benchmark_path("prepare_synthfaces")
    params:
        prepare=dataset_prepare_params("synthfaces"),
        checksums={},
    threads: config["datasets"]["synthfaces"]["threads"]
    resources:
        mem_mb=2000,
        runtime=30,
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/prepare_faces.py"


rule prepare_celeba:
    input:
        celeba_files(),
    output:
        "results/data/celeba.h5",
    log:
        log_path("prepare_celeba"),
    benchmark:
        benchmark_path("prepare_celeba")
    params:
        prepare=dataset_prepare_params("celeba"),
        checksums=celeba_annotation_md5(),
    threads: config["datasets"]["celeba"]["threads"]
    resources:
        mem_mb=8000,
        runtime=120,
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/prepare_faces.py"


rule dsprites_figure:
    input:
        dsprites_npz(),
    output:
        report(
            "results/figures/datasets/dsprites.png",
            caption="../report/datasets_dsprites.rst",
            category="Datasets",
            subcategory="dSprites",
        ),
    log:
        log_path("dsprites_figure"),
    benchmark:
        benchmark_path("dsprites_figure")
    params:
        seed=config["seed"],
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/dsprites_figure.py"


rule synthfaces_figure:
    input:
        face_root("synthfaces"),
    output:
        report(
            "results/figures/datasets/synthfaces.png",
            caption="../report/datasets_synthfaces.rst",
            category="Datasets",
            subcategory="SynthFaces",
        ),
    log:
        log_path("synthfaces_figure"),
    benchmark:
        benchmark_path("synthfaces_figure")
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/synthfaces_figure.py"


register_final_targets("datasets", dataset_final_targets())
