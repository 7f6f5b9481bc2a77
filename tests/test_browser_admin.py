"""The admin page in headless Chromium, against `territoires serve --workers 2`: log in, upload an XLSX of ten Région
contract members (built here with openpyxl: ten real 2026 EPCI of Occitanie as signataires of
contrats-territoriaux-occitanie, French dates, a source column — a fixture of the upload path, never catalogue data),
read the change preview, publish, see the members on the scheme's map and in its API with their source, roll back and
see them gone; and the same pages refused without credentials. Screenshots in artifacts/.
"""
from __future__ import annotations

import io
import re
import time
from pathlib import Path

import httpx
import openpyxl
import pytest
from argon2 import PasswordHasher
from browser import browser_page
from datamirror import seeded_cache

from bench.server import running_service
from geo.config import Settings

PASSWORD = "phrase de passe du test d'administration"
SCHEME = "contrats-territoriaux-occitanie"
#: Ten 2026 EPCI of Occitanie (SIREN, as in the COG 2026 epci table of the mirror): the test checks their names there.
EPCI = ("243100518", "243400017", "243000643", "200027183", "248100737", "200035715", "200069300", "200066926", "200068641",
        "243100633")
SOURCE_TITLE = "Fixture du test d'administration (tests/test_browser_admin.py)"
SOURCE_URL = "https://example.org/fixture-contrats-territoriaux"


