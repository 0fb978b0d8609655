"""Procurement services: tenders from draft to award, questions, sealed bids and their
opening, the panel and its scores, the award notice and challenges. The catalogue item a
tender buys and the budget line it draws on are planning's: a tender asks `planning.service`
whether it may use them, and reserves and releases its ceiling through it.

Every state change runs in one transaction that locks what it changes (`FOR UPDATE`), applies
the pure rules of `procurement.rules` and appends its audit events last. Row locks are always
taken in the order tender → bid → budget line, and before the first audit event (which holds
the audit chain's lock until commit), so that concurrent changes queue rather than deadlock.

Time drives a tender: bids are sealed until its deadline, and the first request that touches
the tender after the deadline opens it (`_tender_for`, `_OpenFirst`), whatever a background worker running
`open_due_tenders` is doing.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import asyncpg

from govbuy import audit, clock, notifications
from govbuy import database as db
from govbuy.audit import Actor
from govbuy.errors import Forbidden, NotFound, check_if_match
from govbuy.pagination import Page, check_limit, page
from govbuy.pagination import typed_cursor as _keyset
from govbuy.rules import (
    SHANGHAI,
    RuleViolation,
    WorkCalendar,
    calendar_warning,
    conflict,
    last_day,
    local_date,
    start_of_day,
)
from govbuy.schemas import PeriodChange
from govbuy.settings import get_settings
from planning import service as planning
from procurement import rules
from procurement.schemas import (
    AffiliationsRead,
    AffiliationsWrite,
    AnswerCreate,
    AwardRead,
    BidCreate,
    BidRead,
    BidUpdate,
    ChallengeCreate,
    ChallengeRead,
    ChallengeResolve,
    PanelExpertRead,
    PanelRead,
    PanelWrite,
    QuestionCreate,
    QuestionRead,
    ScoreSheetRead,
    ScoreSheetWrite,
    TenderCreate,
    TenderRead,
    TenderUpdate,
)
from vendors import service as vendors

READERS = ("admin", "supervisor")  # read everything, write nothing here


def _reads_all(actor: Actor) -> bool:
    return actor.role in READERS


# --- tenders ---------------------------------------------------------------------------------

_TENDER_SELECT = f"""SELECT t.*, o.name AS bureau_name, ci.code AS item_code, ci.name AS item_name,
       a.standstill_until AS award_standstill_until,
       array(SELECT i.vendor_id FROM tender_invitations i WHERE i.tender_id = t.id ORDER BY i.vendor_id)
           AS invited_ids
    FROM tenders t
    JOIN organisations o ON o.id = t.bureau_id
    JOIN {planning.catalogue_items_sql()} ci ON ci.id = t.catalogue_item_id
    LEFT JOIN tender_awards a ON a.id = t.award_id"""

# Fields that a tender is created with and that a draft may change.
_TENDER_FIELDS = (
    "title",
    "description",
    "catalogue_item_id",
    "budget_line_id",
    "method",
    "ceiling_amount",
    "contract_months",
    "recurring",
    "evaluation_method",
    "price_weight",
    "criteria",
    "eligibility",
    "milestones",
    "payment_rule",
    "bid_deadline",
    "invited_vendor_ids",
)


def _grade_label(number: int | None) -> str | None:
    return rules.ASSESSMENT_GRADES[number - 1] if number else None


def _tender_visible(actor: Actor, row: Any, on_panel: bool) -> bool:
    if _reads_all(actor):
        return True
    if actor.role == "bureau":
        return row["bureau_id"] == actor.organisation_id
    if actor.role == "vendor":
        return row["published_at"] is not None
    if actor.role == "expert":
        return on_panel
    return False


async def _on_panel(actor: Actor, tender_id: UUID) -> bool:
    if actor.role != "expert":
        return False
    return bool(
        await db.fetchval(
            "SELECT 1 FROM tender_panel_members WHERE tender_id = $1 AND expert_user_id = $2", tender_id, actor.user_id
        )
    )


async def _visible_tender(actor: Actor, tender_id: UUID) -> Any:
    row = await db.fetchrow(f"{_TENDER_SELECT} WHERE t.id = $1", tender_id)
    if row is None or not _tender_visible(actor, row, await _on_panel(actor, tender_id)):
        raise NotFound("tender", tender_id)
    return row


async def _own_tender(actor: Actor, tender_id: UUID, *, lock: str | None = None) -> Any:
    """The tender, locked if asked, when it is the acting bureau's own; else 404."""
    suffix = f" FOR {lock}" if lock else ""
    row = await db.fetchrow(f"SELECT * FROM tenders WHERE id = $1{suffix}", tender_id)
    if row is None or actor.role != "bureau" or row["bureau_id"] != actor.organisation_id:
        raise NotFound("tender", tender_id)
    return row


def _tender_read(actor: Actor, row: Any, now: datetime, calendar: Any) -> TenderRead:
    minimum = warning = None
    if row["status"] == "draft":
        minimum = rules.minimum_bid_deadline(row["method"], now, calendar)
        if rules.BID_PERIODS[rules.Method(row["method"])].working_days:
            warning = calendar_warning(calendar, now, minimum)
    else:
        warning = row["calendar_warning"]
    invited_ids = list(row["invited_ids"] or [])
    sees_invitations = _reads_all(actor) or actor.role == "bureau"
    invited = None
    if actor.role == "vendor" and row["method"] in ("invited_tender", "single_source"):
        invited = actor.organisation_id in invited_ids
    return TenderRead(
        id=row["id"],
        bureau_id=row["bureau_id"],
        bureau_name=row["bureau_name"],
        title=row["title"],
        description=row["description"],
        catalogue_item_id=row["catalogue_item_id"],
        catalogue_item_code=row["item_code"],
        catalogue_item_name=row["item_name"],
        budget_line_id=row["budget_line_id"],
        method=row["method"],
        ceiling_amount=row["ceiling_amount"],
        contract_months=row["contract_months"],
        recurring=row["recurring"],
        evaluation_method=row["evaluation_method"],
        price_weight=row["price_weight"],
        criteria=row["criteria"],
        eligibility={
            "min_assessment_grade": _grade_label(row["min_assessment_grade"]),
            "min_credit_grade": row["min_credit_grade"],
        },
        milestones=row["milestones"],
        payment_rule=row["payment_rule"],
        bid_deadline=row["bid_deadline"],
        minimum_bid_deadline=minimum,
        calendar_warning=warning,
        status=row["status"],
        bids_sealed=row["opened_at"] is None,
        published_at=row["published_at"],
        opened_at=row["opened_at"],
        failure_reason=row["failure_reason"],
        cancel_reason=row["cancel_reason"],
        closed_at=row["closed_at"],
        award_id=row["award_id"],
        standstill_until=row["award_standstill_until"],
        invited_vendor_ids=invited_ids if sees_invitations else None,
        invited=invited,
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        version=row["version"],
    )


async def _read_tender(actor: Actor, tender_id: UUID) -> TenderRead:
    row = await db.fetchrow(f"{_TENDER_SELECT} WHERE t.id = $1", tender_id)
    if row is None:
        raise NotFound("tender", tender_id)
    return _tender_read(actor, row, await clock.now(), await clock.work_calendar())


@dataclass(frozen=True)
class _CheckedTender:
    values: dict[str, Any]
    invited: tuple[UUID, ...]
    warning: str | None


async def _check_tender(
    actor: Actor, fields: dict[str, Any], now: datetime, calendar: WorkCalendar | None = None
) -> _CheckedTender:
    """Every rule a tender's terms must meet, judged as if it were published now (with the
    calendar given, when publishing: the one locked for the change)."""
    method = fields["method"]
    rules.check_contract_term(fields["contract_months"], fields["recurring"])
    scheme = rules.validate_scoring(fields["evaluation_method"], fields["price_weight"], fields["criteria"])
    milestones = rules.validate_milestone_plan(fields["milestones"], fields["contract_months"])
    payment_rule = rules.payment_rule_bands(fields["payment_rule"])
    eligibility = fields["eligibility"] or {}
    requirement = rules.validate_eligibility(eligibility.get("min_assessment_grade"), eligibility.get("min_credit_grade"))
    invited = rules.check_invitations(method, fields["invited_vendor_ids"])

    year = await planning.budget_line_year(actor.organisation_id, fields["budget_line_id"])
    if year is None:
        message = "no budget line of this bureau has that id"
        raise RuleViolation("budget_line_not_found", message, errors=[{"field": "budget_line_id", "message": message}])
    await planning.check_tender_item(fields["catalogue_item_id"], bureau_id=actor.organisation_id, year=year)
    if invited:
        found = {
            r["id"]
            for r in await db.fetch("SELECT id FROM organisations WHERE id = ANY($1::uuid[]) AND kind = 'vendor'", list(invited))
        }
        unknown = [v for v in invited if v not in found]
        if unknown:
            raise RuleViolation(
                "invited_vendor_not_found",
                f"{len(unknown)} invited vendor(s) are not registered vendors",
                errors=[{"field": "invited_vendor_ids", "message": f"{v} is not a vendor"} for v in unknown],
            )
    calendar = calendar or await clock.work_calendar()
    warning = rules.check_bid_deadline(method, now, fields["bid_deadline"], calendar)
    values = {
        "title": fields["title"],
        "description": fields["description"] or "",
        "catalogue_item_id": fields["catalogue_item_id"],
        "budget_line_id": fields["budget_line_id"],
        "method": method,
        "ceiling_amount": fields["ceiling_amount"],
        "contract_months": fields["contract_months"],
        "recurring": fields["recurring"],
        "evaluation_method": scheme.evaluation_method.value,
        "price_weight": scheme.price_weight,
        "criteria": [{"name": c.name, "weight": str(c.weight)} for c in scheme.criteria],
        "min_assessment_grade": requirement.min_assessment_grade_number,
        "min_credit_grade": requirement.min_credit_grade,
        "milestones": [
            {"title": m.title, "percentage": str(m.percentage), "due_offset_days": m.due_offset_days} for m in milestones
        ],
        "payment_rule": payment_rule,
        "bid_deadline": fields["bid_deadline"],
    }
    return _CheckedTender(values, tuple(invited), warning)


