# Helper functions of the models stage (paths, targets, config look-ups).
