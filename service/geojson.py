"""GeoJSON layers for the maps and the API, and HTTP caching by data version.

A layer is a scale simplified at one tolerance (geo.simplify), serialised into one JSON text per feature
the first time a response needs that feature (kept in the model's memo); a response joins the features inside a
territory and/or a bounding box and is kept gzip-compressed in the app's response memo (``app.state.responses``,
bounded in bytes). Every data response carries an ETag derived from the model version, and a request whose
If-None-Match matches it gets 304 before any work is done.
"""
from __future__ import annotations

import gzip
import json
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import shapely
from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.responses import JSONResponse, Response

from geo.memo import Memo
from geo.model import Model
from geo.simplify import TOLERANCES_M, snap_tolerance, tolerance_for_zoom  # noqa: F401  (re-exported)
from service.http import accepts_gzip

API_FORMAT = "1"  # bump when the shape of a response changes, so cached copies are refetched
GEOJSON = "application/geo+json"


def etag(model: Model) -> str:
    """Weak ETag of every data response: same data version and response format, same content."""
    return f'W/"{model.version}-{API_FORMAT}"'


def _matches(request: Request, tag: str) -> bool:
    header = request.headers.get("if-none-match")
    if not header:
        return False
    wanted = tag.removeprefix("W/")
    return any(t.strip() == "*" or t.strip().removeprefix("W/") == wanted for t in header.split(","))


def _headers(tag: str) -> dict[str, str]:
    return {"ETag": tag, "Cache-Control": "no-cache", "Vary": "Accept-Encoding"}


def cached_json(request: Request, model: Model, build: Callable[[], object], media_type: str = "application/json",
                memo: bool = True, key: tuple | None = None) -> Response:
    """``build()`` as JSON with the model's ETag, or 304 (without calling it) if the client has it.

    With ``memo``, the body is built once per data version and URL, kept gzip-compressed in the app's
    bounded response cache; answers that vary with every request (point lookups) pass ``memo=False``. ``key``, when
    given, names the answer by its parsed parameters instead of the raw query (so '?date=' and '?date=2026-05-04'
    today are one entry).
    """
    tag = etag(model)
    if _matches(request, tag):
        return Response(status_code=304, headers=_headers(tag))
    if not memo:
        return JSONResponse(build(), headers=_headers(tag), media_type=media_type)
    entry = (model.version, "json", request.url.path, declared_query(request) if key is None else key)
    payload = cached_payload(request.app.state.responses, entry, lambda: json.dumps(build(), ensure_ascii=False, allow_nan=False,
                                                                                   separators=(",", ":")).encode())
    return payload.response(request, model, media_type=media_type)


def declared_query(request: Request) -> tuple[tuple[str, str], ...]:
    """The query parameters of a request that its route takes, sorted by name: what a response memo keys on (a
    parameter the route does not take, such as ``?junk=1``, changes nothing and makes no entry of its own)."""
    route = request.scope.get("route")
    names = _query_names(route.dependant) if route is not None and hasattr(route, "dependant") else frozenset()
    return tuple(sorted((k, v) for k, v in request.query_params.multi_items() if k in names))