def _fields_of(data: TenderCreate | TenderUpdate, base: dict[str, Any] | None = None) -> dict[str, Any]:
    given = data.model_dump(exclude_unset=isinstance(data, TenderUpdate))
    fields = dict(base or {})
    fields.update({k: v for k, v in given.items() if k in _TENDER_FIELDS})
    return fields


def _fields_of_row(row: Any, invited: list[UUID]) -> dict[str, Any]:
    return {
        "title": row["title"],
        "description": row["description"],
        "catalogue_item_id": row["catalogue_item_id"],
        "budget_line_id": row["budget_line_id"],
        "method": row["method"],
        "ceiling_amount": row["ceiling_amount"],
        "contract_months": row["contract_months"],
        "recurring": row["recurring"],
        "evaluation_method": row["evaluation_method"],
        "price_weight": row["price_weight"],
        "criteria": row["criteria"],
        "eligibility": {
            "min_assessment_grade": _grade_label(row["min_assessment_grade"]),
            "min_credit_grade": row["min_credit_grade"],
        },
        "milestones": [{**m, "percentage": Decimal(m["percentage"])} for m in row["milestones"]],
        "payment_rule": row["payment_rule"],
        "bid_deadline": row["bid_deadline"],
        "invited_vendor_ids": invited or None,
    }


async def _write_invitations(tender_id: UUID, invited: Sequence[UUID]) -> None:
    await db.execute("DELETE FROM tender_invitations WHERE tender_id = $1", tender_id)
    if invited:
        await db.executemany(
            "INSERT INTO tender_invitations (tender_id, vendor_id) VALUES ($1, $2)", [(tender_id, v) for v in invited]
        )


# The tender's own columns, in the order the INSERT and UPDATE below list them.
_TENDER_COLUMNS = (
    "title",
    "description",
    "catalogue_item_id",
    "budget_line_id",
    "method",
    "ceiling_amount",
    "contract_months",
    "recurring",
    "evaluation_method",
    "price_weight",
    "criteria",
    "min_assessment_grade",
    "min_credit_grade",
    "milestones",
    "payment_rule",
    "bid_deadline",
)


async def create_tender(actor: Actor, data: TenderCreate) -> TenderRead:
    """A draft tender; its terms are checked now (as if it were published now) and again at
    publication."""
    now = await clock.now()
    checked = await _check_tender(actor, _fields_of(data), now)
    tender_id = uuid4()
    async with db.transaction():
        v = checked.values
        await db.execute(
            """INSERT INTO tenders (id, bureau_id, title, description, catalogue_item_id, budget_line_id, method,
                   ceiling_amount, contract_months, recurring, evaluation_method, price_weight, criteria,
                   min_assessment_grade, min_credit_grade, milestones, payment_rule, bid_deadline,
                   created_by, created_at, updated_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $20)""",
            tender_id,
            actor.organisation_id,
            *(v[name] for name in _TENDER_COLUMNS),
            actor.user_id,
            now,
        )
        await _write_invitations(tender_id, checked.invited)
        result = await _read_tender(actor, tender_id)
        await audit.record(actor, "tender.created", "tender", tender_id, after=result.model_dump())
    return result


async def update_tender(actor: Actor, tender_id: UUID, data: TenderUpdate, if_match: str | None) -> TenderRead:
    """Change a draft (published terms never change)."""
    async with db.transaction():
        row = await _own_tender(actor, tender_id, lock="UPDATE")
        check_if_match(if_match, row["version"])
        if row["status"] != "draft":
            raise conflict("tender_not_draft", f"the tender is {row['status']}: only a draft can be changed")
        before = await _read_tender(actor, tender_id)
        invited = [r["vendor_id"] for r in await db.fetch("SELECT vendor_id FROM tender_invitations WHERE tender_id = $1", tender_id)]
        now = await clock.now()
        checked = await _check_tender(actor, _fields_of(data, _fields_of_row(row, invited)), now)
        v = checked.values
        await db.execute(
            """UPDATE tenders SET title = $2, description = $3, catalogue_item_id = $4, budget_line_id = $5,
                   method = $6, ceiling_amount = $7, contract_months = $8, recurring = $9, evaluation_method = $10,
                   price_weight = $11, criteria = $12, min_assessment_grade = $13, min_credit_grade = $14,
                   milestones = $15, payment_rule = $16, bid_deadline = $17, updated_at = $18, version = version + 1
               WHERE id = $1""",
            tender_id,
            *(v[name] for name in _TENDER_COLUMNS),
            now,
        )
        await _write_invitations(tender_id, checked.invited)
        after = await _read_tender(actor, tender_id)
        await audit.record(actor, "tender.updated", "tender", tender_id, before=before.model_dump(), after=after.model_dump())
    return after


async def publish_tender(actor: Actor, tender_id: UUID, if_match: str | None) -> TenderRead:
    """draft → published: the terms are checked against today (deadline, catalogue still
    published) and the ceiling is reserved on the budget line (budget_insufficient if the line
    cannot carry it)."""
    async with db.transaction():
        row = await _own_tender(actor, tender_id, lock="UPDATE")
        check_if_match(if_match, row["version"])
        rules.check_tender_transition(row["status"], "published")
        before = await _read_tender(actor, tender_id)
        invited = [r["vendor_id"] for r in await db.fetch("SELECT vendor_id FROM tender_invitations WHERE tender_id = $1", tender_id)]
        now = await clock.now()
        checked = await _check_tender(actor, _fields_of_row(row, invited), now, await clock.calendar_for_update())
        reservation = await planning.reserve_budget(row["budget_line_id"], row["ceiling_amount"], now)
        await db.execute(
            """UPDATE tenders SET status = 'published', published_at = $2, reserved_amount = ceiling_amount,
                   calendar_warning = $3, updated_at = $2, version = version + 1 WHERE id = $1""",
            tender_id,
            now,
            checked.warning,
        )
        after = await _read_tender(actor, tender_id)
        await audit.record(actor, "tender.published", "tender", tender_id, before=before.model_dump(), after=after.model_dump())
        await planning.audit_budget_move(actor, "reserved", reservation, tender_id=tender_id, amount=row["ceiling_amount"])
    return after


async def _release_reservation(tender: Any, now: datetime) -> planning.BudgetMove | None:
    """Release a live tender's reservation (failed, cancelled); the caller audits it."""
    if tender["reserved_amount"] <= 0:
        return None
    return await planning.release_budget(tender["budget_line_id"], tender["reserved_amount"], now)


async def _audit_release(actor: Actor | None, tender: Any, released: planning.BudgetMove | None, why: str) -> None:
    if released is None:
        return
    await planning.audit_budget_move(
        actor, "released", released, tender_id=tender["id"], amount=tender["reserved_amount"], reason=why
    )


async def cancel_tender(actor: Actor, tender_id: UUID, reason: str, if_match: str | None) -> TenderRead:
    """Cancel a tender before it is contracted; a reserved ceiling is released."""
    await _open_if_due(tender_id)
    async with db.transaction():
        row = await _own_tender(actor, tender_id, lock="UPDATE")
        check_if_match(if_match, row["version"])
        rules.check_tender_transition(row["status"], "cancelled")
        before = await _read_tender(actor, tender_id)
        now = await clock.now()
        released = await _release_reservation(row, now)
        await db.execute(
            """UPDATE tenders SET status = 'cancelled', cancel_reason = $2, closed_at = $3, reserved_amount = 0,
                   award_id = NULL, updated_at = $3, version = version + 1 WHERE id = $1""",
            tender_id,
            reason,
            now,
        )
        moot: list[Any] = []
        if row["award_id"] is not None:
            await db.execute(
                "UPDATE tender_awards SET status = 'voided', voided_at = $2 WHERE id = $1 AND status = 'active'",
                row["award_id"],
                now,
            )
            # Challenges to an award that no longer stands have nothing left to decide.
            moot = await db.fetch(
                """UPDATE tender_challenges SET status = 'moot', reply = $2, resolved_at = $3, resolved_by = $4,
                       version = version + 1
                   WHERE award_id = $1 AND status = 'pending' RETURNING id""",
                row["award_id"],
                "the tender was cancelled",
                now,
                actor.user_id,
            )
        after = await _read_tender(actor, tender_id)
        await audit.record(actor, "tender.cancelled", "tender", tender_id, before=before.model_dump(), after=after.model_dump())
        for challenge in moot:
            await audit.record(actor, "challenge.moot", "challenge", challenge["id"], after={"status": "moot", "reason": "tender cancelled"})
        await _audit_release(actor, row, released, "tender cancelled")
    return after


