# datasets stage: input datasets in their real layouts (downloaded or
# generated offline) and the prepared HDF5 files every model trains on.
# Paths: facebrain.paths; config look-ups and targets: common_datasets.smk.


rule dsprites_npz:
    output:
        paths.path("dsprites_npz"),
    log:
        paths.log("dsprites_npz"),
    benchmark:
        paths.benchmark("dsprites_npz")
    params:
        source=dsprites_source_params(),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=15,
        cpu_threads=job_threads,
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/dsprites_npz.py"


rule synthfaces:
    output:
        directory(paths.path("face_root", dataset="synthfaces")),
    log:
        paths.log("synthfaces"),
    benchmark:
        paths.benchmark("synthfaces")
    params:
        synthfaces=synthfaces_params(),
        seed=config["seed"],
    threads: config["datasets"]["synthfaces"]["threads"]
    resources:
        mem_mb=2000,
        runtime=30,
        cpu_threads=job_threads,
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/synthfaces.py"


rule synthfaces_grid:
    output:
        paths.path("face_grid"),
    log:
        paths.log("synthfaces_grid"),
    benchmark:
        paths.benchmark("synthfaces_grid")
    params:
        levels=config["datasets"]["synthfaces_grid"]["levels"],
    threads: config["datasets"]["synthfaces_grid"]["threads"]
    resources:
        mem_mb=2000,
        runtime=240,
        cpu_threads=job_threads,
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/synthfaces_grid.py"


rule download_celeba:
    output:
        celeba_files(),
    log:
        paths.log("download_celeba"),
    benchmark:
        paths.benchmark("download_celeba")
    params:
        source=config["datasets"]["celeba"]["source"],
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
        paths.path("dsprites_npz"),
    output:
        paths.path("prepared", dataset="dsprites"),
    log:
        paths.log("prepare_dsprites"),
    benchmark:
        paths.benchmark("prepare_dsprites")
    params:
        prepare=dataset_prepare_params("dsprites"),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
        cpu_threads=job_threads,
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/prepare_dsprites.py"


rule prepare_synthfaces:
    input:
        paths.path("face_root", dataset="synthfaces"),
    output:
        paths.path("prepared", dataset="synthfaces"),
    log:
        paths.log("prepare_synthfaces"),
    benchmark:
        paths.benchmark("prepare_synthfaces")
    params:
        prepare=dataset_prepare_params("synthfaces"),
        checksums={},
    threads: config["datasets"]["synthfaces"]["threads"]
    resources:
        mem_mb=2000,
        runtime=30,
        cpu_threads=job_threads,
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/prepare_faces.py"


rule prepare_celeba:
    input:
        celeba_files(),
    output:
        paths.path("prepared", dataset="celeba"),
    log:
        paths.log("prepare_celeba"),
    benchmark:
        paths.benchmark("prepare_celeba")
    params:
        prepare=dataset_prepare_params("celeba"),
        checksums=celeba_annotation_md5(),
    threads: config["datasets"]["celeba"]["threads"]
    resources:
        mem_mb=8000,
        runtime=120,
        cpu_threads=job_threads,
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/prepare_faces.py"


rule dsprites_figure:
    input:
        paths.path("dsprites_npz"),
    output:
        report(
            paths.path("dataset_figure", dataset="dsprites"),
            caption="../report/datasets_dsprites.rst",
            category="Datasets",
            subcategory="dSprites",
        ),
    log:
        paths.log("dsprites_figure"),
    benchmark:
        paths.benchmark("dsprites_figure")
    params:
        seed=config["seed"],
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
        cpu_threads=job_threads,
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/dsprites_figure.py"


rule synthfaces_figure:
    input:
        paths.path("face_root", dataset="synthfaces"),
    output:
        report(
            paths.path("dataset_figure", dataset="synthfaces"),
            caption="../report/datasets_synthfaces.rst",
            category="Datasets",
            subcategory="SynthFaces",
        ),
    log:
        paths.log("synthfaces_figure"),
    benchmark:
        paths.benchmark("synthfaces_figure")
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
        cpu_threads=job_threads,
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/synthfaces_figure.py"


register_final_targets("datasets", dataset_final_targets())
