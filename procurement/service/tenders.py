"""Tenders from draft to publication: create, change (a draft), publish, cancel, read and list,
with the invited vendors of an invited tender."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from govbuy import audit, clock
from govbuy import database as db
from govbuy.audit import Actor
from govbuy.errors import NotFound, check_if_match
from govbuy.pagination import Page, check_limit, page
from govbuy.pagination import typed_cursor
from govbuy.rules import RuleViolation, WorkCalendar, calendar_warning, conflict
from planning import service as planning
from procurement import rules
from procurement.schemas import TenderCreate, TenderRead, TenderUpdate

from procurement.service._common import (
    READERS,
    _TENDER_SELECT,
    _reads_all,
    actor_region,
)
from procurement.service.remedies import cancel_locked
from procurement.service.opening import _due, _open_if_due, _tender_for, open_due_tenders, open_tender


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
    "sme",
    "performance_targets",
    "milestones",
    "payment_rule",
    "bid_deadline",
    "invited_vendor_ids",
    "procurement_intention_id",
    "intention_notice_exception",
)


def _grade_label(number: int | None) -> str | None:
    return rules.ASSESSMENT_GRADES[number - 1] if number else None


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
        sme={"reserved": row["sme_reserved"], "price_deduction_percent": row["sme_price_deduction_percent"]},
        performance_targets=row["performance_targets"],
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
        suspended_until=row["suspended_until"] if rules.is_suspended(row["suspended_until"], now) else None,
        challenge_reply_overdue=row["earliest_reply_due"] is not None and now >= row["earliest_reply_due"],
        invited_vendor_ids=invited_ids if sees_invitations else None,
        invited=invited,
        procurement_intention_id=row["procurement_intention_id"],
        intention_notice_exception=row["intention_notice_exception"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        amendment_count=row["amendment_count"],
        amended_at=row["amended_at"],
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
    intention: planning.TenderIntention | None


async def _check_tender(
    actor: Actor, fields: dict[str, Any], now: datetime, calendar: WorkCalendar | None = None
) -> _CheckedTender:
    """Every rule a tender's terms must meet, judged as if it were published now (with the
    calendar given, when publishing: the one locked for the change)."""
    method = fields["method"]
    terms = _checked_terms(fields)
    invited = rules.check_invitations(method, fields["invited_vendor_ids"])

    year = await planning.budget_line_year(actor.organisation_id, fields["budget_line_id"])
    if year is None:
        message = "no budget line of this bureau has that id"
        raise RuleViolation("budget_line_not_found", message, errors=[{"field": "budget_line_id", "message": message}])
    await planning.check_tender_item(fields["catalogue_item_id"], bureau_id=actor.organisation_id, year=year)
    intention = None
    if fields.get("procurement_intention_id") is not None:
        intention = await planning.tender_intention(
            fields["procurement_intention_id"], bureau_id=actor.organisation_id, budget_line_id=fields["budget_line_id"]
        )
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
        **terms,
        "bid_deadline": fields["bid_deadline"],
        "procurement_intention_id": fields.get("procurement_intention_id"),
        "intention_notice_exception": fields.get("intention_notice_exception"),
    }
    return _CheckedTender(values, tuple(invited), warning, intention)


def _checked_terms(fields: dict[str, Any]) -> dict[str, Any]:
    """The tender's terms that need no look-up, checked by the rules, as their columns store
    them (a draft's change, a publication and an amendment all check them here)."""
    rules.check_contract_term(fields["contract_months"], fields["recurring"])
    scheme = rules.validate_scoring(fields["evaluation_method"], fields["price_weight"], fields["criteria"])
    rules.check_evaluation_method(fields["method"], fields["evaluation_method"])
    milestones = rules.validate_milestone_plan(fields["milestones"], fields["contract_months"])
    eligibility = fields["eligibility"] or {}
    requirement = rules.validate_eligibility(eligibility.get("min_assessment_grade"), eligibility.get("min_credit_grade"))
    sme = fields.get("sme") or {}
    policy = rules.validate_sme_policy(bool(sme.get("reserved")), sme.get("price_deduction_percent"))
    return {
        "evaluation_method": scheme.evaluation_method.value,
        "price_weight": scheme.price_weight,
        "criteria": [_criterion_json(c) for c in scheme.criteria],
        "min_assessment_grade": requirement.min_assessment_grade_number,
        "min_credit_grade": requirement.min_credit_grade,
        "sme_reserved": policy.reserved,
        "sme_price_deduction_percent": policy.price_deduction_percent,
        "performance_targets": [t.as_dict() for t in rules.validate_targets(fields.get("performance_targets"))],
        "milestones": [
            {"title": m.title, "percentage": str(m.percentage), "due_offset_days": m.due_offset_days} for m in milestones
        ],
        "payment_rule": rules.payment_rule_bands(fields["payment_rule"]),
    }


def _criterion_json(c: rules.Criterion) -> dict[str, Any]:
    stored: dict[str, Any] = {"name": c.name, "weight": str(c.weight)}
    if c.scored_by_rule:
        stored["points_by_grade"] = {rules.ASSESSMENT_GRADES[g - 1]: str(p) for g, p in c.points_by_grade}
    return stored


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
        # A draft of rule version 1 loses its minimum assessment grade at its next change: the
        # grade is a priority now, never a bar (vendors.rules.ELIGIBILITY_RULE_VERSION).
        "eligibility": {"min_assessment_grade": None, "min_credit_grade": row["min_credit_grade"]},
        "sme": {"reserved": row["sme_reserved"], "price_deduction_percent": row["sme_price_deduction_percent"] or None},
        "performance_targets": row["performance_targets"],
        "milestones": [{**m, "percentage": Decimal(m["percentage"])} for m in row["milestones"]],
        "payment_rule": row["payment_rule"],
        "bid_deadline": row["bid_deadline"],
        "invited_vendor_ids": invited or None,
        "procurement_intention_id": row["procurement_intention_id"],
        "intention_notice_exception": row["intention_notice_exception"],
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
    "sme_reserved",
    "sme_price_deduction_percent",
    "performance_targets",
    "procurement_intention_id",
    "intention_notice_exception",
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
                   sme_reserved, sme_price_deduction_percent, performance_targets, procurement_intention_id,
                   intention_notice_exception, created_by, created_at, updated_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20,
                       $21, $22, $23, $24, $25, $25)""",
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
                   milestones = $15, payment_rule = $16, bid_deadline = $17, sme_reserved = $18,
                   sme_price_deduction_percent = $19, performance_targets = $20, procurement_intention_id = $21,
                   intention_notice_exception = $22, updated_at = $23, version = version + 1
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
        await _check_intention_notice(actor, row, checked.intention, now)
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


async def _check_intention_notice(
    actor: Actor, row: Any, intention: planning.TenderIntention | None, now: datetime
) -> None:
    """The 30 days from the procurement intention to the tender (财库〔2020〕10号), or the reason
    the tender states; a refusal for want of an intention names the line's published ones."""
    try:
        rules.check_intention_notice(intention.published_at if intention else None, now, row["intention_notice_exception"])
    except RuleViolation as refusal:
        if refusal.code == "intention_required" and refusal.errors:
            published = await planning.published_intention_ids(actor.organisation_id, row["budget_line_id"])
            refusal.errors[0]["published_intention_ids"] = [str(i) for i in published]
        raise


