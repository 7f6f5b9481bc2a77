"""Batch location (geo/locate.py, geo/pointfiles.py, `territoires locate`): pure parts on tiny inputs built here, then
the real model: rows in order, reasons, codes as text, the date filter, every input format, against one lookup per point."""
from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from pyproj import Transformer

from geo.locate import INVALID, OUTSIDE, REASON, TERRITORY_COLUMNS, UNKNOWN_CODE, LocateError, locate_codes, locate_points, normalise_codes
from geo.model import Model
from geo.periods import in_force_mask
from geo.pointfiles import from_csv, from_records, joined, locate_table, read_table, write_table
from geo.spreadsheet import CsvError, neutralise, read_csv

BIN = Path(sys.executable).parent / "territoires"
TOULOUSE, LOURDES, PARIS = (1.4442, 43.6047), (-0.046, 43.095), (2.3522, 48.8566)


# --- pure parts ---------------------------------------------------------------------------------------------------

def test_neutralise_follows_the_owasp_rule_and_leaves_numbers():
    cells = pd.Series(["=1+1", "+A1", "-2+3", "@SUM(A1)", "\tx", "\rx", "-0.046", "+33", "1,5", "-1e3", "Saint-Lys", "", None, "-"])
    out = neutralise(cells).tolist()
    assert out[:6] == ["'=1+1", "'+A1", "'-2+3", "'@SUM(A1)", "'\tx", "'\rx"]
    assert out[6:11] == ["-0.046", "+33", "1,5", "-1e3", "Saint-Lys"]
    assert out[11] == "" and pd.isna(out[12]) and out[13] == "'-"


@pytest.mark.parametrize("raw", [b"\xef\xbb\xbfcode;nom\r\n09001;Aigues-Juntes\r\n", b"code,nom\n09001,Aigues-Juntes\n"])
def test_read_csv_takes_both_separators_with_or_without_bom_and_keeps_codes_as_text(raw: bytes):
    frame = read_csv(raw, "t.csv")
    assert list(frame.columns) == ["code", "nom"] and frame.iloc[0].tolist() == ["09001", "Aigues-Juntes"]


def test_read_csv_errors_name_the_file_the_row_and_the_fix():
    with pytest.raises(CsvError) as latin:
        read_csv("code;nom\n31555;Toulouse\n09001;Ariège\n".encode("latin-1"), "sites.csv")
    assert str(latin.value).startswith("sites.csv, ligne 3 : pas en UTF-8 (octet 0xe8). Correction : enregistrez le fichier en CSV UTF-8")
    with pytest.raises(CsvError) as ragged:
        read_csv(b"lon;lat\n1;43\n1;43;9;9\n", "sites.csv")
    assert str(ragged.value).startswith("sites.csv, ligne 3 : illisible en CSV séparé par « ; », 4 champs. Correction : donnez")
    with pytest.raises(CsvError, match="sites.csv, ligne 1 : colonnes en double dans l'en-tête : lon"):
        read_csv(b"lon;lat;lon\n1;43;2\n", "sites.csv")
    with pytest.raises(CsvError, match="ligne 2 : illisible"):  # every row one field longer: not taken for an index column
        read_csv(b"lon;lat\n1;43;7\n1;44;8\n", "sites.csv")


def test_in_force_mask_includes_both_bounds_and_treats_a_missing_one_as_open():
    start = pd.Series([dt.date(2020, 1, 1), None, dt.date(2024, 6, 2), None, dt.date(2015, 1, 1)], dtype=object)
    end = pd.Series([dt.date(2024, 6, 1), None, None, dt.date(2024, 5, 31), dt.date(2020, 12, 31)], dtype=object)
    assert in_force_mask(start, end, dt.date(2024, 6, 1)).tolist() == [True, True, False, False, False]


def test_normalise_codes_restores_a_leading_zero_and_upper_cases_corsica():
    assert normalise_codes(pd.Series([" 1001", "2a004", 9001, None, "31555"])).tolist() == ["01001", "2A004", "09001", "", "31555"]


# --- on the real model --------------------------------------------------------------------------------------------

def test_points_keep_their_order_with_a_reason_for_each_row_not_placed(model: Model):
    lon = np.array([TOULOUSE[0], np.nan, LOURDES[0], PARIS[0], 250.0, 4.0])
    lat = np.array([TOULOUSE[1], 43.0, LOURDES[1], PARIS[1], 43.0, 42.0])  # (4, 42) is at sea
    got = locate_points(model, lon, lat, dt.date(2024, 6, 1)).columns
    assert got["commune_code"].tolist()[:3] == ["31555", None, "65286"]
    assert got[REASON].tolist() == [None, INVALID, None, OUTSIDE, INVALID, OUTSIDE]
    toulouse = got.iloc[0]
    assert (toulouse["epci_code"], toulouse["epci_nom"], toulouse["departement_code"], toulouse["region_nom"]) == \
        ("243100518", "Toulouse Métropole", "31", "Occitanie")
    assert "Dialogue métropolitain de Toulouse" in toulouse["groupements"] and toulouse["dialogue-metropolitain"] == 1
    assert got.iloc[1][list(TERRITORY_COLUMNS)].isna().all()  # an unplaced row says nothing, not "0 schemes"


