"""Static maps (PNG of the nested scales and of coverage kept in artifacts/), the /static routes, and the
standalone HTML map opened in Chromium with no server and no network."""
from __future__ import annotations

import datetime as dt
import io
import subprocess
from pathlib import Path

import numpy as np
import pytest
from browser import browser_page
from fastapi.testclient import TestClient
from matplotlib.image import imread

from geo.model import Model
from geo.periods import french_date
from service.app import create_app
from service.maps.kinds import standalone_page, static_bytes, static_figure


def legend_texts(fig) -> list[str]:
    legend = fig.axes[0].get_legend()
    assert legend is not None, "the map has no legend"
    return [t.get_text() for t in legend.get_texts()]


def check_png(data: bytes, size: tuple[int, int]) -> np.ndarray:
    """The decoded image: the expected size, and not blank (many distinct grey levels, a fair share of ink)."""
    image = imread(io.BytesIO(data), format="png")
    assert image.shape[1::-1] == size
    grey = image[..., :3].mean(axis=2)
    assert len(np.unique(np.round(grey, 2))) > 20 and (grey < 0.9).mean() > 0.05
    return image


@pytest.mark.parametrize("name, expected", [
    ("scales", ["Communes", "EPCI", "Départements", "Région Occitanie", "Dialogue métropolitain de Toulouse"]),
    ("coverage", ["Aucun (lacune)", "1 dispositif", "4 dispositifs ou plus"]),
])
def test_rendered_png(model: Model, artifacts: Path, name: str, expected: list[str]) -> None:
    fig = static_figure(model, name)
    texts = legend_texts(fig)
    for label in expected:
        assert any(label in t for t in texts), (label, texts)
    data = static_bytes(model, name, "png")
    (artifacts / f"{name}.png").write_bytes(data)
    check_png(data, (1753, 1240))  # A4 landscape (297 × 210 mm) at 150 dpi
    footer = " ".join(t.get_text() for t in fig.texts)
    assert "COG 2018" in footer and "COG 2026" in footer and "Lambert-93" in footer


def test_scheme_map_zoomed_at_a_pixel_size(model: Model, artifacts: Path) -> None:
    data = static_bytes(model, "scheme-dialogue-metropolitain", "png", within=model.territory("31"), size="1200x900")
    (artifacts / "scheme-dialogue-metropolitain-31.png").write_bytes(data)
    check_png(data, (1200, 900))
    assert any("EPCI membres (10)" in t for t in legend_texts(static_figure(model, "scheme-dialogue-metropolitain")))


@pytest.fixture(scope="module")
def client(settings) -> TestClient:
    with TestClient(create_app(settings)) as c:
        yield c


def test_static_routes(client: TestClient) -> None:
    r = client.get("/static/coverage.png", params={"within": "09", "size": "800x600"})
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    check_png(r.content, (800, 600))
    assert client.get("/static/scales.svg", params={"within": "31"}).content.lstrip().startswith(b"<?xml")
    assert client.get("/static/scheme-toulouse-metropole.pdf").content.startswith(b"%PDF")
    assert client.get("/assets/leaflet/dist/leaflet.js").status_code == 200  # /static does not shadow the assets


@pytest.mark.parametrize("url, status, accepted", [
    ("/static/nope.png", 422, "scales, coverage ou l'une de scheme-"),
    ("/static/scales.gif", 422, "png, svg, pdf"),
    ("/static/scales.png?size=huge", 422, "a4, a4-portrait ou LARGEURxHAUTEUR"),
    ("/static/scales.png?within=00000", 404, "00000"),
])
def test_static_bad_input(client: TestClient, url: str, status: int, accepted: str) -> None:
    r = client.get(url)
    assert r.status_code == status and accepted in r.json()["detail"]


