# encoding stage: per-subject encoding and decoding of fMRI responses with
# model latents (Soulos & Isik 2020; VanRullen & Reddy 2019), Table 1, brain maps.
# Paths: facebrain.paths; config look-ups and targets: common_encoding.smk.
# Every analysis runs in each space of `fmri.spaces` ({space}: its entity) with
# the same functions; a rule that writes maps has a *_surface twin (`use rule`)
# whose maps are hemi-L/hemi-R GIFTIs instead of NIfTIs.


rule encoding_localizer:
    input:
        fmri_subject_input,
    output:
        brain_mask=paths.map_files("brain_mask", False),
        zmap=paths.map_files("localizer_zmap", False),
        mask=paths.map_files("face_selective", False),
        summary=paths.path("localizer_summary"),
    log:
        paths.log("encoding_localizer", "subject", "space"),
    benchmark:
        paths.benchmark("encoding_localizer", "subject", "space")
    params:
        root=fmri_root(),
        reader=space_reader_options,
        localizer=encoding_config()["localizer"],
        high_pass=encoding_config()["glm"]["high_pass"],
        hrf_model=encoding_config()["glm"]["hrf_model"],
    threads: 1
    resources:
        mem_mb=8000,
        runtime=60,
        cpu_threads=job_threads,
    conda:
        "../../envs/facebrain.yaml"
    wildcard_constraints:
        space=VOLUME_LABEL,
    script:
        "../scripts/encoding_localizer.py"


use rule encoding_localizer as encoding_localizer_surface with:
    output:
        brain_mask=paths.map_files("brain_mask", True),
        zmap=paths.map_files("localizer_zmap", True),
        mask=paths.map_files("face_selective", True),
        summary=paths.path("localizer_summary"),
    log:
        paths.log("encoding_localizer_surface", "subject", "space"),
    benchmark:
        paths.benchmark("encoding_localizer_surface", "subject", "space")
    wildcard_constraints:
        space=SURFACE_LABEL,


rule encoding_stimulus_latents:
    input:
        fmri=fmri_subject_input,
        model=encoding_model_input,
        faces=stimulus_faces_input,
    output:
        paths.path("stimulus_latents"),
    log:
        paths.log("encoding_stimulus_latents", "subject", "model"),
    benchmark:
        paths.benchmark("encoding_stimulus_latents", "subject", "model")
    params:
        root=fmri_root(),
        stimulus_images=encoding_config()["stimulus_images"],
        face_root=paths.path("face_root", dataset=config["face_dataset"]),
        device=config["device"],
        batch_size=encoding_config()["stimulus_batch_size"],
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
        gpu=gpu_resources(),
        cpu_threads=job_threads,
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/encoding_stimulus_latents.py"


rule encoding_dimension_labels:
    """Labels of the beta-map figures and tables. Cells: facebrain.models.dimension_labels.apply_rater_labels (the models stage's automatic labels, or the raters' file of encoding.dimension_labels)."""
    input:
        auto=automatic_labels_input,
        raters=rater_labels_input,
    output:
        paths.path("encoding_labels"),
    log:
        paths.log("encoding_dimension_labels", "model"),
    benchmark:
        paths.benchmark("encoding_dimension_labels", "model")
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
        cpu_threads=job_threads,
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/encoding_dimension_labels.py"


rule encoding_scaled_bold:
    """The task-faces BOLD of a subject in a space, masked and scaled to percent signal change once for every model's GLM (facebrain.encoding.scaled_bold.write_scaled_bold); removed when the GLMs are done."""
    input:
        fmri=fmri_subject_input,
        brain_mask=brain_mask_input,
    output:
        temp(paths.path("scaled_bold")),
    log:
        paths.log("encoding_scaled_bold", "subject", "space"),
    benchmark:
        paths.benchmark("encoding_scaled_bold", "subject", "space")
    params:
        root=fmri_root(),
        reader=bold_reader_options,
    threads: 1
    resources:
        mem_mb=4000,
        runtime=120,
        cpu_threads=job_threads,
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/encoding_scaled_bold.py"


