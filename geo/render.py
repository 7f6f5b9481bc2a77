"""Static maps for reports (matplotlib, no browser): nested scales, a scheme's members, coverage.

Drawn in Lambert-93 with a title, legend, scale bar, north arrow, sources and data version, at A4 or a pixel size,
from the map specification as the web maps: the dolls side by side where their boundaries coincide (geo/dolls.py),
the place names of the zoom the paper's scale matches (geo/labels.py, same greedy pass), a texture per scheme on
coverage maps. Every class has a hatch or line style besides its colour, so the maps read in black-and-white print.
"""
from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from textwrap import fill

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.legend_handler import HandlerTuple
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from geo import mapspec
from geo.coverage import Coverage, combinations
from geo.dolls import Edges, edges
from geo.errors import Invalid
from geo.exports.layers import SCALE_LAYERS, SCHEME_PREFIX, build_layer
from geo.exports.provenance import summary
from geo.labels import place, shown_at
from geo.mapspec import MapKind, Pattern, Symbol
from geo.model import Model
from geo.periods import french_date, in_force
from geo.schemes import Scheme
from geo.sources import perimeters
from geo.territory import Territory

MAP_CRS = 2154  # Lambert-93
RENDER_FORMATS = {"png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf"}
A4_INCHES = (297 / 25.4, 210 / 25.4)
PNG_DPI = 150
MAX_PIXELS = 4000  # a side, in pixels
MAX_AREA = 9_000_000  # pixels of one image: an A4 page at 300 dpi (3508 x 2480) fits; memory and time grow with it
_SIZE = re.compile(r"^(\d{2,5})x(\d{2,5})$")
_LEVEL_LAYERS = {level: layer for layer, level in SCALE_LAYERS.items()}
#: Pattern angle → matplotlib hatch; the character is repeated for denser lines (one per ~16 px at 1).
_HATCH = {45: "/", -45: "\\", 0: "-", 90: "|"}


class RenderError(Invalid):
    """A map name, size or format that cannot be rendered; the message names the accepted values."""


@dataclass(frozen=True)
class Size:
    """Figure size in inches and resolution."""

    inches: tuple[float, float]
    dpi: int


def parse_size(value: str) -> Size:
    """'a4' (landscape), 'a4-portrait' or 'WIDTHxHEIGHT' in pixels."""
    if value == "a4":
        return Size(A4_INCHES, PNG_DPI)
    if value == "a4-portrait":
        return Size(A4_INCHES[::-1], PNG_DPI)
    match = _SIZE.match(value)
    if not match or not all(200 <= int(v) <= MAX_PIXELS for v in match.groups()):
        raise RenderError(f"Taille inconnue : « {value} ». Utilisez a4, a4-portrait ou LARGEURxHAUTEUR en pixels (de 200 à {MAX_PIXELS}).")
    w, h = (int(v) for v in match.groups())
    if w * h > MAX_AREA:
        millions = f"{w * h / 1e6:.1f}".replace(".", ",")
        raise RenderError(f"Taille trop grande : « {value} » fait {millions} millions de pixels, au plus {MAX_AREA / 1e6:g} millions "
                          "(une page A4 à 300 dpi, 3508x2480, y tient).")
    return Size((w / 100, h / 100), 100)


def check_format(fmt: str) -> str:
    if fmt not in RENDER_FORMATS:
        raise RenderError(f"Format d'image inconnu : « {fmt} ». Formats : {', '.join(RENDER_FORMATS)}.")
    return fmt


def _hatch(pattern: Pattern) -> str:
    return _HATCH[pattern.angle] * max(1, round(16 / pattern.period))


