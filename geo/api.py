"""The Python API, for notebooks and scripts: load the model once, then ask it questions that answer in DataFrames.

    from geo import api
    t = api.load()                       # TERRITOIRES_MIRROR, or the download cache; Occitanie unless scope="france"
    t.lookup(1.4442, 43.6047)            # the stack at a point (dict, as `territoires lookup --json`)
    t.locate(sites, date="2024-06-01")   # sites (DataFrame: lon/lat, x/y with crs=, or code) + territories and schemes
    t.coverage("31555", date=…)          # one row per (commune, scheme, path) inside a territory, in force on a date
    t.schemes()                          # every scheme: kind, period, members, what it covers in scope
    t.export("epci", "epci.gpkg")        # any export layer, the format from the file's suffix

A facade over :class:`geo.model.Model` (``t.model``) and the modules that do the work; nothing here is web code.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geo.config import Settings
from geo.exports import FORMATS, ExportError, build_layer, check_crs, write
from geo.model import Model, load_model
from geo.periods import in_force_mask
from geo.pointfiles import from_frame, from_geoframe, joined, locate_table

DateLike = dt.date | str | None


def _date(value: DateLike) -> dt.date | None:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


@dataclass(frozen=True)
class Territoires:
    """A loaded data version and the questions it answers."""

    model: Model

    def lookup(self, lon: float, lat: float) -> dict:
        """Commune, EPCI, département, région, groupings and every covering scheme at a point (WGS 84)."""
        return self.model.lookup(lon, lat)

    def locate(self, rows: pd.DataFrame, date: DateLike = None, crs: int = 4326) -> pd.DataFrame:
        """``rows`` in their order with commune, EPCI, département, région, groupings and the schemes in force on
        ``date`` (default today) added; placed by a GeoDataFrame's points, else lon/lat (x/y if ``crs`` is projected),
        else a ``code`` column. A row that cannot be placed says why in ``motif``. A GeoDataFrame stays one."""
        table = from_geoframe(rows, "rows") if isinstance(rows, gpd.GeoDataFrame) else from_frame(rows, crs, "rows")
        frame = joined(table, locate_table(self.model, table, _date(date)))
        if table.geometry is None:
            return frame
        return gpd.GeoDataFrame(frame, geometry=rows.geometry.reset_index(drop=True).values, crs=rows.crs)

    def coverage(self, territory: str, date: DateLike = None) -> pd.DataFrame:
        """Schemes covering the communes of a territory (a commune, EPCI, département, région code or a grouping id):
        one row per commune, scheme and path (via_level, via_code: the commune itself, a quartier, an EPCI; via_grouping,
        via_network: the grouping or network it stands for), in force on ``date`` when given."""
        communes = self.model.territory(territory).communes
        table = self.model.coverage.table
        table = table[table["commune"].isin(communes)]
        if date is not None:
            table = table[in_force_mask(table["start"], table["end"], _date(date))]
        names = self.model.scales["commune"].set_index("code")["nom"]
        schemes = self.model.catalogue.schemes
        out = table.assign(commune_nom=table["commune"].map(names), name=table["scheme"].map(lambda i: schemes[i].name),
                           kind=table["scheme"].map(lambda i: schemes[i].kind))
        columns = ["commune", "commune_nom", "scheme", "name", "kind", *[c for c in table.columns if c not in ("commune", "scheme")]]
        return out[columns].sort_values(["commune", "kind", "scheme", "via_level", "via_code"], ignore_index=True)

    def schemes(self) -> pd.DataFrame:
        """Every scheme: id, name, kind, member scale, period, number of members, and the communes, population and
        area it covers in scope."""
        rows = [{"id": s.id, "name": s.name, "kind": s.kind, "member_scale": s.member_scale, "start": s.start, "end": s.end,
                 "members": len(s.members), **self.model.coverage.summary(s.id)} for s in self.model.catalogue.schemes.values()]
        return pd.DataFrame(rows)

    def export(self, layer: str, path: str | Path, within: str | None = None, crs: int = 4326) -> Path:
        """Write an export layer (``territoires export --list``) to ``path``, in the format its suffix names
        (.gpkg, .geojson, .fgb, .shp.zip, .csv, .parquet; a .qgz project writes its GeoPackage beside it); ``within``
        restricts it to a territory. Returns the path."""
        target = Path(path)
        fmt = next((f for f in sorted(FORMATS, key=len, reverse=True) if target.name.endswith(f".{f}")), None)
        if fmt is None:
            raise ExportError(f"{target.name} : aucun format d'export pour ce suffixe. Formats : {', '.join('.' + f for f in FORMATS)}.")
        write([build_layer(self.model, layer, self.model.territory(within) if within else None)], fmt, target, check_crs(crs),
              companion=True)
        return target


def load(mirror: str | Path | None = None, scope: str | None = None, cache: str | Path | None = None) -> Territoires:
    """Load (or build) the model: from ``mirror`` (else TERRITOIRES_MIRROR, else downloads into the cache), for
    ``scope`` "occitanie" (default, else TERRITOIRES_SCOPE) or "france"."""
    return Territoires(load_model(Settings.from_env(mirror=mirror, scope=scope, cache=cache)))