async def get_tender(actor: Actor, tender_id: UUID) -> TenderRead:
    row = await _tender_for(actor, tender_id)
    return _tender_read(actor, row, await clock.now(), await clock.work_calendar())


async def list_tenders(
    actor: Actor,
    *,
    status: str | None,
    method: str | None,
    bureau_id: UUID | None,
    catalogue_item_id: UUID | None,
    deadline_from: datetime | None,
    deadline_to: datetime | None,
    limit: int | None,
    cursor: str | None,
) -> Page[TenderRead]:
    """Tenders the caller may see, newest first: a bureau its own, a vendor every published
    one, an expert those on whose panel it sits, admins and supervisors all."""
    limit = check_limit(limit)
    after_at, after_id = _keyset(cursor, datetime, UUID)
    if actor.role not in ("bureau", "vendor", "expert", *READERS):
        return Page(items=[])
    # A list read touches every tender it may show: those past their deadline open first.
    await open_due_tenders(limit=200)
    where = db.Conditions()
    if actor.role == "bureau":
        where.add("t.bureau_id = {}::uuid", actor.organisation_id)
    elif actor.role == "vendor":
        where.add("t.published_at IS NOT NULL")
    elif actor.role == "expert":  # driven by the expert's few panels, not by all tenders
        where.add("t.id IN (SELECT p.tender_id FROM tender_panel_members p WHERE p.expert_user_id = {}::uuid)",
                  actor.user_id)
    where.given("t.status = {}::text", status)
    where.given("t.method = {}::text", method)
    where.given("t.bureau_id = {}::uuid", bureau_id)
    where.given("t.catalogue_item_id = {}::uuid", catalogue_item_id)
    where.given("t.bid_deadline >= {}::timestamptz", deadline_from)
    where.given("t.bid_deadline <= {}::timestamptz", deadline_to)
    if after_at is not None:
        where.add("(t.created_at, t.id) < ({}::timestamptz, {}::uuid)", after_at, after_id)
    query = f"""{_TENDER_SELECT}
        WHERE {where}
        ORDER BY t.created_at DESC, t.id DESC LIMIT {where.param(limit + 1)}"""
    args = where.args
    rows = await db.fetch(query, *args)
    now = await clock.now()
    due = [r["id"] for r in rows[:limit] if r["status"] == "published" and r["bid_deadline"] <= now]
    if due:  # claimed by another request a moment ago: wait for it and read again
        for tender_id in due:
            await open_tender(tender_id)
        rows = await db.fetch(query, *args)
    calendar = await clock.work_calendar()
    return page(rows, limit, lambda r: (r["created_at"], r["id"]), lambda r: _tender_read(actor, r, now, calendar))


# --- opening (开标) --------------------------------------------------------------------------


async def _open_if_due(tender_id: UUID) -> None:
    """Open the tender now if its deadline has passed and nobody has opened it yet."""
    row = await db.fetchrow("SELECT status, bid_deadline FROM tenders WHERE id = $1", tender_id)
    if row is not None and row["status"] == "published" and await clock.now() >= row["bid_deadline"]:
        await open_tender(tender_id)


def _due(row: Any, now: datetime) -> bool:
    return row["status"] == "published" and now >= row["bid_deadline"]


async def _tender_for(actor: Actor, tender_id: UUID) -> Any:
    """The tender as the caller may see it (404 otherwise), opened first if it is due: the
    read that touches a tender after its deadline is the one that opens it."""
    row = await _visible_tender(actor, tender_id)
    if _due(row, await clock.now()):
        await open_tender(tender_id)
        row = await _visible_tender(actor, tender_id)
    return row


class _OpenFirst(Exception):
    """Raised inside a bid's transaction that found its tender due: the transaction is rolled
    back, the tender opened in a transaction of its own, and the bid refused."""


async def open_tender(tender_id: UUID) -> bool:
    """Open one tender if it is due (waiting for a concurrent opener); True if this call did."""
    async with db.transaction():
        row = await db.fetchrow("SELECT * FROM tenders WHERE id = $1 FOR UPDATE", tender_id)
        now = await clock.now()
        if row is None or row["status"] != "published" or now < row["bid_deadline"]:
            return False
        await _open_locked(row, now)
    return True


async def open_due_tenders(limit: int = 100) -> int:
    """Open every published tender past its deadline, one transaction each; tenders another
    worker is opening are skipped (FOR UPDATE SKIP LOCKED), so any number of workers may run."""
    opened = 0
    while opened < limit:
        async with db.transaction():
            now = await clock.now()
            row = await db.fetchrow(
                """SELECT * FROM tenders WHERE status = 'published' AND bid_deadline <= $1
                   ORDER BY bid_deadline, id LIMIT 1 FOR UPDATE SKIP LOCKED""",
                now,
            )
            if row is None:
                break
            await _open_locked(row, now)
        opened += 1
    return opened


async def _open_locked(tender: Any, now: datetime) -> None:
    """The opening of a locked tender: eligibility is checked again (as of the deadline's
    date) and stored with each bid, bids become valid or invalid, and the tender goes on to
    evaluation or fails (insufficient_bids) and releases its reservation."""
    tender_id = tender["id"]
    bids = await db.fetch(
        """SELECT b.id, b.vendor_id, o.name AS vendor_name, b.price, b.submitted_at, b.content_digest
           FROM bids b JOIN organisations o ON o.id = b.vendor_id
           WHERE b.tender_id = $1 AND b.status = 'submitted' ORDER BY b.submitted_at, b.id FOR UPDATE OF b""",
        tender_id,
    )
    as_of = local_date(tender["bid_deadline"])
    outcomes = []
    for bid in bids:
        result = await vendors.check_eligibility(
            bid["vendor_id"],
            min_assessment_grade=tender["min_assessment_grade"],
            min_credit_grade=tender["min_credit_grade"],
            today=as_of,
        )
        grade = await vendors.current_credit_grade(bid["vendor_id"])
        checked = {**result.as_dict(), "checked_on": as_of.isoformat(), "credit_grade": grade}
        reason = None
        if not result.eligible:
            reason = "not eligible at opening: " + "; ".join(r.detail for r in result.reasons)
        outcomes.append((bid, checked, grade, reason))
    if outcomes:
        await db.executemany(
            """UPDATE bids SET status = $2, eligibility_at_opening = $3, credit_grade_at_opening = $4,
                   invalid_reason = $5, version = version + 1 WHERE id = $1""",
            [(b["id"], "invalid" if r else "valid", c, g, r) for b, c, g, r in outcomes],
        )
    valid = sum(1 for *_, r in outcomes if r is None)
    status = rules.opening_outcome(tender["method"], valid)
    failed = status is rules.TenderStatus.FAILED
    released = await _release_reservation(tender, now) if failed else None
    await db.execute(
        """UPDATE tenders SET status = $2, opened_at = $3, failure_reason = $4,
               reserved_amount = CASE WHEN $5 THEN 0 ELSE reserved_amount END,
               closed_at = CASE WHEN $5 THEN $3 ELSE closed_at END, updated_at = $3, version = version + 1
           WHERE id = $1""",
        tender_id,
        status.value,
        now,
        "insufficient_bids" if failed else None,
        failed,
    )
    # The opening record (唱标): every bidder's name and price, now that the seal is broken.
    await audit.record(
        None,
        "tender.opened",
        "tender",
        tender_id,
        before={"status": "published"},
        after={
            "status": status.value,
            "valid_bids": valid,
            "minimum_valid_bids": rules.minimum_valid_bids(tender["method"]),
            "bids": [
                {
                    "bid_id": b["id"],
                    "vendor_id": b["vendor_id"],
                    "vendor_name": b["vendor_name"],
                    "price": b["price"],
                    "content_digest": b["content_digest"],
                    "valid": r is None,
                }
                for b, _, _, r in outcomes
            ],
        },
    )
    if failed:
        await audit.record(None, "tender.failed", "tender", tender_id, after={"failure_reason": "insufficient_bids", "valid_bids": valid})
        await _audit_release(None, tender, released, "tender failed: insufficient_bids")


# --- questions (澄清) -------------------------------------------------------------------------


def _question_read(row: Any, actor: Actor) -> QuestionRead:
    return QuestionRead(
        id=row["id"],
        tender_id=row["tender_id"],
        question=row["question"],
        asked_at=row["asked_at"],
        answer=row["answer"],
        answered_at=row["answered_at"],
        mine=actor.role == "vendor" and row["vendor_id"] == actor.organisation_id,
    )


async def _check_may_take_part(actor: Actor, tender: Any) -> None:
    """Only invited vendors take part in an invited or single-source tender."""
    if tender["method"] in ("invited_tender", "single_source") and actor.organisation_id not in (tender["invited_ids"] or []):
        raise Forbidden("this tender is open only to the vendors it invited", "vendor_not_invited")


