"""Markup in the data is shown as text, never run: the map pages in headless Chromium on hostile data.

A scheme file whose name, member names, roles, notes and source hold ``<img src=x onerror=…>`` and
``<script>…</script>``, and a commune (Toulouse) whose name holds an ``<img onerror>``, are served by the real
service (tests/hostile_app.py). On the scales, scheme and coverage maps the test hovers Toulouse (tooltip),
clicks it (the side panel lists the hostile scheme), reads the legend and searches, then opens the pages (territory,
scheme, home, search, coverage builder); each payload would set
``window.__pwned``. It must stay undefined, no dialog may open, no ``<img src=x>``, injected ``<script>`` or
inline handler may exist in the DOM, the hostile text must be visible literally, and no request may leave
the machine.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from browser import browser_page, serve_app
from hostile_app import HOSTILE_COMMUNE, LABEGE, ROLE, SCHEME_ID, SCHEME_NAME, SOURCE_TITLE, TOULOUSE, hostile_model, write_schemes

from geo.config import Settings
from service.maps.kinds import standalone_page

pytestmark = pytest.mark.browser

TOULOUSE_LONLAT = (1.4442, 43.6047)
READY = "html[data-territoires=ready]"
#: Whatever the page holds that markup from the data could have created: the payloads' elements, inline handlers.
INJECTED = """() => ({
  pwned: typeof window.__pwned === "undefined" ? null : String(window.__pwned),
  images: document.querySelectorAll('img[src="x"]').length,
  scripts: [...document.scripts].filter(s => s.textContent.trim().startsWith("window.__pwned")).length,
  handlers: [...document.querySelectorAll("*")].filter(e => [...e.attributes].some(a => a.name.startsWith("on"))).length,
  javascriptLinks: [...document.querySelectorAll("a[href]")].filter(a => a.href.trim().toLowerCase().startsWith("javascript:")).length,
})"""
CLEAN = {"pwned": None, "images": 0, "scripts": 0, "handlers": 0, "javascriptLinks": 0}


@pytest.fixture(scope="module")
def schemes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_schemes(tmp_path_factory.mktemp("schemes"))


@pytest.fixture(scope="module")
def hostile_url(mirror: Path, cache_dir: Path, schemes: Path):
    env = {"TERRITOIRES_MIRROR": str(mirror), "TERRITOIRES_CACHE": str(cache_dir), "TERRITOIRES_SCHEMES": str(schemes)}
    with serve_app("tests.hostile_app:create_app", env) as url:
        yield url


#: The page's Leaflet map: the map pages' own, or the one folium named map_<id> on a standalone page.
MAP = ("(typeof territoires !== 'undefined' && territoires.pages.length ? territoires.pages[0].map"
       " : Object.keys(window).filter(k => k.startsWith('map_')).map(k => window[k]).find(v => v instanceof L.Map))")


def point(page, lon: float, lat: float) -> tuple[float, float]:
    """Page coordinates of a place on the map."""
    return tuple(page.evaluate(f"([lon, lat]) => {{ const m = {MAP}; const p = m.latLngToContainerPoint([lat, lon]);"
                               " const r = m.getContainer().getBoundingClientRect(); return [p.x + r.left, p.y + r.top]; }", [lon, lat]))


def assert_clean(page, where: str) -> None:
    page.wait_for_timeout(300)  # an <img src=x> would have failed to load and run its onerror by now
    assert page.evaluate(INJECTED) == CLEAN, where


def open_map(page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector(READY, timeout=120_000)
    assert_clean(page, url)


def hover_toulouse(page, where: str) -> str:
    """The tooltip's text once it names the commune (low zoom tiles carry the code only: the name is fetched)."""
    page.mouse.move(*point(page, *TOULOUSE_LONLAT))
    page.wait_for_function("() => { const t = document.querySelector('.leaflet-tooltip'); return t && /Toulouse/.test(t.textContent); }")
    assert_clean(page, where)
    return page.locator(".leaflet-tooltip").text_content()


def click_toulouse(page, where: str) -> str:
    """The side panel's text: Toulouse's chain and schemes, the hostile scheme with its role among them (rendered by the
    server, /territoires/{code}/panneau)."""
    page.mouse.click(*point(page, *TOULOUSE_LONLAT))
    panel = page.locator(f".t-panel .t-panel-body[data-code='{TOULOUSE}']")
    panel.wait_for()
    assert_clean(page, where)
    return panel.text_content()


def search(page, text: str, wait_for: str, where: str) -> str:
    box = page.locator(".t-search input")
    box.fill(text)
    page.locator(".t-results li", has_text=wait_for).first.wait_for()
    assert_clean(page, where)
    return page.locator(".t-results").text_content()


