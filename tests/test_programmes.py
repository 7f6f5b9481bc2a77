"""Programme generations, their periods and placements, and the quartier scale, on the real data mirror.

Expected counts are computed here from the files themselves (pandas), not written down.
"""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from geo.config import OCCITANIE, Settings
from geo.model import Model
from geo.periods import Basis, in_force
from geo.programmes import PROGRAMMES, ZONE_MIN_SHARE

D = dt.date


def _props(mirror: Path, name: str) -> pd.DataFrame:
    features = json.loads((mirror / "programmes" / name).read_bytes())["features"]
    return pd.DataFrame([f["properties"] for f in features]).astype("string")


def _dep(code: pd.Series) -> pd.Series:
    return code.str[:3].where(code.str.startswith("97"), code.str[:2])


def _rekeyed(codes: pd.Series, model: Model) -> set[str]:
    """Codes of the file mapped to their 2026 commune (merged communes to their successor)."""
    parent = model.territories.cog.links.set_index("code")["parent"]
    return set(codes.map(lambda c: parent.get(c, c)))


def _members_in_scope(model: Model, scheme_id: str) -> set[str]:
    scheme = model.catalogue.schemes[scheme_id]
    return set(scheme.codes) & set(model.scales[scheme.member_scale]["code"])


@pytest.mark.parametrize("scheme_id, file, dep_column, code_column", [
    ("action-coeur-de-ville-2018", "acv-2018.geojson", "dep", "insee_com"),
    ("action-coeur-de-ville", "acv-2025.geojson", "insee_dep", "insee_com"),
    ("petites-villes-de-demain-2021", "pvd-2021.csv", "insee_dep", "insee_com"),
    ("zone-de-montagne", "grille-montagne.csv", None, "insee_com"),
])
def test_commune_lists_count_as_their_file_in_occitanie(model: Model, mirror: Path, scheme_id: str, file: str,
                                                        dep_column: str | None, code_column: str):
    path = mirror / "programmes" / file
    table = pd.read_csv(path, dtype=str, keep_default_na=False) if file.endswith(".csv") else _props(mirror, file)
    dep = table[dep_column] if dep_column else _dep(table[code_column])
    expected = _rekeyed(table.loc[dep.isin(OCCITANIE), code_column], model)
    assert _members_in_scope(model, scheme_id) == expected and len(expected) > 0


def test_pvd_2024_counts_as_its_file_in_occitanie(model: Model, mirror: Path):
    codes = _props(mirror, "pvd-2024.geojson")["insee_com"].str.split(";").explode()
    assert _members_in_scope(model, "petites-villes-de-demain") == set(codes[_dep(codes).isin(OCCITANIE)])


@pytest.mark.parametrize("scheme_id, file", [
    ("territoires-d-engagement", "territoires-engagement.geojson"),
    ("avenir-montagnes-ingenierie", "avenir-montagnes-ingenierie.geojson"),
    ("avenir-montagnes-mobilites", "avenir-montagnes-mobilites.geojson"),
])
def test_mixed_commune_and_epci_lists_cover_their_communes(model: Model, mirror: Path, scheme_id: str, file: str):
    """Members given as INSEE codes, commune SIRENs or EPCI SIRENs: the communes in scope they stand for."""
    codes = _props(mirror, file)["siren_groupement"].str.replace(",", ";").str.split(";").explode().str.strip()
    cog = model.territories.cog
    communes = set(codes[codes.str.len() == 5]) | set(codes.map(cog.commune_of_siren).dropna())
    communes |= set(cog.epci_members.loc[cog.epci_members["epci"].isin(codes), "commune"])
    expected = communes & set(model.scales["commune"]["code"])
    assert set(model.coverage.scheme_communes(scheme_id)) == expected and len(expected) > 0


def test_four_occitanie_communes_are_only_in_the_second_acv_generation(model: Model):
    first = _members_in_scope(model, "action-coeur-de-ville-2018")
    second = _members_in_scope(model, "action-coeur-de-ville")
    assert second - first == {"31483", "34108", "81163", "82033"} and first <= second


def test_acv_generations_at_2019_and_2024(model: Model):
    """Albi is in both generations, Castelsarrasin only in the second: who is in force at each date."""
    def in_force_at(scheme_id: str, code: str, at: dt.date) -> bool:
        s = model.catalogue.schemes[scheme_id]
        return any(in_force(p.start, p.end, at) for m in s.members if m.code == code for p in (s.period_of(m),))

    assert in_force_at("action-coeur-de-ville-2018", "81004", D(2019, 6, 1))
    assert not in_force_at("action-coeur-de-ville-2018", "81004", D(2024, 6, 1))
    assert in_force_at("action-coeur-de-ville", "81004", D(2024, 6, 1))
    assert not in_force_at("action-coeur-de-ville", "81004", D(2019, 6, 1))
    assert not in_force_at("action-coeur-de-ville-2018", "82033", D(2019, 6, 1))
    assert in_force_at("action-coeur-de-ville", "82033", D(2024, 6, 1))
    assert model.catalogue.schemes["action-coeur-de-ville"].succeeds == ("action-coeur-de-ville-2018",)


