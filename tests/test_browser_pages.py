"""Five planners' tasks done in headless Chromium by clicking only, starting from the home page, with every request off
this machine refused; the clicks are counted. Then an accessibility check of the main pages with axe-core (from npm,
injected into the page), the keyboard on a map, and an embeddable map framed by a page of another origin.

Typing into a search box is not a click; every other step is one, counted by :class:`Clicks`.
"""
from __future__ import annotations

import csv
import datetime as dt
import http.server
import io
import json
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import numpy as np
import pytest
from browser import REPO_ROOT, browser_page, free_port, serve_app
from PIL import Image
from pypdf import PdfReader

from geo.model import Model
from geo.wording import path_words

AXE = REPO_ROOT / "service" / "static" / "node_modules" / "axe-core" / "axe.min.js"
READY = "html[data-territoires=ready]"
CLICKS: dict[str, int] = {}  # task → clicks, printed at the end of the module (pytest -s) and kept in artifacts/clicks.json
AXE_FOUND: dict[str, list] = {}  # page → axe-core's violations (any impact), printed at the end of the module


@pytest.fixture(scope="module")
def base_url(mirror: Path, cache_dir: Path):
    with serve_app("service.app:create_app", {"TERRITOIRES_MIRROR": str(mirror), "TERRITOIRES_CACHE": str(cache_dir)}) as url:
        yield url


@pytest.fixture(scope="module", autouse=True)
def clicks_report(artifacts: Path):
    yield
    (artifacts / "clicks.json").write_text(json.dumps(CLICKS, ensure_ascii=False, indent=1), encoding="utf-8")
    print("\nclicks per task:", CLICKS)
    print("axe violations per page:", {k: [(v["id"], v["impact"]) for v in found] for k, found in AXE_FOUND.items()})


class Clicks:
    """Every click of a task, counted and named."""

    def __init__(self, page):
        self.page, self.steps = page, []

    def __call__(self, locator, what: str) -> None:
        locator.click()
        self.steps.append(what)

    @property
    def count(self) -> int:
        return len(self.steps)


def suggestion(page, text: str, name: str):
    """Type ``text`` in the header's search box and give the suggestion leading to ``name``."""
    page.locator("#recherche-q").fill(text)
    item = page.locator("#recherche-suggestions a", has_text=name).first
    item.wait_for()
    return item


def shot(page, artifacts: Path, name: str, full: bool = True) -> None:
    page.screenshot(path=str(artifacts / f"page-{name}.png"), full_page=full)


def test_task_a_what_covers_colomiers_and_through_which_level(base_url: str, model: Model, artifacts: Path):
    with browser_page() as s:
        page, click = s.page, Clicks(s.page)
        page.goto(base_url + "/")
        shot(page, artifacts, "accueil")
        click(suggestion(page, "Colomiers", "Colomiers"), "la suggestion « Colomiers »")
        page.wait_for_url("**/territoires/31149")
        table = page.locator("table.coverings")
        kinds = {"contract", "network", "club", "programme", "partnership"}
        expected = {(x["name"], path_words(x["path"])) for x in model.stack("31149")["schemes"] if x["kind"] in kinds}
        rows = table.locator("tbody tr")
        seen = {(rows.nth(i).locator("th a").inner_text(), line) for i in range(rows.count())
                for line in rows.nth(i).locator("td").nth(3).locator("li").all_inner_texts()}
        assert expected <= seen and len(expected) >= 8
        assert ("Club « revitalisation des territoires »",
                "par Toulouse Métropole, membre du réseau Dialogue métropolitain de Toulouse (le club en compte tous les membres)") in seen
        page.frame_locator("iframe.map").locator(READY).wait_for(timeout=120_000)
        shot(page, artifacts, "territoire-colomiers")
        CLICKS["a: contrats et réseaux de Colomiers, et par quel niveau"] = click.count
        assert click.count == 1
        assert s.blocked == [] and s.page_errors == []


