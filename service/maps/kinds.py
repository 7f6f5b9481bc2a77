"""The map kinds, each registered once with its three renderers: the web page, the static figure (matplotlib) and
the standalone HTML map. /static/{map}, the `render` and `map` commands and their descriptions list the maps from here.

A map kind's look (title, layers in order, symbols) is declared in geo/mapspec.py; its renderers read it.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from matplotlib.figure import Figure

from geo import mapspec
from geo.model import Model
from geo.render import RenderError, StaticRenderer, draw_coverage, draw_scales, draw_scheme, render_bytes, render_map
from geo.territory import Territory
from service.maps.coverage import coverage_page
from service.maps.scales import scales_page
from service.maps.scheme import scheme_page
from service.standalone import StandaloneRenderer, coverage_map, scales_map, scheme_map, standalone_html


@dataclass(frozen=True)
class MapKind:
    """A map kind: its specification, the path of its web page and its three renderers."""

    spec: mapspec.MapKind
    path: str  # the web page (for a scheme map, '{id}' is the scheme's id)
    page: Callable[..., str]  # the web page builder (service/maps/…)
    static: StaticRenderer  # geo/render.py
    standalone: StandaloneRenderer  # service/standalone.py


_RENDERERS = {
    mapspec.SCALES.name: ("/maps/scales", scales_page, draw_scales, scales_map),
    mapspec.COVERAGE.name: ("/maps/coverage", coverage_page, draw_coverage, coverage_map),
    mapspec.SCHEME.name: ("/maps/schemes/{id}", scheme_page, draw_scheme, scheme_map),
}
#: Every map kind of the specification with its renderers (a kind without them fails here, at import).
MAP_KINDS: dict[str, MapKind] = {k.name: MapKind(k, *_RENDERERS[k.name]) for k in mapspec.MAP_KINDS}
MAP_NAMES = mapspec.map_names()  # 'scales, coverage or scheme-<id>'
MAP_HELP = "; ".join(f"{mapspec.map_name(k.spec)} ({k.spec.title}, {k.path})" for k in MAP_KINDS.values())


def resolve_map(model: Model, name: str) -> tuple[MapKind, str | None]:
    """The kind of the map ``name`` and its parameter (the scheme id of 'scheme-<id>'); RenderError naming the maps."""
    if name in MAP_KINDS and not MAP_KINDS[name].spec.per_scheme:
        return MAP_KINDS[name], None
    kind, _, arg = name.partition("-")
    if kind in MAP_KINDS and MAP_KINDS[kind].spec.per_scheme and arg in model.catalogue.schemes:
        return MAP_KINDS[kind], arg
    ids = sorted(model.catalogue.schemes)
    choices = ["l'une de " + ", ".join(f"{k.spec.name}-{i}" for i in ids) if k.spec.per_scheme else k.spec.name for k in MAP_KINDS.values()]
    raise RenderError(f"Carte inconnue : « {name} ». Cartes : {', '.join(choices[:-1])} ou {choices[-1]}.")


def _arg(kind: MapKind, arg: str | None, schemes: str | None) -> str | None:
    """A renderer's parameter: the scheme of a scheme map, the schemes asked for of a coverage map."""
    return schemes if kind.spec.of_schemes else arg


def static_figure(model: Model, name: str, within: Territory | None = None, size: str = "a4", schemes: str | None = None,
                  at: dt.date | None = None) -> Figure:
    """The matplotlib figure of a map at a date (``schemes``: 'a,b', those of a coverage map, every scheme by default)."""
    kind, arg = resolve_map(model, name)
    return render_map(model, kind.static, within, size, _arg(kind, arg, schemes), kind.spec, at)


def static_bytes(model: Model, name: str, fmt: str, within: Territory | None = None, size: str = "a4",
                 schemes: str | None = None, at: dt.date | None = None) -> bytes:
    """A map as PNG, SVG or PDF (at a date)."""
    kind, arg = resolve_map(model, name)
    return render_bytes(model, kind.static, fmt, within, size, _arg(kind, arg, schemes), title=name, kind=kind.spec, at=at)


def standalone_page(model: Model, name: str, within: Territory | None = None, schemes: str | None = None,
                    at: dt.date | None = None) -> str:
    """A map as one self-contained HTML page (at a date)."""
    kind, arg = resolve_map(model, name)
    return standalone_html(model, kind.standalone, within, _arg(kind, arg, schemes), at)