def test_acv_2018_signature_dates_only_where_the_row_is_consistent(model: Model, mirror: Path):
    acv = model.catalogue.schemes["action-coeur-de-ville-2018"]
    by_code = {m.code: m for m in acv.members}
    cahors = acv.period_of(by_code["46042"])  # NOM_COM Cahors, DATE_SIGN 13 juillet 2018
    assert (cahors.start, cahors.start_basis) == (D(2018, 7, 13), Basis.MEMBER)
    assert "DATE_SIGN" in by_code["46042"].period_source
    table = _props(mirror, "acv-2018.geojson").set_index("insee_com")
    assert table.at["82121", "NOM_COM"] != table.at["82121", "libgeo"]  # Montauban's row carries another town's labels
    montauban = acv.period_of(by_code["82121"])
    assert (montauban.start, montauban.start_basis) == (acv.start, Basis.SCHEME)


def test_members_without_a_date_count_over_their_generation(model: Model):
    pvd = model.catalogue.schemes["petites-villes-de-demain-2021"]
    periods = {pvd.period_of(m).start_basis for m in pvd.members}
    assert periods == {Basis.SCHEME}  # date_signature is empty in this file
    rows = model.coverage.table[model.coverage.table["scheme"] == "petites-villes-de-demain"]
    assert {"membre"} <= set(rows["start_basis"]) and set(rows["start_basis"]) <= {"membre", "dispositif"}


def test_every_programme_states_generation_period_and_source(model: Model):
    for prog in PROGRAMMES:
        s = model.catalogue.schemes[prog.id]
        assert s.source.get("url") and s.as_of and s.notes, s.id
        assert s.period_source or "non daté" in s.notes or "Zonage permanent" in s.notes, s.id  # a gap is said
        for earlier in s.succeeds:
            assert earlier in model.catalogue.schemes, (s.id, earlier)
    qpv = model.catalogue.schemes["quartiers-prioritaires-2024"]
    assert {"quartiers-prioritaires-2015", "contrats-de-ville-2015-2020"} <= set(qpv.succeeds)


def test_zrr_rule_and_its_agreement(model: Model):
    """A commune is in the ZRR when at least half of its area is inside the dissolved polygon."""
    shares = model.territories.cog.zone_shares
    shares = shares[shares["zone"] == "zrr-2019"].set_index("commune")["share"]
    shares = shares.reindex(model.scales["commune"]["code"], fill_value=0.0)
    assert _members_in_scope(model, "zones-de-revitalisation-rurale-2019") == set(shares.index[shares >= ZONE_MIN_SHARE])
    clear = ((shares <= 0.05) | (shares >= 0.95)).mean()
    assert clear >= 0.9, f"only {clear:.1%} of the communes are clearly in or out"
    near_rule = ((shares > 0.25) & (shares < 0.75)).mean()
    assert near_rule <= 0.01, f"{near_rule:.1%} of the communes are near the 50 % rule"


@pytest.mark.parametrize("scheme_id, file, unplaced", [
    ("contrats-de-ruralite", "contrats-ruralite-2019.geojson", "Sud Toulousain"),  # a PETR: not an EPCI
    ("contrats-de-transition-ecologique", "cte-2019.geojson", "Le Sicoval en Transition écologique"),
])
def test_contracts_by_name_are_placed_or_listed(model: Model, mirror: Path, scheme_id: str, file: str, unplaced: str):
    """Every row of the file is either a member (one EPCI, named in its note) or named in a warning."""
    table = _props(mirror, file)
    scheme = model.catalogue.schemes[scheme_id]
    placed = [m for m in scheme.members if m.note and "nom de la source" in m.note]
    assert len(placed) == len(scheme.members) > 0
    warned = [w for w in model.catalogue.warnings if f"programmes/{file}" in w]
    assert len(placed) + len(warned) == len(table)
    assert any(f"« {unplaced} »" in w for w in warned)


def test_contract_signature_dates(model: Model, mirror: Path):
    table = _props(mirror, "contrats-ruralite-2019.geojson").set_index("id")
    cr = model.catalogue.schemes["contrats-de-ruralite"]
    member = next(m for m in cr.members if m.role == "CR0042")  # CC Couserans-Pyrénées
    assert member.start and member.start.strftime("%Y") in table.at["CR0042", "info1"]
    assert cr.period_of(member).start_basis == Basis.MEMBER