def test_task_b_dialogue_members_on_a_map_and_their_geopackage(base_url: str, model: Model, artifacts: Path, tmp_path: Path):
    members = sorted(model.catalogue.schemes["dialogue-metropolitain"].codes)
    with browser_page() as s:
        page, click = s.page, Clicks(s.page)
        page.goto(base_url + "/")
        click(suggestion(page, "dialogue", "Dialogue métropolitain de Toulouse"), "la suggestion « Dialogue métropolitain »")
        page.wait_for_url("**/dispositifs/dialogue-metropolitain")
        frame = page.frame_locator("iframe.map")
        frame.locator(READY).wait_for(timeout=120_000)
        drawn = page.frames[1].evaluate("territoires.pages[0].codes('members')")
        assert set(members) <= set(drawn)  # the ten EPCI drawn on the map
        shot(page, artifacts, "dispositif-dialogue")
        with page.expect_download() as download:
            click(page.get_by_role("link", name="Membres, GeoPackage (styles QGIS)"), "« Membres, GeoPackage »")
        path = tmp_path / download.value.suggested_filename
        download.value.save_as(path)
        CLICKS["b: membres du Dialogue métropolitain sur une carte, puis leur GeoPackage"] = click.count
        assert click.count == 2 and path.name == "scheme-dialogue-metropolitain.gpkg"
        assert s.blocked == [] and s.page_errors == []
    info = subprocess.run(["ogrinfo", "-so", "-al", str(path)], capture_output=True, text=True, check=True).stdout
    assert "Feature Count: 10" in info and "Layer name: scheme-dialogue-metropolitain" in info
    styles = subprocess.run(["ogrinfo", "-q", "-sql", "SELECT COUNT(*) AS n FROM layer_styles", str(path)], capture_output=True,
                            text=True, check=True).stdout
    assert "n (Integer) = 1" in styles  # the QGIS style travels with the layer


def test_task_c_overlaps_in_occitanie_and_gaps_of_haute_garonne(base_url: str, model: Model, artifacts: Path, tmp_path: Path):
    programmes = [s.id for s in model.catalogue.schemes.values() if s.kind == "programme" and model.coverage.summary(s.id)["communes"]]
    haute_garonne = model.territory("31")
    matrix = model.coverage.on(dt.date.today()).matrix(programmes, haute_garonne)  # the page's date: today
    gaps = set(matrix.index[matrix.sum(axis=1) == 0])
    pvd_acv = model.coverage.overlap("petites-villes-de-demain", "action-coeur-de-ville")
    with browser_page() as s:
        page, click = s.page, Clicks(s.page)
        page.goto(base_url + "/")
        click(page.get_by_role("link", name="Construire une carte de couverture"), "« Construire une carte de couverture »")
        click(page.get_by_label("Petites villes de demain (liste 2024)"), "cocher Petites villes de demain")
        click(page.get_by_label("Action Cœur de Ville (2023-2026)"), "cocher Action Cœur de Ville")
        click(page.get_by_role("button", name="Afficher la couverture"), "« Afficher la couverture »")
        page.wait_for_url("**/couverture?schemes=*")
        assert "petites-villes-de-demain" in page.url and "action-coeur-de-ville" in page.url and "within" not in page.url
        overlap = page.locator("#superpositions + *").inner_text()
        if pvd_acv["both"]["communes"]:
            assert str(len(pvd_acv["both"]["communes"])) in overlap
        else:  # the two programmes never meet in Occitanie: the page says so
            assert overlap == "Aucune commune n'est couverte par plusieurs des dispositifs cochés."
        counts = page.locator("table", has_text="Communes couvertes par chaque dispositif").inner_text()
        assert "Petites villes de demain (liste 2024)\ten vigueur\t224" in counts and "Action Cœur de Ville (2023-2026)\ten vigueur\t28" in counts
        page.frame_locator("iframe.map").locator(READY).wait_for(timeout=120_000)
        shot(page, artifacts, "couverture-pvd-acv")
        click(page.locator("fieldset", has_text="Programmes nationaux").get_by_label("Tout cocher"), "« Tout cocher » les programmes")
        page.locator("#territoire").fill("Haute-Garonne")
        click(page.locator("#territoire-suggestions button", has_text="Haute-Garonne"), "la suggestion « Haute-Garonne »")
        click(page.get_by_role("button", name="Afficher la couverture"), "« Afficher la couverture »")
        page.wait_for_url("**within=31")
        table = page.locator("table.gaps")
        shown = set(table.locator("tbody tr td:first-of-type").all_inner_texts())
        assert shown == gaps and len(gaps) > 0
        page.frame_locator("iframe.map").locator(READY).wait_for(timeout=120_000)
        shot(page, artifacts, "couverture-lacunes-haute-garonne")
        with page.expect_download() as download:
            click(page.get_by_role("link", name="Lacunes (communes couvertes par aucun), CSV (tableur)"), "« Lacunes, CSV »")
        path = tmp_path / "lacunes.csv"
        download.value.save_as(path)
        CLICKS["c: superpositions PVD × ACV en Occitanie, lacunes de la Haute-Garonne (tableau et CSV)"] = click.count
        assert click.count == 8
        assert s.blocked == [] and s.page_errors == []
    header, *lines = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig")), delimiter=";"))
    assert set(header[-len(programmes) - 1:-1]) == set(programmes) and header[-1] == "n_schemes"  # exactly the schemes ticked
    assert len(header) == len(set(header)) == 8 + len(programmes)  # code, nom, epci, département, région, population, area, n_schemes
    assert {line[0] for line in lines} == gaps


