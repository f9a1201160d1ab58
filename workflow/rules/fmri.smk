# fmri stage (see README.md). Rules are added by the fmri issue.
