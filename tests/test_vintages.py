"""Vintages, dataset labels and boundary columns come from the sources declaration (boundaries/sources.yaml)."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import Polygon

import geo.sources
from geo.config import Settings
from geo.errors import InputError
from geo.exports.provenance import base_sources
from geo.readers import ReadReport, read_boundaries
from geo.reconcile import ReconciliationReport
from geo.sources import codes_source, fetch, geometry_source, read_sources, sha256_of, vintage_note

SQUARE = Polygon([(1.0, 43.0), (1.1, 43.0), (1.1, 43.1), (1.0, 43.1)])
TRIANGLE = Polygon([(1.1, 43.0), (1.2, 43.0), (1.1, 43.1)])

SOURCES_IGN = """
groups:
  admin-express-2025:
    role: geometry
    title: Communes (IGN ADMIN EXPRESS COG 2025)
    label: IGN ADMIN EXPRESS COG 2025
    vintage: COG 2025
    columns: {{code: INSEE_COM, nom: NOM}}
  codes:
    role: codes
    label: COG 2027
    vintage: COG 2027
datasets:
  communes-09:
    group: admin-express-2025
    departement: "09"
    file: ign/COMMUNE-09.gpkg
    url: https://example.invalid/COMMUNE-09.gpkg
    sha256: {sha256}
"""


def _ign_file(mirror: Path) -> Path:
    """A tiny boundary file with IGN's own column names, written in code."""
    path = mirror / "ign" / "COMMUNE-09.gpkg"
    path.parent.mkdir(parents=True)
    gpd.GeoDataFrame({"INSEE_COM": ["09001", "09002"], "NOM": ["Aigues-Juntes", "Aigues-Vives"], "ID": ["a", "b"]},
                     geometry=[SQUARE, TRIANGLE], crs=4326).to_file(path, driver="GPKG")
    return path


def test_a_dataset_declared_with_ign_columns_is_read_as_code_and_nom(tmp_path: Path):
    mirror = tmp_path / "mirror"
    path = _ign_file(mirror)
    (tmp_path / "sources.yaml").write_text(SOURCES_IGN.format(sha256=sha256_of(path)), encoding="utf-8")
    declared = read_sources(tmp_path / "sources.yaml")
    ds = declared.datasets["communes-09"]
    assert ds.columns == {"code": "INSEE_COM", "nom": "NOM"}  # inherited from its group
    gdf = read_boundaries(fetch(ds, Settings(mirror=mirror, cache=tmp_path / "cache")), ReadReport(), ds.columns)
    assert list(gdf.columns) == ["code", "nom", "geometry"]
    assert gdf["code"].tolist() == ["09001", "09002"] and gdf["nom"].tolist() == ["Aigues-Juntes", "Aigues-Vives"]
    assert declared.role("geometry").label == "IGN ADMIN EXPRESS COG 2025" and declared.role("codes").vintage == "COG 2027"


def test_a_file_without_the_declared_columns_names_them_and_the_declaration(tmp_path: Path):
    path = _ign_file(tmp_path)
    with pytest.raises(InputError) as exc:
        read_boundaries(path, ReadReport())  # the model's own names: code, nom
    text = str(exc.value)
    assert str(path) in text and "missing column(s) code, nom" in text and "boundaries/sources.yaml" in text


def test_a_dataset_overrides_its_group_columns(tmp_path: Path):
    text = SOURCES_IGN.format(sha256="0" * 64) + "    columns: {code: code_insee, nom: nom_commune}\n"
    (tmp_path / "sources.yaml").write_text(text, encoding="utf-8")
    assert read_sources(tmp_path / "sources.yaml").datasets["communes-09"].columns == {"code": "code_insee", "nom": "nom_commune"}


def test_unknown_field_and_missing_role_are_clear_errors(tmp_path: Path):
    (tmp_path / "sources.yaml").write_text(SOURCES_IGN.format(sha256="0" * 64).replace("    vintage: COG 2025\n", "    vintge: COG 2025\n"),
                                           encoding="utf-8")
    with pytest.raises(geo.sources.SourceError, match="group admin-express-2025 has unknown field.s. vintge"):
        read_sources(tmp_path / "sources.yaml")
    (tmp_path / "sources.yaml").write_text(SOURCES_IGN.format(sha256="0" * 64).replace("    role: codes\n", ""), encoding="utf-8")
    with pytest.raises(geo.sources.SourceError, match="0 groups have role 'codes'.*Fix: give exactly one group `role: codes`"):
        read_sources(tmp_path / "sources.yaml").role("codes")


@pytest.fixture()
def vintage_2025(monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    """The project's declaration with the geometry relabelled as a 2025 vintage (as an edit of sources.yaml would)."""
    real = geo.sources.sources()
    geometry = dataclasses.replace(real.role("geometry"), label="IGN ADMIN EXPRESS COG 2025", vintage="COG 2025")
    patched = dataclasses.replace(real, groups=real.groups | {geometry.id: geometry})
    monkeypatch.setattr(geo.sources, "sources", lambda: patched)
    return geometry.label, real.role("codes").label


def test_legend_healthz_provenance_and_report_read_the_declared_vintages(vintage_2025: tuple[str, str], settings: Settings):
    from fastapi.testclient import TestClient

    from service.app import create_app

    geometry, codes = vintage_2025
    assert geometry_source().label == geometry and codes_source().label == codes
    assert vintage_note() == f"Limites {geometry}, codes {codes}."
    assert [(s["role"], s["vintage"]) for s in base_sources()] == [("geometry", "COG 2025"), ("codes", codes_source().vintage)]
    with TestClient(create_app(settings)) as client:  # its own app: pages are cached per data version
        assert client.get("/healthz").json()["vintages"] == {"geometrie": geometry, "codes": codes}
        assert f"Limites {geometry}, codes {codes}." in client.get("/maps/scales").text  # the legend's note
    report = ReconciliationReport("COG 2025", "COG 2027", polygons_in=3, direct=2, rekeyed={"anciensCodes": 1}, dissolved_into=1,
                                  communes_out=2, unplaced=[], without_polygon=["09999"])
    lines = report.lines()
    assert lines[0].startswith("COG 2025 polygons in:") and lines[0].endswith(" 3")
    assert any(line.startswith("COG 2027 communes out:") for line in lines) and lines[-1] == "COG 2027 communes with no polygon: 1 (09999)"


def test_the_build_report_carries_the_declared_vintages(model):
    rep = model.territories.reconciliation
    assert (rep.geometry_vintage, rep.codes_vintage) == (geometry_source().vintage, codes_source().vintage)
