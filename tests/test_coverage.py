"""Coverage queries and point lookup on the real data."""
from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest
import shapely

from geo.model import NOT_IN_COMMUNE, Model
from geo.territory import UnknownTerritory


def test_toulouse_stack(model: Model):
    stack = model.lookup(1.4442, 43.6047)
    assert stack["commune"]["code"] == "31555" and stack["commune"]["nom"] == "Toulouse"
    assert stack["epci"] == {"code": "243100518", "nom": "Toulouse Métropole"}
    assert stack["departement"]["code"] == "31" and stack["region"]["code"] == "76"
    assert {g["id"] for g in stack["groupings"]} == {"agglomeration-toulousaine", "dialogue-metropolitain", "partenariat-toulouse-montpellier"}
    by_id = {s["id"]: s for s in stack["schemes"]}
    assert by_id["agglomeration-toulousaine"]["path"] == {"level": "epci", "code": "243100518", "nom": "Toulouse Métropole",
                                                          "grouping": None, "network": None}
    assert by_id["dialogue-metropolitain"]["role"] == "pilote"
    for club in ("club-developpement-equilibre", "club-revitalisation", "club-transition-ecologique"):
        path = by_id[club]["path"]  # a club counting all its network's members: through the EPCI, member of the network
        assert (path["level"], path["code"], path["grouping"]) == ("epci", "243100518", None)
        assert path["network"] == {"id": "dialogue-metropolitain", "name": "Dialogue métropolitain de Toulouse", "kind": "network"}
    path = by_id["conseils-citoyens-contrat-de-ville"]["path"]  # members are quartiers
    assert path["level"] == "quartier" and path["code"].startswith("QP0310") and path["nom"]
    assert by_id["toulouse-metropole"]["path"]["level"] == "commune"  # the commune itself is the member


def test_commune_covered_through_a_grouping_member_other_than_toulouse(model: Model):
    stack = model.stack("31254")  # Labège, Sicoval
    by_id = {s["id"]: s for s in stack["schemes"]}
    assert by_id["agglomeration-toulousaine"]["path"]["code"] == "243100633"
    assert "dialogue-metropolitain" not in by_id


def test_citizen_councils_cover_exactly_four_communes(model: Model):
    assert set(model.coverage.scheme_communes("conseils-citoyens-contrat-de-ville")) == {"31555", "31069", "31149", "31157"}


def test_scheme_summary_matches_its_scale(model: Model):
    dm = model.coverage.summary("dialogue-metropolitain")
    grp = model.scales["grouping"].set_index("code").loc["dialogue-metropolitain"]
    communes = model.scales["commune"]
    members = model.catalogue.schemes["dialogue-metropolitain"].codes
    assert dm["communes"] == communes["epci"].isin(members).sum()
    assert dm["area_km2"] == pytest.approx(grp["area_km2"], rel=1e-6)


def test_matrix_overlap_and_gaps_agree(model: Model):
    haute_garonne = model.territory("31")
    m = model.coverage.matrix(["petites-villes-de-demain", "villages-d-avenir"], within=haute_garonne)
    ov = model.coverage.overlap("petites-villes-de-demain", "villages-d-avenir", within=haute_garonne)
    assert len(ov["both"]["communes"]) == int((m.sum(axis=1) == 2).sum())
    gaps = model.coverage.gaps("petites-villes-de-demain", haute_garonne)
    assert len(gaps) == int((m["petites-villes-de-demain"] == 0).sum())
    assert len(m) == (model.scales["commune"]["departement"] == "31").sum()


def test_programme_merged_codes_are_rekeyed_with_a_note(model: Model):
    va = model.catalogue.schemes["villages-d-avenir"]
    conques = next(m for m in va.members if m.code == "12218")
    assert conques.note and "12076" in conques.note


def test_unknown_and_merged_territories(model: Model):
    with pytest.raises(UnknownTerritory, match="30052"):
        model.territory("30157")
    with pytest.raises(UnknownTerritory, match="nowhere"):
        model.territory("nowhere")
    occitanie = model.territory("region:76")
    assert (occitanie.level, occitanie.code, occitanie.nom) == ("region", "76", "Occitanie")
    assert model.territory("76") is model.territory("76")  # resolved once per model
    assert model.territory("76").level == "region"  # the département 76 is not in the Occitanie scope
    assert len(occitanie.communes) == len(model.scales["commune"])


def test_point_outside_every_commune_is_an_answer(model: Model):
    out = model.lookup(-3.0, 47.0)  # Bay of Biscay
    assert out["commune"] is None and out["message"] == NOT_IN_COMMUNE and out["schemes"] == []


def test_vectorised_lookup_agrees_with_brute_force(model: Model):
    rng = np.random.default_rng(42)
    com = model.scales["commune"]
    x0, y0, x1, y1 = com.total_bounds
    lon, lat = rng.uniform(x0, x1, 2000), rng.uniform(y0, y1, 2000)
    fast = model.locate(lon, lat).to_numpy()
    geoms = com.geometry.values
    codes = com["code"].to_numpy()
    for i, p in enumerate(shapely.points(lon, lat)):
        hits = codes[shapely.intersects(geoms, p)]
        assert (fast[i] is None and len(hits) == 0) or fast[i] in hits
    assert (fast != None).sum() > 1000  # noqa: E711 — most of the bounding box is inside Occitanie


def test_lookup_json_shape_for_the_cli_and_api(model: Model):
    data = json.loads(json.dumps(model.lookup(1.4442, 43.6047)))
    for key in ("commune", "epci", "departement", "region", "groupings", "schemes", "quartiers"):
        assert key in data
    assert set(data["schemes"][0]) == {"id", "name", "kind", "path", "role", "start", "end", "start_basis", "end_basis", "source", "date_source"}
    dated = json.loads(json.dumps(model.lookup(1.4442, 43.6047, dt.date(2025, 6, 1))))
    assert set(dated["schemes"][0]) == set(data["schemes"][0]) | {"in_force", "status"}
    assert dated["date"] == "2025-06-01" and dated["perimeters"] == "périmètres 2026"
