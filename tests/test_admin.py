"""The /admin page's security and its publication path, on the real data (TestClient): every route and method
answers 401 without a credential and 404 when no credential is configured (the routes are enumerated from the app, so
a new one cannot escape); forms need their session's token (403); failed logins are limited (429); uploads are bounded
(413); a failed validation publishes nothing; a published list is served with its source, escaped, and rolled back.
"""
from __future__ import annotations

import html
import io
import re
from dataclasses import replace
from pathlib import Path

import openpyxl
import pytest
from argon2 import PasswordHasher
from datamirror import seeded_cache
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from geo import memberstore
from geo.config import Settings
from geo.versions import publish
from service.admin.settings import AdminSettings
from service.app import create_app

PASSWORD = "une phrase de passe de test assez longue"
HASH = PasswordHasher().hash(PASSWORD)
SCHEME = "contrats-territoriaux-occitanie"
SRC = "Fixture de tests/test_admin.py https://example.org/fixture"
HEADER = "code;dispositif;role;debut;fin;source;note\r\n"


@pytest.fixture(scope="module")
def deployment(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    root = tmp_path_factory.mktemp("admin")
    s = Settings(mirror=settings.mirror, cache=seeded_cache(settings, root / "cache"), data_dir=root / "data")
    publish(s)
    return s


def _admin(**values) -> AdminSettings:
    base = {"password_hash": None, "proxy_header": None, "proxy_addresses": ("127.0.0.1",), "secret": "secret de test",
            "max_upload_bytes": 1024 * 1024, "session_seconds": 3600, "login_per_client": 5, "login_global": 50}
    return AdminSettings(**{**base, **values})


@pytest.fixture(scope="module")
def app(deployment: Settings):
    return create_app(deployment, admin=_admin(password_hash=HASH, proxy_header="X-Remote-User"))


@pytest.fixture(scope="module")
def client(app):
    with TestClient(app, follow_redirects=False) as c:
        yield c


def admin_routes(app) -> list[tuple[str, str]]:
    """(method, path with its parameters filled) of every route of the app under /admin."""
    out = []
    for route in iter_route_contexts(app.routes):  # every route, those of included routers too
        path = getattr(route, "path", "") or ""
        if path.startswith("/admin"):
            out += [(m, path.replace("{token}", "A" * 24).replace("{number}", "1")) for m in sorted((route.methods or set()) - {"HEAD"})]
    return out


def test_the_admin_routes_are_enumerated(app):
    routes = admin_routes(app)
    assert ("GET", "/admin") in routes and ("POST", "/admin/televersement") in routes and ("POST", "/admin/versions/1/retablir") in routes
    assert len(routes) >= 9


def test_every_admin_route_and_method_answers_401_without_credentials(app, client: TestClient):
    for method, path in admin_routes(app):
        for cookies, headers in (({}, {}), ({"territoires_admin": "eyJ3aG8iOiJ4In0.forged.sig"}, {}),
                                 ({}, {"X-Remote-User": "intrus"})):  # the proxy header from an address that is not the proxy's
            client.cookies.clear()
            response = client.request(method, path, cookies=cookies, headers=headers, data={"csrf": "x"})
            assert response.status_code == 401, (method, path, cookies, headers, response.status_code)
            assert "Connexion à l'administration" in html.unescape(response.text) and response.headers["cache-control"] == "no-store"


def test_the_admin_is_absent_when_no_credential_is_configured(app, deployment: Settings):
    with TestClient(create_app(deployment, admin=_admin()), follow_redirects=False) as off:
        for method, path in admin_routes(app) + [("GET", "/admin/")]:
            assert off.request(method, path).status_code == 404, (method, path)
        assert off.get("/api/versions").status_code == 200  # the public list of versions stays


def test_a_trusted_proxy_identity_lets_in_and_is_recorded(app):
    with TestClient(app, client=("127.0.0.1", 50000), follow_redirects=False) as proxied:
        response = proxied.get("/admin", headers={"X-Remote-User": "c.dupont@example.org"})
        assert response.status_code == 200 and "c.dupont@example.org" in response.text and "(mandataire)" in response.text
        assert proxied.get("/admin").status_code == 401  # the proxy did not authenticate: no identity header


def _login(client: TestClient, password: str = PASSWORD, name: str = "Testeur") -> object:
    page = client.get("/admin")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    return client.post("/admin/connexion", data={"csrf": token, "nom": name, "motdepasse": password, "next": "/admin"})


def _token(client: TestClient, path: str = "/admin") -> str:
    return re.search(r'name="csrf" value="([^"]+)"', client.get(path).text).group(1)


def test_login_needs_the_form_token_and_sets_strict_cookies(client: TestClient):
    client.cookies.clear()
    assert client.post("/admin/connexion", data={"csrf": "x", "nom": "A", "motdepasse": PASSWORD}).status_code == 401
    response = _login(client)
    assert response.status_code == 303 and response.headers["location"] == "/admin"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/admin" in cookie
    assert client.get("/admin").status_code == 200


def test_forms_without_the_session_token_are_refused_403(client: TestClient, deployment: Settings):
    client.cookies.clear()
    _login(client)
    before = memberstore.in_service(deployment)
    for path in ("/admin/versions/0/retablir", "/admin/deconnexion"):
        assert client.post(path, data={}).status_code == 403
        assert client.post(path, data={"csrf": "forged"}).status_code == 403
    other = TestClient(client.app, follow_redirects=False)
    other_token = re.search(r'name="csrf" value="([^"]+)"', other.get("/admin").text).group(1)  # a login form's token
    response = client.post("/admin/versions/0/retablir", data={"csrf": other_token})
    assert response.status_code == 403 and "Formulaire refusé" in response.text
    assert memberstore.in_service(deployment) == before


def test_failed_logins_are_limited_per_client_and_overall(deployment: Settings, tmp_path: Path):
    s = replace(deployment, data_dir=tmp_path / "data")
    app = create_app(s, admin=_admin(password_hash=HASH, login_per_client=3, login_global=5))
    with TestClient(app, client=("192.0.2.1", 1), follow_redirects=False) as first, \
         TestClient(app, client=("192.0.2.2", 1), follow_redirects=False) as second:
        assert [_login(first, "faux").status_code for _ in range(3)] == [401, 401, 401]
        refused = _login(first, PASSWORD)  # even the right password: the client waits
        assert refused.status_code == 429 and "Trop de tentatives de connexion : réessayez dans 15 minutes." in refused.text
        assert 0 < int(refused.headers["retry-after"]) <= 900
        assert [_login(second, "faux").status_code for _ in range(2)] == [401, 401]
        assert _login(second, PASSWORD).status_code == 429  # 5 failures overall


def test_uploads_over_the_limit_are_refused_413_before_they_are_read(deployment: Settings):
    app = create_app(deployment, admin=_admin(password_hash=HASH, max_upload_bytes=4096))
    with TestClient(app, follow_redirects=False) as c:
        _login(c)
        token = _token(c)
        big = HEADER + "".join(f"31555;{SCHEME};;;;{SRC};{'x' * 100}\r\n" for _ in range(100))
        response = c.post("/admin/televersement", data={"csrf": token}, files={"fichier": ("grand.csv", big.encode())})
        assert response.status_code == 413 and "Fichier trop volumineux" in response.text
        response = c.post("/admin/connexion", content=b"x" * 5000, headers={"content-type": "application/x-www-form-urlencoded"})
        assert response.status_code == 413  # before any credential is looked at: the body is never read


def _xlsx(rows: list[list]) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _upload(client: TestClient, name: str, data: bytes, scheme: str = "") -> object:
    response = client.post("/admin/televersement", data={"csrf": _token(client), "dispositif": scheme}, files={"fichier": (name, data)})
    assert response.status_code == 303, response.text[:500]
    return client.get(response.headers["location"])


HOSTILE = [
    ("macros (.xlsm)", "liste.xlsm", _xlsx([["code"]]), "le classeur contient des macros"),
    ("an XLSX with a formula", "liste.xlsx", _xlsx([["code", "dispositif", "source"], ["243100518", SCHEME, "=HYPERLINK(\"http://x\")"]]),
     "la cellule C2 contient une formule"),
    ("an XLSX numeric code", "liste.xlsx", _xlsx([["code", "dispositif", "source"], [243100518, SCHEME, "s"]]),
     "le code 243100518 est un nombre dans le tableur"),
    ("a PDF renamed .csv", "liste.csv", b"%PDF-1.4\x00\x01binary", "le fichier contient des octets nuls"),
    ("an image", "photo.png", b"\x89PNG\r\n\x1a\n\x00", "le nom du fichier ne finit ni par .csv ni par .xlsx"),
    ("100,000 characters", "liste.csv", (HEADER + f"243100518;{SCHEME};;;;{'y' * 100_000};\r\n").encode(), "la cellule contient 100"),
]


@pytest.mark.parametrize("name, data, message", [h[1:] for h in HOSTILE], ids=[h[0] for h in HOSTILE])
def test_a_refused_file_shows_its_reason_and_publishes_nothing(client: TestClient, deployment: Settings, name: str, data: bytes,
                                                               message: str):
    client.cookies.clear()
    _login(client)
    before = (memberstore.in_service(deployment), len(memberstore.history(deployment)))
    preview = _upload(client, name, data)
    text = html.unescape(preview.text)
    assert preview.status_code == 422 and message in text and "rien n'a été publié" in text
    assert "Publier cette liste" not in preview.text
    token = preview.url.path.rsplit("/", 1)[1]
    forced = client.post(f"/admin/apercu/{token}/publier", data={"csrf": _token(client)})
    assert forced.status_code == 303 and forced.headers["location"] == f"/admin/apercu/{token}"
    assert (memberstore.in_service(deployment), len(memberstore.history(deployment))) == before


def test_publish_with_hostile_text_serves_it_escaped_with_its_source_then_rolls_back(client: TestClient, deployment: Settings):
    """A list of three real 2026 EPCI whose cells hold HTML and a formula: stored literally, shown escaped, exported with
    its source; then rolled back in one step."""
    client.cookies.clear()
    _login(client, name="<i>Camille</i>")
    rows = [f"243100518;{SCHEME};<script>alert(1)</script>;15/03/2022;31/12/2027;{SRC};=HYPERLINK(\"http://x\")",
            f"243400017;{SCHEME};signataire;2022-03-15;;Délibération <img src=x onerror=alert(1)>;",
            f"200027183;;signataire;;;{SRC};"]
    preview = _upload(client, "liste.csv", (HEADER + "\r\n".join(rows) + "\r\n").encode("cp1252"), SCHEME)
    assert preview.status_code == 200, preview.text[:2000]
    assert "<script>alert(1)</script>" not in preview.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in preview.text
    assert "<img src=x" not in preview.text and preview.text.count('class="changement ajoute"') == 3
    token = preview.url.path.rsplit("/", 1)[1]
    published = client.post(f"/admin/apercu/{token}/publier", data={"csrf": _token(client)})
    assert published.status_code == 303
    number = int(published.headers["location"].rsplit("=", 1)[1])
    record = memberstore.record(deployment, number)
    assert record["by"] == "<i>Camille</i>" and record["file"]["name"] == "liste.csv" and memberstore.in_service(deployment) == number
    assert record["changes"] == {SCHEME: {"added": ["243100518", "243400017", "200027183"], "removed": [], "changed": []}}
    versions = client.get("/admin/versions").text
    assert "&lt;i&gt;Camille&lt;/i&gt;" in versions and "<i>Camille</i>" not in versions

    detail = client.get(f"/api/schemes/{SCHEME}").json()
    members = {m["code"]: m for m in detail["members"]}
    assert members["243100518"]["role"] == "<script>alert(1)</script>" and members["243100518"]["note"] == '=HYPERLINK("http://x")'
    assert members["243400017"]["source"] == {"title": "Délibération <img src=x onerror=alert(1)>", "url": None}
    assert members["200027183"]["source"] == {"title": "Fixture de tests/test_admin.py", "url": "https://example.org/fixture"}
    stack = client.get("/api/communes/31555").json()
    row = next(r for r in stack["schemes"] if r["id"] == SCHEME)
    assert row["source"]["url"] == "https://example.org/fixture" and row["start"] == "2022-03-15" and row["start_basis"] == "membre"
    export = client.get(f"/export/scheme-{SCHEME}.geojson").json()
    assert {f["properties"]["code"]: f["properties"]["source"] for f in export["features"]}["243400017"].startswith("Délibération <img")
    template = client.get(f"/dispositifs/{SCHEME}/modele.csv").content.decode("utf-8-sig")
    assert "'=HYPERLINK" in template and "\n243100518;" in template.replace("\r\n", "\n")
    page = client.get(f"/maps/schemes/{SCHEME}").text
    assert "<img src=x" not in page  # the legend text travels as JSON, escaped by layers.js

    back = client.post(f"/admin/versions/{number - 1 if number > 1 else 0}/retablir", data={"csrf": _token(client, "/admin/versions")})
    assert back.status_code == 303
    assert memberstore.record(deployment, memberstore.in_service(deployment))["action"] == "rollback"
    assert not any(m["code"] == "243100518" for m in client.get(f"/api/schemes/{SCHEME}").json()["members"])


def test_the_versions_are_public_without_where_files_are_kept(client: TestClient):
    client.cookies.clear()
    versions = client.get("/api/versions").json()
    assert versions and all("stored" not in (v["file"] or {}) and "members_sha256" not in v for v in versions)
    assert sum(v["in_service"] for v in versions) == 1


def test_templates_are_downloadable_for_every_importable_scheme(client: TestClient):
    for extension, magic in (("csv", b"\xef\xbb\xbfcode;dispositif;role;debut;fin;source;note"), ("xlsx", b"PK\x03\x04")):
        response = client.get(f"/dispositifs/bourgs-centres-occitanie/modele.{extension}")
        assert response.status_code == 200 and response.content.startswith(magic)
        assert 'filename="membres-bourgs-centres-occitanie.' in response.headers["content-disposition"]
    book = openpyxl.load_workbook(io.BytesIO(client.get(f"/dispositifs/{SCHEME}/modele.xlsx").content))
    assert [c.value for c in book["Membres"][1]] == ["code", "dispositif", "role", "debut", "fin", "source", "note"]
    assert book["Membres"].column_dimensions["A"].number_format == "@" and "Aide" in book.sheetnames
    assert client.get("/dispositifs/inconnu/modele.csv").status_code == 404
