"""The demo tests share one demo year: it takes a while to make, and every test only reads it."""

from __future__ import annotations

import pytest

from govbuy import auth, clock
from govbuy import database as db
from govbuy.demo import year as demo


@pytest.fixture(autouse=True)
def clean_database():
    """Overrides the suite's per-test wipe: the module's tests read the same year."""
    yield


@pytest.fixture(scope="module")
async def year(database) -> demo.DemoSummary:
    _, tables = database
    async with db.transaction():
        await db.execute("SET LOCAL session_replication_role = replica")
        await db.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
    clock.forget_calendar()
    # Every demo user has the same password: hash it once (argon2 is slow on purpose); any
    # hash of it verifies, so sign-in is exactly as in the real demo.
    real, hashes = auth.hash_password, {}

    async def hash_once(password: str) -> str:
        if password not in hashes:
            hashes[password] = await real(password)
        return hashes[password]

    auth.hash_password = hash_once
    try:
        return await demo.run_demo()
    finally:
        auth.hash_password = real
