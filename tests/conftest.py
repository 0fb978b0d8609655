"""Test harness: a real PostgreSQL (DATABASE_URL's server, else the embedded one), a fresh
database per test run with every migration applied, emptied between tests, the service's
clock pinned to a chosen instant at the start of each test, and the app driven through
httpx's ASGI transport.

No test depends on the hour or the date it runs at: every test starts with the service's clock
at `service_instant` (by default DEFAULT_INSTANT; a whole run at another instant with
`GOVBUY_TEST_NOW=2027-01-01T00:00:30+08:00 ./dev test`), and every date a test computes comes
from the service's own local date. The end-to-end scenarios also run at each of
TRICKY_INSTANTS.
"""

from __future__ import annotations

import os
import uuid
from datetime import datetime

os.environ.setdefault("GOVBUY_SANDBOX", "1")
os.environ.setdefault("GOVBUY_DATA_DIR", os.path.join(os.path.dirname(__file__), "..", ".govbuy", "test"))
os.environ.setdefault("GOVBUY_SECRET_KEY", "test-secret-key-not-for-production-use-0123456789")

import httpx
import pytest

from govbuy import clock
from govbuy import database as db
from govbuy.settings import get_settings

# Tables kept between tests: the migration log (Piccolo's `migration`) and the seeded calendar
# (restored by the wipe when a test wrote it).
KEEP = {"migration", "calendar_years"}

#: Where the service's clock stands when a test starts: a Tuesday morning in Beijing.
DEFAULT_INSTANT = "2026-12-08T10:00:00+08:00"

#: The instants at which days, years and holidays turn: the scenarios run at each of them.
TRICKY_INSTANTS = {
    "2359-beijing": "2026-12-08T23:59:30+08:00",  # the last half-minute of a Beijing day
    "0000-new-year": "2027-01-01T00:00:30+08:00",  # 00:00:30 Beijing, still 31 Dec in UTC
    "31-december": "2026-12-31T15:00:00+08:00",  # periods run into a year with no recorded schedule
    "chuxi": "2027-02-05T09:00:00+08:00",  # 除夕: the Spring Festival holiday lies ahead
    "before-national-day": "2026-09-25T17:00:00+08:00",  # the Friday before 国庆 (recorded schedule)
}


def chosen_instant() -> datetime:
    """The run's instant: GOVBUY_TEST_NOW if set, else DEFAULT_INSTANT."""
    instant = datetime.fromisoformat(os.environ.get("GOVBUY_TEST_NOW") or DEFAULT_INSTANT)
    if instant.tzinfo is None:
        raise ValueError("GOVBUY_TEST_NOW needs an offset, e.g. 2027-01-01T00:00:30+08:00")
    return instant


def instant_params() -> list:
    """For a scenario's `service_instant`: the run's instant, then every tricky one."""
    return [pytest.param(chosen_instant(), id="chosen")] + [
        pytest.param(datetime.fromisoformat(v), id=k) for k, v in TRICKY_INSTANTS.items()
    ]


@pytest.fixture
def service_instant() -> datetime:
    """The instant the service's clock reads when the test starts (override to choose)."""
    return chosen_instant()


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
    tables = [t for t in tables if t not in KEEP]
    global _SEEDED_CALENDAR, _WIPE
    _SEEDED_CALENDAR = [tuple(r) for r in await db.fetch("SELECT year, holidays, workdays, source, updated_at FROM calendar_years")]
    _WIPE = await Wipe.of(tables)
    yield dsn, tables
    await db.close_pool()
    await db.drop_database(dsn)


_SEEDED_CALENDAR: list[tuple] = []


async def restore_seeded_calendar() -> None:
    """Back to the schedules the migration seeded: a year one test records is not recorded
    for the next."""
    await db.execute("DELETE FROM calendar_years")
    await db.executemany(
        "INSERT INTO calendar_years (year, holidays, workdays, source, updated_at) VALUES ($1, $2, $3, $4, $5)",
        _SEEDED_CALENDAR,
    )


