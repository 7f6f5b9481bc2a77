"""Static maps for reports (matplotlib, no browser): nested scales, a scheme's members, coverage.

Drawn in Lambert-93 with a title, legend, scale bar, north arrow and a source/vintage line, at A4 or a pixel size.
Every class has a hatch or line style besides its colour, so the maps read in black-and-white print.
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
import shapely
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from geo import mapspec
from geo.errors import Invalid
from geo.exports.layers import COUNT_FIELD, SCALE_LAYERS, SCHEME_PREFIX, build_layer
from geo.exports.provenance import summary
from geo.mapspec import MapKind, Pattern, Symbol
from geo.model import Model
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
class Caption:
    """What a map kind's static renderer gives back: title, legend handles (outermost first) and provenance."""

    title: str
    handles: list
    record: dict


def _scale(model: Model, ax: Axes, kind: MapKind, level: str, within: Territory | None, zorder: int) -> list:
    frame = _frame(model, _LEVEL_LAYERS[level], within)
    sym = kind.symbols[level]
    _draw(ax, frame, sym, zorder, level)
    context = kind.name == mapspec.SCHEME.name
    label = mapspec.region_label(list(frame["nom"])) if level == "region" and not context else mapspec.layer_label(level, kind.name)
    return [_line(sym, label) if not sym.fill else _patch(sym, label)]


def _groupings(model: Model, ax: Axes, within: Territory | None, zorder: int) -> list:
    """Every grouping in view, the innermost doll first (each above those it contains), in its own style."""
    frame = _frame(model, "groupings", within)
    symbols = mapspec.grouping_symbols(g.id for g in model.catalogue.groupings)
    sizes = {c: (len(str(e).split(";")), p) for c, e, p in zip(frame["code"], frame["epci"], frame["population"])}
    handles = []
    for i, code in enumerate(mapspec.doll_order(sizes)):
        part = frame[frame["code"] == code]
        _draw(ax, part, symbols[code], zorder + i * 2, f"grouping-{code}")
        handles.append(_line(symbols[code], str(part["nom"].iloc[0])))
    return handles[::-1]


def _coverage(frame: gpd.GeoDataFrame, ax: Axes, gaps: bool, zorder: int) -> list:
    """Communes by number of covering schemes: the gaps, or each class (the last one open-ended)."""
    classes = frame[COUNT_FIELD].map(mapspec.count_class).to_numpy()
    top = mapspec.COVERAGE_CLASSES[-1].count
    handles = []
    for cls in sorted(set(classes)):
        if (cls == 0) != gaps:
            continue
        part, sym = frame[classes == cls], mapspec.count_symbol(cls)
        _draw(ax, part, sym, zorder, f"coverage-{cls}")
        handles.append(_patch(sym, mapspec.count_legend(cls, len(part), open_ended=cls == top)))
    return handles


def scheme_territories(model: Model, scheme_id: str, within: Territory | None,
                       at: dt.date | None = None) -> tuple[str, str, gpd.GeoDataFrame]:
    """A scheme map's members (those in force at ``at``, when given): the scale naming them, the scale drawn and the
    territories drawn (WGS 84). Quartiers are drawn as the communes that hold them, as on the web map (its tiles have
    no quartiers yet)."""
    scheme = model.catalogue.schemes[scheme_id]
    exported = build_layer(model, SCHEME_PREFIX + scheme_id, within, at).frame
    named = str(exported["level"].iloc[0]) if len(exported) else scheme.member_scale
    if at is not None:
        exported = exported[exported["in_force"].to_numpy(dtype=bool)]
    if named != "quartier":
        return named, named, exported
    communes = build_layer(model, "communes", within).frame
    coverage = model.coverage if at is None else model.coverage.on(at)
    return named, "commune", communes[communes["code"].isin(coverage.scheme_communes(scheme_id, within))]


def _scheme_layers(model: Model, ax: Axes, layer: str, within: Territory | None, scheme_id: str, zorder: int,
                   at: dt.date | None = None) -> list:
    named, drawn, members = scheme_territories(model, scheme_id, within, at)
    if layer == "others":
        frame, sym = _frame(model, _LEVEL_LAYERS[drawn], within), mapspec.SCHEME.symbols["others"]
        label = mapspec.layer_label("others", mapspec.SCHEME.name, named)
    else:
        frame = members.to_crs(MAP_CRS)
        sym = mapspec.scheme_symbols({s.id: s.kind for s in model.catalogue.schemes.values()})[scheme_id]
        label = f"{mapspec.MEMBER_LABELS[named]} ({len(frame)})"
    _draw(ax, frame, sym, zorder, layer)
    return [_patch(sym, label)]


