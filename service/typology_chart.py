"""Coverage by typology class as an HTML component the territory and coverage pages embed (and /fragments serves):
per grid (density, centrality, rurality, montagne), a bar per class for the share of its communes covered, with its
text, and the same figures as a table."""
from __future__ import annotations

import datetime as dt

from geo import mapspec
from geo.model import Model
from geo.sources import perimeters
from geo.territory import Territory
from service.templating import render

WIDTH, LABELS, ROW, TOP, VALUES = 820, 330, 24, 8, 170


def typology_chart(model: Model, within: Territory | None, at: dt.date, ids: list[str] | None = None, clubs_apart: bool = False) -> str:
    """The component: every grid's classes with their covered share at ``at`` (by the schemes ``ids``, all when None)."""
    grids = model.by_typology(at, within, ids, clubs_apart)
    names = {i: model.catalogue.schemes[i].name for i in ids or ()}
    span = WIDTH - LABELS - VALUES
    charts = []
    for grid in grids:
        rows = [{**c, "y": TOP + i * ROW, "w": round(span * c["share"] / 100, 1)} for i, c in enumerate(grid["classes"])]
        charts.append({**grid, "rows": rows, "height": TOP + len(rows) * ROW + 6})
    where = within.nom if within else model.territories.scope.capitalize()
    counted = "les dispositifs choisis" if ids else "au moins un dispositif"
    return render("time/typologie.html", charts=charts, where=where, at=at, perimeters=perimeters(), ids=ids or [], names=names,
                  counted=counted, width=WIDTH, labels=LABELS, span=span, colours=mapspec.CHART,
                  axis=mapspec.TIMELINE["axis"], uid=f"ty-{within.code if within else 'all'}")
