"""A worker's warm-up: the pages a first visitor opens, requested by the worker itself from a model before it serves.

Each URL of :data:`WARM_URLS` goes through the whole app in process (middleware, routes, dependencies), answered by the
model just loaded (named in the request's scope: ``service.deps.WARM_MODEL``), so what lands in the response memo is
exactly what the route would build, under the route's own key. The first visitor after a start or a new version then
gets the home page, the scales map and the coverage builder from the memo instead of waiting for their rendering
(0.2 to 0.6 s each, the templates' compilation included).
"""
from __future__ import annotations

import asyncio
import threading

from fastapi import FastAPI

from geo.model import Model
from service.deps import WARM_MODEL

#: What a first visitor opens: the home page, the scales map, the coverage builder.
WARM_URLS = ("/", "/maps/scales", "/couverture")


async def _get(app: FastAPI, path: str, model: Model) -> int:
    """GET ``path`` from ``app`` in process, answered by ``model``; the status (the body is dropped)."""
    done = asyncio.Event()
    status = 0
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "", "client": ("127.0.0.1", 0),
             "server": ("127.0.0.1", 80), "headers": [(b"host", b"localhost"), (b"accept-encoding", b"gzip")], WARM_MODEL: model}
    sent = False

    async def receive() -> dict:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body" and not message.get("more_body", False):
            done.set()

    await app(scope, receive, send)
    return status


def warm(app: FastAPI, model: Model, urls: tuple[str, ...] = WARM_URLS) -> None:
    """Request each of ``urls`` from ``app`` with ``model`` (in a thread of its own, whose event loop it runs, so it can be
    called with or without a loop running); RuntimeError naming the pages that did not answer 200."""
    failed: list[str] = []

    async def run() -> None:
        for url in urls:
            if (status := await _get(app, url, model)) != 200:
                failed.append(f"{url} ({status})")

    thread = threading.Thread(target=asyncio.run, args=(run(),), name="territoires-warm-up")
    thread.start()
    thread.join()
    if failed:
        raise RuntimeError(f"pages not warmed: {', '.join(failed)}")
