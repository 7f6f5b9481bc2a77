"""Layer exports: GET /export/{layer}.{format}, /export/bundle.{format}?layers=…, /export/{layer}/provenance.

The formats, their media types and the OpenAPI of these routes come from the table of geo/exports/formats.py,
read when the app is created (:func:`exports_router`).
"""
from __future__ import annotations

import datetime as dt
import re
import tempfile
from pathlib import Path

from fastapi import APIRouter, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse, Response

from geo.exports import FORMATS, ExportError, build_layer, check_crs, check_format, layer_specs, write
from geo.exports.formats import multi_layer_formats
from geo.exports.layers import COVERAGE, coverage_layer
from geo.exports.provenance import stamped
from geo.model import Model
from geo.territory import Territory
from service import schemas
from service.deps import LimitsDep, ModelDep, ResponsesDep, WithinDep, scheme_ids
from service.errors import BadRequest
from service.geojson import GEOJSON, cached_payload

BUNDLE = "bundle"


def file_stem(layer: str, within: str | None) -> str:
    """A download name built from validated ids only, never from path pieces of the request."""
    return layer + (f"-{re.sub(r'[^A-Za-z0-9_-]', '_', within)}" if within else "")


def _layers(model: Model, name: str, layers: str | None, within: Territory | None, schemes: list[str] | None, gaps: bool) -> list:
    if schemes or gaps:
        if name != COVERAGE:
            raise ExportError(f"Les paramètres schemes et gaps ne valent que pour la couche {COVERAGE} : demandez {COVERAGE}.<format>.")
        return [coverage_layer(model, schemes or list(model.catalogue.schemes), within, gaps)]
    ids = list(dict.fromkeys(i.strip() for i in layers.split(","))) if layers else list(layer_specs(model))
    ids = ids if name == BUNDLE else [name]
    return [build_layer(model, i, within) for i in ids]


def _url_path(request: Request, path: str) -> str:
    query = str(request.url.query)
    kept = "&".join(p for p in query.split("&") if p.split("=")[0] in ("within", "crs")) if query else ""
    return path + (f"?{kept}" if kept else "")


def exports_router() -> APIRouter:
    """The /export routes, documented from the table of formats as it is now."""
    router = APIRouter(prefix="/export", tags=["exports"], responses={
        404: schemas.json_error("Couche ou territoire inconnus (le message nomme les valeurs acceptées)"),
        422: schemas.json_error("Format, CRS ou option impossibles, ou trop d'entités (le message nomme les valeurs acceptées)")})
    bundles = multi_layer_formats()
    #: The 200 of a download: one media type per format, with a link to the layer's provenance.
    download = {200: {"description": "The layer (or the bundle) as a file, with its provenance linked (rel=describedby)",
                      "content": {f.media_type.split(";")[0]: {"schema": schemas.inline_schema(schemas.FeatureCollection)
                                                               if f.media_type == GEOJSON else schemas.BINARY} for f in FORMATS.values()},
                      "headers": {"Link": {"description": "The layer's provenance (not on bundles)", "schema": {"type": "string"}}}}}
    formats = "; ".join(f"{f.extension} : {f.label}" for f in FORMATS.values())
    examples = {f.extension: {"value": f"departements.{f.extension}"} for f in FORMATS.values()}
    examples |= {f"{BUNDLE}-{ext}": {"value": f"{BUNDLE}.{ext}"} for ext in bundles}

    @router.get("/{name}", summary="Download a layer (or a bundle of layers) in a GIS format", response_class=Response,
                responses=download)
    def export(
        request: Request, model: ModelDep, limits: LimitsDep, responses: ResponsesDep, within: WithinDep,
        name: str = PathParam(description=f"<layer>.<format>, or {' or '.join(f'{BUNDLE}.{e}' for e in bundles)}. Formats: {formats}.",
                              openapi_examples=examples),
        crs: str = Query("4326", description="4326 (WGS 84) or 2154 (Lambert-93)."),
        wkt: bool = Query(False, description="CSV only: add the geometry as WKT."),
        layers: str | None = Query(None, description=f"{BUNDLE} only: comma-separated layer ids (default: all)."),
        schemes: str | None = Query(None, max_length=800, description=f"{COVERAGE} only: the schemes whose columns it holds "
                                                                      "(comma-separated ids; default: all)."),
        gaps: bool = Query(False, description=f"{COVERAGE} only: the communes none of the schemes covers."),
    ) -> Response:
        """`communes.gpkg`, `epci.geojson`, `coverage.csv`, `scheme-<id>.shp.zip`, `bundle.gpkg?layers=communes,epci`…

        The provenance of a file names the time it was written (`exported_at`); a written file is served again until
        the end of the day (UTC) for the same data version and parameters."""
        layer, _, fmt = name.partition(".")
        spec = check_format(fmt)
        epsg = check_crs(crs)
        if layer == BUNDLE and not spec.multi_layer:
            raise ExportError(f"Un lot de couches tient dans un seul fichier au format {' ou '.join(bundles)} : "
                              f"demandez {' ou '.join(f'{BUNDLE}.{e}' for e in bundles)}.")
        chosen = _layers(model, layer, layers, within, scheme_ids(model, schemes) if schemes else None, gaps)
        features = sum(len(c.frame) for c in chosen)
        if features > limits.max_export_features:
            raise BadRequest(f"Requête invalide : {features} entités dépassent la limite d'export de {limits.max_export_features} "
                             "(TERRITOIRES_MAX_EXPORT_FEATURES) : restreignez avec within= (une région, un département…).")
        filename = f"{file_stem(layer if layer == BUNDLE else chosen[0].spec.id, within.param if within else None)}.{fmt}"

        def build() -> bytes:
            with tempfile.TemporaryDirectory(prefix="territoires-export-") as tmp:
                path = Path(tmp) / f"export.{fmt}"
                write(chosen, fmt, path, epsg, wkt)
                return path.read_bytes()

        # written once per data version, request and day (its provenance says when), then served from the app's memo
        today = dt.datetime.now(dt.UTC).date().isoformat()
        payload = cached_payload(responses, (model.version, "export", name, request.url.query, today), build)
        headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
        if layer != BUNDLE:
            provenance = _url_path(request, f"/export/{chosen[0].spec.id}/provenance")
            headers["Link"] = f'<{provenance}>; rel="describedby"; type="application/json"'
        return payload.response(request, model, media_type=spec.media_type, headers=headers)

    @router.get("/{layer}/provenance", summary="Provenance of a layer: sources, vintages, as-of dates")
    def provenance(model: ModelDep, within: WithinDep,
                   layer: str = PathParam(description="A layer id, as in /export/<layer>.<format>",
                                          openapi_examples={"scheme": {"value": "scheme-dialogue-metropolitain"}}),
                   crs: str = "4326") -> JSONResponse:
        epsg = check_crs(crs)
        record = build_layer(model, layer, within).provenance
        return JSONResponse(stamped({**record, "crs": f"EPSG:{epsg}"}))

    return router
