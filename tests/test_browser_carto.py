"""The cartography on the rendered page (headless Chromium, every request off this machine refused): the dolls side by
side at Toulouse Métropole's edge (pixels), place names as visible DOM text, the base-map choice, the quartiers from
their zoom, the selection, the coverage textures. Screenshots are kept in artifacts/."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import shapely
from browser import browser_page, serve_app
from matplotlib.image import imread

from geo import mapspec
from geo.dolls import edges
from geo.model import Model
from geo.tiles import tolerance

VIEW = (1600, 900)
TM = "243100518"


@pytest.fixture(scope="module")
def base_url(mirror: Path, cache_dir: Path):
    with serve_app("service.app:create_app", {"TERRITOIRES_MIRROR": str(mirror), "TERRITOIRES_CACHE": str(cache_dir)}) as url:
        yield url


def ready(page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("html[data-territoires=ready]", timeout=120_000)
    page.wait_for_timeout(600)  # the place names are laid out on the next frame


def container_point(page, lon: float, lat: float) -> tuple[float, float]:
    return tuple(page.evaluate(f"(() => {{ const p = territoires.pages[0].map.latLngToContainerPoint([{lat}, {lon}]); "
                               "return [p.x, p.y]; })()"))


def apart(a: dict, b: dict) -> bool:
    """Two bounding boxes (Playwright's) do not overlap."""
    return a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"] or a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"]


def hex_rgb(colour: str) -> np.ndarray:
    return np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)], dtype=float)


def shared_edge_point(model: Model, zoom: int) -> tuple[tuple[float, float], tuple[float, float]]:
    """A point of Toulouse Métropole's edge shared with the agglomeration, the Dialogue and the partnership (the middle of
    the longest straight stretch of such a boundary, at the tiles' simplification for ``zoom``), and a point a little
    inside Toulouse Métropole from it."""
    keys = model.dolls.keys
    bits = sum(1 << keys.index(k) for k in ("epci", "grouping:agglomeration-toulousaine", "grouping:dialogue-metropolitain",
                                            "grouping:partenariat-toulouse-montpellier"))
    communes = model.simplified.get("commune", tolerance(zoom))
    found = edges(communes.geometry.values, np.arange(len(communes)), model.dolls)
    coords = [np.array(line.coords) for line in found.lines[(found.masks & bits) == bits]]
    a, b = max(((c[i], c[i + 1]) for c in coords for i in range(len(c) - 1)), key=lambda ab: np.hypot(*(ab[1] - ab[0])))
    middle, d = (a + b) / 2, (b - a) / np.hypot(*(b - a))
    tm = model.scales["epci"].set_index("code").geometry[TM]
    inward = next(n for n in (np.array([-d[1], d[0]]), np.array([d[1], -d[0]])) if tm.contains(shapely.Point(*(middle + n * 0.002))))
    return tuple(middle), tuple(middle + inward * 0.002)


