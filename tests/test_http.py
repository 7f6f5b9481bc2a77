"""HTTP conformance on the real data: HEAD on every GET route, content codings by their q-values, validation before
any 304, links and redirects from the configured public base URL (never the Host header), /docs and /redoc with no
CDN, /assets serving only what the pages use, and the rate limit keyed on the socket address unless through a
trusted proxy, least recently seen clients forgotten first."""
from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from pathlib import Path

import pytest
from browser import browser_page
from fastapi.testclient import TestClient

from geo.config import Settings
from service.app import create_app
from service.http import accepts_gzip, codings
from service.limits import Limits, PolicyMiddleware, client_address
from service.vendor import MANIFEST, NODE_MODULES, css_references, wanted_files

BIN = Path(sys.executable).parent / "territoires"


@pytest.fixture(scope="module")
def app(settings: Settings):
    application = create_app(settings, limits=Limits(rate_per_second=0))
    with TestClient(application) as client:
        application.state.client = client
        yield application


@pytest.fixture()
def client(app) -> TestClient:
    return app.state.client


def example_url(path: str, operation: dict) -> str:
    """A URL of an OpenAPI GET operation: each path parameter and required query parameter from its first example."""
    query = []
    for param in operation.get("parameters", []):
        examples = param.get("examples") or {}
        value = next(iter(examples.values()))["value"] if examples else (param.get("schema", {}).get("enum") or [None])[0]
        if value is None and param["in"] == "path":
            value = param.get("schema", {}).get("default")
        if param["in"] == "path":
            assert value is not None, f"{path}: give the path parameter {param['name']} an example"
            path = path.replace("{" + param["name"] + "}", str(value))
        elif param.get("required"):
            assert value is not None, f"{path}: give the required parameter {param['name']} an example"
            query.append(f"{param['name']}={value}")
    return path + ("?" + "&".join(query) if query else "")


def every_get_url(app) -> list[str]:
    """One URL per GET route: the OpenAPI's operations, the documentation, and a file of each mount."""
    urls = [example_url(p, ops["get"]) for p, ops in app.openapi()["paths"].items() if "get" in ops]
    return urls + ["/openapi.json", "/docs", "/redoc", "/assets/" + MANIFEST["leaflet"], "/maps/static/layers.js"]


def test_head_answers_every_get_route_like_get_without_a_body(app, client: TestClient):
    urls = every_get_url(app)
    assert len(urls) > 25 and "/healthz" in urls
    for url in urls:
        got, head = client.get(url), client.head(url)
        assert head.status_code == got.status_code != 405, url
        assert head.content == b"", url
        same = {k: v for k, v in got.headers.items() if k not in ("date", "content-length")}
        assert {k: v for k, v in head.headers.items() if k not in ("date", "content-length")} == same, url
        if "content-length" in got.headers:
            assert head.headers["content-length"] == got.headers["content-length"], url


@pytest.mark.parametrize("header, gz", [
    ("gzip", True), ("GZIP;Q=0.5", True), ("br, *", True), ("deflate, gzip;q=0.1", True), ("x-gzip", True),
    ("gzip;q=0", False), ("gzip; q=0.000", False), ("*;q=0", False), ("identity", False), ("", False), ("br, gzip;q=0, *", False),
    ("*, gzip;q=0", False), ("gzip;q=abc", False), ("gzip;q=nan", False), ("br", False),
])
def test_accept_encoding_is_read_by_its_q_values(header: str, gz: bool):
    assert accepts_gzip(header) is gz
    assert codings("gzip;q=0.3, br") == {"gzip": 0.3, "br": 1.0}


@pytest.mark.parametrize("url", ["/api/schemes", "/openapi.json", "/maps/scales", "/tiles/commune,epci/8/129/93.pbf",
                                 "/export/epci.geojson?within=09", "/static/scales.svg?size=400x300", "/ogc/collections",
                                 "/assets/leaflet/dist/leaflet.js",
                                 "/api/territories/departement"])
