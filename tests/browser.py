"""Browser test helpers: Playwright driving Debian's Chromium, offline.

Never downloads a browser: it launches /usr/bin/chromium (installed by
``make system``).  Every request to a host other than the loopback is aborted
and recorded, so a test proves a page needs no internet by asserting
``session.blocked == []``.

    with serve_app("service.app:create_app", {"VAR": "1"}) as base_url:
        with browser_page() as session:
            session.page.goto(base_url + "/")
            assert session.blocked == [] and session.console_errors == []
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:  # playwright is imported lazily at launch
    from playwright.sync_api import Page, Route

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
REPO_ROOT = Path(__file__).resolve().parent.parent
HEALTH_TIMEOUT_S = 120.0


@dataclass
class BrowserSession:
    """A page plus what it tried to reach off-machine and what it logged."""

    page: Page
    blocked: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)


def is_local(url: str) -> bool:
    """True for loopback http(s)/ws(s) URLs and for browser-internal schemes."""
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about", "javascript"):
        return True
    return (parts.hostname or "") in LOOPBACK_HOSTS


def require_chromium() -> Path:
    """Path of Debian's Chromium; RuntimeError naming the fix if it is missing."""
    if not CHROMIUM.exists():
        raise RuntimeError(
            f"{CHROMIUM} not found: browser tests need Debian's chromium; "
            "run `make system` (also run by `make test`; it does `apt-get install -y chromium`)"
        )
    return CHROMIUM


@contextmanager
def browser_page(
    viewport: tuple[int, int] = (1280, 800),
    locale: str | None = None,
) -> Iterator[BrowserSession]:
    """Headless Chromium page whose non-loopback requests are aborted and recorded; ``locale`` (e.g. "fr-FR") is the
    reader's language (``navigator.language``, ``Accept-Language``). A date field's display follows the system locale
    of the browser's process instead, which this machine has in English only."""
    from playwright.sync_api import sync_playwright

    executable = require_chromium()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(executable), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(
                viewport={"width": viewport[0], "height": viewport[1]},
                service_workers="block",
                **({"locale": locale} if locale else {}),
            )
            page = context.new_page()
            session = BrowserSession(page=page)

            def guard(route: Route) -> None:
                url = route.request.url
                if is_local(url):
                    route.continue_()
                else:
                    session.blocked.append(url)
                    route.abort("blockedbyclient")

            # On the context, so popups and iframes are guarded too.
            context.route("**/*", guard)
            page.on(
                "console",
                lambda msg: session.console_errors.append(f"{msg.text} @ {msg.location}")
                if msg.type == "error"
                else None,
            )
            page.on("pageerror", lambda exc: session.page_errors.append(str(exc)))
            yield session
        finally:
            browser.close()


def free_port() -> int:
    """A currently free TCP port on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serve_app(
    app_factory_path: str,
    env: dict[str, str] | None = None,
    cwd: Path = REPO_ROOT,
    timeout_s: float = HEALTH_TIMEOUT_S,
) -> Iterator[str]:
    """Run ``uvicorn --factory app_factory_path`` on a free loopback port.

    ``app_factory_path`` is ``"module:function"`` importable from ``cwd``;
    ``env`` is added to this process's environment.  Waits for ``GET /healthz``
    to answer 200 (at most ``timeout_s``), yields the base URL, then stops the
    server.  Raises RuntimeError with the server's output if it never gets ready.
    """
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    full_env = {**os.environ, **(env or {})}
    full_env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(cwd), full_env.get("PYTHONPATH", "")) if p
    )
    cmd = [
        sys.executable, "-m", "uvicorn", "--factory", app_factory_path,
        "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
    ]
    with tempfile.TemporaryFile(mode="w+") as log:
        proc = subprocess.Popen(cmd, cwd=cwd, env=full_env, stdout=log, stderr=subprocess.STDOUT)

        def output() -> str:
            log.seek(0)
            return log.read()[-4000:]

        try:
            deadline = time.monotonic() + timeout_s
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(
                        f"{app_factory_path} exited with {proc.returncode} before "
                        f"/healthz answered:\n{output()}"
                    )
                try:
                    with urllib.request.urlopen(f"{base_url}/healthz", timeout=5) as resp:
                        if resp.status == 200:
                            break
                except (urllib.error.URLError, ConnectionError, TimeoutError):
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"{app_factory_path}: {base_url}/healthz not ready after "
                        f"{timeout_s:.0f} s:\n{output()}"
                    )
                time.sleep(0.2)
            yield base_url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
