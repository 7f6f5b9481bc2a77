"""A plain static file server on loopback (Debian's nginx): what a static host or a CDN does with a tile archive.

It serves one directory with byte ranges (nginx's own), strong ETags and the CORS headers a page on another origin
needs to read an archive with ``pmtiles`` (``Range`` allowed, ``Content-Range`` and ``ETag`` exposed). No Python
is on the request path. Used by ``bench/pmtiles.py`` and the browser test of the maps reading their tiles from it.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.server import free_port

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
CONF = """
daemon off;
{user}
worker_processes {workers};
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  types {{ application/vnd.pmtiles pmtiles; }}
  default_type application/octet-stream;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000;
  client_body_temp_path {tmp}/body;
  proxy_temp_path {tmp}/proxy;
  fastcgi_temp_path {tmp}/fastcgi;
  uwsgi_temp_path {tmp}/uwsgi;
  scgi_temp_path {tmp}/scgi;
  server {{
    listen 127.0.0.1:{port};
    root {root};
    location / {{
      add_header Access-Control-Allow-Origin * always;
      add_header Access-Control-Allow-Headers Range always;
      add_header Access-Control-Expose-Headers "Content-Length, Content-Range, ETag" always;
      add_header Cache-Control "public, max-age=31536000, immutable" always;
      if ($request_method = OPTIONS) {{ return 204; }}
    }}
  }}
}}
"""


@contextmanager
def static_host(root: Path, workers: int = 1) -> Iterator[str]:
    """Serve ``root`` with nginx on a free loopback port; yield its base URL; stop it after."""
    if not Path(NGINX).exists():
        raise RuntimeError(f"{NGINX} not found: run `apt-get install -y nginx` (Debian's nginx serves the archive)")
    with tempfile.TemporaryDirectory(prefix="territoires-nginx-") as tmp:
        port = free_port()
        conf = Path(tmp) / "nginx.conf"
        # started as root, nginx's workers would run as nobody: keep the caller's user, who can read ``root``
        user = "user root;" if os.geteuid() == 0 else ""
        conf.write_text(CONF.format(user=user, workers=workers, tmp=tmp, port=port, root=Path(root).resolve()))
        proc = subprocess.Popen([NGINX, "-c", str(conf), "-p", tmp], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 10
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"nginx exited: {proc.stderr.read().decode(errors='replace')}")
                try:
                    urllib.request.urlopen(base + "/", timeout=1)
                    break
                except urllib.error.HTTPError:  # 403/404 on the directory: nginx answers
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError("nginx did not answer in time") from None
                    time.sleep(0.05)
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