def _draw_layers(model: Model, ax: Axes, kind: MapKind, within: Territory | None, scheme_id: str | None = None,
                 at: dt.date | None = None) -> list:
    """Every layer of a map kind in the specification's order (the outermost on top); the legend's handles,
    outermost first."""
    handles: list = []
    for z, layer in enumerate(kind.layers):
        zorder = 2 + 4 * z
        if layer in _LEVEL_LAYERS and layer != "grouping":
            drawn = _scale(model, ax, kind, layer, within, zorder)
        elif layer == "grouping":
            drawn = _groupings(model, ax, within, zorder)
        elif layer in ("coverage", "gaps"):
            drawn = _coverage(_frame(model, "coverage", within, at), ax, layer == "gaps", zorder)
        elif layer in ("others", "members"):
            drawn = _scheme_layers(model, ax, layer, within, scheme_id, zorder, at)
        else:  # 'links' are drawn on the web map only (from /api/schemes/{id}/links)
            drawn = []
        handles = drawn + handles
    return handles


def draw_scales(model: Model, ax: Axes, within: Territory | None, _arg: str | None = None, _at: dt.date | None = None) -> Caption:
    """The nested scales: communes, EPCI, groupings, départements, région."""
    return Caption(mapspec.SCALES.title, _draw_layers(model, ax, mapspec.SCALES, within), build_layer(model, "groupings").provenance)


def draw_coverage(model: Model, ax: Axes, within: Territory | None, _arg: str | None = None, at: dt.date | None = None) -> Caption:
    """How many of the catalogue's schemes cover each commune (at a date: those in force then)."""
    handles = _draw_layers(model, ax, mapspec.COVERAGE, within, at=at)
    names = [s.name for s in model.catalogue.schemes.values()]
    return Caption(mapspec.coverage_title(names), handles, build_layer(model, "coverage", within, at).provenance)


def draw_scheme(model: Model, ax: Axes, within: Territory | None, scheme_id: str | None = None, at: dt.date | None = None) -> Caption:
    """A scheme's members (at a date: those in force then) over the other territories of their scale."""
    scheme = model.catalogue.schemes[scheme_id]
    handles = _draw_layers(model, ax, mapspec.SCHEME, within, scheme_id, at)
    title = f"{scheme.name} — {mapspec.period_text(scheme.start, scheme.end)}" if scheme.start or scheme.end else scheme.name
    return Caption(title, handles, build_layer(model, SCHEME_PREFIX + scheme_id, within, at).provenance)


StaticRenderer = Callable[[Model, Axes, Territory | None, str | None, dt.date | None], Caption]


def render_map(model: Model, draw: StaticRenderer, within: Territory | None = None, size: str = "a4", arg: str | None = None,
               at: dt.date | None = None) -> Figure:
    """The figure a map kind's renderer ``draw`` makes (``arg``: its parameter, e.g. the scheme id) at the date ``at``,
    optionally zoomed on a territory, with title, legend, scale bar, north arrow and sources."""
    dims = parse_size(size)
    fig = Figure(figsize=dims.inches, dpi=dims.dpi, facecolor=mapspec.PAPER)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.02, 0.08, 0.70, 0.82))
    caption = draw(model, ax, within, arg, at)
    extent = _frame(model, "communes", within).total_bounds
    if np.all(np.isfinite(extent)):
        pad = 0.03 * max(extent[2] - extent[0], extent[3] - extent[1])
        ax.set_xlim(extent[0] - pad, extent[2] + pad)
        ax.set_ylim(extent[1] - pad, extent[3] + pad)
    ax.set_aspect("equal")
    ax.set_axis_off()
    ax.add_patch(Rectangle((0, 0), 1, 1, transform=ax.transAxes, fill=False, edgecolor="black", linewidth=0.8))
    _scale_bar(ax)
    _north_arrow(ax)
    where = f" — {within.label}" if within else ""
    fig.text(0.02, 0.955, caption.title + where, fontsize=14, fontweight="bold", va="center", wrap=True)
    ax.legend(handles=caption.handles, loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8, frameon=True,
              title=mapspec.LEGEND["legend"], title_fontsize=9, handlelength=2.5, handleheight=1.6, borderaxespad=0)
    fig.text(0.02, 0.035, summary(caption.record) + " Projection : Lambert-93 (EPSG:2154).", fontsize=6.5, va="center", wrap=True)
    return fig


def render_bytes(model: Model, draw: StaticRenderer, fmt: str, within: Territory | None = None, size: str = "a4",
                 arg: str | None = None, title: str = "", at: dt.date | None = None) -> bytes:
    """The map encoded as PNG, SVG or PDF."""
    check_format(fmt)
    fig = render_map(model, draw, within, size, arg, at)
    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt, dpi=fig.dpi, metadata={"Title": title} if fmt in ("svg", "pdf") else None)
    return buffer.getvalue()
