"""Kernel services: sign-in, organisations and users, the recorded calendar, the sandbox
clock and reads of the audit log."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime
from typing import Any
from uuid import UUID, uuid4

from govbuy import audit, auth, clock
from govbuy import database as db
from govbuy.audit import Actor
from govbuy.errors import Forbidden, NotFound
from govbuy.pagination import Page, check_limit, page, typed_cursor
from govbuy.holidays import statutory_holidays
from govbuy.rules import SHANGHAI, RuleViolation, WorkCalendar, check_password, local_date, missing_statutory_holidays
from govbuy.schemas import (
    AuditEventRead,
    CalendarYearRead,
    CalendarYearRecorded,
    CalendarYearWrite,
    ClockRead,
    NotificationRead,
    PeriodChange,
    StatutoryHolidayRead,
    OrganisationCreate,
    OrganisationRead,
    UserCreate,
    UserRead,
)
from govbuy.settings import get_settings
from govbuy.uscc import validate_uscc

log = logging.getLogger("govbuy.accounts")

# --- sign-in ------------------------------------------------------------------------------


async def sign_in(username: str, password: str, address: str) -> tuple[str, int]:
    now = auth.utcnow()
    # Counted as a failure until the password proves right (a flood cannot outrun the limiter).
    await auth.reserve_login_attempt(username, address, now)
    row = await db.fetchrow(
        "SELECT id, password_hash, active, token_version FROM users WHERE username = $1", username
    )
    ok = await auth.verify_password(row["password_hash"] if row else None, password)
    if not ok or not row["active"]:
        log.info("failed sign-in for %r from %s", username, address)
        raise RuleViolation("invalid_credentials", "wrong username or password", status=401)
    await auth.record_login_success(username, address, now)
    return auth.issue_token(row["id"], now, row["token_version"])


async def sign_out(actor: Actor) -> None:
    """End every session of the user: its tokens, this one included, stop working at once."""
    async with db.transaction():
        await db.execute("UPDATE users SET token_version = token_version + 1 WHERE id = $1", actor.user_id)
        await audit.record(actor, "user.signed_out", "user", actor.user_id)


async def change_password(actor: Actor, current: str, new: str) -> tuple[str, int]:
    """Change one's own password (the current one proves it is the user): every earlier token is
    revoked, and a new one for this session is returned."""
    row = await db.fetchrow("SELECT username, password_hash FROM users WHERE id = $1", actor.user_id)
    if not await auth.verify_password(row["password_hash"], current):
        raise RuleViolation("invalid_credentials", "the current password is wrong", status=401)
    if new == current:
        raise RuleViolation("weak_password", "choose a password other than the current one",
                            errors=[{"field": "new_password", "message": "the same as the current one"}])
    await asyncio.to_thread(check_password, new, row["username"])
    password_hash = await auth.hash_password(new)
    async with db.transaction():
        version = await db.fetchval(
            """UPDATE users SET password_hash = $2, token_version = token_version + 1, version = version + 1
               WHERE id = $1 RETURNING token_version""",
            actor.user_id, password_hash,
        )
        await audit.record(actor, "user.password_changed", "user", actor.user_id)  # never the hash
    return auth.issue_token(actor.user_id, auth.utcnow(), version)


# --- organisations and users ----------------------------------------------------------------

_ORG_COLUMNS = "id, name, kind, uscc, region_code, created_at, version"


async def create_organisation(actor: Actor, data: OrganisationCreate) -> OrganisationRead:
    uscc = validate_uscc(data.uscc) if data.uscc is not None else None
    if data.kind in ("vendor", "evaluator") and uscc is None:
        raise RuleViolation(
            "uscc_required",
            "vendors and evaluators are registered with their unified social credit code",
            errors=[{"field": "uscc", "message": "required for this kind"}],
        )
    if data.kind == "bureau" and data.region_code is None:
        raise RuleViolation(
            "region_code_required",
            "a bureau belongs to a region (6-digit administrative division code)",
            errors=[{"field": "region_code", "message": "required for a bureau"}],
        )
    async with db.transaction():
        if uscc and await db.fetchval("SELECT 1 FROM organisations WHERE uscc = $1", uscc):
            raise RuleViolation(
                "uscc_already_registered", f"an organisation with code {uscc} is already registered", status=409
            )
        row = await db.fetchrow(
            f"""INSERT INTO organisations (id, name, kind, uscc, region_code, created_at)
                VALUES ($1, $2, $3, $4, $5, $6) RETURNING {_ORG_COLUMNS}""",
            uuid4(),
            data.name,
            data.kind,
            uscc,
            data.region_code,
            await clock.now(),
        )
        result = OrganisationRead.model_validate(dict(row))
        await audit.record(actor, "organisation.created", "organisation", row["id"], after=result.model_dump())
    return result


async def region_of(organisation_id: UUID) -> str | None:
    """An organisation's region (行政区划代码): a bureau's catalogue, a regulator's oversight."""
    return await db.fetchval("SELECT region_code FROM organisations WHERE id = $1", organisation_id)


