"""Exports on the real data: every layer in every format re-read with pyogrio has the source's codes, names,
counts and areas; types, styles, provenance, CRS, 'within' and empty exports; the /export routes."""
from __future__ import annotations

import io
import json
import sqlite3
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from fastapi.testclient import TestClient

from geo.exports import FORMATS, build_layer, layer_specs, write
from geo.exports.formats import shapefile_names
from geo.model import Model
from service.app import create_app
from service.exports import file_stem

AREA_TOLERANCE = 1e-3  # 0.1 %


def read_back(path: Path, fmt: str) -> gpd.GeoDataFrame:
    """An export re-read with pyogrio (shapefile fields renamed back from fields.csv; CSV geometry from its WKT)."""
    if fmt == "shp.zip":
        frame = pyogrio.read_dataframe(f"/vsizip/{path}")
        with zipfile.ZipFile(path) as zf:
            names = pd.read_csv(zf.open("fields.csv"), sep=";", dtype=str, encoding="utf-8-sig")
        return frame.rename(columns=dict(zip(names["shapefile_field"], names["field"])))
    if fmt == "csv":
        frame = pyogrio.read_dataframe(path, GEOM_POSSIBLE_NAMES="wkt", KEEP_GEOM_COLUMNS="NO")
        return frame.set_crs(2154, allow_override=True)
    if fmt == "parquet":
        return gpd.read_parquet(path)
    if fmt == "parquet.zip":  # one GeoParquet file per layer
        with zipfile.ZipFile(path) as zf:
            [name] = zf.namelist()
            return gpd.read_parquet(io.BytesIO(zf.read(name)))
    return pyogrio.read_dataframe(path)


def assert_same(source: gpd.GeoDataFrame, read: gpd.GeoDataFrame, label: str) -> None:
    assert len(read) == len(source), label
    if source.empty:  # an empty GeoJSON has no field to compare
        return
    got = read.sort_values("code", ignore_index=True)
    want = source.sort_values("code", ignore_index=True)
    assert got["code"].tolist() == want["code"].tolist(), label
    assert got["nom"].tolist() == want["nom"].tolist(), label
    a_got = got.geometry.to_crs(2154).area.to_numpy()
    a_want = want.geometry.to_crs(2154).area.to_numpy()
    worst = float(np.max(np.abs(a_got - a_want) / a_want))
    assert worst < AREA_TOLERANCE, f"{label}: area differs by {worst:.2%}"


@pytest.fixture(scope="module")
def exported(model: Model, tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Path]:
    """Every layer written in every single-layer format (CSV in Lambert-93 with WKT), plus the full bundle."""
    out = tmp_path_factory.mktemp("exports")
    files = {}
    for layer_id in layer_specs(model):
        layer = build_layer(model, layer_id)
        for fmt in FORMATS:
            if fmt == "gpkg":
                continue
            path = out / f"{layer_id}.{fmt}"
            write([layer], fmt, path, crs=2154 if fmt == "csv" else 4326, wkt=fmt == "csv")
            files[(layer_id, fmt)] = path
    write([build_layer(model, i) for i in layer_specs(model)], "gpkg", out / "bundle.gpkg")
    return files | {("bundle", "gpkg"): out / "bundle.gpkg"}


def test_every_layer_round_trips_in_every_format(model: Model, exported: dict) -> None:
    checked = 0
    for layer_id in layer_specs(model):
        source = build_layer(model, layer_id).frame
        assert_same(source, pyogrio.read_dataframe(exported[("bundle", "gpkg")], layer=layer_id), f"{layer_id}.gpkg")
        for fmt in ("geojson", "fgb", "shp.zip", "csv"):
            assert_same(source, read_back(exported[(layer_id, fmt)], fmt), f"{layer_id}.{fmt}")
            checked += 1
    assert checked >= 4 * 20
    layers = pyogrio.list_layers(exported[("bundle", "gpkg")])
    assert [n for n, geom in layers if geom] == list(layer_specs(model))


def test_real_layers_are_not_trivial(model: Model) -> None:
    """The round trip is run on the Occitanie data, not on near-empty layers."""
    assert len(build_layer(model, "communes").frame) > 4000
    assert len(build_layer(model, "epci").frame) > 150
    assert len(build_layer(model, "departements").frame) == 13
    assert build_layer(model, "coverage").frame["n_schemes"].max() >= 3


