"""OGC API – Features at /ogc: GDAL's own client (ogrinfo, ogr2ogr) lists and pages every collection from a
real uvicorn server; conformance, paging, filters, CRS and bad input through the test client."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pyogrio
import pytest
from browser import serve_app
from fastapi.testclient import TestClient

from geo.exports import build_layer, layer_specs
from geo.model import Model
from service.app import create_app
from service.limits import Limits
from service.ogc import CONFORMANCE

MAX_LIMIT = Limits().max_page  # TERRITOIRES_MAX_PAGE, as the servers below read it


def _gdal(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.fail(f"{tool} not found: install GDAL's command-line tools (make system: apt-get install -y gdal-bin)")
    return path


@pytest.fixture(scope="module")
def server(mirror: Path, cache_dir: Path) -> str:
    with serve_app("service.app:create_app", {"TERRITOIRES_MIRROR": str(mirror), "TERRITOIRES_CACHE": str(cache_dir),
                                              "TERRITOIRES_SCOPE": "occitanie"}) as base_url:
        yield base_url


@pytest.mark.gdal
def test_ogrinfo_lists_every_collection(server: str, model: Model) -> None:
    out = subprocess.run([_gdal("ogrinfo"), "-ro", "-q", f"OAPIF:{server}/ogc"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    listed = [line.split(": ", 1)[1].split(" ")[0] for line in out.stdout.splitlines() if ": " in line]
    assert listed == list(layer_specs(model))


@pytest.mark.gdal
@pytest.mark.parametrize("collection, page_size", [("communes", None), ("coverage", 5000), ("scheme-petites-villes-de-demain", 50)])
def test_ogr2ogr_copies_a_whole_collection_by_paging(server: str, model: Model, tmp_path: Path, collection: str,
                                                     page_size: int | None) -> None:
    """GDAL pages with its default limit, or asks for more than the server's maximum and follows the next links."""
    target = tmp_path / f"{collection}.gpkg"
    options = ["-oo", f"PAGE_SIZE={page_size}"] if page_size else []
    out = subprocess.run([_gdal("ogr2ogr"), "-f", "GPKG", str(target), f"OAPIF:{server}/ogc", collection, *options],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    copied = pyogrio.read_dataframe(target)
    source = build_layer(model, collection).frame
    assert len(copied) == len(source) and sorted(copied["code"]) == sorted(source["code"])
    if collection == "communes":
        assert len(source) > MAX_LIMIT  # more than one page at the maximum, and ~450 at GDAL's default of 10


@pytest.fixture(scope="module")
def client(settings) -> TestClient:
    with TestClient(create_app(settings)) as c:
        yield c


def test_landing_conformance_and_collections(client: TestClient, model: Model) -> None:
    landing = client.get("/ogc", params={"f": "json"}).json()
    rels = {link["rel"] for link in landing["links"]}
    assert {"self", "service-desc", "conformance", "data"} <= rels
    assert client.get("/ogc/conformance").json()["conformsTo"] == CONFORMANCE
    collections = client.get("/ogc/collections").json()["collections"]
    assert [c["id"] for c in collections] == list(layer_specs(model))
    communes = collections[0]
    assert communes["extent"]["spatial"]["bbox"][0][0] < 0 < communes["extent"]["spatial"]["bbox"][0][2]
    assert {"items", "self", "enclosure"} <= {link["rel"] for link in communes["links"]}
    assert client.get("/openapi.json").json()["paths"]["/ogc/collections/{collection_id}/items"]


def test_items_paging_beyond_the_limit(client: TestClient, model: Model) -> None:
    total = len(model.scales["commune"])
    page = client.get("/ogc/collections/communes/items", params={"limit": 100000})
    body = page.json()
    assert page.headers["content-type"] == "application/geo+json"
    assert body["numberMatched"] == total and body["numberReturned"] == MAX_LIMIT == len(body["features"])
    nxt = next(link["href"] for link in body["links"] if link["rel"] == "next")
    assert f"limit={MAX_LIMIT}" in nxt and f"offset={MAX_LIMIT}" in nxt
    seen, url = [], "/ogc/collections/communes/items?limit=1000"
    while url:
        body = client.get(url).json()
        seen += [f["id"] for f in body["features"]]
        url = next((link["href"] for link in body["links"] if link["rel"] == "next"), None)
    assert len(seen) == len(set(seen)) == total


def test_items_filters_bbox_and_crs(client: TestClient, model: Model) -> None:
    com = model.scales["commune"]
    body = client.get("/ogc/collections/communes/items", params={"departement": "09,31", "limit": 10}).json()
    assert body["numberMatched"] == int(com["departement"].isin(["09", "31"]).sum())
    body = client.get("/ogc/collections/communes/items", params={"code": "31555"}).json()
    assert [f["properties"]["nom"] for f in body["features"]] == ["Toulouse"] and body["features"][0]["id"] == "31555"
    toulouse = client.get("/ogc/collections/communes/items", params={"bbox": "1.43,43.59,1.45,43.61"}).json()
    assert "31555" in [f["id"] for f in toulouse["features"]] and toulouse["numberMatched"] < 10
    lambert = client.get("/ogc/collections/communes/items", params={
        "bbox": "572000,6277000,574000,6279000", "bbox-crs": "http://www.opengis.net/def/crs/EPSG/0/2154",
        "crs": "http://www.opengis.net/def/crs/EPSG/0/2154"})
    assert lambert.headers["content-crs"] == "<http://www.opengis.net/def/crs/EPSG/0/2154>"
    feature = next(f for f in lambert.json()["features"] if f["id"] == "31555")
    assert 500_000 < feature["geometry"]["coordinates"][0][0][0] < 600_000
    latlon = client.get("/ogc/collections/communes/items/31555", params={"crs": "http://www.opengis.net/def/crs/EPSG/0/4326"}).json()
    assert 43 < latlon["geometry"]["coordinates"][0][0][0] < 44  # EPSG:4326 is latitude first


def test_datetime_filters_members_by_period(client: TestClient, model: Model) -> None:
    url = "/ogc/collections/scheme-contrats-de-ville-2015-2020/items"
    members = client.get(url, params={"limit": 1000}).json()["numberMatched"]
    assert members > 0
    assert client.get(url, params={"datetime": "2018-06-01"}).json()["numberMatched"] == members
    assert client.get(url, params={"datetime": "2021-01-01/.."}).json()["numberMatched"] == 0
    assert client.get(url, params={"datetime": "../2015-01-01T00:00:00Z"}).json()["numberMatched"] == members
    assert client.get("/ogc/collections/communes/items", params={"datetime": "2020-01-01"}).json()["numberMatched"] == len(
        model.scales["commune"])  # undated features are not filtered out


def test_html_views(client: TestClient) -> None:
    for url in ("/ogc", "/ogc/collections", "/ogc/collections/epci", "/ogc/collections/epci/items?limit=3",
                "/ogc/collections/communes/items/31555"):
        r = client.get(url, headers={"Accept": "text/html"})
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html"), url
    assert "Toulouse" in client.get("/ogc/collections/communes/items/31555?f=html").text


@pytest.mark.parametrize("url, status, accepted", [
    ("/ogc/collections/communes/items?bbox=1,2,3", 422, "quatre nombres"),
    ("/ogc/collections/communes/items?bbox=a,b,c,d", 422, "quatre nombres"),
    ("/ogc/collections/communes/items?crs=EPSG:3857", 422, "EPSG/0/2154"),
    ("/ogc/collections/communes/items?nom=Toulouse", 422, "departement"),
    ("/ogc/collections/communes/items?f=xml", 422, "json ou html"),
    ("/ogc/collections/communes/items?datetime=yesterday", 422, "RFC 3339"),
    ("/ogc/collections/nope/items", 404, "communes"),
    ("/ogc/collections/communes/items/99999", 404, "99999"),
])
def test_bad_input(client: TestClient, url: str, status: int, accepted: str) -> None:
    r = client.get(url)
    assert r.status_code == status and accepted in r.json()["detail"]
