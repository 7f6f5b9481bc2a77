"""A corpus of bad inputs: each gets one clear error naming the file, the row (where the input has rows) and
the fix, never a traceback, and leaves what was loaded before untouched.

Every file here is a test fixture written into pytest's tmp_path; the real mirror is only read (or symlinked).
"""
from __future__ import annotations

import datetime as dt
import errno
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pyarrow.parquet
import pytest
from datamirror import corrupted, partial_mirror, seeded_cache
from resource_faults import run_in_namespace
from shapely.geometry import Polygon

import geo.cachefiles
from bench.server import free_port
from boundaries import SCHEMES_DIR
from geo.catalogue import Catalogue, load_catalogue
from geo.config import Settings
from geo.errors import CacheError, InputError, Problem, SourceError
from geo.model import Model
from geo.readers import ReadReport, read_boundaries
from geo.schemes import Member, Scheme, parse_scheme_file
from geo.snapshot import SnapshotError, decode_catalogue, encode_catalogue
from geo.sources import catalogue as datasets
from geo.sources import fetch, sha256_of
from geo.versions import load_published, pointer_path, publish, read_pointer
from service.state import ModelHolder

BIN = Path(sys.executable).parent / "territoires"
SOURCE = "source: {title: test fixture, url: 'https://example.org/test'}\n"


#: A "billion laughs" of nested aliases, 9 levels of 9: a scheme file under 600 bytes that expands to 9**9 strings.
BOMB = "".join(f"  - &a{i} [{','.join([f'*a{i - 1}'] * 9) if i else ','.join(['lol'] * 9)}]\n" for i in range(9))
ANCHOR = ("uses a YAML anchor or alias (&name / *name)",)


def scheme(members: str = '\n  - {code: "31555"}', *, id: str = "test-bad", scale: str = "commune", kind: str = "contract",
           extra: str = "") -> str:
    """A test scheme file: lines 1-5 are id, name, kind, member_scale, source; then ``extra``; then members."""
    return f"id: {id}\nname: Schéma de test\nkind: {kind}\nmember_scale: {scale}\n{SOURCE}{extra}members:{members}\n"


@pytest.fixture(autouse=True)
def loaded_data_is_intact(model: Model):
    """Whatever a bad input does, the model loaded before it keeps its version and its schemes."""
    before = model.version, len(model.catalogue.schemes), sorted(model.catalogue.schemes)
    yield
    assert (model.version, len(model.catalogue.schemes), sorted(model.catalogue.schemes)) == before


def _load(model: Model, settings: Settings, schemes: Path, legacy: tuple[str, ...] = (), programmes: bool = False) -> Catalogue:
    s = Settings(mirror=settings.mirror, cache=settings.cache, schemes=schemes, data_dir=settings.cache / "no-data-dir", legacy_members=legacy)
    return load_catalogue(model.territories.cog, s, programmes=programmes)


def _one_problem(exc: pytest.ExceptionInfo[InputError]):
    assert len(exc.value.problems) == 1, str(exc.value)
    return exc.value.problems[0]


# --- scheme files ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Bad:
    """A bad scheme directory: its files, and the one problem expected (in ``file``, at ``row``)."""

    files: dict[str, str | bytes]
    row: int | None
    message: tuple[str, ...]
    fix: str
    file: str = "test-bad.yaml"
    code: str | None = None
    programmes: bool = False


