# Helper functions of the fmri stage (paths, targets, config look-ups).