def _draw(ax: Axes, frame: gpd.GeoDataFrame, sym: Symbol, zorder: int, gid: str) -> None:
    """A symbol in three passes, as in the QGIS styles: translucent fill, pattern, outline (the artists' ``gid``, the
    layer's id in SVG: ``gid`` for the outline, with '-fill' and '-pattern' for the others)."""
    if frame.empty:
        return
    if sym.fill and sym.fill != mapspec.PAPER:  # the web map's white fills (that catch the pointer) are paper here
        frame.plot(ax=ax, facecolor=sym.fill, alpha=sym.fill_opacity, edgecolor="none", linewidth=0, zorder=zorder, gid=f"{gid}-fill")
    if sym.pattern:  # one dissolved shape: hatching thousands of small paths is slow
        merged = gpd.GeoSeries([shapely.coverage_union_all(frame.geometry.values)], crs=frame.crs)
        merged.plot(ax=ax, facecolor="none", edgecolor="none", hatch=_hatch(sym.pattern), hatchcolor=sym.pattern.colour,
                    hatch_linewidth=mapspec.px_to_pt(sym.pattern.weight), linewidth=0, zorder=zorder, gid=f"{gid}-pattern")
    frame.boundary.plot(ax=ax, color=sym.edge, alpha=sym.opacity, linewidth=mapspec.px_to_pt(sym.weight), linestyle=_linestyle(sym),
                        zorder=zorder + 1, gid=gid)


def _linestyle(sym: Symbol) -> str | tuple:
    """matplotlib scales dash lengths by the line width: both are in pixels in the specification."""
    return (0, tuple(v / sym.weight for v in sym.dash)) if sym.dash else "-"


def _patch(sym: Symbol, label: str) -> Patch:
    pattern = sym.pattern
    return Patch(facecolor=sym.fill or "none", edgecolor=sym.edge, linewidth=mapspec.px_to_pt(sym.weight), label=fill(label, 36),
                 hatch=_hatch(pattern) if pattern else None, hatchcolor=pattern.colour if pattern else None,
                 hatch_linewidth=mapspec.px_to_pt(pattern.weight) if pattern else None,
                 alpha=None if not sym.fill else max(sym.fill_opacity, 0.6))


def _line(sym: Symbol, label: str) -> Line2D:
    return Line2D([], [], color=sym.edge, linewidth=mapspec.px_to_pt(sym.weight), linestyle=_linestyle(sym), label=fill(label, 36))


def _nice(length: float) -> float:
    """The largest of 1, 2, 5 × 10^n not above ``length``."""
    exp = 10 ** np.floor(np.log10(length))
    return float(max(m for m in (1, 2, 5) if m * exp <= length) * exp)


def _scale_bar(ax: Axes) -> None:
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    metres = _nice((x1 - x0) / 5)
    left, bottom, height = x1 - (x1 - x0) * 0.04 - metres, y0 + (y1 - y0) * 0.04, (y1 - y0) * 0.012
    for i in range(4):
        ax.add_patch(Rectangle((left + i * metres / 4, bottom), metres / 4, height, facecolor="black" if i % 2 == 0 else "white",
                               edgecolor="black", linewidth=0.6, zorder=20))
    label = f"{metres / 1000:g} km" if metres >= 1000 else f"{metres:g} m"
    ax.text(left + metres, bottom + height * 1.6, label, ha="center", va="bottom", fontsize=8, zorder=20)
    ax.text(left, bottom + height * 1.6, "0", ha="center", va="bottom", fontsize=8, zorder=20)


def _north_arrow(ax: Axes) -> None:
    ax.annotate("N", xy=(0.96, 0.95), xytext=(0.96, 0.86), xycoords="axes fraction", ha="center", va="center", fontsize=12,
                fontweight="bold", arrowprops={"facecolor": "black", "edgecolor": "black", "width": 4, "headwidth": 12}, zorder=20)


def _frame(model: Model, layer: str, within: Territory | None, at: dt.date | None = None) -> gpd.GeoDataFrame:
    return build_layer(model, layer, within, at).frame.to_crs(MAP_CRS)


