"""The grid point lookup: tiny geometries built in code, then the real communes against brute-force shapely."""
from __future__ import annotations

import numpy as np
import pytest
import shapely
from shapely.geometry import MultiPolygon, Polygon, box

from bench.build_and_lookup import boundary_points, brute_force, random_points
from geo.config import Settings
from geo.lookup import Locator
from geo.model import Model
from geo.territories import load_territories

NAN, INF = float("nan"), float("inf")


def locate(polygons: list, points: list[tuple[float, float]], cell: float | None = None) -> list[int]:
    x, y = np.array(points, dtype=float).T
    return Locator(np.array(polygons, dtype=object), cell).locate(x, y).tolist()


def test_squares_sharing_an_edge_the_lowest_index_wins_on_it():
    left, right = box(0, 0, 1, 1), box(1, 0, 2, 1)
    points = [(0.5, 0.5), (1.5, 0.5), (1.0, 0.5), (1.0, 1.0), (1.0, 0.0), (2.0, 0.5), (2.0, 0.0), (0.0, 0.0), (3.0, 0.5), (1.5, 1.5)]
    assert locate([left, right], points) == [0, 1, 0, 0, 0, 1, 1, 0, -1, -1]
    assert locate([right, left], points) == [1, 0, 0, 0, 0, 0, 0, 1, -1, -1]  # the shared edge follows the order


def test_edges_on_grid_lines_and_points_a_hair_away():
    """The squares' edges fall on the grid's lines (cell 1/8): a point one float step off an edge goes to its side."""
    left, right = box(0, 0, 1, 1), box(1, 0, 2, 1)
    below, above = np.nextafter(1.0, 0), np.nextafter(1.0, 2)
    points = [(below, 0.5), (above, 0.5), (0.5, below), (0.5, above), (np.nextafter(0.0, -1), 0.5), (np.nextafter(2.0, 3), 0.5)]
    assert locate([left, right], points, cell=0.125) == [0, 1, 0, -1, -1, -1]


def test_a_hole_and_the_commune_inside_it():
    ring = Polygon([(0, 0), (4, 0), (4, 4), (0, 4)], [[(1, 1), (3, 1), (3, 3), (1, 3)]])
    enclave = box(1, 1, 3, 3)
    points = [(0.5, 0.5), (2, 2), (1, 2), (3, 3), (3.5, 2), (5, 5)]
    assert locate([ring, enclave], points) == [0, 1, 0, 0, 0, -1]
    assert locate([enclave, ring], points) == [1, 0, 0, 0, 1, -1]
    assert locate([ring], points) == [0, -1, 0, 0, 0, -1]  # an empty hole holds nothing


def test_a_multipolygon_answers_for_each_part():
    parts = MultiPolygon([box(10, 10, 11, 11), box(20, 20, 21, 21)])
    between = box(14, 14, 15, 15)
    points = [(10.5, 10.5), (20.5, 20.5), (14.5, 14.5), (12, 12), (21, 21), (16, 16)]
    assert locate([between, parts], points) == [1, 1, 0, -1, 1, -1]


def test_overlapping_polygons_give_the_lowest_index_everywhere():
    """Not a coverage: a polygon holding a cell whole is a candidate there even when another polygon's ring crosses it."""
    big, small = box(0, 0, 3, 3), box(1, 1, 2, 2)
    points = [(1.5, 1.5), (1.0001, 1.5), (1, 1), (0.5, 0.5), (2.5, 2.9)]
    assert locate([big, small], points) == [0, 0, 0, 0, 0]
    assert locate([small, big], points) == [0, 0, 0, 1, 1]


def test_points_outside_the_grid_nan_and_infinite_give_minus_one():
    squares = [box(0, 0, 1, 1), box(1, 0, 2, 1)]
    points = [(-100, 0.5), (100, 0.5), (0.5, -1e9), (0.5, 1e300), (NAN, 0.5), (0.5, NAN), (INF, 0.5), (-INF, -INF), (NAN, NAN)]
    assert locate(squares, points) == [-1] * len(points)
    assert Locator(np.array(squares, dtype=object)).locate(np.array([]), np.array([])).tolist() == []


