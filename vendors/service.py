"""Vendors: assessment grades, credit-list entries, eligibility to bid and the stored credit
rating (recomputed when an input changes, and for everyone by `govbuy recompute-ratings`)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date, datetime, time
from typing import Any
from uuid import UUID, uuid4

from govbuy import audit, clock
from govbuy import database as db
from govbuy.audit import Actor
from govbuy.errors import NotFound, check_if_match
from govbuy.pagination import Page, check_limit, decode_cursor, page
from govbuy.rules import SHANGHAI, end_of_day
from vendors import rules
from vendors.schemas import (
    AssessmentGradeCreate,
    AssessmentGradeRead,
    CreditListEntryCreate,
    CreditListEntryRead,
    CreditListEntryRemove,
    CreditRatingRead,
    CreditRatingSummary,
    CurrentGradeRead,
    EligibilityReasonRead,
    VendorRead,
    VendorSummary,
)

# --- reads ---------------------------------------------------------------------------------


async def _vendor_row(vendor_id: UUID) -> Any:
    row = await db.fetchrow(
        "SELECT id, name, uscc, region_code FROM organisations WHERE id = $1 AND kind = 'vendor'", vendor_id
    )
    if row is None:
        raise NotFound("vendor", vendor_id)
    return row


def _entry_read(row: Any, today: date) -> CreditListEntryRead:
    entry = rules.CreditListEntry(row["list"], row["listed_on"], row["removed_on"], row["reason"])
    return CreditListEntryRead(
        id=row["id"],
        vendor_id=row["vendor_id"],
        list=row["list"],
        list_label=entry.label,
        reason=row["reason"],
        listed_on=row["listed_on"],
        removed_on=row["removed_on"],
        removal_reason=row["removal_reason"],
        active=entry.is_active(today),
        version=row["version"],
    )


async def _grade_records(vendor_id: UUID) -> list[rules.AssessmentGradeRecord]:
    rows = await db.fetch("SELECT grade, awarded_on FROM assessment_grades WHERE vendor_id = $1", vendor_id)
    return [rules.AssessmentGradeRecord(r["grade"], r["awarded_on"]) for r in rows]


async def _entries(vendor_id: UUID) -> list[Any]:
    return await db.fetch(
        "SELECT * FROM credit_list_entries WHERE vendor_id = $1 ORDER BY listed_on DESC, id", vendor_id
    )


async def _latest_rating(vendor_id: UUID) -> Any:
    return await db.fetchrow(
        "SELECT * FROM credit_ratings WHERE vendor_id = $1 ORDER BY id DESC LIMIT 1", vendor_id
    )


async def current_credit_grade(vendor_id: UUID) -> str | None:
    """The grade of the vendor's current rating (None while provisional or never rated)."""
    return await db.fetchval(
        "SELECT grade FROM credit_ratings WHERE vendor_id = $1 ORDER BY id DESC LIMIT 1", vendor_id
    )


async def check_eligibility(
    vendor_id: UUID, *, min_assessment_grade: int | None, min_credit_grade: str | None, today: date
) -> rules.EligibilityResult:
    """Whether the vendor may bid today under a tender's requirements, with every reason not."""
    await _vendor_row(vendor_id)
    entries = [rules.CreditListEntry(r["list"], r["listed_on"], r["removed_on"], r["reason"]) for r in await _entries(vendor_id)]
    return rules.check_eligibility(
        active_list_entries=rules.active_entries(entries, today),
        current_grade=rules.current_assessment_grade(await _grade_records(vendor_id), today),
        credit_grade=await current_credit_grade(vendor_id),
        min_assessment_grade=min_assessment_grade,
        min_credit_grade=min_credit_grade,
    )