def test_codes_stay_text_and_types_are_kept(model: Model, exported: dict) -> None:
    info = pyogrio.read_info(exported[("bundle", "gpkg")], layer="communes")
    types = dict(zip(info["fields"], info["ogr_types"]))
    assert types["code"] == types["departement"] == types["epci"] == "OFTString"
    assert types["population"] == "OFTInteger64" and types["area_km2"] == "OFTReal"
    scheme = pyogrio.read_info(exported[("bundle", "gpkg")], layer="scheme-dialogue-metropolitain")
    assert dict(zip(scheme["fields"], scheme["ogr_types"]))["start"] == "OFTDate"
    communes = pyogrio.read_dataframe(exported[("bundle", "gpkg")], layer="communes", read_geometry=False)
    assert "09001" in set(communes["code"]) and communes["departement"].str.len().eq(2).all()
    for fmt in ("geojson", "fgb", "shp.zip", "csv"):
        codes = read_back(exported[("communes", fmt)], fmt)["code"]
        assert "09001" in set(codes), fmt
    text = exported[("communes", "csv")].read_bytes()
    assert text.startswith(b'\xef\xbb\xbf"code";"nom";') and b'\r\n"09001";' in text
    coverage = pyogrio.read_dataframe(exported[("bundle", "gpkg")], layer="coverage", read_geometry=False)
    assert set(model.catalogue.schemes) <= set(coverage.columns)
    # n_schemes counts families (a programme's generations, a network and its clubs: one each), never more than the columns
    family = model.catalogue.families()
    ids = list(model.catalogue.schemes)
    families = coverage[ids].apply(lambda row: len({family[i] for i in ids if row[i]}), axis=1)
    assert (families == coverage["n_schemes"]).all() and (coverage["n_schemes"] <= coverage[ids].sum(axis=1)).all()
    assert (coverage["n_schemes"] < coverage[ids].sum(axis=1)).any()  # e.g. Toulouse in the Dialogue and its clubs


def test_shapefile_zip_has_prj_cpg_and_field_names(exported: dict) -> None:
    with zipfile.ZipFile(exported[("coverage", "shp.zip")]) as zf:
        names = set(zf.namelist())
        assert {"coverage.shp", "coverage.shx", "coverage.dbf", "coverage.prj", "coverage.cpg", "fields.csv", "provenance.json"} <= names
        assert zf.read("coverage.cpg").strip() == b"UTF-8"
    assert all(len(v) <= 10 for v in shapefile_names(["club-developpement-equilibre", "club-developpement-x"]).values())
    assert len(set(shapefile_names(["club-developpement-equilibre", "club-developpement-x"]).values())) == 2
    names = read_back(exported[("communes", "shp.zip")], "shp.zip")["nom"]
    assert any("é" in n for n in names)


def test_geopackage_styles_and_metadata(model: Model, exported: dict) -> None:
    with sqlite3.connect(exported[("bundle", "gpkg")]) as db:
        styles = db.execute("SELECT f_table_name, styleName, styleQML, styleSLD, useAsDefault FROM layer_styles").fetchall()
        contents = dict(db.execute("SELECT table_name, data_type FROM gpkg_contents").fetchall())
        metadata = [r[0] for r in db.execute("SELECT metadata FROM gpkg_metadata").fetchall()]
        refs = db.execute("SELECT COUNT(*) FROM gpkg_metadata_reference").fetchone()[0]
    assert {s[0] for s in styles} == set(layer_specs(model)) and all(s[4] == 1 for s in styles)
    for _, _, qml, sld, _ in styles:
        assert ET.fromstring(qml.split("\n", 1)[1]).find("renderer-v2") is not None
        assert ET.fromstring(sld.split("\n", 1)[1]).tag.endswith("StyledLayerDescriptor")
    coverage_qml = next(s[2] for s in styles if s[0] == "coverage")
    assert 'type="graduatedSymbol"' in coverage_qml and 'attr="n_schemes"' in coverage_qml
    assert contents["layer_styles"] == "attributes"
    assert refs >= len(layer_specs(model)) and any("provenance" in m and "COG 2026" in m for m in metadata)
    record = json.loads(pyogrio.read_info(exported[("bundle", "gpkg")], layer="scheme-territoires-d-industrie")["layer_metadata"]["provenance"])
    scheme = next(s for s in record["sources"] if s["role"] == "scheme")
    assert scheme["as_of"] and scheme["url"] and record["notes"]  # members outside the scope are counted


def test_provenance_in_every_single_layer_format(exported: dict) -> None:
    assert json.loads(exported[("epci", "geojson")].read_text(encoding="utf-8"))["provenance"]["layer"] == "epci"
    assert json.loads(pyogrio.read_info(exported[("epci", "fgb")])["layer_metadata"]["DESCRIPTION"])["layer"] == "epci"
    with zipfile.ZipFile(exported[("epci", "shp.zip")]) as zf:
        assert json.loads(zf.read("provenance.json"))["sources"][0]["vintage"] == "COG 2018"
    sidecar = Path(str(exported[("epci", "csv")]) + ".provenance.json")
    assert json.loads(sidecar.read_text(encoding="utf-8"))["crs"] == "EPSG:2154"