BAD_SCHEMES = {
    "unknown commune code": Bad({"test-bad.yaml": scheme('\n  - {code: "99999"}')}, 7,
                                ("99999 is not a 2026 commune code",), "use a 2026 INSEE commune code", code="99999"),
    "merged commune code names its 2026 commune": Bad(
        {"test-bad.yaml": scheme('\n  - {code: "30157"}')}, 7,
        ("30157 is no longer a commune: it merged into 30052 (Bréau-Mars)",), "use the 2026 code 30052", code="30157"),
    "unknown EPCI SIREN": Bad({"test-bad.yaml": scheme('\n  - {code: "200000000"}', scale="epci")}, 7,
                              ("unknown epci code 200000000",), "use a 2026 EPCI SIREN (9 digits)", code="200000000"),
    "duplicate member": Bad({"test-bad.yaml": scheme('\n  - {code: "31555", role: pilote}\n  - {code: "31555", role: pilote}')}, 8,
                            ("duplicate member 31555 with role 'pilote' over overlapping periods (first at row 7",),
                            "keep one row per member and role", code="31555"),
    # periods of a member: inside its scheme's, and never twice at once for the same member and role
    "member starts before its scheme": Bad(
        {"test-bad.yaml": scheme('\n  - {code: "31555", start: 2014-06-01}', extra="period: {start: 2015-01-01, end: 2020-12-31}\n")}, 8,
        ("member 31555 starts on 2014-06-01, before its scheme's period (2015-01-01 – 2020-12-31)",),
        "correct the member's dates, or the scheme's period", code="31555"),
    "member ends after its scheme": Bad(
        {"test-bad.yaml": scheme('\n  - {code: "31069"}\n  - {code: "31555", end: 2023-06-30}',
                                 extra="period: {start: 2015-01-01, end: 2020-12-31}\n")}, 9,
        ("member 31555 ends on 2023-06-30, after its scheme's period",), "correct the member's dates", code="31555"),
    "member starts after its scheme has ended": Bad(
        {"test-bad.yaml": scheme('\n  - {code: "31555", start: 2022-01-01, end: 2022-06-30}',
                                 extra="period: {start: 2015-01-01, end: 2020-12-31}\n")},
        8, ("member 31555 starts on 2022-01-01, after its scheme's period",), "correct the member's dates", code="31555"),
    "same member and role over overlapping periods": Bad(
        {"test-bad.yaml": scheme('\n  - {code: "31555", role: signataire, start: 2015-01-01, end: 2018-06-30}'
                                 '\n  - {code: "31069", role: signataire}'
                                 '\n  - {code: "31555", role: signataire, start: 2018-01-01, end: 2020-12-31}',
                                 extra="period: {start: 2015-01-01, end: 2020-12-31}\n")}, 10,
        ("duplicate member 31555 with role 'signataire' over overlapping periods (first at row 8: 2015-01-01 – 2018-06-30; "
         "here: 2018-01-01 – 2020-12-31)",), "give the rows periods that do not overlap", code="31555"),
    "same member without a role, undated twice (both over the scheme's period)": Bad(
        {"test-bad.yaml": scheme('\n  - {code: "31555"}\n  - {code: "31555", end: 2017-12-31}', extra="period: {start: 2015-01-01}\n")}, 9,
        ("duplicate member 31555 without a role over overlapping periods (first at row 8: 2015-01-01 – open; here: 2015-01-01 – 2017-12-31)",),
        "keep one row per member and role", code="31555"),
    "EPCI code in a commune scheme": Bad({"test-bad.yaml": scheme('\n  - {code: "243100518"}')}, 7,
                                         ("243100518 is a EPCI but this scheme's members are commune codes",),
                                         "use commune codes, or change member_scale", code="243100518"),
    "commune code in an EPCI scheme": Bad({"test-bad.yaml": scheme('\n  - {code: "31555"}', scale="epci")}, 7,
                                          ("31555 is a commune but this scheme's members are epci codes",),
                                          "use epci codes, or change member_scale", code="31555"),
    "scheme ends before it starts": Bad({"test-bad.yaml": scheme(extra="period: {start: 2022-01-01, end: 2021-12-31}\n")}, None,
                                        ("period ends (2021-12-31) before it starts (2022-01-01)",), "swap or correct the dates"),
    "member ends before it starts": Bad({"test-bad.yaml": scheme('\n  - {code: "31555", start: 2024-01-01, end: 2023-01-01}')}, 7,
                                        ("member 31555 ends (2023-01-01) before it starts (2024-01-01)",),
                                        "swap or correct the dates", code="31555"),
    "unknown kind": Bad({"test-bad.yaml": scheme(kind="syndicat")}, 3, ("unknown kind 'syndicat'",), "use one of epci, grouping"),
    "missing key": Bad({"test-bad.yaml": "id: test-bad\nname: T\nkind: contract\nmember_scale: commune\nmembers: []\n"}, None,
                       ("missing key 'source'",), "add 'source:'"),
    "key without a value": Bad({"test-bad.yaml": scheme().replace("name: Schéma de test", "name:")}, 2,
                               ("key 'name' has no value",), "write a value after 'name:'"),
    "YAML syntax error": Bad({"test-bad.yaml": scheme('\n  - {code: "31555"\n  - {code: "31069"}')}, 8,
                             ("is not valid YAML",), "fix the YAML syntax"),
    "date that does not exist": Bad({"test-bad.yaml": scheme(extra="period: {start: 2022-13-01, end: null}\n")}, 6,
                                    ("holds a date that does not exist",), "YYYY-MM-DD with a real month and day"),
    "period that is not a mapping": Bad({"test-bad.yaml": scheme(extra="period: 2022\n")}, 6,
                                        ("period must be a mapping, not 2022",), "period: {start: YYYY-MM-DD"),
    "key declared twice": Bad({"test-bad.yaml": scheme() + 'members:\n  - {code: "31069"}\n'}, 8,
                              ("key 'members' is declared twice (first at row 6)",), "keep one of them"),
    "member without a code": Bad({"test-bad.yaml": scheme("\n  - {name: Toulouse}")}, 7,
                                 ("member without a code",), 'write each member as {code: "..."}'),
    "scheme file not in UTF-8": Bad({"test-bad.yaml": scheme().encode("cp1252")}, 2, ("is not UTF-8 text",), "save the file as UTF-8"),
    "scheme id differs from the file name": Bad({"test-bad.yaml": scheme(id="autre-id")}, 1,
                                                ("id 'autre-id' differs from the file name",), "set id: test-bad"),
    "two files with the same id": Bad({"test-bad.yaml": scheme(), "test-copie.yaml": scheme(id="test-bad")}, 1,
                                      ("id 'test-bad' is already the id of", "test-bad.yaml"), "set id: test-copie",
                                      file="test-copie.yaml"),
    "scheme file with a programme's id": Bad(
        {"action-coeur-de-ville.yaml": scheme(id="action-coeur-de-ville")}, None,
        ("scheme id 'action-coeur-de-ville' is also the id of the programme loaded from", "acv-2025.geojson"),
        "give the scheme file another id", file="action-coeur-de-ville.yaml", programmes=True),
    "all-parent-members without parent": Bad({"test-bad.yaml": scheme(" all-parent-members", scale="epci")}, 6,
                                             ("members is 'all-parent-members' but no parent is named",), "add 'parent: <scheme id>'"),
    "parent that is not an id": Bad({"test-bad.yaml": scheme(" all-parent-members", scale="epci", extra="parent: [a, b]\n")}, 6,
                                    ("parent must be a text, not a list",), "write one text after 'parent:'"),
    "unknown parent": Bad({"test-bad.yaml": scheme(" all-parent-members", scale="epci", extra="parent: reseau-inexistant\n")}, None,
                          ("parent scheme 'reseau-inexistant' is not declared",), "declare it or fix the id"),
    # YAML that expands: refused from the parser's events, before any node is built (the bomb is ~600 bytes)
    "alias bomb in notes": Bad({"test-bad.yaml": scheme(extra="notes:\n" + BOMB)}, 7, ANCHOR, "write each value out in full"),
    "alias bomb in a member's role": Bad({"test-bad.yaml": scheme('\n  - code: "31555"\n    role:\n' + BOMB.replace("  - ", "      - "))}, 9,
                                         ANCHOR, "write each value out in full"),
    "one anchor and alias": Bad({"test-bad.yaml": scheme(extra='notes: &n "Toulouse"\nas_of: *n\n')}, 6, ANCHOR,
                                "anchors and aliases are not allowed"),
    "merge key": Bad({"test-bad.yaml": scheme('\n  - {<<: {code: "31555"}, role: pilote}')}, 7, ("uses a YAML merge key (<<)",),
                     "write the keys out in full"),
    "python tag": Bad({"test-bad.yaml": scheme(extra='notes: !!python/object/apply:os.system ["true"]\n')}, 6,
                      ("uses the YAML tag tag:yaml.org,2002:python/object/apply:os.system",), "remove the tag"),
    "explicit str tag": Bad({"test-bad.yaml": scheme("\n  - {code: !!str 31555}")}, 7, ("uses the YAML tag tag:yaml.org,2002:str",),
                            "remove the tag (write text in quotes"),
    # strict types
    "scale in quotes": Bad({"test-bad.yaml": scheme(extra='scale: "false"\n')}, 6, ("scale 'false' is not true or false",),
                           "write scale: true or scale: false, without quotes"),
    "scale: yes": Bad({"test-bad.yaml": scheme(extra="scale: yes\n")}, 6, ("scale 'yes' is not true or false",), "without quotes"),
    "date and time where a date is expected": Bad({"test-bad.yaml": scheme(extra="as_of: 2024-01-01T10:00:00Z\n")}, 6,
                                                  ("as_of 2024-01-01T10:00:00Z is a date and time where a date is expected",),
                                                  "write the date alone: as_of: 2024-01-01"),
    "date and time in a period": Bad({"test-bad.yaml": scheme(extra='period: {start: "2024-01-01 10:00", end: null}\n')}, 6,
                                     ("start '2024-01-01 10:00' is a date and time where a date is expected",), "write the date alone"),
    "number where a date is expected": Bad({"test-bad.yaml": scheme(extra="as_of: 2024\n")}, 6, ("as_of '2024' is not a date",),
                                           "write dates as YYYY-MM-DD"),
    "list where a text is expected": Bad({"test-bad.yaml": scheme().replace("name: Schéma de test", "name: [Schéma, de test]")}, 2,
                                         ("name must be a text, not a list",), "write one text after 'name:'"),
    "mapping where a text is expected": Bad({"test-bad.yaml": scheme('\n  - {code: "31555", role: {a: b}}')}, 7,
                                            ("role must be a text, not a mapping",), "write one text after 'role:'"),
    "boolean where a text is expected": Bad({"test-bad.yaml": scheme('\n  - {code: "31555", role: yes}')}, 7,
                                            ("role 'yes' is read by YAML as a boolean (true/false), not a text",),
                                            'write it in quotes: role: "yes"'),
    "number where a text is expected": Bad({"test-bad.yaml": scheme('\n  - {code: "31555", note: 2024}')}, 7,
                                           ("note '2024' is read by YAML as an integer, not a text",), 'write it in quotes: note: "2024"'),
    "unknown key (a typo)": Bad({"test-bad.yaml": scheme(extra="peroid: {start: 2022-01-01}\n")}, 6,
                                ("unknown key 'peroid' in the scheme",), "did you mean 'period'? the keys are: id, name, kind"),
    "unknown key in a member": Bad({"test-bad.yaml": scheme('\n  - {code: "31555", rôle: pilote}')}, 7,
                                   ("unknown key 'rôle' in a member",), "did you mean 'role'?"),
    "unknown key in a period": Bad({"test-bad.yaml": scheme(extra="period: {start: 2022-01-01, fin: 2023-01-01}\n")}, 6,
                                   ("unknown key 'fin' in period",), "remove it; the keys are: start, end"),
    "unknown key in the source": Bad({"test-bad.yaml": scheme().replace("/test'}", "/test', publsher: AUAT}")},
                                     5, ("unknown key 'publsher' in source",), "did you mean 'publisher'?"),
    "key declared twice in a member": Bad({"test-bad.yaml": scheme('\n  - {code: "31555", code: "31069"}')}, 7,
                                          ("key 'code' is declared twice (first at row 7)",), "keep one of them"),
    "key declared twice in a period": Bad({"test-bad.yaml": scheme(extra="period:\n  start: 2022-01-01\n  start: 2023-01-01\n")}, 8,
                                          ("key 'start' is declared twice (first at row 7)",), "keep one of them"),
    "unquoted code with a leading zero (01001 is 513)": Bad({"test-bad.yaml": scheme("\n  - {code: 01001}")}, 7,
                                                            ("code 01001 is written without quotes, so YAML reads it as a number",),
                                                            'write the code in quotes: code: "01001"'),
    "unquoted code 09001 (a number for other YAML readers)": Bad({"test-bad.yaml": scheme("\n  - {code: 09001}")}, 7,
                                                                 ("code 09001 is written without quotes",), 'code: "09001"'),
    "unquoted code with an underscore": Bad({"test-bad.yaml": scheme("\n  - {code: 31_555}")}, 7,
                                            ("code 31_555 is written without quotes",), 'write the code in quotes: code: "31555"'),
    "unquoted owner SIREN": Bad({"test-bad.yaml": scheme(extra="owner: 243100518\n")}, 6, ("owner 243100518 is written without quotes",),
                                'owner: "243100518"'),
    # identifiers
    "id with œ": Bad({"cœur.yaml": scheme(id="cœur")}, 1, ("id 'cœur' is not a safe identifier",),
                     "use lowercase ASCII letters, digits and hyphens only", file="cœur.yaml"),
    "id with a quote": Bad({"test-bad.yaml": scheme(id="l'agglo")}, 1, ("id \"l'agglo\" is not a safe identifier",), "lowercase ASCII"),
    "id with CRLF": Bad({"test-bad.yaml": scheme(id='"test-bad\\r\\n"')}, 1, ("id 'test-bad\\r\\n' is not a safe identifier",), "lowercase ASCII"),
    "id in capitals": Bad({"Test-Bad.yaml": scheme(id="Test-Bad")}, 1, ("id 'Test-Bad' is not a safe identifier",), "lowercase ASCII",
                          file="Test-Bad.yaml"),
    "id that is a département code": Bad({"31.yaml": scheme(id='"31"')}, 1, ("id '31' has the form of a territory code",),
                                         "give the scheme an id with letters (e.g. groupement-31)", file="31.yaml"),
    "id that is a commune code, unquoted": Bad({"31555.yaml": scheme(id="31555")}, 1, ("id '31555' has the form of a territory code",),
                                               "groupement-31555", file="31555.yaml"),
    "id shaped like a Corsican commune code": Bad({"2a004.yaml": scheme(id="2a004")}, 1, ("id '2a004' has the form of a territory code",),
                                                  "groupement-2a004", file="2a004.yaml"),
}


