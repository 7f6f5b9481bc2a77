"""The planners' pages on the real data, through the app: valid HTML in French, what each page says checked against the
model, no jargon in what a person reads, the downloads they link answering, the embed policy, the fiche territoire PDF."""
from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
from urllib.parse import parse_qs, urlsplit

import html5lib
import pytest
from pypdf import PdfReader

from geo.chain import chain
from geo.completeness import NOT_PUBLIC, PARTIAL, SOURCED, completeness
from geo.exports.formats import FORMATS
from geo.model import Model
from service.pages.views import GAPS_SHOWN, combinations

PAGES = ["/", "/recherche?q=petites+villes", "/territoires/31149", "/territoires/243100518", "/territoires/dialogue-metropolitain",
         "/territoires/31", "/territoires/region:76", "/territoires/QP031018", "/territoires/31149/panneau",
         "/dispositifs/dialogue-metropolitain", "/dispositifs/club-revitalisation", "/dispositifs/contrats-territoriaux-occitanie",
         "/dispositifs/petites-villes-de-demain?tri=population&ordre=desc", "/dispositifs/conseils-citoyens-contrat-de-ville",
         "/couverture", "/couverture?schemes=petites-villes-de-demain,action-coeur-de-ville&within=31", "/sources",
         "/territoires/99999", "/territoires/31149?date=2016-06-01", "/territoires/31?date=2016-06-01", "/territoires/31149/panneau?date=2016-06-01",
         "/dispositifs/action-coeur-de-ville-2018?date=2019-06-01", "/dispositifs/petites-villes-de-demain-2021?date=2025-06-01",
         "/couverture?schemes=contrats-de-ville-2015-2020,quartiers-prioritaires-2024&within=31&date=2016-06-01",
         "/recherche?q=colomiers&date=2016-06-01", "/changements?du=2016-01-01&au=2026-01-01&within=31", "/changements?du=2016-01-01"]
ISO_DATE = re.compile(r"\b(19|20)\d\d-\d\d-\d\d\b")
#: Words that only English writes (a French page never shows them).
ENGLISH = re.compile(r"\b(the|and|with|from|which|was|were|named|members?|source list|founding|dataset|polygons?|by name|"
                     r"per commune|grid|not found|unknown)\b", re.IGNORECASE)
NS = "{http://www.w3.org/1999/xhtml}"
SVG = "{http://www.w3.org/2000/svg}"


def parse(text: str) -> ET.Element:
    """The page parsed by an HTML5 parser that raises on any parse error (an invalid document)."""
    return html5lib.HTMLParser(strict=True, namespaceHTMLElements=True).parse(text)


def visible(root: ET.Element) -> str:
    """What a person reads: the text outside scripts and styles, and the titles, labels and placeholders."""
    out = []

    def walk(el: ET.Element) -> None:
        if el.tag in (f"{NS}script", f"{NS}style") or "embed" in (el.get("class") or "").split():
            return  # the embed code is code to copy (an address), not words
        for attr in ("title", "aria-label", "placeholder", "alt"):
            if el.get(attr):
                out.append(el.get(attr))
        # a date field's value is the machine's date (AAAA-MM-JJ), which the browser shows in its reader's own format; the page
        # writes the date in words beside it
        if el.tag == f"{NS}input" and el.get("value") and el.get("type") not in ("hidden", "checkbox", "date") \
                and not el.get("value").startswith("http"):  # a permalink is an address, not words
            out.append(el.get("value"))
        out.append(el.text or "")
        for child in el:
            walk(child)
            out.append(child.tail or "")

    walk(root)
    return " ".join(" ".join(out).split())  # every space alike (the narrow no-break space of thousands too)


def fragment(text: str) -> ET.Element:
    return html5lib.HTMLParser(strict=True, namespaceHTMLElements=True).parseFragment(text)


