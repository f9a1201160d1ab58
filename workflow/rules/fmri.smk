# fmri stage: the fMRI dataset in ds001761's layout -- simulated with planted
# truth (default) or downloaded from OpenNeuro -- and the stimulus audit.
# Paths and config look-ups live in common_fmri.smk; the reader is
# facebrain.fmri.reader.BidsFmriDataset.


rule simulate_fmri:
    input:
        face_dataset_input,
    output:
        directory(FMRI_SIM_ROOT),
    log:
        log_path("simulate_fmri"),
    benchmark:
        benchmark_path("simulate_fmri")
    params:
        sim=fmri_simulate_params(),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/simulate_fmri.py"


rule download_fmri:
    output:
        FMRI_DOWNLOAD_MANIFEST,
    log:
        log_path("download_fmri"),
    benchmark:
        benchmark_path("download_fmri")
    params:
        root=FMRI_DOWNLOAD_ROOT,
        download=fmri_download_params(),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=1440,
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/download_fmri.py"


rule fmri_stimulus_audit:
    input:
        fmri_subject_input,
    output:
        report(
            "results/fmri/{subject}/stimulus_audit.tsv",
            caption="../report/fmri_stimulus_audit.rst",
            category="fMRI data",
            subcategory="stimulus audit",
        ),
    log:
        log_path("fmri_stimulus_audit", "{subject}"),
    benchmark:
        benchmark_path("fmri_stimulus_audit", "{subject}")
    params:
        root=fmri_root(),
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/fmri_stimulus_audit.py"


rule fmri_overview_figure:
    input:
        fmri_subject_input,
    output:
        report(
            "results/fmri/{subject}/overview.png",
            caption="../report/fmri_overview.rst",
            category="fMRI data",
            subcategory="design and planted truth",
        ),
    log:
        log_path("fmri_overview_figure", "{subject}"),
    benchmark:
        benchmark_path("fmri_overview_figure", "{subject}")
    params:
        root=fmri_root(),
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/fmri_overview_figure.py"


register_final_targets("fmri", fmri_final_targets())
