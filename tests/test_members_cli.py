"""One source of truth for member lists: `territoires members import`, `refresh`, `versions` and `rollback` run as
processes agree with a running server on what is in service, whatever variables each process has; the data directory
holds the list, not an environment variable. Before: `refresh` run with another TERRITOIRES_MEMBERS printed "in
service" while the server kept its old data."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
from argon2 import PasswordHasher
from datamirror import seeded_cache

from bench.server import free_port, running_service
from geo.config import Settings

BIN = Path(sys.executable).parent / "territoires"
SCHEME = "bourgs-centres-occitanie"
#: Two real 2026 communes of the Aude (a fixture of this test, never catalogue data).
ROWS = f"11069;{SCHEME};signataire;07/02/2020;;Fixture de tests/test_members_cli.py https://example.org/fixture;\r\n" \
       f"11076;{SCHEME};signataire;2020-02-07;;Fixture de tests/test_members_cli.py;\r\n"
HEADER = "code;dispositif;role;debut;fin;source;note\r\n"


def _run(env: dict, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    out = subprocess.run([str(BIN), *args], capture_output=True, text=True, env=env, input=stdin, timeout=600)
    assert "Traceback" not in out.stdout + out.stderr, out.stderr
    return out


def _served(url: str, version: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while httpx.get(url + "/healthz", timeout=30).json()["version"] != version:
        assert time.monotonic() < deadline, f"the server does not serve {version}"
        time.sleep(0.2)


def test_import_refresh_versions_and_rollback_agree_with_the_running_server(settings: Settings, tmp_path: Path):
    cache = seeded_cache(settings, tmp_path / "cache")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TERRITOIRES_")} | {
        "TERRITOIRES_MIRROR": str(settings.mirror), "TERRITOIRES_CACHE": str(cache), "TERRITOIRES_DATA_DIR": str(tmp_path / "data"),
        "TERRITOIRES_RATE_LIMIT": "0"}
    good, bad = tmp_path / "bourgs.csv", tmp_path / "mauvais.csv"
    good.write_bytes((HEADER + ROWS).encode("cp1252"))
    bad.write_text(HEADER + f"1069;{SCHEME};;;;x;\r\n11069;{SCHEME};;32/01/2020;;;\r\n", encoding="utf-8")
    with running_service(1, env) as (url, _):
        before = httpx.get(url + "/healthz").json()["version"]
        refused = _run(env, "members", "import", str(bad))
        assert refused.returncode == 1
        err = " ".join(refused.stderr.split())
        assert "mauvais.csv, ligne 2, colonne « code » : le code 1069 a perdu son zéro initial (c'est 01069)" in err
        assert "ligne 3, colonne « debut » : « 32/01/2020 » n'existe pas dans le calendrier" in err
        assert "ligne 3, colonne « source » : la source de l'adhésion n'est pas indiquée" in err
        assert json.loads(_run(env, "versions", "--json").stdout) == []

        imported = _run(env, "members", "import", str(good), "--by", "Test CLI", "--json")
        assert imported.returncode == 0, imported.stderr
        record = json.loads(imported.stdout)
        assert record["version"] == 1 and record["by"] == "Test CLI" and record["changes"][SCHEME]["added"] == ["11069", "11076"]
        _served(url, record["data_version"])
        members = {m["code"]: m for m in httpx.get(f"{url}/api/schemes/{SCHEME}").json()["members"]}
        assert members["11069"]["source"] == {"title": "Fixture de tests/test_members_cli.py", "url": "https://example.org/fixture"}
        assert members["11069"]["start"] == "2020-02-07" and len(members) == 12  # 10 declared in the scheme file + 2

        # refresh (no variable of its own) says what the server serves
        refreshed = _run(env, "refresh", "--json")
        assert refreshed.returncode == 0 and json.loads(refreshed.stdout)["version"] == record["data_version"]
        assert httpx.get(url + "/healthz").json()["version"] == record["data_version"]
        # a leftover TERRITOIRES_MEMBERS is refused with the way out; the server keeps what it serves
        legacy = _run(env | {"TERRITOIRES_MEMBERS": str(good)}, "refresh")
        assert legacy.returncode == 1
        assert "TERRITOIRES_MEMBERS is no longer read" in " ".join(legacy.stderr.split())
        assert "territoires members import FILE" in " ".join(legacy.stderr.split())
        serve = _run(env | {"TERRITOIRES_MEMBERS": str(good)}, "serve", "--port", str(free_port()))
        assert serve.returncode == 1 and "TERRITOIRES_MEMBERS is no longer read" in " ".join(serve.stderr.split())

        back = json.loads(_run(env, "rollback", "0", "--by", "Test CLI", "--json").stdout)
        assert back["version"] == 2 and back["restores"] == 0 and back["data_version"] == before
        _served(url, before)
        assert len(httpx.get(f"{url}/api/schemes/{SCHEME}").json()["members"]) == 10
        history = json.loads(_run(env, "versions", "--json").stdout)
        assert [(v["version"], v["action"], v["in_service"]) for v in history] == [(2, "rollback", True), (1, "import", False)]
        assert history[1]["file"]["name"] == "bourgs.csv" and len(history[1]["file"]["sha256"]) == 64
        missing = _run(env, "rollback", "7")
        assert missing.returncode == 1 and "La version 7 des listes de membres n'existe pas" in missing.stderr


def test_hash_password_prints_an_argon2_hash_that_verifies():
    out = _run(dict(os.environ), "admin", "hash-password", "--stdin", stdin="une phrase de passe assez longue\n")
    assert out.returncode == 0 and PasswordHasher().verify(out.stdout.strip(), "une phrase de passe assez longue")
    short = _run(dict(os.environ), "admin", "hash-password", "--stdin", stdin="court\n")
    assert short.returncode == 1 and "shorter than 12 characters" in short.stderr