@pytest.mark.parametrize("url", PAGES)
def test_every_page_is_valid_french_html_without_jargon(client, model: Model, url: str):
    r = client.get(url)
    assert r.status_code == (404 if url.endswith("99999") else 200), r.text[:300]
    assert r.headers["content-type"].startswith("text/html")
    if "/panneau" in url:  # a fragment the maps insert in their side panel
        text = visible(fragment(r.text))
    else:
        root = parse(r.text)
        assert root.get("lang") == "fr"
        text = visible(root)
    for bad in ("∈", "nan", "None", "null", "undefined"):
        assert not re.search(rf"(?<![\w-]){bad}(?![\w-])", text), (bad, url)
    assert not ISO_DATE.search(text), (ISO_DATE.search(text).group(0), url)
    english = ENGLISH.findall(text)
    assert not english, (url, sorted(set(english)))
    ids = [i for i in model.catalogue.schemes if "-" in i]  # scheme ids are in links only, never in the text
    assert not [i for i in ids if re.search(rf"(?<![\w/-]){re.escape(i)}(?![\w-])", text)], url


def test_home_says_what_the_service_covers(client, model: Model):
    root = parse(client.get("/").text)
    text = visible(root)
    assert "4 446 communes" in text
    assert f"{len(model.scales['epci'])} EPCI" in text and f"{len(model.catalogue.schemes)} dispositifs" in text
    assert "IGN ADMIN EXPRESS COG 2018" in text and "COG 2026" in text
    groups = [h.text.strip() for h in root.iter(f"{NS}h3")]
    assert [g.split(" (")[0] for g in groups] == ["Intercommunalités et groupements", "Réseaux et clubs", "Partenariats", "Contrats",
                                                   "Programmes nationaux"]
    links = {a.get("href") for a in root.iter(f"{NS}a")}
    assert {f"/dispositifs/{i}" for i in model.catalogue.schemes} <= links
    assert {"/maps/scales", "/couverture", "/sources"} <= links
    rows = {tr.find(f"{NS}th/{NS}a").text: visible(tr) for tr in root.iter(f"{NS}tr") if tr.find(f"{NS}th/{NS}a") is not None}
    for s in model.catalogue.schemes.values():
        assert completeness(model.catalogue, s).label in rows[s.name], s.id
    assert "membres non publics : importez un CSV" in rows["Contrats territoriaux Occitanie 2022-2027 (Région Occitanie)"]
    assert "liste partielle" in rows["Contrats Bourgs-Centres Occitanie (Région Occitanie)"]
    assert "liste sourcée" in rows["Dialogue métropolitain de Toulouse"]


def test_completeness_rule(model: Model):
    c = model.catalogue
    assert completeness(c, c.schemes["contrats-territoriaux-occitanie"]) is NOT_PUBLIC  # no member known
    assert completeness(c, c.schemes["atelier-des-territoires"]) is NOT_PUBLIC
    assert completeness(c, c.schemes["club-revitalisation"]) is PARTIAL  # its network's members
    assert completeness(c, c.schemes["bourgs-centres-occitanie"]) is PARTIAL  # declared partial: 10 of 417
    assert completeness(c, c.schemes["petites-villes-de-demain"]) is SOURCED


@pytest.mark.parametrize("q, href", [("petites villes", "/dispositifs/petites-villes-de-demain"),
                                     ("petites villes", "/dispositifs/petites-villes-de-demain-2021"),
                                     ("dialogue", "/dispositifs/dialogue-metropolitain"), ("31555", "/territoires/31555"),
                                     ("Colomiers", "/territoires/31149"), ("243100518", "/territoires/243100518"),
                                     ("action coeur", "/dispositifs/action-coeur-de-ville")])
def test_search_finds_territories_and_schemes(client, q: str, href: str):
    root = parse(client.get("/recherche", params={"q": q}).text)
    assert href in [a.get("href") for a in root.iter(f"{NS}a")]
    frag = fragment(client.get("/recherche/suggestions", params={"q": q}).text)
    assert href in [a.get("href") for a in frag.iter(f"{NS}a")]


def test_suggestions_of_the_builder_choose_territories_only(client):
    frag = fragment(client.get("/recherche/suggestions", params={"q": "haute garonne", "pour": "territoire"}).text)
    buttons = list(frag.iter(f"{NS}button"))
    assert buttons[0].get("data-within") == "31" and buttons[0].get("data-name") == "Haute-Garonne"
    frag = fragment(client.get("/recherche/suggestions", params={"q": "petites villes", "pour": "territoire"}).text)
    assert list(frag.iter(f"{NS}button")) == []  # schemes are not territories


