"""OGC API – Features (Part 1 Core, GeoJSON, HTML, OpenAPI 3.0; Part 2 CRS) over the export layers, at /ogc.

One collection per export layer, with a download link per export format (geo/exports/formats.py). Items are paged
by limit/offset with next/prev links; a limit above TERRITOIRES_MAX_PAGE is served as that many items and a next
link; ``within=`` keeps the features of a territory, as the exports do. Written as a FastAPI router rather than
mounting pygeoapi: the collections are the model's own layers (swapped whole on refresh), with no second
process, configuration or copy of the data.
"""
from __future__ import annotations

import datetime as dt
import html
import json
import re
from dataclasses import dataclass
from urllib.parse import urlencode

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from pyproj import Transformer

from geo.errors import NotFound
from geo.exports import FORMATS, ExportLayer, build_layer, layer_specs
from geo.exports.layers import dated as dated_layer
from geo.exports.layers import feature_level
from geo.exports.provenance import summary
from geo.model import Model
from geo.periods import BadDate, in_force_mask, parse_date
from service import schemas
from service.deps import LimitsDep, ModelDep, WithinDep
from service.errors import BadRequest
from service.geojson import cached_payload

router = APIRouter(prefix="/ogc", tags=["OGC API Features"], responses={
    422: schemas.json_error("Paramètre invalide (le message nomme les valeurs acceptées)")})

DEFAULT_LIMIT = 100
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG = "http://www.opengis.net/def/crs/EPSG/0/"
#: Supported CRS URI → (EPSG code, whether coordinates are written latitude first).
CRS: dict[str, tuple[int, bool]] = {CRS84: (4326, False), f"{EPSG}4326": (4326, True), f"{EPSG}2154": (2154, False)}
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
]
#: Code properties that items can be filtered on (exact match, comma-separated alternatives).
FILTERABLE = ("code", "epci", "departement", "region", "scheme", "level", "type", "kind")
PAGING = {"limit", "offset", "bbox", "bbox-crs", "datetime", "crs", "f", "within"}
GEOJSON = "application/geo+json"
JSON = "application/json"


@dataclass(frozen=True)
class Indexed:
    """A layer with its spatial index and JSON-ready properties."""

    layer: ExportLayer
    tree: shapely.STRtree
    properties: list[str]  # one JSON object per feature


def _json_rows(frame: pd.DataFrame) -> list[str]:
    """Each row's properties as a JSON object (text)."""
    props = pd.DataFrame(frame.drop(columns="geometry"))
    for col in props.columns:
        if not (pd.api.types.is_numeric_dtype(props[col]) or pd.api.types.is_bool_dtype(props[col])):
            props[col] = props[col].astype(object).map(lambda v: None if pd.isna(v) else str(v))
    return [json.dumps(r, ensure_ascii=False, default=_scalar) for r in props.to_dict(orient="records")]


def _index(layer: ExportLayer) -> Indexed:
    return Indexed(layer, shapely.STRtree(layer.frame.geometry.values), _json_rows(layer.frame))



def _indexed(model: Model, collection: str) -> Indexed:
    """A collection's layer with its index, built once per model (kept in the model's memo); 404 if unknown."""
    layer = build_layer(model, collection)
    return model.derived.get(("ogc-index", collection), lambda: _index(layer))


def _scalar(value: object) -> object:
    return value.item() if isinstance(value, np.generic) else str(value)


def _wants_html(request: Request, f: str | None) -> bool:
    if f is not None:
        if f not in ("json", "html"):
            raise BadRequest(f"Requête invalide : f={f} inconnu, utilisez json ou html.")
        return f == "html"
    accept = request.headers.get("accept", "")
    return "text/html" in accept and "json" not in accept.split("text/html")[0]


def _url(request: Request, path: str, **params: object) -> str:
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return f"{str(request.base_url).rstrip('/')}{path}" + (f"?{query}" if query else "")


def _link(href: str, rel: str, type_: str, title: str | None = None) -> dict:
    return {"href": href, "rel": rel, "type": type_, **({"title": title} if title else {})}