@contextmanager
def other_origin(page_html: str) -> Iterator[str]:
    """A second tiny HTTP server on another loopback port, serving one page."""
    directory = Path(__import__("tempfile").mkdtemp(prefix="territoires-origin-"))
    (directory / "index.html").write_text(page_html, encoding="utf-8")
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/index.html"
    finally:
        server.shutdown()
        server.server_close()


def test_task_d_png_of_the_agglomeration_and_an_embed_on_another_origin(base_url: str, artifacts: Path, tmp_path: Path):
    with browser_page() as s:
        page, click = s.page, Clicks(s.page)
        page.goto(base_url + "/")
        click(suggestion(page, "agglomeration", "Agglomération toulousaine"), "la suggestion « Agglomération toulousaine »")
        page.wait_for_url("**/dispositifs/agglomeration-toulousaine")
        with page.expect_download() as download:
            click(page.get_by_role("link", name="Carte PNG (image)"), "« Carte PNG »")
        png = tmp_path / "agglomeration.png"
        download.value.save_as(png)
        click(page.get_by_label("Code à copier dans la page"), "le code d'intégration")
        code = page.get_by_label("Code à copier dans la page").input_value()
        assert page.evaluate("window.getSelection().toString() || document.activeElement.value.substring("
                             "document.activeElement.selectionStart, document.activeElement.selectionEnd)") == code  # selected
        CLICKS["d: carte PNG de l'agglomération, code d'une carte intégrable"] = click.count
        assert click.count == 3
        image = np.asarray(Image.open(png).convert("RGB"))
        assert image.shape[1] >= 1000 and len(np.unique(image.reshape(-1, 3), axis=0)) > 20  # a drawn map, not a blank page
        Image.open(png).save(artifacts / "agglomeration.png")
        assert code.startswith(f'<iframe src="{base_url}/maps/schemes/agglomeration-toulousaine?embed=1"')
        full_map = code.replace("?embed=1", "")
        html = f"<!DOCTYPE html><html lang='fr'><head><meta charset='utf-8'><title>Site d'un partenaire</title></head><body>" \
               f"<h1>Une page d'un autre site</h1>{code}<h2>La carte complète, elle, ne s'y intègre pas</h2>{full_map}</body></html>"
        with other_origin(html) as url:
            assert url.split("/")[2] != base_url.split("/")[2]  # another origin: another port
            page.goto(url)
            embedded = page.frame_locator("iframe").first
            embedded.locator(READY).wait_for(timeout=120_000)
            frame = next(f for f in page.frames if "embed=1" in f.url)
            assert frame.evaluate("territoires.pages[0].featureCount('members')") > 0
            assert frame.locator("a.t-fullmap").count() == 1 and frame.locator(".t-search").count() == 0  # read-only
            box = page.locator("iframe").first.bounding_box()
            pixels = np.asarray(Image.open(io.BytesIO(page.screenshot(clip=box))).convert("RGB"))
            assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 20  # the map is drawn inside the other site's page
            for _ in range(100):  # the full map (frame-ancestors 'self') is refused by the browser: an error page in its frame
                if any(f.url.startswith("chrome-error://") for f in page.frames):
                    break
                page.wait_for_timeout(100)
            assert [f.url.startswith("chrome-error://") for f in page.frames[1:]] == [False, True]
            page.screenshot(path=str(artifacts / "page-integration-autre-origine.png"), full_page=True)
        assert s.blocked == [] and s.page_errors == []


