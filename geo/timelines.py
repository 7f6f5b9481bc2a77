"""Timelines: every scheme that ever covered a territory with its period, and a scheme's members over time.

The periods are the memberships' own (geo/periods.py: the member's dates, else its scheme's, else open and "non
daté"); nothing is drawn here (service/timeline.py draws them).
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from geo.catalogue import Catalogue
from geo.coverage import Coverage
from geo.periods import in_force_mask
from geo.territory import Territory

COLUMNS = ["scheme", "name", "kind", "generation", "family", "start", "end", "communes"]


def _bound(values: pd.Series, earliest: bool) -> dt.date | None:
    """The earliest start (latest end) of some memberships; None (open) when one of them is undated on that side."""
    known = [v for v in values if v is not None and not pd.isna(v)]
    if len(known) < len(values) or not known:
        return None
    return min(known) if earliest else max(known)


def territory_periods(coverage: Coverage, territory: Territory) -> pd.DataFrame:
    """Every scheme that covered some commune of ``territory`` at some date: its period there (the earliest start, the
    latest end of those memberships; None where one is undated on that side) and how many of its communes it covered;
    a programme's generations next to each other, each family in order of its first start."""
    catalogue: Catalogue = coverage.catalogue
    rows = coverage.table[coverage.table["commune"].isin(territory.communes)]
    family = catalogue.families(clubs_apart=True)
    out = []
    for scheme_id, part in rows.groupby("scheme", sort=False):
        s = catalogue.schemes[scheme_id]
        out.append((scheme_id, s.name, s.kind, s.generation, family[scheme_id], _bound(part["start"], True),
                    _bound(part["end"], False), part["commune"].nunique()))
    table = pd.DataFrame(out, columns=COLUMNS)
    if table.empty:
        return table
    first = table.groupby("family")["start"].transform(lambda v: min((d for d in v if d is not None), default=dt.date.min))
    table["_first"], table["_start"] = first, table["start"].map(lambda d: d or dt.date.min)
    return table.sort_values(["_first", "family", "_start", "name"]).drop(columns=["_first", "_start"]).reset_index(drop=True)


def members_over_time(starts: pd.Series, ends: pd.Series, days: list[dt.date]) -> np.ndarray:
    """How many of the memberships (``starts``/``ends``, open when missing) are in force on each of ``days``."""
    return np.array([int(in_force_mask(starts, ends, day).sum()) for day in days], dtype=np.int64)
