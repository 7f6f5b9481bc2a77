"""Slow and oversized clients (service/guard.py), on loopback with bounded clients.

The protocol's rules on a tiny ASGI app served in this process with small limits: a request head too long is 414
(request line) or 431 (headers) as soon as the limit is passed; a head not finished in time is 408 and closed, a
silent connection closed; one connection too many sending its head closes the oldest; beyond the connection limit a
request is 503 with Retry-After, in French; an idle keep-alive connection is closed; what stays within the limits
(a long URL, large headers, pipelined requests, a request body of any size) is served. Then the real service
(`territoires serve`) with its default limits, under the usual soft limit of 1,024 open files: 1,100 connections
sending their headers slowly, and a new request still succeeds; a 1 MB URL and a 1 MB header are turned away at once.
"""
from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn

from bench.server import free_port, running_service
from service.guard import GuardedHttpToolsProtocol
from service.limits import Limits

SMALL = Limits(max_url_bytes=1024, max_header_bytes=2048, header_timeout=1.0, keep_alive_timeout=1, max_waiting=8,
               max_connections=30)


async def echo(scope, receive, send) -> None:
    """Answers 200 with the size of the request body it read."""
    if scope["type"] != "http":
        return
    size, more = 0, True
    while more:
        message = await receive()
        size += len(message.get("body", b""))
        more = message.get("more_body", False)
    body = f"ok {size}".encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


