"""The `territoires` command line, run as a real process on the real data."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from geo.config import Settings

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
