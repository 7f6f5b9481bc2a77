"""Writers: GeoPackage (several layers, QGIS styles, gpkg_metadata), GeoJSON (RFC 7946), FlatGeobuf,
zipped Shapefile and CSV in the French spreadsheet convention. Types are kept: codes stay text.
"""
from __future__ import annotations

import json
import re
import sqlite3
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely

from geo.errors import TerritoiresError
from geo.exports.layers import ExportLayer
from geo.exports.provenance import summary
from geo.exports.styles import to_qml, to_sld


@dataclass(frozen=True)
class Format:
    """An export format: its GDAL driver (None: written here), media type, and whether it holds several layers."""

    name: str
    driver: str | None
    media_type: str
    multi_layer: bool = False


FORMATS: dict[str, Format] = {f.name: f for f in (
    Format("gpkg", "GPKG", "application/geopackage+sqlite3", multi_layer=True),
    Format("geojson", "GeoJSON", "application/geo+json"),
    Format("fgb", "FlatGeobuf", "application/flatgeobuf"),
    Format("shp.zip", "ESRI Shapefile", "application/zip"),
    Format("csv", None, "text/csv; charset=utf-8"),
)}
#: Output CRS (EPSG code → name): WGS 84 (the model's) and Lambert-93.
CRS_NAMES = {4326: "WGS 84", 2154: "Lambert-93"}
SHP_FIELD_MAX = 10
PROVENANCE_SUFFIX = ".provenance.json"

_STYLES_DDL = """CREATE TABLE IF NOT EXISTS layer_styles (
  id INTEGER PRIMARY KEY AUTOINCREMENT, f_table_catalog TEXT(256), f_table_schema TEXT(256), f_table_name TEXT(256),
  f_geometry_column TEXT(256), styleName TEXT(30), styleQML TEXT, styleSLD TEXT, useAsDefault BOOLEAN, description TEXT,
  owner TEXT(30), ui TEXT(30), update_time DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))"""


class ExportError(TerritoiresError, ValueError):
    """A format, CRS or option that cannot be honoured; the message names the accepted values."""


def check_format(name: str) -> Format:
    if name not in FORMATS:
        raise ExportError(f"unknown format {name!r}: use one of {', '.join(FORMATS)}")
    return FORMATS[name]


def check_crs(value: str | int) -> int:
    """An EPSG code among :data:`CRS_NAMES` (accepts 2154 or 'EPSG:2154')."""
    text = str(value).strip().upper().removeprefix("EPSG:")
    if not text.isdigit() or int(text) not in CRS_NAMES:
        raise ExportError(f"unsupported crs {value!r}: use one of {', '.join(f'{k} ({v})' for k, v in CRS_NAMES.items())}")
    return int(text)


def _projected(layer: ExportLayer, crs: int) -> tuple[gpd.GeoDataFrame, dict]:
    frame = layer.frame if crs == 4326 else layer.frame.to_crs(crs)
    return frame, {**layer.provenance, "crs": f"EPSG:{crs}"}


def _ogr(frame: gpd.GeoDataFrame, path: Path, driver: str, **kwargs: object) -> None:
    pyogrio.write_dataframe(frame, path, driver=driver, use_arrow=True, promote_to_multi=True,
                            geometry_type="MultiPolygon", **kwargs)


def write_gpkg(layers: list[ExportLayer], path: Path, crs: int) -> None:
    """Every layer in one GeoPackage, each with its provenance (gpkg_metadata) and default QGIS style (layer_styles)."""
    path.unlink(missing_ok=True)
    records = []
    for layer in layers:
        frame, record = _projected(layer, crs)
        _ogr(frame, path, "GPKG", layer=layer.spec.id,
             layer_metadata={"IDENTIFIER": layer.spec.title, "DESCRIPTION": summary(record),
                             "provenance": json.dumps(record, ensure_ascii=False)})
        records.append((layer, record))
    with sqlite3.connect(path) as db:
        db.execute(_STYLES_DDL)
        if not db.execute("SELECT 1 FROM gpkg_contents WHERE table_name = 'layer_styles'").fetchone():
            db.execute("INSERT INTO gpkg_contents (table_name, data_type, identifier, description) "
                       "VALUES ('layer_styles', 'attributes', 'layer_styles', 'QGIS layer styles')")
        db.executemany(
            "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, f_geometry_column, styleName, styleQML, "
            "styleSLD, useAsDefault, description, owner, ui) VALUES ('', '', ?, 'geom', ?, ?, ?, 1, ?, '', NULL)",
            [(layer.spec.id, layer.spec.id, to_qml(layer.style), to_sld(layer.style, layer.spec.id), summary(record))
             for layer, record in records])