rule encoding_glm:
    """The encoding GLMs of a subject in a space, every model's from one read of its scaled BOLD (facebrain.encoding.glm.fit_subject_glms); each model's files are the per-model paths."""
    input:
        unpack(localizer_inputs),
        fmri=fmri_subject_input,
        bold=paths.path("scaled_bold"),
        latents=glm_latents_inputs(),
        audit=stimulus_audit_input,
    output:
        glm=glm_outputs("glm", False),
        betas=glm_outputs("betas", False),
        zmaps=glm_outputs("zmaps", False),
    log:
        paths.log("encoding_glm", "subject", "space"),
    benchmark:
        paths.benchmark("encoding_glm", "subject", "space")
    params:
        root=fmri_root(),
        reader=space_reader_options,
        glm=encoding_config()["glm"],
        models=encoding_models(),
    threads: 1
    resources:
        mem_mb=glm_subject_mem_mb,  # the widest pass of the subject's models (common_encoding.smk: measured)
        runtime=240,
        cpu_threads=job_threads,
    conda:
        "../../envs/facebrain.yaml"
    wildcard_constraints:
        space=VOLUME_LABEL,
    script:
        "../scripts/encoding_glm.py"


use rule encoding_glm as encoding_glm_surface with:
    output:
        glm=glm_outputs("glm", True),
        betas=glm_outputs("betas", True),
        zmaps=glm_outputs("zmaps", True),
    log:
        paths.log("encoding_glm_surface", "subject", "space"),
    benchmark:
        paths.benchmark("encoding_glm_surface", "subject", "space")
    wildcard_constraints:
        space=SURFACE_LABEL,


use rule encoding_glm as encoding_glm_model with:
    input:
        unpack(localizer_inputs),
        fmri=fmri_subject_input,
        bold=paths.path("scaled_bold"),
        latents=[paths.path("stimulus_latents")],
        audit=stimulus_audit_input,
    output:
        glm=[paths.path("glm")],
        betas=paths.map_files("betas", False),
        zmaps=paths.map_files("zmaps", False),
    log:
        paths.log("encoding_glm_model", "subject", "space", "model"),
    benchmark:
        paths.benchmark("encoding_glm_model", "subject", "space", "model")
    params:
        root=fmri_root(),
        reader=space_reader_options,
        glm=encoding_config()["glm"],
        models=lambda wildcards: [wildcards.model],
    resources:
        mem_mb=glm_model_mem_mb,  # one model, not the subject's every model (common_encoding.smk: measured)
        runtime=240,
        cpu_threads=job_threads,
    wildcard_constraints:
        space=VOLUME_LABEL,
        model=other_model_pattern(),


use rule encoding_glm_model as encoding_glm_model_surface with:
    output:
        glm=[paths.path("glm")],
        betas=paths.map_files("betas", True),
        zmaps=paths.map_files("zmaps", True),
    log:
        paths.log("encoding_glm_model_surface", "subject", "space", "model"),
    benchmark:
        paths.benchmark("encoding_glm_model_surface", "subject", "space", "model")
    wildcard_constraints:
        space=SURFACE_LABEL,
        model=other_model_pattern(),


rule encoding_accuracy:
    input:
        unpack(localizer_inputs),
        glm=paths.path("glm"),
    output:
        h5=paths.path("encoding"),
        summary=paths.path("encoding_summary"),
        rho=paths.map_files("rho", False),
        rho_fdr=paths.map_files("rho_fdr", False),
    log:
        paths.log("encoding_accuracy", "subject", "space", "model"),
    benchmark:
        paths.benchmark("encoding_accuracy", "subject", "space", "model")
    params:
        n_permutations=encoding_config()["n_permutations"],
        seed=config["seed"],
        reliability_threshold=encoding_config()["localizer"]["reliability_threshold"],
        fdr_alpha=encoding_config()["fdr_alpha"],
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
        cpu_threads=job_threads,
    conda:
        "../../envs/facebrain.yaml"
    wildcard_constraints:
        space=VOLUME_LABEL,
    script:
        "../scripts/encoding_accuracy.py"


use rule encoding_accuracy as encoding_accuracy_surface with:
    output:
        h5=paths.path("encoding"),
        summary=paths.path("encoding_summary"),
        rho=paths.map_files("rho", True),
        rho_fdr=paths.map_files("rho_fdr", True),
    log:
        paths.log("encoding_accuracy_surface", "subject", "space", "model"),
    benchmark:
        paths.benchmark("encoding_accuracy_surface", "subject", "space", "model")
    wildcard_constraints:
        space=SURFACE_LABEL,


rule encoding_decoding:
    input:
        unpack(localizer_inputs),
        glm=paths.path("glm"),
        latents=paths.path("stimulus_latents"),
        faces=paths.path("prepared", dataset=config["face_dataset"]),
        audit=paths.path("stimulus_audit"),
    output:
        summary=paths.path("decoding_summary"),
        h5=paths.path("decoding"),
    log:
        paths.log("encoding_decoding", "subject", "space", "model"),
    benchmark:
        paths.benchmark("encoding_decoding", "subject", "space", "model")
    params:
        ridge=encoding_config()["decoding"]["ridge"],
        identification=encoding_config()["decoding"]["identification"],
        n_permutations=encoding_config()["n_permutations"],
        seed=config["seed"],
        reliability_threshold=encoding_config()["localizer"]["reliability_threshold"],
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
        cpu_threads=job_threads,
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/encoding_decoding.py"