def test_no_polygons_at_all():
    assert Locator(np.array([], dtype=object)).locate(np.array([0.0, NAN]), np.array([0.0, 1.0])).tolist() == [-1, -1]


@pytest.mark.parametrize("cell", [None, 1 / 64, 1.0, 16.0])
def test_many_shapes_agree_with_brute_force_at_any_cell_size(cell: float | None):
    """Random triangles, holes, multipolygons and overlaps; points at random, on vertices, on edges and on grid lines."""
    rng = np.random.default_rng(7)
    shapes = []
    for _ in range(40):
        x, y = rng.uniform(0, 10, 2)
        triangle = Polygon(np.column_stack([x + rng.uniform(-2, 2, 3), y + rng.uniform(-2, 2, 3)])).buffer(0)
        shapes.append(triangle.difference(shapely.Point(x, y).buffer(0.3)) if rng.random() < 0.3 else triangle)
    shapes += [MultiPolygon([box(1, 1, 2, 2), box(3, 1, 4, 2)]), box(0, 0, 5, 5), box(5, 0, 10, 5)]
    shapes = np.array(shapes, dtype=object)
    vertices = shapely.get_coordinates(shapes)
    mids = (vertices[:-1] + vertices[1:]) / 2
    lattice = np.mgrid[-1:11:0.125, -1:11:0.125].reshape(2, -1).T
    points = np.concatenate([rng.uniform(-1, 11, (4000, 2)), vertices, mids, lattice])
    expected, touching = brute_force(shapes, points[:, 0], points[:, 1])
    got = Locator(shapes, cell).locate(points[:, 0], points[:, 1])
    assert (touching > 1).sum() > 1000 and (expected == -1).sum() > 100  # the sample does hold ties and misses
    assert np.array_equal(got, expected)


def test_real_communes_agree_with_brute_force_at_random_and_near_boundaries(model: Model):
    """10,000 random points in Occitanie and 10,000 within 1 m of a commune boundary: 100 % the brute-force answer."""
    communes = model.scales["commune"]
    lon, lat = random_points(communes.total_bounds, 10_000)
    near_lon, near_lat = boundary_points(communes, 10_000)
    lon, lat = np.concatenate([lon, near_lon]), np.concatenate([lat, near_lat])
    expected, touching = brute_force(communes.geometry.values, lon, lat)
    got = model.locator.locate(lon, lat)
    assert (expected[:10_000] >= 0).sum() > 5000 and (touching[10_000:] > 1).sum() > 2000
    assert np.array_equal(got, expected), f"{(got != expected).sum()} points disagree"
    codes = model.locate(lon[:3], lat[:3])  # the model turns indices into codes
    assert codes.tolist() == [None if i < 0 else communes["code"].iloc[i] for i in expected[:3]]


def test_france_communes_agree_with_brute_force_overseas_too(france_settings: Settings):
    """The national grid spans the overseas départements: points around random communes, on vertices, on edges."""
    geometries = load_territories(france_settings).scales["commune"].geometry.values
    rng = np.random.default_rng(3)
    bounds = shapely.bounds(np.asarray(geometries))
    overseas = np.flatnonzero(bounds[:, 3] < 20)
    bounds = bounds[np.concatenate([rng.integers(0, len(geometries), 3000), rng.choice(overseas, 1000)])]
    around = rng.uniform(bounds[:, :2], bounds[:, 2:])
    coordinates = shapely.get_coordinates(geometries)
    at = rng.integers(0, len(coordinates) - 1, 2000)
    points = np.concatenate([around, coordinates[at], (coordinates[at] + coordinates[at + 1]) / 2])  # vertices, mid-edges
    expected, touching = brute_force(geometries, points[:, 0], points[:, 1])
    got = Locator(geometries).locate(points[:, 0], points[:, 1])
    assert (touching > 1).sum() > 1000 and (got[points[:, 1] < 20] >= 0).sum() > 500  # ties; overseas
    assert np.array_equal(got, expected), f"{(got != expected).sum()} points disagree"
