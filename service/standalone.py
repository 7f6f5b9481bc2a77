"""A standalone HTML map: one file with its JS, CSS, fonts, images and data inlined, opened with no server and no internet.

The Leaflet/Folium resources are read from the prepared assets (:data:`service.assets.MANIFEST`, service/vendor.py).
"""
from __future__ import annotations

import base64
import datetime as dt
import html
import mimetypes
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import folium
import geopandas as gpd
import pandas as pd
import shapely

from geo import mapspec
from geo.exports.layers import COUNT_FIELD, SCALE_LAYERS, SCHEME_PREFIX, build_layer
from geo.exports.provenance import summary
from geo.mapspec import MapKind, Symbol
from geo.model import Model
from geo.render import scheme_territories
from geo.territory import Territory
from service.assets import URL_PREFIX, check_assets, render_offline
from service.maps.base import leaflet_style
from service.maps.controls import STATIC_DIR
from service.vendor import ASSETS_DIR

SIMPLIFY_DEG = 0.0004  # ~40 m: plenty for a screen map, a fraction of the file size
PRECISION_DEG = 1e-5
_SCRIPT = re.compile(rf'<script src="{URL_PREFIX}/([^"]+)"></script>')
_STYLESHEET = re.compile(rf'<link rel="stylesheet" href="{URL_PREFIX}/([^"]+)"/>')
_CSS_URL = re.compile(r"url\(\s*['\"]?([^'\")]+?)['\"]?\s*\)")
_INLINED = {".woff2", ".png", ".svg", ".gif", ".jpg"}
_LEVEL_LAYERS = {level: layer for layer, level in SCALE_LAYERS.items()}
_BASE = ["code", "nom"]


def _data_uri(path: Path) -> str:
    mime = mimetypes.guess_type(path.name)[0] or ("font/woff2" if path.suffix == ".woff2" else "application/octet-stream")
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode()}"


def _inline_css(path: Path) -> str:
    """The stylesheet with its fonts and images as data URIs (other font formats are dropped: woff2 suffices)."""
    def repl(match: re.Match) -> str:
        ref = match.group(1)
        if ref.startswith("data:") or ref.startswith("#"):
            return match.group(0)
        target = (path.parent / ref.split("?")[0].split("#")[0]).resolve()
        return f"url({_data_uri(target)})" if target.suffix in _INLINED and target.is_file() else "url(data:,)"
    return _CSS_URL.sub(repl, path.read_text(encoding="utf-8"))


def inline_assets(page: str, directory: Path = ASSETS_DIR) -> str:
    """Replace every /assets script and stylesheet link by the file's content (AssetsMissing if any is absent)."""
    check_assets(directory)
    page = _SCRIPT.sub(lambda m: "<script>" + (directory / m.group(1)).read_text(encoding="utf-8").replace("</script", "<\\/script")
                       + "</script>", page)
    return _STYLESHEET.sub(lambda m: "<style>" + _inline_css(directory / m.group(1)) + "</style>", page)


def _light(frame: gpd.GeoDataFrame, columns: list[str]) -> gpd.GeoDataFrame:
    """The tooltip fields, texts HTML-escaped: folium's GeoJsonTooltip writes them into the page as HTML."""
    geoms = shapely.set_precision(shapely.simplify(frame.geometry.values, SIMPLIFY_DEG, preserve_topology=True), PRECISION_DEG)
    props = {c: frame[c].to_numpy() if pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
             else frame[c].astype(object).map(lambda v: None if pd.isna(v) else html.escape(str(v))).to_numpy() for c in columns}
    out = gpd.GeoDataFrame(props, geometry=geoms, crs=frame.crs)
    return out[~out.geometry.is_empty]


def _style(sym: Symbol) -> dict:
    """Leaflet path options of a symbol (a pattern is not drawn here: GeoJSON styles cannot hold one)."""
    return {k: v for k, v in leaflet_style(sym).items() if k != "hatch"}