@pytest.mark.browser
def test_standalone_map_opens_offline(model: Model, artifacts: Path, tmp_path: Path) -> None:
    page = standalone_page(model, "scheme-dialogue-metropolitain")
    assert "/assets/" not in page and 'src="http' not in page and "<link rel=\"stylesheet\" href" not in page
    path = tmp_path / "map.html"
    path.write_text(page, encoding="utf-8")
    with browser_page() as session:
        session.page.set_content(page, wait_until="load")
        session.page.wait_for_selector(".leaflet-overlay-pane svg path", state="attached")
        session.page.wait_for_selector(".t-label")  # place names, as on the web map
        session.page.screenshot(path=str(artifacts / "standalone-map.png"))
        has_leaflet = session.page.evaluate("typeof L !== 'undefined' && document.querySelectorAll('.leaflet-control-layers').length")
        names = session.page.locator(".t-label").all_inner_texts()
        patterns = session.page.locator("svg pattern").count()
        scale = session.page.locator(".leaflet-control-scale-line").all_inner_texts()
        prefix = session.page.locator(".leaflet-control-attribution").inner_html()
    assert len(scale) == 1 and scale[0].endswith(("km", " m")), scale  # metres only, as the web maps
    assert "Bibliothèque de cartes Leaflet" in prefix and "<svg" not in prefix
    assert has_leaflet and session.blocked == [] and session.page_errors == []
    assert "EPCI membres" in page and "COG 2026" in page
    assert "Toulouse" in names and patterns >= 1  # the members hatched as on the web map


def test_scheme_maps_of_every_member_scale(model: Model) -> None:
    """Static and standalone maps of a scheme of each member scale (quartiers drawn as the communes holding them)."""
    by_scale = {}
    for s in sorted(model.catalogue.schemes.values(), key=lambda s: s.id):
        by_scale.setdefault(s.member_scale, s)
    assert {"commune", "epci", "quartier"} <= set(by_scale)
    for scale, scheme in by_scale.items():
        name = f"scheme-{scheme.id}"
        texts = legend_texts(static_figure(model, name, within=model.territory("31"), size="400x300"))
        label = {"commune": "Communes membres", "epci": "EPCI membres", "grouping": "Groupements membres",
                 "quartier": "Quartiers membres (périmètres 2015)"}[scale]
        assert any(t.startswith(label) for t in texts), (name, texts)
        assert label in standalone_page(model, name, within=model.territory("31")), name


def test_static_coverage_map_honours_schemes(model: Model, artifacts: Path) -> None:
    """The static coverage map draws the schemes asked for (a texture each, which overlap where in the legend): the map
    of Petites villes de demain is not that of Action Cœur de Ville; without schemes=, every scheme is counted."""
    within = model.territory("31")
    images, legends = {}, {}
    for scheme in ("petites-villes-de-demain", "action-coeur-de-ville"):
        data = static_bytes(model, "coverage", "png", within, "800x600", schemes=scheme)
        (artifacts / f"coverage-{scheme}-31.png").write_bytes(data)
        images[scheme] = check_png(data, (800, 600))
        legends[scheme] = " ".join(legend_texts(static_figure(model, "coverage", within, "800x600", schemes=scheme)))
    pvd, acv = images.values()
    assert (np.abs(pvd[..., :3] - acv[..., :3]).sum(axis=2) > 0.1).mean() > 0.002
    assert "Petites villes de demain" in legends["petites-villes-de-demain"] and "Action" not in legends["petites-villes-de-demain"]
    assert "Action Cœur de Ville" in legends["action-coeur-de-ville"] and "Petites villes" not in legends["action-coeur-de-ville"]
    both = " ".join(legend_texts(static_figure(model, "coverage", within, "800x600",
                                               schemes="petites-villes-de-demain,territoires-d-industrie")))
    assert "Petites villes de demain (liste 2024) + Territoires d'industrie" in both.replace("\n", " ") and "lacune" in both
    everything = " ".join(legend_texts(static_figure(model, "coverage", within, "800x600")))
    assert "4 dispositifs ou plus" in everything  # all 27 schemes: the count of schemes per commune