def _self_links(request: Request, path: str, json_type: str = JSON) -> list[dict]:
    html_first = _wants_html(request, request.query_params.get("f"))
    return [_link(_url(request, path, f="json"), "alternate" if html_first else "self", json_type, "JSON"),
            _link(_url(request, path, f="html"), "self" if html_first else "alternate", "text/html", "HTML")]


def _page(request: Request, title: str, body: dict) -> HTMLResponse:
    """A plain HTML view of a JSON answer: its links, collections or features."""
    esc = html.escape
    parts = [f"<h1>{esc(title)}</h1>"]
    if body.get("description"):
        parts.append(f"<p>{esc(body['description'])}</p>")
    if "numberMatched" in body:
        parts.append(f"<p>{body['numberReturned']} of {body['numberMatched']} features</p>")
    parts.append("<ul>" + "".join(f'<li><a href="{esc(lyr["href"])}">{esc(lyr.get("title") or lyr["rel"])}</a> ({esc(lyr["rel"])}, '
                                  f'{esc(lyr["type"])})</li>' for lyr in body.get("links", [])) + "</ul>")
    for c in body.get("collections", []):
        href = next(lyr["href"] for lyr in c["links"] if lyr["rel"] == "items" and lyr["type"] == "text/html")
        parts.append(f'<h2><a href="{esc(href)}">{esc(c["title"])}</a></h2><p><code>{esc(c["id"])}</code></p>')
    for uri in body.get("conformsTo", []):
        parts.append(f"<p><code>{esc(uri)}</code></p>")
    features = body.get("features") or ([body] if body.get("type") == "Feature" else [])
    if features:
        cols = list(features[0]["properties"])
        head = "".join(f"<th>{esc(c)}</th>" for c in cols)
        rows = "".join("<tr>" + "".join(f"<td>{esc('' if f['properties'][c] is None else str(f['properties'][c]))}</td>" for c in cols)
                       + "</tr>" for f in features)
        parts.append(f"<table border='1'><tr>{head}</tr>{rows}</table>")
    doc = (f"<!DOCTYPE html><html lang='fr'><head><meta charset='utf-8'><title>{esc(title)}</title></head>"
           f"<body>{''.join(parts)}</body></html>")
    return HTMLResponse(doc)


def _answer(request: Request, f: str | None, title: str, body: dict, media_type: str = JSON,
            headers: dict[str, str] | None = None) -> Response:
    if _wants_html(request, f):
        return _page(request, title, body)
    return Response(json.dumps(body, ensure_ascii=False), media_type=media_type, headers=headers)


CRS_HEADER = {"Content-Crs": {"description": "CRS of the coordinates (GeoJSON answers)", "schema": {"type": "string"}}}
NOT_FOUND = {404: schemas.json_error("Collection, entité ou territoire inconnus (le message nomme les collections)")}


def _ok(model: type, media_type: str = JSON, description: str = "JSON, or HTML with f=html (or Accept: text/html)") -> dict:
    """The documented 200 of an OGC resource: JSON (or GeoJSON, with its Content-Crs) and its HTML view."""
    ok = {"description": description, "content": {media_type: {"schema": schemas.inline_schema(model)}, **schemas.HTML}}
    return {200: {**ok, "headers": CRS_HEADER} if media_type == GEOJSON else ok}
F = Query(None, description="json or html (default: from the Accept header)")
COLLECTION = Path(description="A layer id, as listed by /ogc/collections", openapi_examples={"communes": {"value": "communes"}})


@router.get("", summary="Landing page", response_class=Response, responses=_ok(schemas.OgcLanding))
def landing(request: Request, f: str | None = F) -> Response:
    body = {
        "title": "territoires — OGC API Features",
        "description": "Communes, EPCI, départements, régions, groupements, membres de chaque dispositif et couverture.",
        "links": _self_links(request, "/ogc") + [
            _link(_url(request, "/openapi.json"), "service-desc", "application/vnd.oai.openapi+json;version=3.0", "OpenAPI"),
            _link(_url(request, "/docs"), "service-doc", "text/html", "API documentation"),
            _link(_url(request, "/ogc/conformance"), "conformance", JSON, "Conformance classes"),
            _link(_url(request, "/ogc/collections"), "data", JSON, "Collections"),
        ],
    }
    return _answer(request, f, body["title"], body)