@dataclass(frozen=True)
class Sheet:
    """What a map kind's static renderer draws on: the axes, the territory shown (``within``), its parameter (the
    scheme of a scheme map, the schemes of a coverage map), and the paper's scale (metres per CSS pixel) and the web
    zoom it matches (which place names it shows), and the date shown (None: the situation of every period at once)."""

    ax: Axes
    within: Territory | None
    arg: str | None
    metres_per_px: float
    zoom: int
    at: dt.date | None = None


@dataclass(frozen=True)
class Caption:
    """What a map kind's static renderer gives back: its kind, title, legend handles (outermost first), provenance."""

    kind: MapKind
    title: str
    handles: list
    record: dict


def _scale(model: Model, sheet: Sheet, kind: MapKind, level: str, zorder: int) -> list:
    """A scale's polygons (its fill and its own outline: the communes, the quartiers)."""
    frame = _frame(model, _LEVEL_LAYERS.get(level, level + "s"), sheet.within) if level != "quartier" else _quartiers(model, sheet.within)
    sym = kind.symbols[level]
    _draw(sheet.ax, frame, sym, zorder, level)
    return [_line(sym, mapspec.layer_label(level, kind.name)) if not sym.fill else _patch(sym, mapspec.layer_label(level, kind.name))]


def _quartiers(model: Model, within: Territory | None) -> gpd.GeoDataFrame:
    """The quartiers in view (those holding a commune of ``within``), in Lambert-93."""
    table = model.scales["quartier"]
    if within:
        table = table[table["code"].isin(within.codes("quartier"))]
    return table.to_crs(MAP_CRS)


def groupings_shown(model: Model, within: Territory | None, at: dt.date | None) -> frozenset[str]:
    """The groupings a map shows: those holding the focus (all without one), in force at ``at`` (all without a date)."""
    shown = within.codes("grouping") if within else frozenset(g.id for g in model.catalogue.groupings)
    return frozenset(g.id for g in model.catalogue.groupings if g.id in shown and (at is None or in_force(g.start, g.end, at)))


def _doll_keys(model: Model, kind: MapKind, within: Territory | None, at: dt.date | None) -> dict[str, Symbol]:
    """The doll lines a map kind draws (key → symbol), outermost first; with a focus, the groupings holding it; at a
    date, those in force."""
    shown = groupings_shown(model, within, at)
    groupings = mapspec.grouping_symbols(g.id for g in model.catalogue.groupings)
    out = {}
    for key in model.dolls.keys:
        level, _, code = key.partition(":")
        if code and "grouping" in kind.layers and code in shown:
            out[key] = groupings[code]
        elif not code and level in kind.layers:
            out[key] = kind.symbols[level]
    return out


@dataclass(frozen=True)
class DollLines:
    """A doll's boundary pieces (WGS 84) and where each goes among the dolls drawn along it (pixels towards its inner
    side, :func:`geo.mapspec.doll_offsets`), with its symbol and its legend name."""

    key: str
    symbol: Symbol
    name: str
    lines: np.ndarray
    offsets: np.ndarray


