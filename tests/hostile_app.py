"""A test-only app whose data holds markup: a hostile scheme file and a hostile commune name.

``uvicorn --factory tests.hostile_app:create_app`` serves the real service on the mirror (TERRITOIRES_MIRROR,
TERRITOIRES_CACHE) with the scheme files of TERRITOIRES_SCHEMES (a copy of boundaries/schemes plus
:func:`hostile_scheme`, written by the test). The name of Toulouse (31555) cannot be changed in the mirror —
the loader checks every source file's sha256 — so it is changed in the loaded model, in every table a name
is read from (the commune scale, which the tiles, search, stacks and exports derive from, and the COG table),
before anything derived from it is built. The model is then never reloaded.
"""
from __future__ import annotations

import dataclasses
import math
import shutil
from pathlib import Path

import yaml
from fastapi import FastAPI

from boundaries import SCHEMES_DIR
from geo.config import Settings
from geo.model import Model, load_model
from service.app import create_app as service_app

IMG = '<img src=x onerror="window.__pwned=1">'
SCRIPT = "<script>window.__pwned=2</script>"
COMMUNE_IMG = '<img src=x onerror="window.__pwned=3">'
TOULOUSE, LABEGE = "31555", "31254"
HOSTILE_COMMUNE = "Toulouse" + COMMUNE_IMG
SCHEME_ID = "contrat-hostile"
SCHEME_NAME = f"Contrat {IMG} {SCRIPT}"
ROLE = f"signataire {IMG}{SCRIPT}"
SOURCE_TITLE = f"Délibération {IMG} {SCRIPT}"


def hostile_scheme() -> dict:
    """The scheme file's content: markup in its name, a member's name, role and note, the source's title and URL."""
    return {
        "id": SCHEME_ID, "name": SCHEME_NAME, "kind": "contract", "member_scale": "commune",
        "period": {"start": "2022-01-01", "end": "2027-12-31"},
        "members": [{"code": TOULOUSE, "name": f"Toulouse {IMG}", "role": ROLE, "note": f"Note {IMG} {SCRIPT}"},
                    {"code": LABEGE, "name": f"Labège {SCRIPT}", "role": ROLE, "note": SCRIPT}],
        "source": {"title": SOURCE_TITLE, "url": "javascript:window.__pwned=4", "publisher": f"Éditeur {SCRIPT}"},
        "as_of": "2024-01-01", "notes": f"Notes {IMG} {SCRIPT}",
    }


def write_schemes(directory: Path) -> Path:
    """A scheme directory: copies of boundaries/schemes plus the hostile scheme (nothing is written to the repository)."""
    directory.mkdir(parents=True, exist_ok=True)
    for path in SCHEMES_DIR.glob("*.yaml"):
        shutil.copyfile(path, directory / path.name)
    text = yaml.safe_dump(hostile_scheme(), allow_unicode=True, sort_keys=False)
    (directory / f"{SCHEME_ID}.yaml").write_text(text, encoding="utf-8")
    return directory


def hostile_model(settings: Settings) -> Model:
    """The model of ``settings`` (whose scheme directory holds the hostile scheme) with Toulouse's name made hostile."""
    model = load_model(settings)
    for table in (model.scales["commune"], model.territories.cog.communes):
        table.loc[table["code"] == TOULOUSE, "nom"] = HOSTILE_COMMUNE
    return dataclasses.replace(model, version=model.version + "-hostile")  # nothing derived from the names is built yet


def create_app() -> FastAPI:
    settings = Settings.from_env()
    app = service_app(settings)
    app.state.holder.model = hostile_model(settings)
    app.state.holder.interval = math.inf  # never look for a newer published version
    return app
