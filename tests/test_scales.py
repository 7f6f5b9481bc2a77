"""Nested scales and the nesting check on the real data."""
from __future__ import annotations

import json

import numpy as np
import pytest
from pyproj import Geod

from geo.model import Model
from geo.nesting import check_all, check_grouping, check_region
from geo.scales import build_groupings


def test_toulouse_metropole(model: Model, mirror):
    epci = model.scales["epci"].set_index("code").loc["243100518"]
    official = next(e for e in json.loads((mirror / "cog/decoupage-administratif-2026/epci.json").read_text()) if e["code"] == "243100518")
    communes = model.scales["commune"]
    assert (communes["epci"] == "243100518").sum() == 37 == epci["communes"]
    assert epci["population"] == official["populationMunicipale"]
    assert abs(epci["area_km2"] - 458) / 458 <= 0.015


def test_areas_are_projected_not_degrees(model: Model):
    """Lambert-93 areas agree with geodesic areas within 0.3 % (its scale distortion in the south) for every département."""
    geod = Geod(ellps="GRS80")
    dep = model.scales["departement"]
    geodesic = np.array([abs(geod.geometry_area_perimeter(g)[0]) / 1e6 for g in dep.geometry])
    assert np.allclose(dep["area_km2"], geodesic, rtol=0.003)


def test_every_scale_has_the_common_columns(model: Model):
    for level, gdf in model.scales.items():
        for col in ("code", "nom", "level", "population", "area_km2", "geometry"):
            assert col in gdf.columns, (level, col)
        assert (gdf["level"] == level).all() and gdf["code"].is_unique and gdf.crs.to_epsg() == 4326
    assert model.scales["region"]["population"].iloc[0] == model.scales["commune"]["population"].sum()


@pytest.mark.parametrize("grouping", ["agglomeration-toulousaine", "dialogue-metropolitain", "partenariat-toulouse-montpellier"])
def test_groupings_nest_whole_epci(model: Model, grouping: str):
    result = check_grouping(model.scales, grouping)
    assert result.ok, result.exceptions
    members = model.catalogue.schemes[grouping].codes
    assert result.parts == len(members)


def test_region_occitanie_nests_and_names_straddling_epci(model: Model):
    result = check_region(model.scales, "76")
    assert result.ok, result.exceptions
    assert result.parts == 13
    assert any("248400251" in n for n in result.notes)  # Grand Avignon crosses into Provence-Alpes-Côte d'Azur


def test_all_nesting_checks_pass(model: Model):
    assert all(n.ok for n in check_all(model.scales))


def test_a_grouping_with_a_cut_epci_fails_and_names_it(model: Model):
    scheme = model.catalogue.schemes["agglomeration-toulousaine"]
    from dataclasses import replace

    from geo.schemes import Member
    bad = replace(scheme, id="test-cut", members=scheme.members + (Member(code="248400251"),))  # Grand Avignon, cut by the scope
    scales = dict(model.scales, grouping=build_groupings(model.scales["epci"], [bad]))
    result = check_grouping(scales, "test-cut")
    assert not result.ok
    assert any("248400251" in e and "7 of 16" in e for e in result.exceptions)