# What identifies the calendar's rows: any insert, update or delete changes it.
_CALENDAR_ROWS = "(SELECT string_agg(ctid::text || xmin::text, ',' ORDER BY ctid) FROM calendar_years)"


class Wipe:
    """Puts the database back as a test expects to find it, touching only what the last test
    changed: one query finds the tables that have rows, the sequences that were drawn from and
    whether the calendar was written; those are emptied, restarted and restored.

    Emptying takes DELETE (triggers and foreign keys off: session_replication_role = replica),
    not TRUNCATE: a TRUNCATE costs a new file per table and, with CASCADE, takes every table
    that refers to organisations or users, i.e. nearly all of them. After a test that left many
    rows (the seeded demo year), it is TRUNCATE again, which does not leave them behind as
    dead rows. Sequences restart at their first value (tests read audit_events.seq and
    ocds_releases.seq); the sandbox clock is left to pin_sandbox, which overwrites its one row."""

    #: A table with more rows than this is emptied with TRUNCATE.
    MANY_ROWS = 1000

    def __init__(self, tables: list[str], sequences: dict[str, tuple[str, int]]):
        self.tables = tables
        self.sequences = sequences  # table -> (sequence, start value)
        probes = [
            f"SELECT '{t}', EXISTS (SELECT 1 FROM {t} OFFSET {self.MANY_ROWS}) WHERE EXISTS (SELECT 1 FROM {t})"
            for t in tables
            if t != "sandbox_clock"
        ]
        probes += [f"SELECT '{t}', false WHERE (SELECT is_called FROM {s})" for t, (s, _) in sequences.items()]
        probes.append(f"SELECT 'calendar_years', false WHERE {_CALENDAR_ROWS} IS DISTINCT FROM $1")
        self.probe = " UNION ALL ".join(probes)
        self.calendar: str | None = None  # the calendar's rows as the last restore left them

    @classmethod
    async def of(cls, tables: list[str]) -> Wipe:
        rows = await db.fetch(
            """SELECT t.relname AS table_name, s.relname AS sequence_name, q.start_value
               FROM pg_class s JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.oid
               JOIN pg_class t ON t.oid = d.refobjid JOIN pg_sequences q ON q.sequencename = s.relname
               WHERE s.relkind = 'S' AND d.deptype IN ('a', 'i') AND q.schemaname = 'public'"""
        )
        sequences = {r["table_name"]: (r["sequence_name"], r["start_value"]) for r in rows if r["table_name"] in tables}
        return cls(tables, sequences)

    async def __call__(self) -> None:
        found = await db.fetch(self.probe, self.calendar)
        dirty: dict[str, bool] = {}  # table -> has many rows
        for table, many in found:
            dirty[table] = dirty.get(table, False) or many
        calendar = dirty.pop("calendar_years", None) is not None or self.calendar is None
        if dirty:
            async with db.transaction():
                await db.execute("SET LOCAL session_replication_role = replica")
                if any(dirty.values()):
                    await db.execute(f"TRUNCATE {', '.join(sorted(dirty))} RESTART IDENTITY CASCADE")
                else:
                    statements = [f"DELETE FROM {t}" for t in sorted(dirty)]
                    statements += [
                        f"SELECT setval('{s}', {start}, false)" for t, (s, start) in self.sequences.items() if t in dirty
                    ]
                    await db.execute(";\n".join(statements))
        if calendar:
            async with db.transaction():
                await restore_seeded_calendar()
                self.calendar = await db.fetchval(f"SELECT {_CALENDAR_ROWS}")


_WIPE: Wipe


@pytest.fixture(autouse=True)
async def clean_database(request: pytest.FixtureRequest, service_instant: datetime):
    """Start a test that uses the database on empty tables, fresh sequences and the seeded
    calendar (see Wipe: only what the last test changed is undone)."""
    if "database" not in request.fixturenames and "client" not in request.fixturenames:
        yield
        return
    request.getfixturevalue("database")
    await _WIPE()
    clock.forget_calendar()
    await clock.pin_sandbox(service_instant)
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