async def get_organisation(org_id: UUID) -> OrganisationRead:
    row = await db.fetchrow(f"SELECT {_ORG_COLUMNS} FROM organisations WHERE id = $1", org_id)
    if row is None:
        raise NotFound("organisation", org_id)
    return OrganisationRead.model_validate(dict(row))


async def list_organisations(kind: str | None, limit: int | None, cursor: str | None) -> Page[OrganisationRead]:
    limit = check_limit(limit)
    after_name, after_id = typed_cursor(cursor, str, UUID)
    rows = await db.fetch(
        f"""SELECT {_ORG_COLUMNS} FROM organisations
            WHERE ($1::text IS NULL OR kind = $1)
              AND ($2::text IS NULL OR (name, id) > ($2, $3::uuid))
            ORDER BY name, id LIMIT $4""",
        kind,
        after_name,
        after_id,
        limit + 1,
    )
    return page(rows, limit, lambda r: (r["name"], r["id"]), lambda r: OrganisationRead.model_validate(dict(r)))


_USER_COLUMNS = "id, username, full_name, organisation_id, role, active, created_at"


async def create_user(actor: Actor | None, data: UserCreate) -> UserRead:
    org = await get_organisation(data.organisation_id)
    expected_kind = auth.ROLE_ORGANISATION_KIND[data.role]
    if org.kind != expected_kind:
        raise RuleViolation(
            "role_not_for_organisation",
            f"role '{data.role}' belongs to a {expected_kind} organisation, not a {org.kind}",
            errors=[{"field": "role", "message": f"needs a {expected_kind} organisation"}],
        )
    await asyncio.to_thread(check_password, data.password, data.username)
    password_hash = await auth.hash_password(data.password)
    async with db.transaction():
        if await db.fetchval("SELECT 1 FROM users WHERE username = $1", data.username):
            raise RuleViolation("username_taken", f"username '{data.username}' is taken", status=409)
        row = await db.fetchrow(
            f"""INSERT INTO users (id, username, password_hash, organisation_id, role, created_at, full_name)
                VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {_USER_COLUMNS}""",
            uuid4(),
            data.username,
            password_hash,
            data.organisation_id,
            data.role,
            await clock.now(),
            data.full_name.strip() if data.full_name else None,
        )
        result = UserRead.model_validate(dict(row))
        # The password hash never enters the audit log.
        await audit.record(actor, "user.created", "user", row["id"], after=result.model_dump())
    return result


async def get_user(user_id: UUID) -> UserRead:
    row = await db.fetchrow(f"SELECT {_USER_COLUMNS} FROM users WHERE id = $1", user_id)
    if row is None:
        raise NotFound("user", user_id)
    return UserRead.model_validate(dict(row))


async def list_users(organisation_id: UUID | None, limit: int | None, cursor: str | None) -> Page[UserRead]:
    limit = check_limit(limit)
    (after_username,) = typed_cursor(cursor, str)
    rows = await db.fetch(
        f"""SELECT {_USER_COLUMNS} FROM users
            WHERE ($1::uuid IS NULL OR organisation_id = $1)
              AND ($2::text IS NULL OR username > $2)
            ORDER BY username LIMIT $3""",
        organisation_id,
        after_username,
        limit + 1,
    )
    return page(rows, limit, lambda r: (r["username"],), lambda r: UserRead.model_validate(dict(r)))


async def set_user_active(actor: Actor, user_id: UUID, active: bool) -> UserRead:
    async with db.transaction():
        before = await get_user(user_id)
        if before.id == actor.user_id and not active:
            raise RuleViolation("cannot_disable_self", "an admin cannot disable their own account", status=409)
        # Disabling revokes every token: enabling the account again does not revive them.
        row = await db.fetchrow(
            f"""UPDATE users SET active = $2, version = version + 1,
                       token_version = token_version + CASE WHEN $2 THEN 0 ELSE 1 END
                WHERE id = $1 RETURNING {_USER_COLUMNS}""",
            user_id,
            active,
        )
        after = UserRead.model_validate(dict(row))
        await audit.record(
            actor, "user.enabled" if active else "user.disabled", "user", user_id,
            before=before.model_dump(), after=after.model_dump(),
        )
    return after


