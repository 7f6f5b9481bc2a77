"""Service limits and web policy, from the environment with safe defaults.

Page sizes, export size, search length, request rates, expensive work at once, what a client may send (URL and
header sizes, timeouts, connections: applied by service/guard.py) and the memory of the response and tile caches
are bounded here (the GeoJSON layer limits, features per response and bbox area, are in service/settings.py with the other map
settings); CORS origins and the embed policy (which sites may frame the embeddable maps, embed=1: any by default; every
other page may be framed by this site only) are settings too. Read when the app
is created (``create_app``), kept in ``app.state.limits`` and reached through a dependency. The per-worker rate
limit is a backstop: in production, rate-limit at the reverse proxy as well (see README).
"""
from __future__ import annotations

import ipaddress
import os
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qs

import cachetools
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse

from service.http import check_base_url


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
    max_locate_rows: int = field(default_factory=lambda: _int("TERRITOIRES_MAX_LOCATE_ROWS", 10_000))  # POST /api/locate
    max_locate_mb: float = field(default_factory=lambda: float(os.environ.get("TERRITOIRES_MAX_LOCATE_MB", 4)))  # its body
    max_heavy: int = field(default_factory=lambda: _int("TERRITOIRES_MAX_HEAVY", 2))  # static maps, export files at once
    # what `territoires serve` accepts from a client (service/guard.py), per worker
    max_url_bytes: int = field(default_factory=lambda: _int("TERRITOIRES_MAX_URL_BYTES", 8192))  # request line: 414 beyond
    max_header_bytes: int = field(default_factory=lambda: _int("TERRITOIRES_MAX_HEADER_BYTES", 16384))  # header lines: 431 beyond
    header_timeout: float = field(default_factory=lambda: float(os.environ.get("TERRITOIRES_HEADER_TIMEOUT", 10)))  # seconds
    keep_alive_timeout: int = field(default_factory=lambda: _int("TERRITOIRES_KEEP_ALIVE_TIMEOUT", 5))  # idle seconds
    max_waiting: int = field(default_factory=lambda: _int("TERRITOIRES_MAX_WAITING", 256))  # connections sending their head
    max_connections: int = field(default_factory=lambda: _int("TERRITOIRES_MAX_CONNECTIONS", 1000))  # 503 beyond
    max_clients: int = field(default_factory=lambda: _int("TERRITOIRES_RATE_CLIENTS", 100_000))  # rate buckets kept, least recent out
    # where the service is: links and redirects are written from this address, never from the Host header
    base_url: str | None = field(default_factory=lambda: os.environ.get("TERRITOIRES_BASE_URL") or None)
    # proxies whose X-Forwarded-For names the client (addresses or networks); from anyone else, the socket's address is the client
    trusted_proxies: tuple[str, ...] = field(default_factory=lambda: _list("TERRITOIRES_TRUSTED_PROXIES", ""))

    def __post_init__(self) -> None:
        """Settings that cannot be used are an error naming the setting and the fix (when the app or serve starts)."""
        if self.base_url is not None:
            object.__setattr__(self, "base_url", check_base_url(self.base_url))
        self.proxies  # noqa: B018  (validated now, not at the first request)

    @property
    def proxies(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        """The trusted proxies as networks (an address is a network of one)."""
        try:
            return tuple(ipaddress.ip_network(p, strict=False) for p in self.trusted_proxies)
        except ValueError:
            raise ValueError(f"TERRITOIRES_TRUSTED_PROXIES={','.join(self.trusted_proxies)!r} is not a list of addresses. Fix: give the "
                             "proxies' IP addresses or networks, separated by commas (e.g. 127.0.0.1,10.0.0.0/8)") from None


class _Buckets:
    """Token buckets per client address, at most ``clients`` of them: the least recently seen client goes first, and a
    client unseen for as long as its bucket takes to fill again is forgotten (it would be full anyway)."""

    def __init__(self, rate: float, burst: int, clients: int):
        self.rate, self.burst = rate, burst
        self.state: cachetools.TTLCache = cachetools.TTLCache(clients, ttl=max(burst / rate, 1.0))
        self.lock = threading.Lock()

    def allow(self, key: str) -> bool:
        now = time.monotonic()
        with self.lock:
            tokens, last = self.state.get(key, (float(self.burst), now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            allowed = tokens >= 1
            self.state[key] = (tokens - 1 if allowed else tokens, now)
            return allowed


def client_address(scope: dict, proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]) -> str:
    """The client of a request: the socket's address; through a trusted proxy, the last address of X-Forwarded-For
    that is not one of the trusted proxies (what a client writes there itself comes before, and is not believed)."""
    peer = (scope.get("client") or ("-", 0))[0]
    if not proxies or not _trusted(peer, proxies):
        return peer
    forwarded = [v.decode("latin-1") for k, v in scope["headers"] if k == b"x-forwarded-for"]
    hops = [h.strip() for h in ",".join(forwarded).split(",") if h.strip()]
    for hop in reversed(hops):
        try:
            address = ipaddress.ip_address(hop)
        except ValueError:
            return peer  # a proxy that writes no address: the proxy is the client
        if not any(address in p for p in proxies):
            return str(address)
    return str(ipaddress.ip_address(hops[0])) if hops else peer


def _trusted(peer: str, proxies: tuple) -> bool:
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return False
    return any(address in p for p in proxies)


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
        self.buckets = _Buckets(limits.rate_per_second, limits.rate_burst, limits.max_clients) if limits.rate_per_second > 0 else None
        self.proxies = limits.proxies
        self.headers = [(b"content-security-policy", b"frame-ancestors 'self'"), (b"x-content-type-options", b"nosniff")]
        self.embed_headers = [(b"content-security-policy", ("frame-ancestors " + " ".join(limits.frame_ancestors)).encode()),
                              (b"x-content-type-options", b"nosniff")]

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if self.buckets is not None and not self.buckets.allow(client_address(scope, self.proxies)):
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
        app.add_middleware(CORSMiddleware, allow_origins=list(limits.cors_origins), allow_methods=["GET", "POST"], allow_headers=["*"])

