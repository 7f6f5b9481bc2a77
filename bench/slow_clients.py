"""Slow and oversized clients against `territoires serve` on loopback: how many connections sending their headers
slowly the service holds before a new request fails, and how fast an oversized URL or header is turned away.

Run from the repository root: TERRITOIRES_MIRROR=../shared/data .venv/bin/python -m bench.slow_clients [--max 3000]

Slow clients are opened in steps (each sends a request line and one header, then one more header line every few
seconds and never ends its head); after each step a normal request (GET /healthz, 5 s timeout) must succeed. The
count printed is the number of slow connections open when the first normal request failed (or "none failed up to
--max"). Then one request with a 1 MB URL and one with a 1 MB header: the status and the time to get it. Only
127.0.0.1 is targeted, and every client socket is closed at the end.
"""
from __future__ import annotations

import argparse
import asyncio
import socket
import time

import httpx

from bench.server import running_service


async def slow_client(host: str, port: int, stop: asyncio.Event, opened: list[int], dropped: list[int]) -> None:
    """One connection that starts a request and never finishes its headers."""
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 10)
    except (TimeoutError, OSError):
        return
    opened.append(1)
    try:
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        await writer.drain()
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), 3)
            except TimeoutError:
                writer.write(b"X-Slow: 1\r\n")
                await writer.drain()
            if reader.at_eof():
                break
    except OSError:
        pass
    finally:
        dropped.append(1) if reader.at_eof() else None
        writer.close()


def normal_request(base: str) -> tuple[bool, float]:
    t0 = time.perf_counter()
    try:
        ok = httpx.get(f"{base}/healthz", timeout=5).status_code == 200
    except httpx.HTTPError:
        ok = False
    return ok, time.perf_counter() - t0


async def hold(base: str, host: str, port: int, step: int, most: int) -> None:
    stop = asyncio.Event()
    opened: list[int] = []
    dropped: list[int] = []
    tasks: list[asyncio.Task] = []
    failed_at = None
    try:
        while len(tasks) < most:
            tasks += [asyncio.create_task(slow_client(host, port, stop, opened, dropped)) for _ in range(step)]
            await asyncio.sleep(1.5)  # they connect and send their first line
            ok, seconds = await asyncio.to_thread(normal_request, base)
            print(f"  {len(opened):5d} slow connections opened ({len(dropped)} dropped by the server): "
                  f"normal request {'ok' if ok else 'FAILED'} in {seconds:.2f} s")
            if not ok:
                failed_at = len(opened)
                break
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
    verdict = f"a new request failed with {failed_at} slow connections open" if failed_at else f"none failed up to {len(opened)}"
    print(f"slow clients: {verdict}")


def oversized(host: str, port: int, what: str, size: int) -> None:
    line = b"/healthz?" + b"a" * size if what == "url" else b"/healthz"
    head = b"GET " + line + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n" + (b"X-Big: " + b"b" * size + b"\r\n" if what == "header" else b"") + b"\r\n"
    t0 = time.perf_counter()
    with socket.create_connection((host, port), timeout=60) as sock:
        try:
            sock.sendall(head)
        except OSError:
            pass  # the server may close before reading it all
        try:
            status = sock.recv(200).split(b"\r\n")[0].decode(errors="replace")
        except OSError as exc:
            status = f"{type(exc).__name__}"
    print(f"{size / 2**20:g} MB {what}: '{status}' in {time.perf_counter() - t0:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max", type=int, default=3000)
    parser.add_argument("--step", type=int, default=250)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--nofile", type=int, default=1024, help="the service's soft limit on open files (systemd's default)")
    parser.add_argument("--oversized-mb", type=int, default=64)
    args = parser.parse_args()
    with running_service(args.workers, {"TERRITOIRES_RATE_LIMIT": "0"}, args=("--no-access-log",), nofile=args.nofile) as (base, _):
        host, port = "127.0.0.1", int(base.rsplit(":", 1)[1])
        for what in ("url", "header"):
            for size in (2**16, 2**20, args.oversized_mb * 2**20):
                oversized(host, port, what, size)
        asyncio.run(hold(base, host, port, args.step, args.max))


if __name__ == "__main__":
    main()
