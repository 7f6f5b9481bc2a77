"""The territory resolver (geo/territory.py) on tiny tables built in code: levels, bare codes, ambiguity, what a
territory holds, and the one French error for an unknown or merged territory."""
from __future__ import annotations

import pandas as pd
import pytest

from geo.cog import Cog
from geo.territory import Territory, TerritoryIndex, UnknownTerritory, territory_index


def frame(**columns: list) -> pd.DataFrame:
    return pd.DataFrame(columns)


@pytest.fixture(scope="module")
def index() -> TerritoryIndex:
    """Four communes in two départements (84 is also a région's code), three EPCI, one grouping of two EPCI, a quartier
    across two communes; a former commune 01004 merged into 01001; a commune 09999 out of scope."""
    scales = {
        "commune": frame(code=["01001", "01002", "01003", "84001"], nom=["Alpha", "Beta", "Gamma", "Delta"],
                         epci=["200000001", "200000001", "200000002", None], departement=["01", "01", "01", "84"],
                         region=["84", "84", "84", "93"]),
        "epci": frame(code=["200000001", "200000002"], nom=["CC Un", "CC Deux"]),
        "departement": frame(code=["01", "84"], nom=["Ain", "Vaucluse"]),
        "region": frame(code=["84", "93"], nom=["Auvergne-Rhône-Alpes", "Provence-Alpes-Côte d'Azur"]),
        "quartier": frame(code=["QP001001"], nom=["Les Deux Rives"]),
    }
    cog = Cog(communes=frame(code=["01001", "01002", "01003", "84001", "09999"], nom=["Alpha", "Beta", "Gamma", "Delta", "Loin"]),
              links=frame(code=["01004"], nom=["Ancienne"], parent=["01001"], rule=["chefLieu-deleguee"]),
              epci=frame(code=["200000001", "200000002", "200000009"], nom=["CC Un", "CC Deux", "CC Ailleurs"]),
              epci_members=frame(epci=[], commune=[]), departements=frame(code=["01", "84", "75"], nom=["Ain", "Vaucluse", "Paris"]),
              regions=frame(code=["84", "93", "11"], nom=["Auvergne-Rhône-Alpes", "PACA", "Île-de-France"]),
              quartier_communes=frame(quartier=["QP001001", "QP001001"], commune=["01002", "01003"], share=[0.6, 0.4]))
    groupings = {"duo": ("Les deux CC", frozenset({"200000001", "200000002"}))}
    return territory_index(scales, groupings, cog, "test", "COG 2026")


def test_a_commune_holds_itself_and_names_what_contains_it(index: TerritoryIndex) -> None:
    t = index.resolve("01002")
    assert (t.level, t.code, t.nom, t.param, t.key, t.label) == ("commune", "01002", "Beta", "01002", "commune:01002", "Beta (01002)")
    assert t.communes == ("01002",)
    assert t.codes("epci") == {"200000001"} and t.codes("departement") == {"01"} and t.codes("region") == {"84"}
    assert t.codes("grouping") == {"duo"} and t.codes("commune") == {"01002"} and t.codes("quartier") == {"QP001001"}


def test_a_quartier_is_known_by_the_communes_it_lies_in(index: TerritoryIndex) -> None:
    q = index.resolve("QP001001")
    assert (q.level, q.nom, q.param, q.communes) == ("quartier", "Les Deux Rives", "QP001001", ("01002", "01003"))
    assert q.codes("epci") == {"200000001", "200000002"} and q.codes("grouping") == {"duo"}
    assert index.resolve("quartier:QP001001") == q
    assert index.resolve("01001").codes("quartier") == frozenset()


def test_an_epci_a_grouping_and_a_departement_hold_their_communes(index: TerritoryIndex) -> None:
    assert index.resolve("200000001").communes == ("01001", "01002")
    duo = index.resolve("duo")
    assert (duo.level, duo.nom, duo.communes) == ("grouping", "Les deux CC", ("01001", "01002", "01003"))
    assert duo.codes("epci") == {"200000001", "200000002"}
    ain = index.resolve("departement:01")
    assert ain.communes == ("01001", "01002", "01003") and ain.codes("grouping") == {"duo"} and ain.param == "01"
    delta = index.resolve("84001")
    assert delta.codes("epci") == frozenset() and delta.codes("grouping") == frozenset()  # a commune in no EPCI


def test_a_bare_code_is_a_departement_before_a_region(index: TerritoryIndex) -> None:
    vaucluse, region = index.resolve("84"), index.resolve("region:84")
    assert (vaucluse.level, vaucluse.nom, vaucluse.param) == ("departement", "Vaucluse", "84")
    assert (region.level, region.nom, region.param) == ("region", "Auvergne-Rhône-Alpes", "region:84")
    assert index.resolve(region.param) == region  # the param names it again
    assert region.communes == ("01001", "01002", "01003")
    assert index.resolve("  region : 84 ").key == "region:84"


@pytest.mark.parametrize("text, message", [
    ("01004", "La commune 01004 n'existe plus : elle a fusionné dans la commune 01001 (Alpha) au COG 2026."),
    ("commune:01004", "La commune 01004 n'existe plus : elle a fusionné dans la commune 01001 (Alpha) au COG 2026."),
    ("09999", "La commune 09999 est hors du périmètre servi (Test)."),
    ("99999", "99999 n'est pas un code de commune du COG 2026."),
    ("200000009", "L'EPCI 200000009 (CC Ailleurs) est hors du périmètre servi (Test)."),
    ("75", "Le département 75 (Paris) est hors du périmètre servi (Test)."),
    ("region:11", "La région 11 (Île-de-France) est hors du périmètre servi (Test)."),
    ("epci:01", "Territoire inconnu : « epci:01 ». Donnez un code INSEE de commune, un code de quartier (QP…), "
                "un SIREN d'EPCI, un code de département ou de région, ou l'identifiant d'un groupement."),
    ("nowhere", "Territoire inconnu : « nowhere ». Donnez un code INSEE de commune, un code de quartier (QP…), "
                "un SIREN d'EPCI, un code de département ou de région, ou l'identifiant d'un groupement."),
    ("canton:12", "Échelle inconnue « canton » dans « canton:12 » : écrivez commune, quartier, epci, departement, region ou "
                  "grouping avant le code, ou le code seul."),
    ("quartier:QP999999", "Territoire inconnu : « quartier:QP999999 ». Donnez un code INSEE de commune, un code de "
                          "quartier (QP…), un SIREN d'EPCI, un code de département ou de région, ou l'identifiant d'un groupement."),
])
def test_an_unknown_territory_is_one_french_404_naming_it(index: TerritoryIndex, text: str, message: str) -> None:
    with pytest.raises(UnknownTerritory) as caught:
        index.resolve(text)
    assert str(caught.value) == message and caught.value.status == 404


def test_a_territory_is_a_frozen_value(index: TerritoryIndex) -> None:
    t = index.resolve("01001")
    assert isinstance(t, Territory)
    with pytest.raises(AttributeError):
        t.code = "01002"  # type: ignore[misc]
