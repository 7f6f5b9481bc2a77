"""A standalone HTML map: one file with its JS, CSS, fonts, images and data inlined, opened with no server and no internet.

The Leaflet/Folium resources are read from the npm packages listed in :data:`service.assets.MANIFEST`.
"""
from __future__ import annotations

import base64
import html
import mimetypes
import re
from dataclasses import replace
from pathlib import Path

import folium
import geopandas as gpd
import pandas as pd
import shapely

from geo.exports.layers import SCHEME_PREFIX, build_layer
from geo.exports.provenance import summary
from geo.exports.styles import MEMBER_SYMBOL, PX, SCALE_SYMBOLS, Symbol, coverage_style, grouping_symbol
from geo.model import Model
from geo.render import RenderError
from service.assets import NODE_MODULES, URL_PREFIX, render_offline

SIMPLIFY_DEG = 0.0004  # ~40 m: plenty for a screen map, a fraction of the file size
PRECISION_DEG = 1e-5
_SCRIPT = re.compile(rf'<script src="{URL_PREFIX}/([^"]+)"></script>')
_STYLESHEET = re.compile(rf'<link rel="stylesheet" href="{URL_PREFIX}/([^"]+)"/>')
_CSS_URL = re.compile(r"url\(\s*['\"]?([^'\")]+?)['\"]?\s*\)")
_INLINED = {".woff2", ".png", ".svg", ".gif", ".jpg"}


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


def inline_assets(page: str, directory: Path = NODE_MODULES) -> str:
    """Replace every /assets script and stylesheet link by the file's content."""
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
    return {"fillColor": sym.fill or "#000000", "fillOpacity": sym.alpha if sym.fill else 0.0, "color": sym.edge,
            "weight": round(sym.width / PX, 2), "dashArray": " ".join(f"{v / PX:g}" for v in sym.dash) if sym.dash else None}


def _add(fmap: folium.Map, frame: gpd.GeoDataFrame, name: str, sym: Symbol | None, fields: list[str],
         by: tuple[str, list[tuple[int, int]], list[Symbol]] | None = None) -> None:
    light = _light(frame, fields)
    if by is None:
        style = _style(sym)
        style_function = lambda _feature: style  # noqa: E731
    else:
        field, breaks, symbols = by
        styles = [_style(s) for s in symbols]
        style_function = lambda f: next(st for (lo, hi), st in zip(breaks, styles) if lo <= f["properties"][field] <= hi)  # noqa: E731
    folium.GeoJson(light, name=html.escape(name), style_function=style_function,  # the layer control writes names as HTML
                   tooltip=folium.GeoJsonTooltip(fields=fields)).add_to(fmap)


def _legend(title: str, entries: list[Symbol], footer: str) -> str:
    rows = "".join(
        f'<div><span style="display:inline-block;width:22px;height:12px;margin-right:6px;vertical-align:middle;'
        f'background:{s.fill or "transparent"};opacity:{max(s.alpha, 0.6) if s.fill else 1};'
        f'border:{max(s.width / PX, 1):.1f}px {"dashed" if s.dash else "solid"} {s.edge}"></span>{html.escape(s.label)}</div>'
        for s in entries)
    return ('<style>.leaflet-container{background:#fff}</style>'
            f'<div style="position:fixed;bottom:28px;right:10px;z-index:1000;background:white;padding:8px 10px;max-width:340px;'
            f'font:12px sans-serif;border:1px solid #888;border-radius:4px"><b>{html.escape(title)}</b>{rows}'
            f'<div style="margin-top:6px;font-size:10px;color:#444">{html.escape(footer)}</div></div>')


def standalone_html(model: Model, name: str, within: str | None = None) -> str:
    """The map ``name`` ('scales', 'coverage' or 'scheme-<id>') as one self-contained HTML page."""
    fmap = folium.Map(tiles=None, control_scale=True, prefer_canvas=True)
    base = ["code", "nom"]
    if name == "scales":
        title, entries = "Échelles emboîtées", []
        for layer, level in (("regions", "region"), ("departements", "departement"), ("epci", "epci"), ("communes", "commune")):
            _add(fmap, build_layer(model, layer, within).frame, SCALE_SYMBOLS[level].label, SCALE_SYMBOLS[level], base)
            entries.append(SCALE_SYMBOLS[level])
        groupings = build_layer(model, "groupings", within)
        for i, code in enumerate(sorted(g.id for g in model.catalogue.groupings)):
            part = groupings.frame[groupings.frame["code"] == code]
            if len(part):
                sym = grouping_symbol(i, str(part["nom"].iloc[0]))
                _add(fmap, part, sym.label, sym, base)
                entries.append(sym)
        record = groupings.provenance
    elif name == "coverage":
        layer = build_layer(model, "coverage", within)
        style = coverage_style(int(layer.frame["n_schemes"].max()) if len(layer.frame) else 0)
        _add(fmap, layer.frame, layer.spec.title, None, base + ["n_schemes"], ("n_schemes", list(style.breaks), list(style.symbols)))
        title, entries, record = layer.spec.title, list(style.symbols), layer.provenance
    elif name.startswith(SCHEME_PREFIX) and name[len(SCHEME_PREFIX):] in model.catalogue.schemes:
        layer = build_layer(model, name, within)
        _add(fmap, build_layer(model, "departements", within).frame, "Départements", SCALE_SYMBOLS["departement"], base)
        sym = replace(MEMBER_SYMBOL, label=f"Membres ({len(layer.frame)})")
        _add(fmap, layer.frame, layer.spec.title, sym, base + ["role", "start", "end"])
        title, entries, record = layer.spec.title, [sym, SCALE_SYMBOLS["departement"]], layer.provenance
    else:
        ids = ", ".join(SCHEME_PREFIX + s for s in sorted(model.catalogue.schemes))
        raise RenderError(f"unknown map {name!r}: use scales, coverage or one of {ids}")
    extent = build_layer(model, "communes", within).frame.total_bounds
    fmap.fit_bounds([[extent[1], extent[0]], [extent[3], extent[2]]])
    folium.LayerControl(collapsed=False).add_to(fmap)
    fmap.get_root().html.add_child(folium.Element(_legend(title, entries, summary(record))))
    fmap.get_root().title = html.escape(title)  # branca writes it into <title> as is
    return inline_assets(render_offline(fmap))
