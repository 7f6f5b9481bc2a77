"""Time on the real data: the situation at a date (API, CLI, exports, OGC, maps), counts that mean something,
what changed between two dates, timelines and typology classes."""
from __future__ import annotations

import datetime as dt
import html
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from geo.changes import changes
from geo.config import Settings
from geo.model import Model
from geo.periods import BadDate, french_date, parse_date, status_text
from geo.spreadsheet import write_csv

BIN = Path(sys.executable).parent / "territoires"
BEFORE, AFTER = "2016-06-01", "2025-06-01"
CV, QPV15, QPV24 = "contrats-de-ville-2015-2020", "quartiers-prioritaires-2015", "quartiers-prioritaires-2024"


def run(settings: Settings, *args: str) -> subprocess.CompletedProcess:
    env = os.environ | {"TERRITOIRES_MIRROR": str(settings.mirror), "TERRITOIRES_CACHE": str(settings.cache), "COLUMNS": "300"}
    return subprocess.run([str(BIN), *args], capture_output=True, text=True, env=env, timeout=600)


def in_force(stack: dict) -> set[str]:
    return {s["id"] for s in stack["schemes"] if s["in_force"]}


# --- the date rule ---------------------------------------------------------------------------------------------------

def test_french_dates_and_statuses():
    assert french_date(dt.date(2024, 1, 1)) == "1er janvier 2024" and french_date(dt.date(2020, 12, 31)) == "31 décembre 2020"
    assert french_date(dt.date(2021, 8, 2)) == "2 août 2021"
    day = dt.date(2025, 6, 1)
    assert status_text(dt.date(2015, 1, 1), dt.date(2020, 12, 31), day) == "terminé le 31 décembre 2020"
    assert status_text(dt.date(2026, 1, 1), None, day) == "à partir du 1er janvier 2026"
    assert status_text(None, None, day) == "non daté"
    assert status_text(dt.date(2015, 1, 1), None, day) == "en vigueur"


@pytest.mark.parametrize("text, french", [
    ("2023-02-30", "n'est pas une date"), ("2024-1-1", "n'est pas une date"), ("demain", "n'est pas une date"),
    ("1989-12-31", "du 1er janvier 1990 au 31 décembre 2100"), ("2101-01-01", "hors de la plage servie"),
])
def test_impossible_or_out_of_range_dates_are_refused(text: str, french: str):
    with pytest.raises(BadDate) as exc:
        parse_date(text)
    assert french in str(exc.value) and exc.value.status == 422
    assert "Fix:" in exc.value.english
    assert parse_date(None, today=dt.date(2026, 5, 4)) == dt.date(2026, 5, 4) == parse_date("  ", today=dt.date(2026, 5, 4))
    assert parse_date(" 2016-06-01 ") == dt.date(2016, 6, 1)


@pytest.mark.parametrize("url", ["/api/communes/31149", "/api/lookup?lon=1.32&lat=43.61", "/api/schemes", "/api/schemes/toulouse-metropole",
                                 "/api/coverage?schemes=toulouse-metropole", "/api/schemes/toulouse-metropole/overlap/dialogue-metropolitain",
                                 "/api/territories/grouping", "/api/typology?within=31", "/export/coverage.csv", "/static/coverage.png",
                                 "/fragments/chronologie/territoire/31149"])
def test_every_dated_route_refuses_a_bad_date_in_french(client, url: str):
    sep = "&" if "?" in url else "?"
    for bad, words in (("2023-02-30", "n'est pas une date"), ("1950-01-01", "hors de la plage")):
        r = client.get(f"{url}{sep}date={bad}")
        assert r.status_code == 422, (url, bad)
        assert words in (r.json()["detail"] if "json" in r.headers["content-type"] else html.unescape(r.text)), url


def test_map_pages_refuse_a_bad_date_with_a_french_page(client):
    r = client.get("/maps/coverage?schemes=toulouse-metropole&date=2016-13-01")
    assert r.status_code == 422 and r.headers["content-type"].startswith("text/html") and "n'est pas une date" in html.unescape(r.text)


def test_cli_bad_date_is_a_usage_error(settings: Settings):
    for args in (("coverage", "31149", "--date", "2016-02-30"), ("lookup", "1.32", "43.61", "--date", "1900-01-01"),
                 ("changes", "--from", "2026-01-01", "--to", "2016-01-01")):
        out = run(settings, *args)
        assert out.returncode == 2, (args, out.stderr)
        assert out.stderr.startswith("error: ") and "Fix:" in out.stderr and len(out.stderr.strip().splitlines()) == 1, out.stderr