async def get_vendor(vendor_id: UUID) -> VendorRead:
    row = await _vendor_row(vendor_id)
    today = await clock.today()
    current = rules.current_assessment_grade(await _grade_records(vendor_id), today)
    entries = [_entry_read(r, today) for r in await _entries(vendor_id)]
    eligibility = await check_eligibility(vendor_id, min_assessment_grade=None, min_credit_grade=None, today=today)
    rating = await _latest_rating(vendor_id)
    vendor_type = rules.vendor_type(row["uscc"]) if row["uscc"] else "other"
    return VendorRead(
        id=row["id"],
        name=row["name"],
        uscc=row["uscc"],
        vendor_type=vendor_type,
        vendor_type_label=rules.VENDOR_TYPE_LABELS[vendor_type],
        region_code=row["region_code"],
        assessment_grade=CurrentGradeRead(
            grade=current.label, awarded_on=current.awarded_on, expires_on=current.expires_on, expired=current.expired
        )
        if current
        else None,
        active_credit_list_entries=[e for e in entries if e.active],
        may_bid_today=eligibility.eligible,
        bid_blockers=[EligibilityReasonRead(code=r.code, detail=r.detail) for r in eligibility.reasons],
        credit_rating=CreditRatingSummary.model_validate(dict(rating)) if rating else None,
    )


async def list_vendors(limit: int | None, cursor: str | None) -> Page[VendorSummary]:
    """Vendors by name with their credit grade and list status, in one query."""
    limit = check_limit(limit)
    after = decode_cursor(cursor)
    today = await clock.today()
    rows = await db.fetch(
        """SELECT o.id, o.name, o.uscc, o.region_code,
                  (SELECT r.grade FROM credit_ratings r WHERE r.vendor_id = o.id ORDER BY r.id DESC LIMIT 1)
                      AS credit_grade,
                  (SELECT count(*) FROM credit_list_entries e WHERE e.vendor_id = o.id AND e.listed_on <= $4
                      AND (e.removed_on IS NULL OR e.removed_on > $4)) AS active_list_entries
           FROM organisations o WHERE o.kind = 'vendor'
             AND ($1::text IS NULL OR (o.name, o.id) > ($1, $2::uuid))
           ORDER BY o.name, o.id LIMIT $3""",
        after[0] if after else None,
        after[1] if after else None,
        limit + 1,
        today,
    )

    def item(r: Any) -> VendorSummary:
        vendor_type = rules.vendor_type(r["uscc"]) if r["uscc"] else "other"
        return VendorSummary(
            id=r["id"], name=r["name"], uscc=r["uscc"], vendor_type=vendor_type, region_code=r["region_code"],
            credit_grade=r["credit_grade"], listed=r["active_list_entries"] > 0,
        )

    return page(rows, limit, lambda r: (r["name"], r["id"]), item)


# --- assessment grades ----------------------------------------------------------------------


def _grade_read(row: Any) -> AssessmentGradeRead:
    return AssessmentGradeRead(
        id=row["id"],
        vendor_id=row["vendor_id"],
        grade=rules.ASSESSMENT_GRADES[row["grade"]],
        awarded_on=row["awarded_on"],
        expires_on=rules.assessment_grade_expires_on(row["awarded_on"]),
        note=row["note"],
        recorded_at=row["recorded_at"],
    )


async def record_assessment_grade(actor: Actor, vendor_id: UUID, data: AssessmentGradeCreate) -> AssessmentGradeRead:
    grade = rules.parse_assessment_grade(data.grade)
    async with db.transaction():
        await _vendor_row(vendor_id)
        row = await db.fetchrow(
            """INSERT INTO assessment_grades (id, vendor_id, grade, awarded_on, note, recorded_by, recorded_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *""",
            uuid4(), vendor_id, grade, data.awarded_on, data.note, actor.user_id, await clock.now(),
        )
        result = _grade_read(row)
        await audit.record(actor, "assessment_grade.recorded", "vendor", vendor_id, after=result.model_dump())
        await recompute_rating(actor, vendor_id)
    return result


async def list_assessment_grades(vendor_id: UUID, limit: int | None, cursor: str | None) -> Page[AssessmentGradeRead]:
    await _vendor_row(vendor_id)
    limit = check_limit(limit)
    after = decode_cursor(cursor)
    rows = await db.fetch(
        """SELECT * FROM assessment_grades WHERE vendor_id = $1
             AND ($2::date IS NULL OR (awarded_on, id) < ($2, $3::uuid))
           ORDER BY awarded_on DESC, id DESC LIMIT $4""",
        vendor_id,
        date.fromisoformat(after[0]) if after else None,
        after[1] if after else None,
        limit + 1,
    )
    return page(rows, limit, lambda r: (r["awarded_on"], r["id"]), _grade_read)


