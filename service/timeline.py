"""Timelines as HTML components the pages embed (and /fragments serves): every scheme that covered a territory as
bars on a time axis (2010 – 2030) with today marked, and a scheme's members over time.

Server-side SVG with its text (names, periods, the axis's years, "aujourd'hui"), each bar in its scheme's colour and
hatch from the map specification, and the same facts as a table: nothing is said by colour alone.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from geo import mapspec
from geo.kinds import kind_label
from geo.model import Model
from geo.periods import Basis, french_date, in_force, status_text
from geo.schemes import Member, Scheme
from geo.sources import perimeters
from geo.territory import LEVEL_NAMES, Territory
from geo.timelines import members_over_time, territory_periods
from service.templating import render

#: The time axis of every timeline.
AXIS = (dt.date(2010, 1, 1), dt.date(2030, 12, 31))
WIDTH, LABELS, RIGHT, ROW, TOP = 820, 330, 16, 30, 56
#: Above this many members, a scheme's timeline shows their number over time and the table, not a bar each.
MAX_MEMBER_BARS = 40
CHART_HEIGHT, COUNTS_TOP = 140, 36  # the members-over-time chart: its height, and the top of its curve (the marks' labels above)


def x_of(day: dt.date | None, open_end: bool = False) -> float:
    """The abscissa of a day on the axis (clamped to it); an open bound is the axis's edge."""
    if day is None:
        return float(WIDTH - RIGHT if open_end else LABELS)
    span = (AXIS[1] - AXIS[0]).days
    frac = min(1.0, max(0.0, (day - AXIS[0]).days / span))
    return LABELS + frac * (WIDTH - LABELS - RIGHT)


def _ticks() -> list[dict]:
    return [{"x": round(x_of(dt.date(y, 1, 1)), 1), "year": y} for y in range(AXIS[0].year, AXIS[1].year + 1, 2)]


def _marks(at: dt.date, today: dt.date) -> list[dict]:
    """Today's line and, when it is another day, the line of the date shown."""
    marks = [{"x": round(x_of(today), 1), "label": f"Aujourd'hui ({french_date(today)})", "colour": mapspec.TIMELINE["today"],
              "dash": "4 3"}]
    if at != today and AXIS[0] <= at <= AXIS[1]:
        marks.append({"x": round(x_of(at), 1), "label": f"Situation affichée ({french_date(at)})", "colour": mapspec.TIMELINE["axis"],
                      "dash": "1 2"})
    return marks


def period_label(start: dt.date | None, end: dt.date | None) -> str:
    """'1er janvier 2015 – 31 décembre 2020', 'depuis le …', with 'non daté' where a bound has no source."""
    if start is None and end is None:
        return "non daté"
    if end is None:
        return f"depuis le {french_date(start)} (fin non datée)"
    if start is None:
        return f"jusqu'au {french_date(end)} (début non daté)"
    return f"{french_date(start)} – {french_date(end)}"


@dataclass(frozen=True)
class Bar:
    """One row of a timeline: its label, period and how it is drawn."""

    label: str
    detail: str
    start: dt.date | None
    end: dt.date | None
    status: str
    fill: str
    edge: str
    hatch: dict | None
    extra: dict


def _bar_rows(bars: list[Bar]) -> list[dict]:
    rows = []
    for i, b in enumerate(bars):
        x0, x1 = x_of(b.start), x_of(b.end, open_end=True)
        outside = (b.end is not None and b.end < AXIS[0]) or (b.start is not None and b.start > AXIS[1])
        rows.append({"y": TOP + i * ROW, "x": round(x0, 1), "w": round(max(x1 - x0, 2.0), 1), "bar": b, "outside": outside,
                     "open_start": b.start is None or b.start < AXIS[0], "open_end": b.end is None or b.end > AXIS[1],
                     "pattern": f"h{i}" if b.hatch else None})
    return rows


def _svg_context(bars: list[Bar], at: dt.date, title: str, desc: str, uid: str) -> dict:
    today = dt.date.today()
    height = TOP + max(1, len(bars)) * ROW + 10
    return {"width": WIDTH, "height": height, "labels": LABELS, "right": WIDTH - RIGHT, "top": TOP, "row": ROW,
            "ticks": _ticks(), "marks": _marks(at, today), "rows": _bar_rows(bars), "colours": mapspec.TIMELINE,
            "title": title, "desc": desc, "uid": uid}


def _hatch(symbol: mapspec.Symbol) -> dict | None:
    p = symbol.pattern
    return {"angle": -p.angle, "period": p.period, "weight": p.weight, "colour": p.colour} if p else None