async def ensure_admin() -> None:
    """Create the first admin from GOVBUY_ADMIN_USERNAME / GOVBUY_ADMIN_PASSWORD if none exists."""
    settings = get_settings()
    if not settings.admin_username or not settings.admin_password:
        return
    async with db.transaction():
        await db.execute("SELECT pg_advisory_xact_lock(42001)")  # one worker creates it
        if await db.fetchval("SELECT 1 FROM users WHERE role = 'admin' LIMIT 1"):
            return
        org_id = await db.fetchval("SELECT id FROM organisations WHERE kind = 'platform' ORDER BY created_at LIMIT 1")
        if org_id is None:
            org = await create_organisation(
                None, OrganisationCreate(name="govbuy 平台运营方", kind="platform")  # type: ignore[arg-type]
            )
            org_id = org.id
        await create_user(
            None,
            UserCreate(username=settings.admin_username, password=settings.admin_password, organisation_id=org_id, role="admin"),
        )
    log.info("created the first admin %r", settings.admin_username)


# --- calendar and clock ------------------------------------------------------------------


async def get_calendar_year(year: int) -> CalendarYearRead:
    row = await db.fetchrow("SELECT * FROM calendar_years WHERE year = $1", year)
    if row is None:
        raise NotFound("calendar year", year)
    return CalendarYearRead.model_validate(dict(row))


def _check_calendar_year(year: int, data: CalendarYearWrite) -> None:
    errors: list[dict[str, Any]] = []
    for field, days in (("holidays", data.holidays), ("workdays", data.workdays)):
        errors += [{"field": field, "message": f"{d} is not in {year}"} for d in days if d.year != year]
        if len(set(days)) != len(days):
            errors.append({"field": field, "message": "a date is listed twice"})
    errors += [
        {"field": "workdays", "message": f"{d} is both a holiday and a make-up working day"}
        for d in set(data.holidays) & set(data.workdays)
    ]
    errors += [
        {"field": "workdays", "message": f"{d} is a weekday: make-up working days fall on weekends"}
        for d in data.workdays
        if d.weekday() < 5
    ]
    if not 2000 <= year <= 2100:
        errors.append({"field": "year", "message": "year out of range"})
    if errors:
        raise RuleViolation("invalid_calendar", "the holiday schedule is not consistent", errors=errors)


#: What recording a year's schedule calls, in its transaction, for each domain that stores
#: periods counted with the calendar: (actor, year, the calendar with the year recorded, now)
#: → the periods it moved. The app factory wires the domains' functions in.
PeriodRecompute = Callable[[Actor, int, WorkCalendar, datetime], Awaitable[list[PeriodChange]]]


def _check_schedule_complete(year: int, data: CalendarYearWrite) -> None:
    missing = missing_statutory_holidays(year, frozenset(data.holidays), frozenset(data.workdays))
    if not missing:
        return
    errors = [
        {
            "field": "workdays" if h.day in data.workdays else "holidays",
            "message": f"{h.day} ({h.name}) is a statutory holiday ({h.source}) "
            + ("and cannot be a make-up working day" if h.day in data.workdays else "and is missing"),
        }
        for h in missing
    ]
    listed = ", ".join(f"{h.day} {h.name}" for h in missing)
    raise RuleViolation(
        "calendar_schedule_incomplete",
        f"the {year} schedule leaves out statutory holidays of 《全国年节及纪念日放假办法》: {listed}",
        errors=errors,
    )


async def put_calendar_year(
    actor: Actor, year: int, data: CalendarYearWrite, recomputers: Sequence[PeriodRecompute] = ()
) -> CalendarYearRecorded:
    """Record a year's schedule and recompute every open period that counted that year by the
    fallback, in one transaction, audited with who recorded it and why."""
    _check_calendar_year(year, data)
    _check_schedule_complete(year, data)
    async with db.transaction():
        current = await clock.lock_calendar()
        before = await db.fetchrow("SELECT * FROM calendar_years WHERE year = $1 FOR UPDATE", year)
        now = await clock.now()
        row = await db.fetchrow(
            """INSERT INTO calendar_years (year, holidays, workdays, source, updated_at)
               VALUES ($1, $2, $3, $4, $5)
               ON CONFLICT (year) DO UPDATE SET holidays = $2, workdays = $3, source = $4, updated_at = $5
               RETURNING *""",
            year,
            sorted(data.holidays),
            sorted(data.workdays),
            data.source,
            now,
        )
        calendar = current.with_year(year, frozenset(data.holidays), frozenset(data.workdays))
        changes: list[PeriodChange] = []
        for recompute in recomputers:
            changes += await recompute(actor, year, calendar, now)
        result = CalendarYearRecorded.model_validate({**dict(row), "recomputed": changes})
        await audit.record(
            actor, "calendar.recorded", "calendar_year", year,
            before=dict(before) if before else None,
            after={**result.model_dump(), "reason": data.reason},
        )
    clock.forget_calendar()
    return result


