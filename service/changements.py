"""GET /changements?du=&au=&within=: what changed between two dates, as a page in the pages' layout (French): the two
dates and the territory in a form, the count of communes per class, the map, the table of the communes that changed,
the CSV."""
from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from geo import mapspec
from geo.changes import CLASSES, rows
from geo.periods import french_date
from service import schemas
from service.deps import ChangementsDep, ModelDep, ResponsesDep
from service.fragments import fragment
from service.links import territory_href
from service.maps.base import leaflet_style
from service.maps.changes import REPLACED, interval_text
from service.pages.views import site
from service.templating import render

router = APIRouter(tags=["pages"], default_response_class=HTMLResponse,
                   responses={**schemas.NOT_MODIFIED, 404: schemas.html_error("Territoire inconnu (page d'erreur en français)"),
                              422: schemas.html_error("Dates invalides ou dans le désordre (page d'erreur en français)")})
#: The table's headers as a person reads them (the CSV keeps geo/changes.py's), the two dates' columns apart.
HEADERS = {"code": "Code", "commune": "Commune", "changement": "Changement", "gagnés": "Gagnés", "perdus": "Perdus",
           "remplacés (génération suivante)": "Remplacés (génération suivante)", "population": "Population"}


@router.get("/changements", summary="Ce qui a changé entre deux dates (page)")
def changements(request: Request, model: ModelDep, responses: ResponsesDep, result: ChangementsDep) -> Response:
    """Les communes qui ont gagné ou perdu des dispositifs entre `du` et `au` (dans `within`, sinon tout le périmètre) :
    carte, tableau et CSV."""
    def build() -> str:
        names = {i: s.name for i, s in model.catalogue.schemes.items()}
        table = rows(result, names)
        changed = table[table["changement"] != mapspec.CHANGE_LABELS["unchanged"]]
        query = {"from": result.start.isoformat(), "to": result.end.isoformat(),
                 **({"within": result.within.param} if result.within else {})}
        summary = result.summary()
        classes = [{"id": c, "label": mapspec.CHANGE_LABELS[c], "style": leaflet_style(mapspec.CHANGE_SYMBOLS[c]), **summary[c]}
                   for c in CLASSES]
        days = {f"dispositifs au {d.isoformat()}": f"Dispositifs au {french_date(d)}" for d in (result.start, result.end)}
        headers = [HEADERS.get(c) or days[c] for c in changed.columns]
        title = "Ce qui a changé" + (f" — {result.within.nom}" if result.within else "")
        return render("time/changements.html", site=site(model), title=title, nav="changements", asked=None, dating=None,
                      result=result, interval=interval_text(result), classes=classes, columns=headers,
                      rows=changed.itertuples(index=False, name=None), changed=len(changed),
                      total=len(table), replaced=REPLACED, map_url="/maps/changes?" + urlencode({**query, "embed": 1}),
                      full_map="/maps/changes?" + urlencode(query), csv="/api/changes.csv?" + urlencode(query),
                      json="/api/changes?" + urlencode(query), within=result.within,
                      within_href=territory_href(result.within.level, result.within.code) if result.within else None)
    key = (result.start.isoformat(), result.end.isoformat(), result.within.key if result.within else "")
    return fragment(request, model, responses, key, build)
