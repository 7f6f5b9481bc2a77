"""POST /api/locate: the same rows as `territoires locate`, from JSON or CSV, up to a documented size; beyond, a 413 in
French that names the command."""
from __future__ import annotations

import io

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from geo.locate import INVALID, OUTSIDE
from service.app import create_app
from service.limits import Limits

SITES = [{"site": "Capitole", "lon": 1.4442, "lat": 43.6047}, {"site": "Lourdes", "lon": -0.046, "lat": 43.095},
         {"site": "Paris", "lon": 2.3522, "lat": 48.8566}, {"site": "vide", "lon": None, "lat": None}]


def test_json_rows_come_back_in_order_with_the_columns_of_the_command(client: TestClient):
    r = client.post("/api/locate?date=2024-06-01", json=SITES)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["date"] == "2024-06-01" and body["placed"] == 2 and body["unplaced"] == {OUTSIDE: 1, INVALID: 1}
    rows = body["rows"]
    assert [row["site"] for row in rows] == ["Capitole", "Lourdes", "Paris", "vide"]
    assert [row["commune_code"] for row in rows] == ["31555", "65286", None, None]
    assert rows[0]["epci_nom"] == "Toulouse Métropole" and rows[0]["dialogue-metropolitain"] == 1 and rows[0]["motif"] is None
    assert rows[2]["motif"] == OUTSIDE and rows[2]["nb_dispositifs"] is None
    ids = [s["id"] for s in body["schemes"]]
    assert "territoires-d-industrie" in ids and "contrats-de-ville-2015-2020" not in ids


def test_csv_in_csv_out_for_a_spreadsheet(client: TestClient):
    csv = "code;usage\r\n31555;siège\r\n9001;=cmd\r\n99999;x\r\n".encode()
    r = client.post("/api/locate", content=csv, headers={"Content-Type": "text/csv; charset=utf-8"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv") and r.content.startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(io.BytesIO(r.content), sep=";", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert back["commune_code"].tolist() == ["31555", "09001", ""] and back["departement_code"].tolist() == ["31", "09", ""]
    assert back["usage"].tolist() == ["siège", "'=cmd", "x"] and back["motif"].tolist() == ["", "", "code inconnu"]


def test_lambert93_with_crs(client: TestClient):
    r = client.post("/api/locate?crs=2154", json=[{"x": 574_300, "y": 6_279_700}])
    assert r.status_code == 200 and r.json()["rows"][0]["commune_code"] == "31555"


@pytest.mark.parametrize("body, content_type, status, text", [
    (b'[{"a": 1}]', "application/json", 422, "aucune colonne pour placer les lignes"),
    (b'{"lon": 1}', "application/json", 422, "tableau d'objets"),
    (b"[1, 2", "application/json", 422, "JSON illisible"),
    (b"lon;lat\n1;43;7\n", "text/csv", 422, "ligne 2 : illisible en CSV"),
    ("code\n31555\n".encode("utf-16"), "text/csv", 422, "pas en UTF-8"),
    (b"<xml/>", "application/xml", 415, "envoyez application/json"),
])
def test_bad_bodies_are_answered_in_french(client: TestClient, body: bytes, content_type: str, status: int, text: str):
    r = client.post("/api/locate", content=body, headers={"Content-Type": content_type})
    assert r.status_code == status and text in r.json()["detail"], r.text


def test_beyond_the_limit_a_413_names_the_command(settings):
    limits = Limits(max_locate_rows=3, max_locate_mb=0.001)
    with TestClient(create_app(settings, limits=limits)) as small:
        rows = small.post("/api/locate", json=SITES)
        assert rows.status_code == 413 and "4 lignes, au plus 3 par requête" in rows.json()["detail"]
        assert "territoires locate FICHIER -o SORTIE" in rows.json()["detail"]
        heavy = small.post("/api/locate", json=SITES[:1] * 30)
        assert heavy.status_code == 413 and "corps de plus de 1\u202f000 octets" in heavy.json()["detail"]
