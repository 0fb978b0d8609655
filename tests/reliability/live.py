"""A live `govbuy serve` on a fresh database of the test run's PostgreSQL server, for the tests
that need a real server process (HTTP, concurrency, RSS) rather than the in-process client."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


from bench import harness
from govbuy import database as db


def drop_database(server_dsn: str, name: str) -> None:
    asyncio.run(db.drop_database(db.with_database(server_dsn, name)))


# The test run's PostgreSQL serves the test process's own pool and every live server at once:
# a small pool each keeps them all well under its max_connections (100).
POOL_MAX_SIZE = 8


@contextmanager
def live_server(
    server_dsn: str, data_dir: Path, *, accounts: bool = True, pool_max_size: int = POOL_MAX_SIZE, **kwargs
) -> Iterator[harness.LiveServer]:
    """`govbuy serve --sandbox` in a subprocess on a new database; one account per role."""
    name = f"govbuy_live_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    dsn = db.with_database(server_dsn, name)
    asyncio.run(db.ensure_database(dsn))
    extra_env = {"GOVBUY_POOL_MAX_SIZE": str(pool_max_size), **kwargs.pop("extra_env", {})}
    server = harness.start_server(data_dir, database_url=dsn, extra_env=extra_env, **kwargs)
    try:
        if accounts:
            harness.accounts_for_every_role(server)
        yield server
    finally:
        server.stop()
        drop_database(server_dsn, name)