@router.get("/conformance", summary="Conformance classes", response_class=Response, responses=_ok(schemas.OgcConformance))
def conformance(request: Request, f: str | None = F) -> Response:
    body = {"conformsTo": CONFORMANCE, "links": _self_links(request, "/ogc/conformance")}
    return _answer(request, f, "Conformance", body)


def _collection(request: Request, model: Model, collection: str) -> dict:
    idx = _indexed(model, collection)
    layer = idx.layer
    path = f"/ogc/collections/{collection}"
    body = {
        "id": collection, "title": layer.spec.title, "description": summary(layer.provenance), "itemType": "feature",
        "crs": list(CRS), "storageCrs": CRS84,
        "links": _self_links(request, path) + [
            _link(_url(request, f"{path}/items", f="json"), "items", GEOJSON, "Features (GeoJSON)"),
            _link(_url(request, f"{path}/items", f="html"), "items", "text/html", "Features (HTML)"),
        ] + [_link(_url(request, f"/export/{collection}.{f.extension}"), "enclosure", f.media_type, f"Télécharger : {f.label}")
             for f in FORMATS.values()],
    }
    if len(layer.frame):
        body["extent"] = {"spatial": {"bbox": [[round(float(v), 6) for v in layer.frame.total_bounds]], "crs": CRS84}}
    return body


@router.get("/collections", summary="Collections", response_class=Response, responses=_ok(schemas.OgcCollections))
def collections(request: Request, model: ModelDep, f: str | None = F) -> Response:
    body = {"links": _self_links(request, "/ogc/collections"),
            "collections": [_collection(request, model, c) for c in layer_specs(model)]}
    return _answer(request, f, "Collections", body)


@router.get("/collections/{collection_id}", summary="One collection", response_class=Response,
            responses={**_ok(schemas.OgcCollection), **NOT_FOUND})
def collection(request: Request, model: ModelDep, collection_id: str = COLLECTION, f: str | None = F) -> Response:
    body = _collection(request, model, collection_id)
    return _answer(request, f, body["title"], body)


def _crs(value: str | None, what: str) -> tuple[int, bool, str]:
    uri = value or CRS84
    if uri not in CRS:
        raise BadRequest(f"Requête invalide : {what} « {uri} » non pris en charge, utilisez {' ou '.join(CRS)}.")
    return (*CRS[uri], uri)


def _bbox(value: str, bbox_crs: str | None) -> shapely.Geometry:
    """The bbox as a WGS 84 (lon, lat) box; 422 unless four numbers."""
    try:
        numbers = [float(v) for v in value.split(",")]
    except ValueError:
        numbers = []
    if len(numbers) != 4 or not all(np.isfinite(numbers)):
        raise BadRequest(f"Requête invalide : bbox « {value} » n'est pas quatre nombres, donnez minx,miny,maxx,maxy.")
    epsg, lat_first, _ = _crs(bbox_crs, "bbox-crs")
    x0, y0, x1, y1 = (numbers[1], numbers[0], numbers[3], numbers[2]) if lat_first else numbers
    box = shapely.box(x0, y0, x1, y1)
    if epsg != 4326:
        box = shapely.box(*gpd.GeoSeries([box.segmentize(max(x1 - x0, y1 - y0) / 20)], crs=epsg).to_crs(4326).total_bounds)
    return box


_RFC3339_INSTANT = re.compile(r"(\d{4}-\d{2}-\d{2})(?:[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})?)?")


def _date(value: str, whole: str) -> dt.date | None:
    """One end of a datetime: open ('' or '..'), or its day under the service's one date rule (geo/periods.py)."""
    if value in ("", ".."):
        return None
    match = _RFC3339_INSTANT.fullmatch(value.strip())
    if not match:
        raise BadRequest(f"Requête invalide : datetime « {whole} » n'est pas une date, un instant ou un intervalle RFC 3339 "
                         "(par exemple 2020-01-01, 2015-01-01/..).")
    try:
        return parse_date(match.group(1), "datetime")
    except BadDate as exc:
        raise BadRequest(f"{exc} (datetime « {whole} »)") from None


