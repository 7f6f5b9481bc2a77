"""The `territoires` command line, run as a real process on the real data."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path

import httpx
import pytest

from geo.config import Settings
from tests.browser import free_port
from tests.datamirror import seeded_cache

BIN = Path(sys.executable).parent / "territoires"


def run(settings: Settings, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = os.environ | {"TERRITOIRES_MIRROR": str(settings.mirror), "TERRITOIRES_CACHE": str(settings.cache)} | (env or {})
    return subprocess.run([str(BIN), *args], capture_output=True, text=True, env=full_env, timeout=600)


def test_lookup_json(settings: Settings):
    out = run(settings, "lookup", "1.4442", "43.6047", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["commune"]["code"] == "31555" and data["commune"]["nom"] == "Toulouse"
    assert data["epci"]["code"] == "243100518" and data["departement"]["code"] == "31" and data["region"]["code"] == "76"
    ids = {s["id"] for s in data["schemes"]}
    assert {"agglomeration-toulousaine", "dialogue-metropolitain", "club-developpement-equilibre", "club-revitalisation",
            "club-transition-ecologique"} <= ids
    assert {g["id"] for g in data["groupings"]} >= {"agglomeration-toulousaine", "dialogue-metropolitain"}


def test_coverage_json_and_merged_code(settings: Settings):
    out = run(settings, "coverage", "31069", "--json")
    assert out.returncode == 0 and json.loads(out.stdout)["commune"]["nom"] == "Blagnac"
    bad = run(settings, "coverage", "30157")
    assert bad.returncode == 1 and "30052" in bad.stderr and "Traceback" not in bad.stderr


def test_data_prints_the_reconciliation_report(settings: Settings):
    out = run(settings, "data", "--json")
    assert out.returncode == 0, out.stderr
    rep = json.loads(out.stdout)["reconciliation"]
    assert (rep["polygons_in"], rep["communes_out"], rep["unplaced"]) == (4485, 4446, [])


def test_check_passes_on_the_catalogue_and_fails_on_a_bad_scheme(settings: Settings, tmp_path: Path):
    ok = run(settings, "check")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "0 errors" in ok.stdout
    (tmp_path / "bad.yaml").write_text("id: bad\nname: B\nkind: club\nmember_scale: epci\nmembers:\n  - {code: '123'}\n"
                                       "  - {code: '31555'}\nsource: {title: t}\n", encoding="utf-8")
    bad = run(settings, "check", "--json", env={"TERRITOIRES_SCHEMES": str(tmp_path)})
    assert bad.returncode == 1
    errors = json.loads(bad.stdout)["errors"]
    assert {e["code"] for e in errors} == {"123", "31555"} and all(e["row"] for e in errors)


def test_lookup_out_of_range_is_a_clear_error(settings: Settings):
    out = run(settings, "lookup", "200", "43")
    assert out.returncode == 1 and "longitude" in out.stderr and "Traceback" not in out.stderr


# --- a CLI that behaves: negative coordinates, --version, --json everywhere, out of scope, one-line errors -------------

def _one_error(out: subprocess.CompletedProcess) -> str:
    """The single error line of a failed run (and nothing that looks like a traceback)."""
    assert "Traceback" not in out.stderr and "╭" not in out.stderr, out.stderr
    [line] = out.stderr.splitlines()
    assert line.startswith("error: ") and "Fix: " in line, line
    return line


def test_negative_longitude_is_a_coordinate_not_an_option(settings: Settings):
    for args in (["-0.046", "43.095", "--json"], ["--json", "-0.046", "43.095"]):
        out = run(settings, "lookup", *args)
        assert out.returncode == 0, out.stderr
        data = json.loads(out.stdout)
        assert (data["commune"]["code"], data["commune"]["nom"]) == ("65286", "Lourdes") and data["lon"] == -0.046
    text = run(settings, "lookup", "-0.046", "43.095")
    assert text.returncode == 0 and "Lourdes (65286)" in text.stdout


def test_version(settings: Settings):
    out = run(settings, "--version")
    assert out.returncode == 0 and out.stdout.strip() == f"territoires {version('territoires')}"


def test_a_point_outside_the_scope_says_so_names_the_fix_and_fails(settings: Settings):
    paris = ("2.3522", "48.8566")
    out = run(settings, "lookup", *paris)
    assert out.returncode == 1 and out.stdout == ""
    line = _one_error(out)
    assert "(2.3522, 48.8566) is in no commune of the occitanie scope" in line and "--scope france" in line
    as_json = run(settings, "lookup", *paris, "--json")
    assert as_json.returncode == 1 and json.loads(as_json.stdout)["commune"] is None and "--scope france" in as_json.stderr
    france = run(settings, "lookup", *paris, "--scope", "france", "--json")  # the fix it names works
    assert france.returncode == 0, france.stderr
    assert json.loads(france.stdout)["commune"]["nom"] == "Paris"
    commune = run(settings, "coverage", "75056")
    assert commune.returncode == 1 and "commune 75056 (Paris) is outside the occitanie scope" in _one_error(commune)
    assert "--scope france" in commune.stderr


def test_usage_and_input_errors_are_one_line_with_the_fix(settings: Settings, tmp_path: Path):
    cases = {
        ("lookup", "1"): (2, "error: Missing argument 'lat'. Fix: see `territoires lookup --help`."),
        ("nope",): (2, "error: No such command 'nope'. Fix: see `territoires --help`."),
        ("check", "--bogus"): (2, "error: No such option: --bogus. Fix: see `territoires check --help`."),
        ("lookup", "1", "43", "--scope", "mars"): (1, "error: unknown scope 'mars': use one of occitanie, france (--scope or TERRITOIRES_SCOPE)"),
        ("export", "communes", "-f", "csv", "-o", str(tmp_path / "no" / "dir" / "c.csv")): (1, "Fix: check the path"),
    }
    for args, (code, expected) in cases.items():
        out = run(settings, *args)
        assert out.returncode == code, (args, out.stderr)
        assert "Traceback" not in out.stderr and "╭" not in out.stderr, out.stderr
        [line] = out.stderr.splitlines()
        assert line == expected or (expected.startswith("Fix") and line.startswith("error: ") and expected in line), line


def test_every_command_takes_json():
    from typer.main import get_command

    from service.cli import app

    def leaves(group, prefix: str = "") -> dict:  # the commands of the command groups too (members import, admin …)
        out = {}
        for name, cmd in group.commands.items():
            out.update(leaves(cmd, f"{prefix}{name} ") if hasattr(cmd, "commands") else {f"{prefix}{name}": cmd})
        return out

    commands = leaves(get_command(app))
    assert set(commands) >= {"data", "check", "coverage", "lookup", "refresh", "serve", "export", "render", "map", "members import",
                             "members template", "versions", "rollback", "admin hash-password"}
    assert all("--json" in {o for p in cmd.params for o in p.opts} for cmd in commands.values()), commands


def test_export_render_and_map_print_what_they_wrote_as_json(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from typer.testing import CliRunner

    from service.cli import app

    monkeypatch.setenv("TERRITOIRES_MIRROR", str(settings.mirror))
    monkeypatch.setenv("TERRITOIRES_CACHE", str(settings.cache))
    runner = CliRunner()

    def run_json(*args: str) -> dict | list:
        out = runner.invoke(app, [*args, "--json"])
        assert out.exit_code == 0, out.output
        return json.loads(out.stdout)

    data = run_json("export", "coverage", "-f", "csv", "--within", "31555", "-o", str(tmp_path / "c.csv"))
    assert data["path"] == str(tmp_path / "c.csv") and data["bytes"] == (tmp_path / "c.csv").stat().st_size
    assert (data["format"], data["crs"], data["within"]) == ("csv", "EPSG:4326", "31555")
    assert data["layers"] == [{"id": "coverage", "title": data["layers"][0]["title"], "features": 1}]
    assert {"communes", "epci", "coverage"} <= {x["id"] for x in run_json("export", "--list")}
    png = run_json("render", "scales", "--within", "31555", "-o", str(tmp_path / "m.png"))
    assert png["bytes"] == (tmp_path / "m.png").stat().st_size and (png["map"], png["format"]) == ("scales", "png")
    assert (tmp_path / "m.png").read_bytes().startswith(b"\x89PNG")
    page = run_json("map", "scales", "--within", "31555", "-o", str(tmp_path / "m.html"))
    assert page["bytes"] == (tmp_path / "m.html").stat().st_size and page["map"] == "scales"


def test_serve_json_prints_one_line_then_logs_only_to_stderr(settings: Settings, tmp_path: Path):
    port = free_port()
    env = os.environ | {"TERRITOIRES_MIRROR": str(settings.mirror), "TERRITOIRES_CACHE": str(seeded_cache(settings, tmp_path))}
    with (tmp_path / "stderr.txt").open("w+") as log:
        proc = subprocess.Popen([str(BIN), "serve", "--port", str(port), "--json"], stdout=subprocess.PIPE, stderr=log, text=True, env=env)
        try:
            first = json.loads(proc.stdout.readline())
            assert first["url"] == f"http://127.0.0.1:{port}" and first["scope"] == "occitanie" and first["workers"] == 1
            assert first["pid"] == proc.pid
            deadline = time.monotonic() + 120
            while True:
                try:
                    health = httpx.get(first["url"] + "/healthz", timeout=5)
                    break
                except httpx.TransportError:
                    assert proc.poll() is None and time.monotonic() < deadline, log.read()
                    time.sleep(0.2)
            assert health.json()["version"] == first["version"]
        finally:
            proc.terminate()
            rest, _ = proc.communicate(timeout=60)
        assert rest == ""  # the access log went to stderr
        log.seek(0)
        assert "GET /healthz" in log.read()