async def clock_read() -> ClockRead:
    now = (await clock.now()).astimezone(SHANGHAI)
    return ClockRead(now=now, today=local_date(now), sandbox=get_settings().sandbox)


def statutory_holidays_of(year: int) -> list[StatutoryHolidayRead]:
    if not 2000 <= year <= 2100:
        raise NotFound("statutory holidays of year", year)
    return [StatutoryHolidayRead(day=h.day, name=h.name, source=h.source) for h in statutory_holidays(year)]


async def advance_clock(actor: Actor, seconds: int) -> Any:
    if not get_settings().sandbox:
        raise Forbidden("the clock can only be moved in sandbox mode", code="sandbox_only")
    async with db.transaction():
        before = await clock.now()
        after = await clock.advance(seconds)
        await audit.record(actor, "clock.advanced", "sandbox_clock", 1, before={"now": before}, after={"now": after})
    return after


async def working_day(day: date) -> dict[str, Any]:
    calendar = await clock.work_calendar()
    names = [h.name for h in statutory_holidays(day.year) if h.day == day] if 2000 <= day.year <= 2100 else []
    return {
        "date": day,
        "working_day": calendar.is_working_day(day),
        "schedule_known": day.year in calendar.known_years,
        "statutory_holiday": "、".join(names) or None,
    }


# --- audit log -------------------------------------------------------------------------


async def list_audit_events(
    entity_type: str | None,
    entity_id: str | None,
    actor_user_id: UUID | None,
    limit: int | None,
    cursor: str | None,
) -> Page[AuditEventRead]:
    limit = check_limit(limit)
    (after_seq,) = typed_cursor(cursor, int)
    rows = await db.fetch(
        """SELECT * FROM audit_events
           WHERE ($1::text IS NULL OR entity_type = $1)
             AND ($2::text IS NULL OR entity_id = $2)
             AND ($3::uuid IS NULL OR actor_user_id = $3)
             AND ($4::bigint IS NULL OR seq < $4)
           ORDER BY seq DESC LIMIT $5""",
        entity_type,
        entity_id,
        actor_user_id,
        after_seq,
        limit + 1,
    )
    return page(rows, limit, lambda r: (r["seq"],), lambda r: AuditEventRead.model_validate(dict(r)))


# --- the inbox -------------------------------------------------------------------------------

_NOTIFICATION_COLUMNS = "id, event, entity_type, entity_id, message, details, created_at, read_at"


async def list_notifications(actor: Actor, unread: bool | None, limit: int | None, cursor: str | None) -> Page[NotificationRead]:
    """The caller's organisation's notifications: unread first, then newest, keyset-paginated."""
    limit = check_limit(limit)
    after_read, after_at, after_id = typed_cursor(cursor, int, datetime, UUID)
    where = db.Conditions()
    where.add("organisation_id = {}::uuid", actor.organisation_id)
    if unread is not None:
        where.add("(read_at IS NULL) = {}::boolean", unread)
    if after_at is not None:
        where.add(
            "((read_at IS NOT NULL)::int > {}::int OR ((read_at IS NOT NULL)::int = {}::int AND (created_at, id) < ({}::timestamptz, {}::uuid)))",
            after_read, after_read, after_at, after_id,
        )
    rows = await db.fetch(
        f"""SELECT {_NOTIFICATION_COLUMNS} FROM notifications WHERE {where}
            ORDER BY (read_at IS NOT NULL), created_at DESC, id DESC LIMIT {where.param(limit + 1)}""",
        *where.args,
    )
    return page(
        rows, limit, lambda r: (int(r["read_at"] is not None), r["created_at"], r["id"]),
        lambda r: NotificationRead.model_validate(dict(r)),
    )


async def mark_notification_read(actor: Actor, notification_id: UUID) -> NotificationRead:
    """Mark one of the organisation's notifications read (again: no change)."""
    row = await db.fetchrow(
        f"""UPDATE notifications SET read_at = coalesce(read_at, $3) WHERE id = $1 AND organisation_id = $2
            RETURNING {_NOTIFICATION_COLUMNS}""",
        notification_id, actor.organisation_id, await clock.now(),
    )
    if row is None:
        raise NotFound("notification", notification_id)
    return NotificationRead.model_validate(dict(row))
