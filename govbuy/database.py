"""Database access: the one Piccolo engine, its asyncpg pool, transactions and raw-SQL helpers.

Transactions live in Piccolo's context variable, so `fetch`/`execute` inside
`async with transaction():` run on the transaction's connection and outside it on the pool.
Services use Piccolo tables for plain reads and writes and these helpers for set-based SQL,
row locks and aggregates.
"""

from __future__ import annotations

import asyncio
import os
import json
import logging
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import date, datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit
from uuid import UUID

import asyncpg
import msgspec

from govbuy.piccolo_conf import DB
from govbuy.settings import Settings, get_settings

log = logging.getLogger("govbuy.database")

# A statement that waits this long for a lock or a slow plan is cancelled: a request must fail
# cleanly rather than hang.
STATEMENT_TIMEOUT_MS = 15_000


def json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def dumps(value: Any) -> str:
    return json.dumps(value, default=json_default, ensure_ascii=False, sort_keys=True)


def _encode_json(value: Any) -> str:
    # Piccolo hands JSON columns over already serialised; everything else is serialised here.
    return value if isinstance(value, str) else dumps(value)


def _encode_jsonb(value: Any) -> bytes:
    # jsonb's binary form is a version byte (1) and the JSON text: COPY needs the binary form.
    return b"\x01" + _encode_json(value).encode()


def _decode_json(data: str | bytes) -> Any:
    # msgspec reads JSON as json.loads does (floats as float), several times faster: lists
    # read many JSON columns.
    return msgspec.json.decode(data)


def _decode_jsonb(data: bytes) -> Any:
    return _decode_json(data[1:])


async def _init_connection(connection: asyncpg.Connection) -> None:
    await connection.set_type_codec("json", encoder=_encode_json, decoder=_decode_json, schema="pg_catalog")
    await connection.set_type_codec(
        "jsonb", encoder=_encode_jsonb, decoder=_decode_jsonb, schema="pg_catalog", format="binary"
    )


@dataclass(frozen=True)
class DatabaseUrls:
    """Who connects as whom (govbuy/db_roles.py): the service as the app role, the migrations as
    the owner. One URL for both on a server where the operator made no separate roles."""

    app: str
    owner: str


def resolve_dsn(settings: Settings) -> str:
    """The DSN of the server as whoever manages it sees it: DATABASE_URL, or the embedded
    server's superuser on its `govbuy` database. For tools that make databases of their own
    (tests, benchmarks); the service itself connects with `app_dsn`."""
    if settings.database_url:
        return settings.database_url
    from govbuy.embedded import start_embedded_server

    return with_database(start_embedded_server(settings.data_dir), "govbuy")


def app_dsn(settings: Settings) -> str:
    """The DSN the service connects with: DATABASE_URL, or the app role on the embedded server,
    which `prepare_database` (run by `govbuy serve` before the app starts) has started."""
    if settings.database_url:
        return settings.database_url
    from govbuy.embedded import role_urls, running_server_uri

    server = running_server_uri(settings.data_dir)
    if server is None:
        raise RuntimeError(
            f"the embedded PostgreSQL server of {settings.data_dir} is not running: start the service "
            "with `govbuy serve`, which starts it, or set DATABASE_URL"
        )
    return role_urls(settings.data_dir, server, EMBEDDED_DATABASE).app


#: The embedded server's database for the service.
EMBEDDED_DATABASE = "govbuy"


def with_database(dsn: str, database: str) -> str:
    """The same server with another database name."""
    parts = urlsplit(dsn)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, parts.fragment))


def with_credentials(dsn: str, user: str, password: str) -> str:
    """The same server and database, signed in as `user` with `password`."""
    parts = urlsplit(dsn)
    where = parts.netloc.rpartition("@")[2]
    netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@{where}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


async def ensure_database(dsn: str) -> None:
    """Create the DSN's database if the server does not have it yet."""
    try:
        await (await asyncpg.connect(dsn)).close()
        return
    except asyncpg.InvalidCatalogNameError:
        pass
    name = urlsplit(dsn).path.lstrip("/")
    admin = await asyncpg.connect(with_database(dsn, "postgres"))
    try:
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()


async def drop_database(dsn: str) -> None:
    """Drop the DSN's database if the server has it, closing its connections."""
    name = urlsplit(dsn).path.lstrip("/")
    admin = await asyncpg.connect(with_database(dsn, "postgres"))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


def configure(dsn: str) -> None:
    """Point the Piccolo engine at a server; call before the pool starts."""
    # Piccolo finds its registry of apps (govbuy/piccolo_conf.py) through this variable.
    os.environ.setdefault("PICCOLO_CONF", "govbuy.piccolo_conf")
    DB.config.clear()
    DB.config.update(
        dsn=dsn,
        init=_init_connection,
        server_settings={
            "timezone": "UTC",
            "statement_timeout": str(STATEMENT_TIMEOUT_MS),
            "lock_timeout": str(STATEMENT_TIMEOUT_MS),
            "application_name": "govbuy",
        },
        command_timeout=STATEMENT_TIMEOUT_MS / 1000 + 5,
    )