def territory_timeline(model: Model, territory: Territory, at: dt.date) -> str:
    """The timeline of a territory: every scheme that covered it (some of its communes) as a bar over 2010 – 2030, today
    marked, and the same as a table with each scheme's status at ``at``."""
    table = territory_periods(model.coverage, territory)
    symbols = mapspec.scheme_symbols({s.id: s.kind for s in model.catalogue.schemes.values()})
    total = len(territory.communes)
    bars = []
    for r in table.itertuples(index=False):
        sym = symbols[r.scheme]
        share = "" if territory.level == "commune" else f" — {r.communes} commune{'s' if r.communes > 1 else ''} sur {total}"
        generation = f"génération {r.generation} · " if isinstance(r.generation, str) and r.generation else ""
        bars.append(Bar(r.name, f"{kind_label(r.kind)}{share}", r.start, r.end, status_text(r.start, r.end, at), sym.fill, sym.edge,
                        _hatch(sym), {"id": r.scheme, "period": period_label(r.start, r.end), "line": generation + period_label(r.start, r.end),
                                      "communes": r.communes, "basis": None}))
    level = LEVEL_NAMES[territory.level][0]
    title = f"Chronologie des dispositifs — {territory.nom}"
    desc = (f"{len(bars)} dispositifs ont couvert {'la' if level in ('commune', 'région') else 'le'} {level} {territory.nom} "
            f"entre {AXIS[0].year} et {AXIS[1].year} ou à une date non précisée ; barre par dispositif, trait rouge : aujourd'hui.")
    return render("time/timeline.html", kind="territory", svg=_svg_context(bars, at, title, desc, f"t-{territory.code}"), bars=bars,
                  title=title, desc=desc, at=at, perimeters=perimeters(), territory=territory, level=level, total=total,
                  scheme=None, counts=None)


def _bases(model: Model, scheme: Scheme) -> dict[str, str]:
    """Per member, where its dates come from: its own (the source's column) or its scheme's period (with its source)."""
    source = model.catalogue.member_source(scheme)
    out = {}
    for m in source.members:
        period = scheme.period_of(m if source is scheme else Member(code=m.code))
        sides = []
        for side, basis in (("début", period.start_basis), ("fin", period.end_basis)):
            if basis is Basis.MEMBER:
                sides.append(f"{side} : date du membre ({m.period_source or 'fichier du dispositif'})")
            elif basis is Basis.SCHEME:
                sides.append(f"{side} : période du dispositif")
            else:
                sides.append(f"{side} : non datée")
        out[m.code] = " ; ".join(sides)
    return out


def scheme_timeline(model: Model, scheme: Scheme, at: dt.date) -> str:
    """A scheme's members over time: a bar per member (up to :data:`MAX_MEMBER_BARS`), their number in force over
    2010 – 2030, and the table of members with their period and status at ``at``."""
    scale, members = model.catalogue.members(scheme)
    names = model.names(scale)
    in_scope = set(model.scales[scale]["code"])
    kept = [(c, r, a, b) for c, r, a, b in members if c in in_scope]
    basis = _bases(model, scheme)
    sym = mapspec.scheme_symbols({s.id: s.kind for s in model.catalogue.schemes.values()})[scheme.id]
    bars = [Bar(f"{names.get(c) or c} ({c})", role or "", a, b, status_text(a, b, at), sym.fill, sym.edge, _hatch(sym),
                {"id": c, "period": period_label(a, b), "line": period_label(a, b), "communes": None, "basis": basis.get(c)})
            for c, role, a, b in sorted(kept, key=lambda m: (m[2] or dt.date.min, names.get(m[0]) or m[0]))]
    title = f"Membres au fil du temps — {scheme.name}"
    starts = pd.Series([a for _, _, a, _ in kept], dtype=object)
    ends = pd.Series([b for _, _, _, b in kept], dtype=object)
    days = [dt.date(y, m, 1) for y in range(AXIS[0].year, AXIS[1].year + 1) for m in (1, 4, 7, 10)]
    counts = members_over_time(starts, ends, days) if kept else [0] * len(days)
    peak = max(max(counts), 1)
    points = [(round(x_of(d), 1), round(COUNTS_TOP + (CHART_HEIGHT - 20 - COUNTS_TOP) * (1 - n / peak), 1)) for d, n in zip(days, counts)]
    chart = {"points": " ".join(f"{x},{y}" for x, y in points), "peak": peak, "height": CHART_HEIGHT, "base": CHART_HEIGHT - 20, "top": COUNTS_TOP,
             "now": sum(in_force(a, b, at) for _, _, a, b in kept), "fill": sym.fill, "edge": sym.edge}
    shown = bars if len(bars) <= MAX_MEMBER_BARS else []
    desc = (f"{len(kept)} membres dans le périmètre, dont {chart['now']} en vigueur au {french_date(at)} ; "
            + ("une barre par membre" if shown else f"plus de {MAX_MEMBER_BARS} membres : leur nombre au fil du temps et le tableau")
            + ", trait rouge : aujourd'hui.")
    successors = [s for s in model.catalogue.schemes.values() if scheme.id in s.succeeds]
    return render("time/timeline.html", kind="scheme", svg=_svg_context(shown, at, title, desc, f"s-{scheme.id}"), bars=bars,
                  title=title, desc=desc, at=at, perimeters=perimeters(), territory=None, level=None, total=len(kept), scheme=scheme,
                  counts={**chart, "ticks": _ticks(), "marks": _marks(at, dt.date.today()), "width": WIDTH, "labels": LABELS,
                          "right": WIDTH - RIGHT},
                  earlier=[model.catalogue.schemes[i] for i in scheme.succeeds if i in model.catalogue.schemes], later=successors,
                  member_scale=scale)
