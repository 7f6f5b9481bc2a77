"""Pure tests of geo/nesting.py on tiny scales built in code: what nests passes, what does not is named."""
from __future__ import annotations

import geopandas as gpd
import shapely

from geo.nesting import check_all, check_epci, check_grouping, check_region


def _frame(rows: list[dict]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")


def _scales(misplaced: bool = False) -> dict[str, gpd.GeoDataFrame]:
    """Four unit-square communes in two EPCI (a|b and c|d), one département, one région, one grouping of both EPCI.

    With ``misplaced``, commune b is declared in EPCI e2 although its square lies in e1's polygon."""
    squares = {c: shapely.box(i, 0, i + 1, 1) for i, c in enumerate("abcd")}
    epci_of = {"a": "e1", "b": "e2" if misplaced else "e1", "c": "e2", "d": "e2"}
    communes = _frame([{"code": c, "nom": c.upper(), "epci": epci_of[c], "departement": "01", "region": "76",
                        "area_km2": 1.0, "geometry": g} for c, g in squares.items()])
    epci = _frame([
        {"code": "e1", "nom": "E1", "partial": False, "communes": 2, "communes_total": 2, "regions": "76", "area_km2": 2.0,
         "geometry": shapely.box(0, 0, 2, 1)},
        {"code": "e2", "nom": "E2", "partial": False, "communes": 2, "communes_total": 2, "regions": "76", "area_km2": 2.0,
         "geometry": shapely.box(2, 0, 4, 1)},
    ])
    dep = _frame([{"code": "01", "nom": "D", "region": "76", "area_km2": 4.0, "geometry": shapely.box(0, 0, 4, 1)}])
    reg = _frame([{"code": "76", "nom": "R", "area_km2": 4.0, "geometry": shapely.box(0, 0, 4, 1)}])
    grp = _frame([{"code": "g", "nom": "G", "epci": "e1;e2", "regions": "76", "area_km2": 4.0, "geometry": shapely.box(0, 0, 4, 1)}])
    return {"commune": communes, "epci": epci, "departement": dep, "region": reg, "grouping": grp}


def test_what_nests_passes() -> None:
    results = check_all(_scales())
    assert [r.level for r in results] == ["epci", "grouping", "region"]
    assert all(r.ok for r in results), [r.exceptions for r in results]


def test_a_commune_outside_its_epci_is_named() -> None:
    by_code = {n.code: n for n in check_epci(_scales(misplaced=True))}
    assert not by_code["e2"].ok
    assert "commune b lies outside its EPCI" in by_code["e2"].exceptions
    assert "area differs from the sum of its communes" in by_code["e2"].exceptions  # 3 communes for an area of 2


def test_an_epci_area_that_does_not_add_up_is_named() -> None:
    scales = _scales()
    scales["epci"].loc[0, "area_km2"] = 2.5
    assert check_epci(scales, ["e1"])[0].exceptions == ["area differs from the sum of its communes"]


def test_partial_epci_is_a_note_not_a_failure() -> None:
    scales = _scales()
    scales["epci"].loc[1, ["partial", "communes_total"]] = [True, 3]
    summary = check_all(scales)[0]
    assert summary.ok and any("only 2 of its 3 communes" in n for n in summary.notes)
    assert not check_grouping(scales, "g").ok  # a grouping must hold whole EPCI


def test_grouping_with_an_epci_out_of_scope_is_named() -> None:
    scales = _scales()
    scales["grouping"].loc[0, "epci"] = "e1;e2;e9"
    assert "EPCI e9 is not in scope" in check_grouping(scales, "g").exceptions


def test_region_names_the_communes_outside_it() -> None:
    scales = _scales()
    scales["region"].loc[0, "geometry"] = shapely.box(0, 0, 2, 1)
    result = check_region(scales, "76")
    assert not result.ok
    assert {"commune c lies outside the région", "commune d lies outside the région"} <= set(result.exceptions)
    assert "commune a lies outside the région" not in result.exceptions


def test_commune_without_epci_is_a_note() -> None:
    scales = _scales()
    scales["commune"].loc[scales["commune"]["code"] == "d", "epci"] = None
    assert "commune d (D) belongs to no EPCI" in check_all(scales)[0].notes