def _query_names(dependant: Dependant) -> frozenset[str]:
    """The query parameter names (aliases) a route takes, its dependencies' included."""
    names = {p.alias for p in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return frozenset(names)


def not_modified(request: Request, model: Model) -> Response | None:
    """304 if the client already holds this data version."""
    tag = etag(model)
    return Response(status_code=304, headers=_headers(tag)) if _matches(request, tag) else None


@dataclass(frozen=True)
class Payload:
    """A response body, plain and gzip-compressed."""

    raw: bytes
    gz: bytes

    @classmethod
    def of(cls, raw: bytes, compress: bool = True) -> Payload:
        """A body and its gzip form (none for what is compressed already: PNG)."""
        return cls(raw, gzip.compress(raw, compresslevel=9, mtime=0) if compress else b"")

    @classmethod
    def of_gzip(cls, gz: bytes) -> Payload:
        """A body given compressed (a tile of the archive)."""
        return cls(gzip.decompress(gz), gz)

    def size(self) -> int:
        """Bytes held (plain and compressed): what a response memo counts."""
        return len(self.raw) + len(self.gz)

    def response(self, request: Request, model: Model, media_type: str = GEOJSON, headers: dict | None = None) -> Response:
        """The body gzip-encoded when the client accepts it (GZipMiddleware leaves encoded bodies alone)."""
        out = {**_headers(etag(model)), **(headers or {})}
        if self.gz and accepts_gzip(request.headers.get("accept-encoding", "")):
            return Response(self.gz, media_type=media_type, headers={**out, "Content-Encoding": "gzip"})
        return Response(self.raw, media_type=media_type, headers=out)


class SerialisedLayer:
    """One scale at one tolerance: codes, bounds, and GeoJSON Feature texts made on demand (only for the
    territories some response asked for, so a national layer is never serialised whole)."""

    def __init__(self, model: Model, level: str, tolerance_m: int):
        gdf = model.simplified.get(level, tolerance_m)
        self._geometries = gdf.geometry.to_numpy()
        self._names = gdf["nom"].astype(str).to_numpy(dtype=object)
        self.codes = gdf["code"].astype(str).to_numpy(dtype=object)
        self.bounds = shapely.bounds(self._geometries)
        self._texts: dict[int, str] = {}
        self._lock = threading.Lock()

    def select(self, codes: frozenset[str] | None = None, bbox: tuple[float, float, float, float] | None = None) -> np.ndarray:
        """Positions of the territories among ``codes`` whose box meets ``bbox``."""
        return np.flatnonzero(selection_mask(self.codes, self.bounds, codes, bbox))

    def features(self, positions: np.ndarray) -> list[str]:
        """The Feature texts of the territories at ``positions`` (serialised on first use, all missing ones at once)."""
        with self._lock:
            missing = np.array([i for i in positions if i not in self._texts], dtype=np.int64)
            if len(missing):
                geometries = shapely.to_geojson(self._geometries[missing])
                for i, geometry in zip(missing, geometries):
                    code, nom = self.codes[i], self._names[i]
                    self._texts[int(i)] = ('{"type":"Feature","id":' + json.dumps(code) + ',"properties":'
                                          + json.dumps({"code": code, "nom": nom}, ensure_ascii=False, separators=(",", ":"))
                                          + ',"geometry":' + geometry + "}")
            return [self._texts[int(i)] for i in positions]


def selection_mask(codes: np.ndarray, bounds: np.ndarray, wanted: frozenset[str] | None,
                   bbox: tuple[float, float, float, float] | None) -> np.ndarray:
    """Which territories (by code and bounds) are among ``wanted`` and meet ``bbox``."""
    mask = np.ones(len(codes), dtype=bool)
    if wanted is not None:
        mask &= np.isin(codes, list(wanted))
    if bbox is not None:
        mask &= (bounds[:, 0] <= bbox[2]) & (bounds[:, 2] >= bbox[0]) & (bounds[:, 1] <= bbox[3]) & (bounds[:, 3] >= bbox[1])
    return mask


def bbox_area(bbox: tuple[float, float, float, float]) -> float:
    """Area of a bounding box in square degrees."""
    return (bbox[2] - bbox[0]) * (bbox[3] - bbox[1])


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    """'minlon,minlat,maxlon,maxlat' in degrees; ValueError in French otherwise."""
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        values = ()
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        raise ValueError(f"bbox « {text} » : donnez quatre nombres minlon,minlat,maxlon,maxlat")
    x0, y0, x1, y1 = values
    if not (-180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90):
        raise ValueError(f"bbox « {text} » : longitudes dans [-180, 180], latitudes dans [-90, 90], minimum avant maximum")
    return x0, y0, x1, y1


def response_memo(megabytes: int) -> Memo[Payload]:
    """A memo of response bodies bounded by what they weigh (plain and gzip)."""
    return Memo(megabytes * 2**20, getsizeof=Payload.size)


def cached_payload(responses: Memo[Payload], key: tuple, build: Callable[[], bytes]) -> Payload:
    """The body kept under ``key``, built (and compressed) on first use."""
    return responses.get(key, lambda: Payload.of(build()))


def serialised_layer(model: Model, level: str, tolerance_m: int) -> SerialisedLayer:
    """A scale at a tolerance, its features serialised on demand; one per model, level and tolerance."""
    return model.derived.get(("geojson-layer", level, tolerance_m), lambda: SerialisedLayer(model, level, tolerance_m))


def collection(responses: Memo[Payload], model: Model, level: str, tolerance_m: int, codes: frozenset[str] | None = None,
               bbox: tuple[float, float, float, float] | None = None, key: str = "") -> Payload:
    """A FeatureCollection of the layer's features among ``codes`` and intersecting ``bbox``; ``key`` names the ``codes``
    selection in the response memo (e.g. the territory it comes from)."""
    def build() -> bytes:
        layer = serialised_layer(model, level, tolerance_m)
        features = ",".join(layer.features(layer.select(codes, bbox)))
        return f'{{"type":"FeatureCollection","simplify_m":{tolerance_m:d},"features":[{features}]}}'.encode()
    return cached_payload(responses, (model.version, "layer", level, tolerance_m, key, bbox), build)
