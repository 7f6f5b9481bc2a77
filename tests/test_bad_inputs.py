"""A corpus of bad inputs: each gets one clear error naming the file, the row (where the input has rows) and
the fix, never a traceback, and leaves what was loaded before untouched.

Every file here is a test fixture written into pytest's tmp_path; the real mirror is only read (or symlinked).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pytest
from datamirror import corrupted, partial_mirror, seeded_cache
from shapely.geometry import Polygon

from boundaries import SCHEMES_DIR
from geo.catalogue import Catalogue, load_catalogue
from geo.config import Settings
from geo.errors import InputError, SourceError
from geo.model import Model
from geo.readers import ReadReport, read_boundaries
from geo.sources import catalogue as datasets
from geo.sources import fetch, sha256_of
from geo.versions import load_published, publish, read_pointer

BIN = Path(sys.executable).parent / "territoires"
SOURCE = "source: {title: test fixture, url: 'https://example.org/test'}\n"


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


def _load(model: Model, settings: Settings, schemes: Path, members: tuple[Path, ...] = (), programmes: bool = False) -> Catalogue:
    s = Settings(mirror=settings.mirror, cache=settings.cache, schemes=schemes, members=members)
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
    "duplicate member": Bad({"test-bad.yaml": scheme('\n  - {code: "31555", role: pilote}\n  - {code: "31555"}')}, 8,
                            ("duplicate member 31555 (first at row 7)",), "keep one row per member", code="31555"),
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


# --- member CSV files ----------------------------------------------------------------------------------------------

HEADER = "code;scheme;role;start;end\n"
BAD_CSV = {
    "not UTF-8 (cp1252)": ((HEADER + "31555;contrat-test;Président;;\n").encode("cp1252"), 2,
                           ("is not UTF-8 text",), "save the CSV as UTF-8"),
    "empty": (b"", None, ("is empty",), "write a header line code;scheme;role;start;end"),
    "missing columns": (b"code;scheme;role\n31555;contrat-test;signataire\n", 1, ("missing column(s) start, end",),
                        "the header must be code;scheme;role;start;end"),
    "unknown scheme": ((HEADER + "31555;contrat-inconnu;;;\n").encode(), 2, ("unknown scheme 'contrat-inconnu'",),
                       "declare the scheme in boundaries/schemes/ first"),
    "bad date": ((HEADER + "31555;contrat-test;;2024-13-01;\n").encode(), 2, ("start '2024-13-01' is not a date",), "YYYY-MM-DD"),
    "neither ';' nor ',' (tab-separated)": (HEADER.replace(";", "\t").encode() + b"31555\tcontrat-test\t\t\t\n", 1,
                                            ("not separated by ';' or ','",), "the header must be code;scheme;role;start;end"),
    "merged commune code": ((HEADER + "30157;contrat-test;signataire;;\n").encode(), 2,
                            ("30157 is no longer a commune: it merged into 30052",), "use the 2026 code 30052"),
    "bad row after blank lines (rows are file lines)": ((HEADER + "\n31555;contrat-test;;;\n\n99999;contrat-test;;;\n").encode(), 5,
                                                        ("99999 is not a 2026 commune code",), "use a 2026 INSEE commune code"),
}
CONTRAT_TEST = "id: contrat-test\nname: Contrat de test\nkind: contract\nmember_scale: commune\nmembers: []\n" + SOURCE


@pytest.mark.parametrize("content, row, message, fix", BAD_CSV.values(), ids=BAD_CSV.keys())
def test_bad_member_csv_is_one_clear_error(model: Model, settings: Settings, tmp_path: Path, content: bytes, row: int | None,
                                           message: tuple[str, ...], fix: str):
    (tmp_path / "schemes").mkdir()
    (tmp_path / "schemes" / "contrat-test.yaml").write_text(CONTRAT_TEST, encoding="utf-8")
    csv_path = tmp_path / "members.csv"
    csv_path.write_bytes(content)
    with pytest.raises(InputError) as exc:
        _load(model, settings, tmp_path / "schemes", members=(csv_path,))
    problem = _one_problem(exc)
    assert str(csv_path) in problem.file and problem.row == row, str(problem)
    assert all(part in problem.message for part in message) and fix in problem.fix, str(problem)


@pytest.mark.parametrize("sep", [";", ","])
def test_member_csv_accepts_both_separators(model: Model, settings: Settings, tmp_path: Path, sep: str):
    (tmp_path / "schemes").mkdir()
    (tmp_path / "schemes" / "contrat-test.yaml").write_text(CONTRAT_TEST, encoding="utf-8")
    csv_path = tmp_path / "members.csv"
    csv_path.write_text(sep.join(["code", "scheme", "role", "start", "end"]) + "\n"
                        + sep.join(["31555", "contrat-test", "signataire", "2022-01-01", "2027-12-31"]) + "\n"
                        + sep.join(["31069", "contrat-test", "", "", ""]) + "\n", encoding="utf-8")
    members = _load(model, settings, tmp_path / "schemes", members=(csv_path,)).get("contrat-test").members
    assert [(m.code, m.role, str(m.start), str(m.end), m.line) for m in members] == [
        ("31555", "signataire", "2022-01-01", "2027-12-31", 2), ("31069", None, "None", "None", 3)]


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
