"""Point tables in and out of batch location: a CSV with lon/lat (or x/y in a projected CRS, or an INSEE code)
columns, JSON records, a GeoPackage or a GeoParquet of points; written back as CSV (spreadsheet convention),
GeoPackage or GeoParquet with every input column kept and the located columns added.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from geo.locate import REASON, TERRITORY_COLUMNS, Located, LocateError, locate_codes, locate_points, to_lonlat, to_wgs84
from geo.model import Model
from geo.spreadsheet import read_csv, write_csv

#: Accepted column names (case and surrounding spaces ignored), first match wins.
LON_NAMES, LAT_NAMES = ("lon", "longitude", "lng"), ("lat", "latitude")
X_NAMES, Y_NAMES = ("x",), ("y",)
CODE_NAMES = ("code", "code_insee", "codgeo", "insee")
WGS84 = 4326
CSV_SUFFIXES, GPKG_SUFFIXES, PARQUET_SUFFIXES = (".csv", ".txt"), (".gpkg",), (".parquet", ".geoparquet")
COLUMNS_FIX = ("nommez les colonnes lon et lat (degrés WGS 84), x et y avec crs 2154 (Lambert-93), ou code (code INSEE "
               "de la commune)")


@dataclass(frozen=True)
class PointTable:
    """Input rows (every column but the geometry), and what places them: coordinates (WGS 84) or codes."""

    frame: pd.DataFrame
    lon: np.ndarray | None = None
    lat: np.ndarray | None = None
    codes: pd.Series | None = None
    geometry: gpd.GeoSeries | None = None  # the input's own geometry (GeoPackage, GeoParquet), kept for the output
    source: str = ""  # what placed the rows, e.g. "lon/lat", "x/y (EPSG:2154)", "code", "geometry"


def _column(frame: pd.DataFrame, names: tuple[str, ...]) -> str | None:
    lowered = {str(c).strip().lower(): c for c in frame.columns}
    return next((lowered[n] for n in names if n in lowered), None)


def _numbers(values: pd.Series) -> np.ndarray:
    """Numbers from text or numeric cells: a decimal comma is read as a point; anything else is NaN."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return values.to_numpy(dtype=float, na_value=np.nan)
    text = values.astype("string").str.strip().str.replace(",", ".", regex=False)
    return pd.to_numeric(text, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _no_clash(frame: pd.DataFrame, label: str, schemes: list[str] = ()) -> None:
    """LocateError if the input has a column of the name of one locate adds (a scheme id's, once they are known)."""
    clash = [c for c in frame.columns if c in (*TERRITORY_COLUMNS, *schemes, REASON)]
    if clash:
        raise LocateError(f"{label} : contient déjà les colonnes {', '.join(map(str, clash))}, que la localisation ajoute. "
                          "Correction : renommez-les ou retirez-les (d'une sortie précédente, ne gardez que vos colonnes).")


def from_frame(frame: pd.DataFrame, crs: int = WGS84, label: str = "input") -> PointTable:
    """What places the rows of a plain table: lon/lat (crs 4326), x/y (any other EPSG code), else an INSEE code column."""
    _no_clash(frame, label)
    if crs == WGS84:
        lon, lat = _column(frame, LON_NAMES), _column(frame, LAT_NAMES)
        if lon is not None and lat is not None:
            return PointTable(frame, _numbers(frame[lon]), _numbers(frame[lat]), source="lon/lat")
    else:
        to_wgs84(crs)  # an unknown CRS is an error whatever the columns
        x, y = _column(frame, X_NAMES), _column(frame, Y_NAMES)
        if x is not None and y is not None:
            lon, lat = to_lonlat(_numbers(frame[x]), _numbers(frame[y]), crs)
            return PointTable(frame, lon, lat, source=f"x/y (EPSG:{crs})")
        if _column(frame, LON_NAMES) is not None:
            raise LocateError(f"{label} : le crs {crs} se lit dans des colonnes x et y, et ce sont des colonnes lon/lat. "
                              "Correction : sans crs pour des longitudes et latitudes WGS 84, ou nommez x et y les coordonnées projetées.")
    code = _column(frame, CODE_NAMES)
    if code is not None:
        return PointTable(frame, codes=frame[code], source="code")
    columns = ", ".join(map(str, frame.columns)) or "aucune"
    raise LocateError(f"{label} : aucune colonne pour placer les lignes (colonnes : {columns}). Correction : {COLUMNS_FIX}.")


def from_csv(source: Path | bytes, crs: int = WGS84, name: str | None = None) -> PointTable:
    """A CSV (`;` or `,`, UTF-8 with or without BOM), every column kept as text."""
    label = name or str(source)
    return from_frame(read_csv(source, label), crs, label)


def from_records(records: list[dict], crs: int = WGS84) -> PointTable:
    """JSON records (objects with lon/lat, x/y or code, and any other fields)."""
    return from_frame(pd.DataFrame.from_records(records) if records else pd.DataFrame(), crs, "JSON")


def _read_geodata(path: Path, layer: str | None) -> gpd.GeoDataFrame:
    if path.suffix.lower() in PARQUET_SUFFIXES:
        return gpd.read_parquet(path)
    layers = [name for name, kind in pyogrio.list_layers(path) if kind]
    if layer is None and len(layers) != 1:
        raise LocateError(f"{path} : {len(layers)} couches ({', '.join(layers) or 'aucune'}). Correction : nommez-en une avec --layer.")
    return pyogrio.read_dataframe(path, layer=layer or layers[0])


def from_geodata(path: Path, layer: str | None = None) -> PointTable:
    """A GeoPackage layer or a GeoParquet file of points, in any CRS (reprojected to WGS 84)."""
    try:
        geo = _read_geodata(path, layer)
    except LocateError:
        raise
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, ValueError, OSError) as exc:
        kind = "GeoParquet" if path.suffix.lower() in PARQUET_SUFFIXES else "GeoPackage"
        raise LocateError(f"{path} : illisible en {kind} ({str(exc).splitlines()[0]}). Correction : vérifiez le fichier "
                          f"(ogrinfo {path.name}).") from None
    return from_geoframe(geo, str(path))


