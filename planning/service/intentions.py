"""Procurement intentions (采购意向公开, 财库〔2020〕10号): what a bureau plans to buy from one of
its budget lines — project, needs summary (采购需求概况), budget, expected month — published, in
principle, at least 30 days before the tender (procurement checks the 30 days when it publishes
one, asking `tender_intention` here).

Planning owns `procurement_intentions`: an intention is the budget line's plan of spending, so it
lives with the line (its budget is checked against the line's available money here, without
another domain), and procurement asks this service about it as it asks about the line. The
budget is a check, not a reservation: nothing is held on the line until a tender is published.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from govbuy import audit, clock
from govbuy import database as db
from govbuy.audit import Actor
from govbuy.errors import NotFound, check_if_match
from govbuy.pagination import Page, check_limit, page, typed_cursor
from govbuy.rules import RuleViolation
from planning import rules
from planning.schemas import (
    ProcurementIntentionCreate,
    ProcurementIntentionRead,
    ProcurementIntentionUpdate,
)

READERS = ("admin", "supervisor")  # read every bureau's, write none

_COLUMNS = """id, bureau_id, budget_line_id, year, title, needs, budget_amount, expected_month, remarks, status,
    published_at, withdrawn_at, withdraw_reason, created_at, updated_at, version"""


def _read(row: Any) -> ProcurementIntentionRead:
    return ProcurementIntentionRead.model_validate({**dict(row), "expected_month": f"{row['expected_month']:%Y-%m}"})


def _visible(actor: Actor, row: Any) -> bool:
    return actor.role in READERS or (actor.role == "bureau" and row["bureau_id"] == actor.organisation_id)


async def _budget_line(actor: Actor, line_id: UUID, *, lock: bool = False) -> Any:
    """One of the bureau's own lines, with what it has available (422 when not its own)."""
    row = await db.fetchrow(
        f"""SELECT id, year, amount - reserved - committed AS available FROM budget_lines
            WHERE id = $1 AND bureau_id = $2{' FOR SHARE' if lock else ''}""",
        line_id,
        actor.organisation_id,
    )
    if row is None:
        message = "no budget line of this bureau has that id"
        raise RuleViolation("budget_line_not_found", message, errors=[{"field": "budget_line_id", "message": message}])
    return row


async def _check_terms(line: Any, expected_month: str, budget_amount: Any) -> Any:
    month = rules.parse_month(expected_month)
    rules.check_expected_month(month, today=await clock.today(), budget_year=line["year"])
    rules.check_intention_amount(budget_amount, line["available"])
    return month


async def create_intention(actor: Actor, data: ProcurementIntentionCreate) -> ProcurementIntentionRead:
    """A draft intention drawn from one of the bureau's budget lines."""
    now = await clock.now()
    async with db.transaction():
        line = await _budget_line(actor, data.budget_line_id, lock=True)
        month = await _check_terms(line, data.expected_month, data.budget_amount)
        row = await db.fetchrow(
            f"""INSERT INTO procurement_intentions (id, bureau_id, budget_line_id, year, title, needs, budget_amount,
                    expected_month, remarks, created_by, created_at, updated_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING {_COLUMNS}""",
            uuid4(),
            actor.organisation_id,
            line["id"],
            line["year"],
            data.title,
            data.needs,
            data.budget_amount,
            month,
            data.remarks,
            actor.user_id,
            now,
        )
        result = _read(row)
        await audit.record(actor, "procurement_intention.created", "procurement_intention", row["id"], after=result.model_dump())
    return result


async def _load(actor: Actor, intention_id: UUID, *, lock: bool = False) -> Any:
    row = await db.fetchrow(
        f"SELECT {_COLUMNS} FROM procurement_intentions WHERE id = $1{' FOR UPDATE' if lock else ''}", intention_id
    )
    if row is None or not _visible(actor, row):
        raise NotFound("procurement intention", intention_id)
    return row


async def _own_locked(actor: Actor, intention_id: UUID, if_match: str | None) -> Any:
    row = await _load(actor, intention_id, lock=True)
    if actor.role != "bureau":  # readers see it, only its bureau changes it
        raise NotFound("procurement intention", intention_id)
    check_if_match(if_match, row["version"])
    return row


async def get_intention(actor: Actor, intention_id: UUID) -> ProcurementIntentionRead:
    return _read(await _load(actor, intention_id))


async def list_intentions(
    actor: Actor,
    *,
    status: str | None,
    year: int | None,
    bureau_id: UUID | None,
    limit: int | None,
    cursor: str | None,
) -> Page[ProcurementIntentionRead]:
    """A bureau's own intentions (admins and supervisors: every bureau's), newest first."""
    limit = check_limit(limit)
    after_at, after_id = typed_cursor(cursor, datetime, UUID)
    if actor.role not in READERS:
        if actor.role != "bureau" or bureau_id not in (None, actor.organisation_id):
            return Page(items=[])
        bureau_id = actor.organisation_id
    where = db.Conditions()
    where.given("bureau_id = {}::uuid", bureau_id)
    where.given("status = {}::text", status)
    where.given("year = {}::int", year)
    if after_at is not None:
        where.add("(created_at, id) < ({}::timestamptz, {}::uuid)", after_at, after_id)
    rows = await db.fetch(
        f"""SELECT {_COLUMNS} FROM procurement_intentions WHERE {where}
            ORDER BY created_at DESC, id DESC LIMIT {where.param(limit + 1)}""",
        *where.args,
    )
    return page(rows, limit, lambda r: (r["created_at"], r["id"]), _read)