async def cancel_tender(actor: Actor, tender_id: UUID, reason: str, if_match: str | None) -> TenderRead:
    """Cancel a tender before it is contracted; a reserved ceiling is released."""
    await _open_if_due(tender_id)
    async with db.transaction():
        row = await _own_tender(actor, tender_id, lock="UPDATE")
        check_if_match(if_match, row["version"])
        rules.check_tender_transition(row["status"], "cancelled")
        before = await _read_tender(actor, tender_id)
        now = await clock.now()
        await cancel_locked(actor, row, now, reason)
        after = await _read_tender(actor, tender_id)
        await audit.record(actor, "tender.cancelled", "tender", tender_id, before=before.model_dump(), after=after.model_dump())
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
    after_at, after_id = typed_cursor(cursor, datetime, UUID)
    if actor.role not in ("bureau", "vendor", "expert", "regulator", *READERS):
        return Page(items=[])
    # A list read touches every tender it may show: those past their deadline open first.
    await open_due_tenders(limit=200)
    where = db.Conditions()
    if actor.role == "bureau":
        where.add("t.bureau_id = {}::uuid", actor.organisation_id)
    elif actor.role == "vendor":
        where.add("t.published_at IS NOT NULL")
    elif actor.role == "regulator":  # every published procurement of the regions it oversees
        where.add("t.published_at IS NOT NULL")
        where.add("o.region_code LIKE {}::text", rules.region_prefix(await actor_region(actor)) + "%")
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
    due = [r["id"] for r in rows[:limit] if _due(r, now)]
    if due:  # claimed by another request a moment ago: wait for it and read again
        for tender_id in due:
            await open_tender(tender_id)
        rows = await db.fetch(query, *args)
    calendar = await clock.work_calendar()
    return page(rows, limit, lambda r: (r["created_at"], r["id"]), lambda r: _tender_read(actor, r, now, calendar))
