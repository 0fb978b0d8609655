"""Vendors: assessment grades, credit-list entries, eligibility to bid and the stored credit
rating (recomputed when an input changes, and for everyone by `govbuy recompute-ratings`)."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Sequence
from datetime import date, datetime, time
from typing import Any
from uuid import UUID, uuid4

import msgspec

from govbuy import audit, clock
from govbuy import database as db
from govbuy.audit import Actor
from govbuy.errors import NotFound, check_if_match
from govbuy.pagination import Page, check_limit, page, typed_cursor
from govbuy.rules import SHANGHAI, end_of_day
from vendors import rules
from vendors.rating import VendorFacts, lookback_start, rate_for_storage
from vendors.schemas import (
    LegalExclusionLift,
    LegalExclusionRead,
    LegalExclusionWrite,
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


async def assessment_grade_on(vendor_id: UUID, today: date) -> int | None:
    """The vendor's assessment grade in force that day (3 for 3A), None if none or expired."""
    current = rules.current_assessment_grade(await _grade_records(vendor_id), today)
    return current.grade if current is not None and not current.expired else None


async def current_credit_grade(vendor_id: UUID) -> str | None:
    """The grade of the vendor's current rating (None while provisional or never rated)."""
    return await db.fetchval(
        "SELECT grade FROM credit_ratings WHERE vendor_id = $1 ORDER BY id DESC LIMIT 1", vendor_id
    )


def vendor_type(uscc: str | None) -> str:
    """What an organisation is, by its USCC (enterprise, social_group, …; other without one)."""
    return rules.vendor_type(uscc) if uscc else "other"


async def _exclusion(vendor_id: UUID) -> Any:
    return await db.fetchrow("SELECT * FROM legal_exclusions WHERE vendor_id = $1", vendor_id)


async def check_eligibility(vendor_id: UUID, *, min_credit_grade: str | None, today: date) -> rules.EligibilityResult:
    """Whether the vendor may bid today under a tender's requirements, with every reason not."""
    await _vendor_row(vendor_id)
    entries = [rules.CreditListEntry(r["list"], r["listed_on"], r["removed_on"], r["reason"]) for r in await _entries(vendor_id)]
    exclusion = await _exclusion(vendor_id)
    return rules.check_eligibility(
        active_list_entries=rules.active_entries(entries, today),
        credit_grade=await current_credit_grade(vendor_id),
        min_credit_grade=min_credit_grade,
        exclusion=rules.LegalExclusion(exclusion["category"], exclusion["source"]) if exclusion else None,
    )


def _exclusion_read(row: Any) -> LegalExclusionRead:
    return LegalExclusionRead(
        category=row["category"],
        category_label=rules.LEGAL_EXCLUSIONS[row["category"]],
        source=row["source"],
        recorded_at=row["recorded_at"],
    )


async def record_legal_exclusion(actor: Actor, vendor_id: UUID, data: LegalExclusionWrite) -> LegalExclusionRead:
    """Record (or correct) that the organisation is excluded by 102号令 Art. 8: from now on it
    may not bid, and its open bids are found ineligible at their opening."""
    rules.check_exclusion_category(data.category)
    async with db.transaction():
        await _vendor_row(vendor_id)
        before = await db.fetchrow("SELECT * FROM legal_exclusions WHERE vendor_id = $1 FOR UPDATE", vendor_id)
        row = await db.fetchrow(
            """INSERT INTO legal_exclusions (vendor_id, category, source, recorded_by, recorded_at)
               VALUES ($1, $2, $3, $4, $5)
               ON CONFLICT (vendor_id) DO UPDATE SET category = EXCLUDED.category, source = EXCLUDED.source,
                   recorded_by = EXCLUDED.recorded_by, recorded_at = EXCLUDED.recorded_at,
                   version = legal_exclusions.version + 1
               RETURNING *""",
            vendor_id, data.category, data.source.strip(), actor.user_id, await clock.now(),
        )
        result = _exclusion_read(row)
        await audit.record(
            actor, "vendor.legal_exclusion_recorded", "vendor", vendor_id,
            before=_exclusion_read(before).model_dump() if before else None, after=result.model_dump(),
        )
    return result


async def lift_legal_exclusion(actor: Actor, vendor_id: UUID, data: LegalExclusionLift) -> None:
    """Lift a recorded exclusion (the organisation was reclassified, or recorded in error)."""
    async with db.transaction():
        row = await db.fetchrow("DELETE FROM legal_exclusions WHERE vendor_id = $1 RETURNING *", vendor_id)
        if row is None:
            raise NotFound("legal exclusion of vendor", vendor_id)
        await audit.record(
            actor, "vendor.legal_exclusion_lifted", "vendor", vendor_id,
            before=_exclusion_read(row).model_dump(), after={"reason": data.reason},
        )


