"""What changed between two dates: per commune, the schemes gained and the schemes lost.

A scheme in force at the second date and not at the first is gained, the reverse lost — unless another generation
of the same programme (linked by ``succeeds``, geo/catalogue.py ``families``) is in force on the other side: then the
scheme was *replaced* (ACV 2018 → ACV 2023-2026, QPV 2015 → QPV 2024), listed apart, neither a gain nor a loss. A
network's new club is a gain (a club is not a generation). Each commune falls in one class: gained, lost, both,
unchanged. Boundaries are the 2026 ones at both dates.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from geo.coverage import Coverage
from geo.mapspec import CHANGE_LABELS
from geo.periods import check_interval
from geo.territory import Territory

#: The classes of a commune, in the order of legends and tables.
CLASSES = ("gained", "lost", "both", "unchanged")


@dataclass(frozen=True)
class Changes:
    """What changed in the communes of a territory (or the whole scope) from ``start`` to ``end``."""

    start: dt.date
    end: dt.date
    within: Territory | None
    #: One row per commune: code, nom, population, status (a class), gained and lost (tuples of scheme ids), replaced
    #: (a tuple of (earlier ids, later ids) per programme), before and after (the programmes in force at each date).
    table: pd.DataFrame

    def summary(self) -> dict[str, dict[str, int]]:
        """Per class, the number of communes and their population."""
        groups = self.table.groupby("status")["population"].agg(["size", "sum"])
        return {c: {"communes": int(groups.loc[c, "size"]) if c in groups.index else 0,
                    "population": int(groups.loc[c, "sum"]) if c in groups.index else 0} for c in CLASSES}

    def codes(self, status: str) -> list[str]:
        """The communes of one class."""
        return self.table.loc[self.table["status"] == status, "code"].tolist()


def _pairs(coverage: Coverage, base: pd.Index) -> pd.DataFrame:
    """The distinct (commune, scheme) rows of a coverage inside the communes ``base``."""
    table = coverage.table[["commune", "scheme"]]
    return table[table["commune"].isin(base)].drop_duplicates(ignore_index=True)


def _lists(rows: pd.DataFrame, base: pd.Index) -> pd.Series:
    """Per commune of ``base``, the sorted tuple of the schemes in ``rows`` (empty where none)."""
    grouped = rows.groupby("commune")["scheme"].agg(lambda s: tuple(sorted(s)))
    return grouped.reindex(base).apply(lambda v: v if isinstance(v, tuple) else ())


def _replaced(lost: pd.DataFrame, gained: pd.DataFrame, base: pd.Index) -> pd.Series:
    """Per commune of ``base``, each programme's earlier generations and the later ones that replaced them."""
    rows = pd.concat([lost.assign(side=0), gained.assign(side=1)])
    pairs: dict[str, list] = {}
    for (commune, _), group in rows.sort_values(["family", "side", "scheme"]).groupby(["commune", "family"], sort=True):
        earlier = tuple(group.loc[group["side"] == 0, "scheme"])
        pairs.setdefault(commune, []).append((earlier, tuple(group.loc[group["side"] == 1, "scheme"])))
    return pd.Series([tuple(pairs.get(c, ())) for c in base], index=base, dtype=object)


def changes(coverage: Coverage, start: dt.date, end: dt.date, within: Territory | None = None) -> Changes:
    """Per commune (of ``within``, or the whole scope), the schemes gained and lost from ``start`` to ``end`` and the
    generations replaced by later ones; :class:`geo.periods.BadDate` if ``start`` is after ``end``."""
    check_interval(start, end)
    communes = coverage.scales["commune"]
    base = pd.Index(within.communes if within else communes["code"], name="commune")
    family = coverage.catalogue.families(clubs_apart=True)  # generations only: a club is not a replacement
    before, after = _pairs(coverage.on(start), base), _pairs(coverage.on(end), base)
    both = before.merge(after, on=["commune", "scheme"], how="outer", indicator=True)
    both["family"] = both["scheme"].map(family)
    keys = pd.MultiIndex.from_frame(both[["commune", "family"]])
    fam_before = pd.MultiIndex.from_frame(both.loc[both["_merge"] != "right_only", ["commune", "family"]])
    fam_after = pd.MultiIndex.from_frame(both.loc[both["_merge"] != "left_only", ["commune", "family"]])
    lost = (both["_merge"] == "left_only").to_numpy()
    gained = (both["_merge"] == "right_only").to_numpy()
    kept_after = keys.isin(fam_after)  # the family is still there at the end date
    kept_before = keys.isin(fam_before)
    info = communes.set_index("code").reindex(base)
    table = pd.DataFrame({"code": base, "nom": info["nom"].to_numpy(), "population": info["population"].to_numpy()})
    table["gained"] = _lists(both[gained & ~kept_before], base).to_numpy()
    table["lost"] = _lists(both[lost & ~kept_after], base).to_numpy()
    table["replaced"] = _replaced(both[lost & kept_after], both[gained & kept_before], base).to_numpy()
    table["before"] = _family_counts(before, family, base)
    table["after"] = _family_counts(after, family, base)
    has_gain, has_loss = table["gained"].str.len() > 0, table["lost"].str.len() > 0
    table["status"] = "unchanged"
    table.loc[has_gain & ~has_loss, "status"] = "gained"
    table.loc[has_loss & ~has_gain, "status"] = "lost"
    table.loc[has_gain & has_loss, "status"] = "both"
    return Changes(start, end, within, table)


def _family_counts(rows: pd.DataFrame, family: dict[str, str], base: pd.Index) -> pd.Series:
    """Per commune of ``base``, the number of programmes (a programme's generations as one) in ``rows``."""
    counted = rows.assign(family=rows["scheme"].map(family)).drop_duplicates(["commune", "family"])
    return counted.groupby("commune").size().reindex(base, fill_value=0).to_numpy()


def rows(result: Changes, names: dict[str, str]) -> pd.DataFrame:
    """The table a person reads (and the CSV): French headers, scheme names rather than ids, one row per commune,
    changed communes first."""
    def listed(ids: tuple[str, ...]) -> str:
        return " ; ".join(names.get(i, i) for i in ids)

    table = result.table
    order = table["status"].map({c: i for i, c in enumerate(CLASSES)})
    table = table.assign(_order=order).sort_values(["_order", "code"], kind="stable")
    return pd.DataFrame({
        "code": table["code"].to_numpy(),
        "commune": table["nom"].to_numpy(),
        "changement": table["status"].map(CHANGE_LABELS).to_numpy(),
        "gagnés": [listed(v) for v in table["gained"]],
        "perdus": [listed(v) for v in table["lost"]],
        "remplacés (génération suivante)": [" ; ".join(f"{listed(a)} → {listed(b)}" for a, b in v) for v in table["replaced"]],
        f"dispositifs au {result.start.isoformat()}": table["before"].to_numpy(),
        f"dispositifs au {result.end.isoformat()}": table["after"].to_numpy(),
        "population": table["population"].to_numpy(),
    })
