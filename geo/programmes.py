"""Loaders turning the ANCT programme files into schemes.

Each loader reads one declared dataset and returns a :class:`Scheme` plus warnings for the rows it
could not place in the 2026 codes (a merged commune is re-keyed to the commune it merged into, and
the member's note says so; an EPCI that no longer exists is dropped and named).
"""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from geo.cog import Cog
from geo.config import Settings
from geo.frames import isin
from geo.schemes import Member, Scheme
from geo.sources import Dataset, catalogue, fetch


@dataclass(frozen=True)
class Programme:
    """How to read one programme file: its dataset, scheme metadata and member columns."""

    dataset: str
    id: str
    name: str
    member_scale: str
    codes: str  # column with member codes (';'-separated lists allowed)
    role: str | None = None  # column giving each member's role (e.g. its territory's name)
    start: str | None = None  # column giving each member's start date
    note: str | None = None  # column copied into each member's note
    period: tuple[str | None, str | None] = (None, None)
    notes: str | None = None


PROGRAMMES = (
    Programme("acv-2025", "action-coeur-de-ville", "Action Cœur de Ville", "commune", "insee_com", role="id_acv",
              notes="Communes of the programme (binômes share one id_acv, given as role). Programme period not in the source."),
    Programme("pvd-2024", "petites-villes-de-demain", "Petites villes de demain", "commune", "insee_com", role="id_pvd",
              start="date_signature", notes="Member start = the convention's signature date in the source."),
    Programme("villages-avenir-2024", "villages-d-avenir", "Villages d'avenir", "commune", "codes_membres", role="id_va"),
    Programme("qpv-communes-2024-points", "quartiers-prioritaires-2024", "Quartiers prioritaires de la politique de la ville (2024)",
              "commune", "insee_com", note="code_qp", period=("2024-01-01", None),
              notes="Communes holding at least one QPV of the 2024 generation; each member's note lists its QPV codes. "
                    "The perimeters of the QPV themselves are not in the data."),
    Programme("territoires-industrie-2024", "territoires-d-industrie", "Territoires d'industrie (2023-2027)", "epci",
              "codes_membres", role="lib_territoire", period=("2023-01-01", "2027-12-31"),
              notes="Member role = the name of its territoire d'industrie."),
    Programme("contrats-ville-2018", "contrats-de-ville-2015-2020", "Contrats de ville 2015-2020", "epci", "siren_epci_2015",
              role="id", period=("2015-01-01", "2020-12-31"),
              notes="Carrying EPCI of 2015; an EPCI that no longer exists in 2026 is dropped and listed as a warning."),
)

KIND = "programme"


def _read_table(path: Path, columns: list[str]) -> pd.DataFrame:
    """The member columns of a CSV file or of a GeoJSON file's feature properties, as text."""
    if path.suffix == ".csv":
        return pd.read_csv(path, dtype=str, keep_default_na=False, usecols=columns)
    features = json.loads(path.read_bytes())["features"]
    props = pd.DataFrame.from_records([f["properties"] for f in features], columns=columns)
    return props.astype("string").fillna("")


def load_programme(prog: Programme, cog: Cog, settings: Settings) -> tuple[Scheme, list[str]]:
    """Read one programme file into a scheme, re-keying merged communes; warnings name dropped rows."""
    ds: Dataset = catalogue()[prog.dataset]
    path = fetch(ds, settings)
    table = _read_table(path, [c for c in (prog.codes, prog.role, prog.start, prog.note) if c])
    table["_row"] = range(2, len(table) + 2)  # row 1 is the header (CSV) / first feature is row 2
    table["_code"] = table[prog.codes].str.split(";")
    long = table.explode("_code")
    long["_code"] = long["_code"].str.strip()
    long = long[long["_code"] != ""]

    warnings: list[str] = []
    if prog.member_scale == "commune":
        known = cog.communes["code"]
        parent = cog.links.set_index("code")["parent"]
        merged = ~isin(long["_code"], known) & isin(long["_code"], parent.index)
        long["_note_merge"] = ""
        long.loc[merged, "_note_merge"] = long.loc[merged, "_code"].map(lambda c: f"source code {c} merged into {parent[c]}")
        long.loc[merged, "_code"] = long.loc[merged, "_code"].map(parent)
    else:
        known = cog.epci["code"]
        long["_note_merge"] = ""
    unknown = ~isin(long["_code"], known)
    for code, row in zip(long.loc[unknown, "_code"], long.loc[unknown, "_row"]):
        warnings.append(f"{path}, row {row}: {code} is not a 2026 {prog.member_scale} code; member dropped")
    long = long[~unknown].drop_duplicates("_code")

    def col(name: str | None) -> pd.Series:
        return long[name] if name else pd.Series("", index=long.index)

    notes = (col(prog.note).str.replace(", ", ";") + " " + long["_note_merge"]).str.strip()
    members = tuple(
        Member(code=c, role=r or None, start=dt.date.fromisoformat(s) if s else None, note=n or None, line=int(i))
        for c, r, s, n, i in zip(long["_code"], col(prog.role), col(prog.start), notes, long["_row"])
    )
    start, end = (dt.date.fromisoformat(d) if d else None for d in prog.period)
    scheme = Scheme(
        id=prog.id, name=prog.name, kind=KIND, member_scale=prog.member_scale, members=members, file=str(path),
        start=start, end=end, owner=None, source={"title": ds.title, "url": ds.provenance, "publisher": "ANCT"},
        as_of=dt.date.fromisoformat(ds.as_of) if ds.as_of else None, notes=prog.notes,
    )
    return scheme, warnings


def programme_loaders() -> dict[str, Callable[[Cog, Settings], tuple[Scheme, list[str]]]]:
    """One loader per programme id."""
    return {p.id: (lambda cog, settings, p=p: load_programme(p, cog, settings)) for p in PROGRAMMES}
