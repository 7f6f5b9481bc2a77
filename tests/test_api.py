"""The JSON API on the real data: every route, its errors in French, and HTTP caching."""
from __future__ import annotations

import datetime as dt
import gzip
import json

import pytest


def test_commune_stack_same_as_cli(client, model):
    r = client.get("/api/communes/31555")
    assert r.status_code == 200
    body = r.json()
    assert body["epci"]["code"] == "243100518"
    assert body["commune"]["nom"] == "Toulouse"
    assert json.loads(json.dumps(model.stack("31555", dt.date.today()), default=str)) == body
    assert {"agglomeration-toulousaine", "dialogue-metropolitain"} <= {g["id"] for g in body["groupings"]}


def test_merged_commune_names_its_successor(client):
    r = client.get("/api/communes/30157")
    assert r.status_code == 404
    assert "30157" in r.json()["detail"] and "30052" in r.json()["detail"]
    assert "fusionné" in r.json()["detail"]


def test_unknown_commune_is_404_in_french(client):
    r = client.get("/api/communes/99999")
    assert r.status_code == 404
    assert "99999" in r.json()["detail"] and "COG 2026" in r.json()["detail"]


def test_lookup_point_and_outside(client):
    r = client.get("/api/lookup", params={"lon": 1.4442, "lat": 43.6047})
    assert r.status_code == 200 and r.json()["commune"]["code"] == "31555"
    assert r.json()["lon"] == 1.4442
    sea = client.get("/api/lookup", params={"lon": 4.0, "lat": 42.0}).json()
    assert sea["commune"] is None and sea["message"]


@pytest.mark.parametrize("params", [{"lon": 181, "lat": 43}, {"lon": 1, "lat": -91}, {"lon": "abc", "lat": 43}, {"lon": 1}])
def test_lookup_bad_coordinates_are_422(client, params):
    r = client.get("/api/lookup", params=params)
    assert r.status_code == 422
    assert r.json()["detail"].startswith("Requête invalide")


@pytest.mark.parametrize("q, code, nom", [
    ("st gaudens", "31483", "Saint-Gaudens"),
    ("Saint-Gaudens", "31483", "Saint-Gaudens"),
    ("labege", "31254", "Labège"),
    ("LABÈGE", "31254", "Labège"),
    ("l isle jourdain", "32160", "L'Isle-Jourdain"),
    ("31555", "31555", "Toulouse"),
    ("243100518", "243100518", "Toulouse Métropole"),
])
def test_search_finds(client, q, code, nom):
    hits = client.get("/api/search", params={"q": q}).json()
    assert hits[0]["code"] == code and hits[0]["nom"] == nom
    x0, y0, x1, y1 = hits[0]["bbox"]
    assert x0 < x1 and y0 < y1


def test_search_ranking_and_level(client):
    hits = client.get("/api/search", params={"q": "toulouse"}).json()
    assert hits[0]["code"] == "31555"  # exact name first, then by population
    epci = client.get("/api/search", params={"q": "toulouse", "level": "epci"}).json()
    assert epci and all(h["level"] == "epci" for h in epci)
    assert client.get("/api/search", params={"q": "31", "limit": 3}).json()[0]["level"] == "departement"


@pytest.mark.parametrize("params", [{"q": ""}, {"q": "x" * 500}, {"q": "   "}, {"q": "toulouse", "level": "canton"}, {}])
def test_search_bad_input_is_422(client, params):
    r = client.get("/api/search", params=params)
    assert r.status_code == 422
    assert "Requête invalide" in r.json()["detail"]


def test_schemes_list_and_detail(client, model):
    listing = client.get("/api/schemes").json()
    assert {s["id"] for s in listing} == set(model.catalogue.schemes)
    detail = client.get("/api/schemes/dialogue-metropolitain").json()
    assert detail["kind"] == "network" and detail["start"] == "2013-04-08"
    assert detail["source"]["url"].startswith("http")
    assert any(m["code"] == "243100518" and m["role"] == "pilote" for m in detail["members"])
    assert "31555" in detail["communes"]
    assert detail["coverage"]["communes"] == len(detail["communes"])
    assert detail["coverage"]["population"] > 1_000_000


def test_club_lists_its_networks_members(client):
    club = client.get("/api/schemes/club-revitalisation").json()
    network = client.get("/api/schemes/dialogue-metropolitain").json()
    assert {m["code"] for m in club["members"]} == {m["code"] for m in network["members"]}


def test_unknown_scheme_is_404(client):
    for url in ("/api/schemes/nope", "/api/schemes/nope/overlap/toulouse-metropole", "/api/coverage?schemes=nope"):
        r = client.get(url)
        assert r.status_code == 404 and "nope" in r.json()["detail"], url


def test_overlap(client):
    r = client.get("/api/schemes/toulouse-metropole/overlap/conseils-citoyens-contrat-de-ville", params={"date": "2016-06-01"}).json()
    assert set(r["both"]["communes"]) == {"31555", "31069", "31149", "31157"}
    assert r["only_b"]["communes"] == 0 and r["only_a"]["communes"] == 33
    within = client.get("/api/schemes/toulouse-metropole/overlap/dialogue-metropolitain", params={"within": "31555"}).json()
    assert within["both"]["communes"] == ["31555"]
    assert client.get("/api/schemes/toulouse-metropole/overlap/dialogue-metropolitain", params={"within": "30157"}).status_code == 404


def test_network_links(client):
    links = client.get("/api/schemes/dialogue-metropolitain/links").json()
    assert len(links["features"]) == 9 and all(f["properties"]["from"] == "243100518" for f in links["features"])
    pair = client.get("/api/schemes/partenariat-toulouse-montpellier/links").json()
    assert len(pair["features"]) == 1
    assert client.get("/api/schemes/toulouse-metropole/links").json()["features"] == []


