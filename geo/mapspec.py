"""The map specification: every colour, line, fill, pattern, legend text, title and layer order of every map.

The web maps (service/maps and their JS), the static maps (geo/render.py), the standalone HTML map
(service/standalone.py) and the QGIS/SLD styles of the exports (geo/exports/styles.py) all read this module and
nothing else: a colour literal lives here and nowhere else. Widths and dashes are CSS pixels (the web map's unit);
``px_to_pt`` gives the points of print and QGIS.

Every class pairs a colour with a line weight, a dash or a pattern, so maps stay readable in black-and-white print.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from geo.periods import french_date

# --- units ----------------------------------------------------------------------------------------------------

PT_PER_PX = 0.75  # a CSS pixel is 1/96 inch, a point 1/72 inch


def px_to_pt(px: float) -> float:
    """CSS pixels to points."""
    return px * PT_PER_PX


def pt_to_px(pt: float) -> float:
    """Points to CSS pixels."""
    return pt / PT_PER_PX


# --- palette --------------------------------------------------------------------------------------------------

#: Every colour of every map, by role.
PALETTE: dict[str, str] = {
    "white": "#ffffff",
    "commune": "#8c8c8c",
    "epci": "#1a9641",
    "departement": "#6a3d9a",
    "region": "#222222",
    "grouping-red": "#d7191c",
    "grouping-orange": "#f07c00",
    "grouping-blue": "#0571b0",
    "context-region": "#8a8a8a",
    "context-departement": "#aaaaaa",
    "context-other": "#c8c8c8",
    "link": "#2c2c7c",
    "coverage-commune": "#7a7a7a",
    "coverage-region": "#333333",
    "coverage-1": "#c7e9b4",
    "coverage-2": "#7fcdbb",
    "coverage-3": "#41b6c4",
    "coverage-4": "#2c7fb8",
    "coverage-stripe": "#08306b",
    "gap": "#fddbc7",
}

#: The colour of paper: the static maps' background (a fill of this colour there draws nothing).
PAPER = PALETTE["white"]

#: Fill and outline colour pairs for schemes (ColorBrewer-like: a light fill, its dark outline and hatch).
SCHEME_COLOURS: tuple[tuple[str, str], ...] = (
    ("#ef8a62", "#b2182b"),  # salmon / dark red
    ("#a6cee3", "#1f78b4"),  # light / dark blue
    ("#b2df8a", "#33a02c"),  # light / dark green
    ("#fdbf6f", "#e66101"),  # light / dark orange
    ("#cab2d6", "#6a3d9a"),  # light / dark purple
    ("#80cdc1", "#01665e"),  # light / dark teal
    ("#f1b6da", "#c51b7d"),  # light / dark pink
)


# --- symbols --------------------------------------------------------------------------------------------------

#: Pattern angles that repeat seamlessly across square map tiles (and that every renderer can draw).
PATTERN_ANGLES = (0, 45, -45, 90)


@dataclass(frozen=True)
class Pattern:
    """Parallel lines over a fill: their direction ``angle`` in degrees counterclockwise from horizontal (0
    horizontal, 90 vertical, 45 rising to the right, -45 falling), line ``weight`` and ``spacing`` in CSS pixels."""

    angle: int
    weight: float
    spacing: float
    colour: str

    def __post_init__(self) -> None:
        if self.angle not in PATTERN_ANGLES:
            raise ValueError(f"pattern angle {self.angle}: use one of {PATTERN_ANGLES} (they repeat seamlessly across map tiles)")

    @property
    def period(self) -> float:
        """Distance from one line to the next."""
        return self.weight + self.spacing


@dataclass(frozen=True)
class Symbol:
    """How one class of polygons (or lines) is drawn: outline colour, weight and dash (CSS pixels), fill and
    its opacity, an optional pattern over the fill, and the outline's opacity."""

    edge: str
    weight: float
    dash: tuple[float, ...] | None = None
    fill: str | None = None
    fill_opacity: float = 0.0
    pattern: Pattern | None = None
    opacity: float = 1.0


#: The nested scales, from the innermost doll to the outermost.
SCALE_LINES: dict[str, Symbol] = {
    "commune": Symbol(PALETTE["commune"], 0.5, fill=PALETTE["white"], fill_opacity=0.05),
    "epci": Symbol(PALETTE["epci"], 1.6),
    "departement": Symbol(PALETTE["departement"], 3),
    "region": Symbol(PALETTE["region"], 4.5),
}

#: Groupings of EPCI: dashed outlines, one colour and dash each, given out in the order of their ids.
GROUPING_LINES: tuple[Symbol, ...] = (
    Symbol(PALETTE["grouping-red"], 3.5, dash=(10, 6)),
    Symbol(PALETTE["grouping-orange"], 3, dash=(6, 4)),
    Symbol(PALETTE["grouping-blue"], 3, dash=(2, 5)),
)


def grouping_symbols(ids: Iterable[str]) -> dict[str, Symbol]:
    """One outline per grouping id: the sorted ids take the styles in turn, so every renderer draws a grouping
    alike whatever it shows (pass every grouping of the catalogue, not the ones in view)."""
    return {gid: GROUPING_LINES[i % len(GROUPING_LINES)] for i, gid in enumerate(sorted(set(ids)))}


