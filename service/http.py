"""HTTP conformance, as pure ASGI middleware: HEAD on every GET route, content codings negotiated by their q-values,
and the public address of the service taken from the settings, never from the Host header.

- **HEAD** is answered as the GET of the same URL without its body (status and headers identical, Content-Length
  included): every route, the mounted files and /healthz alike.
- **Accept-Encoding** is read as RFC 9110 says: ``gzip;q=0`` (or ``*;q=0``) refuses gzip, ``*`` accepts it when gzip
  is not named; a body is gzip-encoded only for a client that accepts it (:func:`accepts_gzip`, also used by the
  response memo's pre-compressed bodies).
- **The public base URL** (``TERRITOIRES_BASE_URL``, e.g. ``https://territoires.example.org``) gives the scheme, host
  and path prefix of every absolute link (OGC API links) and redirect; without it, the socket's own address is used.
  The request's Host header is replaced before the app sees it, so a forged Host never reaches a link.
"""
from __future__ import annotations

import math
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.middleware.gzip import GZipMiddleware, GZipResponder, IdentityResponder


def codings(header: str) -> dict[str, float]:
    """Content codings of an Accept-Encoding value with their weights (q=1 when not given; a bad weight is 0)."""
    out: dict[str, float] = {}
    for part in header.split(","):
        name, *params = (p.strip() for p in part.split(";"))
        if not name:
            continue
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
                q = min(max(q, 0.0), 1.0) if math.isfinite(q) else 0.0
        out.setdefault(name.lower(), q)
    return out


def accepts_gzip(header: str) -> bool:
    """Whether a client whose Accept-Encoding is ``header`` takes a gzip body."""
    weights = codings(header)
    for name in ("gzip", "x-gzip"):
        if name in weights:
            return weights[name] > 0
    return weights.get("*", 0.0) > 0


class GZip(GZipMiddleware):
    """Starlette's GZipMiddleware, choosing by q-values (it looks for the text "gzip" anywhere in the header)."""

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if accepts_gzip(Headers(scope=scope).get("accept-encoding", "")):
            responder = GZipResponder(self.app, self.minimum_size, compresslevel=self.compresslevel,
                                      thread_minimum_size=self.thread_minimum_size, exclude_content_types=self.exclude_content_types)
        else:
            responder = IdentityResponder(self.app, self.minimum_size, exclude_content_types=self.exclude_content_types)
        await responder(scope, receive, send)


class HeadAsGet:
    """HEAD answered as the GET of the same URL, its body left out."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            return await self.app(scope, receive, send)

        async def headers_only(message) -> None:
            if message["type"] == "http.response.body":
                if not message.get("more_body", False):
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
                return
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, headers_only)


def check_base_url(value: str) -> str:
    """An absolute http(s) URL with a host and no query (its path is a prefix); ValueError naming the setting otherwise."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ValueError(f"TERRITOIRES_BASE_URL={value!r} is not a public base URL. Fix: give the address people use, "
                         "scheme and host (and a path prefix if any), e.g. https://territoires.example.org")
    return value.rstrip("/")


class PublicOrigin:
    """Scheme, Host and path prefix of every request set from the public base URL (or the socket's address)."""

    def __init__(self, app, base_url: str | None):
        self.app = app
        parts = urlsplit(base_url) if base_url else None
        self.base = (parts.scheme, parts.netloc.encode("latin-1"), parts.path.rstrip("/")) if parts else None

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        if self.base is not None:
            scheme, host, root = self.base
        else:
            scheme, root = scope.get("scheme", "http"), scope.get("root_path", "")
            server = scope.get("server")
            host = _netloc(scheme, server).encode("latin-1") if server else b"localhost"
        headers = [(k, v) for k, v in scope["headers"] if k != b"host"] + [(b"host", host)]
        await self.app({**scope, "scheme": scheme, "root_path": root, "headers": headers}, receive, send)


def _netloc(scheme: str, server: tuple) -> str:
    host, port = server[0], server[1]
    host = f"[{host}]" if ":" in str(host) else str(host)
    default = {"http": 80, "https": 443}.get(scheme)
    return host if port in (None, default) else f"{host}:{port}"