def test_every_doll_is_drawn_side_by_side_at_toulouse_metropoles_edge(base_url: str, model: Model, artifacts: Path):
    """Where Toulouse Métropole's edge is also the agglomeration's, the Dialogue's and the partnership's, each of their
    colours is on screen within a few pixels of the edge, side by side: the EPCI innermost (towards Toulouse), the
    Dialogue (the outermost of the three groupings) outermost."""
    (lon, lat), inner = shared_edge_point(model, 14)
    symbols = mapspec.grouping_symbols(g.id for g in model.catalogue.groupings)
    colours = {"epci": mapspec.SCALE_LINES["epci"].edge, **{g: s.edge for g, s in symbols.items()}}
    with browser_page(VIEW) as s:
        ready(s.page, f"{base_url}/maps/scales?focus={TM}&lat={lat:.6f}&lon={lon:.6f}&z=14")
        path = artifacts / "carto-tm-edge-z14.png"
        s.page.screenshot(path=str(path))
        x, y = container_point(s.page, lon, lat)
        inside = np.array(container_point(s.page, *inner))  # a little inside Toulouse Métropole
        assert s.blocked == [] and s.page_errors == []
    image = imread(path)[..., :3] * 255
    r = 9
    window = image[int(y) - r:int(y) + r + 1, int(x) - r:int(x) + r + 1]
    yy, xx = np.mgrid[-r:r + 1, -r:r + 1]
    towards = (inside - np.array([x, y])) / np.linalg.norm(inside - np.array([x, y]))
    depth = {}
    for name, colour in colours.items():
        near = np.linalg.norm(window - hex_rgb(colour), axis=2) < 60
        assert near.sum() >= 3, (name, int(near.sum()))
        depth[name] = float(((xx[near] * towards[0]) + (yy[near] * towards[1])).mean())  # how far into Toulouse Métropole
    # side by side, the outermost outside: the Dialogue, the agglomeration, the partnership, then the EPCI towards Toulouse
    assert depth["dialogue-metropolitain"] < depth["agglomeration-toulousaine"] < depth["partenariat-toulouse-montpellier"] < depth["epci"]
    assert depth["epci"] - depth["dialogue-metropolitain"] > 4


def test_place_names_are_visible_text(base_url: str, artifacts: Path):
    """On the Toulouse Métropole view, commune names are written on the map without hovering, as DOM text, and no
    two names overlap; at the région view the préfectures are named."""
    with browser_page(VIEW) as s:
        page = s.page
        ready(page, f"{base_url}/maps/scales?focus={TM}")
        for name in ("Toulouse", "Blagnac", "Colomiers", "Tournefeuille"):
            assert page.get_by_text(name, exact=True).first.is_visible(), name
        boxes = page.evaluate("Array.from(document.querySelectorAll('.t-label')).map(e => { const r = e.getBoundingClientRect(); "
                              "return [r.left, r.top, r.right, r.bottom]; })")
        assert len(boxes) > 15
        for i, a in enumerate(boxes):
            for b in boxes[i + 1:]:
                assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (a, b)
        page.screenshot(path=str(artifacts / "carto-toulouse-metropole.png"))
        ready(page, f"{base_url}/maps/scales")
        names = set(page.locator(".t-label").all_inner_texts())
        assert {"Toulouse", "Montpellier", "Foix", "Mende", "Cahors", "Auch", "Rodez"} <= names
        # the layer tree and the legend leave the région in sight and each other readable (the tree hid the east)
        tree, legend = page.locator(".leaflet-control-layers").bounding_box(), page.locator(".t-legend").bounding_box()
        assert apart(tree, legend)
        for name in ("Mende", "Nîmes", "Alès"):
            label = page.locator(".t-label", has_text=name).first.bounding_box()
            assert apart(label, tree) and apart(label, legend), name
        page.screenshot(path=str(artifacts / "carto-region.png"))
        ready(page, f"{base_url}/maps/scales?lat=43.611&lon=1.335&z=13")  # Colomiers at zoom 13: every commune named
        names = set(page.locator(".t-label").all_inner_texts())
        assert {"Colomiers", "Pibrac", "Brax", "Cornebarrieu", "Tournefeuille"} <= names
        page.screenshot(path=str(artifacts / "carto-colomiers-z13.png"))
        assert s.blocked == [] and s.page_errors == [] and s.console_errors == []


