"""Errors that name what went wrong, where, and how to fix it.

Every error carries the HTTP status it is answered with (``status``); the service maps them all in one handler
(service/errors.py). Errors a request can cause (an unknown territory, scheme or layer; a parameter that cannot be
honoured) have French messages, since a person reads them on a page; errors about input files stay in the CLI's
language.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar


class TerritoiresError(Exception):
    """Base class: every error the core raises on bad input or missing data."""

    status: ClassVar[int] = 500


class SourceError(TerritoiresError):
    """A dataset is missing, unreachable, corrupt or unreadable."""

    status = 503


class NotFound(TerritoiresError):
    """Something a request names does not exist (a territory, a scheme, a layer, a feature); the message names it."""

    status = 404


class Invalid(TerritoiresError, ValueError):
    """A parameter that cannot be honoured (a format, a CRS, a size…); the message names the accepted values."""

    status = 422


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

    status = 503

    def __init__(self, problem: Problem):
        self.problem = problem
        super().__init__(str(problem))
