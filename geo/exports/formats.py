"""Export formats, one table (:data:`FORMATS`): GeoPackage (several layers, QGIS styles, gpkg_metadata), GeoJSON
(RFC 7946), FlatGeobuf, zipped Shapefile, CSV in the French spreadsheet convention (geo/spreadsheet.py), GeoParquet
(one layer, or a zip of one file per layer) and a QGIS project over a GeoPackage of the same name (geo/exports/qgis.py).
Types are kept: codes stay text.

Each :class:`Format` carries its writer, extension, media type, output CRS, and whether it holds several layers and
their styles; the command line (``export --format``), the /export routes and their OpenAPI, and the OGC API's download
links all read this table. Adding a format is one writer function and one line in :data:`FORMATS`.
"""
from __future__ import annotations

import io
import json
import re
import sqlite3
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyarrow.parquet as pq
import pyogrio
import shapely

from geo.errors import Invalid
from geo.exports.layers import ExportLayer
from geo.exports.provenance import now, stamped, summary
from geo.exports.qgis import write_qgz
from geo.exports.styles import to_qml, to_sld
from geo.spreadsheet import write_csv as write_spreadsheet

#: Output CRS (EPSG code → name): WGS 84 (the model's) and Lambert-93.
CRS_NAMES = {4326: "WGS 84", 2154: "Lambert-93"}
SHP_FIELD_MAX = 10
PROVENANCE_SUFFIX = ".provenance.json"

_STYLES_DDL = """CREATE TABLE IF NOT EXISTS layer_styles (
  id INTEGER PRIMARY KEY AUTOINCREMENT, f_table_catalog TEXT(256), f_table_schema TEXT(256), f_table_name TEXT(256),
  f_geometry_column TEXT(256), styleName TEXT(30), styleQML TEXT, styleSLD TEXT, useAsDefault BOOLEAN, description TEXT,
  owner TEXT(30), ui TEXT(30), update_time DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))"""


class ExportError(Invalid):
    """A format, CRS or option that cannot be honoured; the message names the accepted values."""


@dataclass(frozen=True)
class WriteOptions:
    """How one export is written: output CRS (EPSG), CSV geometry as WKT, and the export time stamped in its provenance."""

    crs: int = 4326
    wkt: bool = False
    exported_at: str | None = None


#: A writer: the layers (one, unless the format holds several), the file to write, the options.
Writer = Callable[[list[ExportLayer], Path, WriteOptions], None]


def _projected(layer: ExportLayer, options: WriteOptions) -> tuple[gpd.GeoDataFrame, dict]:
    frame = layer.frame if options.crs == 4326 else layer.frame.to_crs(options.crs)
    return frame, stamped({**layer.provenance, "crs": f"EPSG:{options.crs}"}, options.exported_at)


def _ogr(frame: gpd.GeoDataFrame, path: Path, driver: str, **kwargs: object) -> None:
    pyogrio.write_dataframe(frame, path, driver=driver, use_arrow=True, promote_to_multi=True,
                            geometry_type="MultiPolygon", **kwargs)


def write_gpkg(layers: list[ExportLayer], path: Path, options: WriteOptions) -> None:
    """Every layer in one GeoPackage, each with its provenance (gpkg_metadata) and default QGIS style (layer_styles)."""
    path.unlink(missing_ok=True)
    records = []
    for layer in layers:
        frame, record = _projected(layer, options)
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


def write_geojson(layers: list[ExportLayer], path: Path, options: WriteOptions) -> None:
    """RFC 7946 GeoJSON (WGS 84 only), the provenance record as a top-level foreign member."""
    layer = layers[0]
    frame, record = _projected(layer, options)
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "out.geojson"
        _ogr(frame, raw, "GeoJSON", layer=layer.spec.id, layer_options={"RFC7946": "YES", "WRITE_NAME": "YES"})
        body = raw.read_bytes()
    at = body.index(b'"features":')  # after "type" and "name": readers sniff the type in the first bytes
    path.write_bytes(body[:at] + b'"provenance": ' + json.dumps(record, ensure_ascii=False).encode() + b",\n" + body[at:])


def write_fgb(layers: list[ExportLayer], path: Path, options: WriteOptions) -> None:
    """FlatGeobuf with a spatial index; the provenance record in the header's description."""
    layer = layers[0]
    frame, record = _projected(layer, options)
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


def write_shapefile_zip(layers: list[ExportLayer], path: Path, options: WriteOptions) -> None:
    """A zip of the Shapefile (.shp .shx .dbf .prj .cpg, UTF-8), fields.csv (full field names) and provenance.json."""
    layer = layers[0]
    frame, record = _projected(layer, options)
    names = shapefile_names([c for c in frame.columns if c != "geometry"])
    stem = layer.spec.id
    with tempfile.TemporaryDirectory() as tmp:
        shp = Path(tmp) / f"{stem}.shp"
        _ogr(frame.rename(columns=names), shp, "ESRI Shapefile", layer=stem, encoding="UTF-8")
        fields = io.BytesIO()
        write_spreadsheet(pd.DataFrame({"field": list(names), "shapefile_field": list(names.values())}), fields)
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            for part in sorted(Path(tmp).iterdir()):
                zf.write(part, part.name)
            zf.writestr("fields.csv", fields.getvalue())
            zf.writestr("provenance.json", json.dumps(record, ensure_ascii=False, indent=1))