# --- Colomiers: the contrat de ville in 2016, the 2024 QPV in 2025 -------------------------------------------------------

def test_colomiers_at_two_dates_on_the_api(client):
    before = client.get("/api/communes/31149", params={"date": BEFORE}).json()
    after = client.get("/api/communes/31149", params={"date": AFTER}).json()
    assert {CV, QPV15, "conseils-citoyens-contrat-de-ville"} <= in_force(before) and QPV24 not in in_force(before)
    assert QPV24 in in_force(after) and not {CV, QPV15, "conseils-citoyens-contrat-de-ville"} & in_force(after)
    # what is not in force is still listed, marked so, after what is
    marked = {s["id"]: s["status"] for s in after["schemes"]}
    assert marked[CV] == "terminé le 31 décembre 2020" and marked[QPV15] == "terminé le 31 décembre 2023"
    assert {s["id"]: s["status"] for s in before["schemes"]}[QPV24] == "à partir du 1er janvier 2024"
    flags = [s["in_force"] for s in after["schemes"]]
    assert flags == sorted(flags, reverse=True)
    assert before["date"] == BEFORE and before["perimeters"] == "périmètres 2026"
    # a point in Colomiers: the same answer, and the quartier it lies in marked at the date
    point = client.get("/api/lookup", params={"lon": 1.3370, "lat": 43.6110, "date": AFTER}).json()
    assert point["commune"]["code"] == "31149" and in_force(point) == in_force(after)


def test_colomiers_at_two_dates_on_the_cli(settings: Settings):
    before = json.loads(run(settings, "coverage", "31149", "--date", BEFORE, "--json").stdout)
    after = json.loads(run(settings, "coverage", "31149", "--date", AFTER, "--json").stdout)
    assert CV in in_force(before) and QPV24 not in in_force(before)
    assert QPV24 in in_force(after) and CV not in in_force(after)
    text = run(settings, "coverage", "31149", "--date", AFTER)
    assert text.returncode == 0 and "terminé le 31 décembre 2020" in text.stdout and "périmètres 2026" in text.stdout


def test_action_coeur_de_ville_generations_with_the_sources_of_their_dates(client):
    def acv(code: str, day: str) -> dict[str, dict]:
        stack = client.get(f"/api/communes/{code}", params={"date": day}).json()
        return {s["id"]: s for s in stack["schemes"] if s["id"].startswith("action-coeur-de-ville")}

    albi_2019, albi_2024 = acv("81004", "2019-06-01"), acv("81004", "2024-06-01")
    assert albi_2019["action-coeur-de-ville-2018"]["in_force"] and not albi_2019["action-coeur-de-ville"]["in_force"]
    assert albi_2024["action-coeur-de-ville"]["in_force"] and not albi_2024["action-coeur-de-ville-2018"]["in_force"]
    assert albi_2019["action-coeur-de-ville-2018"]["start_basis"] == "dispositif"
    assert "27 mars 2018" in albi_2019["action-coeur-de-ville-2018"]["date_source"]
    assert "2023-2026" in albi_2024["action-coeur-de-ville"]["date_source"]
    castel_2019, castel_2024 = acv("82033", "2019-06-01"), acv("82033", "2024-06-01")
    assert set(castel_2019) == {"action-coeur-de-ville"} and not castel_2019["action-coeur-de-ville"]["in_force"]
    assert castel_2024["action-coeur-de-ville"]["in_force"]


# --- counts that mean something ------------------------------------------------------------------------------------

def test_a_network_and_its_clubs_count_once_unless_apart(client):
    ids = "dialogue-metropolitain,club-revitalisation,club-transition-ecologique,club-developpement-equilibre"
    together = client.get("/api/coverage", params={"schemes": ids, "within": "243100518", "date": AFTER}).json()
    apart = client.get("/api/coverage", params={"schemes": ids, "within": "243100518", "date": AFTER, "clubs": "apart"}).json()
    assert together["counts"] == {"1": 37} and together["count"]["31555"] == 1 and len(together["communes"]["31555"]) == 4
    assert apart["counts"] == {"4": 37} and apart["clubs"] == "apart"
    # before the clubs existed (1 July 2023), the network alone
    assert client.get("/api/coverage", params={"schemes": ids, "within": "243100518", "date": "2020-01-01",
                                               "clubs": "apart"}).json()["counts"] == {"1": 37}


