"""Pure tests of geo/simplify.py on a tiny coverage built in code: shared edges stay shared, scales still nest."""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo.simplify import CASCADE_FROM_M, METRES_PER_DEGREE, TOLERANCES_M, SimplifiedScales, snap_tolerance, tolerance_for_zoom


def _zigzag_coverage() -> list[shapely.Polygon]:
    """Four cells of a 2 × 2 grid (0.02° each) whose inner edges zigzag with 1 m teeth, so simplification has work."""
    n, size, tooth = 40, 0.02, 1 / METRES_PER_DEGREE
    xs = np.linspace(0, 2 * size, 2 * n + 1)
    ys = np.linspace(0, 2 * size, 2 * n + 1)
    vertical = [(size + (tooth if i % 2 else 0), y) for i, y in enumerate(ys)]  # the x = size edge, bottom to top
    horizontal = [(x, size + (tooth if i % 2 else 0)) for i, x in enumerate(xs)]  # the y = size edge, left to right
    left = shapely.Polygon([(0, 0), *vertical, (0, 2 * size)])
    right = shapely.Polygon([(2 * size, 0), *vertical, (2 * size, 2 * size)])
    below = shapely.Polygon([(0, 0), *horizontal, (2 * size, 0)])
    above = shapely.Polygon([(0, 2 * size), *horizontal, (2 * size, 2 * size)])
    return [shapely.make_valid(a.intersection(b)) for a in (left, right) for b in (below, above)]


@pytest.fixture()
def scales() -> dict[str, gpd.GeoDataFrame]:
    cells = _zigzag_coverage()
    communes = gpd.GeoDataFrame({"code": ["a", "b", "c", "d"], "nom": list("ABCD"), "epci": ["e1", "e1", "e2", "e2"],
                                 "departement": ["d"] * 4}, geometry=cells, crs="EPSG:4326")
    epci = gpd.GeoDataFrame({"code": ["e1", "e2"], "nom": ["E1", "E2"]},
                            geometry=[shapely.union_all(cells[:2]), shapely.union_all(cells[2:])], crs="EPSG:4326")
    dep = gpd.GeoDataFrame({"code": ["d"], "nom": ["D"]}, geometry=[shapely.union_all(cells)], crs="EPSG:4326")
    return {"commune": communes, "epci": epci, "departement": dep}


def test_snap_tolerance_takes_the_offered_value_below() -> None:
    assert snap_tolerance(0) == 0 and snap_tolerance(6.9) == 0 and snap_tolerance(7) == 7
    assert snap_tolerance(100) == 55 and snap_tolerance(1e9) == TOLERANCES_M[-1]


def test_tolerance_for_zoom_halves_with_each_zoom_and_is_offered() -> None:
    values = [tolerance_for_zoom(z) for z in range(5, 16)]
    assert all(v in TOLERANCES_M for v in values)
    assert values == sorted(values, reverse=True) and values[0] > values[-1] == 0
    assert tolerance_for_zoom(10, pixels=4) >= 2 * tolerance_for_zoom(10)


def test_simplified_communes_stay_a_coverage(scales: dict[str, gpd.GeoDataFrame]) -> None:
    simplified = SimplifiedScales(scales).get("commune", 111).geometry.to_numpy()
    original = scales["commune"].geometry.to_numpy()
    assert shapely.get_num_coordinates(simplified).sum() < shapely.get_num_coordinates(original).sum() / 3
    assert shapely.is_valid(simplified).all()
    union = shapely.union_all(simplified)
    assert union.area == pytest.approx(shapely.area(simplified).sum(), rel=1e-9)  # no overlaps
    assert union.area == pytest.approx(shapely.union_all(original).area, rel=1e-3)  # no gaps, same extent
    for i in range(4):
        for j in range(i + 1, 4):
            assert shapely.intersection(simplified[i], simplified[j]).area == pytest.approx(0, abs=1e-15)


def test_coarse_tolerances_cascade_from_one_simplification_and_stay_a_coverage(scales: dict[str, gpd.GeoDataFrame]) -> None:
    """Tolerances above CASCADE_FROM_M are simplified from its result: their vertices are some of its vertices, and
    they are a coverage (no overlap, no gap) like it."""
    simplified = SimplifiedScales(scales)
    base = simplified.get("commune", CASCADE_FROM_M).geometry.to_numpy()
    coarse = simplified.get("commune", 3548).geometry.to_numpy()
    assert shapely.get_num_coordinates(coarse).sum() < shapely.get_num_coordinates(base).sum()
    kept = {tuple(xy) for xy in shapely.get_coordinates(base)}
    assert all(tuple(xy) in kept for xy in shapely.get_coordinates(coarse))
    assert shapely.is_valid(coarse).all()
    union = shapely.union_all(coarse)
    assert union.area == pytest.approx(shapely.area(coarse).sum(), rel=1e-9)  # no overlap
    assert union.geom_type == "Polygon" and shapely.get_num_interior_rings(union) == 0  # no gap between them


def test_coarser_scales_are_dissolved_from_the_simplified_communes(scales: dict[str, gpd.GeoDataFrame]) -> None:
    s = SimplifiedScales(scales)
    communes = s.get("commune", 111).geometry.to_numpy()
    epci = s.get("epci", 111).geometry.to_numpy()
    assert shapely.symmetric_difference(epci[0], shapely.union_all(communes[:2])).area == pytest.approx(0, abs=1e-12)
    assert shapely.symmetric_difference(epci[1], shapely.union_all(communes[2:])).area == pytest.approx(0, abs=1e-12)
    dep = s.get("departement", 111).geometry.to_numpy()[0]
    assert shapely.symmetric_difference(dep, shapely.union_all(epci)).area == pytest.approx(0, abs=1e-12)


def test_zero_tolerance_keeps_the_geometry_rounded_to_a_metre(scales: dict[str, gpd.GeoDataFrame]) -> None:
    kept = SimplifiedScales(scales).get("commune", 0)
    coords = shapely.get_coordinates(kept.geometry.to_numpy())
    assert np.allclose(coords, np.round(coords, 5))
    assert shapely.get_num_coordinates(kept.geometry.to_numpy()).sum() <= shapely.get_num_coordinates(
        scales["commune"].geometry.to_numpy()).sum()


def test_layers_are_computed_once(scales: dict[str, gpd.GeoDataFrame]) -> None:
    s = SimplifiedScales(scales)
    assert s.get("epci", 55) is s.get("epci", 55.0)
