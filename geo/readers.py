"""Reading boundary files: CRS checks, geometry repair, and a report of what was changed."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from geo.errors import InputError, Problem
from geo.sources import MODEL_COLUMNS

WGS84 = "EPSG:4326"


@dataclass
class ReadReport:
    """What reading boundary files changed: repaired geometries and reprojected files."""

    repaired: list[tuple[str, str]] = field(default_factory=list)  # (file, code)
    reprojected: list[tuple[str, str]] = field(default_factory=list)  # (file, from CRS)
    unavailable: list[tuple[str, str]] = field(default_factory=list)  # (dataset, why): mirror-only data with no mirror


def read_boundaries(path: Path, report: ReadReport, columns: Mapping[str, str] = MODEL_COLUMNS) -> gpd.GeoDataFrame:
    """Read one boundary file into WGS 84 with valid geometries and the model's ``code`` and ``nom`` columns.

    ``columns`` maps each model column to the file's own (declared per dataset in boundaries/sources.yaml,
    e.g. ``{"code": "INSEE_COM", "nom": "NOM"}`` for IGN's files). A file in another CRS is reprojected
    from its declared CRS; a file with no CRS is taken as WGS 84 only when its coordinates are plausible
    longitudes/latitudes, and refused otherwise.
    Invalid geometries are repaired with make_valid and listed in ``report``.
    """
    name = str(path)
    if path.is_file() and path.stat().st_size == 0:  # GDAL would only say "not recognized as a supported format"
        raise InputError([Problem(name, None, "is empty (0 bytes)", "restore the original file from its declared source")])
    wanted = list(columns.values())
    try:
        gdf = pyogrio.read_dataframe(path, columns=wanted, use_arrow=True)
    except Exception as exc:
        raise InputError([Problem(name, None, f"cannot be read as a vector file ({exc})",
                                  "restore the original file from its declared source")]) from exc
    if gdf.empty:  # checked first: a FeatureCollection without features has no property columns either
        raise InputError([Problem(name, None, "holds no features", "restore the original file from its declared source")])
    missing = [c for c in wanted if c not in gdf.columns]
    if missing:
        raise InputError([Problem(name, None, f"missing column(s) {', '.join(missing)}",
                                  f"the file must have the properties {', '.join(wanted)} on every feature, "
                                  "or its dataset must declare its own `columns` in boundaries/sources.yaml")])
    gdf = gdf.rename(columns={file_col: model_col for model_col, file_col in columns.items()})
    null_geom = gdf.geometry.isna() | gdf.geometry.is_empty
    if null_geom.any():
        row = int(null_geom.to_numpy().nonzero()[0][0])
        raise InputError([Problem(name, row + 1, f"feature {gdf.iloc[row]['code']!r} has no geometry",
                                  "give every feature a polygon geometry", str(gdf.iloc[row]['code']))])
    not_polygonal = ~gdf.geometry.geom_type.isin(["Polygon", "MultiPolygon"])
    if not_polygonal.any():  # a point or a line cannot be dissolved into scales nor hold a lookup
        row = int(not_polygonal.to_numpy().nonzero()[0][0])
        raise InputError([Problem(name, row + 1, f"feature {gdf.iloc[row]['code']!r} is a {gdf.geom_type.iloc[row]}, "
                                  "not a polygon", "give every feature a polygon geometry", str(gdf.iloc[row]['code']))])
    if gdf.crs is None or gdf.crs.is_geographic:
        # GeoJSON without a 'crs' member is read as WGS 84: check the coordinates really are lon/lat
        xmin, ymin, xmax, ymax = gdf.total_bounds
        if not (-180 <= xmin <= xmax <= 180 and -90 <= ymin <= ymax <= 90):
            raise InputError([Problem(name, None, f"declares no projected CRS and its coordinates ({xmin:.0f}, {ymin:.0f}, "
                                      f"{xmax:.0f}, {ymax:.0f}) are not longitudes/latitudes",
                                      "declare the file's CRS (e.g. a GeoJSON 'crs' member or a .prj), or export it in WGS 84")])
    if gdf.crs is not None and gdf.crs.to_epsg() != 4326 and not gdf.crs.equals("OGC:CRS84"):
        report.reprojected.append((name, gdf.crs.to_string()))
        gdf = gdf.to_crs(WGS84)
    else:
        gdf = gdf.set_crs(WGS84, allow_override=True)
    gdf = gdf[[*columns, "geometry"]].copy()
    for col in columns:
        gdf[col] = gdf[col].astype("string")
    invalid = ~gdf.geometry.is_valid
    if invalid.any():
        report.repaired.extend((name, str(c)) for c in gdf.loc[invalid, "code"])
        fixed = polygonal(shapely.make_valid(gdf.geometry.values[invalid.to_numpy()]))
        gdf.loc[invalid, "geometry"] = gpd.GeoSeries(fixed, index=gdf.index[invalid], crs=gdf.crs)
    return gdf


def polygonal(geoms: np.ndarray) -> np.ndarray:
    """The polygonal part of each geometry (make_valid, clipping or snapping may return collections with lines or points)."""
    parts, owner = shapely.get_parts(geoms, return_index=True)  # collections and multi-polygons → members
    polygons, sub = shapely.get_parts(parts, return_index=True)  # multi-polygons inside collections → polygons
    owner = owner[sub]
    keep = shapely.get_type_id(polygons) == shapely.GeometryType.POLYGON
    out = np.full(len(geoms), None, dtype=object)
    shapely.multipolygons(polygons[keep], indices=owner[keep], out=out)
    single = shapely.get_num_geometries(out) == 1
    out[single] = shapely.get_geometry(out[single], 0)
    return out


def read_many(files: list[tuple[Path, Mapping[str, str]]], report: ReadReport) -> gpd.GeoDataFrame:
    """Read and concatenate boundary files (one per département), each with its declared columns."""
    frames = [read_boundaries(path, report, columns) for path, columns in files]
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=WGS84)