#: The hatch direction of each scheme kind, so kinds read apart in print; and two densities (line weight, spacing).
KIND_ANGLES: dict[str, int] = {"epci": 90, "grouping": 0, "network": 45, "club": -45, "partnership": 90, "contract": 0,
                               "programme": 45}
HATCH_DENSITIES: tuple[tuple[float, float], ...] = ((1.5, 6.5), (3, 5))
MEMBER_OUTLINE_PX = 1.5
MEMBER_FILL_OPACITY = 0.55


def scheme_symbols(kinds: Mapping[str, str]) -> dict[str, Symbol]:
    """The fill of each scheme (id → kind): in the order of the ids, each takes the first (hatch, colour) not yet
    given out, its kind's hatch direction first, light hatching before heavy, colours in turn, so that no two
    schemes look alike (up to 56 schemes). Pass every scheme of the catalogue, not the ones in view."""
    used: set[tuple[int, tuple[float, float], tuple[str, str]]] = set()
    out = {}
    for sid in sorted(kinds):
        angles = (KIND_ANGLES[kinds[sid]], *(a for a in PATTERN_ANGLES if a != KIND_ANGLES[kinds[sid]]))
        choices = [(a, d, c) for a in angles for d in HATCH_DENSITIES for c in SCHEME_COLOURS]
        angle, (weight, spacing), (fill, edge) = next((x for x in choices if x not in used), choices[len(used) % len(choices)])
        used.add((angle, (weight, spacing), (fill, edge)))
        out[sid] = Symbol(edge, MEMBER_OUTLINE_PX, fill=fill, fill_opacity=MEMBER_FILL_OPACITY,
                          pattern=Pattern(angle, weight, spacing, edge))
    return out


#: A scheme map's context: the other territories at the members' scale, faded scales, links between members.
OTHER = Symbol(PALETTE["context-other"], 0.4, fill=PALETTE["white"], fill_opacity=0.25)
CONTEXT = {"departement": Symbol(PALETTE["context-departement"], 1.5), "region": Symbol(PALETTE["context-region"], 2.5)}
LINK = Symbol(PALETTE["link"], 3, dash=(8, 6), opacity=0.9)

#: Hover: outlines widen by this many pixels.
HOVER_EXTRA_PX = 2


@dataclass(frozen=True)
class CountClass:
    """Communes covered by ``count`` schemes (the last class: that many or more)."""

    count: int
    symbol: Symbol


#: The coverage map: communes by number of covering schemes, overlaps hatched, gaps (none) a light fill.
COVERAGE_COMMUNE = Symbol(PALETTE["coverage-commune"], 0.5, fill=PALETTE["white"], fill_opacity=0.75)
GAP = Symbol(PALETTE["coverage-commune"], 0.5, fill=PALETTE["gap"], fill_opacity=0.6)
COVERAGE_CLASSES: tuple[CountClass, ...] = (
    CountClass(1, Symbol(PALETTE["coverage-commune"], 0.5, fill=PALETTE["coverage-1"], fill_opacity=0.9)),
    CountClass(2, Symbol(PALETTE["coverage-commune"], 0.5, fill=PALETTE["coverage-2"], fill_opacity=0.9,
                         pattern=Pattern(-45, 2, 5, PALETTE["coverage-stripe"]))),
    CountClass(3, Symbol(PALETTE["coverage-commune"], 0.5, fill=PALETTE["coverage-3"], fill_opacity=0.9,
                         pattern=Pattern(45, 3, 3, PALETTE["coverage-stripe"]))),
    CountClass(4, Symbol(PALETTE["coverage-commune"], 0.5, fill=PALETTE["coverage-4"], fill_opacity=0.9,
                         pattern=Pattern(0, 3, 2, PALETTE["coverage-stripe"]))),
)
COVERAGE_CONTEXT = {"departement": Symbol(PALETTE["departement"], 1.8), "region": Symbol(PALETTE["coverage-region"], 3)}


def count_class(n: int) -> int:
    """The class of a commune covered by ``n`` schemes: 0 (a gap), or the largest class count not above ``n``."""
    return max((c.count for c in COVERAGE_CLASSES if n >= c.count), default=0)


def count_symbol(n: int) -> Symbol:
    """The symbol of a commune covered by ``n`` schemes."""
    cls = count_class(n)
    return next((c.symbol for c in COVERAGE_CLASSES if c.count == cls), GAP)


def count_label(n: int, open_ended: bool = False) -> str:
    """'Aucun (lacune)', '1 dispositif', '3 dispositifs', '4 dispositifs ou plus'."""
    if n <= 0:
        return "Aucun (lacune)"
    return f"{n} dispositif{'s' if n > 1 else ''}" + (" ou plus" if open_ended else "")


def count_legend(n: int, communes: int, open_ended: bool = False) -> str:
    """A coverage legend entry: the class and how many communes it holds."""
    return f"{count_label(n, open_ended)} : {communes} commune{'s' if communes > 1 else ''}"