def test_territory_page_of_colomiers(client, model: Model):
    root = parse(client.get("/territoires/31149").text)
    text = visible(root)
    dolls = [p.find(f"{NS}a").text if p.find(f"{NS}a") is not None else p.find(f"{NS}strong").text
             for p in root.iter(f"{NS}p") if p.get("class") == "doll-head"]
    assert dolls == [d.nom for d in chain(model, model.territory("31149")).dolls] == ["Occitanie", "Agglomération toulousaine",
                                                                                      "Toulouse Métropole", "Colomiers"]
    assert "40 882 habitants" in text
    assert "par Toulouse Métropole, membre du réseau Dialogue métropolitain de Toulouse" in text  # a club, through its network
    assert "par le quartier prioritaire En Jacca" in text and "la commune est membre" in text
    table = next(t for t in root.iter(f"{NS}table") if "Dispositif" in visible(t.find(f"{NS}thead")))
    names = [visible(tr.find(f"{NS}th/{NS}a")) for tr in table.find(f"{NS}tbody")]
    assert sorted(names) == sorted({s["name"] for s in model.stack("31149")["schemes"]})
    iframe = root.find(f".//{NS}iframe")
    query = parse_qs(urlsplit(iframe.get("src")).query)
    assert query["focus"] == ["agglomeration-toulousaine"] and query["embed"] == ["1"] and iframe.get("title")
    links = [a.get("href") for a in root.iter(f"{NS}a") if a.get("download") is not None]
    assert "/territoires/31149/fiche.pdf" in links and "/export/communes.gpkg?within=31149" in links
    for href in links:
        if not href.endswith((".pdf", ".png")):
            r = client.get(href)
            assert r.status_code == 200 and len(r.content) > 100, href


def test_territory_pages_list_what_they_hold(client, model: Model):
    epci = visible(parse(client.get("/territoires/243100518").text))
    assert "Communes membres (37)" in epci and "Colomiers" in epci
    grouping = parse(client.get("/territoires/dialogue-metropolitain").text)
    assert "EPCI membres (10)" in visible(grouping)
    assert "/dispositifs/dialogue-metropolitain" in [a.get("href") for a in grouping.iter(f"{NS}a")]
    quartier = visible(parse(client.get("/territoires/QP031018").text))
    assert "Négreneys" in quartier and "Toulouse" in quartier and "population non renseignée" in quartier


def test_scheme_page_members_sorted_with_downloads_and_embed(client, model: Model):
    root = parse(client.get("/dispositifs/dialogue-metropolitain?tri=population&ordre=desc").text)
    table = next(t for t in root.iter(f"{NS}table") if "sortable" in (t.get("class") or ""))
    names = [visible(tr.find(f"{NS}th")) for tr in table.find(f"{NS}tbody")]
    population = model.scales["epci"].set_index("code")["population"]
    expected = sorted(model.catalogue.schemes["dialogue-metropolitain"].codes, key=lambda c: -population[c])
    assert names == [model.names("epci")[c] for c in expected]
    assert table.find(f".//{NS}th[@aria-sort='descending']") is not None
    text = visible(root)
    assert "depuis le 8 avril 2013" in text and "Le Journal Toulousain" in text and "liste sourcée" in text
    downloads = [a.get("href") for a in root.iter(f"{NS}a") if a.get("download") is not None]
    templates = [d for d in downloads if "/modele." in d]
    assert templates == ["/dispositifs/dialogue-metropolitain/modele.xlsx", "/dispositifs/dialogue-metropolitain/modele.csv"]
    downloads = [d for d in downloads if d not in templates]
    assert [d.rsplit(".", 1)[-1] for d in downloads] == [f.extension.rsplit(".", 1)[-1] for f in FORMATS.values()] + ["png", "pdf"]
    for href in downloads[:5] + templates:
        assert client.get(href).status_code == 200, href
    embed = root.find(f".//{NS}textarea").text
    assert re.fullmatch(r'<iframe src="http://testserver/maps/schemes/dialogue-metropolitain\?embed=1" .*title="Dialogue métropolitain '
                        r'de Toulouse"></iframe>', embed)


def test_scheme_page_explains_gaps_in_french(client):
    text = visible(parse(client.get("/dispositifs/contrats-territoriaux-occitanie").text))
    assert "membres non publics : importez un CSV" in text and "Aucun membre n'est connu" in text
    club = visible(parse(client.get("/dispositifs/club-revitalisation").text))
    assert "tous les membres du réseau Dialogue métropolitain de Toulouse" in club and "liste partielle" in club