def test_base_maps_in_the_layer_control(base_url: str):
    """The layer control offers no base map (the default: nothing leaves the machine), OpenStreetMap and IGN's; a base
    map chosen is asked for, and the fills turn more transparent over it."""
    with browser_page(VIEW) as s:
        page = s.page
        ready(page, f"{base_url}/maps/scales?lat=43.6&lon=1.44&z=10")
        control = page.locator(".leaflet-control-layers")
        for label in ("Fond de carte", "Aucun (hors ligne)", "OpenStreetMap", "Plan IGN v2", "Photographies aériennes (IGN)"):
            assert label in control.inner_text(), label
        assert control.locator("label", has_text="Aucun (hors ligne)").locator("input").is_checked()
        assert s.blocked == []
        opacity = lambda: float(page.locator("path.t-commune").first.get_attribute("fill-opacity"))  # noqa: E731
        before = opacity()
        control.locator("label", has_text="OpenStreetMap").locator("input").check()
        page.wait_for_timeout(1500)
        assert s.blocked and all("tile.openstreetmap.org" in u for u in s.blocked)
        assert opacity() == pytest.approx(before * mapspec.BASEMAP_FILL_FACTOR)
        control.locator("label", has_text="Plan IGN v2").locator("input").check()
        page.wait_for_timeout(1000)
        assert any("data.geopf.fr" in u and "PLANIGNV2" in u for u in s.blocked)
        assert s.page_errors == []


def test_quartiers_from_their_zoom(base_url: str, artifacts: Path):
    """The priority neighbourhoods (2015 perimeters) are drawn from zoom 11, named in their tooltip; not at zoom 10."""
    with browser_page(VIEW) as s:
        page = s.page
        ready(page, f"{base_url}/maps/scales?lat=43.578&lon=1.395&z=12")  # Toulouse's Mirail
        quartiers = page.locator("path.t-quartier")
        assert quartiers.count() > 3
        box = quartiers.first.bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.wait_for_selector(".leaflet-tooltip")
        assert "Quartier prioritaire QP031" in page.locator(".leaflet-tooltip").inner_text()
        page.screenshot(path=str(artifacts / "carto-quartiers-z12.png"))
        ready(page, f"{base_url}/maps/scales?lat=43.578&lon=1.395&z=10")
        assert page.locator("path.t-quartier").count() == 0
        assert "périmètres de 2015" in page.locator(".t-legend").inner_text()
        ready(page, f"{base_url}/maps/schemes/conseils-citoyens-contrat-de-ville")  # a scheme of quartiers draws them
        assert page.locator("path.t-quartier").count() >= 16
        page.screenshot(path=str(artifacts / "carto-scheme-quartiers.png"))
        assert s.blocked == [] and s.page_errors == []


def test_selection_is_outlined_above_everything(base_url: str, artifacts: Path):
    """?select= opens the map with the territory outlined in the top pane; territoires.select(code) changes it and
    tells the page (the event the side panel will listen to); the permalink keeps it."""
    with browser_page(VIEW) as s:
        page = s.page
        ready(page, f"{base_url}/maps/scales?select=31149")
        assert page.get_attribute("html", "data-selected") == "31149"
        assert page.locator(".leaflet-t-selection-pane path.t-selected").count() == 2  # halo and line
        center = page.evaluate("territoires.pages[0].map.getCenter()")
        assert abs(center["lng"] - 1.32) < 0.1 and abs(center["lat"] - 43.61) < 0.1  # the view fits Colomiers
        page.screenshot(path=str(artifacts / "carto-select-colomiers.png"))
        detail = page.evaluate("""new Promise(resolve => {
            document.addEventListener('territoires:select', e => resolve(e.detail), {once: true});
            territoires.select('243100518');
        })""")
        assert detail == {"code": TM, "level": "epci", "nom": "Toulouse Métropole"}
        page.wait_for_function(f"location.search.includes('select={TM}')")
        zindex = page.evaluate("getComputedStyle(document.querySelector('.leaflet-t-selection-pane')).zIndex")
        assert int(zindex) > 400  # above the tiles and overlays
        assert s.blocked == [] and s.page_errors == []


