"""Running the uvicorn workers of `territoires serve`, and failing with the reason when they cannot start.

The workers speak HTTP through service/guard.py (limits on the request head, a head timeout, a connection limit),
close idle keep-alive connections after TERRITOIRES_KEEP_ALIVE_TIMEOUT seconds, and take the socket's address as the
client's (no X-Forwarded-For from uvicorn: the app trusts it only from TERRITOIRES_TRUSTED_PROXIES).

Before any worker starts, the version they will load is checked on disk (every build file, the snapshot's
checksum). Each worker then loads its model before it takes requests; one that cannot says why in one line
and exits with uvicorn's start-up failure code, which stops the master, and the master exits non-zero with
the reason instead of returning as if it had been asked to stop.
"""
from __future__ import annotations

import logging
import resource
import sys

import uvicorn
from fastapi import FastAPI
from uvicorn.config import LOGGING_CONFIG, STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess

from geo.config import Settings
from geo.errors import TerritoiresError
from geo.versions import check_published, read_published
from service.guard import GuardedHttpToolsProtocol
from service.limits import Limits

WORKER_APP = "service.workers:worker_app"


def run_workers(settings: Settings, host: str, port: int, workers: int, access_log: bool, log_config: dict = LOGGING_CONFIG) -> None:
    """Serve the published version with ``workers`` processes until stopped; TerritoiresError naming the
    reason if the version cannot be loaded or a worker fails at start-up."""
    check_published(settings)
    try:
        limits = Limits()
    except ValueError as exc:  # a setting that cannot be used (TERRITOIRES_BASE_URL, TERRITOIRES_TRUSTED_PROXIES…)
        raise TerritoiresError(str(exc)) from None
    raise_open_files(limits.max_connections + limits.max_waiting + 1024)
    # the socket address is the client (the app trusts X-Forwarded-For only from TERRITOIRES_TRUSTED_PROXIES)
    server = {"host": host, "port": port, "access_log": access_log, "log_config": log_config, "http": GuardedHttpToolsProtocol,
              "timeout_keep_alive": limits.keep_alive_timeout, "proxy_headers": False}
    try:
        if workers > 1:
            config = uvicorn.Config(WORKER_APP, factory=True, workers=workers, **server)
            supervisor = Multiprocess(config, sockets=[config.bind_socket()])
            supervisor.run()
            failed = [f"worker {p.pid}" for p in supervisor.processes if p.exitcode == STARTUP_FAILURE]
        else:
            from service.app import create_app

            app = create_app(settings)
            app.state.holder.load()  # here, so that a failure is this command's error rather than a logged traceback
            single = uvicorn.Server(uvicorn.Config(app, **server))
            single.run()
            failed = [] if single.started else ["the service"]
    except KeyboardInterrupt:
        return
    if failed:
        raise TerritoiresError(f"{', '.join(failed)} could not start: {_why(settings)}")


def raise_open_files(wanted: int) -> None:
    """Raise the soft limit on open files towards ``wanted`` (as far as the hard limit allows): each connection holds
    one, and the usual soft limit (1,024) is below what the connection limits allow."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def worker_app() -> FastAPI:
    """The app of one worker process, its model loaded before it takes requests; a worker that cannot load
    it logs why in one line and exits with uvicorn's start-up failure code (which stops the master)."""
    from service.app import create_app  # in the worker: the master does not import the app

    app = create_app()
    try:
        app.state.holder.load()
    except Exception as exc:  # any failure: a worker restarted on the same data would fail again
        logging.getLogger("uvicorn.error").error("cannot load the data version: %s", exc if isinstance(exc, TerritoiresError)
                                                 else f"{type(exc).__name__}: {exc}")
        sys.exit(STARTUP_FAILURE)
    return app


def _why(settings: Settings) -> str:
    """Why the published version cannot be served, found again in this process (a worker's own error is in its log)."""
    try:
        read_published(settings)
    except TerritoiresError as exc:
        return str(exc)
    except Exception as exc:  # the worker met the same: say what it was
        return f"{type(exc).__name__}: {exc}"
    return "the data loads here, so see the worker's error above"
