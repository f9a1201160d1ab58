# models stage (see README.md). Rules are added by the models issue.
