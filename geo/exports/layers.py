"""Export layers built from the model: the scales, each grouping, each scheme's members, and the coverage matrix.

Each layer is a GeoDataFrame in WGS 84 with text codes, built once per model and date (kept in the model's bounded
memo) and restricted on demand to the communes of a territory (``within``), by codes rather than by clipping geometry.
At a date, a scheme's layer marks each member in force or not (``in_force``, ``status``) and the coverage layer
counts what is in force then; without one (``at=None``) they hold every membership whatever its period.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import geopandas as gpd
import pandas as pd

from geo.errors import NotFound
from geo.exports.provenance import provenance
from geo.exports.styles import Style, coverage_style, groupings_style, single_style
from geo.mapspec import SCALE_LABELS, SCALE_LINES, grouping_symbols, scheme_symbols
from geo.model import Model
from geo.periods import in_force_mask, status_text
from geo.schemes import Scheme
from geo.territory import Territory

#: Layer id → model scale.
SCALE_LAYERS = {"communes": "commune", "epci": "epci", "departements": "departement", "regions": "region", "groupings": "grouping"}
GROUPING_PREFIX = "grouping-"
SCHEME_PREFIX = "scheme-"
COVERAGE = "coverage"
COUNT_FIELD = "n_schemes"
LAYER_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_TITLES = {"communes": "Communes", "epci": "EPCI", "departements": "Départements", "regions": "Régions",
           "groupings": "Groupements d'EPCI", COVERAGE: "Couverture des communes par les dispositifs"}


class UnknownLayer(NotFound):
    """A layer id that the model does not have; the message lists the accepted ids."""


@dataclass(frozen=True)
class LayerSpec:
    """What a layer is: its id, title, kind (scale, grouping, scheme, coverage) and the scale or scheme it shows."""

    id: str
    title: str
    kind: str
    key: str


@dataclass(frozen=True)
class ExportLayer:
    """A layer's features (WGS 84), style and provenance record."""

    spec: LayerSpec
    frame: gpd.GeoDataFrame
    style: Style
    provenance: dict


def layer_specs(model: Model) -> dict[str, LayerSpec]:
    """Every layer of the model, by id, in a stable order."""
    specs = [LayerSpec(i, _TITLES[i], "scale", level) for i, level in SCALE_LAYERS.items()]
    specs += [LayerSpec(GROUPING_PREFIX + g.id, f"{g.name} (périmètre)", "grouping", g.id)
              for g in sorted(model.catalogue.groupings, key=lambda g: g.id)]
    specs += [LayerSpec(SCHEME_PREFIX + s, f"{model.catalogue.schemes[s].name} (membres)", "scheme", s) for s in sorted(model.catalogue.schemes)]
    specs.append(LayerSpec(COVERAGE, _TITLES[COVERAGE], "coverage", COVERAGE))
    return {s.id: s for s in specs}


def resolve_layer(model: Model, layer_id: str) -> LayerSpec:
    """The spec of a layer id; UnknownLayer naming the accepted ids otherwise."""
    specs = layer_specs(model)
    if layer_id not in specs:
        raise UnknownLayer(f"Couche inconnue : « {layer_id} ». Couches : {', '.join(specs)}.")
    return specs[layer_id]


def bundle_ids(model: Model, text: str | None) -> list[str]:
    """The layer ids of a bundle from 'a,b,…' (every layer when none): each known (UnknownLayer otherwise), once, in the
    model's layer order, so that the same set of layers, in whatever order it is asked, is one file."""
    specs = layer_specs(model)
    asked = {i.strip() for i in (text or "").split(",") if i.strip()}
    for layer_id in sorted(asked - set(specs)):
        resolve_layer(model, layer_id)
    return [i for i in specs if i in asked] if asked else list(specs)


def _dates(values: list) -> pd.arrays.ArrowExtensionArray:
    return pd.array(values, dtype="date32[pyarrow]")


