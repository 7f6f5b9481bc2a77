"""Batch location: commune, EPCI, département, région, groupings and the schemes in force for many points (or INSEE
codes) at once — one indexed spatial query over all the points, then joins on arrays; no Python loop over rows.

The answer for each commune of the scope is computed once (one row per commune, see :func:`commune_columns`) and
each input row takes the row of its commune; a row that cannot be placed keeps its place with the reason in
``motif``: "hors du périmètre", "coordonnées invalides" or "code inconnu".
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pyproj import Transformer

from geo.errors import Invalid
from geo.model import Model
from geo.periods import in_force_mask

OUTSIDE = "hors du périmètre"
INVALID = "coordonnées invalides"
UNKNOWN_CODE = "code inconnu"
REASON = "motif"
LIST_SEPARATOR = " ; "
#: The columns added to every row, in this order; one 0/1 column per scheme in force follows, then ``motif``.
TERRITORY_COLUMNS = ["commune_code", "commune_nom", "epci_code", "epci_nom", "departement_code", "departement_nom",
                     "region_code", "region_nom", "groupements", "dispositifs", "nb_dispositifs"]


class LocateError(Invalid):
    """Input that cannot be located as a whole (a CRS pyproj does not know, columns that clash); the message, in French
    (a request can cause it, and it describes a planner's own file), names the fix."""


@dataclass(frozen=True)
class Located:
    """The columns added to the input rows (same order, same length), the date the schemes are in force at, their ids."""

    columns: pd.DataFrame
    date: dt.date
    schemes: list[str]

    @property
    def placed(self) -> int:
        return int(self.columns["commune_code"].notna().sum())

    def reasons(self) -> dict[str, int]:
        """How many rows could not be placed, by reason."""
        unplaced = self.columns.loc[self.columns["commune_code"].isna(), REASON]
        return {str(k): int(v) for k, v in unplaced.value_counts().items()}


def commune_columns(model: Model, at: dt.date) -> tuple[pd.DataFrame, list[str]]:
    """One row per commune of the scope, in the order of ``model.scales['commune']`` (the Locator's), plus a last
    empty row for rows that cannot be placed; and the ids of the schemes in force at ``at`` (one column each).
    Built once per model and date (``model.located``)."""
    return model.located.get(at, lambda: _commune_columns(model, at))


def _commune_columns(model: Model, at: dt.date) -> tuple[pd.DataFrame, list[str]]:
    com = model.scales["commune"]
    names = {level: model.scales[level].set_index("code")["nom"].astype(object) for level in ("epci", "departement", "region")}
    out = pd.DataFrame({"commune_code": com["code"].astype(object).to_numpy(), "commune_nom": com["nom"].astype(object).to_numpy()})
    for level in ("epci", "departement", "region"):
        codes = com[level].astype(object).where(com[level].notna(), None).to_numpy()
        out[f"{level}_code"] = codes
        out[f"{level}_nom"] = pd.Series(codes, dtype=object).map(names[level]).to_numpy()

    table = model.coverage.table
    table = table[in_force_mask(table["start"], table["end"], at) & table["commune"].isin(out["commune_code"]).to_numpy()]
    table = table.drop_duplicates(["commune", "scheme"])
    meta = pd.DataFrame([(s.id, s.name, s.kind) for s in model.catalogue.schemes.values()], columns=["scheme", "name", "kind"])
    table = table[["commune", "scheme"]].merge(meta, on="scheme").sort_values(["kind", "scheme"], kind="stable")
    groupings = {g.id for g in model.catalogue.groupings}
    by_commune = table.groupby("commune", sort=False)["name"]
    grp = table[table["scheme"].isin(groupings)].groupby("commune", sort=False)["name"]
    codes = out["commune_code"]
    out["groupements"] = codes.map(grp.agg(LIST_SEPARATOR.join)).astype(object).fillna("").to_numpy()
    out["dispositifs"] = codes.map(by_commune.agg(LIST_SEPARATOR.join)).astype(object).fillna("").to_numpy()
    out["nb_dispositifs"] = codes.map(by_commune.size()).fillna(0).astype("Int16").to_numpy()

    schemes = list(dict.fromkeys(table["scheme"]))
    matrix = pd.crosstab(table["commune"], table["scheme"]).reindex(index=codes, columns=schemes, fill_value=0)
    flags = pd.DataFrame({s: pd.array(matrix[s].to_numpy() > 0, dtype="Int8") for s in schemes})
    out = pd.concat([out, flags], axis=1)
    out[REASON] = None
    empty = pd.DataFrame({c: pd.array([pd.NA], dtype=out[c].dtype) if str(out[c].dtype) in ("Int8", "Int16") else [None]
                          for c in out.columns})
    return pd.concat([out, empty], ignore_index=True), schemes


def _take(model: Model, positions: np.ndarray, reasons: np.ndarray, at: dt.date | None) -> Located:
    """The rows of the commune table at ``positions`` (-1: not placed), with ``reasons`` where not placed."""
    day = at or dt.date.today()
    table, schemes = commune_columns(model, day)
    taken = table.take(np.where(positions >= 0, positions, len(table) - 1)).reset_index(drop=True)
    taken[REASON] = pd.Series(np.where(pd.isna(reasons), None, reasons), dtype=object)
    return Located(taken, day, schemes)


def valid_coordinates(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Finite longitudes in [-180, 180] and latitudes in [-90, 90]."""
    with np.errstate(invalid="ignore"):
        return np.isfinite(lon) & np.isfinite(lat) & (np.abs(lon) <= 180) & (np.abs(lat) <= 90)


def to_wgs84(crs: int) -> Transformer:
    """The transformation from EPSG:``crs`` to WGS 84 (x, y → lon, lat); LocateError for a code pyproj does not know."""
    try:
        return Transformer.from_crs(crs, 4326, always_xy=True)
    except Exception:  # pyproj raises CRSError for an unknown code
        raise LocateError(f"EPSG:{crs} n'est pas un système de coordonnées connu. Correction : 4326 (lon/lat) ou 2154 "
                          "(x/y en Lambert-93).") from None


def to_lonlat(x: np.ndarray, y: np.ndarray, crs: int) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates in EPSG:``crs`` as WGS 84 longitude, latitude (pyproj, on whole arrays)."""
    lon, lat = to_wgs84(crs).transform(x, y, errcheck=False)
    return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)


def locate_points(model: Model, lon: np.ndarray, lat: np.ndarray, at: dt.date | None = None) -> Located:
    """The territories and schemes in force at ``at`` (default today) for each point (WGS 84)."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    valid = valid_coordinates(lon, lat)
    positions = np.full(len(lon), -1, dtype=np.int64)
    positions[valid] = model.locator.locate(lon[valid], lat[valid])
    reasons = np.where(~valid, INVALID, np.where(positions < 0, OUTSIDE, None))
    return _take(model, positions, reasons, at)


def normalise_codes(codes: pd.Series) -> pd.Series:
    """Codes as text, trimmed, upper-case (2a004 → 2A004); a 4-digit code lost its leading zero in a spreadsheet: 1001 → 01001."""
    text = codes.astype("string").fillna("").str.strip().str.upper()
    return text.where(~text.str.fullmatch(r"\d{4}"), "0" + text).astype(object)


def locate_codes(model: Model, codes: pd.Series, at: dt.date | None = None) -> Located:
    """The same columns for INSEE commune codes; a code merged since is placed on its 2026 commune, and ``motif`` says so."""
    codes = normalise_codes(pd.Series(codes).reset_index(drop=True))
    index = pd.Index(model.scales["commune"]["code"].astype(object))
    positions = index.get_indexer(codes)
    cog = model.territories.cog
    successor = codes.map(cog.links.set_index("code")["parent"])
    rekeyed = (positions < 0) & successor.notna().to_numpy()
    positions = np.where(rekeyed, index.get_indexer(successor.fillna("")), positions)
    known = codes.isin(cog.commune_codes).to_numpy() | successor.isin(cog.commune_codes).to_numpy()
    note = "ancien code " + codes + ", fusionné dans " + successor.fillna("")
    reasons = np.where(positions >= 0, np.where(rekeyed, note, None), np.where(known, OUTSIDE, UNKNOWN_CODE))
    return _take(model, positions, reasons, at)