def doll_lines(model: Model, kind: MapKind, within: Territory | None, at: dt.date | None = None) -> list[DollLines]:
    """The boundaries of the scales above the communes a map kind draws (the groupings in force at ``at``), outermost
    first, side by side where they coincide (the web map's rule): every renderer without tiles draws them from here."""
    keys = _doll_keys(model, kind, within, at)
    communes = model.scales["commune"]
    if within is not None:
        # the communes whose box meets the focus's (widened): a boundary in that box has its two sides among them
        # (each side's box holds it), and what lies beyond is cut off
        box = shapely.box(*communes[communes["code"].isin(within.communes)].total_bounds).buffer(0.05, join_style="mitre")
        rows = np.sort(shapely.STRtree(communes.geometry.values).query(box))
        keep = model.dolls.keep({lv: within.codes(lv) for lv in ("epci", "departement", "region", "grouping")})
    else:
        rows, keep, box = np.arange(len(communes)), None, None
    found = edges(communes.geometry.values[rows], rows, model.dolls, keep)
    if box is not None:
        lines = shapely.clip_by_rect(found.lines, *box.bounds)
        inside = ~shapely.is_empty(lines)
        found = Edges(lines[inside], found.masks[inside])
    bits = {key: model.dolls.keys.index(key) for key in keys}
    shown = sum(1 << b for b in bits.values())
    names = model.scales["grouping"].set_index("code")["nom"]
    out = []
    for key, sym in keys.items():
        mine = (found.masks & (1 << bits[key])) != 0
        if not mine.any():
            continue
        offsets = np.empty(int(mine.sum()))
        for j, mask in enumerate(found.masks[mine]):
            drawn = [b for b in sorted(bits.values()) if mask & shown & (1 << b)]
            offsets[j] = mapspec.doll_offsets([keys[model.dolls.keys[b]].weight for b in drawn])[drawn.index(bits[key])]
        level, _, code = key.partition(":")
        if code:
            name = str(names.get(code, code))
        elif level == "region" and kind.name != mapspec.SCHEME.name:
            name = mapspec.region_label(list(_frame(model, "regions", within)["nom"]))
        else:
            name = mapspec.layer_label(level, kind.name)
        out.append(DollLines(key, sym, name, found.lines[mine], offsets))
    return out


def _dolls(model: Model, sheet: Sheet, kind: MapKind, zorder: int) -> list:
    """The doll boundaries side by side at the paper's scale; legend handles, outermost first."""
    dolls = doll_lines(model, kind, sheet.within, sheet.at)
    for i, doll in enumerate(dolls):
        lines = gpd.GeoSeries(doll.lines, crs=model.scales["commune"].crs).to_crs(MAP_CRS).to_numpy()
        moved = shapely.offset_curve(lines, doll.offsets * sheet.metres_per_px, join_style="mitre", mitre_limit=3.0)
        level, _, code = doll.key.partition(":")
        sym = doll.symbol
        gpd.GeoSeries(moved, crs=MAP_CRS).plot(ax=sheet.ax, color=sym.edge, alpha=sym.opacity, linewidth=mapspec.px_to_pt(sym.weight),
                                               linestyle=_linestyle(sym), zorder=zorder + len(dolls) - i,
                                               gid=f"grouping-{code}" if code else level)
    return [_line(d.symbol, d.name) for d in dolls]


def label_candidates(model: Model, kind: MapKind, within: Territory | None, at: dt.date | None = None) -> gpd.GeoDataFrame:
    """The place names a map kind shows (its label classes; with a focus, those of its territories; at a date, the
    groupings in force only), by priority."""
    shown = model.labels[model.labels["kind"].isin(kind.labels)]
    if within:
        shown = shown[[c in within.codes(lv) for c, lv in zip(shown["code"], shown["level"])]]
    groupings = groupings_shown(model, within, at)
    return shown[(shown["level"] != "grouping") | shown["code"].isin(groupings)]


