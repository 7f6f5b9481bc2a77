"""Layer exports: GET /export/{layer}.{format}, /export/bundle.gpkg?layers=…, /export/{layer}/provenance."""
from __future__ import annotations

import re
import tempfile
from pathlib import Path

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse, Response

from geo.coverage import UnknownTerritory
from geo.exports import FORMATS, ExportError, UnknownLayer, build_layer, check_crs, check_format, layer_specs, write
from geo.model import Model
from service import schemas
from service.deps import get_model
from service.limits import LIMITS

router = APIRouter(prefix="/export", tags=["exports"], responses={
    422: schemas.json_error("Unknown layer, format, CRS or territory, or too many features (the message names the accepted values)")})
#: The 200 of a download: one media type per format, with a link to the layer's provenance.
DOWNLOAD = {200: {"description": "The layer (or the bundle) as a file, with its provenance linked (rel=describedby)",
                  "content": {f.media_type.split(";")[0]: {"schema": schemas.inline_schema(schemas.FeatureCollection)
                                                           if f.name == "geojson" else schemas.BINARY} for f in FORMATS.values()},
                  "headers": {"Link": {"description": "The layer's provenance (not on bundles)", "schema": {"type": "string"}}}}}
BUNDLE = "bundle"


def file_stem(layer: str, within: str | None) -> str:
    """A download name built from validated ids only, never from path pieces of the request."""
    return layer + (f"-{re.sub(r'[^A-Za-z0-9_-]', '_', within)}" if within else "")


def _layers(model: Model, name: str, layers: str | None, within: str | None) -> list:
    ids = list(dict.fromkeys(i.strip() for i in layers.split(","))) if layers else list(layer_specs(model))
    ids = ids if name == BUNDLE else [name]
    return [build_layer(model, i, within) for i in ids]


@router.get("/{name}", summary="Download a layer (or a bundle of layers) in a GIS format", response_class=Response,
            responses=DOWNLOAD)
def export(
    request: Request,
    name: str = PathParam(description="<layer>.<format>, or bundle.gpkg",
                          openapi_examples={"departements": {"value": "departements.geojson"}}),
    within: str | None = Query(None, description="Restrict to a territory: commune, EPCI, grouping, département or région code."),
    crs: str = Query("4326", description="4326 (WGS 84) or 2154 (Lambert-93)."),
    wkt: bool = Query(False, description="CSV only: add the geometry as WKT."),
    layers: str | None = Query(None, description="bundle.gpkg only: comma-separated layer ids (default: all)."),
    model: Model = Depends(get_model),
) -> Response:
    """`communes.gpkg`, `epci.geojson`, `coverage.csv`, `scheme-<id>.shp.zip`, `bundle.gpkg?layers=communes,epci`…"""
    layer, _, fmt = name.partition(".")
    try:
        spec = check_format(fmt)
        epsg = check_crs(crs)
        if layer == BUNDLE and not spec.multi_layer:
            raise ExportError(f"a bundle is a GeoPackage: ask for {BUNDLE}.gpkg")
        chosen = _layers(model, layer, layers, within)
        features = sum(len(c.frame) for c in chosen)
        if features > LIMITS.max_export_features:
            raise ExportError(f"{features} features exceed the export limit of {LIMITS.max_export_features} "
                              "(TERRITOIRES_MAX_EXPORT_FEATURES): restrict with within= (a région, a département…)")
        filename = f"{file_stem(layer if layer == BUNDLE else chosen[0].spec.id, within)}.{fmt}"

        def build() -> bytes:
            with tempfile.TemporaryDirectory(prefix="territoires-export-") as tmp:
                path = Path(tmp) / f"export.{fmt}"
                write(chosen, fmt, path, epsg, wkt)
                return path.read_bytes()

        # built once per data version and request, then served from the app's bounded response cache
        payload = request.app.state.layers.memo((model.version, "export", name, request.url.query), build)
    except (ExportError, UnknownLayer, UnknownTerritory) as exc:
        raise HTTPException(422, str(exc)) from None
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    if layer != BUNDLE:
        provenance = _url_path(request, f"/export/{chosen[0].spec.id}/provenance")
        headers["Link"] = f'<{provenance}>; rel="describedby"; type="application/json"'
    return payload.response(request, model, media_type=spec.media_type, headers=headers)


def _url_path(request: Request, path: str) -> str:
    query = str(request.url.query)
    kept = "&".join(p for p in query.split("&") if p.split("=")[0] in ("within", "crs")) if query else ""
    return path + (f"?{kept}" if kept else "")


@router.get("/{layer}/provenance", summary="Provenance of a layer: sources, vintages, as-of dates")
def provenance(layer: str = PathParam(description="A layer id, as in /export/<layer>.<format>",
                                      openapi_examples={"scheme": {"value": "scheme-dialogue-metropolitain"}}),
               within: str | None = None, crs: str = "4326", model: Model = Depends(get_model)) -> JSONResponse:
    try:
        epsg = check_crs(crs)
        record = build_layer(model, layer, within).provenance
    except (ExportError, UnknownLayer, UnknownTerritory) as exc:
        raise HTTPException(422, str(exc)) from None
    return JSONResponse({**record, "crs": f"EPSG:{epsg}"})
