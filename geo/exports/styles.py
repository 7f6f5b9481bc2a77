"""The map specification's symbols (geo/mapspec.py) as QGIS layer styles (QML) and OGC SLD, for GeoPackage exports.

A layer's style holds one symbol, or symbols graduated or categorized on a field; widths and dashes are turned
from the specification's CSS pixels into points (QML) or kept in pixels (SLD).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from geo.mapspec import COVERAGE_CLASSES, GAP, Pattern, Symbol, count_label, px_to_pt


@dataclass(frozen=True)
class Style:
    """A single symbol; or, on ``field``, graduated symbols (``breaks``: inclusive (lower, upper) per symbol)
    or categorized ones (``values``: one per symbol). ``labels`` name the symbols in the legend."""

    name: str
    symbols: tuple[Symbol, ...]
    labels: tuple[str, ...]
    field: str | None = None
    breaks: tuple[tuple[int, int], ...] = ()
    values: tuple[str, ...] = ()


def single_style(symbol: Symbol, label: str, name: str) -> Style:
    """One symbol for every feature."""
    return Style(name, (symbol,), (label,))


def coverage_style(max_count: int, name: str = "coverage", field: str = "n_schemes") -> Style:
    """Graduated symbols on the number of covering schemes: none (gap), 1, 2, 3, and the last class or more."""
    top = COVERAGE_CLASSES[-1].count
    breaks = ((0, 0), *((c.count, c.count) for c in COVERAGE_CLASSES[:-1]), (top, max(max_count, top)))
    labels = (count_label(0), *(count_label(c.count, c.count == top) for c in COVERAGE_CLASSES))
    return Style(name, (GAP, *(c.symbol for c in COVERAGE_CLASSES)), labels, field, breaks)


def groupings_style(codes: list[str], labels: list[str], symbols: Mapping[str, Symbol], name: str = "groupings") -> Style:
    """One outline per grouping code, as on every map (``symbols``: the specification's style of each id)."""
    return Style(name, tuple(symbols[c] for c in codes), tuple(labels), "code", values=tuple(codes))


#: Pattern angle → QGIS brush style and SLD well-known mark.
_QGIS_BRUSH = {45: "b_diagonal", -45: "f_diagonal", 0: "horizontal", 90: "vertical"}
_SLD_MARK = {45: "shape://slash", -45: "shape://backslash", 0: "shape://horline", 90: "shape://vertline"}


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
    opts = {"line_color": _rgba(sym.edge, sym.opacity), "line_width": f"{px_to_pt(sym.weight):g}", "line_width_unit": "Point",
            "line_style": "solid", "joinstyle": "round", "capstyle": "round", "use_custom_dash": "1" if sym.dash else "0",
            "customdash": ";".join(f"{px_to_pt(v):g}" for v in sym.dash or (5, 2)), "customdash_unit": "Point"}
    return f'<layer class="SimpleLine" enabled="1" pass="0" locked="0">{_options(opts)}</layer>'


def _qml_symbol(sym: Symbol, name: str) -> str:
    layers = []
    if sym.fill:
        layers.append(_qml_fill(_rgba(sym.fill, sym.fill_opacity), "solid"))
    if sym.pattern:
        layers.append(_qml_fill(_rgba(sym.pattern.colour), _QGIS_BRUSH[sym.pattern.angle]))
    layers.append(_qml_line(sym))
    return f'<symbol type="fill" name={quoteattr(name)} alpha="1" clip_to_extent="1" force_rhr="0">{"".join(layers)}</symbol>'


def to_qml(style: Style) -> str:
    """The style as a QGIS layer style document (symbology only)."""
    symbols = "".join(_qml_symbol(s, str(i)) for i, s in enumerate(style.symbols))
    labelled = list(zip(style.labels, style.symbols))
    if style.field is None:
        renderer = f'<renderer-v2 type="singleSymbol" symbollevels="0" enableorderby="0" forceraster="0"><symbols>{symbols}</symbols></renderer-v2>'
    elif style.values:
        cats = "".join(f'<category value={quoteattr(v)} symbol="{i}" label={quoteattr(label)} render="true"/>'
                       for i, (v, (label, _)) in enumerate(zip(style.values, labelled)))
        renderer = (f'<renderer-v2 type="categorizedSymbol" attr={quoteattr(style.field)} symbollevels="0" enableorderby="0" '
                    f'forceraster="0"><categories>{cats}</categories><symbols>{symbols}</symbols></renderer-v2>')
    else:
        ranges = "".join(f'<range lower="{lo}" upper="{hi}" symbol="{i}" label={quoteattr(label)} render="true"/>'
                         for i, ((lo, hi), (label, _)) in enumerate(zip(style.breaks, labelled)))
        renderer = (f'<renderer-v2 type="graduatedSymbol" attr={quoteattr(style.field)} graduatedMethod="GraduatedColor" '
                    f'symbollevels="0" enableorderby="0" forceraster="0"><ranges>{ranges}</ranges><symbols>{symbols}</symbols>'
                    '</renderer-v2>')
    return ("<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
            f'<qgis version="3.28.0" styleCategories="Symbology">{renderer}<blendMode>0</blendMode>'
            '<featureBlendMode>0</featureBlendMode><layerGeometryType>2</layerGeometryType></qgis>\n')


# --- OGC SLD 1.1 ----------------------------------------------------------------------------------------------


def _svg(name: str, value: str) -> str:
    return f'<se:SvgParameter name="{name}">{escape(value)}</se:SvgParameter>'


def _sld_pattern(pattern: Pattern) -> str:
    mark = (f"<se:Mark><se:WellKnownName>{_SLD_MARK[pattern.angle]}</se:WellKnownName><se:Stroke>{_svg('stroke', pattern.colour)}"
            f"{_svg('stroke-width', f'{pattern.weight:g}')}</se:Stroke></se:Mark>")
    return (f"<se:PolygonSymbolizer><se:Fill><se:GraphicFill><se:Graphic>{mark}<se:Size>{pattern.period:g}</se:Size></se:Graphic>"
            "</se:GraphicFill></se:Fill></se:PolygonSymbolizer>")


def _sld_symbolizers(sym: Symbol) -> str:
    """Fill, pattern and outline; SLD sizes are pixels, as in the specification."""
    out = []
    if sym.fill:
        out.append(f"<se:PolygonSymbolizer><se:Fill>{_svg('fill', sym.fill)}{_svg('fill-opacity', f'{sym.fill_opacity:g}')}"
                   "</se:Fill></se:PolygonSymbolizer>")
    if sym.pattern:
        out.append(_sld_pattern(sym.pattern))
    dash = _svg("stroke-dasharray", " ".join(f"{v:g}" for v in sym.dash)) if sym.dash else ""
    out.append(f"<se:PolygonSymbolizer><se:Stroke>{_svg('stroke', sym.edge)}{_svg('stroke-width', f'{sym.weight:g}')}"
               f"{_svg('stroke-opacity', f'{sym.opacity:g}')}{_svg('stroke-linejoin', 'round')}{dash}</se:Stroke>"
               "</se:PolygonSymbolizer>")
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
    for i, (label, sym) in enumerate(zip(style.labels, style.symbols)):
        filt = _sld_filter(style, i) if style.field else ""
        rules.append(f"<se:Rule><se:Name>{escape(label)}</se:Name><se:Description><se:Title>{escape(label)}"
                     f"</se:Title></se:Description>{filt}{_sld_symbolizers(sym)}</se:Rule>")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<StyledLayerDescriptor version="1.1.0" xmlns="http://www.opengis.net/sld" xmlns:se="http://www.opengis.net/se" '
            'xmlns:ogc="http://www.opengis.net/ogc" xmlns:xlink="http://www.w3.org/1999/xlink" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            'xsi:schemaLocation="http://www.opengis.net/sld http://schemas.opengis.net/sld/1.1.0/StyledLayerDescriptor.xsd">'
            f"<NamedLayer><se:Name>{escape(layer)}</se:Name><UserStyle><se:Name>{escape(style.name)}</se:Name>"
            f"<se:FeatureTypeStyle>{''.join(rules)}</se:FeatureTypeStyle></UserStyle></NamedLayer></StyledLayerDescriptor>\n")