def test_generations_of_one_programme_do_not_double_a_count(model: Model):
    day = dt.date(2022, 1, 1)
    ids = ["petites-villes-de-demain-2021", "petites-villes-de-demain"]
    matrix = model.coverage.on(day).matrix(ids)
    both = matrix.index[(matrix.sum(axis=1) == 2).to_numpy()]
    assert len(both) > 150  # most communes are in both lists, both in force in 2022
    counts = model.coverage.on(day).counts(ids)
    assert set(counts.loc[both]) == {1} and counts.max() == 1


def test_coverage_counts_only_what_is_in_force(client, model: Model):
    ids = f"{CV},{QPV24},toulouse-metropole"
    before = client.get("/api/coverage", params={"schemes": ids, "within": "243100518", "date": BEFORE}).json()
    after = client.get("/api/coverage", params={"schemes": ids, "within": "243100518", "date": AFTER}).json()
    assert before["communes"]["31555"] == ["contrats-de-ville-2015-2020", "toulouse-metropole"]
    assert after["communes"]["31555"] == ["quartiers-prioritaires-2024", "toulouse-metropole"]
    assert before["count"]["31555"] == after["count"]["31555"] == 2  # QPV 2024 replaced the contrat de ville: one lineage, never both
    gaps = client.get("/api/coverage", params={"schemes": CV, "within": "31", "date": AFTER}).json()
    assert len(gaps["gaps"]) == len(model.territory("31").communes)
    overlap = client.get(f"/api/schemes/{CV}/overlap/toulouse-metropole", params={"date": AFTER}).json()
    assert overlap["both"]["communes"] == [] and overlap["date"] == AFTER


def test_scheme_answers_at_a_date(client):
    listing = {s["id"]: s for s in client.get("/api/schemes", params={"date": AFTER}).json()}
    assert not listing[CV]["in_force"] and listing[CV]["status"] == "terminé le 31 décembre 2020"
    assert listing[CV]["coverage"]["communes"] == 0 and listing[CV]["members_in_force"] == 0 and listing[CV]["members"] > 0
    assert listing[QPV24]["succeeds"] == [QPV15, CV]
    detail = client.get("/api/schemes/action-coeur-de-ville-2018", params={"date": "2019-06-01"}).json()
    assert {m["code"] for m in detail["members"] if m["in_force"]} >= {"81004", "82121"}
    assert "81004" in detail["communes"]


def test_cache_keys_on_the_parsed_date(client):
    responses = client.app.state.responses
    client.get("/api/coverage", params={"schemes": "villages-d-avenir", "within": "09"})
    size = len(responses)
    client.get("/api/coverage", params={"schemes": "villages-d-avenir", "within": "09", "date": dt.date.today().isoformat()})
    client.get("/api/coverage", params={"schemes": "villages-d-avenir", "within": " 09", "date": " "})
    assert len(responses) == size  # no date and today's date are one entry
    client.get("/api/coverage", params={"schemes": "villages-d-avenir", "within": "09", "date": "2016-06-01"})
    assert len(responses) == size + 1


def test_groupings_layer_at_a_date(client):
    def ids(day: str) -> set[str]:
        return {f["properties"]["code"] for f in client.get("/api/territories/grouping", params={"date": day, "simplify": 1000}).json()["features"]}
    assert ids("2012-01-01") == {"agglomeration-toulousaine"}
    assert ids("2017-01-01") == {"agglomeration-toulousaine", "dialogue-metropolitain", "partenariat-toulouse-montpellier"}


# --- exports, OGC, static maps ------------------------------------------------------------------------------------

