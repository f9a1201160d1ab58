# Helper functions of the metrics stage (paths, targets, config look-ups).
