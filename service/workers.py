"""Running the uvicorn workers of `territoires serve`, and failing with the reason when they cannot start.

Before any worker starts, the version they will load is checked on disk (every build file, the snapshot's
checksum). Each worker then loads its model before it takes requests; one that cannot says why in one line
and exits with uvicorn's start-up failure code, which stops the master, and the master exits non-zero with
the reason instead of returning as if it had been asked to stop.
"""
from __future__ import annotations

import logging
import sys

import uvicorn
from fastapi import FastAPI
from uvicorn.config import LOGGING_CONFIG, STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess

from geo.config import Settings
from geo.errors import TerritoiresError
from geo.versions import check_published, read_published

WORKER_APP = "service.workers:worker_app"


def run_workers(settings: Settings, host: str, port: int, workers: int, access_log: bool, log_config: dict = LOGGING_CONFIG) -> None:
    """Serve the published version with ``workers`` processes until stopped; TerritoiresError naming the
    reason if the version cannot be loaded or a worker fails at start-up."""
    check_published(settings)
    try:
        if workers > 1:
            config = uvicorn.Config(WORKER_APP, factory=True, host=host, port=port, workers=workers, access_log=access_log,
                                    log_config=log_config)
            supervisor = Multiprocess(config, sockets=[config.bind_socket()])
            supervisor.run()
            failed = [f"worker {p.pid}" for p in supervisor.processes if p.exitcode == STARTUP_FAILURE]
        else:
            from service.app import create_app

            app = create_app(settings)
            app.state.holder.load()  # here, so that a failure is this command's error rather than a logged traceback
            server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, access_log=access_log, log_config=log_config))
            server.run()
            failed = [] if server.started else ["the service"]
    except KeyboardInterrupt:
        return
    if failed:
        raise TerritoiresError(f"{', '.join(failed)} could not start: {_why(settings)}")


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
