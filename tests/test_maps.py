"""The map pages on the real data: every route, offline assets, permalink/embed/tiles options, escaping."""
from __future__ import annotations

import dataclasses
import json
import re
from urllib.parse import urlsplit

import pytest

from geo.catalogue import Catalogue
from geo.kinds import KINDS
from geo.model import Model, assemble
from service import downloads as offers

EVIL = "<img src=x onerror=alert(1)>"
MAPS = ["/maps/scales", "/maps/scales?focus=31", "/maps/scales?focus=243100518", "/maps/scales?focus=dialogue-metropolitain",
        "/maps/schemes/dialogue-metropolitain", "/maps/schemes/petites-villes-de-demain", "/maps/schemes/club-revitalisation",
        "/maps/coverage?schemes=petites-villes-de-demain,villages-d-avenir,action-coeur-de-ville&within=31"]
URL = re.compile(r"""https?://[^\s"'<>)\\]+""")


def config(html: str) -> dict:
    """The JSON configuration a page hands to territoires.js."""
    return json.loads(re.search(r"territoires\.init\([^,]+, (\{.*\})\);", html).group(1))


def base_map_hosts(client) -> set[str]:
    """The hosts of the base maps of the settings (their tile URLs and attributions): named in every page, asked for
    only once a base map is chosen."""
    tiles = client.app.state.map_settings.tiles.values()
    return {urlsplit(u).hostname for t in tiles for u in URL.findall(t.url + " " + t.attribution)}


@pytest.mark.parametrize("url", MAPS)
def test_map_pages_render_offline(client, url):
    r = client.get(url)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    assert 'src="/assets/leaflet/dist/leaflet.js"' in html and "/maps/static/layers.js" in html and "/maps/static/labels.js" in html
    assert not re.search(r"""<(script|link)[^>]+(src|href)=["']?(https?:)?//""", html)
    cfg = config(html)
    sources = {lyr["url"] for lyr in cfg["layers"] if "url" in lyr}
    # the only absolute URLs are a scheme's own source link in its legend, and the base maps of the settings
    allowed = {lyr["href"] for lyr in cfg["legend"].get("links", [])}
    found = {u for u in URL.findall(html) if u not in allowed | sources}
    assert {urlsplit(u).hostname for u in found} <= base_map_hosts(client), url
    assert not re.search(r"tile_layer_\w+\.addTo\(", html)  # none is on the map: nothing leaves the machine
    assert "coordinates" not in html  # polygons come from the API, not inlined


def test_scales_map_has_every_scale(client, model):
    cfg = config(client.get("/maps/scales").text)
    dolls = [lyr for lyr in cfg["layers"] if lyr["level"] == "edge"]
    assert [lyr["doll"] for lyr in dolls].count("grouping") == len(model.scales["grouping"]) == 3
    assert {lyr["id"] for lyr in dolls} == set(model.dolls.keys)  # each doll its own layer, drawn from the 'edge' tiles
    assert all(model.dolls.keys[lyr["bit"]] == lyr["id"] for lyr in dolls)  # its bit in the tiles' masks
    assert {lyr["level"] for lyr in cfg["layers"]} == {"commune", "quartier", "edge", "label"}
    labels = [i["label"] for i in cfg["legend"]["items"]]
    assert labels[0] == "Région Occitanie" and labels[-2:] == ["Quartiers prioritaires (2015)", "Communes"]
    assert len({(i["color"], i["weight"]) for i in cfg["legend"]["items"]}) == len(labels)  # each scale its own line
    html = client.get("/maps/scales").text
    for name in ("Agglomération toulousaine", "Dialogue métropolitain de Toulouse", "EPCI (intercommunalités)", "Départements"):
        assert name in html


def test_focus_shows_inside_and_above(client, model):
    cfg = config(client.get("/maps/scales?focus=243100518").text)
    assert all(lyr["within"] == "243100518" for lyr in cfg["layers"])
    (south, west), (north, east) = cfg["bounds"]
    assert west < 1.44 < east and south < 43.6 < north and east - west < 1
    r = client.get("/api/territories/commune", params={"within": "243100518"})
    assert len(r.json()["features"]) == 37
    small = config(client.get("/maps/scales?focus=31483").text)
    # Saint-Gaudens: only the groupings above it (its EPCI is in the Dialogue métropolitain)
    assert {lyr["codes"][0] for lyr in small["layers"] if lyr.get("doll") == "grouping"} == {"dialogue-metropolitain"}