# --- legend texts and titles ----------------------------------------------------------------------------------

SCALE_LABELS = {"commune": "Communes", "epci": "EPCI (intercommunalités)", "grouping": "Groupements d'EPCI",
                "departement": "Départements", "region": "Régions"}
MEMBER_LABELS = {"commune": "Communes membres", "epci": "EPCI membres", "grouping": "Groupements membres",
                 "quartier": "Communes des quartiers membres"}
OTHER_LABELS = {"commune": "Autres communes", "epci": "Autres EPCI", "grouping": "Autres groupements", "quartier": "Autres communes"}
LEGEND = {
    "hint": "Survolez un territoire pour son nom et son code ; cliquez sur une commune pour tout ce qui la couvre.",
    "coverage": "Nombre de dispositifs par commune",
    "gaps": "Lacunes : communes couvertes par aucun",
    "coverage-title": "Couverture par les dispositifs choisis",
    "overlaps": "Les chevauchements sont hachurés : le motif change avec le nombre de dispositifs.",
    "links": "Liens entre membres",
    "context": "{} (contexte)",
    "legend": "Légende",
    "scales-tree": "Échelles",
    "coverage-tree": "Couverture",
    "show-all": "Tout afficher ou masquer",
}


def region_label(names: list[str]) -> str:
    """'Région Occitanie' for one région, 'Régions' for several."""
    return f"Région {names[0]}" if len(names) == 1 else SCALE_LABELS["region"]


def coverage_title(names: list[str]) -> str:
    """'Couverture : A, B' for a few schemes, 'Couverture des communes par 16 dispositifs' for many."""
    return "Couverture : " + ", ".join(names) if len(names) <= 3 else f"Couverture des communes par {len(names)} dispositifs"


def fr_date(value: dt.date | None) -> str:
    """'8 avril 2013', '1er janvier 2024' (geo/periods.py writes every date a person reads)."""
    return french_date(value) if value else ""


def period_text(start: dt.date | None, end: dt.date | None) -> str:
    """'du 1er janvier 2022 au 31 décembre 2027', 'depuis le 8 avril 2013', 'jusqu'au …' or 'période non renseignée'."""
    if start and end:
        return f"du {fr_date(start)} au {fr_date(end)}"
    if start:
        return f"depuis le {fr_date(start)}"
    return f"jusqu'au {fr_date(end)}" if end else "période non renseignée"


def layer_label(role: str, kind: str, member_scale: str = "commune") -> str:
    """The French name of a layer in the legend and the layer tree."""
    if role == "members":
        return MEMBER_LABELS[member_scale]
    if role == "others":
        return OTHER_LABELS[member_scale]
    if role in ("coverage", "gaps", "links"):
        return LEGEND[role]
    label = SCALE_LABELS[role]
    return LEGEND["context"].format(label) if kind == "scheme" else label


# --- map kinds ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MapKind:
    """A map: its name ('scheme' is asked for as 'scheme-<id>'), French title and layers, drawn in order (the
    first at the bottom, the outermost doll on top), with the symbol of each layer drawn with one symbol.

    A layer is a scale level or one of 'grouping' (one outline per grouping, :func:`grouping_symbols`),
    'others' and 'members' (a scheme's territories, :func:`scheme_symbols`), 'links' (between a network's
    members), 'coverage' (communes by number of covering schemes, :func:`count_symbol`) and 'gaps'.
    """

    name: str
    title: str
    layers: tuple[str, ...]
    symbols: Mapping[str, Symbol]
    per_scheme: bool = False  # asked for as '<name>-<scheme id>'


SCALES = MapKind("scales", "Échelles territoriales", ("commune", "epci", "grouping", "departement", "region"), SCALE_LINES)
COVERAGE = MapKind("coverage", "Couverture des communes par les dispositifs", ("coverage", "gaps", "departement", "region"),
                   {"coverage": COVERAGE_COMMUNE, "gaps": GAP, **COVERAGE_CONTEXT})
SCHEME = MapKind("scheme", "Carte d'un dispositif", ("others", "members", "links", "departement", "region"),
                 {"others": OTHER, "links": LINK, **CONTEXT}, per_scheme=True)
#: Every map kind; service/maps/kinds.py registers the renderers of each.
MAP_KINDS: tuple[MapKind, ...] = (SCALES, COVERAGE, SCHEME)


def map_name(kind: MapKind) -> str:
    """How a map of the kind is asked for: 'scales', 'scheme-<id>'."""
    return f"{kind.name}-<id>" if kind.per_scheme else kind.name


def map_names() -> str:
    """'scales, coverage or scheme-<id>'."""
    names = [map_name(k) for k in MAP_KINDS]
    return ", ".join(names[:-1]) + " or " + names[-1]


def doll_order(sizes: Mapping[str, tuple[int, float]]) -> list[str]:
    """Groupings from the innermost to the outermost doll (fewest EPCI, then smallest population, first): the
    order in which they are drawn, so that a grouping is drawn above those it contains."""
    return sorted(sizes, key=lambda code: (sizes[code], code))