async def update_intention(
    actor: Actor, intention_id: UUID, data: ProcurementIntentionUpdate, if_match: str | None
) -> ProcurementIntentionRead:
    """Change a draft; its month and budget are checked again, against the line as it is now."""
    async with db.transaction():
        row = await _own_locked(actor, intention_id, if_match)
        rules.ensure_intention_editable(row["status"])
        given = data.model_dump(exclude_unset=True, exclude_none=True)
        fields = {**_read(row).model_dump(), **given}
        line = await _budget_line(actor, row["budget_line_id"], lock=True)
        month = await _check_terms(line, fields["expected_month"], fields["budget_amount"])
        updated = await db.fetchrow(
            f"""UPDATE procurement_intentions SET title = $2, needs = $3, budget_amount = $4, expected_month = $5,
                       remarks = $6, updated_at = $7, version = version + 1
                WHERE id = $1 RETURNING {_COLUMNS}""",
            intention_id,
            fields["title"],
            fields["needs"],
            fields["budget_amount"],
            month,
            fields["remarks"],
            await clock.now(),
        )
        before, after = _read(row), _read(updated)
        await audit.record(
            actor, "procurement_intention.updated", "procurement_intention", intention_id,
            before=before.model_dump(), after=after.model_dump(),
        )
    return after


async def publish_intention(actor: Actor, intention_id: UUID, if_match: str | None) -> ProcurementIntentionRead:
    """draft → published: public from now on (`/api/v1/public/procurement-intentions`, notices of
    kind `intention`). Month and budget are checked once more, as of today."""
    async with db.transaction():
        row = await _own_locked(actor, intention_id, if_match)
        rules.check_intention_transition(row["status"], "published")
        line = await _budget_line(actor, row["budget_line_id"], lock=True)
        await _check_terms(line, f"{row['expected_month']:%Y-%m}", row["budget_amount"])
        now = await clock.now()
        updated = await db.fetchrow(
            f"""UPDATE procurement_intentions SET status = 'published', published_at = $2, updated_at = $2,
                       version = version + 1
                WHERE id = $1 RETURNING {_COLUMNS}""",
            intention_id,
            now,
        )
        before, after = _read(row), _read(updated)
        await audit.record(
            actor, "procurement_intention.published", "procurement_intention", intention_id,
            before=before.model_dump(), after=after.model_dump(),
        )
    return after


async def withdraw_intention(
    actor: Actor, intention_id: UUID, reason: str, if_match: str | None
) -> ProcurementIntentionRead:
    """The bureau no longer plans the purchase. A published intention stays public, marked
    withdrawn with its reason; a draft one never becomes public. A tender that already links it
    keeps the link; no tender links it from now on."""
    async with db.transaction():
        row = await _own_locked(actor, intention_id, if_match)
        rules.check_intention_transition(row["status"], "withdrawn")
        now = await clock.now()
        updated = await db.fetchrow(
            f"""UPDATE procurement_intentions SET status = 'withdrawn', withdrawn_at = $2, withdraw_reason = $3,
                       updated_at = $2, version = version + 1
                WHERE id = $1 RETURNING {_COLUMNS}""",
            intention_id,
            now,
            reason,
        )
        before, after = _read(row), _read(updated)
        await audit.record(
            actor, "procurement_intention.withdrawn", "procurement_intention", intention_id,
            before=before.model_dump(), after=after.model_dump(),
        )
    return after


# --- what procurement needs --------------------------------------------------------------------


@dataclass(frozen=True)
class TenderIntention:
    """The intention a tender links, as procurement's 30-day rule needs it."""

    id: UUID
    published_at: datetime


async def tender_intention(intention_id: UUID, *, bureau_id: UUID, budget_line_id: UUID) -> TenderIntention:
    """The published intention a tender of this bureau and budget line may link: the bureau's
    own (`intention_not_found` otherwise, whoever's it is), published (`intention_not_published`:
    a draft is not yet public, a withdrawn one no longer announces anything), of the same budget
    line (`intention_budget_line_mismatch`)."""
    row = await db.fetchrow(
        "SELECT id, bureau_id, budget_line_id, status, published_at FROM procurement_intentions WHERE id = $1",
        intention_id,
    )
    field = "procurement_intention_id"
    if row is None or row["bureau_id"] != bureau_id:
        message = "no procurement intention of this bureau has that id"
        raise RuleViolation("intention_not_found", message, errors=[{"field": field, "message": message}])
    if row["status"] != "published":
        message = f"the procurement intention is {row['status']}: a tender links a published one"
        raise RuleViolation("intention_not_published", message, errors=[{"field": field, "message": message}])
    if row["budget_line_id"] != budget_line_id:
        message = "the procurement intention is of another budget line than the tender's"
        raise RuleViolation("intention_budget_line_mismatch", message, errors=[{"field": field, "message": message}])
    return TenderIntention(row["id"], row["published_at"])


async def published_intention_ids(bureau_id: UUID, budget_line_id: UUID) -> list[UUID]:
    """The published intentions of one of the bureau's lines, oldest first: what a tender of the
    line that links none is pointed to."""
    rows = await db.fetch(
        """SELECT id FROM procurement_intentions WHERE budget_line_id = $1 AND bureau_id = $2 AND status = 'published'
           ORDER BY published_at, id""",
        budget_line_id,
        bureau_id,
    )
    return [r["id"] for r in rows]
