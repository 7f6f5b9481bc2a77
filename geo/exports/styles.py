"""One palette for every output (static maps, GeoPackage styles, standalone map), and its QGIS QML / OGC SLD forms.

Every symbol pairs a colour with a line weight, a dash or a hatch, so maps stay readable in black-and-white print.
Widths are in points.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from xml.sax.saxutils import escape, quoteattr


@dataclass(frozen=True)
class Symbol:
    """How one class of polygons is drawn."""

    label: str
    fill: str | None = None  # "#rrggbb", None for no fill
    alpha: float = 1.0  # fill opacity
    hatch: str = ""  # matplotlib hatch
    edge: str = "#000000"
    width: float = 0.5
    dash: tuple[float, float] | None = None  # on/off lengths in points


@dataclass(frozen=True)
class Style:
    """A single symbol; or, on ``field``, graduated symbols (``breaks``: inclusive (lower, upper) per symbol)
    or categorized ones (``values``: one per symbol)."""

    name: str
    symbols: tuple[Symbol, ...]
    field: str | None = None
    breaks: tuple[tuple[int, int], ...] = ()
    values: tuple[str, ...] = ()


PX = 0.75  # the web map's widths are CSS pixels; these are points

#: The nested scales, as on the web map (service/maps/scales.py): a line weight and colour per scale.
SCALE_SYMBOLS: dict[str, Symbol] = {
    "commune": Symbol("Communes", edge="#8c8c8c", width=0.5 * PX),
    "epci": Symbol("EPCI", edge="#1a9641", width=1.6 * PX),
    "departement": Symbol("Départements", edge="#6a3d9a", width=3 * PX),
    "region": Symbol("Régions", edge="#222222", width=4.5 * PX),
}
#: Groupings: dashed outlines, one colour and dash pattern each (cycled).
GROUPING_SYMBOLS = (
    Symbol("", edge="#d7191c", width=3.5 * PX, dash=(10 * PX, 6 * PX)),
    Symbol("", edge="#f07c00", width=3 * PX, dash=(6 * PX, 4 * PX)),
    Symbol("", edge="#0571b0", width=3 * PX, dash=(2 * PX, 5 * PX)),
)
#: A scheme's member territories (service/maps/scheme.py), hatched for black-and-white print.
MEMBER_SYMBOL = Symbol("Membres", fill="#ef8a62", alpha=0.55, hatch="//", edge="#b2182b", width=1.5 * PX)

#: Coverage classes: number of schemes covering a commune (the last class is open-ended), as on the web map
#: (service/maps/coverage.py); class 1 gets dots in print, where its light green would pass for white.
COVERAGE_CLASSES = (0, 1, 2, 3, 4)
COVERAGE_COLOURS = ("#ffffff", "#c7e9b4", "#7fcdbb", "#41b6c4", "#2c7fb8")
COVERAGE_HATCHES = ("", "..", "//", "\\\\", "--")
COVERAGE_STRIPE = "#08306b"

#: matplotlib hatch → QGIS brush style and SLD well-known mark.
_QGIS_BRUSH = {"//": "b_diagonal", "\\\\": "f_diagonal", "..": "dense6", "--": "horizontal"}
_SLD_MARK = {"//": "shape://slash", "\\\\": "shape://backslash", "..": "shape://dot", "--": "shape://horline"}


def grouping_symbol(index: int, label: str) -> Symbol:
    """The ``index``-th grouping's outline."""
    return replace(GROUPING_SYMBOLS[index % len(GROUPING_SYMBOLS)], label=label)


def coverage_style(max_count: int, name: str = "coverage", field: str = "n_schemes") -> Style:
    """Graduated symbols on the number of covering schemes: 0, 1, 2, 3, 4 and more."""
    top = max(max_count, COVERAGE_CLASSES[-1])
    breaks = tuple((c, c) for c in COVERAGE_CLASSES[:-1]) + ((COVERAGE_CLASSES[-1], top),)
    labels = [f"{c} dispositif" + ("s" if c > 1 else "") for c in COVERAGE_CLASSES[:-1]] + [f"{COVERAGE_CLASSES[-1]} et plus"]
    symbols = tuple(Symbol(lab, fill=col, hatch=h, edge=COVERAGE_STRIPE if h else "#7a7a7a", width=0.5 * PX)
                    for lab, col, h in zip(labels, COVERAGE_COLOURS, COVERAGE_HATCHES))
    return Style(name, symbols, field, breaks)


