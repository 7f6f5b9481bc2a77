"""A standalone HTML map: one file with its JS, CSS, fonts, images and data inlined, opened with no server and no internet.

It reads the map specification as the web and static maps: the dolls side by side where their boundaries coincide
(geo/render.py doll_lines, moved into place by layers.js), the place names (labels.js), the patterns of schemes and
coverage textures (Leaflet.pattern, on SVG paths), the quartiers, at a date. The Leaflet/Folium resources are read from
the prepared assets (:data:`service.assets.MANIFEST`, service/vendor.py), the page scripts from service/maps/static/.
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
from branca.element import MacroElement
from folium.elements import JSCSSMixin
from folium.plugins import StripePattern
from folium.template import Template

from geo import mapspec
from geo.coverage import combinations
from geo.exports.layers import SCALE_LAYERS, SCHEME_PREFIX, build_layer
from geo.exports.provenance import summary
from geo.mapspec import MapKind, Symbol
from geo.model import Model
from geo.periods import french_date
from geo.render import coverage_ids, coverage_record, coverage_title, doll_lines, label_candidates, scales_record, scheme_territories, scheme_title
from geo.territory import Territory
from service.assets import URL_PREFIX, check_assets, render_offline
from service.maps.base import label_classes, leaflet_style, script_json, seamless_period
from service.maps.controls import STATIC_DIR, STATIC_URL
from service.vendor import ASSETS_DIR

SIMPLIFY_DEG = 0.0004  # ~40 m: plenty for a screen map, a fraction of the file size
PRECISION_DEG = 1e-5
_SCRIPT = re.compile(rf'<script src="{URL_PREFIX}/([^"]+)"></script>')
_OWN_SCRIPT = re.compile(rf'<script src="{STATIC_URL}/([^"]+)"></script>')
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


def _script(path: Path) -> str:
    return "<script>" + path.read_text(encoding="utf-8").replace("</script", "<\\/script") + "</script>"


def inline_assets(page: str, directory: Path = ASSETS_DIR) -> str:
    """Replace every /assets script and stylesheet link, and the map pages' own scripts, by the file's content
    (AssetsMissing if an asset is absent)."""
    check_assets(directory)
    page = _SCRIPT.sub(lambda m: _script(directory / m.group(1)), page)
    page = _OWN_SCRIPT.sub(lambda m: _script(STATIC_DIR / m.group(1)), page)
    return _STYLESHEET.sub(lambda m: "<style>" + _inline_css(directory / m.group(1)) + "</style>", page)


def _light(frame: gpd.GeoDataFrame, columns: list[str]) -> gpd.GeoDataFrame:
    """The tooltip fields, texts HTML-escaped: folium's GeoJsonTooltip writes them into the page as HTML."""
    geoms = shapely.set_precision(shapely.simplify(frame.geometry.values, SIMPLIFY_DEG, preserve_topology=True), PRECISION_DEG)
    props = {c: frame[c].to_numpy() if pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
             else frame[c].astype(object).map(lambda v: None if pd.isna(v) else html.escape(str(v))).to_numpy() for c in columns}
    out = gpd.GeoDataFrame(props, geometry=geoms, crs=frame.crs)
    return out[~out.geometry.is_empty]


def _style(sym: Symbol) -> dict:
    """Leaflet path options of a symbol (its pattern is given by the page script, :class:`Sheet`)."""
    return {k: v for k, v in leaflet_style(sym).items() if k != "hatch"}