def test_static_map_of_the_agglomeration(client: TestClient, artifacts: Path, tmp_path: Path) -> None:
    """The agglomeration's static PDF: its name as title (no id), place names, the dolls side by side, sources and data
    version; its text read back from the PDF."""
    r = client.get("/static/scales.pdf", params={"within": "agglomeration-toulousaine"})
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    (artifacts / "scales-agglomeration-toulousaine.pdf").write_bytes(r.content)
    pdf = tmp_path / "map.pdf"
    pdf.write_bytes(r.content)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "Échelles territoriales — Agglomération toulousaine" in text and "agglomeration-toulousaine" not in text.split("\n")[0]
    for name in ("Toulouse", "Blagnac", "Colomiers", "Tournefeuille", "Muret", "Dialogue métropolitain de Toulouse", "Sources"):
        assert name in text, name
    model = client.app.state.holder.model
    assert model.version in " ".join(text.split())  # the data version
    ax = static_figure(model, "scales", model.territory("agglomeration-toulousaine")).axes[0]
    dolls = {c.get_gid() for c in ax.collections}
    assert {"epci", "grouping-agglomeration-toulousaine", "grouping-dialogue-metropolitain", "quartier"} <= dolls


def test_scales_maps_at_a_date(model: Model, client: TestClient, artifacts: Path, tmp_path: Path) -> None:
    """At a date, the static and standalone scales maps draw and name only the groupings in force (the agglomeration
    since October 2010, the Dialogue since April 2013, the partnership since January 2016) and say the date."""
    agglo = model.territory("agglomeration-toulousaine")
    every = {"agglomeration-toulousaine", "dialogue-metropolitain", "partenariat-toulouse-montpellier"}
    for day, present in ((dt.date(2012, 6, 1), {"agglomeration-toulousaine"}), (dt.date(2016, 6, 1), every)):
        absent = every - present
        fig = static_figure(model, "scales", agglo, at=day)
        drawn = {c.get_gid().removeprefix("grouping-") for c in fig.axes[0].collections if (c.get_gid() or "").startswith("grouping-")}
        assert drawn == present, (day, drawn)
        texts = " ".join(t.get_text() for t in fig.texts) + " ".join(t.get_text() for t in fig.axes[0].texts)
        assert f"situation au {french_date(day)}" in texts and "périmètres 2026" in texts
        names = {model.catalogue.schemes[g].name for g in absent}
        assert not any(n in " ".join(legend_texts(fig)) for n in names)
        page = standalone_page(model, "scales", agglo, at=day)
        assert f"situation au {french_date(day)}" in page
        assert all(n not in page for n in names), day
    r = client.get("/static/scales.pdf", params={"within": "agglomeration-toulousaine", "date": "2012-06-01"})
    assert r.status_code == 200
    (artifacts / "scales-agglomeration-toulousaine-2012.pdf").write_bytes(r.content)
    pdf = tmp_path / "map.pdf"
    pdf.write_bytes(r.content)
    text = " ".join(subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout.split())
    assert "situation au 1er juin 2012" in text and "Dialogue métropolitain" not in text and "Agglomération toulousaine" in text


def test_footer_stays_within_the_page(model: Model) -> None:
    """The sources line is wrapped within the page's margins (it ran to the page's edge)."""
    fig = static_figure(model, "scales", model.territory("agglomeration-toulousaine"), at=dt.date(2016, 6, 1))
    renderer = fig.canvas.get_renderer()
    right = max(t.get_window_extent(renderer).x1 for t in fig.texts)
    assert right < fig.bbox.width * 0.985


def test_static_coverage_map_at_a_date(model: Model) -> None:
    """The static coverage map counts what is in force at its date: the contrats de ville 2015-2020 in 2016 and not the
    2024 QPV, the reverse in 2025 (Haute-Garonne); a scheme covering nothing that day reads '(0 commune)'."""
    schemes = "contrats-de-ville-2015-2020,quartiers-prioritaires-2024"
    for day, on, off in ((dt.date(2016, 6, 1), "Contrats de ville 2015-2020", "Quartiers prioritaires de la politique de la ville (2024)"),
                         (dt.date(2025, 6, 1), "Quartiers prioritaires de la politique de la ville (2024)", "Contrats de ville 2015-2020")):
        fig = static_figure(model, "coverage", model.territory("31"), "800x600", schemes=schemes, at=day)
        texts = [t.replace("\n", " ") for t in legend_texts(fig)]
        assert f"{off} (0 commune)" in texts, texts
        counted = next(t for t in texts if t.startswith(f"{on} ("))
        assert int(counted.removeprefix(f"{on} (").split()[0]) > 0
        assert f"situation au {french_date(day)}" in fig.texts[0].get_text()
