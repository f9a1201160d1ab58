# Helper functions of the datasets stage (paths, targets, config look-ups).
