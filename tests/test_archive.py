"""The tile archive (geo/archive.py): it holds exactly the tiles /tiles serves, every non-empty tile of its zooms, the
workers serve from it, and the maps read it from a plain static host (nginx) with no Python on the tile path; the
page a worker renders for the first visitor before it takes requests is the page its route renders."""
from __future__ import annotations

import gzip
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from browser import browser_page, serve_app
from fastapi.testclient import TestClient

from bench.static_host import static_host
from geo.archive import TileArchive, archive_name, build_archive, metadata, write_archive
from geo.model import Model
from geo.pyramid import SCALES_TILES, TileSpec, scope_tiles, tileset
from geo.tiles import tiles_covering
from geo.versions import archive_path, publish_tiles
from service.app import create_app
from service.geojson import response_memo
from service.warmup import WARM_URLS

MAX_ZOOM = 8
LEVELS = ",".join(SCALES_TILES.levels)


@pytest.fixture(scope="module")
def archive_dir(model: Model, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding the Occitanie archive of zooms 0 – 8."""
    out = tmp_path_factory.mktemp("archive")
    build_archive(model, out / archive_name(model.territories.scope, model.version), MAX_ZOOM)
    return out


@pytest.fixture(scope="module")
def archive(model: Model, archive_dir: Path) -> TileArchive:
    return TileArchive(archive_dir / archive_name(model.territories.scope, model.version))


def test_write_and_read_back_tiny_tiles(tmp_path: Path):
    tiles = [(0, 0, 0, gzip.compress(b"a")), (1, 1, 0, gzip.compress(b"b")), (1, 0, 0, gzip.compress(b"c")),
             (2, 3, 3, gzip.compress(b"a"))]  # the same bytes twice: stored once
    meta = metadata(TileSpec(("epci", "region")), "v1", "occitanie", 2)
    path = tmp_path / "t.pmtiles"
    assert write_archive(path, iter(tiles), meta, (-1.0, 42.0, 5.0, 45.0), 1) == 4
    a = TileArchive(path)
    assert len(a) == 4 and a.max_zoom == 2 and a.info == {"version": "v1", "scope": "occitanie", "tiles": "epci,region", "max_zoom": 2}
    assert [gzip.decompress(a.get(z, x, y)) for z, x, y, _ in tiles] == [b"a", b"b", b"c", b"a"]
    assert a.get(1, 1, 1) is None and a.get(2, 0, 0) is None  # not in the archive: empty
    assert a.header["tile_compression"].name == "GZIP" and a.header["tile_type"].name == "MVT" and a.header["clustered"]
    assert [layer["id"] for layer in a.metadata["vector_layers"]] == ["epci", "region"]
    assert a.header["tile_contents_count"] == 3  # the duplicate tile is stored once
    with pytest.raises(ValueError, match="no tile"):
        write_archive(tmp_path / "empty.pmtiles", iter([]), meta, (0.0, 0.0, 1.0, 1.0), 0)


def test_archive_holds_the_tiles_of_the_service(model: Model, archive: TileArchive, client: TestClient):
    """Every tile of the archive is, byte for byte, what /tiles answers for the scales map."""
    assert archive.info == {"version": model.version, "scope": "occitanie", "tiles": SCALES_TILES.key, "max_zoom": MAX_ZOOM}
    tiles = tileset(model)
    checked = 0
    for (z, x, y), _, _ in archive.locations():
        data = gzip.decompress(archive.get(z, x, y))
        assert data == tiles.encode_layers(SCALES_TILES.levels, z, x, y), (z, x, y)
        if z in (5, 7, 8):  # a sample through HTTP (the client decodes gzip)
            r = client.get(f"/tiles/{LEVELS}/{z}/{x}/{y}.pbf")
            assert r.status_code == 200 and r.content == data, (z, x, y)
            checked += 1
    assert checked >= 15 and len(archive) > 25


def test_forked_encoders_write_the_same_archive(model: Model, archive: TileArchive, tmp_path: Path):
    path = tmp_path / "forked.pmtiles"
    count = build_archive(model, path, 7, jobs=2)
    forked = TileArchive(path)
    assert count == len(forked) == sum(1 for (z, _, _), _, _ in archive.locations() if z <= 7)
    assert all(forked.get(z, x, y) == archive.get(z, x, y) for (z, x, y), _, _ in forked.locations())


def test_archive_holds_every_non_empty_tile(model: Model, archive: TileArchive):
    """Over the whole bounding box of the scope, a tile is in the archive exactly when it is not empty."""
    bounds = tuple(float(v) for v in model.scales["region"].total_bounds)
    tiles = tileset(model)
    for z in range(MAX_ZOOM + 1):
        box = tiles_covering(bounds, z)
        assert set(scope_tiles(model, z)) <= set(box)
        for _, x, y in box:
            empty = not tiles.encode_layers(SCALES_TILES.levels, z, x, y)
            assert (archive.get(z, x, y) is None) == empty, (z, x, y)


def test_workers_serve_tiles_from_the_version_archive(settings, model: Model):
    """A worker opens its version's archive when it appears and answers the scales map's tiles from it."""
    app = create_app(settings)
    with TestClient(app) as c:
        holder = app.state.holder
        path, _ = publish_tiles(settings, 7)
        assert path == archive_path(settings, model.version) and path.is_file()
        holder._archive_checked = 0.0  # as if the interval had passed
        archive = holder.archive(holder.model)
        assert archive is not None and archive.max_zoom >= 7
        r = c.get(f"/tiles/{LEVELS}/7/64/46.pbf", headers={"Accept-Encoding": "gzip"})
        assert r.status_code == 200 and r.headers["content-encoding"] == "gzip"
        assert r.content == tileset(model).encode_layers(SCALES_TILES.levels, 7, 64, 46)
        assert c.get(f"/tiles/{LEVELS}/7/60/40.pbf").status_code == 204  # the sea, empty
        assert not app.state.tiles.size  # nothing encoded in the worker


def test_cli_writes_the_archive(settings, model: Model, tmp_path: Path):
    env = {**os.environ, "TERRITOIRES_MIRROR": str(settings.mirror), "TERRITOIRES_CACHE": str(settings.cache)}
    cli = [sys.executable, "-c", "from service.cli import main; main()", "tiles"]
    out = subprocess.run([*cli, "--pmtiles", str(tmp_path), "--maxzoom", "6", "--json"], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    written = json.loads(out.stdout)
    assert written["path"] == str(tmp_path / archive_name("occitanie", model.version)) and written["max_zoom"] == 6
    assert TileArchive(Path(written["path"])).max_zoom == 6 and written["tiles"] == len(TileArchive(Path(written["path"])))
    bad = subprocess.run([*cli, "--pmtiles", str(tmp_path), "--maxzoom", "30"], capture_output=True, text=True, env=env)
    assert bad.returncode == 1 and bad.stderr.count("\n") == 1 and "TERRITOIRES_TILES_MAX_ZOOM" in bad.stderr


def test_maps_read_their_tiles_from_a_static_host(mirror: Path, cache_dir: Path, model: Model, archive_dir: Path, artifacts: Path):
    """With TERRITOIRES_TILES_BASE_URL, the scales map reads its tiles from the archive on nginx: no /tiles request."""
    with static_host(archive_dir) as host, serve_app("service.app:create_app", {
            "TERRITOIRES_MIRROR": str(mirror), "TERRITOIRES_CACHE": str(cache_dir), "TERRITOIRES_TILES_BASE_URL": host}) as base:
        with browser_page() as s:
            requests: list[str] = []
            s.page.on("request", lambda r: requests.append(r.url))
            start = time.perf_counter()
            s.page.goto(base + "/maps/scales")
            s.page.wait_for_selector("html[data-territoires=ready]", timeout=120_000)
            assert time.perf_counter() - start < 60
            assert len(s.page.evaluate("territoires.pages[0].codes('commune')")) == 4446
            for scale in ("epci", "departement", "region"):
                assert s.page.locator(f"path.t-{scale}").count() >= 8, scale
            assert [u for u in requests if "/tiles/" in u] == []
            assert any(u.startswith(host) and u.endswith(".pmtiles") for u in requests)
            assert any("/assets/pmtiles/" in u for u in requests)
            s.page.screenshot(path=str(artifacts / "maps-scales-pmtiles.png"))
            assert s.blocked == [] and s.page_errors == [] and s.console_errors == []


def test_the_scales_page_asks_for_the_tile_set_the_archive_holds(client):
    """The scales map's tiles (no focus) are exactly SCALES_TILES: otherwise the archive would never be read."""
    from tests.test_maps import config

    urls = {layer["tiles"] for layer in config(client.get("/maps/scales").text)["layers"] if "tiles" in layer}
    assert len(urls) == 1
    assert urls.pop().split("/")[2] == LEVELS


@pytest.mark.parametrize("url", WARM_URLS)
def test_the_pages_warmed_at_load_are_the_pages_their_routes_render(settings, url: str):
    """A worker renders the pages a first visitor opens into its memo when its model is loaded: the first visitor gets
    that copy, which must be what the route renders (the scales map's downloads included), not a page of its own."""
    app = create_app(settings)
    with TestClient(app) as c:
        assert len(app.state.responses) == len(WARM_URLS)  # the warmed pages, before any request
        warmed = c.get(url).text
        assert len(app.state.responses) == len(WARM_URLS)  # served from them
        app.state.responses = response_memo(8)  # emptied: the route renders the page now
        rendered = c.get(url).text
    folium_ids = re.compile(r"_[0-9a-f]{32}")  # folium names each element anew per rendering
    assert folium_ids.sub("_", warmed) == folium_ids.sub("_", rendered)
    if url == "/maps/scales":
        assert "/export/bundle.gpkg" in warmed