def _interval(value: str) -> tuple[dt.date | None, dt.date | None]:
    """A datetime instant (both ends the same day) or interval (a/b, ../b, a/..)."""
    lower, _, upper = value.partition("/")
    return _date(lower, value), (_date(upper, value) if "/" in value else _date(lower, value))


def _in_period(frame: gpd.GeoDataFrame, lo: dt.date | None, hi: dt.date | None) -> np.ndarray:
    """Features whose period (start, end; open when empty) meets the interval lo – hi: at an instant, the members in
    force that day (geo/periods.py's rule, as everywhere); all when the layer is undated."""
    if "start" not in frame.columns:
        return np.ones(len(frame), dtype=bool)
    start, end = frame["start"].astype(object), frame["end"].astype(object)
    if lo == hi:
        return in_force_mask(start, end, lo)
    first, last = pd.to_datetime(start), pd.to_datetime(end)
    ok = np.ones(len(frame), dtype=bool)
    if hi is not None:
        ok &= (first.isna() | (first <= pd.Timestamp(hi))).to_numpy(dtype=bool)
    if lo is not None:
        ok &= (last.isna() | (last >= pd.Timestamp(lo))).to_numpy(dtype=bool)
    return ok


def _geometries(geoms: np.ndarray, epsg: int, lat_first: bool) -> list[str]:
    if epsg != 4326:
        transformer = Transformer.from_crs(4326, epsg, always_xy=True)
        geoms = shapely.transform(geoms, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])))
    if lat_first:
        geoms = shapely.transform(geoms, lambda xy: xy[:, ::-1])
    return list(shapely.to_geojson(geoms))


@router.get("/collections/{collection_id}/items", summary="Features of a collection", response_class=Response,
            responses={**_ok(schemas.OgcItems, GEOJSON, "GeoJSON FeatureCollection, or HTML with f=html"), **NOT_FOUND})
