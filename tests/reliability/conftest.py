"""A live `govbuy serve` on a database of its own, shared by the tests of this folder."""

from __future__ import annotations

import asyncio
import os
import uuid

import asyncpg
import pytest

from bench import harness
from govbuy import database as db


def drop_database(server_dsn: str, name: str) -> None:
    async def drop() -> None:
        admin = await asyncpg.connect(db.with_database(server_dsn, "postgres"))
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()

    asyncio.run(drop())


@pytest.fixture(scope="session")
def live_server(server_dsn: str, tmp_path_factory: pytest.TempPathFactory):
    """`govbuy serve --sandbox` in a subprocess on a fresh database, one account per role."""
    name = f"govbuy_live_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    dsn = db.with_database(server_dsn, name)
    asyncio.run(db.ensure_database(dsn))
    server = harness.start_server(tmp_path_factory.mktemp("live"), database_url=dsn)
    try:
        harness.accounts_for_every_role(server)
        yield server
    finally:
        server.stop()
        drop_database(server_dsn, name)
