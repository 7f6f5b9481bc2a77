"""Pure functions of the time and placement rules, on tiny cases built here."""
from __future__ import annotations

import datetime as dt

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import box

from geo.names import match_epci, normalise
from geo.periods import Basis, in_force, membership_period, parse_french_date
from geo.quartiers import quartier_communes
from geo.zonings import commune_shares

D = dt.date


def test_member_dates_first_then_the_scheme_then_non_date():
    p = membership_period(D(2018, 7, 13), None, D(2018, 3, 27), D(2022, 12, 31))
    assert (p.start, p.start_basis, p.end, p.end_basis) == (D(2018, 7, 13), Basis.MEMBER, D(2022, 12, 31), Basis.SCHEME)
    assert p.dated
    p = membership_period(None, None, D(2017, 7, 1), None)
    assert (p.start_basis, p.end, p.end_basis) == (Basis.SCHEME, None, Basis.UNDATED)
    assert not p.dated and str(p.end_basis) == "non daté"


@pytest.mark.parametrize("start, end, at, expected", [
    (D(2015, 1, 1), D(2023, 12, 31), D(2016, 6, 1), True),
    (D(2015, 1, 1), D(2023, 12, 31), D(2025, 6, 1), False),
    (D(2015, 1, 1), D(2023, 12, 31), D(2015, 1, 1), True),  # both bounds included
    (D(2015, 1, 1), D(2023, 12, 31), D(2023, 12, 31), True),
    (D(2015, 1, 1), D(2023, 12, 31), D(2014, 12, 31), False),
    (None, None, D(1990, 1, 1), True),  # non daté on both sides: in force at any date
    (D(2024, 1, 1), None, D(2030, 1, 1), True),
])
def test_in_force(start, end, at, expected):
    assert in_force(start, end, at) is expected


def test_an_undated_member_is_in_force_over_its_scheme_period_only():
    p = membership_period(None, None, D(2020, 10, 1), D(2026, 12, 31))
    assert in_force(p.start, p.end, D(2021, 1, 1)) and not in_force(p.start, p.end, D(2020, 9, 30))


@pytest.mark.parametrize("text, expected", [
    ("13 juillet 2018", D(2018, 7, 13)),
    ("1er septembre 2018", D(2018, 9, 1)),
    ("Date de signature : 09 décembre 2016", D(2016, 12, 9)),
    ("5 juillet", None),  # no year: not a date
    ("31 février 2018", None),
    ("indefini", None),
    ("", None),
])
def test_parse_french_date(text, expected):
    assert parse_french_date(text) == expected


EPCI = pd.DataFrame({"code": ["1", "2", "3", "4"],
                     "nom": ["CA du Grand Guéret", "CC Cœur de Chartreuse", "CC du Pays de Saint-Gilles", "CA du Pays de Saint-Gilles"]})


def test_normalise_names():
    assert normalise("Communauté d'agglomération du Grand Gueret") == normalise("CA Grand Guéret") == "ca grand gueret"
    assert normalise("CC Coeur de  Chartreuse (fusion)") == normalise("CC Cœur de Chartreuse")
    assert normalise("St-Gilles") == "saint gilles"


@pytest.mark.parametrize("name, code, why", [
    ("CA Grand Gueret", "1", "même nom"),
    ("Cœur de Chartreuse", "2", "sans la forme juridique"),
    ("CC Pays de St Gilles", "3", "même nom"),
    ("Pays de Saint-Gilles", None, "2 EPCI 2026"),  # two candidates without the legal form: not placed
    ("PETR du Pays d'Armagnac", None, "aucun EPCI"),
])
def test_match_epci_only_when_unambiguous(name, code, why):
    found, note = match_epci(name, EPCI)
    assert found == code and why in note


def test_commune_shares_of_a_dissolved_zone():
    communes = gpd.GeoDataFrame({"code": ["a", "b", "c"]},
                                geometry=[box(1.0, 43.0, 1.1, 43.1), box(1.1, 43.0, 1.2, 43.1), box(1.2, 43.0, 1.3, 43.1)],
                                crs="EPSG:4326")
    zone = box(1.0, 43.0, 1.16, 43.1)  # all of a, about 60 % of b, nothing of c
    shares = commune_shares(zone, communes)
    assert shares["a"] == pytest.approx(1.0, abs=1e-3) and shares["b"] == pytest.approx(0.6, abs=0.01) and shares["c"] == 0.0


def test_a_quartier_lies_in_the_communes_holding_two_percent_of_it():
    communes = gpd.GeoDataFrame({"code": ["a", "b", "c"]},
                                geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1), box(0, 1, 1, 2)], crs="EPSG:4326")
    quartiers = gpd.GeoDataFrame({"code": ["q1", "q2"]},
                                 geometry=[box(0.5, 0.5, 1.05, 0.9),  # ~9 % in b: in a and b
                                           box(0.2, 0.2, 0.6, 1.005)],  # a sliver (~1 %) in c: in a only
                                 crs="EPSG:4326")
    links = quartier_communes(quartiers, communes)
    assert set(map(tuple, links[["quartier", "commune"]].to_numpy())) == {("q1", "a"), ("q1", "b"), ("q2", "a")}