def _add(fmap: folium.Map, frame: gpd.GeoDataFrame, name: str, style: Callable[[dict], dict], fields: list[str],
         interactive: bool = True) -> None:
    """A GeoJSON layer with a tooltip of ``fields``; ``style`` gives each feature's Leaflet options. Outlines are not
    ``interactive``: on a canvas a polygon takes the pointer inside it even unfilled, hiding the layers below."""
    light = _light(frame, fields)
    folium.GeoJson(light, name=html.escape(name), style_function=style,  # the layer control writes names as HTML
                   tooltip=folium.GeoJsonTooltip(fields=fields) if interactive else None,
                   **({} if interactive else {"interactive": False})).add_to(fmap)


def _one(sym: Symbol) -> Callable[[dict], dict]:
    style = _style(sym)
    return lambda _feature: style


@dataclass(frozen=True)
class Caption:
    """What a map kind's standalone renderer gives back: title, legend entries (outermost first), provenance."""

    title: str
    entries: list[tuple[str, Symbol]]
    record: dict


def _scale(model: Model, fmap: folium.Map, kind: MapKind, level: str, within: Territory | None) -> list[tuple[str, Symbol]]:
    frame = build_layer(model, _LEVEL_LAYERS[level], within).frame
    context = kind.name == mapspec.SCHEME.name
    label = mapspec.region_label(list(frame["nom"])) if level == "region" and not context else mapspec.layer_label(level, kind.name)
    _add(fmap, frame, label, _one(kind.symbols[level]), _BASE, interactive=kind.symbols[level].fill is not None)
    return [(label, kind.symbols[level])]


def _groupings(model: Model, fmap: folium.Map, within: Territory | None) -> list[tuple[str, Symbol]]:
    frame = build_layer(model, "groupings", within).frame
    symbols = mapspec.grouping_symbols(g.id for g in model.catalogue.groupings)
    sizes = {c: (len(str(e).split(";")), p) for c, e, p in zip(frame["code"], frame["epci"], frame["population"])}
    entries = []
    for code in mapspec.doll_order(sizes):
        part = frame[frame["code"] == code]
        label = str(part["nom"].iloc[0])
        _add(fmap, part, label, _one(symbols[code]), _BASE, interactive=False)
        entries.insert(0, (label, symbols[code]))
    return entries


def _coverage(model: Model, fmap: folium.Map, within: Territory | None, gaps: bool, at: dt.date | None) -> list[tuple[str, Symbol]]:
    frame = build_layer(model, "coverage", within, at).frame
    classes = frame[COUNT_FIELD].map(mapspec.count_class)
    part = frame[(classes == 0) == gaps]
    styles = {c: _style(mapspec.count_symbol(c)) for c in set(classes)}
    _add(fmap, part, mapspec.layer_label("coverage" if not gaps else "gaps", mapspec.COVERAGE.name),
         lambda f: styles[mapspec.count_class(f["properties"][COUNT_FIELD])], _BASE + [COUNT_FIELD])
    top = mapspec.COVERAGE_CLASSES[-1].count
    return [(mapspec.count_legend(c, int((classes == c).sum()), open_ended=c == top), mapspec.count_symbol(c))
            for c in sorted(set(classes)) if (c == 0) == gaps]


def _scheme(model: Model, fmap: folium.Map, layer: str, within: Territory | None, scheme_id: str,
            at: dt.date | None) -> list[tuple[str, Symbol]]:
    named, drawn, members = scheme_territories(model, scheme_id, within, at)
    if layer == "others":
        frame, sym, fields = build_layer(model, _LEVEL_LAYERS[drawn], within).frame, mapspec.SCHEME.symbols["others"], _BASE
        label = mapspec.layer_label("others", mapspec.SCHEME.name, named)
    else:
        frame, fields = members, [c for c in _BASE + ["role", "start", "end"] if c in members.columns]
        sym = mapspec.scheme_symbols({s.id: s.kind for s in model.catalogue.schemes.values()})[scheme_id]
        label = f"{mapspec.MEMBER_LABELS[named]} ({len(frame)})"
    name = f"{model.catalogue.schemes[scheme_id].name} : {label}" if layer == "members" else label  # named in the layer control
    _add(fmap, frame, name, _one(sym), fields)
    return [(label, sym)]


