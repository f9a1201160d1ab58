# encoding stage: per-subject encoding and decoding of fMRI responses with
# model latents (Soulos & Isik 2020; VanRullen & Reddy 2019), Table 1, brain maps.
# Paths and inputs come from common_encoding.smk.


rule encoding_localizer:
    input:
        fmri_subject_input,
    output:
        brain_mask=localizer_file("brain_mask.nii.gz"),
        zmap=localizer_file("zmap.nii.gz"),
        mask=localizer_file("face_selective.nii.gz"),
        summary=localizer_file("localizer.json"),
    log:
        log_path("encoding_localizer", "{subject}"),
    benchmark:
        benchmark_path("encoding_localizer", "{subject}")
    params:
        root=fmri_root(),
        reader=fmri_reader_options(),
        localizer=encoding_config()["localizer"],
        high_pass=encoding_config()["glm"]["high_pass"],
        hrf_model=encoding_config()["glm"]["hrf_model"],
    threads: 1
    resources:
        mem_mb=8000,
        runtime=60,
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/encoding_localizer.py"


rule encoding_stimulus_latents:
    input:
        fmri=fmri_subject_input,
        model=encoding_model_input,
    output:
        encoding_file("stimulus_latents.h5"),
    log:
        log_path("encoding_stimulus_latents", "{subject}/{model}"),
    benchmark:
        benchmark_path("encoding_stimulus_latents", "{subject}/{model}")
    params:
        root=fmri_root(),
        device=config["device"],
        batch_size=encoding_config()["stimulus_batch_size"],
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
        gpu=gpu_resources(),
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/encoding_stimulus_latents.py"


rule encoding_glm:
    input:
        fmri=fmri_subject_input,
        latents=encoding_file("stimulus_latents.h5"),
        brain_mask=localizer_file("brain_mask.nii.gz"),
        audit=stimulus_audit_input,
    output:
        glm=encoding_file("glm.h5"),
        betas=encoding_file("betas.nii.gz"),
    log:
        log_path("encoding_glm", "{subject}/{model}"),
    benchmark:
        benchmark_path("encoding_glm", "{subject}/{model}")
    params:
        root=fmri_root(),
        reader=fmri_reader_options(),
        glm=encoding_config()["glm"],
        exclude_leaked=config["fmri"]["exclude_leaked"],
    threads: 1
    resources:
        mem_mb=16000,
        runtime=120,
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/encoding_glm.py"


rule encoding_accuracy:
    input:
        glm=encoding_file("glm.h5"),
        brain_mask=localizer_file("brain_mask.nii.gz"),
        mask=localizer_file("face_selective.nii.gz"),
    output:
        h5=encoding_file("encoding.h5"),
        summary=encoding_file("encoding.json"),
        rho=encoding_file("rho.nii.gz"),
        rho_fdr=encoding_file("rho_fdr.nii.gz"),
    log:
        log_path("encoding_accuracy", "{subject}/{model}"),
    benchmark:
        benchmark_path("encoding_accuracy", "{subject}/{model}")
    params:
        n_permutations=encoding_config()["n_permutations"],
        seed=encoding_seed(),
        reliability_threshold=encoding_config()["localizer"]["reliability_threshold"],
        fdr_alpha=encoding_config()["fdr_alpha"],
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/encoding_accuracy.py"


rule encoding_decoding:
    input:
        glm=encoding_file("glm.h5"),
        brain_mask=localizer_file("brain_mask.nii.gz"),
        mask=localizer_file("face_selective.nii.gz"),
        latents=encoding_file("stimulus_latents.h5"),
        faces=face_data_input,
    output:
        summary=encoding_file("decoding.json"),
        h5=encoding_file("decoding.h5"),
    log:
        log_path("encoding_decoding", "{subject}/{model}"),
    benchmark:
        benchmark_path("encoding_decoding", "{subject}/{model}")
    params:
        ridge=encoding_config()["decoding"]["ridge"],
        n_permutations=encoding_config()["n_permutations"],
        seed=encoding_seed(),
        reliability_threshold=encoding_config()["localizer"]["reliability_threshold"],
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/encoding_decoding.py"