def members_xlsx() -> bytes:
    """The uploaded workbook: codes as text cells, French dates as text, one source per row."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["code", "dispositif", "role", "debut", "fin", "source", "note"])
    for code in EPCI:
        sheet.append([code, SCHEME, "signataire", "15/03/2022", "31/12/2027", f"{SOURCE_TITLE} {SOURCE_URL}", "<b>test</b>"])
    for row in sheet.iter_rows(min_row=2, max_col=1):
        row[0].number_format = "@"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.fixture(scope="module")
def service(settings: Settings, tmp_path_factory: pytest.TempPathFactory):
    """Two workers with /admin on (a password), their own cache and data directory."""
    root = tmp_path_factory.mktemp("admin-browser")
    cache = seeded_cache(settings, root / "cache")
    env = {"TERRITOIRES_MIRROR": str(settings.mirror), "TERRITOIRES_CACHE": str(cache), "TERRITOIRES_DATA_DIR": str(root / "data"),
           "TERRITOIRES_ADMIN_PASSWORD_HASH": PasswordHasher().hash(PASSWORD), "TERRITOIRES_RATE_LIMIT": "0"}
    with running_service(2, env) as (url, _):
        yield url, root


def test_names_of_the_fixture_epci_are_2026_epci_of_occitanie(model):
    epci = model.scales["epci"].set_index("code")
    assert set(EPCI) <= set(epci.index), set(EPCI) - set(epci.index)


def _served(url: str, wanted, timeout: float = 5.0) -> dict:
    """The scheme's API once 12 answers in a row (both workers, behind one port) satisfy ``wanted``; fails after ``timeout``
    seconds (each worker watches the version pointer and switches within about a second)."""
    deadline, streak = time.monotonic() + timeout, 0
    while streak < 12:
        detail = httpx.get(f"{url}/api/schemes/{SCHEME}", timeout=30).json()
        streak = streak + 1 if wanted(detail) else 0
        assert time.monotonic() < deadline, f"not served by every worker within {timeout} s"
    return detail


def _shot(session, artifacts: Path, name: str) -> None:
    session.page.screenshot(path=str(artifacts / name), full_page=True)


def test_upload_preview_publish_see_and_roll_back(service, artifacts: Path, tmp_path: Path):
    url, _ = service
    xlsx = tmp_path / "membres-contrats-territoriaux.xlsx"
    xlsx.write_bytes(members_xlsx())
    with browser_page((1280, 900)) as session:
        page = session.page
        # without credentials: the login form, answered 401
        response = page.goto(f"{url}/admin/versions")
        assert response.status == 401
        assert page.get_by_role("heading", name="Connexion à l'administration").is_visible()
        _shot(session, artifacts, "admin-1-connexion.png")
        page.get_by_label("Votre nom").fill("Camille Planificatrice")
        page.get_by_label("Mot de passe").fill(PASSWORD)
        page.get_by_role("button", name="Se connecter").click()
        page.wait_for_url(f"{url}/admin/versions")
        assert "Aucune liste de membres n'a encore été publiée" in page.inner_text("main")

        page.goto(f"{url}/admin")
        page.set_input_files("#fichier", str(xlsx))
        page.select_option("#dispositif", SCHEME)
        page.get_by_role("button", name="Vérifier le fichier").click()
        page.wait_for_url(re.compile(r".*/admin/apercu/.*"))
        main = page.inner_text("main")
        assert "Le fichier est valide : 10 lignes" in main
        table = page.locator("#changements tbody tr")
        assert table.count() == 10 and all(t == "ajouté" for t in table.locator("td:nth-child(3)").all_inner_texts())
        assert "Toulouse Métropole" in main and "du 15 mars 2022 au 31 décembre 2027" in main and SOURCE_TITLE in main
        assert page.locator("#changements td", has_text="<b>test</b>").count() == 10  # the note shown as text
        shapes = page.locator("svg.carte path.changement.ajoute")
        assert shapes.count() == 10 and shapes.first.is_visible()
        _shot(session, artifacts, "admin-2-apercu.png")

        page.get_by_role("button", name="Publier cette liste (nouvelle version)").click()
        page.wait_for_url(re.compile(r".*/admin/versions\?publiee=1"))
        assert "La version 1 est en service." in page.inner_text("main")
        row = page.locator("#versions tbody tr").first
        assert "Camille Planificatrice" in row.inner_text() and "membres-contrats-territoriaux.xlsx" in row.inner_text()
        _shot(session, artifacts, "admin-3-versions.png")

        # every worker serves it: the scheme's API, its map legend, a commune's stack
        detail = _served(url, lambda d: {m["code"] for m in d["members"]} == set(EPCI))
        assert all(m["source"] == {"title": SOURCE_TITLE, "url": SOURCE_URL} for m in detail["members"])
        page.goto(f"{url}/maps/schemes/{SCHEME}")
        page.wait_for_selector(".t-legend")
        legend = page.inner_text(".t-legend")
        assert f"Source de 10 membres : {SOURCE_TITLE}." in legend and "EPCI membres (10 dans le périmètre)" in legend
        page.wait_for_function("document.querySelectorAll('path.t-epci').length > 0")
        page.wait_for_load_state("networkidle")
        _shot(session, artifacts, "admin-4-carte-dispositif.png")

        # roll back to version 0 (no imported list): one click
        page.goto(f"{url}/admin/versions")
        page.get_by_role("button", name="Revenir à la version 0").click()
        page.wait_for_url(re.compile(r".*/admin/versions\?publiee=2"))
        assert "Retour à la version 0" in page.locator("#versions tbody tr").first.inner_text()
        _shot(session, artifacts, "admin-5-retour.png")
        _served(url, lambda d: d["members"] == [])
        page.goto(f"{url}/maps/schemes/{SCHEME}")
        page.wait_for_selector(".t-legend")
        assert "EPCI membres (0 dans le périmètre)" in page.inner_text(".t-legend") and SOURCE_TITLE not in page.inner_text(".t-legend")
        page.wait_for_load_state("networkidle")
        _shot(session, artifacts, "admin-6-carte-apres-retour.png")
        assert session.blocked == [] and session.page_errors == []

    history = httpx.get(f"{url}/api/versions").json()
    assert [(v["version"], v["action"], v["restores"], v["in_service"]) for v in history] == [(2, "rollback", 0, True), (1, "import", None, False)]
    (artifacts / "admin-versions.json").write_text(httpx.get(f"{url}/api/versions").text, encoding="utf-8")


def test_without_credentials_every_page_is_refused_in_the_browser(service, artifacts: Path):
    url, _ = service
    with browser_page() as session:
        for path in ("/admin", "/admin/versions", "/admin/apercu/" + "A" * 24, "/admin/versions/1/fichier"):
            response = session.page.goto(url + path)
            assert response.status == 401, path
            assert session.page.get_by_label("Mot de passe").is_visible()
        _shot(session, artifacts, "admin-0-refus.png")
        # a form posted from elsewhere (no session, no token): refused, nothing published
        status = session.page.evaluate("""async (u) => (await fetch(u + '/admin/versions/0/retablir', {method: 'POST',
            body: new URLSearchParams({csrf: 'x'})})).status""", url)
        assert status == 401
