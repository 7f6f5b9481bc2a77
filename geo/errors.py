"""Errors that name what went wrong, where, and how to fix it."""
from __future__ import annotations

from dataclasses import dataclass


class TerritoiresError(Exception):
    """Base class: every error the core raises on bad input or missing data."""


class SourceError(TerritoiresError):
    """A dataset is missing, unreachable, corrupt or unreadable."""


@dataclass(frozen=True)
class Problem:
    """One problem found in an input file: where it is, what it is, and the fix."""

    file: str
    row: int | None
    message: str
    fix: str = ""
    code: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}" + (f", row {self.row}" if self.row is not None else "")
        text = f"{where}: {self.message}"
        return text + (f" — fix: {self.fix}" if self.fix else "")


class InputError(TerritoiresError):
    """One or more problems in an input file; nothing was loaded from it."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class CacheError(TerritoiresError):
    """The build cache cannot be written or read (full disk, read-only, a directory in place of a file), or was altered."""

    def __init__(self, problem: Problem):
        self.problem = problem
        super().__init__(str(problem))