def test_vectorised_answer_equals_one_lookup_per_point(model: Model):
    rng = np.random.default_rng(3)
    minx, miny, maxx, maxy = model.scales["region"].total_bounds
    lon, lat = rng.uniform(minx, maxx, 1500), rng.uniform(miny, maxy, 1500)
    located = locate_points(model, lon, lat, dt.date(2030, 1, 1))
    got = located.columns
    for i, (x, y) in enumerate(zip(lon, lat)):
        stack = model.lookup(float(x), float(y))
        if stack["commune"] is None:
            assert got.at[i, "commune_code"] is None and got.at[i, REASON] == OUTSIDE
            continue
        assert got.at[i, "commune_code"] == stack["commune"]["code"]
        assert got.at[i, "epci_code"] == (stack["epci"]["code"] if stack["epci"] else None)
        in_force_2030 = {s["id"] for s in stack["schemes"]
                         if (s["start"] is None or s["start"] <= "2030-01-01") and (s["end"] is None or s["end"] >= "2030-01-01")}
        assert {s for s in located.schemes if got.at[i, s] == 1} == in_force_2030
        assert got.at[i, "nb_dispositifs"] == len(in_force_2030)


def test_date_filters_the_schemes_in_force(model: Model):
    """Contrats de ville 2015-2020 on 2019-06-01 and not on 2024-06-01; Territoires d'industrie (2023-2027) the other way."""
    table = model.coverage.table
    in_scope = set(model.scales["commune"]["code"])
    industry = set(table.loc[table["scheme"] == "territoires-d-industrie", "commune"]) & in_scope
    code = next(c for c in table.loc[table["scheme"] == "contrats-de-ville-2015-2020", "commune"] if c in industry)
    then, now = (locate_codes(model, pd.Series([code]), dt.date(y, 6, 1)) for y in (2019, 2024))
    assert "contrats-de-ville-2015-2020" in then.schemes and then.columns.at[0, "contrats-de-ville-2015-2020"] == 1
    assert "territoires-d-industrie" not in then.schemes
    assert "contrats-de-ville-2015-2020" not in now.schemes and now.columns.at[0, "territoires-d-industrie"] == 1
    assert "Contrats de ville" in then.columns.at[0, "dispositifs"] and "Contrats de ville" not in now.columns.at[0, "dispositifs"]


def test_codes_merged_out_of_scope_and_unknown(model: Model):
    got = locate_codes(model, pd.Series(["31555", "30157", "1001", "xyz", ""]), dt.date(2024, 6, 1)).columns
    assert got["commune_code"].tolist() == ["31555", "30052", None, None, None]
    assert got[REASON].tolist() == [None, "ancien code 30157, fusionné dans 30052", OUTSIDE, UNKNOWN_CODE, UNKNOWN_CODE]