async def ask_question(actor: Actor, tender_id: UUID, data: QuestionCreate) -> QuestionRead:
    """A vendor asks about the tender documents before the deadline; the question is published
    with its answer, never with the asker's name."""
    tender = await _tender_for(actor, tender_id)
    await _check_may_take_part(actor, tender)
    async with db.transaction():
        locked = await db.fetchrow("SELECT status, bid_deadline FROM tenders WHERE id = $1 FOR SHARE", tender_id)
        now = await clock.now()
        _check_questions_open(locked, now)
        row = await db.fetchrow(
            """INSERT INTO tender_questions (id, tender_id, vendor_id, asked_by, question, asked_at)
               VALUES ($1, $2, $3, $4, $5, $6) RETURNING *""",
            uuid4(),
            tender_id,
            actor.organisation_id,
            actor.user_id,
            data.question,
            now,
        )
        result = _question_read(row, actor)
        await audit.record(actor, "tender_question.asked", "tender_question", row["id"], after=result.model_dump())
    return result


def _check_questions_open(tender: Any, now: datetime) -> None:
    if tender["status"] != "published" or now >= tender["bid_deadline"]:
        raise conflict("questions_closed", "questions are asked and answered only while the tender is open for bids")


async def answer_question(actor: Actor, tender_id: UUID, question_id: UUID, data: AnswerCreate) -> QuestionRead:
    await _open_if_due(tender_id)
    async with db.transaction():
        tender = await _own_tender(actor, tender_id, lock="SHARE")
        row = await db.fetchrow(
            "SELECT * FROM tender_questions WHERE id = $1 AND tender_id = $2 FOR UPDATE", question_id, tender_id
        )
        if row is None:
            raise NotFound("question", question_id)
        now = await clock.now()
        _check_questions_open(tender, now)
        if row["answer"] is not None:
            raise conflict("question_already_answered", "the question has been answered and the answer published")
        updated = await db.fetchrow(
            "UPDATE tender_questions SET answer = $2, answered_by = $3, answered_at = $4 WHERE id = $1 RETURNING *",
            question_id,
            data.answer,
            actor.user_id,
            now,
        )
        result = _question_read(updated, actor)
        await audit.record(
            actor, "tender_question.answered", "tender_question", question_id,
            before=_question_read(row, actor).model_dump(), after=result.model_dump(),
        )
    return result


async def list_questions(actor: Actor, tender_id: UUID, limit: int | None, cursor: str | None) -> Page[QuestionRead]:
    """Answered questions for everyone who sees the tender; unanswered ones only to the bureau
    (and admins, supervisors) and to the vendor that asked."""
    await _tender_for(actor, tender_id)
    limit = check_limit(limit)
    after_at, after_id = _keyset(cursor, datetime, UUID)
    sees_all = _reads_all(actor) or actor.role == "bureau"
    rows = await db.fetch(
        """SELECT * FROM tender_questions
           WHERE tender_id = $1 AND ($2::boolean OR answer IS NOT NULL OR vendor_id = $3)
             AND ($4::timestamptz IS NULL OR (asked_at, id) > ($4, $5::uuid))
           ORDER BY asked_at, id LIMIT $6""",
        tender_id,
        sees_all,
        actor.organisation_id if actor.role == "vendor" else None,
        after_at,
        after_id,
        limit + 1,
    )
    return page(rows, limit, lambda r: (r["asked_at"], r["id"]), lambda r: _question_read(r, actor))


# --- bids (投标) -------------------------------------------------------------------------------

_BID_SELECT = """SELECT b.*, o.name AS vendor_name FROM bids b JOIN organisations o ON o.id = b.vendor_id"""


def _seal(price: Decimal, proposal: str) -> tuple[str, str]:
    """A random nonce and the digest of nonce|price|proposal: the audit log records the digest
    while the bid is sealed (a digest of the price alone could be brute-forced)."""
    nonce = secrets.token_hex(16)
    digest = hashlib.sha256(f"{nonce}|{price:.2f}|{proposal}".encode()).hexdigest()
    return nonce, digest


def _bid_read(row: Any, *, full: bool, price: bool) -> BidRead:
    """`full`: the caller may read the proposal and the eligibility record; `price`: the price."""
    return BidRead(
        id=row["id"],
        tender_id=row["tender_id"],
        vendor_id=row["vendor_id"],
        vendor_name=row["vendor_name"],
        status=row["status"],
        price=row["price"] if price else None,
        proposal=row["proposal"] if full else None,
        first_submitted_at=row["first_submitted_at"],
        submitted_at=row["submitted_at"],
        withdrawn_at=row["withdrawn_at"],
        eligibility_at_submission=row["eligibility_at_submission"] if full else None,
        eligibility_at_opening=row["eligibility_at_opening"] if full else None,
        credit_grade_at_opening=row["credit_grade_at_opening"],
        invalid_reason=row["invalid_reason"],
        content_digest=row["content_digest"] if full else None,
        seal_nonce=row["seal_nonce"] if full else None,
        version=row["version"],
    )


def _seal_summary(row: Any) -> dict[str, Any]:
    """What the audit log keeps of a sealed bid: never its price or proposal."""
    return {
        "tender_id": row["tender_id"],
        "vendor_id": row["vendor_id"],
        "status": row["status"],
        "submitted_at": row["submitted_at"],
        "content_digest": row["content_digest"],
        "eligibility": row["eligibility_at_submission"],
        "version": row["version"],
    }


async def _eligibility_now(tender: Any, vendor_id: UUID, today: date) -> dict[str, Any]:
    result = await vendors.check_eligibility(
        vendor_id,
        min_assessment_grade=tender["min_assessment_grade"],
        min_credit_grade=tender["min_credit_grade"],
        today=today,
    )
    checked = {**result.as_dict(), "checked_on": today.isoformat()}
    if not result.eligible:
        raise rules.ineligible([r.as_dict() for r in result.reasons])
    return checked


async def _lock_open_tender(actor: Actor, tender_id: UUID) -> tuple[Any, datetime]:
    """Share-lock a tender the vendor may bid on, and read the clock under the lock: the
    opening's exclusive lock waits for every bid being written, and a bid written after the
    opening sees it opened. Bids are taken while published and before the deadline; a due
    tender not yet opened raises _OpenFirst."""
    tender = await db.fetchrow(f"{_TENDER_SELECT} WHERE t.id = $1 FOR SHARE OF t", tender_id)
    if tender is None or not _tender_visible(actor, tender, False):
        raise NotFound("tender", tender_id)
    now = await clock.now()
    if _due(tender, now):
        raise _OpenFirst()
    if tender["status"] == "published":
        rules.check_bid_open(now, tender["bid_deadline"])
    elif tender["opened_at"] is not None:
        raise conflict("bid_deadline_passed", "the bid deadline has passed and the tender has been opened")
    else:
        raise conflict("tender_not_open", f"the tender is {tender['status']}: it takes no bids")
    await _check_may_take_part(actor, tender)
    return tender, now


async def _deadline_passed(tender_id: UUID) -> RuleViolation:
    """Open a due tender (the bid that found it due was rolled back) and refuse the bid."""
    await open_tender(tender_id)
    return conflict("bid_deadline_passed", "the bid deadline has passed: the tender has been opened")


def _already_submitted() -> RuleViolation:
    return conflict("bid_already_submitted", "the vendor already has a bid on this tender: revise it instead")


async def submit_bid(actor: Actor, tender_id: UUID, data: BidCreate) -> BidRead:
    """Submit the vendor's sealed bid before the deadline: one live bid per vendor, price within
    the ceiling, eligibility checked now and stored with the bid."""
    try:
        async with db.transaction():
            tender, now = await _lock_open_tender(actor, tender_id)
            rules.check_bid_price(data.price, tender["ceiling_amount"])
            vendor = await db.fetchrow(
                """SELECT o.name, EXISTS (SELECT 1 FROM bids b WHERE b.tender_id = $1 AND b.vendor_id = o.id
                                                    AND b.status <> 'withdrawn') AS has_bid
                   FROM organisations o WHERE o.id = $2""",
                tender_id,
                actor.organisation_id,
            )
            if vendor["has_bid"]:
                raise _already_submitted()
            eligibility = await _eligibility_now(tender, actor.organisation_id, local_date(now))
            nonce, digest = _seal(data.price, data.proposal)
            inserted = await db.fetchrow(
                """INSERT INTO bids (id, tender_id, vendor_id, submitted_by, price, proposal, first_submitted_at,
                       submitted_at, eligibility_at_submission, seal_nonce, content_digest)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8, $9, $10) RETURNING *""",
                uuid4(),
                tender_id,
                actor.organisation_id,
                actor.user_id,
                data.price,
                data.proposal,
                now,
                eligibility,
                nonce,
                digest,
            )
            row = {**dict(inserted), "vendor_name": vendor["name"]}
            await audit.record(actor, "bid.submitted", "bid", row["id"], after=_seal_summary(row))
    except _OpenFirst:
        raise await _deadline_passed(tender_id) from None
    except asyncpg.UniqueViolationError as exc:  # the same vendor's concurrent second submission
        raise _already_submitted() from exc
    return _bid_read(row, full=True, price=True)


async def _lock_own_bid(actor: Actor, tender_id: UUID, bid_id: UUID) -> Any:
    row = await db.fetchrow(f"{_BID_SELECT} WHERE b.id = $1 AND b.tender_id = $2 FOR UPDATE OF b", bid_id, tender_id)
    if row is None or actor.role != "vendor" or row["vendor_id"] != actor.organisation_id:
        raise NotFound("bid", bid_id)
    if row["status"] == "withdrawn":
        raise conflict("bid_withdrawn", "the bid has been withdrawn: submit a new one")
    return row