def write_csv(layers: list[ExportLayer], path: Path, options: WriteOptions) -> None:
    """';'-separated UTF-8 with BOM, decimal comma, ISO dates, formula-safe cells, no geometry unless ``wkt``; provenance
    in a sidecar."""
    frame, record = _projected(layers[0], options)
    table = pd.DataFrame(frame.drop(columns="geometry"))
    if options.wkt:
        table["wkt"] = shapely.to_wkt(frame.geometry.values, rounding_precision=7 if options.crs == 4326 else 2)
    write_spreadsheet(table, path)
    Path(str(path) + PROVENANCE_SUFFIX).write_text(json.dumps(record, ensure_ascii=False, indent=1), encoding="utf-8")


def write_parquet(layers: list[ExportLayer], path: Path, options: WriteOptions) -> None:
    """GeoParquet (geometry as WKB, its CRS in the "geo" metadata), codes as text, dates as dates; the provenance record
    in the file's key-value metadata ("provenance")."""
    frame, record = _projected(layers[0], options)
    frame.to_parquet(path, index=False)
    table = pq.read_table(path)  # geopandas writes the "geo" metadata; the provenance joins it
    pq.write_table(table.replace_schema_metadata({**table.schema.metadata, b"provenance": json.dumps(record, ensure_ascii=False).encode()}),
                   path)


def write_parquet_zip(layers: list[ExportLayer], path: Path, options: WriteOptions) -> None:
    """Several layers as GeoParquet: a zip holding one ``<layer>.parquet`` per layer (each with its provenance)."""
    with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:  # Parquet is compressed
        for layer in layers:
            part = Path(tmp) / f"{layer.spec.id}.parquet"
            write_parquet([layer], part, options)
            zf.write(part, part.name)


def write_project(layers: list[ExportLayer], path: Path, options: WriteOptions) -> None:
    """A QGIS project (.qgz) whose layers are those of the GeoPackage of the same name beside it, in ``options.crs``."""
    write_qgz(layers, path, f"{path.stem}.gpkg", options.crs, options.exported_at)


@dataclass(frozen=True)
class Format:
    """An export format: file extension (its id), French label, writer, media type, the output CRS it accepts, whether
    one file holds several layers, whether it holds their styles, and the format of a file it refers to (written
    beside it, same name, by the command line; downloaded beside it from the web)."""

    extension: str
    label: str
    writer: Writer
    media_type: str
    crs: tuple[int, ...] = tuple(CRS_NAMES)
    multi_layer: bool = False
    styles: bool = False
    companion: str | None = None  # the format of the file it refers to by name (a QGIS project: its GeoPackage)


#: Every export format, by extension, in the order they are offered.
FORMATS: dict[str, Format] = {f.extension: f for f in (
    Format("gpkg", "GeoPackage (styles QGIS)", write_gpkg, "application/geopackage+sqlite3", multi_layer=True, styles=True),
    Format("geojson", "GeoJSON", write_geojson, "application/geo+json", crs=(4326,)),
    Format("fgb", "FlatGeobuf", write_fgb, "application/flatgeobuf"),
    Format("shp.zip", "Shapefile (zip)", write_shapefile_zip, "application/zip"),
    Format("csv", "CSV (tableur)", write_csv, "text/csv; charset=utf-8"),
    Format("parquet", "GeoParquet", write_parquet, "application/vnd.apache.parquet"),
    Format("parquet.zip", "GeoParquet (zip, un fichier par couche)", write_parquet_zip, "application/zip", multi_layer=True),
    Format("qgz", "Projet QGIS (à ouvrir à côté du GeoPackage de même nom)", write_project, "application/zip",
           multi_layer=True, styles=True, companion="gpkg"),
)}


def multi_layer_formats() -> list[str]:
    """Extensions of the formats one file of several layers (a bundle) can be written in."""
    return [f.extension for f in FORMATS.values() if f.multi_layer]


def check_format(name: str) -> Format:
    """The format of an extension; ExportError in French naming the formats otherwise."""
    if name not in FORMATS:
        raise ExportError(f"Format inconnu : « {name} ». Formats : {', '.join(FORMATS)}.")
    return FORMATS[name]


def check_crs(value: str | int) -> int:
    """An EPSG code among :data:`CRS_NAMES` (accepts 2154 or 'EPSG:2154')."""
    text = str(value).strip().upper().removeprefix("EPSG:")
    if not text.isdigit() or int(text) not in CRS_NAMES:
        raise ExportError(f"Système de coordonnées non pris en charge : « {value} ». Utilisez "
                          f"{' ou '.join(f'{k} ({v})' for k, v in CRS_NAMES.items())}.")
    return int(text)


def write(layers: list[ExportLayer], fmt: str, path: Path, crs: int = 4326, wkt: bool = False, exported_at: str | None = None,
          companion: bool = False) -> Path | None:
    """Write layers in a format (several only in a format that holds several); the provenance is stamped with
    ``exported_at`` (now by default). With ``companion``, the file the format refers to (a QGIS project's GeoPackage)
    is written beside it under the same name, and its path returned."""
    spec = check_format(fmt)
    if len(layers) != 1 and not spec.multi_layer:
        raise ExportError(f"Le format {fmt} ne contient qu'une couche : pour plusieurs, utilisez {' ou '.join(multi_layer_formats())}.")
    if crs not in spec.crs:
        others = [f.extension for f in FORMATS.values() if crs in f.crs]
        raise ExportError(f"Le format {fmt} est en {' ou '.join(f'{CRS_NAMES[c]} (crs={c})' for c in spec.crs)} seulement : "
                          f"pour le {CRS_NAMES.get(crs, crs)}, utilisez {', '.join(others)}.")
    options = WriteOptions(crs, wkt, exported_at or now())
    spec.writer(layers, path, options)
    if not (companion and spec.companion):
        return None
    beside = path.with_name(path.name.removesuffix(f".{fmt}") + f".{spec.companion}")
    write(layers, spec.companion, beside, crs, wkt, options.exported_at)
    return beside