def test_quartier_scale(model: Model, mirror: Path):
    q = model.scales["quartier"]
    raw = gpd.read_file(mirror / "programmes" / "qpv-2015-occitanie.geojson")
    assert len(q) == len(raw) == q["code"].nunique()
    assert q.geometry.is_valid.all() and (q["area_km2"] > 0).all() and (q["level"] == "quartier").all()
    assert set(q["commune"]) <= set(model.scales["commune"]["code"])
    # the area rule (communes holding >= 2 % of a quartier) agrees with the communes the source names
    names = model.scales["commune"].set_index("code")["nom"]
    by_rule = q.set_index("code")["communes"].str.split(";").map(lambda cs: sorted(names[c] for c in cs))
    by_source = raw.set_index("code_qp")["nom_commune"].str.split(", ").map(sorted)
    assert (by_rule == by_source.reindex(by_rule.index)).all()
    repaired = [c for f, c in model.territories.read_report.repaired if f.endswith("qpv-2015-occitanie.geojson")]
    assert len(repaired) == (~raw.geometry.is_valid).sum() == 32


def test_conseils_citoyens_are_the_16_quartiers_of_toulouse_metropole(model: Model, mirror: Path):
    raw = _props(mirror, "qpv-2015-occitanie.geojson")
    metropole = model.territories.cog.epci_members.query("epci == '243100518'")["commune"]
    expected = set(raw.loc[raw["code_commune"].isin(metropole), "code_qp"])
    scheme = model.catalogue.schemes["conseils-citoyens-contrat-de-ville"]
    assert scheme.member_scale == "quartier" and set(scheme.codes) == expected and len(expected) == 16
    assert set(model.coverage.scheme_communes(scheme.id)) == {"31555", "31069", "31149", "31157"}
    colomiers = {(s["path"]["level"], s["path"]["code"]) for s in model.stack("31149")["schemes"] if s["id"] == scheme.id}
    assert colomiers == {("quartier", "QP031005"), ("quartier", "QP031016")}


def test_a_point_in_negreneys_is_in_its_quartier_while_the_generation_is_in_force(model: Model, mirror: Path):
    raw = gpd.read_file(mirror / "programmes" / "qpv-2015-occitanie.geojson").set_index("code_qp")
    point = raw.geometry.make_valid()["QP031018"].representative_point()
    stack = model.lookup(point.x, point.y)
    assert stack["commune"]["code"] == "31555"
    assert [q["code"] for q in stack["quartiers"]] == ["QP031018"] and stack["quartiers"][0]["nom"] == "Négreneys"
    q = stack["quartiers"][0]
    start, end = D.fromisoformat(q["start"]), D.fromisoformat(q["end"])
    assert in_force(start, end, D(2016, 6, 1)) and not in_force(start, end, D(2025, 6, 1))
    assert model.lookup(1.4442, 43.6047)["quartiers"] == []  # the Capitole is in no priority neighbourhood


def test_quartier_scheme_with_an_unknown_code_is_refused(model: Model, settings: Settings, tmp_path: Path):
    from geo.catalogue import load_catalogue
    from geo.errors import InputError

    (tmp_path / "q-test.yaml").write_text(
        "id: q-test\nname: T\nkind: contract\nmember_scale: quartier\nmembers:\n  - {code: QP999999}\n"
        "source: {title: t}\n", encoding="utf-8")
    with pytest.raises(InputError) as exc:
        load_catalogue(model.territories.cog, Settings(mirror=settings.mirror, cache=settings.cache, schemes=tmp_path),
                       programmes=False)
    problem = exc.value.problems[0]
    assert "unknown quartier code QP999999" in problem.message and problem.row == 6 and "QP0ddnnn" in problem.fix


def test_montagne_grid_agrees_with_the_massif_polygons(model: Model, settings: Settings):
    """The grid gives each commune its massif; the massif polygons hold those communes (by most of their area)."""
    import geopandas as gpd

    from geo.sources import catalogue, fetch
    from geo.zonings import commune_shares

    massifs = gpd.read_file(fetch(catalogue()["montagne-massifs"], settings))
    communes = model.scales["commune"]
    members = {m.code: m.role for m in model.catalogue.schemes["zone-de-montagne"].members}
    agree = extra = 0
    in_grid = int(communes["code"].isin(members).sum())
    for name, geom in zip(massifs["niveau_montagne"], massifs.geometry):
        shares = commune_shares(geom, communes)
        inside = set(shares.index[shares >= 0.5])
        agree += sum(1 for c in inside if members.get(c) == name)
        extra += len(inside - members.keys())
    assert agree / in_grid >= 0.99, f"{agree} of {in_grid} grid communes lie in their massif's polygon"
    assert extra <= 0.01 * in_grid, f"{extra} communes lie in a massif polygon but not in the grid"


def test_a_quartier_is_a_territory(model: Model):
    quartier = model.territory("QP065003")
    assert (quartier.level, quartier.code) == ("quartier", "QP065003")
    assert set(model.territory("quartier:QP065003").communes) == {"65440", "65417"}  # Tarbes and Séméac
