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

from geo.exports import FORMATS, ExportError, build_layer, bundle_ids, check_crs, check_format, write
from geo.exports.formats import multi_layer_formats
from geo.exports.layers import COVERAGE, coverage_layer
from geo.exports.provenance import stamped
from geo.model import Model
from geo.territory import Territory
from service import schemas
from service.deps import DateDep, HeavyDep, LimitsDep, ModelDep, ResponsesDep, WithinDep, scheme_ids
from service.errors import BadRequest
from service.geojson import GEOJSON, Payload

BUNDLE = "bundle"


def file_stem(layer: str, within: str | None) -> str:
    """A download name built from validated ids only, never from path pieces of the request."""
    return layer + (f"-{re.sub(r'[^A-Za-z0-9_-]', '_', within)}" if within else "")


def _layers(model: Model, name: str, layers: str | None, within: Territory | None, at: dt.date, schemes: list[str] | None,
            gaps: bool) -> list:
    if schemes or gaps:
        if name != COVERAGE:
            raise ExportError(f"Les paramètres schemes et gaps ne valent que pour la couche {COVERAGE} : demandez {COVERAGE}.<format>.")
        return [coverage_layer(model, schemes or list(model.catalogue.schemes), within, gaps, at)]
    ids = bundle_ids(model, layers) if name == BUNDLE else [name]
    return [build_layer(model, i, within, at) for i in ids]


def _url(request: Request, path: str) -> str:
    """The absolute URL of ``path`` on the public base URL (service/http.py), with the request's within and crs."""
    query = str(request.url.query)
    kept = "&".join(p for p in query.split("&") if p.split("=")[0] in ("within", "crs", "date")) if query else ""
    return str(request.base_url).rstrip("/") + path + (f"?{kept}" if kept else "")


def exports_router() -> APIRouter:
    """The /export routes, documented from the table of formats as it is now."""
    router = APIRouter(prefix="/export", tags=["exports"], responses={
        404: schemas.json_error("Couche ou territoire inconnus (le message nomme les valeurs acceptées)"),
        422: schemas.json_error("Format, CRS ou option impossibles, ou trop d'entités (le message nomme les valeurs acceptées)"),
        503: schemas.busy()})
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
        request: Request, model: ModelDep, limits: LimitsDep, responses: ResponsesDep, heavy: HeavyDep, within: WithinDep, at: DateDep,
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
        the end of the day (UTC) for the same data version and parameters. A scheme's members are marked in force or
        not at the date (`in_force`, `status`), the coverage counts what is in force then (today by default)."""
        layer, _, fmt = name.partition(".")
        spec = check_format(fmt)
        epsg = check_crs(crs)
        if layer == BUNDLE and not spec.multi_layer:
            raise ExportError(f"Un lot de couches tient dans un seul fichier au format {' ou '.join(bundles)} : "
                              f"demandez {' ou '.join(f'{BUNDLE}.{e}' for e in bundles)}.")
        ids = scheme_ids(model, schemes) if schemes else None
        chosen = _layers(model, layer, layers, within, at, ids, gaps)
        features = sum(len(c.frame) for c in chosen)
        if features > limits.max_export_features:
            raise BadRequest(f"Requête invalide : {features} entités dépassent la limite d'export de {limits.max_export_features} "
                             "(TERRITOIRES_MAX_EXPORT_FEATURES) : restreignez avec within= (une région, un département…).")
        filename = f"{file_stem(layer if layer == BUNDLE else chosen[0].spec.id, within.param if within else None)}.{fmt}"

        def build() -> bytes:
            with tempfile.TemporaryDirectory(prefix="territoires-export-") as tmp:
                path = Path(tmp) / filename  # a QGIS project names the GeoPackage of its own name: the one downloaded
                write(chosen, fmt, path, epsg, wkt)
                return path.read_bytes()

        # written once per data version, day (its provenance says when) and what the file holds: the layers (a bundle's
        # in the model's order), the territory resolved, the date, the coverage's schemes and gaps, the CRS, WKT for CSV;
        # any other parameter changes nothing
        today = dt.datetime.now(dt.UTC).date().isoformat()
        key = (model.version, "export", today, fmt, tuple(c.spec.id for c in chosen), within.key if within else "", at.isoformat(),
               tuple(ids or ()), gaps, epsg, wkt and fmt == "csv")
        payload = responses.get(key, lambda: heavy.run(lambda: Payload.of(build(), compress=fmt != "shp.zip")))
        headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
        if layer != BUNDLE:
            provenance = _url(request, f"/export/{chosen[0].spec.id}/provenance")
            headers["Link"] = f'<{provenance}>; rel="describedby"; type="application/json"'
        return payload.response(request, model, media_type=spec.media_type, headers=headers)

    @router.get("/{layer}/provenance", summary="Provenance of a layer: sources, vintages, as-of dates")
    def provenance(model: ModelDep, within: WithinDep, at: DateDep,
                   layer: str = PathParam(description="A layer id, as in /export/<layer>.<format>",
                                          openapi_examples={"scheme": {"value": "scheme-dialogue-metropolitain"}}),
                   crs: str = "4326") -> JSONResponse:
        epsg = check_crs(crs)
        record = build_layer(model, layer, within, at).provenance
        return JSONResponse(stamped({**record, "crs": f"EPSG:{epsg}"}))

    return router
