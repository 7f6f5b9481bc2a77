"""The JS/CSS the pages load, prepared from the npm packages into package data (service/vendor.py), and the one-line
errors when they are missing. The wheel built from the sdist is checked end to end by .ci/wheel."""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from service import vendor
from service.assets import AssetsMissing, check_assets

NODE_MODULES = vendor.NODE_MODULES


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    if not NODE_MODULES.is_dir():
        pytest.fail(f"{NODE_MODULES} is missing: run make assets (make test does)")
    dest = tmp_path_factory.mktemp("static") / "assets"
    return dest, vendor.prepare(NODE_MODULES, dest, vendor.LOCK)


def test_prepare_copies_what_the_pages_load_and_what_their_stylesheets_point_at(prepared: tuple[Path, dict]):
    dest, stamp = prepared
    assert stamp["lock_sha256"] == vendor.lock_digest(vendor.LOCK)
    assert json.loads((dest / vendor.STAMP).read_text()) == stamp
    for path in vendor.MANIFEST.values():
        assert (dest / path).read_bytes() == (NODE_MODULES / path).read_bytes(), path
    for css in dest.rglob("*.css"):  # every font and image a stylesheet names resolves in the copy
        for ref in re.findall(r"url\(\s*['\"]?([^'\")]+?)['\"]?\s*\)", css.read_text(encoding="utf-8")):
            if not ref.startswith(("data:", "#")):
                assert (css.parent / ref.split("?")[0].split("#")[0]).is_file(), (css, ref)
    assert "@fortawesome/fontawesome-free/webfonts/fa-solid-900.woff2" in stamp["files"]
    assert "leaflet/LICENSE" in stamp["files"] and "leaflet/dist/images/marker-shadow.png" in stamp["files"]
    # only what the pages reference: no sources, no docs, no package.json
    assert not [f for f in stamp["files"] if f.endswith(("package.json", ".md", ".ts", ".scss"))]
    total = sum(f["bytes"] for f in stamp["files"].values())
    assert 1_000_000 < total < 8_000_000 and len(stamp["files"]) == len(list(p for p in dest.rglob("*") if p.is_file())) - 1


def test_prepare_refuses_node_modules_older_than_the_lock(tmp_path: Path):
    lock = json.loads(vendor.LOCK.read_text())
    lock["packages"]["node_modules/leaflet"]["version"] = "1.9.4"
    (tmp_path / "package-lock.json").write_text(json.dumps(lock))
    with pytest.raises(vendor.PrepareError, match=r"leaflet is 1\.9\.3, package-lock\.json pins 1\.9\.4\. Fix: run npm ci"):
        vendor.prepare(NODE_MODULES, tmp_path / "assets", tmp_path / "package-lock.json")
    assert not (tmp_path / "assets").exists()


def test_ensure_keeps_prepared_assets_of_the_same_lock_without_npm(prepared: tuple[Path, dict], tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch):
    """What a build from the sdist does: the assets it carries match its lock, so no npm is needed."""
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    static = tmp_path / "static"
    static.mkdir()
    shutil.copyfile(vendor.LOCK, static / "package-lock.json")
    with pytest.raises(vendor.PrepareError, match="npm is not installed. Fix: install Node.js"):
        vendor.ensure(static)
    shutil.copytree(prepared[0], static / "assets")
    assert vendor.ensure(static) == "kept"
    (static / "package-lock.json").write_text(vendor.LOCK.read_text().replace('"1.9.3"', '"1.9.4"'))  # a newer lock
    with pytest.raises(vendor.PrepareError, match="not prepared for package-lock.json"):
        vendor.ensure(static)


def test_missing_assets_are_one_line_naming_the_file_and_the_fix(prepared: tuple[Path, dict], tmp_path: Path):
    with pytest.raises(AssetsMissing, match="is missing. Fix: in a checkout, run `make assets`") as absent:
        check_assets(tmp_path / "nowhere")
    copy = tmp_path / "assets"
    shutil.copytree(prepared[0], copy)
    assert check_assets(copy) == copy
    (copy / "leaflet/dist/leaflet.js").unlink()
    (copy / "leaflet/dist/images/layers.png").unlink()
    with pytest.raises(AssetsMissing) as incomplete:
        check_assets(copy)
    message = str(incomplete.value)
    assert "leaflet/dist/leaflet.js, leaflet/dist/images/layers.png missing" in message and "\n" not in message
    assert "\n" not in str(absent.value)
