# datasets stage (see README.md). Rules are added by the datasets issue.
