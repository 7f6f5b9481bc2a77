"""Territories: the reconciled communes and every administrative scale, built once and cached as GeoParquet.

The cache key is derived from the declared checksums of the inputs, the scope and the build format, so
a restart reads GeoParquet instead of re-parsing GeoJSON, and any change of input makes a new build.
Builds are immutable directories ``builds/<scope>-<key>-<stamp>``, each written to a temporary directory
and renamed into place, so readers (several workers) never see half a build; geo/versions.py decides
which build is in service. A build that cannot be written (full disk, read-only cache) or read back is one
CacheError, and leaves no temporary directory behind.
"""
from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TypeVar

import geopandas as gpd
import pandas as pd

from geo import quartiers, zonings
from geo.cachefiles import cache_error, new_directory
from geo.cog import CODE_TABLES, Cog, load_cog
from geo.config import Settings
from geo.errors import CacheError, Problem, SourceError
from geo.readers import ReadReport, read_many
from geo.reconcile import ReconciliationReport, reconcile
from geo.scales import build_scales
from geo.sources import catalogue, code_dataset, codes_source, commune_datasets, fetch, geometry_source

BUILD_FORMAT = 4  # bump when the content or layout of a build changes
BASE_LEVELS = ("commune", "epci", "departement", "region")
LEVELS = (*BASE_LEVELS, "quartier")  # every scale a build holds (groupings come from the catalogue)
COG_TABLES = ("communes", "links", "epci", "epci_members", "departements", "regions", "quartier_communes", "zone_shares")
BUILD_FILES = ("meta.json", *(f"{level}.parquet" for level in LEVELS), *(f"cog-{name}.parquet" for name in COG_TABLES))
T = TypeVar("T")
#: Datasets read in the build beside the communes and the COG (mirror-only: skipped, and said so, without a mirror).
EXTRA_DATASETS = (quartiers.DATASET, *zonings.ZONINGS)


@dataclass(frozen=True)
class Territories:
    """Administrative scales (commune, epci, departement, region), the quartier scale, the code tables and build reports."""

    scales: dict[str, gpd.GeoDataFrame]
    cog: Cog
    reconciliation: ReconciliationReport
    read_report: ReadReport
    version: str
    scope: str
    stamp: tuple = field(default=(), compare=False)  # the saved build's files as read (names, sizes, times): see build_stamp


def build_stamp(path: Path) -> tuple:
    """Name, size and modification time of each file of a saved build (empty when one is missing): a build read into
    memory is reused only while this is unchanged."""
    try:
        return tuple((name, (st := (path / name).stat()).st_size, st.st_mtime_ns) for name in BUILD_FILES)
    except OSError:
        return ()


def build_key(settings: Settings) -> str:
    """Identity of a build: scope, build format and the declared checksums of every input."""
    inputs = [[d.sha256, d.columns] for d in commune_datasets(settings.departements)]
    inputs += [code_dataset(n).sha256 for n in CODE_TABLES]
    inputs += [[catalogue()[d].sha256, catalogue()[d].columns] for d in EXTRA_DATASETS]
    text = json.dumps({"format": BUILD_FORMAT, "scope": settings.scope, "inputs": inputs})
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def build_territories(settings: Settings, progress: bool = False) -> Territories:
    """Build from the sources (mirror or downloads): read, reconcile, dissolve every scale."""
    cog = load_cog(settings, progress)
    read_report = ReadReport()
    files = [(fetch(d, settings, progress=progress), d.columns) for d in commune_datasets(settings.departements)]
    communes, report = reconcile(read_many(files, read_report), cog, geometry_source().vintage, codes_source().vintage)
    scales = build_scales(communes, cog, groupings=[])
    out = {k: scales[k] for k in BASE_LEVELS}
    out["quartier"], links = _optional(settings, read_report, quartiers.DATASET,
                                       lambda: quartiers.load_quartiers(settings, read_report, scales["commune"]),
                                       (quartiers.empty_scale(), quartiers.empty_links()))
    shares = _optional(settings, read_report, ",".join(zonings.ZONINGS),
                       lambda: zonings.zone_shares(settings, read_report, scales["commune"]), zonings.empty_shares())
    cog = replace(cog, quartier_communes=links, zone_shares=shares)
    return Territories(out, cog, report, read_report, build_key(settings), settings.scope)


def _optional(settings: Settings, report: ReadReport, dataset: str, build: Callable[[], T], empty: T) -> T:
    """What ``build`` returns; without a mirror, a mirror-only dataset gives ``empty`` and is listed in the report."""
    try:
        return build()
    except SourceError as exc:
        if settings.mirror is not None:  # the mirror must hold it: a missing or altered file is an error
            raise
        report.unavailable.append((dataset, str(exc)))
        return empty


def save(territories: Territories, settings: Settings) -> Path:
    """Write a new immutable build directory atomically (a temporary sibling renamed into place)."""
    target = settings.cache / "builds" / f"{settings.scope}-{territories.version}-{time.time_ns()}"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with new_directory(target) as tmp:
            for level, gdf in territories.scales.items():
                gdf.to_parquet(tmp / f"{level}.parquet", index=False)
            for name in COG_TABLES:
                getattr(territories.cog, name).to_parquet(tmp / f"cog-{name}.parquet", index=False)
            meta = {"version": territories.version, "scope": territories.scope,
                    "reconciliation": territories.reconciliation.as_dict(), "read_report": asdict(territories.read_report)}
            (tmp / "meta.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")
    except OSError as exc:
        raise cache_error(exc, f"write the build {target.name}", target.parent) from exc
    return target


def load_saved(path: Path) -> Territories:
    """Read a saved build; CacheError naming the build and the fix if it is missing or unreadable."""
    try:
        meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
        scales = {level: gpd.read_parquet(path / f"{level}.parquet") for level in LEVELS}
        cog = Cog(**{name: pd.read_parquet(path / f"cog-{name}.parquet") for name in COG_TABLES})
        rec = meta["reconciliation"]
        rec["rekeyed_codes"] = [tuple(x) for x in rec["rekeyed_codes"]]
        rr = meta["read_report"]
        return Territories(scales, cog, ReconciliationReport(**rec),
                           ReadReport(*([tuple(x) for x in rr[k]] for k in ("repaired", "reprojected", "unavailable"))),
                           meta["version"], meta["scope"], build_stamp(path))
    except FileNotFoundError as exc:
        what = "does not exist" if not path.is_dir() else f"lacks {Path(exc.filename or '?').name}"
        raise CacheError(Problem(str(path), None, f"the build {what}", "run `territoires refresh --rebuild` to build and publish "
                                 "a new version")) from exc
    except (OSError, ValueError, KeyError, TypeError) as exc:  # pyarrow's errors on a damaged file are OSError or ValueError
        raise CacheError(Problem(str(path), None, f"the build cannot be read ({type(exc).__name__}: {exc})",
                                 "run `territoires refresh --rebuild` to build and publish a new version")) from exc


def ensure_build(settings: Settings, rebuild: bool = False, progress: bool = False) -> Path:
    """The newest saved build for these inputs, built and saved first if there is none (or if ``rebuild``)."""
    root = settings.cache / "builds"
    found = sorted(root.glob(f"{settings.scope}-{build_key(settings)}-*/meta.json")) if root.exists() else []
    if found and not rebuild:
        return found[-1].parent
    return save(build_territories(settings, progress=progress), settings)


def load_territories(settings: Settings, rebuild: bool = False, progress: bool = False) -> Territories:
    """Territories for these settings, from the build cache (built first if needed)."""
    return load_saved(ensure_build(settings, rebuild=rebuild, progress=progress))
