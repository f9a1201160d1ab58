"""Exceptions raised on bad input."""

from __future__ import annotations

from pathlib import Path


class DataError(ValueError):
    """A file is missing, corrupt or not in the expected format.

    The message always names the file and the problem, e.g.
    ``resources/synthfaces/list_attr_celeba.txt: line 5 has 39 values, expected 40``.
    """

    def __init__(self, path: str | Path, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")

    def __reduce__(self):
        # Rebuild from (path, problem) so the error survives a process pool.
        return (type(self), (self.path, self.problem))


class OfflineError(RuntimeError):
    """A download could not reach its host; the message says what to place where by hand."""