@pytest.mark.parametrize("case", BAD_SCHEMES.values(), ids=BAD_SCHEMES.keys())
def test_bad_scheme_file_is_one_clear_error(model: Model, settings: Settings, tmp_path: Path, case: Bad):
    for name, content in case.files.items():
        target = tmp_path / name
        target.write_bytes(content) if isinstance(content, bytes) else target.write_text(content, encoding="utf-8")
    with pytest.raises(InputError) as exc:
        _load(model, settings, tmp_path, programmes=case.programmes)
    problem = _one_problem(exc)
    assert problem.file == str(tmp_path / case.file)
    assert problem.row == case.row, str(problem)
    for part in case.message:
        assert part in problem.message, str(problem)
    assert case.fix in problem.fix, str(problem)
    assert problem.code == case.code
    text = str(exc.value)  # what a user reads: the file, the row, the message and the fix, on one line
    assert text.startswith(str(tmp_path / case.file)) and "— fix: " in text
    assert (f", row {case.row}:" in text) if case.row else ", row" not in text


def test_a_member_again_over_another_period_or_role_is_valid(model: Model, settings: Settings, tmp_path: Path):
    """The same member may come back over a period that does not overlap the first (or with another role); it is in
    force at each of its dates and not between them."""
    from geo.coverage import coverage_table
    from geo.periods import in_force

    (tmp_path / "test-retour.yaml").write_text(scheme(
        '\n  - {code: "31555", role: signataire, start: 2015-01-01, end: 2017-12-31}'
        '\n  - {code: "31555", role: signataire, start: 2019-01-01}'
        '\n  - {code: "31555", role: pilote, start: 2016-01-01, end: 2016-12-31}',
        id="test-retour", extra="period: {start: 2015-01-01, end: 2020-12-31}\n"), encoding="utf-8")
    found = _load(model, settings, tmp_path)
    periods = [found.get("test-retour").period_of(m) for m in found.get("test-retour").members]
    assert [(p.start, p.end) for p in periods] == [(dt.date(2015, 1, 1), dt.date(2017, 12, 31)), (dt.date(2019, 1, 1), dt.date(2020, 12, 31)),
                                                   (dt.date(2016, 1, 1), dt.date(2016, 12, 31))]
    table = coverage_table(found, model.territories.cog)
    rows = table[table["scheme"] == "test-retour"]
    assert [sum(in_force(a, b, day) for a, b in zip(rows["start"], rows["end"])) for day in
            (dt.date(2016, 6, 1), dt.date(2018, 6, 1), dt.date(2019, 6, 1))] == [2, 0, 1]


def test_markup_and_script_in_names_load_verbatim(model: Model, settings: Settings, tmp_path: Path):
    """Names are data: they load as written; escaping them is the web layer's job."""
    img, script = "<img src=x onerror=alert(1)>", "<script>alert(1)</script>"
    (tmp_path / "test-noms.yaml").write_text(scheme(f'\n  - {{code: "31555", name: "{script}", role: "{img}"}}', id="test-noms")
                                             .replace("name: Schéma de test", f'name: "{img}"'), encoding="utf-8")
    found = _load(model, settings, tmp_path).get("test-noms")
    assert found.name == img and found.members[0].name == script and found.members[0].role == img


def test_very_long_name_loads_whole(model: Model, settings: Settings, tmp_path: Path):
    long_name = "Communauté " + "x" * 100_000
    (tmp_path / "test-long.yaml").write_text(
        scheme(f'\n  - {{code: "31555", name: "{long_name}"}}', id="test-long").replace("name: Schéma de test", f'name: "{long_name}"'),
        encoding="utf-8")
    found = _load(model, settings, tmp_path).get("test-long")
    assert found.name == long_name and found.members[0].name == long_name


def test_strict_reading_keeps_what_is_right(tmp_path: Path):
    """Strictness refuses the ambiguous, not the plain: unquoted codes with letters, quoted dates, true/false,
    block text and every member key load as written."""
    path = tmp_path / "test-ok.yaml"
    path.write_text(scheme('\n  - {code: 2A004, name: Ajaccio, role: "non", start: "2022-01-01", end: 2023-12-31, note: "n° 1: test"}',
                           id="test-ok", extra="scale: false\nowner: \"243100518\"\nnotes: >-\n  une note\n  sur deux lignes\n"),
                    encoding="utf-8")
    found = parse_scheme_file(path)
    member = found.members[0]
    assert (member.code, member.name, member.role, member.start, member.end, member.note, member.line) == (
        "2A004", "Ajaccio", "non", dt.date(2022, 1, 1), dt.date(2023, 12, 31), "n° 1: test", 12)
    assert found.scale is False and found.owner == "243100518" and found.notes == "une note sur deux lignes"


# --- the settings' paths ------------------------------------------------------------------------------------------

def _schemes_file(tmp_path: Path) -> Path:
    (tmp_path / "schemes.yaml").write_text(scheme(), encoding="utf-8")
    return tmp_path / "schemes.yaml"


def _yaml_directory(tmp_path: Path) -> Path:
    (tmp_path / "schemes" / "test-bad.yaml").mkdir(parents=True)
    return tmp_path / "schemes"


