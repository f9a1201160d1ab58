# fmri stage: the fMRI dataset in ds001761's layout -- simulated with planted
# truth (default) or downloaded from OpenNeuro -- and the stimulus audit.
# Paths: facebrain.paths; config look-ups and targets: common_fmri.smk; the
# reader is facebrain.fmri.reader.BidsFmriDataset.


check_fmri_source()


rule simulate_fmri:
    input:
        face_dataset_input,
    output:
        directory(paths.path("fmri_simulated")),
    log:
        paths.log("simulate_fmri"),
    benchmark:
        paths.benchmark("simulate_fmri")
    params:
        sim=fmri_simulate_params(),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
        cpu_threads=job_threads,
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/simulate_fmri.py"


rule download_fmri:
    output:
        paths.path("fmri_manifest"),
    log:
        paths.log("download_fmri"),
    benchmark:
        paths.benchmark("download_fmri")
    params:
        root=paths.path("fmri_downloaded"),
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
    """Leaked test faces and images shown under two names, and the stimulus counts, per subject. Cells: facebrain.fmri.audit.audit_and_count."""
    input:
        fmri_subject_input,
    output:
        audit=report(
            paths.path("stimulus_audit"),
            caption="../report/fmri_stimulus_audit.rst",
            category="fMRI data",
            subcategory="stimulus audit",
        ),
        counts=paths.path("stimulus_counts"),
    log:
        paths.log("fmri_stimulus_audit", "subject"),
    benchmark:
        paths.benchmark("fmri_stimulus_audit", "subject")
    params:
        root=fmri_root(),
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
        cpu_threads=job_threads,
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/fmri_stimulus_audit.py"


rule fmri_overview_figure:
    input:
        fmri_subject_input,
    output:
        report(
            paths.path("fmri_overview"),
            caption="../report/fmri_overview.rst",
            category="fMRI data",
            subcategory="design and planted truth",
        ),
    log:
        paths.log("fmri_overview_figure", "subject"),
    benchmark:
        paths.benchmark("fmri_overview_figure", "subject")
    params:
        root=fmri_root(),
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
        cpu_threads=job_threads,
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/fmri_overview_figure.py"


register_final_targets("fmri", fmri_final_targets())