def _labels(model: Model, sheet: Sheet, kind: MapKind) -> None:
    """The place names of the paper's zoom, the most important first, none overlapping another (geo/labels.py)."""
    ax = sheet.ax
    points = shown_at(label_candidates(model, kind, sheet.within, sheet.at), sheet.zoom).to_crs(MAP_CRS)
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    xy = shapely.get_coordinates(points.geometry.values)
    inside = (xy[:, 0] > x0) & (xy[:, 0] < x1) & (xy[:, 1] > y0) & (xy[:, 1] < y1)
    renderer = ax.figure.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    texts, options, classes = [], [], []
    for (x, y), nom, kind in zip(xy[inside], points["nom"][inside], points["kind"][inside]):
        cls = mapspec.LABEL_CLASSES[kind]
        text = ax.annotate(str(nom), (x, y), xytext=(0, 0), textcoords="offset points", ha="center", va="center",
                           fontsize=mapspec.px_to_pt(cls.size), color=cls.colour, fontweight="bold" if cls.bold else "normal",
                           fontstyle="italic" if cls.italic else "normal", zorder=41, annotation_clip=True)
        box = text.get_window_extent(renderer)
        classes.append(cls)
        shifts = mapspec.LABEL_SHIFTS if cls.movable else ((0, 0),)
        boxes = [(box.x0 + dx * box.height, box.y0 - dy * box.height, box.x1 + dx * box.height, box.y1 - dy * box.height)
                 for dx, dy in shifts]
        boxes = [b for b in boxes if b[0] >= frame.x0 and b[2] <= frame.x1 and b[1] >= frame.y0 and b[3] <= frame.y1]
        texts.append(text)
        options.append(boxes)
    padding = mapspec.LABEL_PADDING_PX * ax.figure.dpi / 96
    for text, cls, options_, choice in zip(texts, classes, options, place(options, padding)):
        if choice is None:
            text.remove()
            continue
        dy = options_[choice][1] - (text.get_window_extent(renderer).y0)
        text.set_position((0, dy * 72 / ax.figure.dpi))
        # the halo of paper beneath, its own artist (drawn as outlines), so that the name stays text in PDF and SVG
        halo = ax.annotate(text.get_text(), text.xy, xytext=text.get_position(), textcoords="offset points", ha="center",
                           va="center", fontproperties=text.get_fontproperties(), color=mapspec.PAPER, zorder=40,
                           annotation_clip=True, gid="halo",
                           path_effects=[patheffects.withStroke(linewidth=mapspec.px_to_pt(cls.halo_px) * 2, foreground=mapspec.PAPER)])
        halo.set_in_layout(False)


def _coverage_at(model: Model, at: dt.date | None) -> Coverage:
    """The model's coverage in force at ``at`` (every period at once without a date)."""
    return model.coverage if at is None else model.coverage.on(at)


def _communes_of(model: Model, ids: list[str], within: Territory | None, at: dt.date | None) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """The communes in view (Lambert-93) and their commune × scheme matrix for ``ids`` (in force at ``at``)."""
    frame = _frame(model, "communes", within)
    matrix = _coverage_at(model, at).matrix(ids, within).reindex(frame["code"].astype(str)).fillna(0).astype(int)
    return frame, matrix


def _coverage(model: Model, sheet: Sheet, layer: str, ids: list[str], zorder: int) -> list:
    """Communes by number of the chosen schemes covering them (the choropleth, drawn when the textures are not), the
    gaps, or a texture per scheme; the legend's handles (the combinations with the textures)."""
    frame, matrix = _communes_of(model, ids, sheet.within, sheet.at)
    counts = matrix.sum(axis=1).to_numpy()
    textures = len(ids) <= mapspec.OVERLAY_MAX
    if layer == "gaps":
        part = frame[counts == 0]
        _draw(sheet.ax, part, mapspec.GAP, zorder, "coverage-0")
        return [_patch(mapspec.GAP, mapspec.count_legend(0, len(part)))]
    if layer == "coverage":
        if textures:
            return []
        classes = np.array([mapspec.count_class(int(n)) for n in counts])
        top = mapspec.COVERAGE_CLASSES[-1].count
        handles = []
        for cls in sorted(set(classes) - {0}):
            part, sym = frame[classes == cls], mapspec.count_symbol(cls)
            _draw(sheet.ax, part, sym, zorder, f"coverage-{cls}")
            handles.append(_patch(sym, mapspec.count_legend(cls, len(part), open_ended=cls == top)))
        return handles
    # layer == "schemes": a texture per scheme, the combinations in the legend
    if not textures:
        return []
    symbols = mapspec.overlay_symbols(ids, {s.id: s.kind for s in model.catalogue.schemes.values()})
    names = {i: model.catalogue.schemes[i].name for i in ids}
    patches = {}
    for i in ids:
        part = frame[matrix[i].to_numpy() == 1]
        _draw(sheet.ax, part, symbols[i], zorder, f"scheme-{i}")
        patches[i] = _patch(symbols[i], mapspec.scheme_legend(names[i], len(part)))
    combos = [_Combination(tuple(_patch(symbols[i], "") for i in combo), fill(mapspec.combination_label([names[i] for i in combo], n), 36))
              for combo, n in combinations(matrix[ids])]
    return [*patches.values(), *combos]