class Sheet:
    """The folium map being drawn, with what the page script finishes: the doll layers to move into place, the
    patterned layers, the place names."""

    def __init__(self, fmap: folium.Map, within: Territory | None, arg: str | None, at: dt.date | None = None):
        self.fmap, self.within, self.arg, self.at = fmap, within, arg, at
        self.dolls: list[str] = []
        self.patterns: list[dict] = []
        self._made: dict[tuple, str] = {}

    def add(self, frame: gpd.GeoDataFrame, name: str, sym: Symbol, fields: list[str], interactive: bool = True,
            style: Callable[[dict], dict] | None = None) -> folium.GeoJson:
        """A GeoJSON layer with a tooltip of ``fields``, drawn with ``sym`` (or ``style`` per feature) and its pattern."""
        light = _light(frame, fields)
        fixed = _style(sym)
        layer = folium.GeoJson(light, name=html.escape(name), style_function=style or (lambda _feature: fixed),  # names are HTML
                               tooltip=folium.GeoJsonTooltip(fields=fields) if interactive else None,
                               **({} if interactive else {"interactive": False})).add_to(self.fmap)
        if sym.pattern and sym.fill:
            self.patterns.append({"layer": layer.get_name(), "pattern": self._pattern(sym)})
        return layer

    def _pattern(self, sym: Symbol) -> str:
        p = sym.pattern
        key = (p.angle, p.weight, p.spacing, p.colour, sym.fill, sym.fill_opacity)
        if key not in self._made:
            period = seamless_period(-p.angle, p.period)
            self._made[key] = StripePattern(angle=-p.angle, weight=p.weight, space_weight=round(period - p.weight, 4), color=p.colour,
                                            space_color=sym.fill, opacity=1.0, space_opacity=sym.fill_opacity,
                                            height=round(period, 4)).add_to(self.fmap).get_name()
        return self._made[key]


@dataclass(frozen=True)
class Caption:
    """What a map kind's standalone renderer gives back: its kind, title, legend entries (outermost first), provenance."""

    kind: MapKind
    title: str
    entries: list[tuple[str, Symbol]]
    record: dict


def _scale(model: Model, sheet: Sheet, kind: MapKind, level: str) -> list[tuple[str, Symbol]]:
    """A scale's polygons: the communes, the quartiers."""
    if level == "quartier":
        frame = model.scales["quartier"]
        frame = frame[frame["code"].isin(sheet.within.codes("quartier"))] if sheet.within else frame
    else:
        frame = build_layer(model, _LEVEL_LAYERS[level], sheet.within).frame
    label = mapspec.layer_label(level, kind.name)
    sheet.add(frame, label, kind.symbols[level], _BASE)
    return [(label, kind.symbols[level])]


def _dolls(model: Model, sheet: Sheet, kind: MapKind) -> list[tuple[str, Symbol]]:
    """The boundaries of the scales above the communes, each doll a layer of lines the page script moves into place."""
    dolls = doll_lines(model, kind, sheet.within, sheet.at)
    for doll in dolls[::-1]:  # the outermost last, on top
        frame = gpd.GeoDataFrame({"o": doll.offsets}, geometry=doll.lines, crs=model.scales["commune"].crs)
        layer = sheet.add(frame, doll.name, doll.symbol, ["o"], interactive=False)
        sheet.dolls.append(layer.get_name())
    return [(d.name, d.symbol) for d in dolls]


def _coverage(model: Model, sheet: Sheet, layer: str, ids: list[str]) -> list[tuple[str, Symbol]]:
    """The gaps, the choropleth (when the textures are not shown first) or a texture per scheme, as on the web map."""
    frame = build_layer(model, "communes", sheet.within).frame
    coverage = model.coverage if sheet.at is None else model.coverage.on(sheet.at)
    matrix = coverage.matrix(ids, sheet.within).reindex(frame["code"].astype(str)).fillna(0).astype(int)
    counts = matrix.sum(axis=1).to_numpy()
    textures = len(ids) <= mapspec.OVERLAY_MAX
    if layer == "gaps":
        part = frame[counts == 0]
        sheet.add(part, mapspec.layer_label("gaps", mapspec.COVERAGE.name), mapspec.GAP, _BASE)
        return [(mapspec.count_legend(0, len(part)), mapspec.GAP)]
    if layer == "coverage":
        if textures:
            return []
        part = frame.assign(n=counts)[counts > 0]
        styles = {c.count: _style(c.symbol) for c in mapspec.COVERAGE_CLASSES}
        sheet.add(part, mapspec.layer_label("coverage", mapspec.COVERAGE.name), mapspec.COVERAGE_COMMUNE, _BASE + ["n"],
                  style=lambda f: styles[mapspec.count_class(f["properties"]["n"])])
        top = mapspec.COVERAGE_CLASSES[-1].count
        classes = [mapspec.count_class(int(n)) for n in counts[counts > 0]]
        return [(mapspec.count_legend(c, classes.count(c), open_ended=c == top), mapspec.count_symbol(c)) for c in sorted(set(classes))]
    if not textures:
        return []
    symbols = mapspec.overlay_symbols(ids, {s.id: s.kind for s in model.catalogue.schemes.values()})
    names = {i: model.catalogue.schemes[i].name for i in ids}
    entries = []
    for i in ids:
        part = frame[matrix[i].to_numpy() == 1]
        sheet.add(part, names[i], symbols[i], _BASE)
        entries.append((mapspec.scheme_legend(names[i], len(part)), symbols[i]))
    return entries + [(mapspec.combination_label([names[i] for i in combo], n), symbols[combo[0]])
                      for combo, n in combinations(matrix[ids])]


