"""The table of export formats (geo/exports/formats.py) on a tiny layer built in code: every format writes and reads
back, the table's own limits (layers, CRS) are the errors, and the provenance is stamped at the export."""
from __future__ import annotations

import io
import json
import sqlite3
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import geopandas as gpd
import pyarrow.parquet as pq
import pyogrio
import pytest
import shapely

from geo.exports import FORMATS, ExportError, ExportLayer, LayerSpec, check_format, write
from geo.exports.provenance import summary
from geo.exports.styles import single_style
from geo.mapspec import SCALE_LINES


def tiny(layer_id: str = "tiny") -> ExportLayer:
    """Two square communes, codes with a leading zero."""
    frame = gpd.GeoDataFrame({"code": ["01001", "01002"], "nom": ["Alpha", "Bêta"]},
                             geometry=[shapely.box(5.0, 46.0, 5.1, 46.1), shapely.box(5.1, 46.0, 5.2, 46.1)], crs=4326)
    record = {"layer": layer_id, "title": "Petite", "model_version": "test", "scope": "test", "within": None, "crs": "EPSG:4326",
              "features": 2, "sources": [], "notes": []}
    style = single_style(SCALE_LINES["commune"], "Communes", layer_id)
    return ExportLayer(LayerSpec(layer_id, f"Petite {layer_id}", "scale", "commune"), frame, style, record)


def provenance_of(path: Path, fmt: str) -> dict:
    if fmt == "gpkg":
        return json.loads(pyogrio.read_info(path, layer="tiny")["layer_metadata"]["provenance"])
    if fmt == "geojson":
        return json.loads(path.read_text(encoding="utf-8"))["provenance"]
    if fmt == "fgb":
        return json.loads(pyogrio.read_info(path)["layer_metadata"]["DESCRIPTION"])
    if fmt == "shp.zip":
        with zipfile.ZipFile(path) as zf:
            return json.loads(zf.read("provenance.json"))
    if fmt == "parquet":
        return json.loads(pq.read_schema(path).metadata[b"provenance"])
    if fmt == "parquet.zip":
        with zipfile.ZipFile(path) as zf:
            return json.loads(pq.read_schema(io.BytesIO(zf.read("tiny.parquet"))).metadata[b"provenance"])
    if fmt == "qgz":  # a project holds no features: the sources and the export date are in its metadata
        with zipfile.ZipFile(path) as zf:
            meta = ET.fromstring(zf.read("tiny.qgs")).find("projectMetadata")
        return {"exported_at": meta.find("creation").text + "+00:00", "crs": "EPSG:4326", "abstract": meta.find("abstract").text}
    return json.loads(Path(str(path) + ".provenance.json").read_text(encoding="utf-8"))


def test_the_table_describes_each_format() -> None:
    assert list(FORMATS) == ["gpkg", "geojson", "fgb", "shp.zip", "csv", "parquet", "parquet.zip", "qgz"]
    for ext, f in FORMATS.items():
        assert f.extension == ext and f.label and callable(f.writer) and "/" in f.media_type and f.crs
        assert f.companion is None or not FORMATS[f.companion].companion
    assert [f.extension for f in FORMATS.values() if f.multi_layer] == ["gpkg", "parquet.zip", "qgz"]
    assert [f.extension for f in FORMATS.values() if f.styles] == ["gpkg", "qgz"] and FORMATS["qgz"].companion == "gpkg"
    with pytest.raises(ExportError, match="Formats : gpkg, geojson, fgb, shp.zip, csv, parquet, parquet.zip, qgz.") as caught:
        check_format("xlsx")
    assert caught.value.status == 422


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_every_format_writes_codes_as_text_and_stamps_the_export_time(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"tiny.{fmt}"
    write([tiny()], fmt, path, exported_at="2030-01-02T03:04:05+00:00")
    record = provenance_of(path, fmt)
    assert record["exported_at"] == "2030-01-02T03:04:05+00:00" and record["crs"] == "EPSG:4326"
    if fmt == "csv":
        assert path.read_bytes().startswith(b'\xef\xbb\xbf"code";"nom"\r\n"01001";"Alpha"\r\n')
        return
    if fmt == "qgz":
        assert "export du 2 janvier 2030" in record["abstract"] and "./tiny.gpkg|layername=tiny" in zipfile.ZipFile(path).read("tiny.qgs").decode()
        return
    if fmt.startswith("parquet"):
        read = gpd.read_parquet(io.BytesIO(zipfile.ZipFile(path).read("tiny.parquet")) if fmt == "parquet.zip" else path)
        assert read.crs.to_epsg() == 4326 and read.geometry.iloc[0].equals(tiny().frame.geometry.iloc[0])
    else:
        read = pyogrio.read_dataframe(f"/vsizip/{path}" if fmt == "shp.zip" else path)
    read = read.sort_values("code")  # fgb: in index order
    assert read["code"].tolist() == ["01001", "01002"] and read["nom"].tolist() == ["Alpha", "Bêta"]


def test_the_export_time_is_the_writing_not_the_layer(tmp_path: Path) -> None:
    layer = tiny()
    assert "exported_at" not in layer.provenance  # a layer, kept per model, carries no export time
    write([layer], "geojson", tmp_path / "a.geojson", exported_at="2030-01-02T03:04:05+00:00")
    write([layer], "geojson", tmp_path / "b.geojson", exported_at="2031-06-07T08:09:10+00:00")
    stamps = [provenance_of(tmp_path / n, "geojson")["exported_at"] for n in ("a.geojson", "b.geojson")]
    assert stamps == ["2030-01-02T03:04:05+00:00", "2031-06-07T08:09:10+00:00"]
    write([layer], "geojson", tmp_path / "c.geojson")
    assert provenance_of(tmp_path / "c.geojson", "geojson")["exported_at"][:4] >= "2025"  # now, by default
    assert summary(provenance_of(tmp_path / "a.geojson", "geojson")).endswith("export du 2 janvier 2030.")


def test_the_table_limits_are_the_errors(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="ne contient qu'une couche : pour plusieurs, utilisez gpkg"):
        write([tiny("a"), tiny("b")], "fgb", tmp_path / "x.fgb")
    with pytest.raises(ExportError, match=r"geojson est en WGS 84 \(crs=4326\) seulement : pour le Lambert-93, utilisez gpkg, fgb"):
        write([tiny()], "geojson", tmp_path / "x.geojson", crs=2154)
    write([tiny("a"), tiny("b")], "gpkg", tmp_path / "two.gpkg", crs=2154)
    with sqlite3.connect(tmp_path / "two.gpkg") as db:
        assert {r[0] for r in db.execute("SELECT f_table_name FROM layer_styles")} == {"a", "b"}
    assert pyogrio.read_info(tmp_path / "two.gpkg", layer="a")["crs"] == "EPSG:2154"