def _days(column: pd.Series) -> list[dt.date | None]:
    return [None if pd.isna(v) else v for v in column.astype(object)]


def _scheme_frame(model: Model, scheme: Scheme, at: dt.date | None) -> tuple[gpd.GeoDataFrame, list[str]]:
    """One row per member territory in scope: code, nom, role, period (member's, else the scheme's), note and the
    membership's own source (an imported row's title and address; empty when the scheme's source applies); at a date,
    whether it is in force then and its status ('terminé le …')."""
    source = model.catalogue.member_source(scheme)
    own = source is scheme
    rows = pd.DataFrame({
        "code": [m.code for m in source.members],
        "role": pd.array([m.role if own else None for m in source.members], dtype="string"),
        "start": _dates([(m.start if own else None) or scheme.start for m in source.members]),
        "end": _dates([(m.end if own else None) or scheme.end for m in source.members]),
        "note": pd.array([m.note if own else None for m in source.members], dtype="string"),
        "source": pd.array([m.source.title if own and m.source else None for m in source.members], dtype="string"),
        "source_url": pd.array([m.source.url if own and m.source else None for m in source.members], dtype="string"),
    })
    scale = model.scales[scheme.member_scale][["code", "nom", "population", "area_km2", "geometry"]]
    frame = scale.merge(rows, on="code", how="inner")
    frame.insert(0, "scheme", scheme.id)
    frame.insert(3, "level", scheme.member_scale)
    frame["scheme"] = frame["scheme"].astype("string")
    frame["level"] = frame["level"].astype("string")
    cols = ["scheme", "code", "nom", "level", "role", "start", "end", "note", "source", "source_url", "population", "area_km2", "geometry"]
    if at is not None:
        frame["in_force"] = in_force_mask(frame["start"].astype(object), frame["end"].astype(object), at)
        frame["status"] = pd.array([status_text(a, b, at) for a, b in zip(_days(frame["start"]), _days(frame["end"]))], dtype="string")
        cols[7:7] = ["in_force", "status"]
    frame = gpd.GeoDataFrame(frame[cols], geometry="geometry", crs=scale.crs).sort_values("code", ignore_index=True)
    outside = len(rows) - len(frame)
    notes = [f"{outside} of {len(rows)} members are outside the {model.territories.scope} scope and not in this layer"] if outside else []
    if not own:
        notes.append(f"members are all the members of {source.id} ({source.name})")
    return frame, notes


def _coverage_frame(model: Model, at: dt.date | None, ids: list[str] | None = None) -> gpd.GeoDataFrame:
    """Communes with one 0/1 column per scheme (every scheme, or those of ``ids``) and the number of covering schemes
    (a programme's generations as one, a network and its clubs as one), at a date when given."""
    com = model.scales["commune"].drop(columns="level")
    coverage = model.coverage if at is None else model.coverage.on(at)
    matrix = coverage.matrix(ids)
    matrix.columns = list(matrix.columns)
    frame = com.join(matrix, on="code")
    frame[COUNT_FIELD] = coverage.counts(ids).reindex(com["code"]).to_numpy().astype("int16")
    cols = [c for c in frame.columns if c != "geometry"] + ["geometry"]
    return gpd.GeoDataFrame(frame[cols], geometry="geometry", crs=com.crs)