# --- credit lists ---------------------------------------------------------------------------


async def add_credit_list_entry(actor: Actor, vendor_id: UUID, data: CreditListEntryCreate) -> CreditListEntryRead:
    async with db.transaction():
        await _vendor_row(vendor_id)
        row = await db.fetchrow(
            """INSERT INTO credit_list_entries (id, vendor_id, list, reason, listed_on, recorded_by, recorded_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *""",
            uuid4(), vendor_id, data.list, data.reason, data.listed_on, actor.user_id, await clock.now(),
        )
        result = _entry_read(row, await clock.today())
        await audit.record(actor, "credit_list_entry.listed", "vendor", vendor_id, after=result.model_dump())
        await recompute_rating(actor, vendor_id)
    return result


async def remove_credit_list_entry(
    actor: Actor, vendor_id: UUID, entry_id: UUID, data: CreditListEntryRemove, if_match: str | None
) -> CreditListEntryRead:
    async with db.transaction():
        row = await db.fetchrow(
            "SELECT * FROM credit_list_entries WHERE id = $1 AND vendor_id = $2 FOR UPDATE", entry_id, vendor_id
        )
        if row is None:
            raise NotFound("credit list entry", entry_id)
        check_if_match(if_match, row["version"])
        today = await clock.today()
        before = _entry_read(row, today)
        rules.validate_removal(
            rules.CreditListEntry(row["list"], row["listed_on"], row["removed_on"], row["reason"]), data.removed_on
        )
        updated = await db.fetchrow(
            """UPDATE credit_list_entries SET removed_on = $2, removal_reason = $3, removed_by = $4,
                      removal_recorded_at = $5, version = version + 1
               WHERE id = $1 RETURNING *""",
            entry_id, data.removed_on, data.reason, actor.user_id, await clock.now(),
        )
        result = _entry_read(updated, today)
        await audit.record(
            actor, "credit_list_entry.removed", "vendor", vendor_id, before=before.model_dump(), after=result.model_dump()
        )
        await recompute_rating(actor, vendor_id)
    return result


async def list_credit_list_entries(vendor_id: UUID, limit: int | None, cursor: str | None) -> Page[CreditListEntryRead]:
    await _vendor_row(vendor_id)
    limit = check_limit(limit)
    after = decode_cursor(cursor)
    today = await clock.today()
    rows = await db.fetch(
        """SELECT * FROM credit_list_entries WHERE vendor_id = $1
             AND ($2::date IS NULL OR (listed_on, id) < ($2, $3::uuid))
           ORDER BY listed_on DESC, id DESC LIMIT $4""",
        vendor_id,
        date.fromisoformat(after[0]) if after else None,
        after[1] if after else None,
        limit + 1,
    )
    return page(rows, limit, lambda r: (r["listed_on"], r["id"]), lambda r: _entry_read(r, today))


# --- credit rating --------------------------------------------------------------------------

# Statements that gather every input of a batch of vendors (set-based, never a query per
# vendor): grades, list entries, accepted evaluations of the last three years with their
# milestone's amount, milestones due by today of signed contracts (the on-time ones counted,
# the late ones listed), terminations for cause.
_GRADES_SQL = """SELECT vendor_id, grade, awarded_on FROM assessment_grades WHERE vendor_id = ANY($1)"""
_ENTRIES_SQL = """SELECT vendor_id, list, listed_on, removed_on, reason FROM credit_list_entries
                  WHERE vendor_id = ANY($1)"""
_EVALUATIONS_SQL = """
SELECT e.vendor_id, e.total_score, m.amount, e.grade, (e.accepted_at AT TIME ZONE 'Asia/Shanghai')::date AS accepted_on
FROM evaluations e JOIN milestones m ON m.id = e.milestone_id
WHERE e.vendor_id = ANY($1) AND e.status = 'accepted' AND e.superseded_at IS NULL
  AND e.accepted_at >= $2 AND e.accepted_at < $3"""