rule encoding_comparison:
    input:
        unpack(localizer_inputs),
        glms=comparison_glms,
    output:
        paths.path("comparisons"),
    log:
        paths.log("encoding_comparison", "subject", "space"),
    benchmark:
        paths.benchmark("encoding_comparison", "subject", "space")
    params:
        models=comparison_models(),
        comparisons=encoding_config()["comparisons"],
        n_permutations=encoding_config()["n_permutations"],
        n_bootstrap=encoding_config()["n_bootstrap"],
        seed=config["seed"],
        reliability_threshold=encoding_config()["localizer"]["reliability_threshold"],
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
        cpu_threads=job_threads,
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/encoding_comparison.py"


rule encoding_table1:
    """Table 1 (Soulos & Isik 2020). Cells: facebrain.encoding.accuracy.evaluate_encoding (rho and its permutation p, per subject x model in rule encoding_accuracy; this rule lays them out); 'a - b' rows: facebrain.encoding.comparison.compare_subject_models (swap test, per subject in rule encoding_comparison) and facebrain.encoding.tables.comparison_rows (sign flips across subjects)."""
    input:
        unpack(table1_inputs),
    output:
        csv=report(paths.path("table1"), caption="../report/encoding_table1.rst", category="Soulos & Isik 2020", subcategory="Table 1"),
        md=report(paths.path("table1_md"), caption="../report/encoding_table1.rst", category="Soulos & Isik 2020", subcategory="Table 1"),
    log:
        paths.log("encoding_table1"),
    benchmark:
        paths.benchmark("encoding_table1")
    params:
        subjects=pair_subjects(),
        models=pair_models(),
        spaces=pair_spaces(),
        comparison_subjects=comparison_subjects(),
        comparison_spaces=comparison_spaces(),
        seed=config["seed"],
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
        cpu_threads=job_threads,
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/encoding_table1.py"


rule encoding_decoding_table:
    """Decoding (VanRullen & Reddy 2019). Cells: facebrain.encoding.decoding.decode_subject (pairwise accuracy, p, gender accuracy per subject x model in rule encoding_decoding; "a - b" rows are differences)."""
    input:
        decoding_inputs,
    output:
        report(paths.path("decoding_table"), caption="../report/encoding_decoding.rst", category="VanRullen & Reddy 2019", subcategory="Decoding"),
    log:
        paths.log("encoding_decoding_table"),
    benchmark:
        paths.benchmark("encoding_decoding_table")
    params:
        subjects=pair_subjects(),
        models=pair_models(),
        spaces=pair_spaces(),
        comparisons=encoding_config()["decoding"]["comparisons"],
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
        cpu_threads=job_threads,
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/encoding_decoding_table.py"


rule encoding_beta_overlap:
    """Overlap of the beta maps of labelled dimensions. Cells: facebrain.encoding.tables.beta_overlap (Dice of the top voxels of each pair, chance and p from facebrain.encoding.overlap.overlap_test)."""
    input:
        unpack(beta_overlap_inputs),
    output:
        report(paths.path("beta_overlap_table"), caption="../report/encoding_beta_overlap.rst", category="Soulos & Isik 2020", subcategory="Beta maps"),
    log:
        paths.log("encoding_beta_overlap"),
    benchmark:
        paths.benchmark("encoding_beta_overlap")
    params:
        subjects=pair_subjects(),
        models=pair_models(),
        spaces=pair_spaces(),
        beta_maps=encoding_config()["beta_maps"],
        reliability_threshold=encoding_config()["localizer"]["reliability_threshold"],
        seed=config["seed"],
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
        cpu_threads=job_threads,
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/encoding_beta_overlap.py"