async def revise_bid(actor: Actor, tender_id: UUID, bid_id: UUID, data: BidUpdate, if_match: str | None) -> BidRead:
    """Revise one's own bid before the deadline (a revision is a new submission: eligibility
    is checked again and the submission time moves)."""
    try:
        async with db.transaction():
            tender, now = await _lock_open_tender(actor, tender_id)
            row = await _lock_own_bid(actor, tender_id, bid_id)
            check_if_match(if_match, row["version"])
            price = data.price if data.price is not None else row["price"]
            proposal = data.proposal if data.proposal is not None else row["proposal"]
            rules.check_bid_price(price, tender["ceiling_amount"])
            eligibility = await _eligibility_now(tender, actor.organisation_id, local_date(now))
            nonce, digest = _seal(price, proposal)
            updated = await db.fetchrow(
                """UPDATE bids SET price = $2, proposal = $3, submitted_at = $4, eligibility_at_submission = $5,
                       seal_nonce = $6, content_digest = $7, version = version + 1 WHERE id = $1 RETURNING *""",
                bid_id,
                price,
                proposal,
                now,
                eligibility,
                nonce,
                digest,
            )
            updated = {**dict(updated), "vendor_name": row["vendor_name"]}
            await audit.record(actor, "bid.revised", "bid", bid_id, before=_seal_summary(row), after=_seal_summary(updated))
    except _OpenFirst:
        raise await _deadline_passed(tender_id) from None
    return _bid_read(updated, full=True, price=True)


async def withdraw_bid(actor: Actor, tender_id: UUID, bid_id: UUID, if_match: str | None) -> BidRead:
    """Withdraw one's own bid before the deadline; it stays on record, unopened."""
    try:
        async with db.transaction():
            _, now = await _lock_open_tender(actor, tender_id)
            row = await _lock_own_bid(actor, tender_id, bid_id)
            check_if_match(if_match, row["version"])
            updated = await db.fetchrow(
                """UPDATE bids SET status = 'withdrawn', withdrawn_at = $2, version = version + 1
                   WHERE id = $1 RETURNING *""",
                bid_id,
                now,
            )
            updated = {**dict(updated), "vendor_name": row["vendor_name"]}
            await audit.record(actor, "bid.withdrawn", "bid", bid_id, before=_seal_summary(row), after=_seal_summary(updated))
    except _OpenFirst:
        raise await _deadline_passed(tender_id) from None
    return _bid_read(updated, full=True, price=True)


async def _bid_access(actor: Actor, tender: Any) -> tuple[str, bool]:
    """How the caller sees the bids of a tender: ('own', _) only its own bids; ('all', full)
    every bid, with proposals when full; ('sealed', _) nothing yet."""
    if tender["opened_at"] is None:
        return ("own", True) if actor.role == "vendor" else ("sealed", False)
    if actor.role == "vendor":
        bid_on_it = await db.fetchval(
            "SELECT 1 FROM bids WHERE tender_id = $1 AND vendor_id = $2 AND status <> 'withdrawn'",
            tender["id"],
            actor.organisation_id,
        )
        return ("all", False) if bid_on_it else ("own", True)
    return "all", True


async def list_bids(
    actor: Actor, tender_id: UUID, status: str | None, limit: int | None, cursor: str | None
) -> Page[BidRead]:
    """Before the opening a vendor sees only its own bid and nobody else anything (bids_sealed);
    after it the bureau, the panel, admins and supervisors see every bid, and each bidder sees
    every bidder's name and price (唱标) and its own proposal only."""
    tender = await _tender_for(actor, tender_id)
    mode, full = await _bid_access(actor, tender)
    if mode == "sealed":
        rules.ensure_bids_unsealed(await clock.now(), tender["bid_deadline"])
        raise conflict("bids_sealed", "the bids have not been opened")
    limit = check_limit(limit)
    after_at, after_id = _keyset(cursor, datetime, UUID)
    own = actor.organisation_id if mode == "own" else None
    # Other bidders see the opened bids, not what a competitor withdrew before the deadline.
    hide_withdrawn = actor.role == "vendor" and mode == "all"
    rows = await db.fetch(
        f"""{_BID_SELECT}
            WHERE b.tender_id = $1 AND ($2::uuid IS NULL OR b.vendor_id = $2) AND ($3::text IS NULL OR b.status = $3)
              AND (NOT $4::boolean OR b.status <> 'withdrawn' OR b.vendor_id = $7)
              AND ($5::timestamptz IS NULL OR (b.submitted_at, b.id) > ($5, $6::uuid))
            ORDER BY b.submitted_at, b.id LIMIT $8""",
        tender_id,
        own,
        status,
        hide_withdrawn,
        after_at,
        after_id,
        actor.organisation_id,
        limit + 1,
    )

    def item(r: Any) -> BidRead:
        mine = actor.role == "vendor" and r["vendor_id"] == actor.organisation_id
        return _bid_read(r, full=full or mine, price=True)

    return page(rows, limit, lambda r: (r["submitted_at"], r["id"]), item)


async def get_bid(actor: Actor, tender_id: UUID, bid_id: UUID) -> BidRead:
    tender = await _tender_for(actor, tender_id)
    row = await db.fetchrow(f"{_BID_SELECT} WHERE b.id = $1 AND b.tender_id = $2", bid_id, tender_id)
    mode, full = await _bid_access(actor, tender)
    mine = row is not None and actor.role == "vendor" and row["vendor_id"] == actor.organisation_id
    if row is None or (mode == "own" and not mine) or (mode == "all" and not full and not mine and row["status"] == "withdrawn"):
        raise NotFound("bid", bid_id)
    if mode == "sealed":
        raise conflict("bids_sealed", "the bids have not been opened")
    return _bid_read(row, full=full or mine, price=True)


async def tender_bidder_ids(tender_id: UUID) -> list[UUID]:
    """Vendors that submitted a bid to the tender, withdrawn bids included."""
    rows = await db.fetch("SELECT DISTINCT vendor_id FROM bids WHERE tender_id = $1 ORDER BY vendor_id", tender_id)
    return [r["vendor_id"] for r in rows]


# --- experts, panel and scores ---------------------------------------------------------------


async def _expert(user_id: UUID) -> Any:
    row = await db.fetchrow("SELECT id, username FROM users WHERE id = $1 AND role = 'expert'", user_id)
    if row is None:
        raise NotFound("expert", user_id)
    return row


async def get_affiliations(actor: Actor, user_id: UUID) -> AffiliationsRead:
    if not _reads_all(actor) and actor.user_id != user_id:
        raise NotFound("expert", user_id)
    await _expert(user_id)
    rows = await db.fetch(
        "SELECT organisation_id FROM expert_affiliations WHERE expert_user_id = $1 ORDER BY organisation_id", user_id
    )
    return AffiliationsRead(expert_user_id=user_id, organisation_ids=[r["organisation_id"] for r in rows])


async def put_affiliations(actor: Actor, user_id: UUID, data: AffiliationsWrite) -> AffiliationsRead:
    """Record (replace) the organisations an expert is affiliated with (回避)."""
    wanted = sorted(set(data.organisation_ids))
    async with db.transaction():
        await db.fetchrow("SELECT id FROM users WHERE id = $1 FOR UPDATE", user_id)
        await _expert(user_id)
        found = {r["id"] for r in await db.fetch("SELECT id FROM organisations WHERE id = ANY($1::uuid[])", wanted)}
        unknown = [o for o in wanted if o not in found]
        if unknown:
            raise RuleViolation(
                "organisation_not_found",
                f"{len(unknown)} organisation(s) do not exist",
                errors=[{"field": "organisation_ids", "message": f"{o} does not exist"} for o in unknown],
            )
        before = await get_affiliations(actor, user_id)
        await db.execute("DELETE FROM expert_affiliations WHERE expert_user_id = $1", user_id)
        now = await clock.now()
        await db.executemany(
            """INSERT INTO expert_affiliations (expert_user_id, organisation_id, declared_at, declared_by)
               VALUES ($1, $2, $3, $4)""",
            [(user_id, o, now, actor.user_id) for o in wanted],
        )
        after = AffiliationsRead(expert_user_id=user_id, organisation_ids=wanted)
        await audit.record(actor, "expert.affiliations_declared", "user", user_id, before=before.model_dump(), after=after.model_dump())
    return after


async def _affiliated_with_bidders(tender_id: UUID, expert_ids: Sequence[UUID]) -> set[UUID]:
    rows = await db.fetch(
        """SELECT DISTINCT a.expert_user_id FROM expert_affiliations a
           WHERE a.expert_user_id = ANY($2::uuid[])
             AND a.organisation_id IN (SELECT vendor_id FROM bids WHERE tender_id = $1)""",
        tender_id,
        list(expert_ids),
    )
    return {r["expert_user_id"] for r in rows}


async def _panel(tender_id: UUID) -> list[Any]:
    return await db.fetch(
        """SELECT p.expert_user_id, u.username, p.appointed_at FROM tender_panel_members p
           JOIN users u ON u.id = p.expert_user_id WHERE p.tender_id = $1 ORDER BY u.username""",
        tender_id,
    )


def _panel_read(tender_id: UUID, rows: Sequence[Any]) -> PanelRead:
    return PanelRead(
        tender_id=tender_id,
        experts=[PanelExpertRead(user_id=r["expert_user_id"], username=r["username"]) for r in rows],
        appointed_at=max((r["appointed_at"] for r in rows), default=None),
    )


