"""Membership periods: which date applies to a membership, where it comes from, and whether it is in force.

The rule, written once: a membership starts (ends) on the member's own date when a source gives one
(a convention's signature date), else on its scheme's period (the programme or the generation), else it is
"non daté" and unbounded on that side. So an undated member counts as in force over its scheme's period,
and a date is never invented.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum


class Basis(StrEnum):
    """Where the date bounding a membership on one side comes from."""

    MEMBER = "membre"  # the member's own date, e.g. a signature date in the source
    SCHEME = "dispositif"  # the period of the scheme (of its generation, for a programme generation)
    UNDATED = "non daté"  # no source gives it: unbounded on that side


@dataclass(frozen=True)
class Period:
    """A membership's period: each bound with the basis it rests on."""

    start: dt.date | None
    end: dt.date | None
    start_basis: Basis
    end_basis: Basis

    @property
    def dated(self) -> bool:
        """True when both bounds rest on a source (the member's or the scheme's)."""
        return Basis.UNDATED not in (self.start_basis, self.end_basis)


def _bound(own: dt.date | None, scheme: dt.date | None) -> tuple[dt.date | None, Basis]:
    if own is not None:
        return own, Basis.MEMBER
    if scheme is not None:
        return scheme, Basis.SCHEME
    return None, Basis.UNDATED


def membership_period(member_start: dt.date | None, member_end: dt.date | None,
                      scheme_start: dt.date | None, scheme_end: dt.date | None) -> Period:
    """The period of one membership: the member's own dates first, then its scheme's, else non daté."""
    start, start_basis = _bound(member_start, scheme_start)
    end, end_basis = _bound(member_end, scheme_end)
    return Period(start, end, start_basis, end_basis)


def in_force(start: dt.date | None, end: dt.date | None, at: dt.date) -> bool:
    """Whether a period holds the date ``at`` (both bounds included; a missing bound is open)."""
    return (start is None or start <= at) and (end is None or at <= end)


#: The French month names, January first: dates are written with them ("1er janvier 2024") and read back.
MONTH_NAMES = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre",
               "décembre")
#: Month numbers by their name as a text normalised to ASCII reads it ("fevrier", "aout").
MONTHS = {unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode(): i for i, name in enumerate(MONTH_NAMES, 1)}
_FRENCH_DATE = re.compile(r"\b(\d{1,2})(?:er)?\s+([a-z]+)\s+(\d{4})\b")


def french_date(value: dt.date) -> str:
    """A date as a French reader writes it: "1er janvier 2024", "31 décembre 2027"."""
    day = "1er" if value.day == 1 else str(value.day)
    return f"{day} {MONTH_NAMES[value.month - 1]} {value.year}"


def parse_french_date(text: str | None) -> dt.date | None:
    """A date written in French words ("13 juillet 2018", "1er septembre 2018") inside a text, or None.

    A date without its year ("5 juillet") or an impossible one is not a date: None, never a guess.
    """
    if not text:
        return None
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    match = _FRENCH_DATE.search(plain)
    if not match or match.group(2) not in MONTHS:
        return None
    try:
        return dt.date(int(match.group(3)), MONTHS[match.group(2)], int(match.group(1)))
    except ValueError:
        return None