async def _keep_session(connection: asyncpg.Connection) -> None:
    """What the pool does to a connection it takes back, beyond rolling back an open transaction
    (asyncpg does that anyway): nothing. Its default sends `pg_advisory_unlock_all(); CLOSE ALL;
    UNLISTEN *; RESET ALL` — a round trip on every release, for session state this service never
    leaves behind (its advisory locks are transaction-scoped, it sets no session settings)."""


class _Pool(asyncpg.Pool):
    """asyncpg's pool with a timeout on every acquire: Piccolo and the helpers here acquire
    without one, and a request would then wait for a free connection for as long as the busy
    ones take — all of a frozen database's outage. asyncpg also bounds a release's clean-up of
    a cancelled query by the acquire's timeout, so a request given up on frees its connection
    (or closes it) in that time too."""

    acquire_timeout: float | None = None

    def acquire(self, *, timeout: float | None = None) -> Any:
        return super().acquire(timeout=self.acquire_timeout if timeout is None else timeout)


async def start_pool(min_size: int, max_size: int) -> None:
    """Start the engine's pool (what Piccolo's `start_connection_pool` does, with `_Pool`)."""
    if DB.pool is not None:
        raise RuntimeError("the database pool is already started")
    pool = _Pool(
        min_size=min_size,
        max_size=max_size,
        max_queries=50_000,
        max_inactive_connection_lifetime=300.0,
        reset=_keep_session,
        loop=None,
        connection_class=asyncpg.Connection,
        record_class=asyncpg.Record,
        timeout=10,
        **DB.config,
    )
    pool.acquire_timeout = get_settings().pool_acquire_timeout_seconds
    DB.pool = await pool


async def close_pool() -> None:
    if DB.pool is not None:
        await DB.close_connection_pool()


def transaction():
    """A transaction (or the one already open in this task)."""
    return DB.transaction()


def is_connected() -> bool:
    """Whether a statement can run here: a transaction is open in this task or the pool is started."""
    return DB.current_transaction.get() is not None or DB.pool is not None


@asynccontextmanager
async def connection() -> AsyncIterator[asyncpg.Connection]:
    """The current transaction's connection, else one from the pool for the block."""
    current = DB.current_transaction.get()
    if current is not None:
        yield current.connection
        return
    if DB.pool is None:
        raise RuntimeError("the database pool is not started")
    async with DB.pool.acquire() as conn:
        yield conn


async def fetch(sql: str, *args: Any) -> list[asyncpg.Record]:
    async with connection() as conn:
        return await conn.fetch(sql, *args)


async def fetchrow(sql: str, *args: Any) -> asyncpg.Record | None:
    async with connection() as conn:
        return await conn.fetchrow(sql, *args)


async def fetchval(sql: str, *args: Any) -> Any:
    async with connection() as conn:
        return await conn.fetchval(sql, *args)


async def execute(sql: str, *args: Any) -> str:
    async with connection() as conn:
        return await conn.execute(sql, *args)


async def executemany(sql: str, args: list[tuple[Any, ...]]) -> None:
    async with connection() as conn:
        await conn.executemany(sql, args)


async def _probe() -> None:
    # Always a connection of the pool: never the caller's transaction, which this runs beside.
    if DB.pool is None:
        raise RuntimeError("the database pool is not started")
    async with DB.pool.acquire() as conn:
        await conn.fetchval("SELECT 1")


_probes: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Task[None]] = weakref.WeakKeyDictionary()