def test_csv_round_trip_for_a_spreadsheet(model: Model, tmp_path: Path):
    src = tmp_path / "sites.csv"
    src.write_bytes("\ufeffsite;lon;lat;note\nCapitole;1,4442;43,6047;=HYPERLINK(\"http://x\")\nFoix;1.6053;42.9639;@cmd\n"
                    "Lourdes;-0.046;43.095;-\nParis;2.3522;48.8566;\nvide;;;\n".encode())
    table = read_table(src)
    out = tmp_path / "out.csv"
    write_table(table, locate_table(model, table, dt.date(2024, 6, 1)), out)
    raw = out.read_bytes()
    assert raw.startswith(b'\xef\xbb\xbf"site";"lon";"lat";"note";"commune_code";') and raw.count(b"\r\n") == 6
    back = pd.read_csv(out, sep=";", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert back["site"].tolist() == ["Capitole", "Foix", "Lourdes", "Paris", "vide"]
    assert back["commune_code"].tolist() == ["31555", "09122", "65286", "", ""]
    assert back["departement_code"].tolist()[:2] == ["31", "09"]  # leading zero kept
    assert back["lon"].tolist()[:3] == ["1,4442", "1.6053", "-0.046"]  # input cells as given; a number is no formula
    assert back["note"].tolist() == ["'=HYPERLINK(\"http://x\")", "'@cmd", "'-", "", ""]
    assert back[REASON].tolist() == ["", "", "", OUTSIDE, INVALID]


def test_lambert93_coordinates_with_crs_2154(model: Model):
    x, y = Transformer.from_crs(4326, 2154, always_xy=True).transform(*TOULOUSE)
    table = from_csv(f"id;x;y\na;{x:.2f};{y:.2f}\nb;abc;12\n".encode(), crs=2154, name="l93.csv")
    got = locate_table(model, table).columns
    assert got["commune_code"].tolist() == ["31555", None] and got[REASON].tolist() == [None, INVALID]
    with pytest.raises(LocateError, match="le crs 2154 se lit dans des colonnes x et y"):
        from_csv(b"lon;lat\n1;43\n", crs=2154, name="wgs.csv")


def test_geopackage_and_geoparquet_in_and_out(model: Model, tmp_path: Path):
    points = gpd.GeoDataFrame({"site": ["Toulouse", "Lourdes", "vide"]},
                              geometry=[shapely.Point(*TOULOUSE), shapely.Point(*LOURDES), None], crs=4326).to_crs(2154)
    gpkg, parquet = tmp_path / "in.gpkg", tmp_path / "in.parquet"
    points.to_file(gpkg, layer="sites")
    points.to_parquet(parquet)
    for src in (gpkg, parquet):
        table = read_table(src)
        located = locate_table(model, table)
        assert located.columns["commune_code"].tolist() == ["31555", "65286", None] and located.columns.at[2, REASON] == INVALID
        out = tmp_path / f"out-{src.suffix[1:]}.gpkg"
        write_table(table, located, out)
        back = pyogrio.read_dataframe(out)
        assert back["commune_code"].tolist()[:2] == ["31555", "65286"] and back.crs.to_epsg() == 4326
        assert back.geometry.iloc[0].distance(shapely.Point(*TOULOUSE)) < 1e-6 and back["site"].tolist() == ["Toulouse", "Lourdes", "vide"]
    write_table(table, located, tmp_path / "out.parquet")
    back = gpd.read_parquet(tmp_path / "out.parquet")
    assert back["departement_code"].tolist()[:2] == ["31", "65"] and pd.isna(back["departement_code"].iloc[2])
    polygons = points.assign(geometry=points.buffer(10))
    polygons.to_file(tmp_path / "poly.gpkg")
    with pytest.raises(LocateError, match="géométries Polygon, pas des points"):
        read_table(tmp_path / "poly.gpkg")


def test_records_and_inputs_that_cannot_be_read(model: Model, tmp_path: Path):
    table = from_records([{"lon": TOULOUSE[0], "lat": TOULOUSE[1], "id": 1}, {"lon": "x", "lat": 1, "id": 2}])
    frame = joined(table, locate_table(model, table))
    assert frame["id"].tolist() == [1, 2] and frame["commune_code"].tolist() == ["31555", None]
    with pytest.raises(LocateError, match=r"aucune colonne pour placer les lignes \(colonnes : a, b\). Correction : nommez les colonnes lon et lat"):
        from_csv(b"a;b\n1;2\n", name="t.csv")
    with pytest.raises(LocateError, match="contient déjà les colonnes commune_nom"):
        from_csv(b"code;commune_nom\n31555;x\n", name="t.csv")
    (tmp_path / "t.xlsx").write_bytes(b"PK")
    with pytest.raises(LocateError, match=r"format d'entrée inconnu \(\.xlsx\)"):
        read_table(tmp_path / "t.xlsx")


def _run(*args: str, settings) -> subprocess.CompletedProcess:
    env = os.environ | {"TERRITOIRES_MIRROR": str(settings.mirror), "TERRITOIRES_CACHE": str(settings.cache)}
    return subprocess.run([str(BIN), *args], capture_output=True, text=True, env=env, timeout=600)


def test_cli_locate(settings, tmp_path: Path):
    src = tmp_path / "codes.csv"
    src.write_text("code,usage\n31555,siège\n1001,ailleurs\n", encoding="utf-8")
    out = _run("locate", str(src), "-o", str(tmp_path / "o.csv"), "--date", "2024-06-01", "--json", settings=settings)
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    assert (summary["rows"], summary["placed"], summary["unplaced"], summary["by"]) == (2, 1, {OUTSIDE: 1}, "code")
    assert summary["date"] == "2024-06-01" and "territoires-d-industrie" in summary["schemes"]
    for args, text in ((["--date", "2024-13-01"], "--date '2024-13-01' is not a date. Fix: give it as YYYY-MM-DD"),
                       (["--crs", "999999"], "EPSG:999999 n'est pas un système de coordonnées connu")):
        bad = _run("locate", str(src), "-o", str(tmp_path / "x.csv"), *args, settings=settings)
        assert bad.returncode == 1 and "Traceback" not in bad.stderr and len(bad.stderr.strip().splitlines()) == 1, bad.stderr
        assert text in bad.stderr
