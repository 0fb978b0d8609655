"""The service's one clock, and the working-day calendar that lives in the database.

In production `now()` is the wall clock. In sandbox mode (GOVBUY_SANDBOX=1) an admin may
move it forward; the offset is kept in the database so that every worker sees the same time.

The service's date is always the date in Beijing (`today()`), never the UTC date of `now()`:
between 00:00 and 08:00 Beijing time the two differ.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta

from govbuy import database as db
from govbuy.rules import WorkCalendar, local_date
from govbuy.settings import get_settings

_CALENDAR_TTL_SECONDS = 10.0
_calendar_cache: tuple[float, WorkCalendar] | None = None


async def now() -> datetime:
    real = datetime.now(UTC)
    if not get_settings().sandbox:
        return real
    offset = await db.fetchval("SELECT offset_seconds FROM sandbox_clock WHERE id = 1")
    return real + timedelta(seconds=offset or 0)


async def today() -> date:
    """The service's own date: Asia/Shanghai."""
    return local_date(await now())


async def pin_sandbox(instant: datetime) -> datetime:
    """Sandbox only: set the clock so that it reads `instant` now, and runs on from there.

    The test suite starts every test at an instant it chooses with this, so that no test depends
    on the hour or the date it runs at. The API only ever moves the clock forward (`advance`).
    """
    if not get_settings().sandbox:
        raise RuntimeError("the clock can only be pinned in sandbox mode")
    if instant.tzinfo is None:
        raise ValueError("pin the clock to an aware instant")
    offset = round((instant - datetime.now(UTC)).total_seconds())
    await db.execute(
        """INSERT INTO sandbox_clock (id, offset_seconds) VALUES (1, $1)
           ON CONFLICT (id) DO UPDATE SET offset_seconds = $1""",
        offset,
    )
    return await now()


async def advance(seconds: int) -> datetime:
    """Move the sandbox clock forward (never back: periods already enforced stay enforced)."""
    await db.execute(
        """INSERT INTO sandbox_clock (id, offset_seconds) VALUES (1, $1)
           ON CONFLICT (id) DO UPDATE SET offset_seconds = sandbox_clock.offset_seconds + $1""",
        seconds,
    )
    return await now()


#: Taken shared by every change that stores a period computed from the calendar, and
#: exclusively by recording a year's schedule: a period is either computed before the schedule
#: was recorded (and then recomputed by it) or after (and then uses it), never in between.
_CALENDAR_LOCK = 0x676F7662_63616C  # "govb" "cal"


async def load_calendar() -> WorkCalendar:
    """The calendar as recorded, read now (uncached, unlocked)."""
    rows = await db.fetch("SELECT year, holidays, workdays FROM calendar_years")
    return WorkCalendar(
        holidays=frozenset(d for r in rows for d in r["holidays"]),
        workdays=frozenset(d for r in rows for d in r["workdays"]),
        known_years=frozenset(r["year"] for r in rows),
    )


async def work_calendar() -> WorkCalendar:
    """The official calendar as recorded: holidays and make-up days of every known year (cached
    for a few seconds: for reads)."""
    global _calendar_cache
    cached = _calendar_cache
    if cached is not None and time.monotonic() - cached[0] < _CALENDAR_TTL_SECONDS:
        return cached[1]
    calendar = await load_calendar()
    _calendar_cache = (time.monotonic(), calendar)
    return calendar


async def calendar_for_update() -> WorkCalendar:
    """The calendar as committed now, for a change that stores a period computed from it; must
    run inside that change's transaction (a schedule being recorded waits for it to commit)."""
    if db.DB.current_transaction.get() is None:
        raise RuntimeError("calendar_for_update() runs inside the change's transaction")
    await db.execute("SELECT pg_advisory_xact_lock_shared($1)", _CALENDAR_LOCK)
    return await load_calendar()


async def lock_calendar() -> WorkCalendar:
    """Recording a schedule: wait for every change computing a period to commit, keep new ones
    out until this transaction commits, and return the calendar as it stands."""
    await db.execute("SELECT pg_advisory_xact_lock($1)", _CALENDAR_LOCK)
    return await load_calendar()


def forget_calendar() -> None:
    global _calendar_cache
    _calendar_cache = None
