"""Pure tests of geo/search.py on tiny scales built in code (the real-data search is tested through the API)."""
from __future__ import annotations

import geopandas as gpd
import pytest
import shapely

from geo.search import LEVELS, SCHEME, SchemeEntry, SearchIndex, normalise


@pytest.mark.parametrize(("text", "expected"), [
    ("Labège", "labege"),
    ("Saint-Orens-de-Gameville", "saint orens de gameville"),
    ("St Orens", "saint orens"),
    ("Ste-Foy", "sainte foy"),
    ("L'Isle-Jourdain", "l isle jourdain"),
    ("Œuilly", "oeuilly"),
    ("  Toulouse   Métropole ", "toulouse metropole"),
    ("Castelnau-d’Estrétefonds", "castelnau d estretefonds"),
])
def test_normalise(text: str, expected: str) -> None:
    assert normalise(text) == expected


def _scale(rows: list[tuple[str, str, int]], x0: float = 0.0) -> gpd.GeoDataFrame:
    """One unit square per row, side by side from ``x0``."""
    return gpd.GeoDataFrame(
        {"code": [r[0] for r in rows], "nom": [r[1] for r in rows], "population": [r[2] for r in rows]},
        geometry=[shapely.box(x0 + i, 0, x0 + i + 1, 1) for i in range(len(rows))], crs="EPSG:4326")


@pytest.fixture()
def index() -> SearchIndex:
    scales = {level: _scale([]) for level in LEVELS}
    scales["commune"] = _scale([("31555", "Toulouse", 500_000), ("31069", "Blagnac", 25_000),
                                ("31557", "Tournefeuille", 28_000), ("81065", "Castres", 41_000),
                                ("31506", "Saint-Orens-de-Gameville", 12_000), ("31149", "Colomiers", 39_000)])
    scales["epci"] = _scale([("243100518", "Toulouse Métropole", 800_000)], x0=10)
    return SearchIndex(scales)


def test_exact_code_first(index: SearchIndex) -> None:
    assert index.search("31555")[0].code == "31555"
    assert index.search("243100518")[0].level == "epci"


def test_code_prefix_lists_every_match(index: SearchIndex) -> None:
    assert {h.code for h in index.search("3155")} == {"31555", "31557"}


def test_name_prefix_then_word_prefix_ranked_by_population(index: SearchIndex) -> None:
    hits = index.search("toulouse")
    assert [h.code for h in hits] == ["31555", "243100518"]  # exact name before a name that starts with it
    assert [h.code for h in index.search("metropole")] == ["243100518"]  # a word inside the name


def test_accent_hyphen_and_saint_insensitive(index: SearchIndex) -> None:
    assert index.search("st orens")[0].code == "31506"
    assert index.search("SAINT ORENS DE GAMEVILLE")[0].code == "31506"


def test_level_filter_limit_and_no_match(index: SearchIndex) -> None:
    assert [h.level for h in index.search("toulouse", level="epci")] == ["epci"]
    assert len(index.search("3", limit=2)) == 2
    assert index.search("zzz") == [] and index.search("   ") == []


def test_hit_carries_bbox_and_population(index: SearchIndex) -> None:
    hit = index.search("Blagnac")[0]
    assert hit.bbox == (1.0, 0.0, 2.0, 1.0) and hit.population == 25_000
    assert hit.as_dict() == {"level": "commune", "code": "31069", "nom": "Blagnac", "bbox": [1.0, 0.0, 2.0, 1.0],
                             "population": 25_000, "kind": None}


def test_schemes_found_by_name_with_their_kind_and_bounds() -> None:
    scales = {level: _scale([]) for level in LEVELS}
    scales["commune"] = _scale([("31555", "Toulouse", 500_000), ("31590", "Petite-Ville", 800)])
    schemes = [SchemeEntry("petites-villes-de-demain", "Petites villes de demain (liste 2024)", "programme", (1.0, 0.0, 2.0, 1.0), 900),
               SchemeEntry("dialogue-metropolitain", "Dialogue métropolitain de Toulouse", "network", None, 0)]
    index = SearchIndex(scales, schemes)
    hits = index.search("petites villes")
    assert [(h.level, h.code, h.kind) for h in hits] == [(SCHEME, "petites-villes-de-demain", "programme")]
    assert hits[0].as_dict()["bbox"] == [1.0, 0.0, 2.0, 1.0]
    assert [h.code for h in index.search("petite")] == ["petites-villes-de-demain", "31590"]  # covered population first
    assert index.search("dialogue")[0].as_dict()["bbox"] is None  # a scheme covering no commune in scope
    assert index.search("toulouse")[0].code == "31555"  # a territory's exact name first
    assert [h.level for h in index.search("toulouse", level=SCHEME)] == [SCHEME]
