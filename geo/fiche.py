"""The fiche territoire: an A4 PDF (vector, text kept as text) for a report — title and key figures, the poupées russes
drawn as nested boxes, the map of the scales around the territory (geo/render.py), every scheme covering it with role,
period, path and source, and on every page the data version and the date.

Drawn with matplotlib's PDF backend, no browser: one figure per page, laid out in points from the top of the page.
"""
from __future__ import annotations

import datetime as dt
import io
import textwrap
from dataclasses import dataclass, field

import matplotlib
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from geo import mapspec, wording
from geo.chain import Chain, Doll, chain, edge
from geo.kinds import kind_label
from geo.mapspec import fr_date
from geo.model import Model
from geo.render import draw_scales, render_map
from geo.sources import codes_source, geometry_source
from geo.summary import Covering, coverings
from geo.territory import Territory

PAGE = (595.3, 841.9)  # A4 portrait, in points
MARGIN = 42.0
FONT = 8.0  # body text, points
LINE = 1.3  # line height, in font sizes
CHAR = 0.52  # average width of a DejaVu Sans character, in font sizes (for wrapping)
#: The schemes table: header, share of the text width (the words of each column are wrapped to it).
COLUMNS = (("Dispositif", 0.27), ("Rôle", 0.09), ("Période", 0.19), ("Par", 0.24), ("Source", 0.21))
DOLL_INSET = 9.0  # points between a doll's box and the next one inside it


@dataclass
class Sheet:
    """Text and boxes placed on one page, top-down (y in points from the top), drawn once every page is known."""

    texts: list[tuple[float, float, str, dict]] = field(default_factory=list)
    boxes: list[tuple[float, float, float, float, str, float]] = field(default_factory=list)
    rules: list[float] = field(default_factory=list)


def _wrap(text: str, width: float, size: float = FONT) -> list[str]:
    """``text`` wrapped to ``width`` points at ``size``."""
    chars = max(8, int(width / (size * CHAR)))
    return textwrap.wrap(text, chars, break_long_words=True) or [""]


def _doll_line(d: Doll) -> str:
    figures = f"{wording.inhabitants(d.population)} · {wording.area(d.area_km2)}"
    if d.level not in ("commune", "quartier"):
        figures += f" · {wording.number(len(d.communes))} commune{'s' if len(d.communes) > 1 else ''}"
    return f"{wording.upper_first(wording.doll_name(d.level, d.kind))} — {d.nom} · {figures}"


def _dolls(model: Model, c: Chain, sheet: Sheet, top: float) -> float:
    """The poupées russes as nested boxes from ``top``; returns the y below them."""
    left, width = MARGIN, PAGE[0] - 2 * MARGIN
    heads: list[list[str]] = []
    for d in c.dolls:
        lines = _wrap(_doll_line(d), width - 2 * DOLL_INSET * len(heads) - 8)
        for b in c.beside_in(d):
            text = (f"aussi : {wording.doll_name(b.doll.level, b.doll.kind)} {b.doll.nom} ({wording.inhabitants(b.doll.population)}), "
                    f"qui contient {b.holds.nom}")
            lines += ["    " + line for line in _wrap(text, width - 2 * DOLL_INSET * len(heads) - 20, FONT - 0.5)]
        heads.append(lines)
    step = FONT * LINE
    inner = step * 1.2  # the innermost box's own room below its head
    heights = []
    below = inner
    for lines in reversed(heads):
        below += len(lines) * step + DOLL_INSET + 4
        heights.append(below)
    heights.reverse()
    for i, (d, lines) in enumerate(zip(c.dolls, heads)):
        y = top + sum(len(h) * step + 4 for h in heads[:i])
        x = left + i * DOLL_INSET
        sheet.boxes.append((x, y, width - 2 * i * DOLL_INSET, heights[i], edge(model, d), 1.6 if i == len(c.dolls) - 1 else 1.0))
        for j, text in enumerate(lines):
            weight = "bold" if j == 0 else "normal"
            sheet.texts.append((x + 5, y + 4 + (j + 0.8) * step, text, {"fontsize": FONT if j == 0 else FONT - 0.5, "fontweight": weight}))
    return top + heights[0] + 10


def _cells(c: Covering, total: int) -> list[str]:
    period = wording.membership_period(**c.periods[0]) if len(c.periods) == 1 else "selon les membres : " + " ; ".join(
        wording.membership_period(**p) for p in c.periods[:3]) + (" ; …" if len(c.periods) > 3 else "")
    paths = " ; ".join(wording.path_words(p) + (f" ({n})" if total > 1 and len(c.paths) > 1 else "") for p, n in c.paths[:4])
    if total > 1:
        paths = f"{c.communes} commune{'s' if c.communes > 1 else ''} sur {total} : {paths}"
    src = c.scheme.source or {}
    source = (src.get("title") or "source non renseignée") + (f" ({src['publisher']})" if src.get("publisher") else "")
    return [f"{c.scheme.name} ({kind_label(c.scheme.kind)}, {c.badge.label})", ", ".join(c.roles) or "—", period,
            paths + ("…" if len(c.paths) > 4 else ""), source]