def _observe(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.debug("database probe failed: %r", task.exception())


async def database_answers(timeout: float) -> bool:
    """Whether the database answers `SELECT 1` within `timeout` seconds (for /health, /ready and
    the request deadline). One probe at a time per event loop, whose answer every caller waiting
    meanwhile shares; one the database never answers (a frozen server) is left to end by itself
    rather than cancelled (which would wait on the server too), so a hung database holds one
    connection for the probes, not one per caller."""
    loop = asyncio.get_running_loop()
    probe = _probes.get(loop)
    if probe is None or probe.done():
        probe = loop.create_task(_probe(), name="database-probe")
        probe.add_done_callback(_observe)
        _probes[loop] = probe
    done, _ = await asyncio.wait({probe}, timeout=timeout)
    return bool(done) and not probe.cancelled() and probe.exception() is None


async def migrate() -> None:
    """Apply every app's migrations that have not run yet (idempotent)."""
    import contextlib
    import io

    from piccolo.apps.migrations.commands.forwards import run_forwards

    os.environ.setdefault("PICCOLO_CONF", "govbuy.piccolo_conf")

    # Piccolo reports progress on stdout; keep it for the debug log only.
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        result = await run_forwards(app_name="all")
    log.debug("%s", output.getvalue())
    if not result.success:
        raise RuntimeError(f"migrations failed: {result.message}\n{output.getvalue()}")


def prepare_database() -> DatabaseUrls:
    """Start or find the server, create the database, apply migrations as the owner and grant
    the app role its privileges; return who connects as whom.

    For a process of its own (a command, a script): it runs its own event loop."""
    settings = get_settings()
    if settings.embedded:
        from govbuy.embedded import prepare_roles, start_embedded_server

        server = start_embedded_server(settings.data_dir)
        urls = asyncio.run(prepare_roles(settings.data_dir, server, EMBEDDED_DATABASE))
    else:
        assert settings.database_url is not None
        urls = DatabaseUrls(app=settings.database_url, owner=settings.migration_database_url or settings.database_url)
    asyncio.run(_migrate_and_grant(urls))
    return urls


async def _migrate_and_grant(urls: DatabaseUrls) -> None:
    from govbuy.db_roles import current_role, grant_app_privileges

    await ensure_database(urls.owner)
    configure(urls.owner)
    await start_pool(1, 2)
    try:
        try:
            await migrate()
        except (RuntimeError, asyncpg.InsufficientPrivilegeError) as exc:
            if urls.app == urls.owner and ("permission denied" in str(exc) or "must be owner" in str(exc)):
                raise RuntimeError(
                    f"{exc}\nThe migrations run as the owner of the tables: set GOVBUY_MIGRATION_DATABASE_URL "
                    "to the owner role's URL (docs/operations.md), DATABASE_URL staying the app role's"
                ) from exc
            raise
        owner = await fetchval("SELECT current_user")
        app = owner if urls.app == urls.owner else await current_role(urls.app)
        if app != owner:
            async with connection() as conn:
                await grant_app_privileges(conn, app)
    finally:
        await close_pool()


async def app_role_warnings(dsn: str) -> list[str]:
    """Why the role of `dsn` could get round the tables' triggers (empty when it cannot)."""
    from govbuy.db_roles import powers_beyond_rows

    conn = await asyncpg.connect(dsn)
    try:
        return await powers_beyond_rows(conn)
    finally:
        await conn.close()


def run_job(work: Callable[[], Awaitable[Any]]) -> Any:
    """Run an async job (a command's work) as the app role, against the prepared database,
    with a small pool."""
    dsn = prepare_database().app

    async def run() -> Any:
        configure(dsn)
        await start_pool(1, 4)
        try:
            return await work()
        finally:
            await close_pool()

    return asyncio.run(run())


async def create_or_adopt(tables: Sequence[str], sql: str) -> None:
    """For a migration that takes over tables another app's migration used to create: on a
    database that has none of `tables`, run `sql` (which creates them); on one that has them
    all, made by the earlier migration from the same definition, keep them as they are, rows and
    all; refuse one that has only some of them, which no migration made."""
    present = await fetchval(
        "SELECT array_agg(t) FROM unnest($1::text[]) t WHERE to_regclass('public.' || t) IS NOT NULL", list(tables)
    ) or []
    if len(present) == len(tables):
        return
    if present:
        raise RuntimeError(
            f"the database has {', '.join(present)} but not all of {', '.join(tables)}: "
            "it was not made by govbuy's migrations"
        )
    await execute(sql)


class Conditions:
    """A WHERE clause of the filters given, with numbered parameters.

    A list whose statement carries every optional filter as `$n IS NULL OR …` must be planned
    afresh on every call, or PostgreSQL switches to one generic plan for all combinations, which
    can scan the whole table. Building the statement from the filters given keeps one statement,
    and one reusable plan, per combination.

        where = Conditions("t.published_at IS NOT NULL")
        where.given("t.status = {}::text", status)
        sql = f"SELECT … WHERE {where} ORDER BY … LIMIT {where.param(limit)}"
        rows = await fetch(sql, *where.args)
    """

    def __init__(self, *fixed: str) -> None:
        self.conditions = list(fixed)
        self.args: list[Any] = []

    def param(self, value: Any) -> str:
        """A parameter's placeholder ($n) for `value`."""
        self.args.append(value)
        return f"${len(self.args)}"

    def add(self, condition: str, *values: Any) -> None:
        """A condition whose `{}` are filled with the placeholders of `values`, in order."""
        self.conditions.append(condition.format(*(self.param(v) for v in values)))

    def given(self, condition: str, value: Any) -> None:
        """`add` the condition for an optional filter, unless its value is None (not given)."""
        if value is not None:
            self.add(condition, value)

    def __str__(self) -> str:
        return " AND ".join(self.conditions) or "true"