def _scheme(model: Model, sheet: Sheet, layer: str) -> list[tuple[str, Symbol]]:
    named, members, holders = scheme_territories(model, sheet.arg, sheet.within, sheet.at)
    if layer == "others":
        drawn = "commune" if named == "quartier" else named
        frame, sym = build_layer(model, _LEVEL_LAYERS[drawn], sheet.within).frame, mapspec.SCHEME.symbols["others"]
        label = mapspec.layer_label("others", mapspec.SCHEME.name, named)
        sheet.add(frame, label, sym, _BASE)
        return [(label, sym)]
    sym = mapspec.scheme_symbols({s.id: s.kind for s in model.catalogue.schemes.values()})[sheet.arg]
    entries = []
    if holders is not None:
        light = Symbol(sym.edge, sym.weight / 2, fill=sym.fill, fill_opacity=sym.fill_opacity / 2)
        label = mapspec.QUARTIER_COMMUNES_LABEL.split(" (")[0] + f" ({len(holders)})"
        sheet.add(holders, label, light, _BASE)
        entries.append((label, light))
    label = f"{mapspec.MEMBER_LABELS[named]} ({len(members)})"
    fields = [c for c in _BASE + ["role", "start", "end"] if c in members.columns]
    sheet.add(members, f"{model.catalogue.schemes[sheet.arg].name} : {label}", sym, fields)  # named in the layer control
    return [(label, sym), *entries]


def _layers(model: Model, sheet: Sheet, kind: MapKind, ids: list[str] | None = None) -> list:
    """Every layer of a map kind in the specification's order (the doll boundaries on top); legend entries, outermost first."""
    entries: list = []
    dolls = [layer for layer in kind.layers if layer in ("epci", "grouping", "departement", "region")]
    for layer in kind.layers:
        if layer in ("commune", "quartier"):
            drawn = _scale(model, sheet, kind, layer)
        elif layer in dolls:
            drawn = []
        elif layer in ("coverage", "gaps", "schemes"):
            drawn = _coverage(model, sheet, layer, ids or [])
        elif layer in ("others", "members"):
            drawn = _scheme(model, sheet, layer)
        else:  # 'links' are drawn on the web map only (from /api/schemes/{id}/links)
            drawn = []
        entries = drawn + entries
    return (_dolls(model, sheet, kind) if dolls else []) + entries


def scales_map(model: Model, sheet: Sheet) -> Caption:
    """The nested scales."""
    return Caption(mapspec.SCALES, mapspec.SCALES.title, _layers(model, sheet, mapspec.SCALES), scales_record(model, sheet.within, sheet.at))


def coverage_map(model: Model, sheet: Sheet) -> Caption:
    """How many of the chosen schemes (all by default) cover each commune; up to OVERLAY_MAX, a texture each."""
    ids = coverage_ids(model, sheet.arg)
    entries = _layers(model, sheet, mapspec.COVERAGE, ids)
    return Caption(mapspec.COVERAGE, coverage_title(model, ids), entries, coverage_record(model, ids, sheet.within, sheet.at))


def scheme_map(model: Model, sheet: Sheet) -> Caption:
    """A scheme's members over the other territories of their scale."""
    entries = _layers(model, sheet, mapspec.SCHEME)
    return Caption(mapspec.SCHEME, scheme_title(model.catalogue.schemes[sheet.arg]), entries,
                   build_layer(model, SCHEME_PREFIX + sheet.arg, sheet.within, sheet.at).provenance)


StandaloneRenderer = Callable[[Model, Sheet], Caption]