def test_exports_at_a_date(client, settings: Settings, tmp_path: Path):
    body = client.get("/export/scheme-action-coeur-de-ville-2018.geojson", params={"within": "81", "date": "2024-01-01"}).json()
    albi = next(f["properties"] for f in body["features"] if f["properties"]["code"] == "81004")
    assert albi["in_force"] is False and albi["status"] == "terminé le 31 décembre 2022"
    assert body["provenance"]["date"] == "2024-01-01" and body["provenance"]["perimeters"] == "périmètres 2026"
    cov = {f["properties"]["code"]: f["properties"] for f in
           client.get("/export/coverage.geojson", params={"within": "31149", "date": BEFORE}).json()["features"]}
    assert cov["31149"][CV] == 1 and cov["31149"][QPV24] == 0
    later = client.get("/export/coverage.geojson", params={"within": "31149", "date": AFTER}).json()["features"][0]["properties"]
    assert later[CV] == 0 and later[QPV24] == 1
    out = run(settings, "export", "coverage", "--format", "csv", "--within", "31149", "--date", BEFORE, "-o", str(tmp_path / "c.csv"), "--json")
    assert out.returncode == 0 and json.loads(out.stdout)["date"] == BEFORE, out.stderr
    table = pd.read_csv(tmp_path / "c.csv", sep=";", dtype=str)
    assert table.loc[0, CV] == "1" and table.loc[0, QPV24] == "0"


def test_ogc_datetime_is_the_one_date_rule(client):
    url = "/ogc/collections/coverage/items"
    before = client.get(url, params={"datetime": BEFORE, "code": "31149"}).json()["features"][0]["properties"]
    after = client.get(url, params={"datetime": f"{AFTER}T12:00:00Z", "code": "31149"}).json()["features"][0]["properties"]
    assert before[CV] == 1 and after[CV] == 0 and after[QPV24] == 1
    scheme = "/ogc/collections/scheme-action-coeur-de-ville-2018/items"
    assert client.get(scheme, params={"datetime": "2024-01-01"}).json()["numberMatched"] == 0
    r = client.get(scheme, params={"datetime": "1980-01-01"})
    assert r.status_code == 422 and "hors de la plage" in r.json()["detail"]


def test_static_map_and_render_at_a_date(client, settings: Settings, tmp_path: Path):
    png = client.get("/static/scheme-action-coeur-de-ville-2018.png", params={"date": "2019-06-01", "size": "800x600"})
    assert png.status_code == 200 and png.content[:4] == b"\x89PNG"
    out = run(settings, "render", "coverage", "--within", "31149", "--date", BEFORE, "--size", "600x400", "-o", str(tmp_path / "c.svg"))
    assert out.returncode == 0, out.stderr
    assert "Situation au 1er juin 2016, périmètres 2026" in (tmp_path / "c.svg").read_text(encoding="utf-8")


# --- what changed ------------------------------------------------------------------------------------------------------

def test_what_changed_in_colomiers_from_2016_to_2026(model: Model):
    result = changes(model.coverage, dt.date(2016, 1, 1), dt.date(2026, 1, 1), model.territory("31149"))
    row = result.table.iloc[0]
    assert row["status"] == "both"
    assert "conseils-citoyens-contrat-de-ville" in row["lost"] and "partenariat-toulouse-montpellier" in row["gained"]
    assert ((CV, QPV15), (QPV24,)) in row["replaced"]  # a replacement, not a loss
    assert CV not in row["lost"] and QPV24 not in row["gained"]


def test_what_changed_on_the_api_and_in_csv(client):
    body = client.get("/api/changes", params={"from": "2016-01-01", "to": "2026-01-01", "within": "31"}).json()
    assert sum(c["communes"] for c in body["summary"].values()) == 586
    assert len(body["communes"]) + len(body["unchanged"]) == 586
    colomiers = next(c for c in body["communes"] if c["code"] == "31149")
    assert colomiers["status"] == "both" and {"id": QPV24, "name": colomiers["replaced"][0]["to"][0]["name"]} in colomiers["replaced"][0]["to"]
    csv = client.get("/api/changes.csv", params={"from": "2016-01-01", "to": "2026-01-01", "within": "31"})
    assert csv.content.startswith(b"\xef\xbb\xbf") and "attachment" in csv.headers["content-disposition"]
    table = pd.read_csv(io.BytesIO(csv.content), sep=";", dtype=str, encoding="utf-8-sig")
    assert len(table) == 586 and table.loc[table["code"] == "31149", "changement"].item() == "Gagnés et perdus"
    bad = client.get("/api/changes", params={"from": "2026-01-01", "to": "2016-01-01"})
    assert bad.status_code == 422 and "échangez-les" in bad.json()["detail"]
    page = client.get("/changements", params={"du": "2026-01-01", "au": "2016-01-01"})
    assert page.status_code == 422 and "est après la date de fin (au" in page.text