def test_markup_in_data_is_shown_as_text(hostile_url: str, artifacts: Path):
    with browser_page() as s:
        page, dialogs = s.page, []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))

        # The scales map: Toulouse's name in the tooltip (fetched from /api/communes at low zoom) and its stack.
        open_map(page, hostile_url + "/maps/scales")
        tip = hover_toulouse(page, "scales tooltip")
        assert HOSTILE_COMMUNE in tip and TOULOUSE in tip
        page.screenshot(path=str(artifacts / "injection-scales-tooltip.png"))
        stack = click_toulouse(page, "scales panel")
        assert HOSTILE_COMMUNE in stack and SCHEME_NAME in stack and ROLE in stack
        page.screenshot(path=str(artifacts / "injection-scales-panel.png"))
        page.keyboard.press("Escape")

        # The search box: the commune's name in the results, and the scheme's name (schemes are found by name) as text.
        assert HOSTILE_COMMUNE in search(page, "Toulouse", TOULOUSE, "search Toulouse")
        page.screenshot(path=str(artifacts / "injection-search.png"))
        assert SCHEME_NAME in search(page, "Contrat", "dispositif", "search the scheme's name")

        # A map focused on Toulouse: its name in the title and the legend.
        open_map(page, hostile_url + f"/maps/scales?focus={TOULOUSE}")
        assert HOSTILE_COMMUNE in page.title() and HOSTILE_COMMUNE in page.locator(".t-legend").text_content()

        # The scheme's map: name (title, legend, layer tree), source; members drawn from tiles carrying the name.
        open_map(page, hostile_url + f"/maps/schemes/{SCHEME_ID}")
        assert page.evaluate(f"territoires.pages[0].codes('members').includes('{LABEGE}')")
        legend = page.locator(".t-legend").text_content()
        assert SCHEME_NAME in page.title() and SCHEME_NAME in legend and SOURCE_TITLE in legend
        assert SCHEME_NAME in page.locator(".leaflet-control-layers").text_content()
        assert page.locator(".t-legend a", has_text="Voir la source").get_attribute("href") == "#"  # a javascript: URL is dropped
        assert HOSTILE_COMMUNE in hover_toulouse(page, "scheme tooltip")  # at this zoom the tile itself carries the name
        stack = click_toulouse(page, "scheme panel")
        assert SCHEME_NAME in stack and ROLE in stack
        page.screenshot(path=str(artifacts / "injection-scheme.png"))

        # The coverage map: the scheme's name in the legend and in the tooltip's list of covering schemes.
        open_map(page, hostile_url + f"/maps/coverage?schemes={SCHEME_ID}")
        assert SCHEME_NAME in page.locator(".t-legend").text_content() and SCHEME_NAME in page.title()
        tip = hover_toulouse(page, "coverage tooltip")
        assert HOSTILE_COMMUNE in tip and SCHEME_NAME in tip
        page.screenshot(path=str(artifacts / "injection-coverage.png"))
        assert SCHEME_NAME in click_toulouse(page, "coverage panel")

        # The pages: Toulouse's (its name, the scheme with its role and source), the scheme's (name, notes, members), the home
        # page's catalogue, the search and its suggestions, the coverage builder, the pages at a date (timelines), what changed
        # and the sources: the hostile text shown literally.
        for url, texts in ((f"/territoires/{TOULOUSE}", (HOSTILE_COMMUNE, SCHEME_NAME, ROLE, SOURCE_TITLE)),
                           (f"/dispositifs/{SCHEME_ID}", (SCHEME_NAME, SOURCE_TITLE)), ("/", (SCHEME_NAME, SOURCE_TITLE)),
                           ("/recherche?q=Toulouse", (HOSTILE_COMMUNE,)),
                           (f"/couverture?schemes={SCHEME_ID}", (SCHEME_NAME,)),
                           (f"/territoires/{TOULOUSE}?date=2016-06-01", (HOSTILE_COMMUNE, SCHEME_NAME)),  # its timeline too
                           (f"/dispositifs/{SCHEME_ID}?date=2016-06-01", (SCHEME_NAME,)),
                           (f"/changements?du=2016-01-01&within={TOULOUSE}", (HOSTILE_COMMUNE,)), ("/sources", ())):
            page.goto(hostile_url + url)
            page.wait_for_load_state("networkidle")
            assert_clean(page, url)
            body = page.locator("main").text_content()
            assert all(t in body for t in texts), url
        page.goto(hostile_url + "/")
        page.locator("#recherche-q").fill("Toulouse")
        page.locator("#recherche-suggestions a").first.wait_for()
        assert_clean(page, "suggestions")
        assert HOSTILE_COMMUNE in page.locator("#recherche-suggestions").text_content()
        page.screenshot(path=str(artifacts / "injection-pages.png"))

        assert dialogs == [] and s.blocked == [] and s.page_errors == [] and s.console_errors == []


def test_standalone_map_shows_markup_as_text(mirror: Path, cache_dir: Path, schemes: Path, artifacts: Path, tmp_path: Path):
    """The one-file map of `territoires map` (folium: title, layer control, GeoJSON tooltips) on the same data."""
    model = hostile_model(Settings(mirror=mirror, cache=cache_dir, schemes=schemes))
    page_html = standalone_page(model, f"scheme-{SCHEME_ID}")
    with browser_page() as s:
        page, dialogs = s.page, []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.set_content(page_html, wait_until="load")
        page.wait_for_selector(".leaflet-overlay-pane svg path", state="attached")
        assert_clean(page, "standalone map")
        assert SCHEME_NAME in page.title() and SCHEME_NAME in page.locator(".leaflet-control-layers").text_content()
        tip = hover_toulouse(page, "standalone tooltip")
        assert HOSTILE_COMMUNE in tip and ROLE in tip
        page.screenshot(path=str(artifacts / "injection-standalone.png"))
        assert dialogs == [] and s.blocked == [] and s.page_errors == []
