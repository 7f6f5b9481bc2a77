"""Files served compressed once: the body a gzip client gets is the file, the same bytes at each request; a client
that refuses gzip, a range request and an image get the file as it is."""
from __future__ import annotations

import gzip

from service.assets import ASSETS_DIR
from service.maps.controls import STATIC_DIR

LEAFLET = "leaflet/dist/leaflet.js"


def test_a_script_is_compressed_once_and_is_the_file(client):
    app_files = [m for m in client.app.routes if getattr(m, "path", "") == "/assets"][0].app
    first = client.get(f"/assets/{LEAFLET}", headers={"Accept-Encoding": "gzip"})
    assert first.status_code == 200 and first.headers["content-encoding"] == "gzip" and "javascript" in first.headers["content-type"]
    assert first.content == (ASSETS_DIR / LEAFLET).read_bytes()  # httpx inflates it
    kept = len(app_files._compressed)
    again = client.get(f"/assets/{LEAFLET}", headers={"Accept-Encoding": "gzip"})
    assert again.content == first.content and len(app_files._compressed) == kept  # not compressed again
    assert int(again.headers["content-length"]) == len(gzip.compress((ASSETS_DIR / LEAFLET).read_bytes(), 9, mtime=0))
    assert again.headers["etag"] == first.headers["etag"] and "accept-encoding" in again.headers["vary"].lower()
    assert client.get(f"/assets/{LEAFLET}", headers={"If-None-Match": first.headers["etag"]}).status_code == 304


def test_identity_range_and_images_are_served_as_they_are(client):
    plain = client.get("/maps/static/layers.js", headers={"Accept-Encoding": "gzip;q=0"})
    assert plain.status_code == 200 and "content-encoding" not in plain.headers
    assert plain.content == (STATIC_DIR / "layers.js").read_bytes()
    part = client.get("/maps/static/layers.js", headers={"Accept-Encoding": "gzip", "Range": "bytes=0-99"})
    assert part.status_code == 206 and part.content == (STATIC_DIR / "layers.js").read_bytes()[:100]
    icon = next(p for p in ASSETS_DIR.rglob("*.png"))
    image = client.get(f"/assets/{icon.relative_to(ASSETS_DIR)}", headers={"Accept-Encoding": "gzip"})
    assert image.status_code == 200 and "content-encoding" not in image.headers and image.content == icon.read_bytes()
    head = client.head(f"/assets/{LEAFLET}", headers={"Accept-Encoding": "gzip"})
    assert head.status_code == 200 and head.content == b"" and head.headers["content-encoding"] == "gzip"