def test_task_e_fiche_territoire_of_blagnac(base_url: str, model: Model, artifacts: Path, tmp_path: Path):
    with browser_page() as s:
        page, click = s.page, Clicks(s.page)
        page.goto(base_url + "/")
        click(suggestion(page, "Blagnac", "Blagnac"), "la suggestion « Blagnac »")
        page.wait_for_url("**/territoires/31069")
        shot(page, artifacts, "territoire-blagnac")
        with page.expect_download() as download:
            click(page.get_by_role("link", name="Fiche territoire (PDF)"), "« Fiche territoire (PDF) »")
        path = tmp_path / "fiche.pdf"
        download.value.save_as(path)
        CLICKS["e: fiche territoire PDF de Blagnac"] = click.count
        assert click.count == 2
        assert s.blocked == [] and s.page_errors == []
    (artifacts / "fiche-blagnac.pdf").write_bytes(path.read_bytes())
    pdf = PdfReader(path)
    text = "\n".join(p.extract_text() for p in pdf.pages)
    assert len(pdf.pages) == 3 and text.startswith("Blagnac")
    assert "Commune · code 31069 · 27 604 habitants" in text.replace("\u202f", " ")
    assert "Agglomération toulousaine" in text and "Toulouse Métropole" in text and "Poupées russes" in text
    assert f"version {model.version}" in text


@pytest.mark.parametrize("name, url", [("accueil", "/"), ("territoire", "/territoires/31149"),
                                       ("territoire-2016", "/territoires/31149?date=2016-06-01"), ("departement", "/territoires/31"),
                                       ("dispositif", "/dispositifs/dialogue-metropolitain"),
                                       ("dispositif-acv-2018", "/dispositifs/action-coeur-de-ville-2018?date=2019-06-01"),
                                       ("couverture", "/couverture?schemes=petites-villes-de-demain,villages-d-avenir&within=31"),
                                       ("sources", "/sources"), ("changements", "/changements?du=2016-01-01&au=2026-01-01&within=31")])
def test_axe_finds_no_serious_or_critical_violation(base_url: str, artifacts: Path, name: str, url: str):
    assert AXE.is_file(), f"{AXE} is missing: run `make assets` (npm ci installs axe-core, a test-only package)"
    with browser_page() as s:
        page = s.page
        page.goto(base_url + url)
        page.wait_for_load_state("networkidle")
        page.add_script_tag(path=str(AXE))
        result = page.evaluate("axe.run(document, {iframes: false, resultTypes: ['violations']})")
        found = [{"id": v["id"], "impact": v["impact"], "nodes": len(v["nodes"]), "help": v["help"]} for v in result["violations"]]
        (artifacts / f"axe-{name}.json").write_text(json.dumps(found, ensure_ascii=False, indent=1), encoding="utf-8")
        AXE_FOUND[name] = found
        serious = [v for v in found if v["impact"] in ("serious", "critical")]
        assert serious == [], serious
        assert s.blocked == [] and s.page_errors == []


def test_map_keyboard_search_opens_the_panel_and_every_control_is_reachable(base_url: str, artifacts: Path):
    with browser_page() as s:
        page = s.page
        page.goto(base_url + "/maps/scales")
        page.wait_for_selector(READY, timeout=120_000)
        reached, in_tree = [], 0
        for _ in range(24):  # the map, zoom, full screen, search, downloads, share, the date control, then the layer tree
            page.keyboard.press("Tab")
            reached.append(page.evaluate("(e => e.getAttribute('aria-label') || e.title || e.textContent.trim())(document.activeElement)"))
            in_tree += page.evaluate("!!document.activeElement.closest('.leaflet-control-layers')")
        for control in ("Zoom avant", "Zoom arrière", "Plein écran", "Rechercher un territoire", "Télécharger", "Partager"):
            assert any(control in (r or "") for r in reached), (control, [r[:40] for r in reached])
        assert in_tree >= 3  # the layer tree's boxes follow
        page.locator(".t-search input").focus()
        page.keyboard.type("Colomiers")
        page.locator(".t-results button", has_text="Colomiers").wait_for()
        page.keyboard.press("Enter")
        page.wait_for_function("document.documentElement.getAttribute('data-panel') === '31149'")
        assert page.evaluate("document.activeElement.classList.contains('t-panel-title')")
        panel = page.locator(".t-panel").inner_text()
        assert "Toulouse Métropole" in panel and "Dialogue métropolitain de Toulouse" in panel and "popup" not in panel
        assert page.locator(".leaflet-popup").count() == 0
        page.screenshot(path=str(artifacts / "page-carte-panneau.png"))
        page.keyboard.press("Escape")
        assert page.locator(".t-panel").is_hidden()
        assert page.get_attribute("html", "lang") == "fr"
        assert page.locator(".leaflet-control-zoom-in").get_attribute("title") == "Zoom avant"
        assert s.blocked == [] and s.page_errors == [] and s.console_errors == []

    with browser_page(viewport=(400, 760)) as s:  # a phone: the layer tree and the legend start folded
        s.page.goto(base_url + "/maps/scales")
        s.page.wait_for_selector(READY, timeout=120_000)
        s.page.wait_for_timeout(200)
        assert s.page.locator(".leaflet-control-layers-expanded").count() == 0
        assert s.page.locator(".t-legend details[open]").count() == 0
        s.page.screenshot(path=str(artifacts / "page-carte-telephone.png"))
        assert s.page.locator(".leaflet-control-layers-toggle").get_attribute("aria-label") == "Couches de la carte"
        s.page.locator(".leaflet-control-layers-toggle").focus()
        s.page.keyboard.press("Enter")  # the folded tree opens from the keyboard
        assert s.page.locator(".leaflet-control-layers-expanded").count() == 1
        assert s.blocked == [] and s.page_errors == []


