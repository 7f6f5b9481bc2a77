"""Running the uvicorn workers of `territoires serve`, and failing with the reason when they cannot start.

Before any worker starts, the version they will load is checked on disk (every build file, the snapshot's
checksum); a worker that still fails at start-up stops the master (uvicorn's rule), which then exits non-zero
and says why instead of returning as if it had been asked to stop.
"""
from __future__ import annotations

import uvicorn
from uvicorn.config import LOGGING_CONFIG, STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess

from geo.config import Settings
from geo.errors import TerritoiresError
from geo.versions import check_published, read_published

APP = "service.app:create_app"


def run_workers(settings: Settings, host: str, port: int, workers: int, access_log: bool, log_config: dict = LOGGING_CONFIG) -> None:
    """Serve the published version with ``workers`` processes until stopped; TerritoiresError naming the
    reason if the version cannot be loaded or a worker fails at start-up."""
    check_published(settings)
    config = uvicorn.Config(APP, factory=True, host=host, port=port, workers=workers, access_log=access_log)
    try:
        if workers > 1:
            supervisor = Multiprocess(config, sockets=[config.bind_socket()])
            supervisor.run()
            failed = [f"worker {p.pid}" for p in supervisor.processes if p.exitcode == STARTUP_FAILURE]
        else:
            server = uvicorn.Server(config)
            server.run()
            failed = [] if server.started else ["the service"]
    except KeyboardInterrupt:
        return
    if failed:
        raise TerritoiresError(f"{', '.join(failed)} could not start: {_why(settings)}")


def _why(settings: Settings) -> str:
    """Why the published version cannot be served, found again in this process (a worker's own error is in its log)."""
    try:
        read_published(settings)
    except TerritoiresError as exc:
        return str(exc)
    except Exception as exc:  # the worker met the same: say what it was
        return f"{type(exc).__name__}: {exc}"
    return "the data loads here, so see the worker's error above"
