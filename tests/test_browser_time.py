"""Time in headless Chromium: the date control redraws a map for the date typed (keyboard only), the "what changed"
map of the Haute-Garonne and its page, and the timelines as they are drawn (screenshots in artifacts/)."""
from __future__ import annotations

from pathlib import Path

import pytest
from browser import browser_page, serve_app

READY = "html[data-territoires=ready]"
CHANGES = "du=2016-01-01&au=2026-01-01&within=31"


@pytest.fixture(scope="module")
def base_url(mirror: Path, cache_dir: Path):
    with serve_app("service.app:create_app", {"TERRITOIRES_MIRROR": str(mirror), "TERRITOIRES_CACHE": str(cache_dir)}) as url:
        yield url


def fills(page, selector: str) -> set[str]:
    """The fills of the SVG paths matching ``selector`` as the browser computes them."""
    return set(page.evaluate(f"Array.from(document.querySelectorAll('{selector}')).map(p => getComputedStyle(p).fill)"))


def test_date_control_redraws_the_map_with_the_keyboard(base_url: str, artifacts: Path):
    with browser_page() as s:
        page = s.page
        page.goto(base_url + "/maps/coverage?schemes=contrats-de-ville-2015-2020,quartiers-prioritaires-2024&within=243100518")
        page.wait_for_selector(READY, timeout=120_000)
        assert "date=" in page.url  # the permalink holds the date shown
        today = page.evaluate("territoires.pages[0].coverage")
        assert "31555" in today["gaps"] or today["communes"].get("31555") == ["quartiers-prioritaires-2024"]
        field = page.get_by_label("Situation au")
        field.focus()
        # a date field takes its digits in the order of the browser's language: day first in French, month first in English
        page.keyboard.type("01062016" if page.evaluate("navigator.language").startswith("fr") else "06012016")
        page.keyboard.press("Enter")
        page.wait_for_url("**date=2016-06-01**")
        page.wait_for_selector(READY, timeout=120_000)
        assert page.get_by_label("Situation au").input_value() == "2016-06-01"
        legend = page.locator(".t-legend").inner_text()
        assert "Situation au 1er juin 2016 — périmètres 2026" in legend
        then = page.evaluate("territoires.pages[0].coverage")
        assert then["communes"]["31555"] == ["contrats-de-ville-2015-2020"] and then["date"] == "2016-06-01"
        # the year slider moves the date by whole years, from the keyboard too
        slider = page.get_by_label("Année")
        slider.focus()
        page.keyboard.press("ArrowRight")
        assert page.get_by_label("Situation au").input_value() == "2017-06-01"
        tree, legend = page.locator(".leaflet-control-layers").bounding_box(), page.locator(".t-legend").bounding_box()
        assert tree["y"] + tree["height"] <= legend["y"]  # the legend scrolls below the layer tree, not over it
        page.screenshot(path=str(artifacts / "date-control-2016.png"))
        assert s.blocked == [] and s.page_errors == []


def test_what_changed_in_the_haute_garonne(base_url: str, artifacts: Path):
    with browser_page((1280, 900)) as s:
        page = s.page
        page.goto(f"{base_url}/maps/changes?{CHANGES.replace('du=', 'from=').replace('au=', 'to=')}")
        page.wait_for_selector(READY, timeout=120_000)
        counts = {c: len(page.evaluate(f"territoires.pages[0].codes('{c}')")) for c in ("gained", "lost", "both", "unchanged")}
        assert sum(counts.values()) == 586 and counts["both"] >= 30 and counts["gained"] > 300
        assert len(fills(page, "path.t-commune")) >= 3  # gained, both and unchanged are drawn apart
        legend = page.locator(".t-legend").inner_text()
        assert "Du 1er janvier 2016 au 1er janvier 2026 — périmètres 2026" in legend and "Gagnés et perdus" in legend
        page.wait_for_timeout(600)  # the place names are laid out on the next frame
        assert {"Toulouse", "Muret", "Saint-Gaudens"} <= set(page.locator(".t-label").all_inner_texts())  # named, as every map
        page.screenshot(path=str(artifacts / "changes-haute-garonne-2016-2026.png"))

        page.goto(f"{base_url}/changements?{CHANGES}")
        page.wait_for_function("() => { const f = document.querySelector('iframe'); const d = f && f.contentDocument; "  # null while loading
                               "return !!(d && d.documentElement && d.documentElement.getAttribute('data-territoires') === 'ready'); }",
                               timeout=120_000)
        assert page.locator("h1").inner_text() == "Ce qui a changé — Haute-Garonne"
        assert page.locator("tbody tr").count() == counts["gained"] + counts["lost"] + counts["both"]
        assert "Colomiers" in page.locator("tbody").inner_text()
        page.screenshot(path=str(artifacts / "changements-page-haute-garonne.png"), full_page=False)
        page.get_by_label("Du").fill("2026-01-01")
        page.get_by_label("Au").fill("2016-01-01")
        page.get_by_role("button", name="Comparer").click()
        page.wait_for_load_state()
        assert "est après la date de fin" in page.locator("body").inner_text()
        assert s.blocked == [] and s.page_errors == []


@pytest.mark.parametrize("url, name", [("/fragments/chronologie/territoire/31149?date=2016-06-01", "timeline-colomiers"),
                                       ("/fragments/chronologie/dispositif/action-coeur-de-ville-2018?date=2019-06-01",
                                        "timeline-acv-2018-members")])
def test_timelines_as_drawn(base_url: str, artifacts: Path, url: str, name: str):
    with browser_page((900, 900)) as s:
        page = s.page
        page.goto(base_url + url)
        bars = page.locator("g.t-bar rect")
        assert bars.count() >= 10
        boxes = [bars.nth(i).bounding_box() for i in range(bars.count())]
        assert all(b["width"] > 2 and b["height"] > 10 for b in boxes)
        text = page.locator("svg.t-timeline-bars").text_content()
        assert "2010" in text and "2030" in text and "Aujourd'hui" in text
        page.get_by_text("Tableau").click()  # the table alternative opens from its summary
        assert page.locator("table").is_visible()
        page.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)
        assert s.blocked == [] and s.page_errors == []