def test_coverage_counts_and_gaps(client, model):
    r = client.get("/api/coverage", params={"schemes": "toulouse-metropole,conseils-citoyens-contrat-de-ville", "within": "243100518",
                                            "date": "2016-06-01"})
    body = r.json()
    assert body["gaps"] == []
    assert body["communes"]["31555"] == ["toulouse-metropole", "conseils-citoyens-contrat-de-ville"]
    assert body["counts"] == {"1": 33, "2": 4}
    dep = client.get("/api/coverage", params={"schemes": "toulouse-metropole", "within": "31"}).json()
    assert len(dep["gaps"]) == len(model.territory("31").communes) - 37
    assert client.get("/api/coverage", params={"schemes": ",".join(["toulouse-metropole"] * 3 + [f"x{i}" for i in range(33)])}).status_code == 422
    programmes = [s.id for s in model.catalogue.schemes.values() if s.kind == "programme"]  # every programme at once: a planner's question
    assert len(programmes) > 8 and client.get("/api/coverage", params={"schemes": ",".join(programmes), "within": "31"}).status_code == 200


def test_territories_geojson(client, model):
    r = client.get("/api/territories/commune", params={"within": "243100518", "simplify": 100})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/geo+json")
    assert r.headers["x-simplify-tolerance"] == "55"
    fc = r.json()
    assert fc["type"] == "FeatureCollection" and len(fc["features"]) == 37
    assert {"code", "nom"} <= set(fc["features"][0]["properties"])
    coords = json.dumps(fc["features"][0]["geometry"]["coordinates"])
    assert max(len(n.split(".")[1]) for n in coords.replace("[", "").replace("]", "").split(",") if "." in n) <= 5
    above = client.get("/api/territories/departement", params={"within": "31555"}).json()
    assert [f["properties"]["code"] for f in above["features"]] == ["31"]
    groupings = client.get("/api/territories/grouping", params={"within": "31555"}).json()
    assert len(groupings["features"]) == 3
    box = client.get("/api/territories/commune", params={"bbox": "1.40,43.55,1.50,43.65", "simplify": 500}).json()
    assert "31555" in {f["id"] for f in box["features"]} and len(box["features"]) < 100


@pytest.mark.parametrize("url", ["/api/territories/canton", "/api/territories/commune?simplify=-1",
                                 "/api/territories/commune?bbox=1,2,3", "/api/territories/commune?bbox=10,50,0,40"])
def test_territories_bad_input_is_422(client, url):
    r = client.get(url)
    assert r.status_code == 422 and "Requête invalide" in r.json()["detail"]


def test_territories_unknown_within_is_404(client):
    r = client.get("/api/territories/commune", params={"within": "30157"})
    assert r.status_code == 404 and "30052" in r.json()["detail"]


def test_shared_edges_survive_simplification(model):
    """Neighbouring communes keep one shared edge after simplification: no gaps or overlaps (slivers)."""
    import shapely

    for tolerance in (443, 1774):
        geoms = model.simplified.get("commune", tolerance).geometry.to_numpy()
        assert shapely.get_num_coordinates(geoms).sum() < shapely.get_num_coordinates(model.scales["commune"].geometry.to_numpy()).sum()
        # the union of the simplified communes has no interior holes that the original union lacks
        assert len(shapely.get_parts(shapely.coverage_union_all(geoms))) == len(shapely.get_parts(
            shapely.coverage_union_all(model.scales["commune"].geometry.to_numpy())))
    assert model.simplified.get("commune", 443) is model.simplified.get("commune", 443)


def test_gzip_etag_and_304(client, model):
    r = client.get("/api/territories/epci", params={"simplify": 887}, headers={"Accept-Encoding": "gzip"})
    assert r.headers["content-encoding"] == "gzip"
    assert model.version in r.headers["etag"]
    assert len(r.json()["features"]) == len(model.scales["epci"])
    again = client.get("/api/territories/epci", params={"simplify": 887}, headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    stale = client.get("/api/territories/epci", params={"simplify": 887}, headers={"If-None-Match": 'W/"old"'})
    assert stale.status_code == 200
    stack = client.get("/api/communes/31555", headers={"Accept-Encoding": "gzip"})
    assert stack.headers["content-encoding"] == "gzip"
    assert client.get("/api/communes/31555", headers={"If-None-Match": stack.headers["etag"]}).status_code == 304
    raw = client.get("/api/territories/epci", params={"simplify": 887}, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in raw.headers and len(gzip.compress(raw.content)) < len(raw.content)


def test_openapi_documents_every_route(client):
    paths = client.get("/openapi.json").json()["paths"]
    for route in ("/api/lookup", "/api/communes/{code}", "/api/search", "/api/schemes", "/api/schemes/{scheme_id}",
                  "/api/schemes/{a}/overlap/{b}", "/api/territories/{level}", "/api/coverage", "/maps/scales",
                  "/maps/schemes/{scheme_id}", "/maps/coverage"):
        assert route in paths, route
    assert paths["/api/communes/{code}"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]


def test_policy_headers_and_rate_limit(client):
    """Every response carries the embed policy; a client over its rate gets 429 with Retry-After."""
    from fastapi.testclient import TestClient

    from service.limits import Limits, PolicyMiddleware

    r = client.get("/healthz")
    assert r.headers["content-security-policy"].startswith("frame-ancestors") and r.headers["x-content-type-options"] == "nosniff"
    tight = PolicyMiddleware(client.app, Limits(rate_per_second=0.001, rate_burst=3))
    with TestClient(tight) as c:
        codes = [c.get("/healthz").status_code for _ in range(5)]
    assert codes[:3] == [200, 200, 200] and codes[3:] == [429, 429]
