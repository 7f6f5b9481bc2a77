"""The scales map in headless Chromium, served by uvicorn, with every request off this machine refused.

The scales are drawn from vector tiles: a territory cut by tile edges is one SVG path per tile, so the
counts below are of paths (at least one per territory) and of distinct codes.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from browser import browser_page, serve_app

pytestmark = pytest.mark.browser

LABELS = ("Région Occitanie", "Départements", "Agglomération toulousaine", "Dialogue métropolitain de Toulouse",
          "Partenariat Toulouse Métropole – Montpellier Méditerranée Métropole", "EPCI (intercommunalités)", "Communes")


@pytest.fixture(scope="module")
def base_url(mirror: Path, cache_dir: Path):
    with serve_app("service.app:create_app", {"TERRITOIRES_MIRROR": str(mirror), "TERRITOIRES_CACHE": str(cache_dir)}) as url:
        yield url


def point(page, lon: float, lat: float) -> tuple[float, float]:
    """Page coordinates of a place on the map."""
    xy = page.evaluate(f"(() => {{ const m = territoires.pages[0].map; const p = m.latLngToContainerPoint([{lat}, {lon}]);"
                       " const r = m.getContainer().getBoundingClientRect(); return [p.x + r.left, p.y + r.top]; })()")
    return xy[0], xy[1]


def test_scales_map(base_url: str, artifacts: Path):
    with browser_page() as s:
        page, dialogs, requests = s.page, [], []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.on("request", lambda r: requests.append(r.url))
        page.goto(base_url + "/maps/scales")
        page.wait_for_selector("html[data-territoires=ready]", timeout=120_000)

        assert page.evaluate("territoires.pages[0].map instanceof L.Map")
        # a région's view: every commune once and whole (geo/tiles.py whole), drawn on padded canvas tiles, not as paths
        assert page.locator("path.t-commune").count() == 0 and page.locator("canvas.leaflet-tile").count() >= 10
        assert page.evaluate("territoires.pages[0].featureCount('commune')") == 4446
        assert len(page.evaluate("territoires.pages[0].codes('commune')")) == 4446  # every commune of Occitanie in view
        painted = page.evaluate("""Array.from(document.querySelectorAll('canvas.leaflet-tile')).map(c => {
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;
            for (let i = 3; i < d.length; i += 4) { if (d[i] > 0) { n++; } } return n; })""")
        # the région spans about 700 × 550 pixels of this view, filled by its communes on the canvases
        assert sum(painted) > 250_000 and sum(n > 0 for n in painted) >= 10
        # the scales above the communes come as doll boundaries (each boundary once in the tiles, a line per doll drawn
        # from them), fewer paths than the polygons they bound would be
        for scale, most in (("epci", 1500), ("departement", 400), ("region", 100)):
            assert 8 <= page.locator(f"path.t-{scale}").count() < most, scale
        assert all("/tiles/" in u or "/api/" not in u for u in requests)  # no GeoJSON layer: polygons come as tiles
        tree = page.locator(".leaflet-control-layers").inner_text()
        for label in LABELS:
            assert label in tree, label
        page.screenshot(path=str(artifacts / "maps-scales.png"))

        x, y = point(page, 1.4442, 43.6047)  # Toulouse
        page.mouse.move(x, y)
        tooltip = page.locator(".leaflet-tooltip")
        tooltip.wait_for()
        assert "31555" in tooltip.inner_text()
        # the low-zoom commune tiles carry the code only: the name follows from /api/communes/31555
        page.wait_for_function("document.querySelector('.leaflet-tooltip').innerText.includes('Toulouse')")
        page.screenshot(path=str(artifacts / "maps-scales-tooltip.png"))
        page.mouse.click(x, y)
        panel = page.locator(".t-panel .t-panel-body[data-code='31555']")  # the side panel, not a popup under the layer tree
        panel.wait_for()
        text = panel.inner_text()
        assert "Toulouse Métropole" in text and "Dialogue métropolitain de Toulouse" in text and "Page du territoire" in text
        kinds = [k.inner_text() for k in panel.locator(".t-kind").all()]
        assert "réseau" in kinds and "network" not in kinds  # kinds in French (geo/kinds.py)
        assert page.locator(".leaflet-popup").count() == 0
        page.screenshot(path=str(artifacts / "maps-scales-panel.png"))
        page.get_by_role("button", name="Fermer le panneau du territoire").click()
        assert page.locator(".t-panel").is_hidden()

        search = page.locator(".t-search input")
        search.fill("Labège")
        page.locator(".t-results li", has_text="31254").wait_for()
        search.press("Enter")
        page.wait_for_function("Math.abs(territoires.pages[0].map.getCenter().lng - 1.53) < 0.03")
        center = page.evaluate("territoires.pages[0].map.getCenter()")
        assert abs(center["lng"] - 1.53) < 0.03 and abs(center["lat"] - 43.53) < 0.03
        page.wait_for_function("document.querySelectorAll('path.t-commune').length > 0 && location.search.includes('lat=43.5')")
        page.wait_for_timeout(500)
        page.screenshot(path=str(artifacts / "maps-scales-labege.png"))
        permalink = page.url

        assert s.blocked == [] and s.page_errors == [] and s.console_errors == [] and dialogs == []

    with browser_page() as s:  # the permalink reproduces the view
        s.page.goto(permalink)
        s.page.wait_for_selector("html[data-territoires=ready]", timeout=60_000)
        center = s.page.evaluate("territoires.pages[0].map.getCenter()")
        assert abs(center["lng"] - 1.53) < 0.03 and abs(center["lat"] - 43.53) < 0.03
        assert s.blocked == [] and s.page_errors == []


def test_embed_and_other_maps(base_url: str, artifacts: Path):
    with browser_page() as s:
        page = s.page
        page.goto(base_url + "/maps/scales?embed=1&focus=243100518")
        page.wait_for_selector("html[data-territoires=ready]", timeout=60_000)
        assert page.locator(".t-search").count() == 0
        assert "embed" not in page.locator("a.t-fullmap").get_attribute("href")
        assert len(page.evaluate("territoires.pages[0].codes('commune')")) == 37  # only the focus's communes
        page.screenshot(path=str(artifacts / "maps-embed.png"))

        page.goto(base_url + "/maps/schemes/dialogue-metropolitain")
        page.wait_for_selector("html[data-territoires=ready]", timeout=60_000)
        assert page.locator("path.t-link").count() == 9
        assert "8 avril 2013" in page.locator(".t-legend").inner_text()
        page.screenshot(path=str(artifacts / "maps-scheme.png"))

        page.goto(base_url + "/maps/coverage?schemes=petites-villes-de-demain,villages-d-avenir,quartiers-prioritaires-2024&within=31")
        page.wait_for_selector("html[data-territoires=ready]", timeout=60_000)
        assert page.locator("path.t-gap").count() > 0
        assert page.locator("svg pattern").count() >= 2  # overlaps hatched, not colour alone
        page.screenshot(path=str(artifacts / "maps-coverage.png"))
        assert s.blocked == [] and s.page_errors == [] and s.console_errors == []