def from_geoframe(geo: gpd.GeoDataFrame, label: str = "input") -> PointTable:
    """The rows of a GeoDataFrame of points, in any CRS (reprojected to WGS 84); an empty or missing point is invalid."""
    if geo.crs is None:
        raise LocateError(f"{label} : la géométrie n'a pas de système de coordonnées. Correction : déclarez-le "
                          "(par exemple ogr2ogr -a_srs EPSG:2154).")
    kinds = set(geo.geometry.dropna().geom_type.unique()) - {"Point"}
    if kinds:
        raise LocateError(f"{label} : géométries {', '.join(sorted(kinds))}, pas des points. Correction : un point par ligne "
                          "(par exemple le centroïde : ogr2ogr -dialect sqlite -sql 'SELECT ST_Centroid(geom), * FROM couche').")
    geometry = geo.geometry.to_crs(WGS84) if geo.crs.to_epsg() != WGS84 else geo.geometry
    frame = pd.DataFrame(geo.drop(columns=geo.geometry.name))
    _no_clash(frame, label)
    values = geometry.values
    empty = shapely.is_missing(values) | shapely.is_empty(values)
    lon = np.where(empty, np.nan, shapely.get_x(values))
    lat = np.where(empty, np.nan, shapely.get_y(values))
    return PointTable(frame, lon, lat, geometry=geometry.reset_index(drop=True), source="geometry")


def read_table(path: Path, crs: int = WGS84, layer: str | None = None) -> PointTable:
    """The rows of a CSV, GeoPackage or GeoParquet file, by its suffix."""
    suffix = path.suffix.lower()
    if not path.is_file():
        raise LocateError(f"{path} : fichier introuvable. Correction : vérifiez le chemin.")
    if suffix in CSV_SUFFIXES:
        return from_csv(path, crs)
    if suffix in GPKG_SUFFIXES + PARQUET_SUFFIXES:
        return from_geodata(path, layer)
    raise LocateError(f"{path} : format d'entrée inconnu ({suffix or 'sans extension'}). Correction : un fichier .csv, .gpkg ou .parquet.")


def locate_table(model: Model, table: PointTable, at: dt.date | None = None) -> Located:
    """Locate every row of a table (by its coordinates, else its codes)."""
    if table.codes is not None:
        return locate_codes(model, table.codes, at)
    return locate_points(model, table.lon, table.lat, at)


def joined(table: PointTable, located: Located) -> pd.DataFrame:
    """The input rows in their order with the located columns after them."""
    _no_clash(table.frame, "input", located.schemes)
    return pd.concat([table.frame.reset_index(drop=True), located.columns], axis=1)


def _geometry(table: PointTable) -> gpd.GeoSeries:
    if table.geometry is not None:
        return table.geometry
    points = shapely.points(table.lon, table.lat)
    points[~(np.isfinite(table.lon) & np.isfinite(table.lat))] = None
    return gpd.GeoSeries(points, crs=WGS84)


def write_table(table: PointTable, located: Located, path: Path) -> str:
    """Write the joined rows by the output's suffix: CSV (spreadsheet convention), GeoPackage or GeoParquet; the format name."""
    suffix = path.suffix.lower()
    frame = joined(table, located)
    if suffix in CSV_SUFFIXES:
        write_csv(frame, path)
        return "csv"
    if suffix not in GPKG_SUFFIXES + PARQUET_SUFFIXES:
        raise LocateError(f"{path} : format de sortie inconnu ({suffix or 'sans extension'}). Correction : un fichier .csv, .gpkg ou .parquet.")
    if table.lon is None:
        if suffix in GPKG_SUFFIXES:
            raise LocateError(f"{path} : des lignes placées par code INSEE n'ont pas de géométrie pour un GeoPackage. "
                              "Correction : un fichier .csv ou .parquet.")
        frame.to_parquet(path, index=False)
        return "parquet"
    geo = gpd.GeoDataFrame(frame, geometry=_geometry(table).values, crs=WGS84)
    if suffix in GPKG_SUFFIXES:
        path.unlink(missing_ok=True)
        pyogrio.write_dataframe(geo, path, layer=path.stem, driver="GPKG", geometry_type="Point")
        return "gpkg"
    geo.to_parquet(path, index=False)
    return "geoparquet"
