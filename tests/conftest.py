"""Test harness: a real PostgreSQL (DATABASE_URL's server, else the embedded one), a fresh
database per test run with every migration applied, emptied between tests, and the app
driven through httpx's ASGI transport."""

from __future__ import annotations

import os
import uuid

os.environ.setdefault("GOVBUY_SANDBOX", "1")
os.environ.setdefault("GOVBUY_DATA_DIR", os.path.join(os.path.dirname(__file__), "..", ".govbuy", "test"))
os.environ.setdefault("GOVBUY_SECRET_KEY", "test-secret-key-not-for-production-use-0123456789")

import httpx
import pytest

from govbuy import clock
from govbuy import database as db
from govbuy.settings import get_settings

# Tables kept between tests: the migration log and the seeded calendar.
KEEP = {"piccolo_migration", "calendar_years"}


@pytest.fixture(scope="session")
def server_dsn() -> str:
    settings = get_settings()
    return db.resolve_dsn(settings)


@pytest.fixture(scope="session")
async def database(server_dsn: str):
    name = f"govbuy_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    dsn = db.with_database(server_dsn, name)
    await db.ensure_database(dsn)
    db.configure(dsn)
    await db.start_pool(2, 30)
    await db.migrate()
    tables = [r["tablename"] for r in await db.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
    yield dsn, [t for t in tables if t not in KEEP]
    await db.close_pool()
    await db.drop_database(dsn)


@pytest.fixture(autouse=True)
async def clean_database(request: pytest.FixtureRequest):
    """Empty every table before a test that uses the database (triggers off for the wipe)."""
    if "database" not in request.fixturenames and "client" not in request.fixturenames:
        yield
        return
    _, tables = request.getfixturevalue("database")
    async with db.transaction():
        await db.execute("SET LOCAL session_replication_role = replica")
        await db.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
    clock.forget_calendar()
    yield


@pytest.fixture(scope="session")
def app(database):
    from govbuy.app import create_app

    return create_app(manage_pool=False)


@pytest.fixture
async def client(app, database) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://govbuy.test") as c:
        yield c