@dataclass(frozen=True)
class _Combination:
    """A legend entry drawn as the textures of several schemes laid over each other."""

    patches: tuple
    label: str


def scheme_territories(model: Model, scheme_id: str, within: Territory | None,
                       at: dt.date | None = None) -> tuple[str, gpd.GeoDataFrame, gpd.GeoDataFrame | None]:
    """A scheme map's members (those in force at ``at``, when given): the scale naming them, the territories drawn
    (WGS 84), and for a scheme of quartiers the communes that hold them (the quartiers are drawn themselves, as on the
    web map)."""
    scheme = model.catalogue.schemes[scheme_id]
    exported = build_layer(model, SCHEME_PREFIX + scheme_id, within, at).frame
    named = str(exported["level"].iloc[0]) if len(exported) else scheme.member_scale
    if at is not None:
        exported = exported[exported["in_force"].to_numpy(dtype=bool)]
    if named != "quartier":
        return named, exported, None
    communes = build_layer(model, "communes", within).frame
    return named, exported, communes[communes["code"].isin(_coverage_at(model, at).scheme_communes(scheme_id, within))]


def _scheme_layers(model: Model, sheet: Sheet, layer: str, zorder: int) -> list:
    named, members, holders = scheme_territories(model, sheet.arg, sheet.within, sheet.at)
    drawn = "commune" if named == "quartier" else named
    if layer == "others":
        frame, sym = _frame(model, _LEVEL_LAYERS[drawn], sheet.within), mapspec.SCHEME.symbols["others"]
        _draw(sheet.ax, frame, sym, zorder, layer)
        return [_patch(sym, mapspec.layer_label("others", mapspec.SCHEME.name, named))]
    sym = mapspec.scheme_symbols({s.id: s.kind for s in model.catalogue.schemes.values()})[sheet.arg]
    handles = []
    if holders is not None:
        light = Symbol(sym.edge, sym.weight / 2, fill=sym.fill, fill_opacity=sym.fill_opacity / 2)
        _draw(sheet.ax, holders.to_crs(MAP_CRS), light, zorder, "holders")
        handles.append(_patch(light, mapspec.QUARTIER_COMMUNES_LABEL.split(" (")[0] + f" ({len(holders)})"))
    frame = members.to_crs(MAP_CRS)
    _draw(sheet.ax, frame, sym, zorder + 1, layer)
    return [_patch(sym, f"{mapspec.MEMBER_LABELS[named]} ({len(frame)})"), *handles]


def _draw_layers(model: Model, sheet: Sheet, kind: MapKind, ids: list[str] | None = None) -> list:
    """Every layer of a map kind in the specification's order (the outermost on top), the boundaries of the scales
    above the communes side by side (drawn once, above the fills); the legend's handles, outermost first."""
    handles: list = []
    dolls = [layer for layer in kind.layers if layer in ("epci", "grouping", "departement", "region")]
    for z, layer in enumerate(kind.layers):
        zorder = 2 + 4 * z
        if layer in ("commune", "quartier"):
            drawn = _scale(model, sheet, kind, layer, zorder)
        elif layer in dolls:
            drawn = _dolls(model, sheet, kind, 2 + 4 * len(kind.layers)) if layer == dolls[0] else []
        elif layer in ("coverage", "gaps", "schemes"):
            drawn = _coverage(model, sheet, layer, ids or [], zorder)
        elif layer in ("others", "members"):
            drawn = _scheme_layers(model, sheet, layer, zorder)
        else:  # 'links' are drawn on the web map only (from /api/schemes/{id}/links)
            drawn = []
        handles = drawn + handles
    return handles