def items(
    request: Request, model: ModelDep, limits: LimitsDep, within: WithinDep, collection_id: str = COLLECTION,
    limit: int = Query(DEFAULT_LIMIT, ge=1, description="Items per page (at most TERRITOIRES_MAX_PAGE, 1000 by default: a larger "
                       "limit gets that many)."),
    offset: int = Query(0, ge=0), bbox: str | None = Query(None, description="minx,miny,maxx,maxy in bbox-crs"),
    bbox_crs: str | None = Query(None, alias="bbox-crs"),
    datetime: str | None = Query(None, description="Instant or interval (a/b, ../b, a/..), days from 1990 to 2100: members in force "
                                 "then (scheme layers); at an instant, the coverage layer counts what is in force that day."),
    crs: str | None = None, f: str | None = F,
) -> Response:
    """Features, filtered by bbox, datetime, territory (within) and code properties (e.g. departement=31), paged by limit
    and offset."""
    idx = _indexed(model, collection_id)
    frame = idx.layer.frame
    filterable = [c for c in FILTERABLE if c in frame.columns]
    unknown = sorted(set(request.query_params) - PAGING - set(filterable))
    if unknown:
        raise BadRequest(f"Requête invalide : paramètre(s) inconnu(s) {', '.join(unknown)} ; "
                         f"paramètres : {', '.join(sorted(PAGING) + filterable)}.")
    epsg, lat_first, crs_uri = _crs(crs, "crs")
    html_first = _wants_html(request, f)

    def body() -> str:
        """The FeatureCollection text of the page."""
        frame_ = frame
        mask = np.ones(len(frame_), dtype=bool)
        if bbox is not None:
            hits = np.zeros(len(frame_), dtype=bool)
            hits[idx.tree.query(_bbox(bbox, bbox_crs), predicate="intersects")] = True
            mask &= hits
        day = None
        if datetime is not None:
            lo, hi = _interval(datetime)
            if lo is not None and lo == hi and dated_layer(idx.layer.spec):  # the layer as it stood that day, same rows
                day, frame_ = lo, build_layer(model, collection_id, None, lo).frame
            mask &= _in_period(frame_, lo, hi)
        if within is not None:
            mask &= frame_["code"].isin(within.codes(feature_level(model, idx.layer.spec))).to_numpy(dtype=bool)
        for col in filterable:
            if col in request.query_params:
                mask &= frame_[col].isin(request.query_params[col].split(",")).to_numpy(dtype=bool)
        selected = np.flatnonzero(mask)
        page_size = min(limit, limits.max_page)
        chosen = selected[offset:offset + page_size]
        geoms = _geometries(frame_.geometry.values[chosen], epsg, lat_first)
        ids = frame_["code"].to_numpy()[chosen]
        # at a day, the properties of the rows shown are serialised from the layer at that day (not kept per date)
        properties = _json_rows(frame_.iloc[chosen]) if day else [idx.properties[k] for k in chosen]
        features = ",".join(f'{{"type":"Feature","id":{json.dumps(str(i))},"geometry":{g},"properties":{p}}}'
                            for i, g, p in zip(ids, geoms, properties))
        path = f"/ogc/collections/{collection_id}/items"
        params = {k: v for k, v in request.query_params.items() if k not in ("limit", "offset", "f")}
        links = [_link(_url(request, path, **params, limit=page_size, offset=offset, f="json"), "alternate" if html_first else "self", GEOJSON),
                 _link(_url(request, path, **params, limit=page_size, offset=offset, f="html"), "self" if html_first else "alternate", "text/html"),
                 _link(_url(request, f"/ogc/collections/{collection_id}"), "collection", JSON)]
        fmt = "html" if html_first else "json"
        if offset + len(chosen) < len(selected):
            links.append(_link(_url(request, path, **params, limit=page_size, offset=offset + page_size, f=fmt), "next",
                               "text/html" if html_first else GEOJSON, "Next page"))
        if offset > 0:
            links.append(_link(_url(request, path, **params, limit=page_size, offset=max(offset - page_size, 0), f=fmt), "prev",
                               "text/html" if html_first else GEOJSON, "Previous page"))
        meta = {"numberMatched": int(len(selected)), "numberReturned": int(len(chosen)), "links": links}
        return f'{{"type":"FeatureCollection","features":[{features}],' + json.dumps(meta, ensure_ascii=False)[1:]

    if html_first:
        return _page(request, idx.layer.spec.title, json.loads(body()))
    # a page is built once per data version and URL (it is large: full-resolution geometries), kept gzip-compressed
    key = (model.version, "ogc-items", str(request.base_url), request.url.path, request.url.query)
    payload = cached_payload(request.app.state.responses, key, lambda: body().encode())
    return payload.response(request, model, media_type=GEOJSON, headers={"Content-Crs": f"<{crs_uri}>"})


@router.get("/collections/{collection_id}/items/{feature_id}", summary="One feature", response_class=Response,
            responses={**_ok(schemas.OgcItem, GEOJSON, "GeoJSON Feature, or HTML with f=html"), **NOT_FOUND})
def item(request: Request, model: ModelDep, collection_id: str = COLLECTION,
         feature_id: str = Path(description="The feature's code", openapi_examples={"toulouse": {"value": "31555"}}),
         crs: str | None = None, f: str | None = F) -> Response:
    idx = _indexed(model, collection_id)
    frame = idx.layer.frame
    epsg, lat_first, crs_uri = _crs(crs, "crs")
    where = np.flatnonzero(frame["code"].to_numpy() == feature_id)
    if not len(where):
        model.territory(f"{feature_level(model, idx.layer.spec)}:{feature_id}")  # an unknown territory: the resolver's 404
        raise NotFound(f"Aucune entité « {feature_id} » dans la collection {collection_id}.")
    k = int(where[0])
    path = f"/ogc/collections/{collection_id}/items/{feature_id}"
    body = {"type": "Feature", "id": feature_id, "geometry": json.loads(_geometries(frame.geometry.values[[k]], epsg, lat_first)[0]),
            "properties": json.loads(idx.properties[k]),
            "links": _self_links(request, path, GEOJSON) + [_link(_url(request, f"/ogc/collections/{collection_id}"), "collection", JSON)]}
    return _answer(request, f, f"{idx.layer.spec.title} — {feature_id}", body, GEOJSON, {"Content-Crs": f"<{crs_uri}>"})