def _check_evaluating(tender: Any) -> None:
    if tender["status"] != "evaluating":
        raise conflict("tender_not_evaluating", f"the tender is {tender['status']}, not under evaluation")


async def set_panel(actor: Actor, tender_id: UUID, data: PanelWrite) -> PanelRead:
    """Appoint the evaluation panel (评标委员会) after the opening: an odd number of experts (5+
    for a public tender, 3+ otherwise), none affiliated with a bidder. Replaced freely until
    the first score is recorded."""
    await _open_if_due(tender_id)
    async with db.transaction():
        tender = await _own_tender(actor, tender_id, lock="UPDATE")
        _check_evaluating(tender)
        if await db.fetchval("SELECT 1 FROM bid_scores WHERE tender_id = $1 LIMIT 1", tender_id):
            raise conflict("panel_locked", "the panel has started scoring: it can no longer be changed")
        ids = list(data.expert_user_ids)
        experts = {
            r["id"]
            for r in await db.fetch(
                "SELECT id FROM users WHERE id = ANY($1::uuid[]) AND role = 'expert' AND active", list(set(ids))
            )
        }
        unknown = [e for e in dict.fromkeys(ids) if e not in experts]
        if unknown:
            raise RuleViolation(
                "expert_not_found",
                f"{len(unknown)} id(s) are not active experts",
                errors=[{"field": "expert_user_ids", "message": f"{e} is not an active expert"} for e in unknown],
            )
        rules.check_panel(
            tender["method"], ids, await _affiliated_with_bidders(tender_id, ids), ceiling_amount=tender["ceiling_amount"]
        )
        before = _panel_read(tender_id, await _panel(tender_id))
        now = await clock.now()
        await db.execute("DELETE FROM tender_panel_members WHERE tender_id = $1", tender_id)
        await db.executemany(
            """INSERT INTO tender_panel_members (tender_id, expert_user_id, appointed_at, appointed_by)
               VALUES ($1, $2, $3, $4)""",
            [(tender_id, e, now, actor.user_id) for e in ids],
        )
        after = _panel_read(tender_id, await _panel(tender_id))
        await audit.record(actor, "tender.panel_appointed", "tender", tender_id, before=before.model_dump(), after=after.model_dump())
    return after


async def get_panel(actor: Actor, tender_id: UUID) -> PanelRead:
    tender = await _tender_for(actor, tender_id)
    if actor.role == "vendor":
        raise NotFound("panel of tender", tender["id"])
    return _panel_read(tender_id, await _panel(tender_id))


def _score_read(row: Any) -> ScoreSheetRead:
    return ScoreSheetRead(
        tender_id=row["tender_id"],
        bid_id=row["bid_id"],
        expert_user_id=row["expert_user_id"],
        scores={k: Decimal(v) for k, v in row["scores"].items()},
        scored_at=row["scored_at"],
        version=row["version"],
    )


async def put_scores(actor: Actor, tender_id: UUID, bid_id: UUID, data: ScoreSheetWrite) -> ScoreSheetRead:
    """An expert of the panel scores a valid bid on every criterion (0 ≤ score ≤ weight); a
    sheet may be rescored while the tender is under evaluation."""
    await _tender_for(actor, tender_id)
    async with db.transaction():
        tender = await db.fetchrow("SELECT * FROM tenders WHERE id = $1 FOR SHARE", tender_id)
        _check_evaluating(tender)
        if tender["evaluation_method"] != "comprehensive":
            raise conflict("scoring_not_applicable", "the lowest price method (最低评标价法) has no scores")
        bid = await db.fetchrow("SELECT id, status FROM bids WHERE id = $1 AND tender_id = $2", bid_id, tender_id)
        if bid is None:
            raise NotFound("bid", bid_id)
        if bid["status"] != "valid":
            raise conflict("bid_not_valid", f"the bid is {bid['status']}: only valid bids are scored")
        if await _affiliated_with_bidders(tender_id, [actor.user_id]):
            raise RuleViolation(
                "expert_conflict_of_interest",
                "the expert has declared an affiliation with a bidder and may not score",
                errors=[{"field": "expert_user_ids", "message": f"expert {actor.user_id} is affiliated with a bidder"}],
            )
        clean = rules.check_expert_scores(tender["criteria"], data.scores)
        stored = {k: str(v) for k, v in clean.items()}
        before = await db.fetchrow(
            "SELECT * FROM bid_scores WHERE bid_id = $1 AND expert_user_id = $2 FOR UPDATE", bid_id, actor.user_id
        )
        row = await db.fetchrow(
            """INSERT INTO bid_scores (bid_id, expert_user_id, tender_id, scores, scored_at)
               VALUES ($1, $2, $3, $4, $5)
               ON CONFLICT (bid_id, expert_user_id)
               DO UPDATE SET scores = EXCLUDED.scores, scored_at = EXCLUDED.scored_at, version = bid_scores.version + 1
               RETURNING *""",
            bid_id,
            actor.user_id,
            tender_id,
            stored,
            await clock.now(),
        )
        result = _score_read(row)
        await audit.record(
            actor,
            "bid.scored",
            "bid",
            bid_id,
            before=_score_read(before).model_dump() if before else None,
            after=result.model_dump(),
        )
    return result


async def list_scores(
    actor: Actor, tender_id: UUID, bid_id: UUID | None, limit: int | None, cursor: str | None
) -> Page[ScoreSheetRead]:
    """Score sheets by bid then expert: an expert sees its own; the bureau, admins and
    supervisors all of them. Experts' individual scores are never public."""
    await _tender_for(actor, tender_id)
    if actor.role == "vendor":
        raise NotFound("scores of tender", tender_id)
    limit = check_limit(limit)
    after_bid, after_expert = _keyset(cursor, UUID, UUID)
    rows = await db.fetch(
        """SELECT * FROM bid_scores WHERE tender_id = $1 AND ($2::uuid IS NULL OR bid_id = $2)
             AND ($3::uuid IS NULL OR expert_user_id = $3)
             AND ($4::uuid IS NULL OR (bid_id, expert_user_id) > ($4, $5::uuid))
           ORDER BY bid_id, expert_user_id LIMIT $6""",
        tender_id,
        bid_id,
        actor.user_id if actor.role == "expert" else None,
        after_bid,
        after_expert,
        limit + 1,
    )
    return page(rows, limit, lambda r: (r["bid_id"], r["expert_user_id"]), _score_read)


# --- award and challenges (中标公告, 质疑) -----------------------------------------------------

_AWARD_SELECT = """SELECT a.*, o.name AS vendor_name FROM tender_awards a JOIN organisations o ON o.id = a.vendor_id"""


async def _award_read(row: Any) -> AwardRead:
    bidders = await db.fetch(
        """SELECT b.vendor_id, o.name AS vendor_name, b.price, b.status = 'valid' AS valid, b.credit_grade_at_opening
           FROM bids b JOIN organisations o ON o.id = b.vendor_id
           WHERE b.tender_id = $1 AND b.status IN ('valid', 'invalid') ORDER BY b.price, b.submitted_at, b.id""",
        row["tender_id"],
    )
    return AwardRead.model_validate(
        {**dict(row), "standstill_last_day": last_day(row["standstill_until"]), "bidders": [dict(b) for b in bidders]}
    )


async def award_tender(actor: Actor, tender_id: UUID, if_match: str | None) -> AwardRead:
    """Compute, store and publish the ranking (rank 1 wins) and start the standstill of 7
    working days during which bidders may challenge."""
    await _open_if_due(tender_id)
    async with db.transaction():
        tender = await _own_tender(actor, tender_id, lock="UPDATE")
        check_if_match(if_match, tender["version"])
        rules.check_tender_transition(tender["status"], "awarded")
        bids = await db.fetch(
            """SELECT b.id, b.vendor_id, o.name AS vendor_name, b.price, b.submitted_at, b.credit_grade_at_opening
               FROM bids b JOIN organisations o ON o.id = b.vendor_id
               WHERE b.tender_id = $1 AND b.status = 'valid' ORDER BY b.submitted_at, b.id""",
            tender_id,
        )
        panel = [r["expert_user_id"] for r in await _panel(tender_id)]
        sheets: dict[UUID, dict[UUID, dict[str, Decimal]]] = {b["id"]: {} for b in bids}
        for s in await db.fetch("SELECT bid_id, expert_user_id, scores FROM bid_scores WHERE tender_id = $1", tender_id):
            if s["bid_id"] in sheets:
                sheets[s["bid_id"]][s["expert_user_id"]] = {k: Decimal(v) for k, v in s["scores"].items()}
        ranked = rules.rank_bids(
            tender["evaluation_method"],
            tender["price_weight"],
            tender["criteria"],
            [rules.BidForRanking(b["id"], b["vendor_name"], b["price"], b["submitted_at"], sheets[b["id"]]) for b in bids],
            panel,
        )
        if not ranked:
            raise conflict("no_valid_bids", "there is no valid bid to award")
        by_id = {b["id"]: b for b in bids}
        ranking = [
            {
                "rank": r.rank,
                "bid_id": r.bid_id,
                "vendor_id": by_id[r.bid_id]["vendor_id"],
                "vendor_name": r.vendor_name,
                "price": r.price,
                "price_score": r.price_score,
                "technical_score": r.technical_score,
                "total_score": r.total_score,
                "credit_grade_at_opening": by_id[r.bid_id]["credit_grade_at_opening"],
                "submitted_at": r.submitted_at,
            }
            for r in ranked
        ]
        winner = ranked[0]
        now = await clock.now()
        calendar = await clock.calendar_for_update()
        until = rules.standstill_until(now, calendar)
        warning = calendar_warning(calendar, now, until)
        award_id = uuid4()
        await db.execute(
            """INSERT INTO tender_awards (id, tender_id, winning_bid_id, vendor_id, price, ranking, awarded_at,
                   awarded_by, standstill_until, calendar_warning)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)""",
            award_id,
            tender_id,
            winner.bid_id,
            by_id[winner.bid_id]["vendor_id"],
            winner.price,
            ranking,
            now,
            actor.user_id,
            until,
            warning,
        )
        await db.execute(
            """UPDATE tenders SET status = 'awarded', award_id = $2, updated_at = $3, version = version + 1
               WHERE id = $1""",
            tender_id,
            award_id,
            now,
        )
        result = await _award_read(await db.fetchrow(f"{_AWARD_SELECT} WHERE a.id = $1", award_id))
        await audit.record(
            actor, "tender.awarded", "tender", tender_id, before={"status": tender["status"]}, after=result.model_dump()
        )
    return result


