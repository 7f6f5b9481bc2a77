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
    "label": "#1f1f1f",
    "label-grouping": "#5a2d0c",
    "quartier": "#b35806",
    "quartier-fill": "#fee0b6",
    "selection": "#ffd400",
    "selection-edge": "#000000",
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

#: The priority neighbourhoods (QPV of the 2015 generation): drawn from QUARTIER_ZOOM on, where they are legible
#: (at zoom 11 a pixel is about 55 m: a quartier of 1 km is some 18 pixels across).
QUARTIER_ZOOM = 11
QUARTIER = Symbol(PALETTE["quartier"], 1.2, dash=(4, 2), fill=PALETTE["quartier-fill"], fill_opacity=0.35)
QUARTIER_NOTE = "Quartiers prioritaires : périmètres de 2015 (génération 2015-2023), visibles à partir du zoom {}."

#: The selected territory (search, link, panel): outlined above everything else, a dark line inside a bright halo.
SELECTION = Symbol(PALETTE["selection-edge"], 2.5)
SELECTION_HALO = Symbol(PALETTE["selection"], 8, opacity=0.85)

#: Over a base map (OpenStreetMap, IGN), fills are this much more transparent, so that the base map shows through.
BASEMAP_FILL_FACTOR = 0.45


@dataclass(frozen=True)
class CountClass:
    """Communes covered by ``count`` schemes (the last class: that many or more)."""

    count: int
    symbol: Symbol


#: A coverage map superposes one texture per chosen scheme, after the first « superposeur » of the ANCT (one texture
#: per zoning, so that overlaps stay readable): its own hatch direction, its colour, a light fill; where schemes
#: overlap their hatches cross. Up to OVERLAY_MAX schemes the textures are shown first; beyond, the number of schemes
#: per commune (a choropleth), the textures staying one click away in the layer tree.
OVERLAY_MAX = 4
OVERLAY_ANGLES = (45, -45, 0, 90)
OVERLAY_FILL_OPACITY = 0.22