def _key(sym: Symbol) -> str:
    """A legend key: the symbol's outline, dash, fill and hatch."""
    css = f"border:{max(1.0, min(sym.weight, 5)):g}px {'dashed' if sym.dash else 'solid'} {sym.edge};"
    if sym.fill:
        css += f"background:{sym.fill};opacity:{max(0.35, sym.fill_opacity):g};"
        if sym.pattern:
            p = sym.pattern
            css += (f"background-image:repeating-linear-gradient({-p.angle}deg,{p.colour} 0 {p.weight:g}px,transparent {p.weight:g}px "
                    f"{p.period:g}px);")
    return f'<span class="t-key{" t-key-fill" if sym.fill else ""}" style="{css}"></span>'


def _legend(title: str, entries: list[tuple[str, Symbol]], footer: str) -> str:
    """The legend, styled like the web map's (its style sheet inlined)."""
    rows = "".join(f"<li>{_key(sym)}{html.escape(label)}</li>" for label, sym in entries)
    css = (STATIC_DIR / "territoires.css").read_text(encoding="utf-8")
    return (f"<style>{css}</style><div class=\"t-legend t-fixed\"><details open><summary>{html.escape(title)}</summary>"
            f"<ul>{rows}</ul><p class=\"t-note\">{html.escape(footer)}</p></details></div>")


class Finish(JSCSSMixin, MacroElement):
    """Loads the map pages' scripts and finishes the map: doll lines into place, patterns, place names."""

    default_js = [("leaflet.vectorgrid", "https://unpkg.com/leaflet.vectorgrid@1.3.0/dist/Leaflet.VectorGrid.bundled.min.js"),
                  ("territoires_layers", f"{STATIC_URL}/layers.js"), ("territoires_labels", f"{STATIC_URL}/labels.js")]
    _template = Template("""
        {% macro script(this, kwargs) %}
            territoires.standalone({{ this._parent.get_name() }}, {{ this.config }});
            territoires.staticLabels({{ this._parent.get_name() }}, {{ this.labels }}, {{ this.config }});
        {% endmacro %}
    """)

    def __init__(self, config: str, labels: str):
        super().__init__()
        self._name = "Finish"
        self.config, self.labels = config, labels


def standalone_html(model: Model, draw: StandaloneRenderer, within: Territory | None = None, arg: str | None = None,
                    at: dt.date | None = None) -> str:
    """The map a map kind's renderer ``draw`` makes (``arg``: its parameter) at the date ``at`` as one self-contained
    HTML page."""
    fmap = folium.Map(tiles=None)  # the scale bar (metres only) is added by the page script
    sheet = Sheet(fmap, within, arg, at)
    caption = draw(model, sheet)
    communes = build_layer(model, "communes", within).frame
    if caption.kind.per_scheme and not within:  # a scheme map shows its members, as on the web
        covered = communes[communes["code"].isin(model.coverage.scheme_communes(arg))]
        communes = covered if len(covered) else communes
    extent = communes.total_bounds
    fmap.fit_bounds([[extent[1], extent[0]], [extent[3], extent[2]]])
    folium.LayerControl(collapsed=False).add_to(fmap)
    labels = label_candidates(model, caption.kind, within, at)
    xy = shapely.get_coordinates(labels.geometry.values)
    rows = [[round(float(y), 5), round(float(x), 5), str(n), str(k), int(r), int(lo), int(hi)]
            for (x, y), n, k, r, lo, hi in zip(xy, labels["nom"], labels["kind"], labels["rank"], labels["min_zoom"], labels["max_zoom"])]
    config = {"dolls": sheet.dolls, "patterns": sheet.patterns, "labelClasses": label_classes(),
              "labelPadding": mapspec.LABEL_PADDING_PX, "labelShifts": mapspec.LABEL_SHIFTS}
    Finish(script_json(config), script_json(rows)).add_to(fmap)
    title = caption.title + (f" — situation au {french_date(at)}" if at is not None else "")
    fmap.get_root().html.add_child(folium.Element(_legend(title, caption.entries, summary(caption.record))))
    fmap.get_root().title = html.escape(title)  # branca writes it into <title> as is
    return inline_assets(render_offline(fmap))