def test_csv_cells_are_formula_safe():
    buffer = io.BytesIO()
    write_csv(pd.DataFrame({"code": ["31555"], "commune": ['=HYPERLINK("http://x","y")'], "n": [-3], "t": ["-0,5"], "u": ["@SUM(A1)"]}),
              buffer)
    text = buffer.getvalue().decode("utf-8-sig")
    assert "'=HYPERLINK" in text and "'@SUM" in text and ";-3;" in text and ';"-0,5";' in text  # text quoted, not prefixed


def test_changes_cli_writes_the_table(settings: Settings, tmp_path: Path):
    out = run(settings, "changes", "--from", "2016-01-01", "--to", "2026-01-01", "--within", "31", "-o", str(tmp_path / "c.csv"), "--json")
    assert out.returncode == 0, out.stderr
    body = json.loads(out.stdout)
    assert body["summary"]["both"]["communes"] > 0 and body["perimeters"] == "périmètres 2026"
    assert len(pd.read_csv(tmp_path / "c.csv", sep=";", encoding="utf-8-sig")) == 586


def test_changes_page_and_map(client):
    page = client.get("/changements", params={"du": "2016-01-01", "au": "2026-01-01", "within": "31"})
    assert page.status_code == 200 and "Ce qui a changé — Haute-Garonne" in page.text and "périmètres 2026" in page.text
    assert '/maps/changes?from=2016-01-01&amp;to=2026-01-01&amp;within=31&amp;embed=1' in page.text
    text = client.get("/maps/changes", params={"from": "2016-01-01", "to": "2026-01-01", "within": "31"}).text
    cfg = json.loads(text.split("territoires.init(")[1].split(");\n")[0].split(", ", 1)[1])
    layers = {lyr["id"]: lyr for lyr in cfg["layers"]}
    assert sum(len(layers[c]["codes"]) for c in ("gained", "lost", "both", "unchanged")) == 586
    assert cfg["dates"]["from"] == "2016-01-01" and cfg["date"] == "2026-01-01"


# --- timelines and typology ---------------------------------------------------------------------------------------

def test_territory_timeline(client):
    page = client.get("/fragments/chronologie/territoire/31149", params={"date": AFTER}).text
    assert '<svg class="t-timeline-bars"' in page and "Aujourd&#39;hui" in page and "<table>" in page
    assert "Contrats de ville 2015-2020" in page and "terminé le 31 décembre 2020" in page
    assert page.count('class="t-bar"') == page.count("<tr><th scope=\"row\">")  # a table row per bar
    # in order of first start, generations of one lineage next to each other
    order = [part.split('"')[0] for part in page.split('data-id="')[1:]]
    assert order.index(QPV15) < order.index(QPV24) and order.index(CV) < order.index(QPV24)


def test_scheme_timeline(client):
    page = client.get("/fragments/chronologie/dispositif/action-coeur-de-ville-2018", params={"date": "2019-06-01"}).text
    assert page.count('class="t-bar"') == 24 and "Cahors (46042)" in page and "13 juillet 2018" in page
    assert "date du membre (DATE_SIGN" in page and "Remplacé par : Action Cœur de Ville (2023-2026)" in page
    big = client.get("/fragments/chronologie/dispositif/petites-villes-de-demain").text
    assert 'class="t-timeline-counts"' in big and 'class="t-bar"' not in big and big.count("<tr><th") == 224


def test_typology_by_class(client, model: Model):
    body = client.get("/api/typology", params={"within": "31", "date": AFTER, "schemes": "petites-villes-de-demain"}).json()
    grids = {g["id"]: g for g in body["grids"]}
    assert set(grids) == {"densite", "centralite", "ruralite", "montagne"}
    communes = len(model.territory("31").communes)
    for g in grids.values():
        assert sum(c["communes"] for c in g["classes"]) == communes
        assert sum(c["covered"] for c in g["classes"]) == sum(c["schemes"]["petites-villes-de-demain"] for c in g["classes"])
    assert [c["class"] for c in grids["densite"]["classes"]][:2] == ["Grands centres urbains", "Centres urbains intermédiaires"]
    assert grids["montagne"]["classes"][-1]["class"] == "Hors zone de montagne"
    assert client.get("/api/communes/31555").json()["typology"]["densite"] == "Grands centres urbains"
    chart = client.get("/fragments/typologie", params={"within": "31", "date": AFTER}).text
    assert chart.count("<figure") == 4 and "Bourgs ruraux" in chart and "<table>" in chart