def write_geojson(layer: ExportLayer, path: Path, crs: int) -> None:
    """RFC 7946 GeoJSON (WGS 84 only), the provenance record as a top-level foreign member."""
    if crs != 4326:
        raise ExportError("GeoJSON is WGS 84 only (RFC 7946): use crs 4326, or gpkg, fgb, shp.zip or csv for Lambert-93")
    frame, record = _projected(layer, crs)
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "out.geojson"
        _ogr(frame, raw, "GeoJSON", layer=layer.spec.id, layer_options={"RFC7946": "YES", "WRITE_NAME": "YES"})
        body = raw.read_bytes()
    at = body.index(b'"features":')  # after "type" and "name": readers sniff the type in the first bytes
    path.write_bytes(body[:at] + b'"provenance": ' + json.dumps(record, ensure_ascii=False).encode() + b",\n" + body[at:])


def write_fgb(layer: ExportLayer, path: Path, crs: int) -> None:
    """FlatGeobuf with a spatial index; the provenance record in the header's description."""
    frame, record = _projected(layer, crs)
    path.unlink(missing_ok=True)
    _ogr(frame, path, "FlatGeobuf", layer=layer.spec.id,
         layer_options={"TITLE": layer.spec.title, "DESCRIPTION": json.dumps(record, ensure_ascii=False),
                        "SPATIAL_INDEX": "YES" if len(frame) else "NO"})


def shapefile_names(columns: list[str]) -> dict[str, str]:
    """Field names a dBase file can hold (10 characters, letters, digits, '_'), unique; unchanged where possible."""
    out: dict[str, str] = {}
    for col in columns:
        name = re.sub(r"[^A-Za-z0-9_]", "_", col)[:SHP_FIELD_MAX]
        n = 1
        while name.lower() in {v.lower() for v in out.values()}:
            suffix = f"_{n}"
            name = re.sub(r"[^A-Za-z0-9_]", "_", col)[:SHP_FIELD_MAX - len(suffix)] + suffix
            n += 1
        out[col] = name
    return out


def write_shapefile_zip(layer: ExportLayer, path: Path, crs: int) -> None:
    """A zip of the Shapefile (.shp .shx .dbf .prj .cpg, UTF-8), fields.csv (full field names) and provenance.json."""
    frame, record = _projected(layer, crs)
    names = shapefile_names([c for c in frame.columns if c != "geometry"])
    stem = layer.spec.id
    with tempfile.TemporaryDirectory() as tmp:
        shp = Path(tmp) / f"{stem}.shp"
        _ogr(frame.rename(columns=names), shp, "ESRI Shapefile", layer=stem, encoding="UTF-8")
        fields = "field;shapefile_field\n" + "".join(f"{k};{v}\n" for k, v in names.items())
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            for part in sorted(Path(tmp).iterdir()):
                zf.write(part, part.name)
            zf.writestr("fields.csv", fields.encode("utf-8-sig"))
            zf.writestr("provenance.json", json.dumps(record, ensure_ascii=False, indent=1))


def write_csv(layer: ExportLayer, path: Path, crs: int, wkt: bool = False) -> None:
    """';'-separated UTF-8 with BOM, decimal comma, ISO dates, no geometry unless ``wkt``; provenance in a sidecar."""
    frame, record = _projected(layer, crs)
    table = pd.DataFrame(frame.drop(columns="geometry"))
    for col in table.select_dtypes(include="bool").columns:
        table[col] = table[col].astype("int8")
    if wkt:
        table["wkt"] = shapely.to_wkt(frame.geometry.values, rounding_precision=7 if crs == 4326 else 2)
    table.to_csv(path, sep=";", decimal=",", index=False, encoding="utf-8-sig", lineterminator="\r\n")
    Path(str(path) + PROVENANCE_SUFFIX).write_text(json.dumps(record, ensure_ascii=False, indent=1), encoding="utf-8")


def write(layers: list[ExportLayer], fmt: str, path: Path, crs: int = 4326, wkt: bool = False) -> None:
    """Write layers in a format (only GeoPackage holds more than one layer)."""
    spec = check_format(fmt)
    if len(layers) != 1 and not spec.multi_layer:
        raise ExportError(f"{fmt} holds one layer; use gpkg for several")
    if fmt == "gpkg":
        write_gpkg(layers, path, crs)
    elif fmt == "csv":
        write_csv(layers[0], path, crs, wkt)
    else:
        {"geojson": write_geojson, "fgb": write_fgb, "shp.zip": write_shapefile_zip}[fmt](layers[0], path, crs)