def test_unknown_focus_and_scheme_are_404_in_french(client):
    r = client.get("/maps/scales?focus=30157")
    assert r.status_code == 404 and "30052" in r.text and "fusionné" in r.text
    r = client.get("/maps/schemes/inconnu")
    assert r.status_code == 404 and "inconnu" in r.text
    assert client.get("/maps/coverage?schemes=inconnu").status_code == 404


@pytest.mark.parametrize("url", ["/maps/scales?tiles=google", "/maps/scales?z=40&lat=43&lon=1", "/maps/scales?lat=95&lon=1&z=5",
                                 "/maps/scales?embed=peut-etre", "/maps/coverage?schemes=,,"])
def test_bad_map_parameters_are_422(client, url):
    r = client.get(url)
    assert r.status_code == 422 and "Requête invalide" in r.text and '<html lang="fr">' in r.text


@pytest.mark.parametrize("url, target", [("/maps/coverage", "/couverture"), ("/maps/coverage?schemes=", "/couverture"),
                                         ("/maps/coverage?within=31", "/couverture?within=31")])
def test_coverage_map_without_schemes_sends_to_the_builder(client, url, target):
    r = client.get(url, follow_redirects=False)
    assert r.status_code == 307 and r.headers["location"] == target
    page = client.get(url)
    assert page.status_code == 200 and "Construire une carte de couverture" in page.text


def test_scheme_map_legend(client):
    cfg = config(client.get("/maps/schemes/dialogue-metropolitain").text)
    notes = " ".join(cfg["legend"]["notes"])
    assert "Réseau, depuis le 8 avril 2013" in notes and "Le Journal Toulousain" in notes and "À jour au 8 avril 2013" in notes
    assert cfg["kinds"] == {k.id: k.label for k in KINDS.values()}  # the kind labels of geo/kinds.py, for the popups
    assert cfg["legend"]["links"][0]["href"].startswith("http://www.lejournaltoulousain.fr")
    members = next(lyr for lyr in cfg["layers"] if lyr["id"] == "members")
    assert members["level"] == "epci" and "243100518" in members["members"] and len(members["members"]) == 10
    assert any(lyr.get("url") == "/api/schemes/dialogue-metropolitain/links" for lyr in cfg["layers"])
    assert not any("url" in lyr for lyr in config(client.get("/maps/schemes/toulouse-metropole").text)["layers"])


def test_coverage_map_hatches_overlaps(client):
    html = client.get("/maps/coverage?schemes=toulouse-metropole,conseils-citoyens-contrat-de-ville&within=31&date=2016-06-01").text
    cfg = config(html)
    assert html.count("new L.StripePattern(") == 3 + 2  # the count classes 2 – 4, and a texture per scheme
    assert all(c["style"]["pattern"] for c in cfg["classes"] if c["count"] >= 2)
    assert cfg["coverage"] == "/api/coverage?schemes=toulouse-metropole%2Cconseils-citoyens-contrat-de-ville&within=31&date=2016-06-01"
    assert cfg["date"] == "2016-06-01" and cfg["legend"]["notes"][0] == "Situation au 1er juin 2016 — périmètres 2026"
    assert {lyr["id"] for lyr in cfg["layers"]} >= {"coverage", "gaps", "scheme:toulouse-metropole", "scheme:conseils-citoyens-contrat-de-ville"}
    textures = [lyr["style"] for lyr in cfg["layers"] if lyr["id"].startswith("scheme:")]
    assert textures[0]["hatch"]["angle"] != textures[1]["hatch"]["angle"] and textures[0]["fillColor"] != textures[1]["fillColor"]
    sections = {s["title"]: [i["label"] for i in s["items"]] for s in cfg["legend"]["sections"]}
    overlaps = sections["Qui se superpose où"]
    assert any(label.startswith("Toulouse Métropole + Conseils citoyens") for label in overlaps)
    assert any(label.startswith("Toulouse Métropole uniquement") for label in overlaps) and "Aucun (lacune)" in overlaps[-1]