def test_lambert93_and_within(model: Model, tmp_path: Path) -> None:
    layer = build_layer(model, "epci", within=model.territory("31"))
    held = set(model.scales["commune"].query("departement == '31'")["epci"].dropna())
    assert set(layer.frame["code"]) == held and layer.provenance["within"] == "31"
    write([layer], "gpkg", tmp_path / "epci.gpkg", crs=2154)
    info = pyogrio.read_info(tmp_path / "epci.gpkg")
    assert info["crs"] == "EPSG:2154" and info["features"] == len(held)
    assert_same(layer.frame, pyogrio.read_dataframe(tmp_path / "epci.gpkg"), "epci within 31, Lambert-93")


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_empty_territory_gives_a_valid_empty_file(model: Model, tmp_path: Path, fmt: str) -> None:
    layer = build_layer(model, "scheme-toulouse-metropole", within=model.territory("11"))  # Aude: no commune of Toulouse Métropole
    assert layer.frame.empty
    path = tmp_path / f"empty.{fmt}"
    write([layer], fmt, path)
    if fmt == "qgz":  # a project holds no features: its one layer points at the GeoPackage
        root = ET.fromstring(zipfile.ZipFile(path).read("empty.qgs"))
        assert [m.find("datasource").text for m in root.iter("maplayer")] == ["./empty.gpkg|layername=scheme-toulouse-metropole"]
        return
    assert len(read_back(path, fmt) if fmt != "csv" else pd.read_csv(path, sep=";", encoding="utf-8-sig")) == 0


@pytest.fixture(scope="module")
def client(settings) -> TestClient:
    with TestClient(create_app(settings)) as c:
        yield c


