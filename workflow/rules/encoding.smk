# encoding stage (see README.md). Rules are added by the encoding issue.
