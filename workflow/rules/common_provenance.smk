# Helper functions of the provenance stage (paths, targets, config look-ups).

PROVENANCE_JSON = "results/provenance.json"
ENVIRONMENT_JSON = "results/provenance/environment.json"


def provenance_sources(wildcards):
    """Inputs of `collect_provenance`: every other stage's final targets, plus the
    job environment record. Every HDF5/NIfTI output sits upstream of a final
    target, so once these exist all of them do."""
    others = [path for stage, paths in FINAL_TARGETS.items() if stage != "provenance" for path in paths]
    return [ENVIRONMENT_JSON, *others]