def test_doll_rule_is_the_same_in_the_browser(base_url: str):
    """layers.js lays the dolls out by the specification's rule (geo/mapspec.py doll_offsets)."""
    weights = [4.5, 3, 3.5, 1.6]
    with browser_page(VIEW) as s:
        ready(s.page, f"{base_url}/maps/scales?z=9&lat=43.6&lon=1.44")
        got = s.page.evaluate(f"territoires.dollOffsets({weights}, {mapspec.DOLL_GAP_PX})")
    assert got == pytest.approx(mapspec.doll_offsets(weights))


def test_coverage_textures_on_the_page(base_url: str, artifacts: Path):
    """Petites villes de demain and Action Cœur de Ville: a texture each (its own pattern), the legend naming which
    overlap where; the count choropleth one click away."""
    with browser_page(VIEW) as s:
        page = s.page
        ready(page, f"{base_url}/maps/coverage?schemes=petites-villes-de-demain,action-coeur-de-ville")
        fills = set(page.evaluate("Array.from(document.querySelectorAll('path.t-scheme')).map(p => p.getAttribute('fill'))"))
        assert len(fills) == 2 and all(f.startswith("url(#") for f in fills)  # one pattern per scheme
        legend = page.locator(".t-legend").inner_text()
        assert "Qui se superpose où" in legend and "Petites villes de demain (liste 2024) uniquement" in legend
        assert "Aucun (lacune)" in legend and "Nombre de dispositifs par commune" in legend
        page.screenshot(path=str(artifacts / "carto-coverage-pvd-acv.png"))
        assert not page.locator(".leaflet-control-layers label", has_text="Nombre de dispositifs par commune").locator("input").is_checked()
        assert s.blocked == [] and s.page_errors == []


def test_date_control_beside_base_map_labels_and_selection(base_url: str, artifacts: Path):
    """A date asked from the control keeps the base map chosen, the selection and the view; the place names and the
    layer tree then show only the groupings in force that day (June 2012: the agglomeration, not yet the Dialogue
    métropolitain of April 2013 nor the partnership of January 2016)."""
    with browser_page(VIEW) as s:
        page = s.page
        ready(page, f"{base_url}/maps/scales?select=31149&lat=43.62&lon=1.45&z=9")
        names = set(page.locator(".t-label").all_inner_texts())
        assert "Dialogue métropolitain de Toulouse" in names and "Agglomération toulousaine" in names
        control = page.locator(".leaflet-control-layers")
        page.locator(".leaflet-control-layers-toggle").click()  # the side panel of the selection folded the tree
        control.locator("label", has_text="Plan IGN v2").locator("input").check()
        page.wait_for_function("location.search.includes('tiles=ign')")
        field = page.get_by_label("Situation au")
        field.focus()
        page.keyboard.type("01062012" if page.evaluate("navigator.language").startswith("fr") else "06012012")
        page.keyboard.press("Enter")
        page.wait_for_url("**date=2012-06-01**")
        page.wait_for_selector("html[data-territoires=ready]", timeout=120_000)
        page.wait_for_timeout(600)
        assert "tiles=ign" in page.url and "select=31149" in page.url and "z=9" in page.url
        assert control.locator("label", has_text="Plan IGN v2").locator("input").is_checked()
        assert page.get_attribute("html", "data-selected") == "31149"
        assert page.locator(".leaflet-t-selection-pane path.t-selected").count() == 2
        names = set(page.locator(".t-label").all_inner_texts())
        assert "Agglomération toulousaine" in names and "Toulouse" in names
        assert not names & {"Dialogue métropolitain de Toulouse", "Partenariat Toulouse Métropole – Montpellier Méditerranée Métropole"}
        tree = control.text_content()
        assert "Agglomération toulousaine" in tree and "Dialogue métropolitain" not in tree and "Partenariat" not in tree
        assert "Situation au 1er juin 2012 — périmètres 2026" in page.locator(".t-legend").inner_text()
        page.screenshot(path=str(artifacts / "carto-date-2012-ign-select.png"))
        assert all("data.geopf.fr" in u for u in s.blocked) and s.page_errors == []  # the IGN plan, refused here
