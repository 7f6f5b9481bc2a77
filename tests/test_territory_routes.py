"""A territory named by a request is resolved once, by one dependency, on every router: the same French 404 for an
unknown or a merged commune on /api, /maps, /tiles, /export, /static and /ogc, and an empty ``within=`` is the whole
scope."""
from __future__ import annotations

import html

import pytest

MERGED = "La commune 30157 n'existe plus : elle a fusionné dans la commune 30052 (Bréau-Mars) au COG 2026."
UNKNOWN = "99999 n'est pas un code de commune du COG 2026."
ROUTES = [
    "/api/communes/{t}",
    "/api/coverage?schemes=petites-villes-de-demain&within={t}",
    "/api/territories/commune?within={t}",
    "/api/schemes/toulouse-metropole/overlap/dialogue-metropolitain?within={t}",
    "/maps/scales?focus={t}",
    "/maps/coverage?schemes=petites-villes-de-demain&within={t}",
    "/tiles/commune,epci/8/129/93.pbf?within={t}",
    "/export/communes.gpkg?within={t}",
    "/export/communes/provenance?within={t}",
    "/static/scales.png?within={t}&size=400x300",
    "/ogc/collections/communes/items?within={t}",
    "/ogc/collections/communes/items/{t}",
    "/territoires/{t}",
    "/territoires/{t}/panneau",
    "/territoires/{t}/fiche.pdf",
    "/couverture?schemes=petites-villes-de-demain&within={t}",
]


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("territory, message", [("30157", MERGED), ("99999", UNKNOWN)], ids=["merged", "unknown"])
def test_the_same_french_404_everywhere(client, route: str, territory: str, message: str) -> None:
    r = client.get(route.format(t=territory))
    assert r.status_code == 404, r.text
    if route.startswith(("/maps", "/territoires", "/couverture")) and ".pdf" not in route:  # pages: a French page
        assert r.headers["content-type"].startswith("text/html") and '<html lang="fr">' in r.text
        assert f"<p>{message}</p>" in html.unescape(r.text)
    else:
        assert r.json() == {"detail": message}


def test_validated_before_a_304(client) -> None:
    """An unknown territory is a 404 even to a client that says it holds every version (If-None-Match: *)."""
    for route in ("/tiles/commune/8/129/93.pbf?within={t}", "/api/territories/epci?within={t}", "/maps/scales?focus={t}"):
        assert client.get(route.format(t="30157"), headers={"If-None-Match": "*"}).status_code == 404, route


@pytest.mark.parametrize("route", [
    "/api/coverage?schemes=toulouse-metropole&within=",
    "/api/territories/departement?simplify=3548&within=",
    "/maps/scales?focus=",
    "/maps/coverage?schemes=toulouse-metropole&within=",
    "/tiles/region/6/32/23.pbf?within=",
    "/export/departements.csv?within=",
    "/static/scales.png?size=400x300&within=",
    "/ogc/collections/departements/items?within=",
])
def test_an_empty_within_is_the_whole_scope(client, model, route: str) -> None:
    r = client.get(route)
    assert r.status_code == 200, r.text
    if route.startswith("/api/coverage"):
        assert r.json()["within"] is None and len(r.json()["gaps"]) + len(r.json()["communes"]) == len(model.scales["commune"])
    if route.startswith(("/api/territories", "/ogc")):
        assert len(r.json()["features"]) == 13


def test_one_territory_whatever_its_spelling(client, model) -> None:
    """'31' and 'departement:31' are one territory: the same features, and the same cached tile."""
    bare = client.get("/ogc/collections/communes/items", params={"within": "31", "limit": 1}).json()["numberMatched"]
    spelled = client.get("/ogc/collections/communes/items", params={"within": "departement:31", "limit": 1}).json()["numberMatched"]
    assert bare == spelled == len(model.territory("31").communes) == 586
    a = client.get("/tiles/commune/9/258/187.pbf", params={"within": "31"})
    b = client.get("/tiles/commune/9/258/187.pbf", params={"within": " departement:31"})
    assert a.status_code == b.status_code == 200 and a.content == b.content and a.headers["etag"] == b.headers["etag"]
    assert model.territory("departement:31") is not model.territory("31")  # memoised per text …
    assert model.territory("departement:31").key == model.territory("31").key  # … naming one territory


def model_of(client) -> object:
    """The model the app serves."""
    return client.app.state.holder.model


def test_each_text_resolved_once_per_model(client, monkeypatch) -> None:
    """A page and its tiles resolve their territory once: later requests are memo hits on the model."""
    from test_maps import config

    from geo.territory import TerritoryIndex

    calls: list[str] = []
    resolve = TerritoryIndex.resolve
    monkeypatch.setattr(TerritoryIndex, "resolve", lambda self, text: calls.append(text) or resolve(self, text))
    page = client.get("/maps/scales", params={"focus": "departement:46"})  # a text no other test resolves on this model
    assert page.status_code == 200
    template = config(page.text)["layers"][0]["tiles"]
    for z, x, y in ((8, 128, 93), (8, 129, 93), (9, 257, 186)):
        assert client.get(template.replace("{z}", str(z)).replace("{x}", str(x)).replace("{y}", str(y))).status_code in (200, 204)
    client.get("/api/territories/commune", params={"within": "departement:46"})
    assert len(calls) == len(set(calls))  # no text resolved twice (a page of another test may have resolved it first)
    seen = len(calls)
    for tile in ((8, 128, 93), (9, 257, 186)):
        client.get(template.replace("{z}", str(tile[0])).replace("{x}", str(tile[1])).replace("{y}", str(tile[2])))
    assert client.get("/maps/scales", params={"focus": "departement:46", "z": 9, "lat": 44.6, "lon": 1.6}).status_code == 200
    assert len(calls) == seen and model_of(client).territory("departement:46").code == "46"  # memo hits only