def test_date_field_shows_a_territory_at_another_date_and_the_links_keep_it(base_url: str, artifacts: Path):
    """The header's date field (a GET form: no script needed) redraws Colomiers' page at 1 June 2016: the contrat de ville
    2015-2020 in force, the QPV 2024 listed « à partir du 1er janvier 2024 »; a doll's link keeps the date."""
    with browser_page(locale="fr-FR") as s:
        page = s.page
        page.goto(base_url + "/territoires/31149")
        page.get_by_label("Voir la situation au").fill("2016-06-01")
        page.get_by_role("button", name="Afficher", exact=True).click()
        page.wait_for_url("**/territoires/31149?date=2016-06-01")
        assert page.locator("#date-titre").inner_text() == "Situation au 1er juin 2016 — périmètres 2026"
        rows = page.locator("table.coverings tbody tr")
        status = {rows.nth(i).locator("th a").inner_text(): rows.nth(i).locator("td").first.inner_text() for i in range(rows.count())}
        assert status["Contrats de ville 2015-2020"] == "en vigueur"
        assert [v for k, v in status.items() if k.startswith("Quartiers prioritaires") and "2024" in v] == ["à partir du 1er janvier 2024"]
        page.frame_locator("iframe.map").locator(READY).wait_for(timeout=120_000)
        assert "date=2016-06-01" in page.locator("iframe.map").get_attribute("src")
        page.locator("#chronologie").scroll_into_view_if_needed()
        shot(page, artifacts, "territoire-colomiers-2016")
        page.locator(".crumbs a", has_text="Toulouse Métropole").click()
        page.wait_for_url("**/territoires/243100518?date=2016-06-01")
        assert "1er juin 2016" in page.locator("#date-titre").inner_text()
        page.get_by_role("link", name="revenir à aujourd'hui").click()
        page.wait_for_url("**/territoires/243100518")
        assert s.blocked == [] and s.page_errors == []


@pytest.mark.parametrize("name, url", [("territoire-colomiers-2025", "/territoires/31149?date=2025-06-01"),
                                       ("territoire-haute-garonne", "/territoires/31"),
                                       ("dispositif-acv-2018-en-2019", "/dispositifs/action-coeur-de-ville-2018?date=2019-06-01"),
                                       ("dispositif-contrats-region", "/dispositifs/contrats-territoriaux-occitanie"),
                                       ("couverture-2016", "/couverture?schemes=contrats-de-ville-2015-2020,quartiers-prioritaires-2024"
                                                           "&within=31&date=2016-06-01"),
                                       ("sources", "/sources"), ("changements", "/changements?du=2016-01-01&au=2026-01-01&within=31")])
def test_screenshots_of_the_pages(base_url: str, artifacts: Path, name: str, url: str):
    """Each page as a person sees it (artifacts/page-*.png, looked at): French, no internal id, its map drawn."""
    with browser_page(locale="fr-FR") as s:
        page = s.page
        page.goto(base_url + url)
        if page.locator("iframe.map").count():
            page.frame_locator("iframe.map").locator(READY).wait_for(timeout=120_000)
        text = page.locator("main").inner_text()
        assert "None" not in text.split() and "nan" not in text.split()
        shot(page, artifacts, name)
        assert s.blocked == [] and s.page_errors == []
