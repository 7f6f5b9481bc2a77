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

import numpy as np
import pandas as pd

from geo.errors import Invalid


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


def in_force_mask(start: pd.Series, end: pd.Series, at: dt.date) -> np.ndarray:
    """:func:`in_force` over whole columns of periods (dates, None or NaT), for tables of memberships."""
    day = pd.Timestamp(at)
    first, last = pd.to_datetime(start), pd.to_datetime(end)
    return ((first.isna() | (first <= day)) & (last.isna() | (last >= day))).to_numpy()


#: The dates a request may ask about (a situation before 1990 or after 2100 is a typing error, not a question).
EARLIEST, LATEST = dt.date(1990, 1, 1), dt.date(2100, 12, 31)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class BadDate(Invalid):
    """A date that cannot be asked about: not YYYY-MM-DD, impossible, or outside 1990-2100. The message is French
    (a person reads it on a page); ``english`` is the command line's."""

    def __init__(self, french: str, english: str):
        super().__init__(french)
        self.english = english


def parse_date(text: str | None, name: str = "date", today: dt.date | None = None) -> dt.date:
    """The date a request or a command asks about: ``text`` as YYYY-MM-DD between 1990 and 2100, today when absent
    or empty; :class:`BadDate` naming the parameter ``name`` otherwise."""
    if text is None or not text.strip():
        return today or dt.date.today()
    value = text.strip()
    try:
        if not _ISO_DATE.fullmatch(value):
            raise ValueError(value)
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise BadDate(f"Requête invalide : le paramètre « {name} » vaut « {value} », qui n'est pas une date : écrivez "
                      f"AAAA-MM-JJ, par exemple {name}=2024-01-01.",
                      f"{name} {value!r} is not a date. Fix: write it as YYYY-MM-DD, e.g. 2024-01-01.") from None
    if not EARLIEST <= day <= LATEST:
        raise BadDate(f"Requête invalide : le paramètre « {name} » vaut {french_date(day)}, hors de la plage servie : donnez une "
                      f"date du {french_date(EARLIEST)} au {french_date(LATEST)}.",
                      f"{name} {value} is outside {EARLIEST.year}-{LATEST.year}. Fix: give a date between "
                      f"{EARLIEST.isoformat()} and {LATEST.isoformat()}.")
    return day


def check_interval(start: dt.date, end: dt.date, names: tuple[str, str] = ("from", "to")) -> None:
    """:class:`BadDate` when the interval ``start`` – ``end`` runs backwards."""
    if start > end:
        raise BadDate(f"Requête invalide : la date de début ({names[0]}, {french_date(start)}) est après la date de fin "
                      f"({names[1]}, {french_date(end)}) : échangez-les.",
                      f"--{names[0]} {start.isoformat()} is after --{names[1]} {end.isoformat()}. Fix: swap them.")


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


_NUMERIC_FRENCH = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{2,4})")
_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


def parse_sheet_date(text: str) -> dt.date:
    """A date as planners write it in a spreadsheet: French ``15/03/2022`` (or ``15.03.2022``, ``15-03-2022``) or ISO
    ``2022-03-15``; ValueError with the reason, in French, otherwise (a two-digit year or an impossible day is never
    guessed)."""
    value = text.strip()
    if match := _ISO.fullmatch(value):
        year, month, day = (int(g) for g in match.groups())
    elif match := _NUMERIC_FRENCH.fullmatch(value):
        day, month, year = (int(g) for g in match.groups())
        if len(match.group(3)) != 4:
            raise ValueError(f"l'année de « {value} » n'a pas quatre chiffres")
    else:
        raise ValueError(f"« {value} » n'est pas une date")
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise ValueError(f"« {value} » n'existe pas dans le calendrier") from None


class Status(StrEnum):
    """Where a membership stands at a date."""

    IN_FORCE = "en vigueur"
    ENDED = "terminé"
    NOT_STARTED = "à venir"


def status_at(start: dt.date | None, end: dt.date | None, at: dt.date) -> Status:
    """Whether a period is in force at ``at``, ended before it, or starts after it."""
    if end is not None and end < at:
        return Status.ENDED
    if start is not None and start > at:
        return Status.NOT_STARTED
    return Status.IN_FORCE


def status_text(start: dt.date | None, end: dt.date | None, at: dt.date) -> str:
    """How a table marks a membership at ``at``: 'terminé le 31 décembre 2020', 'à partir du 1er janvier 2024',
    'non daté' (no date on either side: counted as in force) or 'en vigueur'."""
    status = status_at(start, end, at)
    if status is Status.ENDED:
        return f"terminé le {french_date(end)}"
    if status is Status.NOT_STARTED:
        return f"à partir du {french_date(start)}"
    return "non daté" if start is None and end is None else "en vigueur"
