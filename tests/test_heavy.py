"""Requests that cost too much: expensive work takes one of a worker's few slots (503 + Retry-After in French when
they are all taken, answers already made served all the same), identical requests arriving together share one
build, caches key on the parameters that change the answer (not on junk, not on the order of a list), and image
sizes are bounded. On the real data, through the app."""
from __future__ import annotations

import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from geo.config import Settings
from geo.render import MAX_AREA, MAX_PIXELS, parse_size
from service.app import create_app
from service.heavy import Busy, HeavyWork
from service.limits import Limits


def test_slots_are_taken_and_given_back():
    heavy = HeavyWork(2)
    started, release = threading.Barrier(3), threading.Event()

    def hold() -> str:
        started.wait(5)
        release.wait(5)
        return "fait"

    with ThreadPoolExecutor(2) as pool:
        held = [pool.submit(heavy.run, hold) for _ in range(2)]
        started.wait(5)
        with pytest.raises(Busy) as caught:
            heavy.run(lambda: "one more")
        assert caught.value.status == 503 and caught.value.retry_after == 5 and "Réessayez dans 5 secondes" in str(caught.value)
        release.set()
        assert [f.result() for f in held] == ["fait", "fait"]
    assert heavy.running == 0 and heavy.run(lambda: "again") == "again"
    with pytest.raises(ZeroDivisionError):  # a failing build gives its slot back too
        heavy.run(lambda: 1 / 0)
    assert heavy.running == 0


@pytest.fixture(scope="module")
def app(settings: Settings):
    """The service with one slot for expensive work and no rate limit."""
    application = create_app(settings, limits=Limits(max_heavy=1, rate_per_second=0))
    with TestClient(application) as client:
        application.state.client = client
        yield application


@pytest.fixture()
def client(app) -> TestClient:
    return app.state.client


def holding_the_slot(app):
    """A context in which the app's only slot is taken by a build that waits."""
    class Hold:
        def __enter__(self):
            self.started, self.release = threading.Event(), threading.Event()
            self.thread = threading.Thread(target=app.state.heavy.run, args=(lambda: (self.started.set(), self.release.wait(30)),))
            self.thread.start()
            assert self.started.wait(5)
            return self

        def __exit__(self, *exc):
            self.release.set()
            self.thread.join(10)
    return Hold()


@pytest.mark.parametrize("path", ["/static/scales.png?size=420x300", "/static/coverage.svg?within=09", "/static/scheme-dialogue-metropolitain.pdf",
                                  "/export/departements.gpkg?within=76", "/export/bundle.gpkg?layers=regions,epci&within=09",
                                  "/export/communes.csv?within=31&wkt=1"])
def test_expensive_work_beyond_the_slots_is_503_with_retry_after_and_what_is_made_is_served(app, client: TestClient, path: str):
    with holding_the_slot(app):
        r = client.get(path)
        assert r.status_code == 503 and r.headers["retry-after"] == "5"
        assert r.json()["detail"].startswith("Service occupé : 1 cartes ou fichiers sont déjà en préparation")
        assert client.get("/api/schemes").status_code == 200  # cheap answers are not held up
        bad = client.get(path.split("?")[0], params={"within": "99999"})
        assert bad.status_code == 404 and "99999" in bad.json()["detail"]  # a bad request is told so, busy or not
    made = client.get(path)
    assert made.status_code == 200
    with holding_the_slot(app):
        again = client.get(path)  # made already: served from the memo without a slot
        assert again.status_code == 200 and again.content == made.content


def test_identical_requests_arriving_together_share_one_build(app, client: TestClient):
    path = "/static/scales.png?size=430x310"
    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda _: client.get(path), range(16)))
    assert [a.status_code for a in answers] == [200] * 16  # one slot, one build: the fifteen others waited for it
    assert len({a.content for a in answers}) == 1


def _layers(data: bytes, tmp_path: Path) -> list[str]:
    path = tmp_path / "bundle.gpkg"
    path.write_bytes(data)
    with sqlite3.connect(path) as db:
        return [r[0] for r in db.execute("SELECT table_name FROM gpkg_contents WHERE data_type = 'features' ORDER BY rowid")]


def test_junk_parameters_and_list_order_are_not_keys(app, client: TestClient, tmp_path: Path):
    memo = app.state.responses
    first = client.get("/export/bundle.gpkg", params={"layers": "epci,communes", "within": "09", "junk": "1"})
    assert first.status_code == 200 and _layers(first.content, tmp_path) == ["communes", "epci"]  # the model's order
    entries = len(memo)
    for params in ({"layers": "communes,epci", "within": "09", "junk": "2"}, {"layers": "communes, epci,communes", "within": "departement:09"},
                   {"within": "09", "layers": "epci,communes", "v": "x", "f": "y"}):
        again = client.get("/export/bundle.gpkg", params=params)
        assert again.content == first.content, params  # the same file: its provenance's export time says it was not written again
    assert len(memo) == entries
    for path, params in (("/api/schemes", {}), ("/maps/scales", {"focus": "31"}), ("/static/scales.svg", {"size": "400x300"})):
        base = client.get(path, params=params)
        entries = len(memo)
        for n in range(20):
            assert client.get(path, params={"junk": str(n), **params, "utm_source": "x"}).content == base.content
        assert len(memo) == entries, path
    # what changes the answer is a key of its own
    assert client.get("/export/bundle.gpkg", params={"layers": "communes", "within": "09"}).content != first.content


@pytest.mark.parametrize("size", [f"{MAX_PIXELS + 1}x400", "4000x4000", "3001x3000", "99999x200"])
def test_image_sizes_are_bounded(client: TestClient, size: str):
    r = client.get("/static/scales.png", params={"size": size})
    assert r.status_code == 422 and ("au plus 9 millions" in r.json()["detail"] or f"de 200 à {MAX_PIXELS}" in r.json()["detail"])


def test_the_largest_sizes_allowed_fit_the_bounds():
    for size in ("3508x2480", "2480x3508", f"{MAX_PIXELS}x2250"):
        dims = parse_size(size)
        assert dims.inches[0] * dims.dpi * dims.inches[1] * dims.dpi <= MAX_AREA
