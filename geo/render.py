"""Static maps for reports (matplotlib, no browser): nested scales, a scheme's members, coverage.

Drawn in Lambert-93 with a title, legend, scale bar, north arrow and a source/vintage line, at A4 or a pixel size.
Every class has a hatch or line style besides its colour, so the maps read in black-and-white print.
"""
from __future__ import annotations

import io
import re
from dataclasses import dataclass, replace
from textwrap import fill

import geopandas as gpd
import numpy as np
import shapely
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from geo.errors import TerritoiresError
from geo.exports.layers import COUNT_FIELD, SCHEME_PREFIX, build_layer
from geo.exports.provenance import summary
from geo.exports.styles import MEMBER_SYMBOL, SCALE_SYMBOLS, Symbol, coverage_style, grouping_symbol
from geo.model import Model

MAP_CRS = 2154  # Lambert-93
MAPS = ("scales", "coverage", SCHEME_PREFIX + "<id>")
RENDER_FORMATS = {"png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf"}
A4_INCHES = (297 / 25.4, 210 / 25.4)
PNG_DPI = 150
MAX_PIXELS = 6000
_SIZE = re.compile(r"^(\d{2,5})x(\d{2,5})$")


class RenderError(TerritoiresError, ValueError):
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
        raise RenderError(f"unknown size {value!r}: use a4, a4-portrait or WIDTHxHEIGHT in pixels (200 to {MAX_PIXELS})")
    w, h = (int(v) for v in match.groups())
    return Size((w / 100, h / 100), 100)


def check_format(fmt: str) -> str:
    if fmt not in RENDER_FORMATS:
        raise RenderError(f"unknown image format {fmt!r}: use one of {', '.join(RENDER_FORMATS)}")
    return fmt


def _draw(ax: Axes, frame: gpd.GeoDataFrame, sym: Symbol, zorder: int) -> None:
    """A symbol in three passes, as in the QGIS styles: translucent fill, hatch, outline."""
    if frame.empty:
        return
    if sym.fill:
        frame.plot(ax=ax, facecolor=sym.fill, alpha=sym.alpha, edgecolor="none", linewidth=0, zorder=zorder)
    if sym.hatch:  # one dissolved shape: hatching thousands of small paths is slow
        merged = gpd.GeoSeries([shapely.coverage_union_all(frame.geometry.values)], crs=frame.crs)
        merged.plot(ax=ax, facecolor="none", edgecolor=sym.edge, hatch=sym.hatch, linewidth=0, zorder=zorder)
    frame.boundary.plot(ax=ax, color=sym.edge, linewidth=sym.width, linestyle=_linestyle(sym), zorder=zorder + 1)


def _linestyle(sym: Symbol) -> str | tuple:
    """matplotlib scales dash lengths by the line width: divide to keep them in points."""
    return (0, tuple(v / sym.width for v in sym.dash)) if sym.dash else "-"


def _patch(sym: Symbol, label: str | None = None) -> Patch:
    face = sym.fill or "none"
    return Patch(facecolor=face, edgecolor=sym.edge, hatch=sym.hatch, linewidth=sym.width, label=fill(label or sym.label, 36),
                 alpha=None if not sym.fill else max(sym.alpha, 0.6))


def _line(sym: Symbol) -> Line2D:
    return Line2D([], [], color=sym.edge, linewidth=sym.width, linestyle=_linestyle(sym), label=fill(sym.label, 36))


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


def _frame(model: Model, layer: str, within: str | None) -> gpd.GeoDataFrame:
    return build_layer(model, layer, within).frame.to_crs(MAP_CRS)


def _scales(model: Model, ax: Axes, within: str | None) -> tuple[str, list, dict]:
    handles: list = []
    groupings = [g.id for g in sorted(model.catalogue.groupings, key=lambda g: g.id)]
    grp = _frame(model, "groupings", within)
    for i, code in enumerate(groupings):
        part = grp[grp["code"] == code]
        if len(part):
            sym = grouping_symbol(i, str(part["nom"].iloc[0]))
            _draw(ax, part, sym, 12)
            handles.append(_line(sym))
    for z, (layer, level) in enumerate((("communes", "commune"), ("epci", "epci"), ("departements", "departement"),
                                        ("regions", "region"))):
        _draw(ax, _frame(model, layer, within), SCALE_SYMBOLS[level], 4 + 2 * z)
        handles.insert(z, _line(SCALE_SYMBOLS[level]))
    return "Échelles emboîtées : communes, EPCI, départements, régions et groupements", handles, build_layer(model, "groupings").provenance


