"""The Python API (geo/api.py): the README's example, extracted from the README and run as it is, then each call."""
from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely

from geo.api import Territoires, load
from geo.exports import ExportError
from geo.locate import OUTSIDE

README = Path(__file__).resolve().parent.parent / "README.md"


def readme_example() -> str:
    """The python code block of the README's "Python API" section."""
    section = README.read_text(encoding="utf-8").split("## Python API", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    assert len(blocks) == 1, "the Python API section holds one python example"
    return blocks[0]


@pytest.fixture(scope="module")
def t(settings) -> Territoires:
    return load(mirror=settings.mirror, cache=settings.cache)


def test_the_readme_example_runs(settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TERRITOIRES_MIRROR", str(settings.mirror))
    monkeypatch.setenv("TERRITOIRES_CACHE", str(settings.cache))
    monkeypatch.delenv("TERRITOIRES_SCOPE", raising=False)
    scope: dict = {}
    exec(compile(readme_example(), str(README), "exec"), scope)
    printed = capsys.readouterr().out
    assert printed.splitlines()[0] == "Toulouse — Toulouse Métropole"  # what the comment in the README says
    located = scope["located"]
    assert located["site"].tolist() == ["Capitole", "Lourdes", "Paris"]
    assert located["commune_nom"].tolist()[:2] == ["Toulouse", "Lourdes"] and located["motif"].tolist()[2] == OUTSIDE
    assert "Lourdes" in printed and OUTSIDE in printed
    toulouse = scope["toulouse"]
    assert set(toulouse["commune"]) == {"31555"} and "dialogue-metropolitain" in set(toulouse["scheme"])
    assert "contrats-de-ville-2015-2020" not in set(toulouse["scheme"])  # ended in 2020: not in force on 2024-06-01
    assert {"id", "name", "kind", "start", "end", "members", "communes", "population"} <= set(scope["schemes"].columns)
    epci = pyogrio.read_dataframe(scope["path"], layer="epci")
    assert scope["path"] == Path("epci.gpkg") and "243100518" in set(epci["code"]) and len(epci) < 40  # within 31 only


def test_coverage_of_a_territory_without_a_date_lists_every_period(t: Territoires):
    all_time = t.coverage("243100518")  # Toulouse Métropole: its 37 communes
    assert all_time["commune"].nunique() == 37
    assert "contrats-de-ville-2015-2020" in set(all_time["scheme"])
    assert {"start", "end", "role", "via_level", "via_code", "via_grouping", "source_title"} <= set(all_time.columns)
    assert {"commune", "epci"} <= set(all_time["via_level"])  # the structured path: the commune itself, its EPCI
    assert len(t.coverage("243100518", date="2024-06-01")) < len(all_time)


def test_locate_keeps_a_geodataframe_and_reads_codes(t: Territoires):
    points = gpd.GeoDataFrame({"n": [1, 2]}, geometry=[shapely.Point(1.4442, 43.6047), shapely.Point(2.35, 48.85)], crs=4326)
    out = t.locate(points.to_crs(2154))
    assert isinstance(out, gpd.GeoDataFrame) and out.crs.to_epsg() == 2154 and out["commune_code"].tolist() == ["31555", None]
    codes = t.locate(pd.DataFrame({"code": ["31555", "9001"]}), date="2024-06-01")
    assert codes["commune_nom"].tolist() == ["Toulouse", "Aigues-Juntes"]


def test_export_format_from_the_suffix(t: Territoires, tmp_path: Path):
    path = t.export("departements", tmp_path / "deps.shp.zip")
    assert path.stat().st_size > 0
    assert t.export("regions", tmp_path / "regions.parquet").stat().st_size > 0
    t.export("regions", tmp_path / "regions.qgz")  # a QGIS project, with the GeoPackage it opens beside it
    assert pyogrio.read_info(tmp_path / "regions.gpkg", layer="regions")["features"] == 1
    with pytest.raises(ExportError, match="aucun format d'export pour ce suffixe"):
        t.export("departements", tmp_path / "deps.xlsx")