BAD_PATHS = {  # (schemes directory, member lists) -> (the path named, message, fix)
    "schemes directory that does not exist": (lambda t: (t / "nowhere", ()), lambda t: t / "nowhere",
                                              "the schemes directory (TERRITOIRES_SCHEMES) does not exist", "point TERRITOIRES_SCHEMES at"),
    "schemes 'directory' that is a file": (lambda t: (_schemes_file(t), ()), lambda t: t / "schemes.yaml",
                                           "the schemes directory (TERRITOIRES_SCHEMES) is a file, not a directory", "point TERRITOIRES_SCHEMES"),
    "schemes directory with no scheme file": (lambda t: ((t / "empty").mkdir() or t / "empty", ()), lambda t: t / "empty",
                                              "holds no scheme file (*.yaml)", "point TERRITOIRES_SCHEMES at the directory of scheme files"),
    "TERRITOIRES_MEMBERS still set": (lambda t: (SCHEMES_DIR, (str(t / "members.csv"),)), lambda t: t / "members.csv",
                                      "TERRITOIRES_MEMBERS is no longer read: member lists live in the data directory",
                                      "import the file once with `territoires members import FILE`"),
    "scheme 'file' that is a directory": (lambda t: (_yaml_directory(t), ()), lambda t: t / "schemes" / "test-bad.yaml",
                                          "is a directory, not a scheme file", "move it out of the schemes directory"),
}


@pytest.mark.parametrize("paths, named, message, fix", BAD_PATHS.values(), ids=BAD_PATHS.keys())
def test_bad_path_in_the_settings_is_one_clear_error(model: Model, settings: Settings, tmp_path: Path, paths, named, message: str, fix: str):
    schemes, members = paths(tmp_path)
    with pytest.raises(InputError) as exc:
        _load(model, settings, schemes, members, programmes=True)  # the programmes would load: a wrong path still fails
    problem = _one_problem(exc)
    assert problem.file == str(named(tmp_path)) and problem.row is None, str(problem)
    assert message in problem.message and fix in problem.fix, str(problem)


# --- member lists (CSV, XLSX) ---------------------------------------------------------------------------------------

HEADER = "code;dispositif;role;debut;fin;source;note\n"
SRC = "Délibération du 3 mai 2022"
BAD_CSV = {  # content -> (row, column, French message parts, French fix)
    "old English header": (b"code;scheme;role;start;end\n31555;contrat-test;;;\n", 1, None,
                           ("l'en-tête est celui de l'ancien format (code;scheme;role;start;end)",), "renommez les colonnes en code;dispositif"),
    "empty": (b"", None, None, ("le fichier est vide",), "écrivez l'en-tête code;dispositif;role;debut;fin;source;note"),
    "missing columns": (b"code;dispositif;role\n31555;contrat-test;signataire\n", 1, None, ("colonne(s) manquante(s) : source",),
                        "l'en-tête doit être code;dispositif;role;debut;fin;source;note"),
    "unknown column": (b"code;dispositif;source;date_debut\n31555;contrat-test;x;2022-01-01\n", 1, "date_debut",
                       ("colonne inconnue « date_debut »",), "les colonnes sont"),
    "unknown scheme": ((HEADER + f"31555;contrat-inconu;;;;{SRC};\n").encode(), 2, "dispositif", ("dispositif inconnu « contrat-inconu »",),
                       "vouliez-vous dire « contrat-test » ?"),
    "impossible date": ((HEADER + f"31555;contrat-test;;31/02/2024;;{SRC};\n").encode(), 2, "debut",
                        ("« 31/02/2024 » n'existe pas dans le calendrier",), "JJ/MM/AAAA"),
    "two-digit year": ((HEADER + f"31555;contrat-test;;15/03/22;;{SRC};\n").encode(), 2, "debut", ("n'a pas quatre chiffres",), "JJ/MM/AAAA"),
    "ends before it starts": ((HEADER + f"31555;contrat-test;;15/03/2024;01/01/2023;{SRC};\n").encode(), 2, "fin",
                              ("l'adhésion finit (01/01/2023) avant de commencer (15/03/2024)",), "inversez ou corrigez les dates"),
    "no source": ((HEADER + "31555;contrat-test;;;;;\n").encode(), 2, "source", ("la source de l'adhésion n'est pas indiquée",),
                  "le titre d'un document et/ou son adresse web"),
    "neither ';' nor ',' (tab-separated)": (HEADER.replace(";", "\t").encode() + b"31555\tcontrat-test\t\t\t\t\t\n", 1, None,
                                            ("l'en-tête n'est séparé ni par des « ; » ni par des « , »",), "l'en-tête doit être"),
    "merged commune code": ((HEADER + f"30157;contrat-test;signataire;;;{SRC};\n").encode(), 2, "code",
                            ("30157 n'est plus une commune : elle a fusionné dans la commune 30052 (Bréau-Mars)",), "écrivez 30052"),
    "code that lost its leading zero": ((HEADER + f"1004;contrat-test;;;;{SRC};\n").encode(), 2, "code",
                                        ("le code 1004 a perdu son zéro initial (c'est 01004)",), "format Texte"),
    "code written as a decimal number": ((HEADER + f"31555.0;contrat-test;;;;{SRC};\n").encode(), 2, "code",
                                         ("le code « 31555.0 » est écrit comme un nombre décimal",), "format Texte"),
    "EPCI in a commune scheme": ((HEADER + f"243100518;contrat-test;;;;{SRC};\n").encode(), 2, "code",
                                 ("243100518 est un EPCI, mais les membres de ce dispositif sont des communes",), "écrivez les codes des communes"),
    "bad row after blank lines (rows are file lines)": ((HEADER + f"\n31555;contrat-test;;;;{SRC};\n\n99999;contrat-test;;;;{SRC};\n").encode(),
                                                        5, "code", ("99999 n'est pas un code de commune du COG 2026",), "code INSEE 2026"),
    "duplicate row": ((HEADER + f"31555;contrat-test;;;;{SRC};\n31555;contrat-test;;;;{SRC};\n").encode(), 3, "code",
                      ("31555 est déjà sur la ligne 2 pour ce dispositif",), "gardez une ligne par membre"),
    "NUL byte": ((HEADER + f"31555;contrat-test;;;;{SRC};\n31069;contrat-test;sig\x00nataire;;;{SRC};\n").encode(), 3, None,
                 ("le fichier contient des octets nuls",), "enregistrez le tableau en « CSV UTF-8 »"),
    "quote never closed": ((HEADER + f'31555;contrat-test;;;;{SRC};\n31069;contrat-test;"signataire;;;{SRC};\n').encode(), 3, None,
                           ("le CSV ne peut plus être lu à partir de cette ligne (unexpected end of data)",), "fermez le guillemet"),
    "quote closed rows later": ((HEADER + f'31069;contrat-test;"signataire;;;{SRC};\n31149;contrat-test;x";;;{SRC};\n').encode(), 2, "role",
                                ("la cellule contient un retour à la ligne",), "fermez le guillemet ouvert"),
    "field over the csv module's limit": ((HEADER + "31069;contrat-test;" + "x" * 200_000 + f";;;{SRC};\n").encode(), 2, None,
                                          ("field larger than field limit (131072)",), "fermez le guillemet"),
    "100,000 characters in a cell": ((HEADER + "31069;contrat-test;;;;" + "x" * 100_000 + ";\n").encode(), 2, "source",
                                     ("la cellule contient 100\u202f000 caractères, au plus 500",), "raccourcissez-la"),
    "more fields than the header": ((HEADER + f"31555;contrat-test;signataire;2022-01-01;;{SRC};;Toulouse\n").encode(), 2, None,
                                    ("la ligne a plus de cellules remplies que l'en-tête n'a de colonnes",), "mettez entre guillemets"),
    "not a spreadsheet (ODS)": (b"PK\x03\x04 fake ods", None, None, ("ce n'est ni un fichier CSV ni un classeur .xlsx",), "format .xlsx"),
}
CONTRAT_TEST = ("id: contrat-test\nname: Contrat de test\nkind: contract\nmember_scale: commune\nmembers: []\n" + SOURCE
                + "period: {start: 2022-01-01, end: 2027-12-31}\n")


def _check(model: Model, settings: Settings, tmp_path: Path, content: bytes, name: str = "membres.csv"):
    from geo.imports import check_file

    (tmp_path / "schemes").mkdir(exist_ok=True)
    (tmp_path / "schemes" / "contrat-test.yaml").write_text(CONTRAT_TEST, encoding="utf-8")
    s = Settings(mirror=settings.mirror, cache=settings.cache, schemes=tmp_path / "schemes", data_dir=tmp_path / "data")
    return check_file(s, model.territories.cog, content, name)