def test_export_route_downloads(client: TestClient, tmp_path: Path) -> None:
    r = client.get("/export/communes.gpkg", params={"within": "09", "crs": "2154"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/geopackage+sqlite3"
    assert 'filename="communes-09.gpkg"' in r.headers["content-disposition"]
    assert "/export/communes/provenance" in r.headers["link"]
    (tmp_path / "c.gpkg").write_bytes(r.content)
    frame = pyogrio.read_dataframe(tmp_path / "c.gpkg")
    assert frame["code"].str.startswith("09").all() and len(frame) > 300 and frame.crs.to_epsg() == 2154
    r = client.get("/export/bundle.gpkg", params={"layers": "regions,scheme-dialogue-metropolitain"})
    (tmp_path / "b.gpkg").write_bytes(r.content)
    assert [n for n, g in pyogrio.list_layers(tmp_path / "b.gpkg") if g] == ["regions", "scheme-dialogue-metropolitain"]
    r = client.get("/export/coverage.csv", params={"within": "31555"})
    assert r.content.startswith(b'\xef\xbb\xbf"code";') and r.content.count(b"\r\n") == 2
    r = client.get("/export/epci/provenance", params={"within": "31"})
    assert r.json()["within"] == "31" and r.json()["features"] > 10


@pytest.mark.parametrize("url, status, accepted", [
    ("/export/nope.gpkg", 404, "communes"),
    ("/export/communes.xlsx", 422, "gpkg, geojson, fgb, shp.zip, csv, parquet, parquet.zip, qgz"),
    ("/export/communes.gpkg?crs=3857", 422, "2154 (Lambert-93)"),
    ("/export/communes.geojson?crs=2154", 422, "WGS 84 (crs=4326) seulement"),
    ("/export/bundle.csv", 422, "bundle.gpkg"),
    ("/export/bundle.gpkg?layers=communes,nope", 404, "coverage"),
    ("/export/communes.gpkg?within=../../etc", 404, "Territoire inconnu : « ../../etc »"),
])
def test_export_bad_input_names_accepted_values_in_french(client: TestClient, url: str, status: int, accepted: str) -> None:
    r = client.get(url)
    assert r.status_code == status and accepted in r.json()["detail"]


def test_file_names_take_no_path_pieces() -> None:
    assert file_stem("communes", "region:76") == "communes-region_76"
    assert file_stem("communes", "../../x") == "communes-______x"


def test_cli_export_render_and_map(mirror: Path, cache_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from service.cli import app

    monkeypatch.setenv("TERRITOIRES_CACHE", str(cache_dir))
    runner = CliRunner()
    common = ["--mirror", str(mirror), "--scope", "occitanie"]
    out = runner.invoke(app, ["export", "coverage", "-f", "csv", "-o", str(tmp_path / "c.csv"), "--within", "31555", *common])
    assert out.exit_code == 0, out.output
    assert (tmp_path / "c.csv").read_bytes().startswith(b'\xef\xbb\xbf"code";') and (tmp_path / "c.csv.provenance.json").exists()
    out = runner.invoke(app, ["export", "bundle", "-f", "gpkg", "-o", str(tmp_path / "b.gpkg"), "--layers", "epci,regions",
                              "--crs", "2154", *common])
    assert out.exit_code == 0, out.output
    assert pyogrio.read_info(tmp_path / "b.gpkg", layer="epci")["crs"] == "EPSG:2154"
    out = runner.invoke(app, ["export", "nope", *common])
    assert out.exit_code == 1 and "Couche inconnue" in out.output
    out = runner.invoke(app, ["render", "scales", "-o", str(tmp_path / "s.png"), "--within", "31", "--size", "400x300", *common])
    assert out.exit_code == 0 and (tmp_path / "s.png").read_bytes().startswith(b"\x89PNG"), out.output
    out = runner.invoke(app, ["map", "scheme-toulouse-metropole", "-o", str(tmp_path / "m.html"), *common])
    assert out.exit_code == 0 and "leaflet" in (tmp_path / "m.html").read_text(encoding="utf-8"), out.output


def test_a_format_registered_in_the_table_reaches_the_cli_the_export_routes_and_the_ogc_api(
        settings, mirror: Path, cache_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One line in FORMATS (here a WKT text writer) is all a new format needs."""
    import importlib

    import shapely
    from typer.testing import CliRunner

    import service.cli
    from geo.exports import Format

    def write_wkt(layers: list, path: Path, options) -> None:
        frame = layers[0].frame if options.crs == 4326 else layers[0].frame.to_crs(options.crs)
        path.write_text("\n".join(f"{c};{w}" for c, w in zip(frame["code"], shapely.to_wkt(frame.geometry.values))), encoding="utf-8")

    monkeypatch.setitem(FORMATS, "wkt.txt", Format("wkt.txt", "WKT (texte)", write_wkt, "text/plain; charset=utf-8"))
    try:
        cli = importlib.reload(service.cli)  # the CLI reads the table when it is imported
        assert "wkt.txt" in CliRunner().invoke(cli.app, ["export", "--help"], env={"COLUMNS": "200"}).output
        monkeypatch.setenv("TERRITOIRES_CACHE", str(cache_dir))
        out = CliRunner().invoke(cli.app, ["export", "departements", "-f", "wkt.txt", "-o", str(tmp_path / "d.txt"),
                                           "--mirror", str(mirror), "--scope", "occitanie"])
        assert out.exit_code == 0, out.output
        assert len((tmp_path / "d.txt").read_text(encoding="utf-8").splitlines()) == 13
    finally:
        monkeypatch.undo()
        importlib.reload(service.cli)
    monkeypatch.setitem(FORMATS, "wkt.txt", Format("wkt.txt", "WKT (texte)", write_wkt, "text/plain; charset=utf-8"))
    with TestClient(create_app(settings)) as c:  # the routes and their OpenAPI are made from the table with the app
        spec = c.get("/openapi.json").json()["paths"]["/export/{name}"]["get"]
        assert "text/plain" in spec["responses"]["200"]["content"]
        name = next(p for p in spec["parameters"] if p["name"] == "name")
        assert "wkt.txt : WKT (texte)" in name["description"] and "departements.wkt.txt" in {e["value"] for e in name["examples"].values()}
        r = c.get("/export/departements.wkt.txt", params={"within": "31"})
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain") and r.text.startswith("31;")
        links = c.get("/ogc/collections/departements").json()["links"]
        assert any(link["rel"] == "enclosure" and link["href"].endswith("/export/departements.wkt.txt") and link["type"].startswith("text/plain")
                   for link in links)


def test_exported_at_is_when_the_file_was_written(client: TestClient, model: Model, tmp_path: Path) -> None:
    """The layer is built once per model; each export stamps its own time, and the service keeps a written file (same
    bytes, same stamp) rather than writing it again for every download."""
    from geo.exports.provenance import now

    build_layer(model, "regions")  # the layer exists before the export
    before = now()
    first = client.get("/export/regions.geojson")
    stamp = first.json()["provenance"]["exported_at"]
    assert before <= stamp <= now()
    again = client.get("/export/regions.geojson")
    assert again.content == first.content
    assert before <= client.get("/export/regions/provenance").json()["exported_at"] <= now()
    assert "exported_at" not in build_layer(model, "regions").provenance