rule encoding_volume_figures:
    input:
        rho=paths.path("rho", space=VOLUME_LABEL),
        brain_mask=paths.path("brain_mask", space=VOLUME_LABEL),
        summary=paths.path("encoding_summary", space=VOLUME_LABEL),
        betas=paths.path("betas", space=VOLUME_LABEL),
        zmaps=paths.path("zmaps", space=VOLUME_LABEL),
        mask=paths.path("face_selective", space=VOLUME_LABEL),
        labels=encoding_labels_input,
    output:
        rho=report(paths.path("rho_figure"), caption="../report/encoding_rho_map.rst", category="Soulos & Isik 2020", subcategory=paths.bids(subject="{subject}")),
        betas=report(paths.path("betas_figure"), caption="../report/encoding_beta_maps.rst", category="Soulos & Isik 2020", subcategory=paths.bids(subject="{subject}")),
    log:
        paths.log("encoding_volume_figures", "subject", "model"),
    benchmark:
        paths.benchmark("encoding_volume_figures", "subject", "model")
    params:
        min_abs_corr=encoding_config()["beta_maps"]["min_abs_corr"],
        fdr_alpha=encoding_config()["fdr_alpha"],
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
        cpu_threads=job_threads,
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/encoding_volume_figures.py"


rule encoding_surface_figures:
    input:
        rho=paths.map_files("rho", True, space=SURFACE_LABEL),
        face_selective=paths.map_files("face_selective", True, space=SURFACE_LABEL),
        summary=paths.path("encoding_summary", space=SURFACE_LABEL),
        betas=paths.map_files("betas", True, space=SURFACE_LABEL),
        labels=encoding_labels_input,
    output:
        rho=report(paths.path("surface_rho_figure", space=SURFACE_LABEL), caption="../report/encoding_surface_rho.rst", category="Soulos & Isik 2020", subcategory=paths.bids(subject="{subject}")),
        betas=report(paths.path("surface_betas_figure", space=SURFACE_LABEL), caption="../report/encoding_surface_betas.rst", category="Soulos & Isik 2020", subcategory=paths.bids(subject="{subject}")),
        view=report(paths.path("surface_view", space=SURFACE_LABEL), caption="../report/encoding_surface_view.rst", category="Soulos & Isik 2020", subcategory=paths.bids(subject="{subject}")),
    log:
        paths.log("encoding_surface_figures", "subject", "model"),
    benchmark:
        paths.benchmark("encoding_surface_figures", "subject", "model")
    params:
        min_abs_corr=encoding_config()["beta_maps"]["min_abs_corr"],
    threads: 1
    resources:
        mem_mb=2000,
        runtime=15,
        cpu_threads=job_threads,
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/encoding_surface_figures.py"


rule encoding_surface_betas_group:
    input:
        unpack(surface_group_inputs),
    output:
        report(paths.path("surface_betas_group_figure", space=SURFACE_LABEL), caption="../report/encoding_surface_betas_group.rst", category="Soulos & Isik 2020", subcategory="Beta maps"),
    log:
        paths.log("encoding_surface_betas_group", "model"),
    benchmark:
        paths.benchmark("encoding_surface_betas_group", "model")
    params:
        subjects=fmri_subjects(),
        min_abs_corr=encoding_config()["beta_maps"]["min_abs_corr"],
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
        cpu_threads=job_threads,
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/encoding_surface_betas_group.py"


rule encoding_reconstructions_figure:
    input:
        fmri=fmri_subject_input,
        model=encoding_model_input,
        decoded=paths.path("decoding", space=primary_space_label()),
        latents=paths.path("stimulus_latents"),
    output:
        report(paths.path("reconstructions_figure"), caption="../report/encoding_reconstructions.rst", category="VanRullen & Reddy 2019", subcategory=paths.bids(subject="{subject}")),
    log:
        paths.log("encoding_reconstructions_figure", "subject", "model"),
    benchmark:
        paths.benchmark("encoding_reconstructions_figure", "subject", "model")
    params:
        root=fmri_root(),
        device=config["device"],
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
        gpu=gpu_resources(),
        cpu_threads=job_threads,
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/encoding_reconstructions_figure.py"


rule encoding_group_figures:
    input:
        table1=paths.path("table1"),
        decoding=paths.path("decoding_table"),
    output:
        rho=report(paths.path("rho_group_figure"), caption="../report/encoding_group.rst", category="Soulos & Isik 2020", subcategory="Group"),
        decoding=report(paths.path("decoding_group_figure"), caption="../report/encoding_group.rst", category="VanRullen & Reddy 2019", subcategory="Group"),
        ceiling=report(paths.path("ceiling_figure"), caption="../report/encoding_ceiling.rst", category="Soulos & Isik 2020", subcategory="Group"),
    log:
        paths.log("encoding_group_figures"),
    benchmark:
        paths.benchmark("encoding_group_figures")
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
        cpu_threads=job_threads,
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/encoding_group_figures.py"


register_final_targets("encoding", encoding_final_targets())