@pytest.fixture(scope="module")
def guarded() -> Iterator[tuple[str, int]]:
    """The tiny app behind the guarded protocol, with SMALL limits, on a free loopback port."""
    port = free_port()
    GuardedHttpToolsProtocol.limits = SMALL
    server = uvicorn.Server(uvicorn.Config(echo, host="127.0.0.1", port=port, http=GuardedHttpToolsProtocol, lifespan="off",
                                           timeout_keep_alive=SMALL.keep_alive_timeout, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield "127.0.0.1", port
    server.should_exit = True
    thread.join(10)
    GuardedHttpToolsProtocol.limits = None


def connect(address: tuple[str, int], timeout: float = 5) -> socket.socket:
    return socket.create_connection(address, timeout=timeout)


def exchange(address: tuple[str, int], head: bytes, body: bytes = b"") -> tuple[bytes, float]:
    """Send a request; the whole answer (until the server closes or 2 s of silence) and the seconds to its first byte."""
    with connect(address) as sock:
        t0 = time.perf_counter()
        try:
            sock.sendall(head + body)
        except OSError:
            pass  # closed before it was all read: the answer is waiting
        answer = sock.recv(65536)
        first = time.perf_counter() - t0
        sock.settimeout(2)
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except (TimeoutError, OSError):
            pass
    return answer, first


def closed_by_server(sock: socket.socket, within: float) -> bytes | None:
    """What the server sent before closing the connection within ``within`` seconds; None if it stays open."""
    sock.settimeout(within)
    data = b""
    try:
        while chunk := sock.recv(4096):
            data += chunk
    except TimeoutError:
        return None
    except ConnectionResetError:
        pass
    return data


def get(path: str = "/", headers: bytes = b"") -> bytes:
    return b"GET " + path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headers + b"\r\n"


@pytest.mark.parametrize("size", [1025, 4096, 2**20, 16 * 2**20])
def test_a_request_line_over_the_limit_is_414_at_once(guarded, size: int):
    answer, seconds = exchange(guarded, get("/?" + "a" * size))
    assert answer.startswith(b"HTTP/1.1 414 ") and b"Adresse trop longue : au plus 1024 octets." in answer
    assert b"connection: close" in answer and seconds < 1


@pytest.mark.parametrize("headers", [b"X-Big: " + b"b" * 2100 + b"\r\n", b"".join(b"X-%d: %s\r\n" % (i, b"v" * 60) for i in range(40)),
                                     b"Cookie: " + b"c" * 2**20 + b"\r\n", b"X-Huge: " + b"h" * 16 * 2**20 + b"\r\n"])
def test_header_lines_over_the_limit_are_431_at_once(guarded, headers: bytes):
    answer, seconds = exchange(guarded, get("/", headers))
    assert answer.startswith(b"HTTP/1.1 431 ") and "En-têtes trop longs : au plus 2048 octets en tout.".encode() in answer
    assert seconds < 1


def test_what_stays_within_the_limits_is_served(guarded):
    answer, _ = exchange(guarded, get("/?" + "a" * 900, b"X-Big: " + b"b" * 1500 + b"\r\nConnection: close\r\n"))
    assert answer.startswith(b"HTTP/1.1 200 ") and answer.endswith(b"ok 0")
    body = b"x" * 2**20  # a request body is not the head: an upload bounds its own
    answer, _ = exchange(guarded, b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: %d\r\n\r\n" % len(body), body)
    assert answer.startswith(b"HTTP/1.1 200 ") and answer.endswith(b"ok 1048576")
    with connect(guarded) as sock:  # pipelined requests, each within the limits
        sock.sendall(get("/a") * 3)
        time.sleep(0.5)
        assert sock.recv(65536).count(b"HTTP/1.1 200 ") == 3


def test_a_head_not_finished_in_time_is_408_and_a_silent_connection_is_closed(guarded):
    with connect(guarded) as slow, connect(guarded) as silent:
        slow.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        t0 = time.perf_counter()
        answer = closed_by_server(slow, 5)
        assert answer is not None and answer.startswith(b"HTTP/1.1 408 ") and "Requête trop lente".encode() in answer
        assert 0.8 < time.perf_counter() - t0 < 3
        assert closed_by_server(silent, 5) == b""


def test_an_idle_keep_alive_connection_is_closed(guarded):
    with connect(guarded) as sock:
        sock.sendall(get("/"))
        time.sleep(0.3)
        assert sock.recv(4096).startswith(b"HTTP/1.1 200 ")
        t0 = time.perf_counter()
        assert closed_by_server(sock, 5) == b"" and time.perf_counter() - t0 < 3


def test_one_connection_too_many_sending_its_head_closes_the_oldest(guarded):
    socks = [connect(guarded) for _ in range(SMALL.max_waiting)]
    try:
        for s in socks:
            s.sendall(b"GET / HTTP/1.1\r\n")
            time.sleep(0.02)
        newest = connect(guarded)
        socks.append(newest)
        newest.sendall(b"GET / HTTP/1.1\r\n")
        assert closed_by_server(socks[0], 0.5) == b""  # the oldest made room
        assert closed_by_server(socks[1], 0.1) is None  # the others wait their turn
        newest.sendall(b"Host: 127.0.0.1\r\n\r\n")
        assert newest.recv(4096).startswith(b"HTTP/1.1 200 ")
    finally:
        for s in socks:
            s.close()


def test_beyond_the_connection_limit_a_request_is_503_in_french_with_retry_after(guarded):
    held = []
    try:
        for _ in range(SMALL.max_connections):  # keep-alive connections, each after one request, idle
            sock = connect(guarded)
            sock.sendall(get("/"))
            held.append(sock)
        time.sleep(0.2)
        answer, _ = exchange(guarded, get("/"))
        assert answer.startswith(b"HTTP/1.1 503 ") and b"retry-after: 1" in answer
        assert "Service saturé : trop de connexions sur ce processus.".encode() in answer
    finally:
        for s in held:
            s.close()
    time.sleep(0.2)
    answer, _ = exchange(guarded, get("/", b"Connection: close\r\n"))
    assert answer.startswith(b"HTTP/1.1 200 ")


# --- the real service ------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def service(mirror, cache_dir) -> Iterator[str]:
    """`territoires serve` with its default limits, started under a soft limit of 1,024 open files."""
    env = {"TERRITOIRES_MIRROR": str(mirror), "TERRITOIRES_CACHE": str(cache_dir), "TERRITOIRES_RATE_LIMIT": "0"}
    with running_service(1, env, args=("--no-access-log",), nofile=1024) as (base, _):
        yield base


def test_a_thousand_slow_clients_do_not_stop_a_new_request(service: str):
    host, port = "127.0.0.1", int(service.rsplit(":", 1)[1])
    slow = []
    try:
        for _ in range(1100):
            sock = socket.create_connection((host, port), timeout=5)
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: 1\r\n")
            slow.append(sock)
        t0 = time.perf_counter()
        r = httpx.get(f"{service}/healthz", timeout=5)
        assert r.status_code == 200 and r.json()["status"] == "ok" and time.perf_counter() - t0 < 2
    finally:
        for s in slow:
            s.close()


@pytest.mark.parametrize("what, status, message", [("url", 414, "Adresse trop longue"), ("header", 431, "En-têtes trop longs")])
def test_the_service_turns_an_oversized_request_away_at_once(service: str, what: str, status: int, message: str):
    port = int(service.rsplit(":", 1)[1])
    big = "a" * 2**20
    head = get("/healthz?q=" + big) if what == "url" else get("/healthz", f"X-Big: {big}\r\n".encode())
    answer, seconds = exchange(("127.0.0.1", port), head)
    assert answer.startswith(b"HTTP/1.1 %d " % status) and message.encode() in answer and seconds < 1
    assert httpx.get(f"{service}/healthz", timeout=5).status_code == 200
