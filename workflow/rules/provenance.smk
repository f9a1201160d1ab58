# provenance stage (see README.md). Rules are added by the provenance issue.