def _build(model: Model, spec: LayerSpec, at: dt.date | None) -> ExportLayer:
    notes: list[str] = []
    if spec.kind == "scale":
        frame = model.scales[spec.key]
        schemes = model.catalogue.groupings if spec.key == "grouping" else []
        if spec.key == "grouping":
            codes, names = zip(*sorted(zip(frame["code"], frame["nom"]))) if len(frame) else ((), ())
            style = groupings_style(list(codes), list(names), grouping_symbols(g.id for g in schemes), spec.id)
        else:
            style = single_style(SCALE_LINES[spec.key], SCALE_LABELS[spec.key], spec.id)
    elif spec.kind == "grouping":
        frame = model.scales["grouping"][model.scales["grouping"]["code"] == spec.key].reset_index(drop=True)
        schemes = [model.catalogue.schemes[spec.key]]
        symbol = grouping_symbols(g.id for g in model.catalogue.groupings)[spec.key]
        style = single_style(symbol, spec.title, spec.id)
    elif spec.kind == "scheme":
        scheme = model.catalogue.schemes[spec.key]
        frame, notes = _scheme_frame(model, scheme, at)
        source = model.catalogue.member_source(scheme)
        schemes = [scheme] + ([source] if source is not scheme else [])
        symbol = scheme_symbols({s.id: s.kind for s in model.catalogue.schemes.values()})[spec.key]
        style = single_style(symbol, spec.title, spec.id)
    else:
        frame = _coverage_frame(model, at)
        schemes = list(model.catalogue.schemes.values())
        style = coverage_style(int(frame[COUNT_FIELD].max()) if len(frame) else 0, spec.id, COUNT_FIELD)
    record = provenance(model, spec.id, spec.title, schemes, len(frame), notes=notes, at=at)
    return ExportLayer(spec, frame, style, record)


def dated(spec: LayerSpec) -> bool:
    """Whether a layer's content depends on the date (a scheme's members, the coverage); the scales do not."""
    return spec.kind in ("scheme", "coverage")


def build_layer(model: Model, layer_id: str, within: Territory | None = None, at: dt.date | None = None) -> ExportLayer:
    """The layer ``layer_id`` at the date ``at`` (every membership when None), restricted to the territory ``within``
    if given; built once per model and date."""
    spec = resolve_layer(model, layer_id)
    when = at if dated(spec) else None
    layer = (model.derived if when is None else model.dated).get(("export-layer", layer_id, when), lambda: _build(model, spec, when))
    if within is None:
        return layer
    frame = restrict(model, layer, within)
    record = {**layer.provenance, "within": within.param, "features": len(frame)}
    return ExportLayer(spec, frame, layer.style, record)


def coverage_layer(model: Model, ids: list[str], within: Territory | None = None, gaps: bool = False,
                   at: dt.date | None = None) -> ExportLayer:
    """The coverage layer for exactly the schemes ``ids`` (their columns only, the count of those) at a date when
    given, optionally only the communes none of them covers (``gaps``); restricted to ``within`` like any layer."""
    spec = resolve_layer(model, COVERAGE)
    memo = model.derived if at is None else model.dated
    frame = memo.get(("coverage-frame", tuple(ids), at), lambda: _coverage_frame(model, at, ids))
    if within is not None:
        frame = frame[frame["code"].isin(within.codes("commune"))]
    if gaps:
        frame = frame[frame[COUNT_FIELD] == 0]
    frame = frame.reset_index(drop=True)
    notes = ["only the communes none of the chosen schemes covers"] if gaps else []
    record = provenance(model, spec.id, spec.title, [model.catalogue.schemes[i] for i in ids], len(frame),
                        within=within.param if within else None, notes=notes, at=at)
    style = coverage_style(len(ids), spec.id, COUNT_FIELD)
    return ExportLayer(spec, frame, style, record)


def feature_level(model: Model, spec: LayerSpec) -> str:
    """The scale of a layer's features: commune, quartier, epci, departement, region or grouping."""
    if spec.kind == "scale":
        return spec.key
    if spec.kind == "scheme":
        return model.catalogue.schemes[spec.key].member_scale
    return "grouping" if spec.kind == "grouping" else "commune"


def restrict(model: Model, layer: ExportLayer, within: Territory) -> gpd.GeoDataFrame:
    """The layer's features touching the communes of a territory: those communes, and the units holding them."""
    codes = within.codes(feature_level(model, layer.spec))
    return layer.frame[layer.frame["code"].isin(codes)].reset_index(drop=True)
