# Helper functions of the encoding stage (paths, targets, config look-ups).
