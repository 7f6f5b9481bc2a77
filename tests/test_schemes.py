"""Scheme files and member imports: every problem reported in one run, naming file, row, code and fix."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from boundaries import SCHEMES_DIR
from geo.catalogue import load_catalogue
from geo.config import Settings
from geo.errors import InputError
from geo.model import Model, assemble
from geo.territories import load_territories

BAD = """\
id: bad-scheme
name: Schéma de test
kind: contract
period: {start: 2022-01-01, end: 2021-12-31}
member_scale: commune
members:
  - {code: "31555", role: pilote}
  - {code: "31555", role: pilote}
  - {code: "30157"}
  - {code: "243100518"}
  - {code: "99999", start: 2024-01-01, end: 2023-01-01}
source: {title: test, url: "https://example.org"}
as_of: 2024-01-01
"""


@pytest.fixture()
def scheme_dir(tmp_path: Path) -> Path:
    d = tmp_path / "schemes"
    shutil.copytree(SCHEMES_DIR, d, ignore=shutil.ignore_patterns("*.md"))
    return d


def test_real_catalogue_is_valid(model: Model):
    assert model.catalogue.problems == []
    ids = set(model.catalogue.schemes)
    assert {"toulouse-metropole", "agglomeration-toulousaine", "dialogue-metropolitain", "club-developpement-equilibre",
            "club-revitalisation", "club-transition-ecologique", "partenariat-toulouse-montpellier",
            "conseils-citoyens-contrat-de-ville", "action-coeur-de-ville", "petites-villes-de-demain",
            "quartiers-prioritaires-2024", "territoires-d-industrie", "villages-d-avenir", "contrats-de-ville-2015-2020"} <= ids


def test_every_declared_scheme_states_source_and_date(model: Model):
    for s in model.catalogue.schemes.values():
        assert s.source.get("url") and s.as_of, s.id


def test_bad_scheme_file_reports_every_problem_at_once(settings: Settings, scheme_dir: Path):
    path = scheme_dir / "bad-scheme.yaml"
    path.write_text(BAD, encoding="utf-8")
    cog = load_territories(settings).cog
    with pytest.raises(InputError) as exc:
        load_catalogue(cog, Settings(mirror=settings.mirror, cache=settings.cache, schemes=scheme_dir), programmes=False)
    problems = [p for p in exc.value.problems if p.file == str(path)]
    messages = " | ".join(p.message for p in problems)
    assert "period ends (2021-12-31) before it starts (2022-01-01)" in messages
    dup = next(p for p in problems if "duplicate member 31555" in p.message)
    assert dup.row == 8 and "row 7" in dup.message
    merged = next(p for p in problems if p.code == "30157")
    assert merged.row == 9 and "30052" in merged.message and "30052" in merged.fix
    wrong = next(p for p in problems if p.code == "243100518")
    assert "is a EPCI" in wrong.message and wrong.row == 10
    assert any(p.code == "99999" and "not a 2026 commune" in p.message for p in problems)
    assert any(p.code == "99999" and "ends (2023-01-01) before it starts" in p.message for p in problems)


def test_keep_going_loads_the_other_schemes(settings: Settings, scheme_dir: Path):
    (scheme_dir / "bad-scheme.yaml").write_text(BAD, encoding="utf-8")
    cog = load_territories(settings).cog
    cat = load_catalogue(cog, Settings(mirror=settings.mirror, cache=settings.cache, schemes=scheme_dir), keep_going=True, programmes=False)
    assert "bad-scheme" not in cat.schemes and "dialogue-metropolitain" in cat.schemes
    assert len(cat.problems) >= 5


def test_failed_reload_leaves_the_loaded_model_intact(model: Model, settings: Settings, scheme_dir: Path):
    before = model.version, len(model.catalogue.schemes)
    (scheme_dir / "bad-scheme.yaml").write_text(BAD, encoding="utf-8")
    with pytest.raises(InputError):
        load_catalogue(model.territories.cog, Settings(mirror=settings.mirror, cache=settings.cache, schemes=scheme_dir))
    assert (model.version, len(model.catalogue.schemes)) == before


def test_imported_member_list_attaches_to_a_declared_scheme_with_its_source(settings: Settings, scheme_dir: Path, tmp_path: Path):
    """An imported member list (built here, not catalogue data) attaches to a declared scheme; the row's own source and
    French dates reach the coverage table and a commune's stack."""
    from geo.memberlists import read_member_list

    (scheme_dir / "contrat-test.yaml").write_text(
        "id: contrat-test\nname: Contrat de test\nkind: contract\nmember_scale: epci\nmembers: []\n"
        "source: {title: fichier utilisateur, url: 'https://example.org/test'}\nas_of: 2024-01-01\n", encoding="utf-8")
    text = "code;dispositif;role;debut;fin;source;note\n243100633;contrat-test;signataire;01/01/2022;31/12/2027;Délibération https://example.org/d;\n"
    members = read_member_list(text.encode("cp1252"), "membres.csv")
    assert not members.problems
    s = Settings(mirror=settings.mirror, cache=settings.cache, schemes=scheme_dir, data_dir=tmp_path / "data")
    t = load_territories(s)
    model = assemble(s, t, load_catalogue(t.cog, s, programmes=False, imported=(1, members.by_scheme())))
    stack = model.stack("31254")  # Labège, in the Sicoval
    row = next(r for r in stack["schemes"] if r["id"] == "contrat-test")
    assert row == {"id": "contrat-test", "name": "Contrat de test", "kind": "contract",
                   "path": {"level": "epci", "code": "243100633", "nom": "CA du Sicoval", "grouping": None, "network": None},
                   "role": "signataire", "start": "2022-01-01", "end": "2027-12-31", "start_basis": "membre", "end_basis": "membre",
                   "source": {"title": "Délibération", "url": "https://example.org/d"},
                   "date_source": "Date propre au membre : Délibération."}  # the row's source dates the membership
    assert model.catalogue.get("contrat-test").file.endswith("contrat-test.yaml + liste de membres importée (version 1)")


def test_legacy_member_list_is_refused_naming_the_new_columns(settings: Settings, scheme_dir: Path, tmp_path: Path):
    from geo.memberlists import read_member_list

    with pytest.raises(InputError) as exc:
        read_member_list(b"code;scheme;role;start;end\n31555;contrat-test;;;\n", "membres.csv")
    assert "ancien format" in str(exc.value) and "code;dispositif;role;debut;fin;source;note" in str(exc.value)