def scales_record(model: Model, within: Territory | None, at: dt.date | None) -> dict:
    """The provenance of a scales map: the boundaries' sources and those of the groupings it shows, and its date (the
    boundaries are not dated: the record of a dated layer)."""
    record = build_layer(model, "groupings").provenance
    names = {model.catalogue.schemes[g].name for g in groupings_shown(model, within, at)}
    return {**record, "sources": [s for s in record["sources"] if s["role"] != "scheme" or s["name"] in names],
            **({"date": at.isoformat(), "perimeters": perimeters()} if at else {})}


def draw_scales(model: Model, sheet: Sheet) -> Caption:
    """The nested scales: communes, quartiers, EPCI, groupings, départements, région."""
    return Caption(mapspec.SCALES, mapspec.SCALES.title, _draw_layers(model, sheet, mapspec.SCALES), scales_record(model, sheet.within, sheet.at))


def coverage_ids(model: Model, schemes: str | None) -> list[str]:
    """The schemes of a coverage map: those named ('a,b'; each known), or every scheme of the catalogue."""
    ids = list(dict.fromkeys(i.strip() for i in (schemes or "").split(",") if i.strip()))
    for i in ids:
        model.scheme(i)  # a French error naming an unknown scheme
    return ids or list(model.catalogue.schemes)


def coverage_title(model: Model, ids: list[str]) -> str:
    """A coverage map's title, naming its schemes."""
    return mapspec.coverage_title([model.catalogue.schemes[i].name for i in ids])


def coverage_record(model: Model, ids: list[str], within: Territory | None, at: dt.date | None) -> dict:
    """The provenance of a coverage map of the schemes ``ids``: the coverage layer's, citing those schemes only."""
    names = {model.catalogue.schemes[i].name for i in ids}
    record = build_layer(model, "coverage", within, at).provenance
    return {**record, "sources": [s for s in record["sources"] if s["role"] != "scheme" or s["name"] in names]}


def scheme_title(scheme: Scheme) -> str:
    """A scheme map's title: its name and period."""
    return f"{scheme.name} — {mapspec.period_text(scheme.start, scheme.end)}" if scheme.start or scheme.end else scheme.name


def draw_coverage(model: Model, sheet: Sheet) -> Caption:
    """How many of the chosen schemes (all by default) cover each commune; up to OVERLAY_MAX, a texture each."""
    ids = coverage_ids(model, sheet.arg)
    handles = _draw_layers(model, sheet, mapspec.COVERAGE, ids)
    return Caption(mapspec.COVERAGE, coverage_title(model, ids), handles, coverage_record(model, ids, sheet.within, sheet.at))


def draw_scheme(model: Model, sheet: Sheet) -> Caption:
    """A scheme's members over the other territories of their scale."""
    handles = _draw_layers(model, sheet, mapspec.SCHEME)
    return Caption(mapspec.SCHEME, scheme_title(model.catalogue.schemes[sheet.arg]), handles,
                   build_layer(model, SCHEME_PREFIX + sheet.arg, sheet.within, sheet.at).provenance)


StaticRenderer = Callable[[Model, Sheet], Caption]


def _place(within: Territory) -> str:
    """'Colomiers (31149)', 'Agglomération toulousaine' (a grouping's id is no code a person reads)."""
    return within.nom if within.level == "grouping" else within.label


AXES = (0.02, 0.08, 0.70, 0.82)
FOOTER_PT = 6.5


def _extent(model: Model, within: Territory | None, scheme: str | None) -> np.ndarray:
    """What a map shows (Lambert-93 bounds): the territory asked for, else a scheme's communes, else the scope."""
    communes = _frame(model, "communes", within)
    if scheme and not within:
        covered = communes[communes["code"].isin(model.coverage.scheme_communes(scheme))]
        communes = covered if len(covered) else communes
    return communes.total_bounds