def test_gzip_refused_by_q_zero_gets_an_identity_body(client: TestClient, url: str):
    plain = client.get(url, headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert plain.status_code == 200 and "content-encoding" not in plain.headers, url
    wanted = client.get(url, headers={"Accept-Encoding": "gzip"})
    if len(plain.content) > 1000:
        assert wanted.headers.get("content-encoding") == "gzip", url
    assert wanted.content == plain.content  # httpx decoded it: the same body


#: For every route that answers 304, a request with a bad parameter: it must be told so even with If-None-Match: *.
BAD = {
    "/api/communes/{code}": "/api/communes/99999",
    "/api/search": "/api/search?q=%20",
    "/api/schemes": None,
    "/api/schemes/{scheme_id}": "/api/schemes/nope",
    "/api/schemes/{a}/overlap/{b}": "/api/schemes/villages-d-avenir/overlap/nope",
    "/api/schemes/{scheme_id}/links": "/api/schemes/nope/links",
    "/api/coverage": "/api/coverage?schemes=villages-d-avenir&within=99999",
    "/api/territories/{level}": "/api/territories/commune?bbox=1,2,3",
    "/api/lookup": "/api/lookup?lon=999&lat=43",
    "/maps/scales": "/maps/scales?focus=99999",
    "/maps/schemes/{scheme_id}": "/maps/schemes/nope",
    "/maps/coverage": "/maps/coverage?schemes=nope",
    "/tiles/{level}/{z}/{x}/{y}.pbf": "/tiles/commune/2/9/1.pbf",
    "/static/{name}": "/static/scales.png?size=9000x9000",
    "/maps/changes": "/maps/changes?from=2020-13-01",
    "/api/changes": "/api/changes?from=2020-13-01",
    "/api/changes.csv": "/api/changes.csv?within=99999",
    "/api/typology": "/api/typology?within=99999",
    "/fragments/typologie": "/fragments/typologie?schemes=nope",
    "/fragments/chronologie/territoire/{code}": "/fragments/chronologie/territoire/99999",
    "/fragments/chronologie/dispositif/{scheme_id}": "/fragments/chronologie/dispositif/nope",
    "/": None,
    "/sources": None,
    "/recherche": "/recherche?q=" + "x" * 101,
    "/recherche/suggestions": "/recherche/suggestions?q=toulouse&pour=nope",
    "/territoires/{code}": "/territoires/99999",
    "/territoires/{code}/panneau": "/territoires/99999/panneau",
    "/territoires/{code}/fiche.pdf": "/territoires/99999/fiche.pdf",
    "/dispositifs/{scheme_id}": "/dispositifs/nope",
    "/couverture": "/couverture?schemes=nope",
    "/changements": "/changements?du=2020-13-01",
}


def test_no_bad_request_is_ever_a_304(app, client: TestClient):
    documented = {p for p, ops in app.openapi()["paths"].items() if "304" in ops.get("get", {}).get("responses", {})}
    assert documented <= set(BAD), f"add a bad request for {documented - set(BAD)}"
    tag = client.get("/api/schemes").headers["etag"]
    for template in documented:
        if BAD[template] is None:  # takes no parameter
            continue
        for match in ("*", tag):
            r = client.get(BAD[template], headers={"If-None-Match": match})
            assert r.status_code in (404, 422), (template, match, r.status_code)
    assert client.get("/api/schemes", headers={"If-None-Match": tag}).status_code == 304


# --- the public base URL ------------------------------------------------------------------------------------------

def ogc_links(client: TestClient, path: str = "/ogc/collections/epci/items?limit=2", **headers: str) -> list[str]:
    r = client.get(path, headers=headers)
    assert r.status_code == 200
    return re.findall(r'"href":\s*"([^"]+)"', r.text)


def test_links_and_redirects_come_from_the_base_url_never_the_host_header(settings: Settings):
    app = create_app(settings, limits=Limits(rate_per_second=0, base_url="https://territoires.example.org/carte/"))
    with TestClient(app) as client:
        links = ogc_links(client, "/carte/ogc/collections/epci/items?limit=2", host="evil.example", x_forwarded_host="evil.example")
        assert links and all(h.startswith("https://territoires.example.org/carte/ogc") for h in links), links
        assert any("offset=2" in h for h in links)
        landing = ogc_links(client, "/ogc", host="evil.example")  # a proxy that strips the prefix: the links keep it
        assert all(h.startswith("https://territoires.example.org/carte/") for h in landing)
        r = client.get("/carte/ogc/collections/", headers={"host": "evil.example"}, follow_redirects=False)
        assert r.status_code in (301, 307, 308) and r.headers["location"] == "https://territoires.example.org/carte/ogc/collections"
        assert "/carte/openapi.json" in client.get("/docs").text
        link = client.get("/carte/export/regions.csv?within=31", headers={"host": "evil.example"}).headers["link"]
        assert link.startswith("<https://territoires.example.org/carte/export/regions/provenance?within=31>")


def test_without_a_base_url_links_use_the_socket_address_not_the_host_header(client: TestClient):
    links = ogc_links(client, host="evil.example:666")
    assert links and all(h.startswith("http://testserver/ogc") for h in links), links
    r = client.get("/ogc/collections/", headers={"host": "evil.example"}, follow_redirects=False)
    assert "evil" not in r.headers.get("location", "")


@pytest.mark.parametrize("name, value, named", [("TERRITOIRES_BASE_URL", "territoires.example.org", "TERRITOIRES_BASE_URL"),
                                                 ("TERRITOIRES_BASE_URL", "ftp://x.example", "TERRITOIRES_BASE_URL"),
                                                 ("TERRITOIRES_TRUSTED_PROXIES", "127.0.0.1,proxy.local", "TERRITOIRES_TRUSTED_PROXIES")])
def test_a_setting_that_cannot_be_used_stops_serve_with_one_line(settings: Settings, name: str, value: str, named: str):
    env = {"TERRITOIRES_MIRROR": str(settings.mirror), "TERRITOIRES_CACHE": str(settings.cache), name: value, "PATH": "/usr/bin:/bin"}
    done = subprocess.run([str(BIN), "serve", "--port", "1"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert named in done.stderr and "Fix:" in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr


# --- documentation and assets ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def served(mirror: Path, cache_dir: Path):
    from browser import serve_app
    with serve_app("service.app:create_app", {"TERRITOIRES_MIRROR": str(mirror), "TERRITOIRES_CACHE": str(cache_dir)}) as url:
        yield url


@pytest.mark.parametrize("page, ready, shown", [("/docs", ".opblock-summary-path", "/api/lookup"),
                                                ("/redoc", "[data-section-id^='operation']", "Tout ce qui couvre un point")])
def test_the_api_documentation_renders_with_no_request_leaving_the_machine(served: str, artifacts: Path, page: str, ready: str, shown: str):
    with browser_page() as s:
        s.page.goto(served + page)
        s.page.wait_for_selector(ready, timeout=30_000)
        assert shown in s.page.inner_text("body")
        s.page.screenshot(path=str(artifacts / f"docs{page.replace('/', '-')}.png"))
        assert s.blocked == [] and s.page_errors == []


def test_assets_serve_the_files_the_pages_use_and_nothing_else(client: TestClient):
    files = set(wanted_files())
    for path in MANIFEST.values():
        assert path in files
    for css in (p for p in MANIFEST.values() if p.endswith(".css")):
        assert set(css_references(NODE_MODULES / css, NODE_MODULES)) <= files
    for path in sorted(files):
        assert client.get(f"/assets/{path}").status_code == 200, path
    others = ["leaflet/package.json", "leaflet/dist/leaflet-src.js", "leaflet/dist/leaflet.js.map", "redoc/bundles/redoc.standalone.js.map",
              "swagger-ui-dist/index.html", "swagger-ui-dist/package.json", "jquery/src/core.js", ".package-lock.json", "leaflet/dist/",
              "leaflet/dist/../package.json", "%2e%2e/%2e%2e/pyproject.toml"]
    for path in others:
        if (NODE_MODULES / path.split("%")[0]).exists() or "%" in path:
            assert client.get(f"/assets/{path}").status_code == 404, path


# --- the rate limit's clients ----------------------------------------------------------------------------------------

def scope(peer: str, forwarded: str | None = None) -> dict:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded is not None else []
    return {"type": "http", "client": (peer, 40000), "headers": headers, "method": "GET", "path": "/"}


@pytest.mark.parametrize("peer, forwarded, trusted, client", [
    ("203.0.113.5", "1.2.3.4", (), "203.0.113.5"),  # no proxy trusted: the socket
    ("203.0.113.5", "1.2.3.4", ("127.0.0.1",), "203.0.113.5"),  # a client writing the header itself
    ("127.0.0.1", "1.2.3.4", ("127.0.0.1",), "1.2.3.4"),
    ("127.0.0.1", "6.6.6.6, 1.2.3.4", ("127.0.0.1",), "1.2.3.4"),  # what the client wrote before the proxy's is not believed
    ("10.0.0.3", "1.2.3.4, 10.0.0.2", ("10.0.0.0/8",), "1.2.3.4"),  # two proxies of a trusted network
    ("::1", "2001:db8::7", ("::1",), "2001:db8::7"),
    ("127.0.0.1", "not-an-address", ("127.0.0.1",), "127.0.0.1"),
    ("127.0.0.1", None, ("127.0.0.1",), "127.0.0.1"),
])
def test_the_client_is_the_socket_unless_a_trusted_proxy_names_it(peer: str, forwarded: str | None, trusted: tuple, client: str):
    assert client_address(scope(peer, forwarded), Limits(trusted_proxies=trusted).proxies) == client


async def _status(middleware: PolicyMiddleware, sc: dict) -> int:
    sent = []

    async def receive():
        return {"type": "http.request", "body": b""}

    async def send(message):
        sent.append(message)
    await middleware(sc, receive, send)
    return next(m["status"] for m in sent if m["type"] == "http.response.start")


async def ok_app(scope, receive, send):
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b""})


def test_rate_limit_per_client_through_a_proxy_and_least_recently_seen_forgotten():
    asyncio.run(_rate_limits())


async def _rate_limits() -> None:
    limits = Limits(rate_per_second=0.001, rate_burst=2, max_clients=3, trusted_proxies=("127.0.0.1",))
    policy = PolicyMiddleware(ok_app, limits)
    # two people behind the proxy have a bucket each; one writing X-Forwarded-For itself is limited by its address
    assert [await _status(policy, scope("127.0.0.1", "1.1.1.1")) for _ in range(3)] == [200, 200, 429]
    assert await _status(policy, scope("127.0.0.1", "2.2.2.2")) == 200
    assert [await _status(policy, scope("203.0.113.9", f"9.9.9.{i}")) for i in range(3)] == [200, 200, 429]
    # 1.1.1.1 is limited; 2.2.2.2 and 203.0.113.9 were seen after it: one more client forgets it, and only it
    assert await _status(policy, scope("127.0.0.1", "1.1.1.1")) == 429
    assert await _status(policy, scope("127.0.0.1", "3.3.3.3")) == 200  # 4 clients, room for 3: 2.2.2.2, the least recent, goes
    assert await _status(policy, scope("203.0.113.9")) == 429  # the others keep their state
    assert await _status(policy, scope("127.0.0.1", "1.1.1.1")) == 429
    assert await _status(policy, scope("127.0.0.1", "2.2.2.2")) == 200  # forgotten: a full bucket again