def overlay_symbols(ids: Iterable[str], kinds: Mapping[str, str]) -> dict[str, Symbol]:
    """The texture of each chosen scheme (``ids`` in their order; ``kinds``: every scheme of the catalogue → kind): a
    hatch direction each (then the heavier hatch), its own colour where no scheme before it took it, else the next
    colour not taken; thin commune outlines, so that the textures of several schemes stay readable together."""
    own = scheme_symbols(kinds)
    taken: list[tuple[str, str]] = [SCHEME_COLOURS[0]]  # salmon reads as the gaps' fill: given out last
    out = {}
    for i, sid in enumerate(ids):
        pair = (own[sid].fill or "", own[sid].edge)
        if pair in taken:
            pair = next((c for c in SCHEME_COLOURS if c not in taken), SCHEME_COLOURS[0] if SCHEME_COLOURS[0] not in taken[1:] else pair)
        taken.append(pair)
        weight, spacing = HATCH_DENSITIES[(i // len(OVERLAY_ANGLES)) % len(HATCH_DENSITIES)]
        out[sid] = Symbol(PALETTE["coverage-commune"], 0.5, fill=pair[0], fill_opacity=OVERLAY_FILL_OPACITY,
                          pattern=Pattern(OVERLAY_ANGLES[i % len(OVERLAY_ANGLES)], weight, spacing, pair[1]))
    return out


def communes_text(n: int) -> str:
    """'0 commune', '1 commune', '37 communes' (French: the plural from 2)."""
    return f"{n} commune{'s' if n > 1 else ''}"


def scheme_legend(name: str, communes: int) -> str:
    """A scheme's entry on a coverage map: 'Contrats de ville 2015-2020 (37 communes)'."""
    return f"{name} ({communes_text(communes)})"


def combination_label(names: list[str], communes: int) -> str:
    """'Petites villes de demain + Action cœur de ville : 8 communes', 'Villages d'avenir uniquement : 350 communes'."""
    what = " + ".join(names) if len(names) > 1 else f"{names[0]} uniquement"
    return f"{what} : {communes_text(communes)}"


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
    return f"{count_label(n, open_ended)} : {communes_text(communes)}"


# --- place names -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LabelClass:
    """How a class of place names is written (size in CSS pixels, a halo of paper around the letters) and at which
    zooms it is shown; a ``movable`` label may move off its point (an area's name) to find room."""

    size: float
    colour: str
    bold: bool = False
    italic: bool = False
    halo_px: float = 2.5
    min_zoom: int = 0
    max_zoom: int = 18
    movable: bool = False


#: The classes of place names, in priority order: where two would overlap, the first wins (then the bigger place).
LABEL_CLASSES: dict[str, LabelClass] = {
    "capitale": LabelClass(15, PALETTE["label"], bold=True, min_zoom=5),
    "prefecture": LabelClass(13, PALETTE["label"], bold=True, min_zoom=6),
    "grouping": LabelClass(12, PALETTE["label-grouping"], italic=True, min_zoom=6, max_zoom=10, movable=True),
    "commune": LabelClass(11.5, PALETTE["label"]),
    "epci": LabelClass(11, PALETTE["epci"], italic=True, min_zoom=9, max_zoom=12, movable=True),
    "quartier": LabelClass(10.5, PALETTE["quartier"], italic=True, min_zoom=13, movable=True),
}
#: Communes are named from a zoom that falls with their population (every commune from zoom 13, street level).
COMMUNE_LABEL_ZOOMS: tuple[tuple[int, int], ...] = ((50_000, 7), (20_000, 8), (10_000, 9), (5_000, 10), (2_000, 11),
                                                     (500, 12), (0, 13))
#: Room kept free around a label (CSS pixels), and the steps a movable label tries: where it is, above, below.
LABEL_PADDING_PX = 2
LABEL_SHIFTS = ((0, 0), (0, -1.2), (0, 1.2))


def commune_label_zoom(population: int) -> int:
    """The first zoom at which a commune of ``population`` inhabitants is named."""
    return next(z for floor, z in COMMUNE_LABEL_ZOOMS if population >= floor)


def label_font(cls: LabelClass) -> str:
    """The CSS font of a label class (the browser measures and writes labels with it)."""
    return f"{'italic ' if cls.italic else ''}{'bold ' if cls.bold else ''}{cls.size:g}px {LABEL_FONT_FAMILY}"


LABEL_FONT_FAMILY = "DejaVu Sans, Verdana, sans-serif"


# --- legend texts and titles ----------------------------------------------------------------------------------

SCALE_LABELS = {"commune": "Communes", "quartier": "Quartiers prioritaires (2015)", "epci": "EPCI (intercommunalités)",
                "grouping": "Groupements d'EPCI", "departement": "Départements", "region": "Régions"}
MEMBER_LABELS = {"commune": "Communes membres", "epci": "EPCI membres", "grouping": "Groupements membres",
                 "quartier": "Quartiers membres (périmètres 2015)"}
#: A scheme of quartiers: the communes that hold its quartiers, shown until the quartiers themselves are.
QUARTIER_COMMUNES_LABEL = "Communes des quartiers membres (jusqu'au zoom {})"
OTHER_LABELS = {"commune": "Autres communes", "epci": "Autres EPCI", "grouping": "Autres groupements", "quartier": "Autres communes"}
LEGEND = {
    "hint": "Survolez un territoire pour son nom et son code ; cliquez sur une commune pour tout ce qui la couvre.",
    "coverage": "Nombre de dispositifs par commune",
    "gaps": "Lacunes : communes couvertes par aucun",
    "coverage-title": "Couverture par les dispositifs choisis",
    "overlaps": "Les chevauchements sont hachurés : le motif change avec le nombre de dispositifs.",
    "schemes": "Dispositifs (un motif chacun)",
    "combinations": "Qui se superpose où",
    "textures": "Un motif par dispositif : là où des dispositifs se superposent, leurs hachures se croisent.",
    "other-combinations": "Autres combinaisons : {} communes",
    "basemaps": "Fond de carte",
    "dolls": "Là où des limites coïncident, leurs traits sont côte à côte, l'échelle la plus large à l'extérieur.",
    "labels": "Noms de lieux",
    "selection": "Sélection",
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
    if role in ("coverage", "gaps", "links", "schemes"):
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
    members), 'coverage' (communes by number of covering schemes, :func:`count_symbol`), 'schemes' (a texture per
    chosen scheme, :func:`overlay_symbols`) and 'gaps'. The lines of the scales above the communes are laid side by
    side where they coincide (:func:`doll_offsets`).
    """

    name: str
    title: str
    layers: tuple[str, ...]
    symbols: Mapping[str, Symbol]
    per_scheme: bool = False  # asked for as '<name>-<scheme id>'
    of_schemes: bool = False  # drawn for the schemes asked for ('schemes=a,b')
    labels: tuple[str, ...] = tuple(LABEL_CLASSES)  # the classes of place names it shows


SCALES = MapKind("scales", "Échelles territoriales", ("commune", "quartier", "epci", "grouping", "departement", "region"),
                 {**SCALE_LINES, "quartier": QUARTIER})
COVERAGE = MapKind("coverage", "Couverture des communes par les dispositifs", ("coverage", "gaps", "schemes", "departement", "region"),
                   {"coverage": COVERAGE_COMMUNE, "gaps": GAP, **COVERAGE_CONTEXT}, of_schemes=True,
                   labels=("capitale", "prefecture", "commune"))
SCHEME = MapKind("scheme", "Carte d'un dispositif", ("others", "members", "links", "departement", "region"),
                 {"others": OTHER, "links": LINK, **CONTEXT}, per_scheme=True, labels=("capitale", "prefecture", "commune", "epci", "quartier"))
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


# --- the change preview of a member list (the admin page) -----------------------------------------------------

#: Members a new list adds, removes or changes: a colour and a line each (removed ones hatched), so the preview map
#: reads in black and white too; the context is the scheme map's.
MEMBER_CHANGE_SYMBOLS: dict[str, Symbol] = {
    "ajouté": Symbol("#1b7837", 1.5, fill="#5aae61", fill_opacity=0.75),
    "modifié": Symbol("#b35806", 1.5, dash=(4, 2), fill="#fdb863", fill_opacity=0.75),
    "retiré": Symbol("#b2182b", 1.5, fill="#f4a582", fill_opacity=0.75, pattern=Pattern(45, 1.5, 3, "#b2182b")),
}
MEMBER_CHANGE_LABELS = {"ajouté": "Membres ajoutés", "modifié": "Membres modifiés (rôle, dates, source ou note)", "retiré": "Membres retirés"}


# --- time: what changed between two dates, timelines, typology charts ------------------------------------------

PALETTE.update({
    "change-gained": "#a6dba0", "change-gained-stripe": "#1b7837",
    "change-lost": "#f4a582", "change-lost-stripe": "#b2182b",
    "change-both": "#c2a5cf", "change-both-stripe": "#762a83",
    "change-unchanged": "#f2f2f2",
    "timeline-axis": "#555555", "timeline-today": "#b2182b", "timeline-grid": "#dddddd",
    "chart-covered": "#2c7fb8", "chart-uncovered": "#e0e0e0",
})

#: The "what changed" map: each commune by what it gained or lost between two dates (geo/changes.py's classes), a
#: colour and a hatch each so that the classes read apart in black-and-white print.
CHANGE_SYMBOLS: dict[str, Symbol] = {
    "gained": Symbol(PALETTE["coverage-commune"], 0.5, fill=PALETTE["change-gained"], fill_opacity=0.9,
                     pattern=Pattern(45, 1.5, 4.5, PALETTE["change-gained-stripe"])),
    "lost": Symbol(PALETTE["coverage-commune"], 0.5, fill=PALETTE["change-lost"], fill_opacity=0.9,
                   pattern=Pattern(-45, 1.5, 4.5, PALETTE["change-lost-stripe"])),
    "both": Symbol(PALETTE["coverage-commune"], 0.5, fill=PALETTE["change-both"], fill_opacity=0.9,
                   pattern=Pattern(0, 2, 3, PALETTE["change-both-stripe"])),
    "unchanged": Symbol(PALETTE["coverage-commune"], 0.5, fill=PALETTE["change-unchanged"], fill_opacity=0.8),
}
CHANGE_LABELS = {"gained": "Dispositif(s) gagné(s)", "lost": "Dispositif(s) perdu(s)", "both": "Gagnés et perdus",
                 "unchanged": "Inchangée"}
CHANGES = MapKind("changes", "Ce qui a changé entre deux dates", ("gained", "lost", "both", "unchanged", "departement", "region"),
                  {**CHANGE_SYMBOLS, **COVERAGE_CONTEXT}, labels=("capitale", "prefecture", "commune"))


def change_legend(status: str, communes: int) -> str:
    """A "what changed" legend entry: the class and how many communes it holds."""
    return f"{CHANGE_LABELS[status]} : {communes} commune{'s' if communes > 1 else ''}"


#: Timelines: the axis, its grid and today's mark; typology charts: the covered share and the rest.
TIMELINE = {"axis": PALETTE["timeline-axis"], "grid": PALETTE["timeline-grid"], "today": PALETTE["timeline-today"]}
CHART = {"covered": PALETTE["chart-covered"], "uncovered": PALETTE["chart-uncovered"]}


# --- dolls side by side ---------------------------------------------------------------------------------------

#: Where boundaries of several scales coincide, their lines are laid side by side, this many pixels apart.
DOLL_GAP_PX = 0.0


def doll_keys(groupings: Iterable[str]) -> tuple[str, ...]:
    """The doll lines, outermost first: the scales of the scales map above the communes in the reverse of their
    drawing order, each grouping (``groupings`` outermost first) as 'grouping:<id>'."""
    keys: list[str] = []
    for level in reversed(SCALES.layers):
        if level == "grouping":
            keys += [f"grouping:{g}" for g in groupings]
        elif level not in ("commune", "quartier"):
            keys.append(level)
    return tuple(keys)


def doll_offsets(weights: Iterable[float]) -> list[float]:
    """Where the lines of a boundary shared by several dolls go (line ``weights`` outermost first): their offsets in
    pixels towards the inner side, side by side and centred on the boundary, the outermost doll outside.
    service/maps/static/layers.js applies the same rule (``dollOffsets``)."""
    weights = list(weights)
    at = -(sum(weights) + DOLL_GAP_PX * (len(weights) - 1)) / 2
    out = []
    for w in weights:
        out.append(at + w / 2)
        at += w + DOLL_GAP_PX
    return out