@pytest.mark.parametrize("content, row, column, message, fix", BAD_CSV.values(), ids=BAD_CSV.keys())
def test_bad_member_list_is_one_clear_french_error(model: Model, settings: Settings, tmp_path: Path, content: bytes, row: int | None,
                                                   column: str | None, message: tuple[str, ...], fix: str):
    name = "membres.ods" if content.startswith(b"PK") else "membres.csv"
    checked = _check(model, settings, tmp_path, content, name)
    assert len(checked.problems) == 1, "\n".join(map(str, checked.problems))
    problem = checked.problems[0]
    assert problem.file == name and problem.row == row and problem.column == column, str(problem)
    assert all(part in problem.message for part in message) and fix in problem.fix, str(problem)
    assert not checked.changes


def test_member_list_reads_quotes_the_spreadsheet_way(model: Model, settings: Settings, tmp_path: Path):
    """A quoted field may hold the separator and a doubled quote (what LibreOffice and Excel write)."""
    checked = _check(model, settings, tmp_path, (HEADER + f'31555;contrat-test;"CA ""Grand Sud"" ; signataire";;;{SRC};\n').encode())
    assert checked.ok and checked.members.entries[0].member.role == 'CA "Grand Sud" ; signataire'


@pytest.mark.parametrize("sep, encoding", [(";", "utf-8"), (",", "utf-8-sig"), (";", "cp1252")])
def test_member_list_separators_and_encodings(model: Model, settings: Settings, tmp_path: Path, sep: str, encoding: str):
    text = (sep.join(["Code", "Dispositif", "Rôle", "Début", "Fin", "Source", "Note"]) + "\r\n"
            + sep.join(["31555", "contrat-test", "signataire", "15/03/2022", "2027-12-31", "Délibération https://example.org/d.pdf", "é"]) + "\r\n"
            + sep.join(["09001", "contrat-test", "", "", "", "Arrêté préfectoral", ""]) + "\r\n")
    checked = _check(model, settings, tmp_path, text.encode(encoding))
    assert checked.ok, checked.problems
    members = [e.member for e in checked.members.entries]
    assert [(m.code, m.role, str(m.start), str(m.end), m.note, m.line) for m in members] == [
        ("31555", "signataire", "2022-03-15", "2027-12-31", "é", 2), ("09001", None, "None", "None", None, 3)]
    assert (members[0].source.title, members[0].source.url) == ("Délibération", "https://example.org/d.pdf")
    assert (members[1].source.title, members[1].source.url) == ("Arrêté préfectoral", None)


def test_every_problem_of_a_file_is_in_one_report(model: Model, settings: Settings, tmp_path: Path):
    """Four bad rows, five problems: all reported at once, each with its row and column, none published."""
    rows = ["31555;contrat-test;;31/02/2022;;;", "9001;contrat-test;;;;x;", "31555;contrat-test;;;;x;", "30157;contrat-inconnu;;;;x;"]
    checked = _check(model, settings, tmp_path, (HEADER + "\n".join(rows) + "\n").encode())
    assert [(p.row, p.column) for p in checked.problems] == [(2, "debut"), (2, "source"), (3, "code"), (5, "dispositif")]
    assert "le code 9001 a perdu son zéro initial (c'est 09001)" in checked.problems[2].message


# --- boundary files ------------------------------------------------------------------------------------------------

SQUARE = [[[1.0, 43.0], [1.1, 43.0], [1.1, 43.1], [1.0, 43.1], [1.0, 43.0]]]
L93_SQUARE = [[[574000, 6280000], [584000, 6280000], [584000, 6290000], [574000, 6290000], [574000, 6280000]]]


def _feature(code: str = "99001", geometry: dict | None = None, properties: dict | None = None) -> dict:
    return {"type": "Feature", "properties": {"code": code, "nom": f"commune test {code}"} if properties is None else properties,
            "geometry": {"type": "Polygon", "coordinates": SQUARE} if geometry is None else geometry}


def _collection(*features: dict, crs: str | None = None) -> bytes:
    fc: dict = {"type": "FeatureCollection", "features": list(features)}
    if crs:
        fc["crs"] = {"type": "name", "properties": {"name": crs}}
    return json.dumps(fc).encode()


def _no_geometry(code: str) -> dict:
    return _feature(code) | {"geometry": None}


BAD_BOUNDARIES = {
    "projected coordinates without a declared CRS": (
        _collection(_feature(geometry={"type": "Polygon", "coordinates": L93_SQUARE})), None,
        ("declares no projected CRS", "not longitudes/latitudes"), "declare the file's CRS"),
    "truncated GeoJSON": (_collection(_feature("99001"), _feature("99002"))[:150], None,
                          ("cannot be read as a vector file",), "restore the original file"),
    "empty file (0 bytes)": (b"", None, ("is empty (0 bytes)",), "restore the original file"),
    "FeatureCollection with no features": (_collection(), None, ("holds no features",), "restore the original file"),
    "feature without geometry": (_collection(_feature("99001"), _no_geometry("99002")), 2,
                                 ("feature '99002' has no geometry",), "give every feature a polygon geometry"),
    "missing 'code' property": (_collection(_feature(properties={"nom": "sans code"})), None, ("missing column(s) code",),
                                "the file must have the properties code, nom"),
    "point instead of a polygon": (_collection(_feature("99001", geometry={"type": "Point", "coordinates": [1.05, 43.05]})), 1,
                                   ("feature '99001' is a Point, not a polygon",), "give every feature a polygon geometry"),
}


@pytest.mark.parametrize("content, row, message, fix", BAD_BOUNDARIES.values(), ids=BAD_BOUNDARIES.keys())
def test_bad_boundary_file_is_one_clear_error(tmp_path: Path, content: bytes, row: int | None, message: tuple[str, ...], fix: str):
    path = tmp_path / "communes-test.geojson"
    path.write_bytes(content)
    with pytest.raises(InputError) as exc:
        read_boundaries(path, ReadReport())
    problem = _one_problem(exc)
    assert problem.file == str(path) and problem.row == row, str(problem)
    assert all(part in problem.message for part in message) and fix in problem.fix, str(problem)


def test_self_intersecting_polygon_is_repaired_and_reported(tmp_path: Path):
    bowtie = Polygon([(1.0, 43.0), (1.1, 43.1), (1.1, 43.0), (1.0, 43.1), (1.0, 43.0)])
    path = tmp_path / "bowtie.geojson"
    gpd.GeoDataFrame({"code": ["99001"], "nom": ["noeud papillon"]}, geometry=[bowtie], crs=4326).to_file(path, driver="GeoJSON")
    report = ReadReport()
    gdf = read_boundaries(path, report)
    assert report.repaired == [(str(path), "99001")] and gdf.geometry.is_valid.all()
    assert gdf.geometry.iloc[0].area == pytest.approx(0.005, rel=1e-6)


def test_declared_lambert93_geojson_is_reprojected(tmp_path: Path):
    path = tmp_path / "l93.geojson"
    path.write_bytes(_collection(_feature(geometry={"type": "Polygon", "coordinates": L93_SQUARE}), crs="urn:ogc:def:crs:EPSG::2154"))
    report = ReadReport()
    gdf = read_boundaries(path, report)
    assert report.reprojected == [(str(path), "EPSG:2154")] and gdf.crs.to_epsg() == 4326
    xmin, ymin, xmax, ymax = gdf.total_bounds
    assert 1.4 < xmin < xmax < 1.6 and 43.6 < ymin < ymax < 43.71  # near Toulouse, in degrees


# --- source files --------------------------------------------------------------------------------------------------

def test_missing_source_file_names_dataset_path_checksum_and_fix(mirror: Path, tmp_path: Path):
    ds = datasets()["cog-regions"]
    tmp_mirror = partial_mirror(mirror, tmp_path / "mirror", {ds.file: None})
    with pytest.raises(SourceError) as exc:
        fetch(ds, Settings(mirror=tmp_mirror, cache=tmp_path / "cache"))
    text = str(exc.value)
    assert "cog-regions" in text and str(tmp_mirror / ds.file) in text and ds.sha256 in text and "Fix: point TERRITOIRES_MIRROR" in text


