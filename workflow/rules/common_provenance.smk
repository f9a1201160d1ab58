# provenance stage: the inputs of the provenance record (paths come from facebrain.paths).


def provenance_sources(wildcards):
    """Inputs of `collect_provenance`: every other stage's final targets, plus the
    job environment record. Every HDF5/NIfTI output sits upstream of a final
    target, so once these exist all of them do."""
    others = [target for stage, targets in FINAL_TARGETS.items() if stage != "provenance" for target in targets]
    return [paths.path("environment"), *others]
