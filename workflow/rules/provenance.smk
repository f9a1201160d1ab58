# Provenance stage: the job environment record and results/provenance.json,
# which collects the provenance attributes of every HDF5/NIfTI output.


rule environment:
    output:
        report(paths.path("environment"), caption="../report/environment.rst", category="Provenance", subcategory="Job environment"),
    log:
        paths.log("environment"),
    benchmark:
        paths.benchmark("environment")
    params:
        device=config["device"],
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
        gpu=gpu_resources(),
        cpu_threads=job_threads,
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/environment.py"


rule collect_provenance:
    input:
        provenance_sources,
    output:
        report(paths.path("provenance"), caption="../report/provenance.rst", category="Provenance", subcategory="Output records"),
    log:
        paths.log("collect_provenance"),
    benchmark:
        paths.benchmark("collect_provenance")
    threads: 1
    resources:
        mem_mb=1000,
        runtime=30,
        cpu_threads=job_threads,
    conda:
        "../../envs/facebrain.yaml"
    script:
        "../scripts/collect_provenance.py"


register_final_targets("provenance", [paths.path("provenance")])
