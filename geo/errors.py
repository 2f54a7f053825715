"""Errors a user sees.

Every problem with an input file is raised as :class:`InputError`, whose
message is one line naming the file and the problem. The command line prints
that line and exits with status 2; nothing half-written is left behind.
"""

from __future__ import annotations

import os


class InputError(Exception):
    """A problem with an input the user gave (a file, an option, a config).

    >>> str(InputError("parks.csv", "no 'lon'/'lat' columns"))
    "parks.csv: no 'lon'/'lat' columns"
    """

    def __init__(self, path: str | os.PathLike | None, problem: str):
        self.path = None if path is None else str(path)
        self.problem = " ".join(str(problem).split())  # always one line
        super().__init__(self.problem if self.path is None else f"{self.path}: {self.problem}")

    def __reduce__(self):  # pickles with both arguments (an error raised in a forked step, geo.background)
        return type(self), (self.path, self.problem)


class DataGapError(InputError):
    """Data the analysis needs is missing for the requested region or area."""


class WithheldDataError(InputError):
    """A data file the open-data bundle does not carry, because it may not be redistributed."""


class OutputError(InputError):
    """The output folder (``--out``) cannot take the outputs: a file in its place, read-only, or the disk is full.

    >>> str(OutputError("out", "is a file, not a folder"))
    'out: is a file, not a folder'
    """
