"""Vintage reconciliation of 2018 polygons to 2026 codes, on the real data."""
from __future__ import annotations

import json
from collections import Counter

import shapely

from geo.config import Settings
from geo.readers import ReadReport, read_boundaries
from geo.sources import catalogue
from geo.territories import Territories, build_territories, load_territories


def test_occitanie_reconciliation_report(settings: Settings):
    rep = load_territories(settings).reconciliation
    assert rep.polygons_in == 4485
    assert rep.direct == 4445
    assert rep.rekeyed == {"chefLieu-deleguee": 38, "anciensCodes": 2}
    assert rep.communes_out == 4446
    assert rep.unplaced == []
    assert ("30157", "30052", "anciensCodes") in rep.rekeyed_codes
    assert ("12076", "12218", "chefLieu-deleguee") in rep.rekeyed_codes


def test_occitanie_communes_match_the_2026_code_list(settings: Settings, mirror):
    communes = load_territories(settings).scales["commune"]
    official = {c["code"] for c in json.loads((mirror / "cog/decoupage-administratif-2026/communes.json").read_text())
                if c["type"] == "commune-actuelle" and c["region"] == "76"}
    assert set(communes["code"]) == official
    assert communes["code"].is_unique and communes.geometry.is_valid.all()


def test_france_reconciles_with_no_unplaced_code(france_settings: Settings):
    t: Territories = load_territories(france_settings)
    rep = t.reconciliation
    assert rep.polygons_in == 35357 and rep.unplaced == []
    assert sum(rep.rekeyed.values()) == 493
    communes = [r for r in t.read_report.repaired if "/communes/" in r[0]]
    assert communes == [(str(france_settings.mirror / "boundaries/france-geojson-2018/communes/communes-14.geojson"), "14174")]
    quartiers = [r for r in t.read_report.repaired if r[0].endswith("qpv-2015-occitanie.geojson")]
    assert len(quartiers) == 32  # the QPV 2015 polygons rounded to 4 decimals upstream, repaired and reported


def test_a_dissolved_commune_covers_exactly_its_former_communes(settings: Settings):
    t = load_territories(settings)
    communes = t.scales["commune"].set_index("code")
    targets = Counter(new for _, new, _ in t.reconciliation.rekeyed_codes)
    new, n_old = targets.most_common(1)[0]
    dep = communes.loc[new, "departement"]
    raw = read_boundaries(settings.mirror / catalogue()[f"communes-{dep}"].file, ReadReport())
    former = [old for old, tgt, _ in t.reconciliation.rekeyed_codes if tgt == new] + ([new] if new in set(raw["code"]) else [])
    pieces = raw[raw["code"].isin(former)]
    assert len(pieces) >= n_old >= 2
    assert communes.loc[new].geometry.geom_type in ("Polygon", "MultiPolygon")
    assert abs(shapely.area(communes.loc[new].geometry) - shapely.area(pieces.geometry.values).sum()) < 1e-9  # same degrees², exactly
    assert "12218" in targets  # Conques-en-Rouergue: a code change, its polygon came from 12076


def test_cached_build_equals_a_fresh_build(settings: Settings):
    cached = load_territories(settings)
    fresh = build_territories(settings)
    for level in ("commune", "epci", "departement", "region"):
        a, b = cached.scales[level], fresh.scales[level]
        assert list(a["code"]) == list(b["code"])
        assert (a.geometry.geom_equals_exact(b.geometry, tolerance=0)).all()
