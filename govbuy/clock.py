"""The service's one clock, and the working-day calendar that lives in the database.

In production `now()` is the wall clock. In sandbox mode (GOVBUY_SANDBOX=1) an admin may
move it forward; the offset is kept in the database so that every worker sees the same time.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta

from govbuy import database as db
from govbuy.rules import WorkCalendar
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
    from govbuy.rules import local_date

    return local_date(await now())


async def advance(seconds: int) -> datetime:
    """Move the sandbox clock forward (never back: periods already enforced stay enforced)."""
    await db.execute(
        """INSERT INTO sandbox_clock (id, offset_seconds) VALUES (1, $1)
           ON CONFLICT (id) DO UPDATE SET offset_seconds = sandbox_clock.offset_seconds + $1""",
        seconds,
    )
    return await now()


async def work_calendar() -> WorkCalendar:
    """The official calendar as recorded: holidays and make-up days of every known year."""
    global _calendar_cache
    cached = _calendar_cache
    if cached is not None and time.monotonic() - cached[0] < _CALENDAR_TTL_SECONDS:
        return cached[1]
    rows = await db.fetch("SELECT year, holidays, workdays FROM calendar_years")
    calendar = WorkCalendar(
        holidays=frozenset(d for r in rows for d in r["holidays"]),
        workdays=frozenset(d for r in rows for d in r["workdays"]),
        known_years=frozenset(r["year"] for r in rows),
    )
    _calendar_cache = (time.monotonic(), calendar)
    return calendar


def forget_calendar() -> None:
    global _calendar_cache
    _calendar_cache = None