def _table(rows: list[list[str]], sheets: list[Sheet], top: float) -> None:
    """The schemes table, continued on new pages as needed."""
    width = PAGE[0] - 2 * MARGIN
    xs = [MARGIN + width * sum(w for _, w in COLUMNS[:i]) for i in range(len(COLUMNS))]
    step = (FONT - 0.5) * LINE
    bottom = PAGE[1] - MARGIN - 30

    def header(sheet: Sheet, y: float) -> float:
        for x, (label, _) in zip(xs, COLUMNS):
            sheet.texts.append((x, y, label, {"fontsize": FONT, "fontweight": "bold"}))
        sheet.rules.append(y + 4)
        return y + step + 4

    y = header(sheets[-1], top)
    for row in rows:
        cells = [_wrap(text, width * w - 6, FONT - 0.5) for text, (_, w) in zip(row, COLUMNS)]
        height = max(len(c) for c in cells) * step + 4
        if y + height > bottom:
            sheets.append(Sheet())
            y = header(sheets[-1], MARGIN + 20)
        for x, lines in zip(xs, cells):
            for j, text in enumerate(lines):
                sheets[-1].texts.append((x, y + j * step, text, {"fontsize": FONT - 0.5}))
        y += height
        sheets[-1].rules.append(y - step + 1)


def _draw(sheet: Sheet, footer: str, number: int, pages: int) -> Figure:
    fig = Figure(figsize=(PAGE[0] / 72, PAGE[1] / 72))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, PAGE[0])
    ax.set_ylim(PAGE[1], 0)
    ax.set_axis_off()
    for x, y, w, h, colour, lw in sheet.boxes:
        ax.add_patch(Rectangle((x, y), w, h, fill=False, edgecolor=colour, linewidth=lw))
    for y in sheet.rules:
        ax.plot([MARGIN, PAGE[0] - MARGIN], [y, y], color=mapspec.SCALE_LINES["commune"].edge, linewidth=0.3)
    for x, y, text, style in sheet.texts:
        ax.text(x, y, text, va="baseline", ha="left", **style)
    for j, line in enumerate(_wrap(footer, PAGE[0] - 2 * MARGIN - 60, 6.5)):
        ax.text(MARGIN, PAGE[1] - MARGIN + 8 + j * 8.5, line, fontsize=6.5, va="baseline")
    ax.text(PAGE[0] - MARGIN, PAGE[1] - MARGIN + 8, f"page {number} / {pages}", fontsize=6.5, ha="right", va="baseline")
    return fig


def fiche_pdf(model: Model, territory: Territory, published: dt.date | None = None, today: dt.date | None = None) -> bytes:
    """The fiche territoire of ``territory`` as PDF bytes (``published``: the date the data version was published)."""
    today = today or dt.date.today()
    c = chain(model, territory)
    own = c.territory
    covering = coverings(model, territory)
    first = Sheet()
    what = wording.upper_first(wording.doll_name(own.level, own.kind))
    code = f" · code {territory.code}" if territory.level != "grouping" else ""
    first.texts.append((MARGIN, MARGIN + 16, territory.nom, {"fontsize": 20, "fontweight": "bold"}))
    first.texts.append((MARGIN, MARGIN + 34, f"{what}{code} · {wording.inhabitants(own.population)} · {wording.area(own.area_km2)}"
                        + (f" · {wording.number(len(own.communes))} communes" if len(own.communes) > 1 else "")
                        + f" · {len(covering)} dispositif{'s' if len(covering) > 1 else ''}", {"fontsize": 10}))
    first.texts.append((MARGIN, MARGIN + 62, "Poupées russes", {"fontsize": 12, "fontweight": "bold"}))
    first.texts.append((MARGIN, MARGIN + 75, "Chaque échelle contient la suivante ; « aussi » nomme les territoires qui le contiennent "
                        "sans suivre cette chaîne.", {"fontsize": FONT - 0.5, "color": mapspec.PALETTE["region"]}))
    y = _dolls(model, c, first, MARGIN + 84)
    sheets = [first]
    if y > PAGE[1] - MARGIN - 120:
        sheets.append(Sheet())
        y = MARGIN + 20
    sheets[-1].texts.append((MARGIN, y + 12, "Dispositifs qui le couvrent", {"fontsize": 12, "fontweight": "bold"}))
    if covering:
        _table([_cells(x, len(own.communes)) for x in covering], sheets, y + 30)
    else:
        sheets[-1].texts.append((MARGIN, y + 30, "Aucun dispositif connu ne couvre ce territoire.", {"fontsize": FONT}))
    version = f"version {model.version}" + (f", publiée le {fr_date(published)}" if published else "")
    footer = (f"territoires — fiche territoire de {territory.nom}, éditée le {fr_date(today)}. Données : {version} ; limites "
              f"{geometry_source().label}, codes {codes_source().label} ; dispositifs : sources citées dans le tableau.")
    focus = next((d for d in c.dolls if d.level != "region"), own)
    around = model.territory(f"{focus.level}:{focus.code}")
    pages = len(sheets) + 1
    buffer = io.BytesIO()
    with matplotlib.rc_context({"pdf.fonttype": 42, "font.family": "DejaVu Sans"}):
        with PdfPages(buffer, metadata={"Title": f"Fiche territoire — {territory.nom}", "Creator": "territoires"}) as pdf:
            pdf.savefig(_draw(sheets[0], footer, 1, pages))
            figure = render_map(model, draw_scales, around, "a4")  # landscape: the legend beside the map
            figure.text(0.98, 0.012, f"page 2 / {pages}", fontsize=6.5, ha="right", va="bottom")
            pdf.savefig(figure)
            for i, sheet in enumerate(sheets[1:], start=3):
                pdf.savefig(_draw(sheet, footer, i, pages))
    return buffer.getvalue()

