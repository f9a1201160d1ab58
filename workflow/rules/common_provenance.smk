# Helper functions of the provenance stage (paths, targets, config look-ups).