def test_coverage_builder(client, model: Model):
    ids = ["petites-villes-de-demain", "zones-de-revitalisation-rurale-2019", "zone-de-montagne"]
    r = client.get("/couverture", params=[("s", i) for i in ids] + [("territoire", "Haute-Garonne")], follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/couverture?schemes=" + "%2C".join(ids) + "&within=31"
    root = parse(client.get(r.headers["location"]).text)
    t = model.territory("31")
    matrix = model.coverage.matrix(ids, t)
    gaps = sorted(matrix.index[matrix.sum(axis=1) == 0])
    table = next(x for x in root.iter(f"{NS}table") if "gaps" in (x.get("class") or ""))
    shown = [tr.find(f"{NS}td").text for tr in table.find(f"{NS}tbody")]
    assert set(shown) <= set(gaps) and len(shown) == min(len(gaps), GAPS_SHOWN) and len(gaps) > 0
    assert visible(table.find(f"{NS}caption")).startswith(f"{len(gaps):,} commune".replace(",", " "))
    overlaps = next(x for x in root.iter(f"{NS}table") if "overlaps" in (x.get("class") or ""))
    shown = [int("".join(tr.find(f"{NS}td").text.split())) for tr in overlaps.find(f"{NS}tbody")]
    assert shown == [len(codes) for _, codes in combinations(matrix)] and sum(shown) > 0
    assert {i: "checked" for i in ids} == {x.get("value"): "checked" for x in root.iter(f"{NS}input")
                                           if x.get("name") == "s" and x.get("checked") is not None}
    permalink = root.find(f".//{NS}input[@id='permalien']").get("value")
    assert permalink.endswith(r.headers["location"])
    hrefs = [a.get("href") for a in root.iter(f"{NS}a") if a.get("download") is not None]
    rows = list(csv.reader(io.StringIO(client.get(hrefs[0]).content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][-len(ids) - 1:] == [*ids, "n_schemes"] and len(rows) - 1 == len(t.communes)  # exactly the ticked schemes
    gap_rows = list(csv.reader(io.StringIO(client.get(hrefs[1]).content.decode("utf-8-sig")), delimiter=";"))
    assert sorted(row[0] for row in gap_rows[1:]) == gaps


def test_coverage_builder_territory_typed_by_name_or_not_found(client):
    r = client.get("/couverture", params={"s": "villages-d-avenir", "territoire": "toulouse metropole"}, follow_redirects=False)
    assert r.headers["location"].endswith("within=243100518")
    r = client.get("/couverture", params={"s": "villages-d-avenir", "territoire": "Atlantide"})
    assert "Aucun territoire ne s'appelle « Atlantide »" in visible(parse(r.text))


def test_sources_page(client, model: Model):
    from geo.sources import catalogue

    text = visible(parse(client.get("/sources").text))
    for d in catalogue().values():
        assert d.sha256 in text and d.file in text
    assert model.version in text and "Publiée le" in text and "réussie" in text
    report = model.territories.reconciliation
    assert f"Polygones COG 2018 lus {report.polygons_in:,}".replace(",", " ") in text and "Rapprochement des millésimes" in text


def test_panel_fragment_names_the_chain_and_the_schemes(client):
    frag = fragment(client.get("/territoires/31069/panneau").text)
    text = visible(frag)
    assert "Blagnac" in text and "Toulouse Métropole" in text and "Dialogue métropolitain de Toulouse" in text
    assert "/territoires/31069/fiche.pdf" in [a.get("href") for a in frag.iter(f"{NS}a")]


@pytest.mark.parametrize("url, policy", [("/maps/scales?embed=1", "frame-ancestors *"), ("/maps/schemes/dialogue-metropolitain?embed=true",
                                                                                           "frame-ancestors *"),
                                         ("/maps/scales", "frame-ancestors 'self'"), ("/", "frame-ancestors 'self'"),
                                         ("/territoires/31149", "frame-ancestors 'self'"), ("/api/schemes", "frame-ancestors 'self'")])
def test_embeddable_maps_may_be_framed_by_any_site_other_pages_by_this_one(client, url: str, policy: str):
    assert client.get(url).headers["content-security-policy"] == policy


def test_frame_ancestors_setting_narrows_the_embeddable_maps(settings):
    from fastapi.testclient import TestClient

    from service.app import create_app
    from service.limits import Limits

    with TestClient(create_app(settings, limits=Limits(frame_ancestors=("'self'", "https://www.aua-toulouse.org")))) as c:
        assert c.get("/maps/scales?embed=1").headers["content-security-policy"] == "frame-ancestors 'self' https://www.aua-toulouse.org"
        assert c.get("/maps/scales").headers["content-security-policy"] == "frame-ancestors 'self'"


def test_fiche_territoire_pdf(client, model: Model):
    r = client.get("/territoires/31069/fiche.pdf")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    pdf = PdfReader(io.BytesIO(r.content))
    assert len(pdf.pages) >= 3
    assert all(abs(float(p.mediabox.width) - 595.3) < 1 or abs(float(p.mediabox.width) - 841.9) < 1 for p in pdf.pages)  # A4
    text = "\n".join(p.extract_text() for p in pdf.pages)
    assert "Blagnac" in text and "Poupées russes" in text and "Dispositifs qui le couvrent" in text
    for s in {x["name"] for x in model.stack("31069")["schemes"]}:
        assert s.split(" ")[0] in text
    assert f"version {model.version}" in text and not ISO_DATE.search(text)
    assert not pdf.pages[0].images  # vector: text and paths, no picture of the page


# --- at a date ---------------------------------------------------------------------------------------------------

CV, QPV24 = "contrats-de-ville-2015-2020", "quartiers-prioritaires-2024"


def statuses(root: ET.Element) -> dict[str, str]:
    """The schemes' table of a territory page: scheme id (from its link) → the status written at the page's date."""
    table = next(t for t in root.iter(f"{NS}table") if "coverings" in (t.get("class") or ""))
    return {urlsplit(tr.find(f"{NS}th/{NS}a").get("href")).path.rsplit("/", 1)[-1]: visible(tr.find(f"{NS}td"))
            for tr in table.find(f"{NS}tbody")}


@pytest.mark.parametrize("day, before, after", [("2016-06-01", "en vigueur", "à partir du 1er janvier 2024"),
                                                ("2025-06-01", "terminé le 31 décembre 2020", "en vigueur")])
def test_territory_page_at_a_date_lists_what_is_in_force_and_marks_the_rest(client, model: Model, day: str, before: str, after: str):
    import datetime as dt

    root = parse(client.get("/territoires/31149", params={"date": day}).text)
    text = visible(root)
    shown = statuses(root)
    assert shown[CV] == before and shown[QPV24] == after  # Colomiers: the contrat de ville 2015-2020 in 2016, the QPV 2024 in 2025
    stack = model.stack("31149", dt.date.fromisoformat(day))["schemes"]
    in_force = {x["id"] for x in stack if x["in_force"]}
    assert {i for i, st in shown.items() if st in ("en vigueur", "non daté")} == in_force
    assert set(shown) == {x["id"] for x in stack}
    order = list(shown)  # those in force first
    assert all(order.index(a) < order.index(b) for a in in_force for b in set(order) - in_force)
    french = {"2016-06-01": "1er juin 2016", "2025-06-01": "1er juin 2025"}[day]
    assert f"Situation au {french} — périmètres 2026" in text
    assert f"{len(in_force)} dispositif{'s' if len(in_force) > 1 else ''} en vigueur au {french}" in text
    # the links, the map and the downloads keep the date; the fiche (today's) does not
    crumbs = [a.get("href") for a in root.find(f".//{NS}nav[@class='crumbs']").iter(f"{NS}a")]
    assert crumbs and all(h.endswith(f"?date={day}") for h in crumbs)
    assert parse_qs(urlsplit(root.find(f".//{NS}iframe").get("src")).query)["date"] == [day]
    downloads = [a.get("href") for a in root.iter(f"{NS}a") if a.get("download") is not None]
    assert "/territoires/31149/fiche.pdf" in downloads
    assert all(f"date={day}" in h for h in downloads if not h.endswith("fiche.pdf")) and len(downloads) > 5
    form = root.find(f".//{NS}form[@class='date']")
    assert form.get("method") == "get" and form.get("action") == "/territoires/31149"
    assert form.find(f".//{NS}input[@name='date']").get("value") == day
    assert "revenir à aujourd'hui" in visible(form)


def test_territory_page_without_a_date_is_today_and_links_without_one(client, model: Model):
    import datetime as dt

    root = parse(client.get("/territoires/31149").text)
    today = dt.date.today()
    assert root.find(f".//{NS}form[@class='date']//{NS}input[@name='date']").get("value") == today.isoformat()
    shown = statuses(root)
    in_force = {x["id"] for x in model.stack("31149", today)["schemes"] if x["in_force"]}
    assert {i for i, st in shown.items() if st in ("en vigueur", "non daté")} == in_force
    assert not [a.get("href") for a in root.iter(f"{NS}a") if "date=" in (a.get("href") or "")]


def test_territory_page_has_its_timeline_typology_and_what_changed(client, model: Model):
    commune = parse(client.get("/territoires/31149", params={"date": "2016-06-01"}).text)
    section = commune.find(f".//{NS}section[@aria-labelledby='chronologie']")
    bars = [g.get("data-id") for g in section.iter(f"{SVG}g") if g.get("class") == "t-bar"]
    assert CV in bars and QPV24 in bars
    assert "Situation affichée (1er juin 2016)" in visible(section)
    assert section.find(f".//{NS}section[@class='t-typology']") is None  # one commune: no breakdown by class
    changes = next(a.get("href") for a in commune.iter(f"{NS}a") if visible(a) == "Ce qui a changé depuis 2016")
    assert parse_qs(urlsplit(changes).query) == {"du": ["2016-01-01"], "au": ["2016-06-01"], "within": ["31149"]}
    assert client.get(changes).status_code == 200
    dep = parse(client.get("/territoires/31").text)
    charts = dep.find(f".//{NS}section[@aria-labelledby='chronologie']").findall(f".//{NS}figure[@class='t-typology-grid']")
    assert [f.get("data-grid") for f in charts] == ["densite", "centralite", "ruralite", "montagne"]


def test_scheme_page_at_a_date(client, model: Model):
    import datetime as dt

    page = parse(client.get("/dispositifs/action-coeur-de-ville-2018", params={"date": "2019-06-01"}).text)
    text = visible(page)
    at = dt.date(2019, 6, 1)
    summary = model.coverage.on(at).summary("action-coeur-de-ville-2018")
    assert summary["communes"] > 0 and f"Couvre au 1er juin 2019 {summary['communes']} communes" in text
    table = next(t for t in page.iter(f"{NS}table") if "sortable" in (t.get("class") or ""))
    heads = [visible(th) for th in table.find(f"{NS}thead").iter(f"{NS}th")]
    column = heads.index("Au 1er juin 2019")
    status = {visible(tr.find(f"{NS}th")): visible(list(tr)[column]) for tr in table.find(f"{NS}tbody")}
    assert status["Cahors"] == "en vigueur"
    later = visible(parse(client.get("/dispositifs/action-coeur-de-ville", params={"date": "2019-06-01"}).text))
    assert "Couvre au 1er juin 2019 0 commune" in later and "à partir du" in later
    assert "/maps/schemes/action-coeur-de-ville-2018?embed=1&date=2019-06-01" in [f.get("src") for f in page.iter(f"{NS}iframe")]
    bars = page.find(f".//{NS}section[@aria-labelledby='chronologie']")
    assert len([g for g in bars.iter(f"{SVG}g") if g.get("class") == "t-bar"]) == 24


@pytest.mark.parametrize("scheme, offered", [("contrats-territoriaux-occitanie", True), ("bourgs-centres-occitanie", True),
                                             ("petites-villes-de-demain", False), ("club-revitalisation", False)])
def test_member_list_template_offered_where_members_are_imported(client, scheme: str, offered: bool):
    root = parse(client.get(f"/dispositifs/{scheme}").text)
    links = [a.get("href") for a in root.iter(f"{NS}a") if "/modele." in (a.get("href") or "")]
    assert links == ([f"/dispositifs/{scheme}/modele.xlsx", f"/dispositifs/{scheme}/modele.csv"] if offered else [])
    for href in links:
        r = client.get(href)
        assert r.status_code == 200 and r.headers["content-disposition"].startswith("attachment")
    if offered:
        header = client.get(links[1]).content.decode("utf-8-sig").splitlines()[0]
        assert header == "code;dispositif;role;debut;fin;source;note"


def test_coverage_builder_at_a_date(client, model: Model):
    import datetime as dt

    ids = [CV, QPV24]
    r = client.get("/couverture", params=[("s", i) for i in ids] + [("territoire", "31"), ("date", "2016-06-01")], follow_redirects=False)
    assert r.status_code == 303 and parse_qs(urlsplit(r.headers["location"]).query)["date"] == ["2016-06-01"]  # the form keeps the date
    root = parse(client.get(r.headers["location"]).text)
    matrix = model.coverage.on(dt.date(2016, 6, 1)).matrix(ids, model.territory("31"))
    table = next(t for t in root.iter(f"{NS}table") if "Communes couvertes par chaque dispositif" in visible(t.find(f"{NS}caption")))
    rows = {visible(tr.find(f"{NS}th")): [visible(td) for td in tr.findall(f"{NS}td")] for tr in table.find(f"{NS}tbody")}
    names = {i: model.catalogue.schemes[i].name for i in ids}
    assert rows[names[CV]] == ["en vigueur", str(int(matrix[CV].sum()))] and int(matrix[CV].sum()) > 0
    assert rows[names[QPV24]] == ["à partir du 1er janvier 2024", "0"]
    permalink = root.find(f".//{NS}input[@id='permalien']").get("value")
    assert parse_qs(urlsplit(permalink).query)["date"] == ["2016-06-01"]
    assert parse_qs(urlsplit(root.find(f".//{NS}iframe").get("src")).query)["date"] == ["2016-06-01"]
    assert root.find(f".//{NS}section[@class='t-typology']") is not None
    csv_href = next(a.get("href") for a in root.iter(f"{NS}a") if a.get("download") is not None)
    rows = list(csv.reader(io.StringIO(client.get(csv_href).content.decode("utf-8-sig")), delimiter=";"))
    assert sum(int(r[-2]) for r in rows[1:]) == 0  # the QPV 2024 column: none in force in 2016


def test_bad_date_on_a_page_is_a_french_error(client):
    r = client.get("/territoires/31149", params={"date": "2023-02-30"})
    assert r.status_code == 422 and "n'est pas une date" in visible(parse(r.text))


def test_changements_in_the_pages_layout_and_linked(client, model: Model):
    root = parse(client.get("/changements", params={"du": "2016-01-01", "au": "2026-01-01", "within": "31"}).text)
    text = visible(root)
    assert root.find(f".//{NS}header[@class='site']") is not None and root.find(f".//{NS}form[@role='search']") is not None
    assert "Ce qui a changé — Haute-Garonne" in text and "Dispositifs au 1er janvier 2016" in text
    assert "Du 1er janvier 2016 au 1er janvier 2026 — périmètres 2026" in text
    body = client.get("/api/changes", params={"from": "2016-01-01", "to": "2026-01-01", "within": "31"}).json()
    table = next(t for t in root.iter(f"{NS}table") if "changes" in (t.get("class") or ""))
    assert len(table.find(f"{NS}tbody")) == len(body["communes"])
    home = parse(client.get("/").text)
    assert "/changements?du=2016-01-01" in [a.get("href") for a in home.iter(f"{NS}a") if visible(a) == "Ce qui a changé depuis 2016"]


def test_sources_lists_the_published_member_lists(settings, tmp_path):
    from dataclasses import replace

    from fastapi.testclient import TestClient

    from geo.schemes import Member, MemberSource
    from geo.versions import publish_members
    from service.app import create_app

    deployment = replace(settings, data_dir=tmp_path / "donnees")
    source = MemberSource("Délibération <b>du conseil</b>", "https://www.laregion.fr/contrats")
    record = publish_members(deployment, {"contrats-territoriaux-occitanie": (Member("243100518", role="signataire", source=source),)},
                             by="agence")
    with TestClient(create_app(deployment)) as c:
        root = parse(c.get("/sources").text)
        table = root.find(f".//{NS}table[@class='data versions']")
        row = visible(table.find(f"{NS}tbody/{NS}tr"))
        assert row.startswith(f"{record['version']} (en service)") and "agence" in row
        assert "Contrats territoriaux Occitanie 2022-2027 (Région Occitanie) : 1 ajouté" in row
        assert f"En service : version {record['version']}" in visible(root)
        scheme = visible(parse(c.get("/dispositifs/contrats-territoriaux-occitanie").text))
        assert "Délibération <b>du conseil</b>" in scheme  # the member's own source, escaped