def single_style(symbol: Symbol, name: str) -> Style:
    return Style(name, (symbol,))


def groupings_style(codes: list[str], labels: list[str], name: str = "groupings") -> Style:
    """One outline per grouping code (sorted codes get the web map's colours in order)."""
    return Style(name, tuple(grouping_symbol(i, lab) for i, lab in enumerate(labels)), "code", values=tuple(codes))


# --- QGIS QML -------------------------------------------------------------------------------------------------


def _rgba(colour: str, alpha: float = 1.0) -> str:
    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"{r},{g},{b},{round(alpha * 255)}"


def _options(values: dict[str, str]) -> str:
    """Symbol layer properties in both encodings: Option map (QGIS ≥ 3.26) and prop elements (earlier versions)."""
    items = "".join(f'<Option name={quoteattr(k)} type="QString" value={quoteattr(v)}/>' for k, v in values.items())
    props = "".join(f"<prop k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in values.items())
    return f'<Option type="Map">{items}</Option>{props}'


def _qml_fill(colour: str, brush: str) -> str:
    opts = {"color": colour, "style": brush, "outline_style": "no", "outline_color": "0,0,0,0", "joinstyle": "round"}
    return f'<layer class="SimpleFill" enabled="1" pass="0" locked="0">{_options(opts)}</layer>'


def _qml_line(sym: Symbol) -> str:
    """The outline as a simple line (a custom dash pattern needs a line layer)."""
    opts = {"line_color": _rgba(sym.edge), "line_width": f"{sym.width:g}", "line_width_unit": "Point", "line_style": "solid",
            "joinstyle": "round", "capstyle": "round", "use_custom_dash": "1" if sym.dash else "0",
            "customdash": ";".join(f"{v:g}" for v in sym.dash or (5, 2)), "customdash_unit": "Point"}
    return f'<layer class="SimpleLine" enabled="1" pass="0" locked="0">{_options(opts)}</layer>'


def _qml_symbol(sym: Symbol, name: str) -> str:
    layers = []
    if sym.fill:
        layers.append(_qml_fill(_rgba(sym.fill, sym.alpha), "solid"))
    if sym.hatch:
        layers.append(_qml_fill(_rgba(sym.edge), _QGIS_BRUSH[sym.hatch]))
    layers.append(_qml_line(sym))
    return f'<symbol type="fill" name={quoteattr(name)} alpha="1" clip_to_extent="1" force_rhr="0">{"".join(layers)}</symbol>'


def to_qml(style: Style) -> str:
    """The style as a QGIS layer style document (symbology only)."""
    symbols = "".join(_qml_symbol(s, str(i)) for i, s in enumerate(style.symbols))
    if style.field is None:
        renderer = f'<renderer-v2 type="singleSymbol" symbollevels="0" enableorderby="0" forceraster="0"><symbols>{symbols}</symbols></renderer-v2>'
    elif style.values:
        cats = "".join(f'<category value={quoteattr(v)} symbol="{i}" label={quoteattr(s.label)} render="true"/>'
                       for i, (v, s) in enumerate(zip(style.values, style.symbols)))
        renderer = (f'<renderer-v2 type="categorizedSymbol" attr={quoteattr(style.field)} symbollevels="0" enableorderby="0" '
                    f'forceraster="0"><categories>{cats}</categories><symbols>{symbols}</symbols></renderer-v2>')
    else:
        ranges = "".join(f'<range lower="{lo}" upper="{hi}" symbol="{i}" label={quoteattr(s.label)} render="true"/>'
                         for i, ((lo, hi), s) in enumerate(zip(style.breaks, style.symbols)))
        renderer = (f'<renderer-v2 type="graduatedSymbol" attr={quoteattr(style.field)} graduatedMethod="GraduatedColor" '
                    f'symbollevels="0" enableorderby="0" forceraster="0"><ranges>{ranges}</ranges><symbols>{symbols}</symbols>'
                    '</renderer-v2>')
    return ("<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
            f'<qgis version="3.28.0" styleCategories="Symbology">{renderer}<blendMode>0</blendMode>'
            '<featureBlendMode>0</featureBlendMode><layerGeometryType>2</layerGeometryType></qgis>\n')


# --- OGC SLD 1.1 ----------------------------------------------------------------------------------------------


def _svg(name: str, value: str) -> str:
    return f'<se:SvgParameter name="{name}">{escape(value)}</se:SvgParameter>'


def _sld_symbolizers(sym: Symbol) -> str:
    out = []
    if sym.fill:
        out.append(f"<se:PolygonSymbolizer><se:Fill>{_svg('fill', sym.fill)}{_svg('fill-opacity', f'{sym.alpha:g}')}"
                   "</se:Fill></se:PolygonSymbolizer>")
    if sym.hatch:
        mark = (f"<se:Mark><se:WellKnownName>{_SLD_MARK[sym.hatch]}</se:WellKnownName><se:Stroke>{_svg('stroke', sym.edge)}"
                f"{_svg('stroke-width', '1')}</se:Stroke></se:Mark>")
        out.append(f"<se:PolygonSymbolizer><se:Fill><se:GraphicFill><se:Graphic>{mark}<se:Size>8</se:Size></se:Graphic>"
                   "</se:GraphicFill></se:Fill></se:PolygonSymbolizer>")
    dash = _svg("stroke-dasharray", " ".join(f"{v * 4 / 3:.1f}" for v in sym.dash)) if sym.dash else ""
    out.append(f"<se:PolygonSymbolizer><se:Stroke>{_svg('stroke', sym.edge)}{_svg('stroke-width', f'{sym.width * 4 / 3:.2f}')}"
               f"{_svg('stroke-linejoin', 'round')}{dash}</se:Stroke></se:PolygonSymbolizer>")
    return "".join(out)


def _sld_filter(style: Style, i: int) -> str:
    def cmp(op: str, value: object) -> str:
        return f"<ogc:{op}><ogc:PropertyName>{escape(style.field)}</ogc:PropertyName><ogc:Literal>{escape(str(value))}</ogc:Literal></ogc:{op}>"
    if style.values:
        return f"<ogc:Filter>{cmp('PropertyIsEqualTo', style.values[i])}</ogc:Filter>"
    lower, upper = style.breaks[i]
    return (f"<ogc:Filter><ogc:And>{cmp('PropertyIsGreaterThanOrEqualTo', lower)}"
            f"{cmp('PropertyIsLessThanOrEqualTo', upper)}</ogc:And></ogc:Filter>")


def to_sld(style: Style, layer: str) -> str:
    """The style as an OGC Styled Layer Descriptor 1.1 (Symbology Encoding) document."""
    rules = []
    for i, sym in enumerate(style.symbols):
        filt = _sld_filter(style, i) if style.field else ""
        rules.append(f"<se:Rule><se:Name>{escape(sym.label)}</se:Name><se:Description><se:Title>{escape(sym.label)}"
                     f"</se:Title></se:Description>{filt}{_sld_symbolizers(sym)}</se:Rule>")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<StyledLayerDescriptor version="1.1.0" xmlns="http://www.opengis.net/sld" xmlns:se="http://www.opengis.net/se" '
            'xmlns:ogc="http://www.opengis.net/ogc" xmlns:xlink="http://www.w3.org/1999/xlink" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            'xsi:schemaLocation="http://www.opengis.net/sld http://schemas.opengis.net/sld/1.1.0/StyledLayerDescriptor.xsd">'
            f"<NamedLayer><se:Name>{escape(layer)}</se:Name><UserStyle><se:Name>{escape(style.name)}</se:Name>"
            f"<se:FeatureTypeStyle>{''.join(rules)}</se:FeatureTypeStyle></UserStyle></NamedLayer></StyledLayerDescriptor>\n")

