# Provenance stage: the job environment record and results/provenance.json,
# which collects the provenance attributes of every HDF5/NIfTI output.


rule environment:
    output:
        report(ENVIRONMENT_JSON, caption="../report/environment.rst", category="Provenance", subcategory="Job environment"),
    log:
        log_path("environment"),
    benchmark:
        benchmark_path("environment")
    params:
        device=config["device"],
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
        gpu=gpu_resources(),
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/environment.py"


rule collect_provenance:
    input:
        provenance_sources,
    output:
        report(PROVENANCE_JSON, caption="../report/provenance.rst", category="Provenance", subcategory="Output records"),
    log:
        log_path("collect_provenance"),
    benchmark:
        benchmark_path("collect_provenance")
    threads: 1
    resources:
        mem_mb=1000,
        runtime=30,
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/collect_provenance.py"


register_final_targets("provenance", [PROVENANCE_JSON])