_MILESTONES_SQL = """
SELECT c.vendor_id, count(*) FILTER (WHERE d.on_time) AS on_time,
       array_agg(m.due_date) FILTER (WHERE NOT d.on_time) AS late_due,
       array_agg(d.delivered_on) FILTER (WHERE NOT d.on_time) AS late_delivered
FROM milestones m JOIN contracts c ON c.id = m.contract_id
CROSS JOIN LATERAL (
    SELECT (m.delivered_at AT TIME ZONE 'Asia/Shanghai')::date AS delivered_on,
           coalesce((m.delivered_at AT TIME ZONE 'Asia/Shanghai')::date <= m.due_date, false) AS on_time
) d
WHERE c.vendor_id = ANY($1) AND c.status IN ('active', 'completed', 'terminated') AND m.status <> 'cancelled'
  AND m.due_date BETWEEN $2 AND $3
GROUP BY c.vendor_id"""
_TERMINATIONS_SQL = """
SELECT vendor_id, count(*) AS n FROM contracts
WHERE vendor_id = ANY($1) AND status = 'terminated' AND terminated_for_cause AND terminated_at >= $2
GROUP BY vendor_id"""

# Below this many vendors a batch is rated in-process; above it, in worker processes.
_POOL_THRESHOLD = 500
_pool: Any = None


def _rating_pool() -> Any:
    global _pool
    if _pool is None:
        import multiprocessing
        import os
        from concurrent.futures import ProcessPoolExecutor

        _pool = ProcessPoolExecutor(max_workers=os.cpu_count() or 2, mp_context=multiprocessing.get_context("spawn"))
    return _pool


async def _facts(vendor_ids: list[UUID], today: date) -> list[rules.VendorFacts]:
    since = rules.lookback_start(today)
    window = (datetime.combine(since, time(0), tzinfo=SHANGHAI), end_of_day(today))
    grades: dict[UUID, list] = {v: [] for v in vendor_ids}
    entries: dict[UUID, list] = {v: [] for v in vendor_ids}
    evaluations: dict[UUID, list] = {v: [] for v in vendor_ids}
    for r in await db.fetch(_GRADES_SQL, vendor_ids):
        grades[r["vendor_id"]].append((r["grade"], r["awarded_on"]))
    for r in await db.fetch(_ENTRIES_SQL, vendor_ids):
        entries[r["vendor_id"]].append((r["list"], r["listed_on"], r["removed_on"], r["reason"]))
    for r in await db.fetch(_EVALUATIONS_SQL, vendor_ids, *window):
        evaluations[r["vendor_id"]].append((r["total_score"], r["amount"], r["accepted_on"], r["grade"]))
    delivery = {
        r["vendor_id"]: (r["on_time"], tuple(zip(r["late_due"] or (), r["late_delivered"] or (), strict=True)))
        for r in await db.fetch(_MILESTONES_SQL, vendor_ids, since, today)
    }
    terminations = {r["vendor_id"]: r["n"] for r in await db.fetch(_TERMINATIONS_SQL, vendor_ids, window[0])}
    return [
        rules.VendorFacts(
            v, tuple(grades[v]), tuple(entries[v]), tuple(evaluations[v]), *delivery.get(v, (0, ())),
            terminations_for_cause=terminations.get(v, 0),
        )
        for v in vendor_ids
    ]