async def get_award(actor: Actor, tender_id: UUID) -> AwardRead:
    """The tender's latest award notice (voided ones stay readable with their status)."""
    await _tender_for(actor, tender_id)
    row = await db.fetchrow(
        f"{_AWARD_SELECT} WHERE a.tender_id = $1 ORDER BY a.awarded_at DESC, a.id DESC LIMIT 1", tender_id
    )
    if row is None:
        raise NotFound("award of tender", tender_id)
    return await _award_read(row)


def _challenge_read(row: Any, now: datetime) -> ChallengeRead:
    return ChallengeRead.model_validate(
        {
            **dict(row),
            "reply_last_day": last_day(row["reply_due"]),
            "reply_overdue": rules.challenge_reply_overdue(row["status"], row["reply_due"], now),
        }
    )


async def file_challenge(actor: Actor, tender_id: UUID, data: ChallengeCreate) -> ChallengeRead:
    """A bidder challenges the award (质疑) during the standstill."""
    await _tender_for(actor, tender_id)
    async with db.transaction():
        tender = await db.fetchrow("SELECT * FROM tenders WHERE id = $1 FOR UPDATE", tender_id)
        bid_on_it = await db.fetchval(
            "SELECT 1 FROM bids WHERE tender_id = $1 AND vendor_id = $2 AND status IN ('valid','invalid')",
            tender_id,
            actor.organisation_id,
        )
        if not bid_on_it:
            raise Forbidden("only a vendor whose bid was opened may challenge the award", "not_a_bidder")
        if tender["status"] != "awarded":
            raise conflict("no_award_to_challenge", f"the tender is {tender['status']}: there is no award to challenge")
        award = await db.fetchrow("SELECT * FROM tender_awards WHERE id = $1", tender["award_id"])
        now = await clock.now()
        rules.check_challenge_window(now, award["standstill_until"])
        if await db.fetchval(
            "SELECT 1 FROM tender_challenges WHERE award_id = $1 AND vendor_id = $2 AND status = 'pending'",
            award["id"],
            actor.organisation_id,
        ):
            raise conflict("challenge_already_pending", "the vendor already has a pending challenge to this award")
        reply_due = rules.challenge_reply_due(now, await clock.calendar_for_update())
        row = await db.fetchrow(
            """INSERT INTO tender_challenges (id, tender_id, award_id, vendor_id, filed_by, grounds, filed_at, reply_due)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *""",
            uuid4(),
            tender_id,
            award["id"],
            actor.organisation_id,
            actor.user_id,
            data.grounds,
            now,
            reply_due,
        )
        result = _challenge_read(row, now)
        await audit.record(actor, "challenge.filed", "challenge", row["id"], after=result.model_dump())
    return result


async def list_challenges(actor: Actor, tender_id: UUID, limit: int | None, cursor: str | None) -> Page[ChallengeRead]:
    """The bureau, admins and supervisors see every challenge; a vendor its own."""
    await _tender_for(actor, tender_id)
    if actor.role == "expert":
        return Page(items=[])
    limit = check_limit(limit)
    after_at, after_id = _keyset(cursor, datetime, UUID)
    rows = await db.fetch(
        """SELECT * FROM tender_challenges WHERE tender_id = $1 AND ($2::uuid IS NULL OR vendor_id = $2)
             AND ($3::timestamptz IS NULL OR (filed_at, id) > ($3, $4::uuid))
           ORDER BY filed_at, id LIMIT $5""",
        tender_id,
        actor.organisation_id if actor.role == "vendor" else None,
        after_at,
        after_id,
        limit + 1,
    )
    now = await clock.now()
    return page(rows, limit, lambda r: (r["filed_at"], r["id"]), lambda r: _challenge_read(r, now))


async def resolve_challenge(actor: Actor, tender_id: UUID, challenge_id: UUID, data: ChallengeResolve) -> ChallengeRead:
    """The bureau answers a challenge: upheld voids the award and sends the tender back to
    evaluation (experts may rescore; award again later); dismissed keeps the award."""
    await _open_if_due(tender_id)
    async with db.transaction():
        tender = await _own_tender(actor, tender_id, lock="UPDATE")
        row = await db.fetchrow(
            "SELECT * FROM tender_challenges WHERE id = $1 AND tender_id = $2 FOR UPDATE", challenge_id, tender_id
        )
        if row is None:
            raise NotFound("challenge", challenge_id)
        if row["status"] != "pending":
            raise conflict("challenge_already_resolved", f"the challenge is already {row['status']}")
        now = await clock.now()
        effect = rules.challenge_resolution_effect(data.outcome)
        moot: list[Any] = []
        if effect is rules.TenderStatus.EVALUATING:
            rules.check_tender_transition(tender["status"], "evaluating")
            moot = await db.fetch(
                "SELECT * FROM tender_challenges WHERE award_id = $1 AND status = 'pending' AND id <> $2 FOR UPDATE",
                row["award_id"],
                challenge_id,
            )
        updated = await db.fetchrow(
            """UPDATE tender_challenges SET status = $2, reply = $3, resolved_at = $4, resolved_by = $5,
                   version = version + 1 WHERE id = $1 RETURNING *""",
            challenge_id,
            data.outcome,
            data.reply,
            now,
            actor.user_id,
        )
        if effect is rules.TenderStatus.EVALUATING:
            await db.execute(
                """UPDATE tender_challenges SET status = 'moot', reply = $2, resolved_at = $3, resolved_by = $4,
                       version = version + 1 WHERE id = ANY($1::uuid[])""",
                [m["id"] for m in moot],
                f"the award was voided by challenge {challenge_id}",
                now,
                actor.user_id,
            )
            await db.execute(
                """UPDATE tenders SET status = 'evaluating', award_id = NULL, updated_at = $2, version = version + 1
                   WHERE id = $1""",
                tender_id,
                now,
            )
            await db.execute(
                "UPDATE tender_awards SET status = 'voided', voided_at = $2, voided_by_challenge = $3 WHERE id = $1",
                row["award_id"],
                now,
                challenge_id,
            )
        result = _challenge_read(updated, now)
        await audit.record(
            actor, f"challenge.{data.outcome}", "challenge", challenge_id,
            before=_challenge_read(row, now).model_dump(), after=result.model_dump(),
        )
        for m in moot:
            await audit.record(actor, "challenge.moot", "challenge", m["id"], before=_challenge_read(m, now).model_dump(),
                               after={"status": "moot", "voided_by_challenge": challenge_id})
        if effect is rules.TenderStatus.EVALUATING:
            await audit.record(
                actor, "tender.award_voided", "tender", tender_id,
                before={"status": "awarded", "award_id": row["award_id"]},
                after={"status": "evaluating", "challenge_id": challenge_id},
            )
    return result


# --- what the contracts domain needs -----------------------------------------------------------


def tenders_sql() -> str:
    """Tenders as a subquery for another domain's report to join: id, title, method,
    published_at, catalogue_item_id, awarded_at (of its award, if any)."""
    return """(SELECT t.id, t.title, t.method, t.published_at, t.catalogue_item_id, a.awarded_at
    FROM tenders t LEFT JOIN tender_awards a ON a.id = t.award_id)"""



@dataclass(frozen=True)
class AwardForContract:
    """An awarded tender as a contract is made from it."""

    tender_id: UUID
    bureau_id: UUID
    vendor_id: UUID
    bid_id: UUID
    price: Decimal
    contract_months: int
    recurring: bool
    milestones: tuple[tuple[str, Decimal, int], ...]  # (title, percentage, due_offset_days)
    payment_rule: list[dict] | None  # bands {min_score, max_score, ratio} as stored
    budget_line_id: UUID
    ceiling_amount: Decimal
    bidder_vendor_ids: tuple[UUID, ...]
    title: str