def test_corrupt_source_file_names_both_checksums_and_fix(mirror: Path, tmp_path: Path):
    ds = datasets()["cog-regions"]
    tmp_mirror = partial_mirror(mirror, tmp_path / "mirror", {ds.file: corrupted(mirror, ds.file)})
    with pytest.raises(SourceError) as exc:
        fetch(ds, Settings(mirror=tmp_mirror, cache=tmp_path / "cache"))
    text = str(exc.value)
    actual = sha256_of(tmp_mirror / ds.file)
    assert actual != ds.sha256 and f"expected sha256 {ds.sha256}, got {actual}" in text
    assert str(tmp_mirror / ds.file) in text and "Fix: restore the original file from https://" in text


# --- the build cache: full, read-only, a directory where a file belongs, altered after publication -------------------

@pytest.fixture()
def served(settings: Settings, tmp_path: Path) -> tuple[Settings, dict, ModelHolder]:
    """A deployment with its own cache, the version it has in service, and a worker's holder serving it."""
    s = Settings(mirror=settings.mirror, cache=seeded_cache(settings, tmp_path / "cache"), schemes=SCHEMES_DIR)
    pointer = publish(s)
    holder = ModelHolder(s)
    assert holder.load().version == pointer["version"]
    return s, pointer, holder


