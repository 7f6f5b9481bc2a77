"""Boundary file reading: CRS handling and geometry repair (tiny geometries built here, then real data)."""
from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import Polygon

from geo.errors import InputError
from geo.readers import ReadReport, polygonal, read_boundaries
from geo.sources import catalogue

BOWTIE = Polygon([(1.0, 43.0), (1.1, 43.1), (1.1, 43.0), (1.0, 43.1), (1.0, 43.0)])
SQUARE = Polygon([(1.0, 43.0), (1.1, 43.0), (1.1, 43.1), (1.0, 43.1)])


def _write(gdf: gpd.GeoDataFrame, path: Path) -> Path:
    gdf.to_file(path, driver="GeoJSON")
    return path


def test_invalid_geometry_is_repaired_and_reported(tmp_path: Path):
    path = _write(gpd.GeoDataFrame({"code": ["99001", "99002"], "nom": ["a", "b"]}, geometry=[BOWTIE, SQUARE], crs=4326), tmp_path / "bowtie.geojson")
    report = ReadReport()
    gdf = read_boundaries(path, report)
    assert gdf.geometry.is_valid.all()
    assert report.repaired == [(str(path), "99001")]
    assert gdf.geometry.iloc[0].area == pytest.approx(0.005, rel=1e-6)  # both triangles of the bow-tie kept


def test_projected_file_is_reprojected_from_its_declared_crs(tmp_path: Path):
    src = gpd.GeoDataFrame({"code": ["99001"], "nom": ["a"]}, geometry=[SQUARE], crs=4326)
    path = tmp_path / "l93.gpkg"
    src.to_crs(2154).to_file(path, driver="GPKG")
    report = ReadReport()
    gdf = read_boundaries(path, report)
    assert report.reprojected == [(str(path), "EPSG:2154")]
    assert gdf.crs.to_epsg() == 4326
    assert gdf.geometry.iloc[0].symmetric_difference(SQUARE).area < 1e-9


def test_file_without_crs_and_projected_coordinates_is_refused(tmp_path: Path):
    coords = [[[574000, 6280000], [584000, 6280000], [584000, 6290000], [574000, 6280000]]]
    fc = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"code": "99001", "nom": "x"},
                                                      "geometry": {"type": "Polygon", "coordinates": coords}}]}
    path = tmp_path / "nocrs.geojson"
    path.write_text(json.dumps(fc))
    with pytest.raises(InputError) as exc:
        read_boundaries(path, ReadReport())
    assert str(path) in str(exc.value) and "not longitudes/latitudes" in str(exc.value) and "declare" in str(exc.value)


def test_truncated_file_is_one_clear_error(tmp_path: Path, mirror: Path):
    real = (mirror / catalogue()["communes-09"].file).read_bytes()
    path = tmp_path / "communes-09.geojson"
    path.write_bytes(real[: len(real) // 2])
    with pytest.raises(InputError) as exc:
        read_boundaries(path, ReadReport())
    assert str(path) in str(exc.value) and "fix" in str(exc.value)


def test_real_file_reads_with_string_codes(mirror: Path):
    gdf = read_boundaries(mirror / catalogue()["communes-09"].file, ReadReport())
    assert len(gdf) == 331 and gdf["code"].str.len().eq(5).all() and gdf.crs.to_epsg() == 4326


def test_polygonal_keeps_polygons_of_any_mix_of_types():
    """Lines and points, single, multi or nested in collections, are dropped; one polygon stays a Polygon."""
    import numpy as np
    import shapely

    geoms = shapely.from_wkt(np.array([
        "GEOMETRYCOLLECTION (POLYGON ((0 0, 1 0, 1 1, 0 1, 0 0)), MULTILINESTRING ((2 2, 3 3), (4 4, 5 5)), MULTIPOINT (6 6, 7 7))",
        "GEOMETRYCOLLECTION (MULTIPOLYGON (((0 0, 1 0, 1 1, 0 1, 0 0)), ((2 0, 3 0, 3 1, 2 1, 2 0))), LINESTRING (0 0, 9 9))",
        "POLYGON ((0 0, 1 0, 1 1, 0 1, 0 0))",
        "MULTILINESTRING ((0 0, 1 1), (2 2, 3 3))",
    ]))
    out = polygonal(geoms)
    assert [g.geom_type if g is not None else None for g in out] == ["Polygon", "MultiPolygon", "Polygon", None]
    assert shapely.area(out[1]) == 2.0 and shapely.equals(out[0], geoms[2])