async def award_for_contract(tender_id: UUID, bureau_org_id: UUID) -> AwardForContract:
    """Lock an awarded tender of this bureau for contracting: only after the standstill and
    with no challenge pending. Call inside the transaction that creates the contract."""
    await _open_if_due(tender_id)
    async with db.transaction():
        tender = await db.fetchrow("SELECT * FROM tenders WHERE id = $1 FOR UPDATE", tender_id)
        if tender is None or tender["bureau_id"] != bureau_org_id:
            raise NotFound("tender", tender_id)
        if tender["status"] != "awarded":
            raise conflict("tender_not_awarded", f"the tender is {tender['status']}: a contract needs an award")
        award = await db.fetchrow("SELECT * FROM tender_awards WHERE id = $1", tender["award_id"])
        pending = await db.fetchval(
            "SELECT count(*) FROM tender_challenges WHERE award_id = $1 AND status = 'pending'", award["id"]
        )
        rules.check_contract_allowed(await clock.now(), award["standstill_until"], pending)
        return AwardForContract(
            tender_id=tender_id,
            bureau_id=tender["bureau_id"],
            vendor_id=award["vendor_id"],
            bid_id=award["winning_bid_id"],
            price=award["price"],
            contract_months=tender["contract_months"],
            recurring=tender["recurring"],
            milestones=tuple(
                (m["title"], Decimal(m["percentage"]), int(m["due_offset_days"])) for m in tender["milestones"]
            ),
            payment_rule=tender["payment_rule"],
            budget_line_id=tender["budget_line_id"],
            ceiling_amount=tender["ceiling_amount"],
            bidder_vendor_ids=tuple(await tender_bidder_ids(tender_id)),
            title=tender["title"],
        )


async def mark_contracted(actor: Actor | None, tender_id: UUID) -> None:
    """awarded → contracted: the reservation has become the contract's commitment (the
    contracts domain calls commit_budget in the same transaction)."""
    async with db.transaction():
        tender = await db.fetchrow("SELECT * FROM tenders WHERE id = $1 FOR UPDATE", tender_id)
        if tender is None:
            raise NotFound("tender", tender_id)
        rules.check_tender_transition(tender["status"], "contracted")
        now = await clock.now()
        await db.execute(
            """UPDATE tenders SET status = 'contracted', reserved_amount = 0, closed_at = $2, updated_at = $2,
                   version = version + 1 WHERE id = $1""",
            tender_id,
            now,
        )
        await audit.record(
            actor, "tender.contracted", "tender", tender_id,
            before={"status": "awarded", "reserved_amount": tender["reserved_amount"]},
            after={"status": "contracted", "reserved_amount": Decimal("0.00")},
        )



# --- periods recounted when a year's schedule is recorded ------------------------------------


def _year_bounds(year: int) -> tuple[datetime, datetime]:
    return start_of_day(date(year, 1, 1)), start_of_day(date(year + 1, 1, 1))


async def recompute_periods(actor: Actor, year: int, calendar: WorkCalendar, now: datetime) -> list[PeriodChange]:
    """Recount, under `calendar` (with `year` just recorded), every open procurement period
    whose count reached into that year: published bid deadlines with a working-day minimum,
    standstills, and the bureau's answer to a pending challenge.

    A window given to a party never ends sooner than announced: only a later end is stored. A
    bid deadline now shorter than its legal minimum moves to the earliest allowed day, as a
    public, audited change of the tender. Each party concerned is notified. Runs inside the
    recording's transaction, which holds the calendar lock.
    """
    start, end = _year_bounds(year)
    changes: list[PeriodChange] = []
    working_day_methods = [m.value for m, p in rules.BID_PERIODS.items() if p.working_days]
    tenders = await db.fetch(
        """SELECT id, bureau_id, method, published_at, bid_deadline, calendar_warning FROM tenders
           WHERE status = 'published' AND method = ANY($1::text[]) AND bid_deadline > $2
             AND published_at < $4 AND bid_deadline >= $3
           ORDER BY id FOR UPDATE""",
        working_day_methods, now, start, end,
    )
    for t in tenders:
        minimum = rules.minimum_bid_deadline(t["method"], t["published_at"], calendar)
        warning = calendar_warning(calendar, t["published_at"], minimum)
        moved = rules.extended_bid_deadline(t["method"], t["published_at"], t["bid_deadline"], calendar)
        if moved is None:
            if warning != t["calendar_warning"]:
                await db.execute("UPDATE tenders SET calendar_warning = $2 WHERE id = $1", t["id"], warning)
            continue
        await db.execute(
            """UPDATE tenders SET bid_deadline = $2, calendar_warning = $3, updated_at = $4, version = version + 1
               WHERE id = $1""",
            t["id"], moved, warning, now,
        )
        change = PeriodChange(
            entity_type="tender", entity_id=str(t["id"]), period="bid_deadline",
            before=t["bid_deadline"], after=moved, last_day=local_date(moved),
        )
        await audit.record(
            actor, "tender.deadline_extended", "tender", t["id"],
            before={"bid_deadline": t["bid_deadline"]},
            after={"bid_deadline": moved, "reason": f"the {year} holiday schedule was recorded: the minimum period "
                   f"of {rules.Method(t['method']).label} now ends later"},
        )
        told = [t["bureau_id"], *await _bidders_and_invited(t["id"])]
        await notifications.record(
            told, "tender.deadline_extended", "tender", t["id"],
            f"投标截止时间因{year}年节假日安排调整，顺延至 {moved.astimezone(SHANGHAI):%Y-%m-%d %H:%M}（北京时间）",
            now, {"before": t["bid_deadline"].isoformat(), "after": moved.isoformat()},
        )
        changes.append(change)

    awards = await db.fetch(
        """SELECT a.id, a.tender_id, a.awarded_at, a.standstill_until, a.calendar_warning, t.bureau_id
           FROM tender_awards a JOIN tenders t ON t.id = a.tender_id
           WHERE a.status = 'active' AND t.status = 'awarded' AND a.awarded_at < $2 AND a.standstill_until > $1
           ORDER BY a.id FOR UPDATE OF t, a""",
        start, end,
    )
    for a in awards:
        recounted = rules.standstill_until(a["awarded_at"], calendar)
        warning = calendar_warning(calendar, a["awarded_at"], max(recounted, a["standstill_until"]))
        if recounted <= a["standstill_until"] or recounted <= now:
            if warning != a["calendar_warning"]:
                await db.execute("UPDATE tender_awards SET calendar_warning = $2 WHERE id = $1", a["id"], warning)
            continue
        await db.execute(
            "UPDATE tender_awards SET standstill_until = $2, calendar_warning = $3 WHERE id = $1",
            a["id"], recounted, warning,
        )
        await db.execute("UPDATE tenders SET updated_at = $2, version = version + 1 WHERE id = $1", a["tender_id"], now)
        await audit.record(
            actor, "tender.standstill_extended", "tender", a["tender_id"],
            before={"award_id": a["id"], "standstill_until": a["standstill_until"]},
            after={"award_id": a["id"], "standstill_until": recounted,
                   "reason": f"the {year} holiday schedule was recorded"},
        )
        told = [a["bureau_id"], *await tender_bidder_ids(a["tender_id"])]
        await notifications.record(
            told, "tender.standstill_extended", "tender", a["tender_id"],
            f"因{year}年节假日安排调整，对中标结果提出质疑的期限顺延至 {last_day(recounted):%Y-%m-%d} 24:00（北京时间）",
            now, {"before": a["standstill_until"].isoformat(), "after": recounted.isoformat()},
        )
        changes.append(PeriodChange(
            entity_type="tender", entity_id=str(a["tender_id"]), period="standstill_until",
            before=a["standstill_until"], after=recounted, last_day=last_day(recounted),
        ))

    challenges = await db.fetch(
        """SELECT c.id, c.tender_id, c.vendor_id, c.filed_at, c.reply_due, t.bureau_id
           FROM tender_challenges c JOIN tenders t ON t.id = c.tender_id
           WHERE c.status = 'pending' AND c.filed_at < $2 AND c.reply_due > $1
           ORDER BY c.id FOR UPDATE OF c""",
        start, end,
    )
    for c in challenges:
        recounted = rules.challenge_reply_due(c["filed_at"], calendar)
        if recounted <= c["reply_due"] or recounted <= now:
            continue
        await db.execute(
            "UPDATE tender_challenges SET reply_due = $2, version = version + 1 WHERE id = $1", c["id"], recounted
        )
        await audit.record(
            actor, "challenge.reply_due_extended", "challenge", c["id"],
            before={"reply_due": c["reply_due"]},
            after={"reply_due": recounted, "reason": f"the {year} holiday schedule was recorded"},
        )
        await notifications.record(
            [c["bureau_id"], c["vendor_id"]], "challenge.reply_due_extended", "challenge", c["id"],
            f"因{year}年节假日安排调整，质疑答复期限顺延至 {last_day(recounted):%Y-%m-%d} 24:00（北京时间）",
            now, {"before": c["reply_due"].isoformat(), "after": recounted.isoformat()},
        )
        changes.append(PeriodChange(
            entity_type="challenge", entity_id=str(c["id"]), period="reply_due",
            before=c["reply_due"], after=recounted, last_day=last_day(recounted),
        ))
    return changes


async def _bidders_and_invited(tender_id: UUID) -> list[UUID]:
    """Vendors with a live bid on a published tender, and those invited to it."""
    rows = await db.fetch(
        """SELECT vendor_id FROM bids WHERE tender_id = $1 AND status = 'submitted'
           UNION SELECT vendor_id FROM tender_invitations WHERE tender_id = $1""",
        tender_id,
    )
    return [r["vendor_id"] for r in rows]