def test_tiles_choice(client):
    """Every base map of the settings is in the layer control; only the one chosen (none by default) is on the map."""
    none = client.get("/maps/scales").text
    for label in ("Aucun (hors ligne)", "OpenStreetMap", "Plan IGN v2", "Photographies aériennes (IGN)"):
        assert json.dumps(label)[1:-1] in none  # the layer tree's labels, as folium writes them
    assert "https://tile.openstreetmap.org/{z}/{x}/{y}.png" in none and "ORTHOIMAGERY.ORTHOPHOTOS" in none
    assert not re.search(r"tile_layer_\w+\.addTo\(", none)
    for choice, needle in (("osm", "tile.openstreetmap.org"), ("ign", "PLANIGNV2"), ("ign-ortho", "ORTHOIMAGERY")):
        page = client.get(f"/maps/scales?tiles={choice}").text
        added = re.findall(r"(tile_layer_\w+)\.addTo\(", page)
        assert len(added) == 1, choice
        assert needle in page[page.index(f"var {added[0]} = L.tileLayer("):][:400], choice


def test_permalink_and_embed(client):
    html = client.get("/maps/scales?lat=43.53&lon=1.53&z=12").text
    assert "[43.53, 1.53]" in html and '"zoom": 12' in html and "fitBounds" not in html
    full, embed = config(client.get("/maps/scales").text), config(client.get("/maps/scales?embed=1").text)
    assert full["embed"] is False and embed["embed"] is True
    assert "L.control.fullscreen" not in client.get("/maps/scales?embed=1").text
    assert "L.control.fullscreen" in client.get("/maps/scales").text


def test_pages_have_etag_and_304(client):
    r = client.get("/maps/scales", headers={"Accept-Encoding": "gzip"})
    assert r.headers["content-encoding"] == "gzip" and r.headers["etag"]
    assert client.get("/maps/scales", headers={"If-None-Match": r.headers["etag"]}).status_code == 304


def test_own_static_files_served(client):
    for path in ("/maps/static/layers.js", "/maps/static/controls.js", "/maps/static/territoires.css", "/assets/leaflet/dist/leaflet.js"):
        assert client.get(path).status_code == 200, path


@pytest.fixture(scope="module")
def hostile(settings, model: Model):
    """The service on a model where a commune and a scheme are named with HTML."""
    from fastapi.testclient import TestClient

    from service.app import create_app

    communes = model.scales["commune"].copy()
    communes.loc[communes["code"] == "31555", "nom"] = EVIL
    territories = dataclasses.replace(model.territories, scales={**model.territories.scales, "commune": communes})
    scheme = dataclasses.replace(model.catalogue.schemes["toulouse-metropole"], id="hostile", name=EVIL,
                                 source={"title": EVIL, "url": "javascript:alert(1)"})
    catalogue = Catalogue({**model.catalogue.schemes, "hostile": scheme})
    app = create_app(settings)
    app.state.holder.model = assemble(settings, territories, catalogue)
    app.state.holder.interval = float("inf")  # keep this model: never follow the published version
    with TestClient(app) as test_client:
        yield test_client


def test_data_text_is_escaped(hostile):
    for url in ("/maps/schemes/hostile", "/maps/scales?focus=31555", "/maps/coverage?schemes=hostile"):
        html = hostile.get(url).text
        assert EVIL not in html, url
        assert "<img" not in html, url
    assert hostile.get("/api/communes/31555").json()["commune"]["nom"] == EVIL  # JSON keeps the text as it is
    assert hostile.get("/api/search", params={"q": "31555"}).json()[0]["nom"] == EVIL


def test_the_warmed_scales_page_is_the_routes_page(client):
    """/maps/scales is rendered at start (service/warmup.py) into the memo the route reads: that page offers the downloads
    the route offers (it was rendered without them, so the first page had no « Télécharger »)."""
    warmed = config(client.get("/maps/scales").text)
    assert [d["href"] for d in warmed["downloads"]] == [d.href for d in offers.scales(None)] and warmed["downloads"]