def _layers(model: Model, fmap: folium.Map, kind: MapKind, within: Territory | None, scheme_id: str | None = None,
            at: dt.date | None = None) -> list:
    """Every layer of a map kind in the specification's order (the outermost on top); legend entries, outermost first."""
    entries: list = []
    for layer in kind.layers:
        if layer in _LEVEL_LAYERS and layer != "grouping":
            drawn = _scale(model, fmap, kind, layer, within)
        elif layer == "grouping":
            drawn = _groupings(model, fmap, within)
        elif layer in ("coverage", "gaps"):
            drawn = _coverage(model, fmap, within, layer == "gaps", at)
        elif layer in ("others", "members"):
            drawn = _scheme(model, fmap, layer, within, scheme_id, at)
        else:  # 'links' are drawn on the web map only (from /api/schemes/{id}/links)
            drawn = []
        entries = drawn + entries
    return entries


def scales_map(model: Model, fmap: folium.Map, within: Territory | None, _arg: str | None = None, _at: dt.date | None = None) -> Caption:
    """The nested scales."""
    return Caption(mapspec.SCALES.title, _layers(model, fmap, mapspec.SCALES, within), build_layer(model, "groupings").provenance)


def coverage_map(model: Model, fmap: folium.Map, within: Territory | None, _arg: str | None = None, at: dt.date | None = None) -> Caption:
    """How many of the catalogue's schemes cover each commune (at a date: those in force then)."""
    entries = _layers(model, fmap, mapspec.COVERAGE, within, at=at)
    names = [s.name for s in model.catalogue.schemes.values()]
    return Caption(mapspec.coverage_title(names), entries, build_layer(model, "coverage", within, at).provenance)


def scheme_map(model: Model, fmap: folium.Map, within: Territory | None, scheme_id: str | None = None, at: dt.date | None = None) -> Caption:
    """A scheme's members (at a date: those in force then) over the other territories of their scale."""
    scheme = model.catalogue.schemes[scheme_id]
    entries = _layers(model, fmap, mapspec.SCHEME, within, scheme_id, at)
    title = f"{scheme.name} — {mapspec.period_text(scheme.start, scheme.end)}" if scheme.start or scheme.end else scheme.name
    return Caption(title, entries, build_layer(model, SCHEME_PREFIX + scheme_id, within, at).provenance)


StandaloneRenderer = Callable[[Model, folium.Map, Territory | None, str | None, dt.date | None], Caption]


def _key(sym: Symbol) -> str:
    """A legend key: the symbol's outline, dash and fill."""
    css = f"border:{max(1.0, min(sym.weight, 5)):g}px {'dashed' if sym.dash else 'solid'} {sym.edge};"
    if sym.fill:
        css += f"background:{sym.fill};opacity:{max(0.35, sym.fill_opacity):g};"
    return f'<span class="t-key{" t-key-fill" if sym.fill else ""}" style="{css}"></span>'


def _legend(title: str, entries: list[tuple[str, Symbol]], footer: str) -> str:
    """The legend, styled like the web map's (its style sheet inlined)."""
    rows = "".join(f"<li>{_key(sym)}{html.escape(label)}</li>" for label, sym in entries)
    css = (STATIC_DIR / "territoires.css").read_text(encoding="utf-8")
    return (f"<style>{css}</style><div class=\"t-legend t-fixed\"><details open><summary>{html.escape(title)}</summary>"
            f"<ul>{rows}</ul><p class=\"t-note\">{html.escape(footer)}</p></details></div>")


def standalone_html(model: Model, draw: StandaloneRenderer, within: Territory | None = None, arg: str | None = None,
                    at: dt.date | None = None) -> str:
    """The map a map kind's renderer ``draw`` makes (``arg``: its parameter) at the date ``at`` as one self-contained
    HTML page."""
    fmap = folium.Map(tiles=None, control_scale=True, prefer_canvas=True)
    caption = draw(model, fmap, within, arg, at)
    extent = build_layer(model, "communes", within).frame.total_bounds
    fmap.fit_bounds([[extent[1], extent[0]], [extent[3], extent[2]]])
    folium.LayerControl(collapsed=False).add_to(fmap)
    fmap.get_root().html.add_child(folium.Element(_legend(caption.title, caption.entries, summary(caption.record))))
    fmap.get_root().title = html.escape(caption.title)  # branca writes it into <title> as is
    return inline_assets(render_offline(fmap))