def _scheme(model: Model, ax: Axes, within: str | None, layer: str) -> tuple[str, list, dict]:
    exported = build_layer(model, layer, within)
    scheme = model.catalogue.schemes[exported.spec.key]
    members = exported.frame.to_crs(MAP_CRS)
    _draw(ax, _frame(model, "communes", within), SCALE_SYMBOLS["commune"], 1)
    sym = replace(MEMBER_SYMBOL, label=f"Membres ({len(members)})")
    _draw(ax, members, sym, 3)
    _draw(ax, _frame(model, "departements", within), SCALE_SYMBOLS["departement"], 6)
    period = " – ".join(d.isoformat() if d else "…" for d in (scheme.start, scheme.end))
    title = f"{scheme.name} ({period})" if scheme.start or scheme.end else scheme.name
    return title, [_patch(sym), _line(SCALE_SYMBOLS["commune"]), _line(SCALE_SYMBOLS["departement"])], exported.provenance


def _coverage(model: Model, ax: Axes, within: str | None) -> tuple[str, list, dict]:
    exported = build_layer(model, "coverage", within)
    com = exported.frame.to_crs(MAP_CRS)
    style = coverage_style(int(com[COUNT_FIELD].max()) if len(com) else 0)
    handles = []
    for (lo, hi), sym in zip(style.breaks, style.symbols):
        part = com[com[COUNT_FIELD].between(lo, hi)]
        _draw(ax, part, sym, 1)
        handles.append(_patch(sym, f"{sym.label} ({len(part)} communes)"))
    for z, (layer, level) in enumerate((("departements", "departement"), ("regions", "region"))):
        _draw(ax, _frame(model, layer, within), SCALE_SYMBOLS[level], 4 + 2 * z)
        handles.append(_line(SCALE_SYMBOLS[level]))
    n = len(model.catalogue.schemes)
    return f"Nombre de dispositifs couvrant chaque commune (sur {n})", handles, exported.provenance


def _place(model: Model, within: str) -> str:
    level, code = model.coverage.resolve(within)
    names = model.scales[level].set_index("code")["nom"]
    return f"{names.get(code, code)} ({code})"


def render_map(model: Model, name: str, within: str | None = None, size: str = "a4") -> Figure:
    """The figure of map ``name`` ('scales', 'coverage' or 'scheme-<id>'), optionally zoomed on a territory."""
    dims = parse_size(size)
    if name == "scales":
        draw = lambda ax: _scales(model, ax, within)  # noqa: E731
    elif name == "coverage":
        draw = lambda ax: _coverage(model, ax, within)  # noqa: E731
    elif name.startswith(SCHEME_PREFIX) and name[len(SCHEME_PREFIX):] in model.catalogue.schemes:
        draw = lambda ax: _scheme(model, ax, within, name)  # noqa: E731
    else:
        ids = ", ".join(SCHEME_PREFIX + s for s in sorted(model.catalogue.schemes))
        raise RenderError(f"unknown map {name!r}: use scales, coverage or one of {ids}")
    fig = Figure(figsize=dims.inches, dpi=dims.dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.02, 0.08, 0.70, 0.82))
    title, handles, record = draw(ax)
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
    where = f" — {_place(model, within)}" if within else ""
    fig.text(0.02, 0.955, title + where, fontsize=14, fontweight="bold", va="center", wrap=True)
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8, frameon=True, title="Légende",
              title_fontsize=9, handlelength=2.5, handleheight=1.6, borderaxespad=0)
    fig.text(0.02, 0.035, summary(record) + " Projection : Lambert-93 (EPSG:2154).", fontsize=6.5, va="center", wrap=True)
    return fig


def render_bytes(model: Model, name: str, fmt: str, within: str | None = None, size: str = "a4") -> bytes:
    """The map encoded as PNG, SVG or PDF."""
    check_format(fmt)
    fig = render_map(model, name, within, size)
    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt, dpi=fig.dpi, metadata={"Title": name} if fmt in ("svg", "pdf") else None)
    return buffer.getvalue()
