"""The doll boundaries (geo/dolls.py) and the greedy placement of place names (geo/labels.py) on tiny geometries built
in code: each shared edge once with the scales it bounds, its inner side on its left, T-junctions of the coverage,
a focus; labels placed by priority without overlaps."""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from geo.dolls import Dolls, edges
from geo.labels import place


def scales() -> dict[str, gpd.GeoDataFrame]:
    """Four unit squares in a row, A B | C D: EPCI e1 = A B, e2 = C D; one département, one région; the grouping g holds
    e1. B's right side has a vertex at mid-height that C's left side lacks (a T-junction)."""
    a, b = shapely.box(0, 0, 1, 1), shapely.Polygon([(1, 0), (2, 0), (2, 0.5), (2, 1), (1, 1)])
    c, d = shapely.box(2, 0, 3, 1), shapely.box(3, 0, 4, 1)
    communes = gpd.GeoDataFrame({"code": ["A", "B", "C", "D"], "epci": ["e1", "e1", "e2", "e2"], "departement": ["01"] * 4,
                                 "region": ["84"] * 4}, geometry=[a, b, c, d], crs=4326)
    grouping = gpd.GeoDataFrame({"code": ["g"], "epci": ["e1"], "population": [10]}, geometry=[shapely.box(0, 0, 2, 1)], crs=4326)
    return {"commune": communes, "grouping": grouping}


def test_dolls_of_the_scales_outermost_first():
    dolls = Dolls.of(scales())
    assert dolls.keys == ("region", "departement", "grouping:g", "epci")
    assert dolls.units[:, 2].tolist() == [1, 1, 0, 0] and dolls.depth.tolist() == [2, 2, 1, 1]


def test_each_boundary_once_with_the_scales_it_bounds():
    geo, dolls = scales(), Dolls.of(scales())
    found = edges(geo["commune"].geometry.values, np.arange(4), dolls)
    by_mask = {int(m): shapely.union_all(found.lines[found.masks == m]) for m in np.unique(found.masks)}
    region, dep, grp, epci = 1, 2, 4, 8
    # between A and B (same EPCI, same grouping): nothing; between B and C: the EPCI and the grouping, across the
    # T-junction, as one line; the outline of the row: every scale, plus the grouping along A and B
    assert by_mask[epci | grp].equals(shapely.LineString([(2, 0), (2, 0.5), (2, 1)]))  # northwards: g (B) on its left
    assert abs(by_mask[region | dep | grp | epci].length - 5) < 1e-9  # A and B's outer sides
    assert abs(by_mask[region | dep | epci].length - 5) < 1e-9  # C and D's
    assert abs(shapely.length(found.lines).sum() - (10 + 1)) < 1e-9  # the row's outline and one inner boundary, each once
    assert 0 not in by_mask


def test_a_boundary_runs_with_its_inner_side_on_its_left():
    """Inside the scope, and where a grouping's boundary runs, inside the grouping (y up: the side (-dy, dx))."""
    geo, dolls = scales(), Dolls.of(scales())
    found = edges(geo["commune"].geometry.values, np.arange(4), dolls)
    inside = shapely.union_all(geo["commune"].geometry.values)
    for line, mask in zip(found.lines, found.masks):
        left = shapely.line_interpolate_point(shapely.offset_curve(line, 0.01), 0.5, normalized=True)
        assert inside.contains(left)
        if mask & 4:  # the grouping's boundary: g (A and B) on its left
            assert geo["grouping"].geometry.iloc[0].contains(left)


def test_a_focus_keeps_the_boundaries_of_its_territories():
    """Focused on e2, the EPCI's boundary is e2's only (not A–B's side of e1), and the grouping's none."""
    geo, dolls = scales(), Dolls.of(scales())
    keep = dolls.keep({"epci": frozenset({"e2"}), "grouping": frozenset(), "departement": frozenset({"01"}), "region": frozenset({"84"})})
    found = edges(geo["commune"].geometry.values, np.arange(4), dolls, keep)
    epci = shapely.union_all(found.lines[(found.masks & 8) > 0])
    assert abs(epci.length - 6) < 1e-9 and epci.distance(shapely.Point(0.5, 0)) > 0.4  # C and D's outline only
    assert not (found.masks & 4).any()


def test_labels_are_placed_by_priority_without_overlaps():
    boxes = [[(0, 0, 10, 4)], [(5, 1, 15, 5)], [(5, 1, 15, 5), (5, 6, 15, 10)], [(30, 0, 40, 4)]]
    assert place(boxes, padding=0) == [0, None, 1, 0]  # the second overlaps the first; the third moves down; the fourth is free
    assert place([[(0, 0, 10, 4)], [(11, 0, 20, 4)]], padding=2) == [0, None]  # within the padding: an overlap