async def _rate(facts: list[rules.VendorFacts], today: date) -> list[tuple[Any, ...]]:
    if len(facts) < _POOL_THRESHOLD:
        return rules.rate_for_storage(facts, today)
    loop = asyncio.get_running_loop()
    workers = _rating_pool()._max_workers
    size = -(-len(facts) // workers)
    chunks = [facts[i : i + size] for i in range(0, len(facts), size)]
    parts = await asyncio.gather(
        *(loop.run_in_executor(_rating_pool(), rules.rate_for_storage, chunk, today) for chunk in chunks)
    )
    return [row for part in parts for row in part]


async def _store(rated: list[tuple[Any, ...]], today: date) -> int:
    """Store the rated vendors' new ratings, only where an input or the result changed."""
    latest = {
        r["vendor_id"]: (r["fingerprint"], r["score"], r["grade"], r["provisional"], r["eligible"])
        for r in await db.fetch(
            """SELECT DISTINCT ON (vendor_id) vendor_id, fingerprint, score, grade, provisional, eligible
               FROM credit_ratings WHERE vendor_id = ANY($1) ORDER BY vendor_id, id DESC""",
            [row[0] for row in rated],
        )
    }
    now = await clock.now()
    new_rows = [
        (vendor_id, today, score, grade, provisional, eligible, version, fingerprint, inputs, result, now)
        for vendor_id, score, grade, provisional, eligible, version, fingerprint, inputs, result in rated
        if latest.get(vendor_id) != (fingerprint, score, grade, provisional, eligible)
    ]
    if new_rows:
        async with db.connection() as conn:
            await conn.copy_records_to_table(
                "credit_ratings",
                records=new_rows,
                columns=["vendor_id", "rated_on", "score", "grade", "provisional", "eligible", "rules_version",
                         "fingerprint", "inputs", "result", "created_at"],
            )
    return len(new_rows)


async def _store_ratings(vendor_ids: list[UUID], today: date) -> int:
    """Rate the vendors; store a new rating only where an input or the result changed."""
    return await _store(await _rate(await _facts(vendor_ids, today), today), today)


async def recompute_rating(actor: Actor | None, vendor_id: UUID) -> bool:
    """Recompute one vendor's rating inside the caller's transaction; True if it changed."""
    async with db.transaction():
        changed = await _store_ratings([vendor_id], await clock.today()) > 0
        if changed:
            latest = await _latest_rating(vendor_id)
            await audit.record(
                actor, "credit_rating.computed", "vendor", vendor_id,
                after={"score": latest["score"], "grade": latest["grade"], "rules_version": latest["rules_version"]},
            )
    return changed


async def recompute_all(batch: int = 5000, progress: Callable[[int, int], None] | None = None) -> int:
    """Recompute every vendor's rating in batches; returns how many ratings changed and were
    stored. Each batch's facts are read set-based, rated in parallel worker processes and
    stored with COPY; the three steps overlap (while the workers rate one batch, the next
    one's facts are read and the previous one is stored), each batch stored in its own
    transaction."""
    today = await clock.today()
    ids = [r["id"] for r in await db.fetch("SELECT id FROM organisations WHERE kind = 'vendor' ORDER BY id")]
    chunks = [ids[start : start + batch] for start in range(0, len(ids), batch)]
    stored = done = 0

    async def store(rated: list[tuple[Any, ...]]) -> None:
        nonlocal stored, done
        async with db.transaction():
            stored += await _store(rated, today)
        done += len(rated)
        if progress:
            progress(done, len(ids))

    storing: asyncio.Future[None] | None = None
    reading = asyncio.ensure_future(_facts(chunks[0], today)) if chunks else None
    try:
        for n in range(len(chunks)):
            facts = await reading
            reading = asyncio.ensure_future(_facts(chunks[n + 1], today)) if n + 1 < len(chunks) else None
            rated = await _rate(facts, today)
            if storing:
                await storing
            storing = asyncio.ensure_future(store(rated))
        if storing:
            await storing
    finally:
        for pending in (reading, storing):
            if pending and not pending.done():
                pending.cancel()
    return stored


def _rating_read(row: Any) -> CreditRatingRead:
    result = row["result"]
    return CreditRatingRead(
        vendor_id=row["vendor_id"],
        rated_on=row["rated_on"],
        score=row["score"],
        grade=row["grade"],
        provisional=row["provisional"],
        eligible=row["eligible"],
        rules_version=row["rules_version"],
        components=result["components"],
        blocking_entries=result["blocking_entries"],
        inputs=row["inputs"],
        created_at=row["created_at"],
    )


async def get_rating(vendor_id: UUID) -> CreditRatingRead:
    await _vendor_row(vendor_id)
    row = await _latest_rating(vendor_id)
    if row is None:
        async with db.transaction():
            await _store_ratings([vendor_id], await clock.today())
        row = await _latest_rating(vendor_id)
    return _rating_read(row)


async def rating_history(vendor_id: UUID, limit: int | None, cursor: str | None) -> Page[CreditRatingRead]:
    await _vendor_row(vendor_id)
    limit = check_limit(limit)
    after = decode_cursor(cursor)
    rows = await db.fetch(
        """SELECT * FROM credit_ratings WHERE vendor_id = $1 AND ($2::bigint IS NULL OR id < $2)
           ORDER BY id DESC LIMIT $3""",
        vendor_id,
        after[0] if after else None,
        limit + 1,
    )
    return page(rows, limit, lambda r: (r["id"],), _rating_read)
