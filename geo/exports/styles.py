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
    dash: bool = False


@dataclass(frozen=True)
class Style:
    """A single symbol, or graduated symbols on an integer field (``breaks``: inclusive (lower, upper) per symbol)."""

    name: str
    symbols: tuple[Symbol, ...]
    field: str | None = None
    breaks: tuple[tuple[int, int], ...] = ()


#: The nested scales, from the finest to the widest: thin grey lines up to a thick black one.
SCALE_SYMBOLS: dict[str, Symbol] = {
    "commune": Symbol("Communes", edge="#9a9a9a", width=0.2),
    "epci": Symbol("EPCI", edge="#404040", width=0.7),
    "departement": Symbol("Départements", edge="#000000", width=1.3, dash=True),
    "region": Symbol("Régions", edge="#000000", width=2.2),
    "grouping": Symbol("Groupements", fill="#1b9e77", alpha=0.35, hatch="//", edge="#0f5c45", width=1.1),
}

#: Colour and hatch cycled over schemes, groupings and other categories (colour-blind safe Dark2 + distinct hatches).
CATEGORY_COLOURS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666")
CATEGORY_HATCHES = ("//", "\\\\", "xx", "..", "||", "--", "++", "oo")

#: Coverage classes: number of schemes covering a commune (the last class is open-ended).
COVERAGE_CLASSES = (0, 1, 2, 3, 4)
COVERAGE_COLOURS = ("#ffffff", "#fee391", "#fe9929", "#cc4c02", "#662506")
COVERAGE_HATCHES = ("", "..", "//", "xx", "xxxx")

#: matplotlib hatch → QGIS brush style and SLD well-known mark.
_QGIS_BRUSH = {"//": "b_diagonal", "\\\\": "f_diagonal", "xx": "diagonal_x", "xxxx": "diagonal_x", "..": "dense6",
               "||": "vertical", "--": "horizontal", "++": "cross", "oo": "dense5"}
_SLD_MARK = {"//": "shape://slash", "\\\\": "shape://backslash", "xx": "shape://times", "xxxx": "shape://times",
             "..": "shape://dot", "||": "shape://vertline", "--": "shape://horline", "++": "shape://plus", "oo": "circle"}


def category_symbol(index: int, label: str) -> Symbol:
    """The ``index``-th category symbol: a translucent colour, a hatch in a darker stroke, a solid outline."""
    colour = CATEGORY_COLOURS[index % len(CATEGORY_COLOURS)]
    return Symbol(label, fill=colour, alpha=0.35, hatch=CATEGORY_HATCHES[index % len(CATEGORY_HATCHES)], edge=colour, width=1.0)


def coverage_style(max_count: int, name: str = "coverage", field: str = "n_schemes") -> Style:
    """Graduated symbols on the number of covering schemes: 0, 1, 2, 3, 4 and more."""
    top = max(max_count, COVERAGE_CLASSES[-1])
    breaks = tuple((c, c) for c in COVERAGE_CLASSES[:-1]) + ((COVERAGE_CLASSES[-1], top),)
    labels = [f"{c} dispositif" + ("s" if c > 1 else "") for c in COVERAGE_CLASSES[:-1]] + [f"{COVERAGE_CLASSES[-1]} et plus"]
    symbols = tuple(Symbol(lab, fill=col, hatch=h, edge="#7a7a7a", width=0.2)
                    for lab, col, h in zip(labels, COVERAGE_COLOURS, COVERAGE_HATCHES))
    return Style(name, symbols, field, breaks)


def scale_style(level: str, name: str) -> Style:
    return Style(name, (SCALE_SYMBOLS[level],))


def category_style(index: int, label: str, name: str) -> Style:
    return Style(name, (category_symbol(index, label),))


# --- QGIS QML -------------------------------------------------------------------------------------------------


def _rgba(colour: str, alpha: float = 1.0) -> str:
    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"{r},{g},{b},{round(alpha * 255)}"


def _options(values: dict[str, str]) -> str:
    items = "".join(f'<Option name={quoteattr(k)} type="QString" value={quoteattr(v)}/>' for k, v in values.items())
    return f'<Option type="Map">{items}</Option>'


