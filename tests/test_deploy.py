"""The reverse-proxy configuration shipped in deploy/nginx.conf, checked by Debian's nginx on loopback: it parses
(nginx -t), and in front of `territoires serve` it serves the API over TLS, the links name the public address, and an
oversized or slow request head is turned away by nginx itself.

Only the addresses change for the test (ports on 127.0.0.1, a self-signed certificate, files in a temporary
directory): every limit and header of the shipped file is what is tested.
"""
from __future__ import annotations

import re
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bench.server import free_port, running_service

CONF = Path(__file__).resolve().parent.parent / "deploy" / "nginx.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
HOST = "territoires.example.org"


def on_loopback(tmp: Path, http_port: int, https_port: int, upstream: int) -> Path:
    """deploy/nginx.conf with its addresses on loopback and its files under ``tmp``."""
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", f"/CN={HOST}",
                    "-keyout", str(tmp / "privkey.pem"), "-out", str(tmp / "fullchain.pem")], check=True, capture_output=True)
    text = CONF.read_text(encoding="utf-8")
    for old, new in ((r"listen 80;", f"listen 127.0.0.1:{http_port};"), (r"listen \[::\]:80;", ""),
                     (r"listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;"), (r"listen \[::\]:443 ssl http2;", ""),
                     (r"server 127\.0\.0\.1:8000;", f"server 127.0.0.1:{upstream};"), (r"/etc/ssl/territoires", str(tmp)),
                     (r"/var/cache/nginx/territoires", str(tmp / "cache")),
                     (r"user www-data;", "user root;")):  # its workers write the cache in a directory of this user
        text, n = re.subn(old, new, text)
        assert n, f"deploy/nginx.conf no longer has {old}: update this test"
    text = text.replace("http {", f"http {{\n    access_log {tmp}/access.log;\n    client_body_temp_path {tmp}/body;\n"
                                  f"    proxy_temp_path {tmp}/proxy;", 1)
    path = tmp / "nginx.conf"
    path.write_text(text, encoding="utf-8")
    return path


def globals_for(tmp: Path) -> list[str]:
    return ["-g", f"pid {tmp}/nginx.pid; error_log {tmp}/error.log;"]


@pytest.fixture(scope="module")
def proxied(mirror: Path, cache_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    env = {"TERRITOIRES_MIRROR": str(mirror), "TERRITOIRES_CACHE": str(cache_dir), "TERRITOIRES_BASE_URL": f"https://{HOST}",
           "TERRITOIRES_TRUSTED_PROXIES": "127.0.0.1"}
    tmp = tmp_path_factory.mktemp("nginx")
    with running_service(1, env, args=("--no-access-log",)) as (base, _):
        https = free_port()
        conf = on_loopback(tmp, free_port(), https, int(base.rsplit(":", 1)[1]))
        proc = subprocess.Popen([NGINX, "-c", str(conf), *globals_for(tmp), "-g", "daemon off;"], stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 20
            while True:
                try:
                    socket.create_connection(("127.0.0.1", https), timeout=1).close()
                    break
                except OSError:
                    assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read().decode() if proc.stderr else ""
                    time.sleep(0.2)
            yield f"https://127.0.0.1:{https}"
        finally:
            proc.terminate()
            proc.wait(10)


def test_the_shipped_configuration_parses(tmp_path: Path):
    conf = on_loopback(tmp_path, free_port(), free_port(), 8000)
    done = subprocess.run([NGINX, "-t", "-c", str(conf), *globals_for(tmp_path)], capture_output=True, text=True)
    assert done.returncode == 0 and "syntax is ok" in done.stderr and "test is successful" in done.stderr, done.stderr


def test_the_service_behind_nginx_over_tls_writes_its_public_links(proxied: str):
    with httpx.Client(base_url=proxied, verify=False, headers={"Host": HOST}, timeout=30) as client:
        assert client.get("/healthz").json()["status"] == "ok"
        links = re.findall(r'"href":\s*"([^"]+)"', client.get("/ogc/collections/epci/items?limit=2", headers={"Host": "evil.example"}).text)
        assert links and all(h.startswith(f"https://{HOST}/ogc") for h in links)
        first = client.get("/tiles/commune,epci/8/129/93.pbf")
        again = client.get("/tiles/commune,epci/8/129/93.pbf")
        assert first.status_code == 200 and again.headers["x-cache-status"] == "HIT"
        assert client.head("/healthz").status_code == 200


def test_nginx_turns_an_oversized_or_slow_head_away(proxied: str):
    port = int(proxied.rsplit(":", 1)[1])
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    with httpx.Client(base_url=proxied, verify=False, headers={"Host": HOST}, timeout=30) as client:
        t0 = time.perf_counter()
        assert client.get("/healthz", headers={"X-Big": "b" * 20_000}).status_code in (400, 431)
        assert client.get("/healthz?q=" + "a" * 40_000).status_code in (400, 414)
        assert time.perf_counter() - t0 < 2
    with socket.create_connection(("127.0.0.1", port), timeout=30) as raw, context.wrap_socket(raw, server_hostname=HOST) as tls:
        tls.sendall(b"GET /healthz HTTP/1.1\r\nHost: " + HOST.encode() + b"\r\n")  # never finished
        t0 = time.perf_counter()
        answer = tls.recv(200)
        assert (answer == b"" or answer.startswith(b"HTTP/1.1 408")) and 8 < time.perf_counter() - t0 < 20