async def get_vendor(vendor_id: UUID) -> VendorRead:
    row = await _vendor_row(vendor_id)
    today = await clock.today()
    current = rules.current_assessment_grade(await _grade_records(vendor_id), today)
    entries = [_entry_read(r, today) for r in await _entries(vendor_id)]
    eligibility = await check_eligibility(vendor_id, min_credit_grade=None, today=today)
    exclusion = await _exclusion(vendor_id)
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
        legal_exclusion=_exclusion_read(exclusion) if exclusion else None,
        may_bid_today=eligibility.eligible,
        bid_blockers=[EligibilityReasonRead(code=r.code, detail=r.detail) for r in eligibility.reasons],
        credit_rating=CreditRatingSummary.model_validate(dict(rating)) if rating else None,
    )


async def list_vendors(limit: int | None, cursor: str | None) -> Page[VendorSummary]:
    """Vendors by name with their credit grade and list status, in one query."""
    limit = check_limit(limit)
    after_name, after_id = typed_cursor(cursor, str, UUID)
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
        after_name,
        after_id,
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
    limit = check_limit(limit)
    after_on, after_id = typed_cursor(cursor, date, UUID)
    await _vendor_row(vendor_id)
    rows = await db.fetch(
        """SELECT * FROM assessment_grades WHERE vendor_id = $1
             AND ($2::date IS NULL OR (awarded_on, id) < ($2, $3::uuid))
           ORDER BY awarded_on DESC, id DESC LIMIT $4""",
        vendor_id,
        after_on,
        after_id,
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
    limit = check_limit(limit)
    after_on, after_id = typed_cursor(cursor, date, UUID)
    await _vendor_row(vendor_id)
    today = await clock.today()
    rows = await db.fetch(
        """SELECT * FROM credit_list_entries WHERE vendor_id = $1
             AND ($2::date IS NULL OR (listed_on, id) < ($2, $3::uuid))
           ORDER BY listed_on DESC, id DESC LIMIT $4""",
        vendor_id,
        after_on,
        after_id,
        limit + 1,
    )
    return page(rows, limit, lambda r: (r["listed_on"], r["id"]), lambda r: _entry_read(r, today))


# --- credit rating --------------------------------------------------------------------------

# One statement gathers every input of the vendors rated, one row per vendor with its facts
# as one JSON text (set-based: a few scans whatever the number of vendors, never a query per
# vendor; and a text is the cheapest value to decode, and to hand to a worker process):
# grades, list entries, accepted evaluations of the last three years with their milestone's
# amount, milestones due in those years by today of signed contracts (the on-time ones
# counted, the late ones listed), terminations for cause. Numbers travel as strings, so no
# digit is lost. `{scope}` restricts each part to some vendors ($5) or, empty, leaves it to
# all of them. The evaluations, milestones and contracts are joined through the subqueries
# their own services name (`{evaluations}`, `{milestones}`, `{contracts}`).
_FACTS_SQL = """
SELECT v.id::text AS vendor_id,
       json_build_array(g.grades, l.entries, ev.evaluations, coalesce(d.on_time, 0), d.late, coalesce(t.n, 0))::text
       AS facts
FROM {vendors}
LEFT JOIN (SELECT x.vendor_id, json_agg(json_build_array(x.grade, x.awarded_on)) AS grades
           FROM assessment_grades x WHERE true {scope} GROUP BY x.vendor_id) g ON g.vendor_id = v.id
LEFT JOIN (SELECT x.vendor_id, json_agg(json_build_array(x.list, x.listed_on, x.removed_on, x.reason)) AS entries
           FROM credit_list_entries x WHERE true {scope} GROUP BY x.vendor_id) l ON l.vendor_id = v.id
LEFT JOIN (SELECT x.vendor_id,
                  json_agg(json_build_array(x.total_score::text, m.amount::text,
                                            (x.accepted_at AT TIME ZONE 'Asia/Shanghai')::date, x.grade)) AS evaluations
           FROM {evaluations} x JOIN {milestones} m ON m.id = x.milestone_id
           WHERE x.status = 'accepted' AND x.superseded_at IS NULL AND x.accepted_at >= $1 AND x.accepted_at < $2 {scope}
           GROUP BY x.vendor_id) ev ON ev.vendor_id = v.id
LEFT JOIN (SELECT x.vendor_id, count(*) FILTER (WHERE o.on_time) AS on_time,
                  json_agg(json_build_array(m.due_date, o.delivered_on)) FILTER (WHERE NOT o.on_time) AS late
           FROM {milestones} m JOIN {contracts} x ON x.id = m.contract_id
           CROSS JOIN LATERAL (
               SELECT (m.delivered_at AT TIME ZONE 'Asia/Shanghai')::date AS delivered_on,
                      coalesce((m.delivered_at AT TIME ZONE 'Asia/Shanghai')::date <= m.due_date, false) AS on_time
           ) o
           WHERE x.status IN ('active', 'completed', 'terminated') AND m.status <> 'cancelled'
             AND m.due_date BETWEEN $3 AND $4 {scope}
           GROUP BY x.vendor_id) d ON d.vendor_id = v.id
LEFT JOIN (SELECT x.vendor_id, count(*) AS n FROM {contracts} x
           WHERE x.status = 'terminated' AND x.terminated_for_cause AND x.terminated_at >= $1 {scope}
           GROUP BY x.vendor_id) t ON t.vendor_id = v.id
ORDER BY v.id"""


@functools.cache
def _facts_sql(batch: bool) -> str:
    """`_FACTS_SQL` for a batch of vendors ($5) or, not `batch`, for every vendor.

    Contracts and evaluation sit above vendors in the import order (their services call the
    recompute), so theirs are imported here, when the first rating is computed."""
    from contracts import service as contracts
    from evaluation import service as evaluation

    return _FACTS_SQL.format(
        vendors="unnest($5::uuid[]) AS v(id)" if batch else "(SELECT id FROM organisations WHERE kind = 'vendor') AS v",
        scope="AND x.vendor_id = ANY($5)" if batch else "",
        evaluations=evaluation.evaluations_sql(),
        milestones=contracts.milestones_sql(),
        contracts=contracts.contracts_sql(),
    )


def _facts_args(today: date) -> tuple[Any, ...]:
    since = lookback_start(today)
    return datetime.combine(since, time(0), tzinfo=SHANGHAI), end_of_day(today), since, today


def _vendor_facts(row: Sequence[str]) -> VendorFacts:
    """A row of `_FACTS_SQL` (vendor id, facts JSON) as the rating's facts."""
    vendor_id, facts = row
    grades, entries, evaluations, on_time, late, terminations = msgspec.json.decode(facts)
    day = date.fromisoformat
    return VendorFacts(
        vendor_id,
        grades=tuple((grade, day(on)) for grade, on in grades or ()),
        entries=tuple(
            (kind, day(listed), day(removed) if removed else None, reason) for kind, listed, removed, reason in entries or ()
        ),
        evaluations=tuple((score, amount, day(on), grade) for score, amount, on, grade in evaluations or ()),
        on_time_milestones=on_time,
        late_milestones=tuple((day(due), day(delivered) if delivered else None) for due, delivered in late or ()),
        terminations_for_cause=terminations,
    )


def _rate_rows(rows: list[tuple[str, str]], today: date) -> list[tuple[Any, ...]]:
    """Rate rows of `_FACTS_SQL` for storage (what the worker processes run)."""
    return rate_for_storage([_vendor_facts(row) for row in rows], today)


# Below this many vendors a batch is rated in-process; above it, in worker processes.
_POOL_THRESHOLD = 500
_RECOMPUTE_WORK_MEM = "128MB"
_pool: Any = None


def _rating_pool() -> Any:
    global _pool
    if _pool is None:
        import multiprocessing
        import os
        from concurrent.futures import ProcessPoolExecutor

        _pool = ProcessPoolExecutor(max_workers=os.cpu_count() or 2, mp_context=multiprocessing.get_context("spawn"))
    return _pool


async def _facts(vendor_ids: list[UUID], today: date) -> list[tuple[str, str]]:
    return [tuple(r) for r in await db.fetch(_facts_sql(True), *_facts_args(today), vendor_ids)]


async def _rate(facts: list[tuple[str, str]], today: date) -> list[tuple[Any, ...]]:
    if len(facts) < _POOL_THRESHOLD:
        return _rate_rows(facts, today)
    loop = asyncio.get_running_loop()
    workers = _rating_pool()._max_workers
    size = -(-len(facts) // workers)
    chunks = [facts[i : i + size] for i in range(0, len(facts), size)]
    parts = await asyncio.gather(
        *(loop.run_in_executor(_rating_pool(), _rate_rows, chunk, today) for chunk in chunks)
    )
    return [row for part in parts for row in part]


async def _store(rated: list[tuple[Any, ...]], today: date, facts_as_of: int | None = None) -> int:
    """Store the rated vendors' new ratings, only where an input or the result changed.

    `facts_as_of`: the newest rating id the facts' snapshot could see. A vendor rated since
    (an input changed and its own recompute read fresher facts) keeps that rating."""
    latest = {
        r["vendor_id"]: r
        for r in await db.fetch(
            """SELECT DISTINCT ON (vendor_id) vendor_id::text, id, fingerprint, score, grade, provisional, eligible
               FROM credit_ratings WHERE vendor_id = ANY($1) ORDER BY vendor_id, id DESC""",
            [row[0] for row in rated],
        )
    }

    def changed(vendor_id: str, *outcome: Any) -> bool:
        last = latest.get(vendor_id)
        if last is None:
            return True
        if facts_as_of is not None and last["id"] > facts_as_of:
            return False
        return tuple(last[k] for k in ("fingerprint", "score", "grade", "provisional", "eligible")) != outcome

    now = await clock.now()
    new_rows = [
        (vendor_id, today, score, grade, provisional, eligible, version, fingerprint, inputs, result, now)
        for vendor_id, score, grade, provisional, eligible, version, fingerprint, inputs, result in rated
        if changed(vendor_id, fingerprint, score, grade, provisional, eligible)
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
    """Recompute every vendor's rating; returns how many ratings changed and were stored.

    One statement reads every vendor's facts from one snapshot, streamed by a cursor in
    batches; each batch is rated in parallel worker processes and stored with COPY in its
    own transaction. The steps overlap: while the workers rate a batch, the cursor fetches
    the next one and the previous one is stored. A vendor whose input changes meanwhile is
    rated by its own recompute, from the newer facts; the snapshot's rating does not
    overwrite it."""
    today = await clock.today()
    total = await db.fetchval("SELECT count(*) FROM organisations WHERE kind = 'vendor'")
    stored = done = 0
    if progress:  # the statement takes a while before the first batch: show the total meanwhile
        progress(0, total)

    async def store(rated: list[tuple[Any, ...]]) -> None:
        nonlocal stored, done
        async with db.transaction():
            stored += await _store(rated, today, facts_as_of)
        done += len(rated)
        if progress:
            progress(done, total)

    storing: asyncio.Future[None] | None = None
    async with db.connection() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        # Room for the statement's sorts and hash aggregates over every vendor, for this
        # transaction only (the default 4 MB spills them to disk).
        await conn.execute(f"SET LOCAL work_mem = '{_RECOMPUTE_WORK_MEM}'")
        # A rating stored after this snapshot was computed from fresher facts than it holds.
        facts_as_of = await conn.fetchval("SELECT coalesce(max(id), 0) FROM credit_ratings")
        cursor = await conn.cursor(_facts_sql(False), *_facts_args(today))
        fetching = asyncio.ensure_future(cursor.fetch(batch))
        try:
            while rows := await fetching:
                fetching = asyncio.ensure_future(cursor.fetch(batch))
                rated = await _rate([tuple(r) for r in rows], today)
                if storing:
                    await storing
                storing = asyncio.ensure_future(store(rated))
            if storing:
                await storing
        finally:
            for pending in (fetching, storing):
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


# Who reads a vendor's rating in full — its components, the evaluation scores and amounts they
# rest on (DESIGN §1): the vendor itself, any bureau (to judge a bidder), supervisors and admins.
# Everyone else, competitors included, sees the grade only, as the public does (DESIGN §8:
# /public/vendors/{id}). One rule for the rating, its history and the credit report.
RATING_READERS = ("admin", "supervisor", "bureau")


def may_read_rating(actor: Actor | None, vendor_id: UUID) -> bool:
    if actor is None or actor.role in RATING_READERS:  # None: the operator's own scripts
        return True
    return actor.role == "vendor" and actor.organisation_id == vendor_id


async def get_rating(vendor_id: UUID, actor: Actor | None = None) -> CreditRatingRead:
    """The vendor's current rating, for those who may read it (else 404). A vendor never rated
    is rated now, by an audited write like every other rating stored."""
    if not may_read_rating(actor, vendor_id):
        raise NotFound("vendor", vendor_id)
    await _vendor_row(vendor_id)
    row = await _latest_rating(vendor_id)
    if row is None:
        await recompute_rating(None, vendor_id)
        row = await _latest_rating(vendor_id)
    return _rating_read(row)


async def rating_history(
    vendor_id: UUID, limit: int | None, cursor: str | None, actor: Actor | None = None
) -> Page[CreditRatingRead]:
    if not may_read_rating(actor, vendor_id):
        raise NotFound("vendor", vendor_id)
    limit = check_limit(limit)
    (after_id,) = typed_cursor(cursor, int)
    await _vendor_row(vendor_id)
    rows = await db.fetch(
        """SELECT * FROM credit_ratings WHERE vendor_id = $1 AND ($2::bigint IS NULL OR id < $2)
           ORDER BY id DESC LIMIT $3""",
        vendor_id,
        after_id,
        limit + 1,
    )
    return page(rows, limit, lambda r: (r["id"],), _rating_read)