rule encoding_table1:
    input:
        table1_inputs,
    output:
        csv=report("results/table1.csv", caption="../report/encoding_table1.rst", category="Soulos & Isik 2020", subcategory="Table 1"),
        md=report("results/table1.md", caption="../report/encoding_table1.rst", category="Soulos & Isik 2020", subcategory="Table 1"),
    log:
        log_path("encoding_table1"),
    benchmark:
        benchmark_path("encoding_table1")
    params:
        subjects=pair_subjects(),
        models=pair_models(),
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/encoding_table1.py"


rule encoding_decoding_table:
    input:
        decoding_inputs,
    output:
        report("results/tables/decoding.csv", caption="../report/encoding_decoding.rst", category="VanRullen & Reddy 2019", subcategory="Decoding"),
    log:
        log_path("encoding_decoding_table"),
    benchmark:
        benchmark_path("encoding_decoding_table")
    params:
        subjects=pair_subjects(),
        models=pair_models(),
        comparisons=encoding_config()["decoding"]["comparisons"],
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/encoding_decoding_table.py"


rule encoding_beta_overlap:
    input:
        unpack(beta_overlap_inputs),
    output:
        report("results/tables/beta_overlap.csv", caption="../report/encoding_beta_overlap.rst", category="Soulos & Isik 2020", subcategory="Beta maps"),
    log:
        log_path("encoding_beta_overlap"),
    benchmark:
        benchmark_path("encoding_beta_overlap")
    params:
        subjects=pair_subjects(),
        models=pair_models(),
        beta_maps=encoding_config()["beta_maps"],
        reliability_threshold=encoding_config()["localizer"]["reliability_threshold"],
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/encoding_beta_overlap.py"


rule encoding_rho_figure:
    input:
        rho=encoding_file("rho.nii.gz"),
        brain_mask=localizer_file("brain_mask.nii.gz"),
        summary=encoding_file("encoding.json"),
    output:
        report("results/figures/{subject}/encoding_rho_{model}.png", caption="../report/encoding_rho_map.rst", category="Soulos & Isik 2020", subcategory="{subject}"),
    log:
        log_path("encoding_rho_figure", "{subject}/{model}"),
    benchmark:
        benchmark_path("encoding_rho_figure", "{subject}/{model}")
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/encoding_rho_figure.py"


rule encoding_betas_figure:
    input:
        betas=encoding_file("betas.nii.gz"),
        mask=localizer_file("face_selective.nii.gz"),
        labels=encoding_labels_input,
    output:
        report("results/figures/{subject}/betas_{model}.png", caption="../report/encoding_beta_maps.rst", category="Soulos & Isik 2020", subcategory="{subject}"),
    log:
        log_path("encoding_betas_figure", "{subject}/{model}"),
    benchmark:
        benchmark_path("encoding_betas_figure", "{subject}/{model}")
    params:
        min_abs_corr=encoding_config()["beta_maps"]["min_abs_corr"],
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/encoding_betas_figure.py"


rule encoding_reconstructions_figure:
    input:
        fmri=fmri_subject_input,
        model=encoding_model_input,
        decoded=encoding_file("decoding.h5"),
        latents=encoding_file("stimulus_latents.h5"),
    output:
        report("results/figures/{subject}/reconstructions_{model}.png", caption="../report/encoding_reconstructions.rst", category="VanRullen & Reddy 2019", subcategory="{subject}"),
    log:
        log_path("encoding_reconstructions_figure", "{subject}/{model}"),
    benchmark:
        benchmark_path("encoding_reconstructions_figure", "{subject}/{model}")
    params:
        root=fmri_root(),
        device=config["device"],
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
        gpu=gpu_resources(),
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/encoding_reconstructions_figure.py"


rule encoding_group_figures:
    input:
        table1="results/table1.csv",
        decoding="results/tables/decoding.csv",
    output:
        rho=report("results/figures/encoding_rho_group.png", caption="../report/encoding_group.rst", category="Soulos & Isik 2020", subcategory="Group"),
        decoding=report("results/figures/decoding_group.png", caption="../report/encoding_group.rst", category="VanRullen & Reddy 2019", subcategory="Group"),
    log:
        log_path("encoding_group_figures"),
    benchmark:
        benchmark_path("encoding_group_figures")
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/encoding_group_figures.py"


register_final_targets("encoding", encoding_final_targets())
