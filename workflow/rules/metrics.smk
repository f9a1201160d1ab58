# metrics stage (see README.md). Rules are added by the metrics issue.
