"""GeoJSON layers for the maps and the API, and HTTP caching by data version.

A layer is a scale simplified at one tolerance (geo.simplify), serialised once into one JSON text per
feature; a response joins the features inside a territory and/or a bounding box and is kept gzip-
compressed in a small LRU. Every data response carries an ETag derived from the model version, and a
request whose If-None-Match matches it gets 304 before any work is done.
"""
from __future__ import annotations

import gzip
import json
import math
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import shapely
from fastapi import Request
from fastapi.responses import JSONResponse, Response

from geo.model import Model

API_FORMAT = "1"  # bump when the shape of a response changes, so cached copies are refetched
#: Simplification tolerances offered, in metres (about one screen pixel at zoom 14 … 5); 0 = as built.
TOLERANCES_M = (0, 7, 14, 28, 55, 111, 222, 443, 887, 1774, 3548)
GEOJSON = "application/geo+json"
MAX_RESPONSES = 256


def snap_tolerance(metres: float) -> int:
    """The largest offered tolerance not above ``metres`` (so a layer is cached per offered value)."""
    return max(t for t in TOLERANCES_M if t <= metres)


def tolerance_for_zoom(zoom: int, pixels: float = 1.0, latitude: float = 43.6) -> int:
    """A tolerance of about ``pixels`` screen pixels at a web-map zoom level."""
    metres_per_pixel = 156_543.03 * math.cos(math.radians(latitude)) / 2**zoom
    return snap_tolerance(pixels * metres_per_pixel * 1.02)  # the offered values are rounded


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


def cached_json(request: Request, model: Model, build: Callable[[], object]) -> Response:
    """``build()`` as JSON with the model's ETag, or 304 (without calling it) if the client has it."""
    tag = etag(model)
    if _matches(request, tag):
        return Response(status_code=304, headers=_headers(tag))
    return JSONResponse(build(), headers=_headers(tag))


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
    def of(cls, raw: bytes) -> "Payload":
        return cls(raw, gzip.compress(raw, compresslevel=9, mtime=0))

    def response(self, request: Request, model: Model, media_type: str = GEOJSON, headers: dict | None = None) -> Response:
        """The body gzip-encoded when the client accepts it (GZipMiddleware leaves encoded bodies alone)."""
        out = {**_headers(etag(model)), **(headers or {})}
        if "gzip" in request.headers.get("accept-encoding", ""):
            return Response(self.gz, media_type=media_type, headers={**out, "Content-Encoding": "gzip"})
        return Response(self.raw, media_type=media_type, headers=out)


@dataclass(frozen=True)
class SerialisedLayer:
    """One scale at one tolerance: codes, bounds and one GeoJSON Feature text per territory."""

    codes: np.ndarray
    bounds: np.ndarray
    features: list[str]


def _serialise(model: Model, level: str, tolerance_m: int) -> SerialisedLayer:
    gdf = model.simplified.get(level, tolerance_m)
    geometries = shapely.to_geojson(gdf.geometry.to_numpy())
    features = [
        '{"type":"Feature","id":%s,"properties":%s,"geometry":%s}'
        % (json.dumps(code), json.dumps({"code": code, "nom": nom}, ensure_ascii=False, separators=(",", ":")), geom)
        for code, nom, geom in zip(gdf["code"].astype(str), gdf["nom"].astype(str), geometries)
    ]
    return SerialisedLayer(gdf["code"].astype(str).to_numpy(dtype=object), gdf.geometry.bounds.to_numpy(), features)


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


class LayerCache:
    """Serialised layers per model (dropped with the model) and the most recent responses, gzip-compressed."""

    def __init__(self, max_responses: int = MAX_RESPONSES):
        self._layers: weakref.WeakKeyDictionary[Model, dict[tuple[str, int], SerialisedLayer]] = weakref.WeakKeyDictionary()
        self._responses: OrderedDict[tuple, Payload] = OrderedDict()
        self._max = max_responses
        self._lock = threading.RLock()

    def layer(self, model: Model, level: str, tolerance_m: int) -> SerialisedLayer:
        with self._lock:
            layers = self._layers.setdefault(model, {})
            if (level, tolerance_m) not in layers:
                layers[(level, tolerance_m)] = _serialise(model, level, tolerance_m)
            return layers[(level, tolerance_m)]

    def memo(self, key: tuple, build: Callable[[], bytes]) -> Payload:
        """The response cached under ``key``, built (and compressed) on first use; least recently used dropped."""
        with self._lock:
            if key in self._responses:
                self._responses.move_to_end(key)
                return self._responses[key]
        payload = Payload.of(build())
        with self._lock:
            self._responses[key] = payload
            while len(self._responses) > self._max:
                self._responses.popitem(last=False)
        return payload

    def collection(self, model: Model, level: str, tolerance_m: int, codes: Callable[[], frozenset[str]] | None = None,
                   bbox: tuple[float, float, float, float] | None = None, key: str = "") -> Payload:
        """A FeatureCollection of the layer's features among ``codes()`` and intersecting ``bbox``.

        ``key`` names the ``codes`` selection in the response cache (e.g. the territory it comes from);
        ``codes`` is only called on a cache miss.
        """
        def build() -> bytes:
            layer = self.layer(model, level, tolerance_m)
            mask = np.ones(len(layer.codes), dtype=bool)
            if codes is not None:
                mask &= np.isin(layer.codes, list(codes()))
            if bbox is not None:
                b = layer.bounds
                mask &= (b[:, 0] <= bbox[2]) & (b[:, 2] >= bbox[0]) & (b[:, 1] <= bbox[3]) & (b[:, 3] >= bbox[1])
            features = ",".join(f for f, keep in zip(layer.features, mask) if keep)
            return ('{"type":"FeatureCollection","simplify_m":%d,"features":[%s]}' % (tolerance_m, features)).encode()
        return self.memo((model.version, "layer", level, tolerance_m, key, bbox), build)