class FullDisk:
    """A file object that writes half of what it is given, then fails as a full disk does."""

    def __init__(self, fh):
        self.fh = fh

    def write(self, data: bytes) -> int:
        self.fh.write(data[: len(data) // 2])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.fh.close()


def _disk_full_for(monkeypatch: pytest.MonkeyPatch, suffix: str) -> None:
    """Files of the cache whose name ends with ``suffix`` hit a full disk (through the atomic writer's file object)."""
    real = os.fdopen

    def fdopen(fd: int, *args, **kwargs):
        fh = real(fd, *args, **kwargs)
        return FullDisk(fh) if Path(os.readlink(f"/proc/self/fd/{fd}")).name.endswith(suffix) else fh
    monkeypatch.setattr(geo.cachefiles.os, "fdopen", fdopen)


def _disk_full_in_parquet(monkeypatch: pytest.MonkeyPatch) -> None:
    """Writing a build's GeoParquet hits a full disk half-way, as pyarrow reports it (errno in the message only)."""
    def write_table(table, where, *args, **kwargs):
        Path(where).write_bytes(b"PAR1" + b"\0" * 1000)
        raise OSError(errno.ENOSPC, "Error writing bytes to file. Detail: [errno 28] No space left on device")
    monkeypatch.setattr(pyarrow.parquet, "write_table", write_table)


def _read_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every file the cache code creates or opens for writing fails as on a read-only file system."""
    real = os.open

    def open_(path, flags, *args, **kwargs):
        if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
        return real(path, flags, *args, **kwargs)
    monkeypatch.setattr(geo.cachefiles.os, "open", open_)


@dataclass(frozen=True)
class BadCache:
    """A way to break the cache (given the deployment, its pointer, pytest's monkeypatch), what fails (publishing
    a new version, or loading the one in service), and the one error expected: the path it names, message, fix."""

    breaks: Callable[[Settings, dict, pytest.MonkeyPatch], None]
    action: str  # "publish" | "rebuild" | "load"
    path: Callable[[Settings, dict], str]
    message: tuple[str, ...]
    fix: str


def _builds(s: Settings) -> Path:
    return s.cache / "builds"


def _flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x20
    path.write_bytes(bytes(data))


def _directory_in_place_of(path: Path) -> None:
    path.unlink()
    (path / "inside").mkdir(parents=True)


def _pickle_as_snapshot(s: Settings, pointer: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    """An attacker's pickle in place of the snapshot, and its checksum in the pointer: loading it must not unpickle."""
    import pickle

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {s.cache / 'pwned'}",))
    data = pickle.dumps(Payload())
    (_builds(s) / pointer["catalogue"]).write_bytes(data)
    pointer_path(s).write_text(json.dumps(pointer | {"catalogue_sha256": hashlib.sha256(data).hexdigest()}), encoding="utf-8")


BAD_CACHES = {
    "disk full while writing a build": BadCache(lambda s, p, mp: _disk_full_in_parquet(mp), "rebuild", lambda s, p: str(_builds(s)),
                                                ("cannot write the build occitanie-", "No space left on device"),
                                                "free space on the disk holding"),
    "disk full while writing the snapshot": BadCache(lambda s, p, mp: _disk_full_for(mp, ".json"), "publish",
                                                     lambda s, p: "occitanie-catalogue-",
                                                     ("cannot write the catalogue snapshot of version", "No space left on device"),
                                                     "free space on the disk holding"),
    "disk full while switching the pointer": BadCache(lambda s, p, mp: _disk_full_for(mp, ".current"), "publish",
                                                      lambda s, p: str(pointer_path(s)),
                                                      ("cannot put version", "in service: No space left on device"), "free space"),
    "read-only cache": BadCache(lambda s, p, mp: _read_only(mp), "publish", lambda s, p: str(_builds(s) / ".publish.lock"),
                                ("cannot take the lock .publish.lock: Read-only file system",),
                                "the cache is on a read-only file system: set TERRITOIRES_CACHE to a writable directory"),
    "a directory in place of the pointer": BadCache(lambda s, p, mp: _directory_in_place_of(pointer_path(s)), "publish",
                                                    lambda s, p: str(pointer_path(s)), ("cannot put version", "Is a directory"),
                                                    "a directory stands where a file is expected: remove"),
    "a directory in place of the publication lock": BadCache(lambda s, p, mp: _directory_in_place_of(_builds(s) / ".publish.lock"),
                                                             "publish", lambda s, p: str(_builds(s) / ".publish.lock"),
                                                             ("cannot take the lock .publish.lock: Is a directory",),
                                                             "a directory stands where a file is expected: remove"),
    "snapshot altered after publication": BadCache(lambda s, p, mp: _flip_a_byte(_builds(s) / p["catalogue"]), "load",
                                                   lambda s, p: str(_builds(s) / p["catalogue"]),
                                                   ("the catalogue snapshot was changed after it was published", "nothing was loaded from it"),
                                                   "run `territoires refresh` to publish a new version, and find out what else writes"),
    "a pickle in place of the snapshot, its checksum in the pointer": BadCache(
        _pickle_as_snapshot, "load", lambda s, p: str(_builds(s) / p["catalogue"]),
        ("the catalogue snapshot cannot be read (not JSON",), "run `territoires refresh`"),
    "snapshot deleted": BadCache(lambda s, p, mp: (_builds(s) / p["catalogue"]).unlink(), "load", lambda s, p: str(_builds(s) / p["catalogue"]),
                                 ("the catalogue snapshot of version", "does not exist"), "run `territoires refresh`"),
    "build deleted": BadCache(lambda s, p, mp: shutil.rmtree(_builds(s) / p["territories"]), "load",
                              lambda s, p: str(_builds(s) / p["territories"]), ("the build does not exist",),
                              "run `territoires refresh --rebuild`"),
    "build file damaged": BadCache(lambda s, p, mp: (_builds(s) / p["territories"] / "commune.parquet").write_bytes(b"PAR1 truncated"), "load",
                                   lambda s, p: str(_builds(s) / p["territories"]), ("the build cannot be read",),
                                   "run `territoires refresh --rebuild`"),
}


@pytest.mark.parametrize("case", BAD_CACHES.values(), ids=BAD_CACHES.keys())
def test_bad_cache_is_one_clear_error_and_the_version_stays_in_service(served, monkeypatch: pytest.MonkeyPatch, case: BadCache):
    s, before, holder = served
    serving = holder.model
    entries = sorted(p.name for p in _builds(s).iterdir())
    case.breaks(s, before, monkeypatch)
    with pytest.raises(CacheError) as exc:
        if case.action == "load":
            load_published(s)
        else:
            publish(s, rebuild=case.action == "rebuild")
    problem = exc.value.problem
    assert problem.file.startswith(case.path(s, before)) if case.path(s, before).startswith("/") else case.path(s, before) in problem.file
    assert all(part in problem.message for part in case.message) and case.fix in problem.fix, str(problem)
    assert str(exc.value) == str(problem) and "— fix: " in str(exc.value)
    monkeypatch.undo()
    assert not list(_builds(s).glob(".tmp-*")), "temporary files left behind"
    if case.action != "load":  # nothing was added (no build, no snapshot) and the pointer is as it was
        assert sorted(p.name for p in _builds(s).iterdir() if p.name != ".versions.lock") == [e for e in entries if e != ".versions.lock"]
        assert read_pointer(s) == before or pointer_path(s).is_dir()
    reloaded = holder.reload()  # a worker following the pointer: it keeps serving the version it has
    assert holder.model.version == before["version"] and (reloaded or holder.model is serving)
    if case.action == "load":
        assert not reloaded and holder.last_error == f"CacheError: {exc.value}"
    assert not (s.cache / "pwned").exists()


TINY = Catalogue({"test-ok": Scheme("test-ok", "Test", "contract", "commune", (Member("31555", role="pilote", start=dt.date(2022, 1, 1), line=7),),
                                     "test-ok.yaml", source={"title": "t"})}, [Problem("f.yaml", 3, "m", "fix")], ["w"])


def _tiny(edit: Callable[[dict], object]) -> bytes:
    document = json.loads(encode_catalogue(TINY))
    edit(document)
    return json.dumps(document).encode()


BAD_SNAPSHOTS = {  # what a snapshot reader refuses to build anything from, and the path to the value it names
    "not JSON": (b"\x80\x04\x95 a pickle", "not JSON"),
    "another format": (_tiny(lambda d: d.update(format=2)), "not a catalogue snapshot of format 1"),
    "an unknown field": (_tiny(lambda d: d["catalogue"]["schemes"]["test-ok"]["members"][0].update(__reduce__="os.system")),
                         "catalogue.schemes.test-ok.members[0]: unknown field(s) of Member: __reduce__"),
    "a list where a text is": (_tiny(lambda d: d["catalogue"]["schemes"]["test-ok"].update(name=["a"] * 3)),
                               "catalogue.schemes.test-ok.name: expected str, not list"),
    "a date that does not exist": (_tiny(lambda d: d["catalogue"]["schemes"]["test-ok"]["members"][0].update(start="2022-13-01")),
                                   "catalogue.schemes.test-ok.members[0].start: expected a date, not str '2022-13-01'"),
    "a text where a number is": (_tiny(lambda d: d["catalogue"]["problems"][0].update(row="3")), "catalogue.problems[0].row: expected int"),
}


def test_snapshot_round_trip_on_a_catalogue_built_in_code():
    assert decode_catalogue(encode_catalogue(TINY)) == TINY


@pytest.mark.parametrize("data, message", BAD_SNAPSHOTS.values(), ids=BAD_SNAPSHOTS.keys())
def test_snapshot_reader_refuses_what_this_code_did_not_write(data: bytes, message: str):
    with pytest.raises(SnapshotError) as exc:
        decode_catalogue(data)
    assert message in str(exc.value)


def test_a_pointer_naming_a_path_outside_the_cache_is_never_followed(served, tmp_path: Path):
    """An edited pointer is not one this code wrote: it is replaced by a new version, never read from."""
    s, before, _ = served
    outside = tmp_path / "elsewhere"
    shutil.copytree(_builds(s) / before["territories"], outside)
    pointer_path(s).write_text(json.dumps(before | {"territories": f"../../{outside.name}"}), encoding="utf-8")
    assert read_pointer(s) is None
    after = load_published(s)
    assert read_pointer(s)["territories"] == before["territories"] and after.version == before["version"]


def test_a_temporary_file_a_killed_process_left_is_swept_by_the_next_publication(served):
    s, before, _ = served
    stale, fresh = _builds(s) / ".tmp-0123456789ab-occitanie-catalogue-x.json", _builds(s) / ".tmp-ba9876543210-occitanie-y"
    stale.write_bytes(b"{")
    fresh.mkdir()
    os.utime(stale, (time.time() - 2 * 3600,) * 2)  # two hours old: its writer is long gone
    publish(s)
    assert not stale.exists() and fresh.exists()  # a recent one may belong to a `territoires data` running now


# --- the command line, as a real process -----------------------------------------------------------------------------

def _run(*args: str, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith("TERRITOIRES_")}
    out = subprocess.run([str(BIN), *args], capture_output=True, text=True, env=base | env, timeout=600)
    assert "Traceback" not in out.stdout + out.stderr, out.stderr
    return out


CLI_CHECK = {
    "YAML syntax error": (scheme('\n  - {code: "31555"\n  - {code: "31069"}'), ", row 8: is not valid YAML", "fix the YAML syntax"),
    "merged commune code": (scheme('\n  - {code: "30157"}'), ", row 7: 30157 is no longer a commune: it merged into 30052",
                            "use the 2026 code 30052"),
    "code that looks like console markup": (scheme('\n  - {code: "[/]"}\n  - {code: "[bold]31555"}'),
                                            ", row 7: [/] is not a 2026 commune code", "use a 2026 INSEE commune code"),
    "alias bomb in a name (3.7 GB and 35 s before, then a MemoryError)": (
        scheme().replace("name: Schéma de test", "name:\n" + BOMB), ", row 3: uses a YAML anchor or alias",
        "write each value out in full"),
    "unknown key": (scheme(extra="peroid: {start: 2022-01-01}\n"), ", row 6: unknown key 'peroid' in the scheme", "did you mean 'period'?"),
}


@pytest.mark.parametrize("content, message, fix", CLI_CHECK.values(), ids=CLI_CHECK.keys())
def test_check_reports_a_bad_scheme_and_exits_1(settings: Settings, tmp_path: Path, content: str, message: str, fix: str):
    path = tmp_path / "test-bad.yaml"
    path.write_text(content, encoding="utf-8")
    out = _run("check", TERRITOIRES_MIRROR=str(settings.mirror), TERRITOIRES_CACHE=str(settings.cache),
               TERRITOIRES_SCHEMES=str(tmp_path))
    assert out.returncode == 1
    errors = [line for line in out.stdout.splitlines() if line.startswith("error ")]  # check lists every error on stdout
    assert errors and errors[0].startswith(f"error {path}{message}") and f" — fix: {fix}" in errors[0], out.stdout[:2000]


def test_refresh_on_a_corrupt_mirror_exits_1_and_keeps_the_version_in_service(settings: Settings, mirror: Path, tmp_path: Path):
    cache = seeded_cache(settings, tmp_path / "cache")
    served = Settings(mirror=mirror, cache=cache, schemes=SCHEMES_DIR)
    before = publish(served)
    ds = datasets()["cog-regions"]
    bad_mirror = partial_mirror(mirror, tmp_path / "mirror", {ds.file: corrupted(mirror, ds.file)})
    out = _run("refresh", "--rebuild", TERRITOIRES_MIRROR=str(bad_mirror), TERRITOIRES_CACHE=str(cache))
    assert out.returncode == 1 and out.stdout == ""
    err = " ".join(out.stderr.split())  # rich wraps long lines
    assert f"checksum mismatch for {bad_mirror / ds.file}" in err and ds.sha256 in err and "Fix: restore the original file" in err
    assert f"version {before['version']} stays in service" in err
    assert read_pointer(served) == before
    assert load_published(served).version == before["version"]


def _env(settings: Settings, cache: Path, **extra: str) -> dict[str, str]:
    return {"TERRITOIRES_MIRROR": str(settings.mirror), "TERRITOIRES_CACHE": str(cache), **extra}


@pytest.mark.parametrize("env, named, message", [
    ({"TERRITOIRES_SCHEMES": "nowhere"}, "nowhere", "the schemes directory (TERRITOIRES_SCHEMES) does not exist"),
    ({"TERRITOIRES_MEMBERS": "members.csv"}, "members.csv", "TERRITOIRES_MEMBERS is no longer read: member lists live in the data directory"),
], ids=["missing schemes directory", "TERRITOIRES_MEMBERS still set"])
def test_a_wrong_path_fails_check_and_refresh(settings: Settings, tmp_path: Path, env: dict, named: str, message: str):
    """Before: a missing schemes directory passed `check` and served the 6 programmes instead of 16 schemes."""
    cache = seeded_cache(settings, tmp_path / "cache")
    before = publish(Settings(mirror=settings.mirror, cache=cache))
    env = {k: str(tmp_path / v) for k, v in env.items()}
    check = _run("check", **_env(settings, cache, **env))
    assert check.returncode == 1 and f"error {tmp_path / named}: {message}" in check.stdout, check.stdout[-2000:]
    refresh = _run("refresh", **_env(settings, cache, **env))
    err = " ".join(refresh.stderr.split())
    assert refresh.returncode == 1 and f"{tmp_path / named}: {message}" in err
    assert read_pointer(Settings(mirror=settings.mirror, cache=cache)) == before


def _serve(settings: Settings, cache: Path, workers: int) -> subprocess.CompletedProcess:
    """`territoires serve` on a free port: it must stop by itself (the data cannot be served)."""
    return _run("serve", "--workers", str(workers), "--port", str(free_port()), **_env(settings, cache))


@pytest.mark.parametrize("workers", [1, 2])
def test_serve_exits_1_with_the_reason_when_the_build_in_service_was_removed(settings: Settings, tmp_path: Path, workers: int):
    """Before: the workers failed with a FileNotFoundError traceback each and the master exited 0."""
    cache = seeded_cache(settings, tmp_path / "cache")
    pointer = publish(Settings(mirror=settings.mirror, cache=cache))
    shutil.rmtree(cache / "builds" / pointer["territories"])
    out = _serve(settings, cache, workers)
    err = " ".join(out.stderr.split())
    assert out.returncode == 1 and "Started server process" not in err  # found before any worker starts
    assert f"error: {cache / 'builds' / pointer['territories']}: the build of version {pointer['version']} does not exist" in err
    assert "fix: run `territoires refresh` to publish a new version" in err


@pytest.mark.parametrize("workers", [1, 2])
def test_serve_exits_1_with_the_reason_when_its_workers_cannot_load_the_data(settings: Settings, tmp_path: Path, workers: int):
    """A damage the check before start-up does not see (a build file's content): the workers fail to load it, say
    why in one line each, and the master stops and exits 1 with the reason."""
    cache = seeded_cache(settings, tmp_path / "cache")
    pointer = publish(Settings(mirror=settings.mirror, cache=cache))
    (cache / "builds" / pointer["territories"] / "epci.parquet").write_bytes(b"PAR1 damaged")
    out = _serve(settings, cache, workers)
    err = " ".join(out.stderr.split())
    assert out.returncode == 1, err[-2000:]
    reason = f"{cache / 'builds' / pointer['territories']}: the build cannot be read"
    assert reason in err and "fix: run `territoires refresh --rebuild`" in err
    if workers > 1:
        assert "could not start: " + reason in err and "cannot load the data version: " + reason in err


def test_refresh_on_a_full_disk_exits_1_and_keeps_the_version_in_service(settings: Settings, tmp_path: Path):
    """A real full disk: the cache copied onto a tmpfs with 1 MiB to spare (private mount namespace), then a rebuild."""
    cache = seeded_cache(settings, tmp_path / "cache")
    before = publish(Settings(mirror=settings.mirror, cache=cache))
    base = {k: v for k, v in os.environ.items() if not k.startswith("TERRITOIRES_")}
    report = run_in_namespace("full", cache, base | _env(settings, cache), "--rebuild")
    err = " ".join(report["stderr"].split())
    assert report["returncode"] == 1 and "Traceback" not in err, err[-2000:]
    assert "cannot write the build occitanie-" in err and "No space left on device" in err and "fix: free space on the disk holding" in err
    assert f"version {before['version']} stays in service" in err
    assert not [e for e in report["entries"] if e.startswith(".tmp-")] and report["pointer"] == before
    assert report["served"] == before["version"]


def test_refresh_on_a_read_only_cache_exits_1_and_the_version_is_still_served(settings: Settings, tmp_path: Path):
    """A real read-only cache (a read-only bind mount in a private mount namespace): refreshing fails in one line,
    reading the version in service still works."""
    cache = seeded_cache(settings, tmp_path / "cache")
    schemes = tmp_path / "schemes"
    shutil.copytree(SCHEMES_DIR, schemes, ignore=shutil.ignore_patterns("*.md"))
    before = publish(Settings(mirror=settings.mirror, cache=cache, schemes=schemes))
    (schemes / "test-ok.yaml").write_text(scheme(id="test-ok"), encoding="utf-8")  # an edit to put in service
    base = {k: v for k, v in os.environ.items() if not k.startswith("TERRITOIRES_")}
    report = run_in_namespace("readonly", cache, base | _env(settings, cache, TERRITOIRES_SCHEMES=str(schemes)))
    err = " ".join(report["stderr"].split())
    assert report["returncode"] == 1 and "Traceback" not in err, err[-2000:]
    assert f"{cache / 'builds' / '.publish.lock'}: cannot take the lock .publish.lock: Read-only file system" in err
    assert "fix: the cache is on a read-only file system" in err and f"version {before['version']} stays in service" in err
    assert report["pointer"] == before and report["served"] == before["version"]


# --- requests: hostile parameters and headers (issue 13, classes 5 and 9) ------------------------------------------

#: A bad request, its headers, and the status and words of its one answer (never a traceback, never a 500).
BAD_REQUESTS = {
    "image larger than 9 million pixels": ("/static/scales.png?size=4000x4000", {}, 422, "fait 16,0 millions de pixels, au plus 9 millions"),
    "image side over 4000 pixels": ("/static/scales.png?size=5000x300", {}, 422, "de 200 à 4000"),
    "image size of zero": ("/static/scales.png?size=0x0", {}, 422, "LARGEURxHAUTEUR"),
    "image size that is a formula": ("/static/scales.png?size==1+1", {}, 422, "Taille inconnue"),
    "bundle naming an unknown layer": ("/export/bundle.gpkg?layers=communes,nope", {}, 404, "Couche inconnue : « nope »"),
    "bundle of only commas": ("/export/bundle.gpkg?layers=,,,&within=31555", {}, 200, ""),
    "If-None-Match on a bad bbox": ("/api/territories/commune?bbox=1,2", {"If-None-Match": "*"}, 422, "bbox"),
    "If-None-Match on a bad size": ("/static/scales.png?size=huge", {"If-None-Match": "*"}, 422, "Taille inconnue"),
    "If-None-Match that is garbage": ("/api/schemes", {"If-None-Match": '"\x7f, W/, ,,'}, 200, ""),
    "Accept-Encoding weights that are not numbers": ("/api/schemes", {"Accept-Encoding": "gzip;q=banana, *;q=-1"}, 200, ""),
    "forged X-Forwarded-For from an untrusted client": ("/healthz", {"X-Forwarded-For": "1.2.3.4, not an address, ::zz"}, 200, ""),
    "forged Host header": ("/ogc", {"Host": "evil.example\\@x"}, 200, ""),
    "HEAD of an unknown territory": ("/api/communes/99999", {"method": "HEAD"}, 404, ""),
    "a path outside /assets": ("/assets/..%2f..%2fpyproject.toml", {}, 404, ""),
    "an npm file the pages do not use": ("/assets/leaflet/package.json", {}, 404, ""),
}


@pytest.mark.parametrize("path, headers, status, words", BAD_REQUESTS.values(), ids=BAD_REQUESTS.keys())
def test_bad_request_is_one_clear_answer(client, path: str, headers: dict, status: int, words: str):
    method = headers.get("method", "GET")
    r = client.request(method, path, headers={k: v for k, v in headers.items() if k != "method"})
    assert r.status_code == status, r.text[:500]
    assert "Traceback" not in r.text and "evil.example" not in r.text
    if words:
        assert words in r.json()["detail"]
