"""Service limits and web policy, from the environment with safe defaults.

Page sizes, export size, search length, request rates and the memory of the response and tile caches are bounded
here (the GeoJSON layer limits, features per response and bbox area, are in service/settings.py with the other map
settings); CORS origins and the embed policy (which sites may frame the embeddable maps, embed=1: any by default; every
other page may be framed by this site only) are settings too. Read when the app
is created (``create_app``), kept in ``app.state.limits`` and reached through a dependency. The per-worker rate
limit is a backstop: in production, rate-limit at the reverse proxy as well (see README).
"""
from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qs

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _list(name: str, default: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in os.environ.get(name, default).split(",") if v.strip())


@dataclass(frozen=True)
class Limits:
    """Bounds on what one request may ask for, and the web policy."""

    max_page: int = field(default_factory=lambda: _int("TERRITOIRES_MAX_PAGE", 1000))  # items per OGC API page
    max_export_features: int = field(default_factory=lambda: _int("TERRITOIRES_MAX_EXPORT_FEATURES", 50_000))
    max_search_length: int = field(default_factory=lambda: _int("TERRITOIRES_MAX_SEARCH_LENGTH", 100))
    rate_per_second: float = field(default_factory=lambda: float(os.environ.get("TERRITOIRES_RATE_LIMIT", 200)))  # per client; 0 = off
    rate_burst: int = field(default_factory=lambda: _int("TERRITOIRES_RATE_BURST", 400))
    cors_origins: tuple[str, ...] = field(default_factory=lambda: _list("TERRITOIRES_CORS_ORIGINS", ""))
    # which sites may frame the embeddable maps (embed=1): any by default; every other page only this site ('self')
    frame_ancestors: tuple[str, ...] = field(default_factory=lambda: _list("TERRITOIRES_FRAME_ANCESTORS", "*"))
    response_cache_mb: int = field(default_factory=lambda: _int("TERRITOIRES_RESPONSE_CACHE_MB", 256))  # JSON, pages, exports
    tile_cache_mb: int = field(default_factory=lambda: _int("TERRITOIRES_TILE_CACHE_MB", 64))  # encoded vector tiles


class _Buckets:
    """Token buckets per client address."""

    def __init__(self, rate: float, burst: int):
        self.rate, self.burst = rate, burst
        self.state: dict[str, tuple[float, float]] = {}
        self.lock = threading.Lock()

    def allow(self, key: str) -> bool:
        now = time.monotonic()
        with self.lock:
            tokens, last = self.state.get(key, (float(self.burst), now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if len(self.state) > 100_000:  # bounded memory under many clients
                self.state.clear()
            if tokens < 1:
                self.state[key] = (tokens, now)
                return False
            self.state[key] = (tokens - 1, now)
            return True


def embeddable(scope: dict) -> bool:
    """A read-only public map made to be framed by other sites: a map page asked for with embed=1."""
    if not scope.get("path", "").startswith("/maps/"):
        return False
    embed = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("embed", [])
    return any(v.lower() in ("1", "true", "on", "yes") for v in embed)


class PolicyMiddleware:
    """Pure ASGI middleware: per-client rate limit (429 + Retry-After) and security headers."""

    def __init__(self, app, limits: Limits):
        self.app = app
        self.buckets = _Buckets(limits.rate_per_second, limits.rate_burst) if limits.rate_per_second > 0 else None
        self.headers = [(b"content-security-policy", b"frame-ancestors 'self'"), (b"x-content-type-options", b"nosniff")]
        self.embed_headers = [(b"content-security-policy", ("frame-ancestors " + " ".join(limits.frame_ancestors)).encode()),
                              (b"x-content-type-options", b"nosniff")]

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        client = (scope.get("client") or ("-", 0))[0]
        if self.buckets is not None and not self.buckets.allow(client):
            response = JSONResponse({"detail": "Trop de requêtes : réessayez dans un instant."}, status_code=429,
                                    headers={"Retry-After": "1"})
            return await response(scope, receive, send)

        headers = self.embed_headers if embeddable(scope) else self.headers

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def install_limits(app: FastAPI, limits: Limits) -> None:
    """Rate limiting, security headers (embed policy) and CORS."""
    app.add_middleware(PolicyMiddleware, limits=limits)
    if limits.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(limits.cors_origins), allow_methods=["GET"], allow_headers=["*"])