def render_map(model: Model, draw: StaticRenderer, within: Territory | None = None, size: str = "a4", arg: str | None = None,
               kind: MapKind | None = None, at: dt.date | None = None) -> Figure:
    """The figure a map kind's renderer ``draw`` makes (``arg``: its parameter, e.g. the scheme id) at the date ``at``,
    zoomed on a territory (else on a scheme map's members, as the web map), with title, legend, scale bar, north arrow,
    sources and data version."""
    dims = parse_size(size)
    fig = Figure(figsize=dims.inches, dpi=dims.dpi, facecolor=mapspec.PAPER)
    FigureCanvasAgg(fig)
    ax = fig.add_axes(AXES)
    extent = _extent(model, within, arg if kind is not None and kind.per_scheme else None)
    if not np.all(np.isfinite(extent)):
        extent = np.array([0.0, 0.0, 1.0, 1.0])
    pad = 0.03 * max(extent[2] - extent[0], extent[3] - extent[1])
    ax.set_xlim(extent[0] - pad, extent[2] + pad)
    ax.set_ylim(extent[1] - pad, extent[3] + pad)
    ax.set_aspect("equal")
    ax.set_axis_off()
    # the paper's scale: the axes box (aspect kept) in CSS pixels, and the web zoom of the same metres per pixel
    px = (dims.inches[0] * AXES[2] * 96, dims.inches[1] * AXES[3] * 96)
    metres_per_px = max((extent[2] - extent[0] + 2 * pad) / px[0], (extent[3] - extent[1] + 2 * pad) / px[1])
    centre = gpd.GeoSeries([shapely.Point((extent[0] + extent[2]) / 2, (extent[1] + extent[3]) / 2)], crs=MAP_CRS).to_crs(4326)
    zoom = int(round(np.log2(156_543.03 * np.cos(np.radians(centre.y.iloc[0])) / metres_per_px)))
    sheet = Sheet(ax, within, arg, metres_per_px, zoom, at)
    caption = draw(model, sheet)
    ax.set_xlim(extent[0] - pad, extent[2] + pad)
    ax.set_ylim(extent[1] - pad, extent[3] + pad)
    _labels(model, sheet, caption.kind)
    ax.add_patch(Rectangle((0, 0), 1, 1, transform=ax.transAxes, fill=False, edgecolor="black", linewidth=0.8))
    _scale_bar(ax)
    _north_arrow(ax)
    where = f" — {_place(within)}" if within else ""
    if at is not None:
        where += f" — situation au {french_date(at)}"
    fig.text(0.02, 0.955, caption.title + where, fontsize=14, fontweight="bold", va="center", wrap=True)
    handles = [h.patches if isinstance(h, _Combination) else h for h in caption.handles]
    labels = [h.label if isinstance(h, _Combination) else h.get_label() for h in caption.handles]
    ax.legend(handles=handles, labels=labels, loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8, frameon=True,
              title=mapspec.LEGEND["legend"], title_fontsize=9, handlelength=2.5, handleheight=1.6, borderaxespad=0,
              handler_map={tuple: HandlerTuple(ndivide=None, pad=0)})
    footer = f"{summary(caption.record)} Projection : Lambert-93 (EPSG:2154)."  # a record at a date begins with its situation
    # wrapped within the page's margins (matplotlib's own wrap runs to the page's edge)
    fig.text(0.02, 0.035, fill(footer, int(dims.inches[0] * 0.96 * 72 / (FOOTER_PT * 0.55))), fontsize=FOOTER_PT, va="center")
    return fig


def render_bytes(model: Model, draw: StaticRenderer, fmt: str, within: Territory | None = None, size: str = "a4",
                 arg: str | None = None, title: str = "", kind: MapKind | None = None, at: dt.date | None = None) -> bytes:
    """The map encoded as PNG, SVG or PDF (at the date ``at``)."""
    check_format(fmt)
    fig = render_map(model, draw, within, size, arg, kind, at)
    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt, dpi=fig.dpi, metadata={"Title": title} if fmt in ("svg", "pdf") else None)
    return buffer.getvalue()