def _qml_fill(colour: str, brush: str, outline: str = "no", edge: str = "#000000", width: float = 0.0) -> str:
    opts = {"color": colour, "style": brush, "outline_color": _rgba(edge), "outline_style": outline,
            "outline_width": f"{width:g}", "outline_width_unit": "Point", "joinstyle": "round"}
    return f'<layer class="SimpleFill" enabled="1" pass="0" locked="0">{_options(opts)}</layer>'


def _qml_symbol(sym: Symbol, name: str) -> str:
    layers = []
    if sym.fill:
        layers.append(_qml_fill(_rgba(sym.fill, sym.alpha), "solid"))
    if sym.hatch:
        layers.append(_qml_fill(_rgba(sym.edge), _QGIS_BRUSH[sym.hatch]))
    layers.append(_qml_fill("0,0,0,0", "no", "dash" if sym.dash else "solid", sym.edge, sym.width))
    return f'<symbol type="fill" name={quoteattr(name)} alpha="1" clip_to_extent="1" force_rhr="0">{"".join(layers)}</symbol>'


def to_qml(style: Style) -> str:
    """The style as a QGIS layer style document (symbology only)."""
    symbols = "".join(_qml_symbol(s, str(i)) for i, s in enumerate(style.symbols))
    if style.field is None:
        renderer = f'<renderer-v2 type="singleSymbol" symbollevels="0" enableorderby="0" forceraster="0"><symbols>{symbols}</symbols></renderer-v2>'
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
    dash = _svg("stroke-dasharray", "6 3") if sym.dash else ""
    out.append(f"<se:PolygonSymbolizer><se:Stroke>{_svg('stroke', sym.edge)}{_svg('stroke-width', f'{sym.width * 4 / 3:.2f}')}"
               f"{_svg('stroke-linejoin', 'round')}{dash}</se:Stroke></se:PolygonSymbolizer>")
    return "".join(out)


def _sld_filter(field: str, lower: int, upper: int) -> str:
    def cmp(op: str, value: int) -> str:
        return f"<ogc:{op}><ogc:PropertyName>{escape(field)}</ogc:PropertyName><ogc:Literal>{value}</ogc:Literal></ogc:{op}>"
    return (f"<ogc:Filter><ogc:And>{cmp('PropertyIsGreaterThanOrEqualTo', lower)}"
            f"{cmp('PropertyIsLessThanOrEqualTo', upper)}</ogc:And></ogc:Filter>")


def to_sld(style: Style, layer: str) -> str:
    """The style as an OGC Styled Layer Descriptor 1.1 (Symbology Encoding) document."""
    rules = []
    for i, sym in enumerate(style.symbols):
        filt = _sld_filter(style.field, *style.breaks[i]) if style.field else ""
        rules.append(f"<se:Rule><se:Name>{escape(sym.label)}</se:Name><se:Description><se:Title>{escape(sym.label)}"
                     f"</se:Title></se:Description>{filt}{_sld_symbolizers(sym)}</se:Rule>")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<StyledLayerDescriptor version="1.1.0" xmlns="http://www.opengis.net/sld" xmlns:se="http://www.opengis.net/se" '
            'xmlns:ogc="http://www.opengis.net/ogc" xmlns:xlink="http://www.w3.org/1999/xlink" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            'xsi:schemaLocation="http://www.opengis.net/sld http://schemas.opengis.net/sld/1.1.0/StyledLayerDescriptor.xsd">'
            f"<NamedLayer><se:Name>{escape(layer)}</se:Name><UserStyle><se:Name>{escape(style.name)}</se:Name>"
            f"<se:FeatureTypeStyle>{''.join(rules)}</se:FeatureTypeStyle></UserStyle></NamedLayer></StyledLayerDescriptor>\n")


def with_label(style: Style, label: str) -> Style:
    """A single-symbol style relabelled (legends name the layer, not the scale)."""
    return replace(style, symbols=tuple(replace(s, label=label) for s in style.symbols))
