"""Complaints (投诉, 财政部令第94号) to the regulator of the tender's region: filed by a challenger
within 15 working days after the answer period, accepted or refused within 5, decided within
30; the regulator may suspend the procurement meanwhile (at most 30 days), and an upheld
decision applies the remedies of an upheld challenge. Decisions are public."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from govbuy import audit, clock
from govbuy import database as db
from govbuy.audit import Actor
from govbuy.errors import NotFound
from govbuy.pagination import Page, check_limit, page
from govbuy.pagination import typed_cursor
from govbuy.rules import RuleViolation, conflict
from procurement import rules
from procurement.schemas import ComplaintCreate, ComplaintDecide, ComplaintRead, ComplaintRefuse, ComplaintSuspend

from procurement.service._common import _reads_all, actor_region
from procurement.service.challenges import challenge_for_complaint
from procurement.service.remedies import apply_remedy


def _complaint_read(row: Any, suspended_until: datetime | None, now: datetime) -> ComplaintRead:
    open_ = row["status"] in rules.OPEN_STATUSES
    suspended = (
        row["suspended_at"] is not None and row["resumed_at"] is None and open_ and rules.is_suspended(suspended_until, now)
    )
    return ComplaintRead.model_validate(
        {
            **dict(row),
            "acceptance_overdue": row["status"] == "filed" and now >= row["acceptance_due"],
            "decision_overdue": open_ and now >= row["decision_due"],
            "suspended": suspended,
            "suspended_until": suspended_until if suspended else None,
        }
    )


_SELECT = """SELECT c.*, t.suspended_until AS tender_suspended_until FROM complaints c JOIN tenders t ON t.id = c.tender_id"""


async def _read(row: Any, now: datetime) -> ComplaintRead:
    return _complaint_read(row, row["tender_suspended_until"], now)


async def file_complaint(actor: Actor, data: ComplaintCreate) -> ComplaintRead:
    """A challenger complains about the answer to its challenge, or about no answer."""
    async with db.transaction():
        challenge = await challenge_for_complaint(actor, data.challenge_id)
        now = await clock.now()
        calendar = await clock.calendar_for_update()
        window_end = rules.complaint_window_end(challenge["status"], challenge["reply_due"], now, calendar)
        rules.check_complaint_window(now, window_end)
        if await db.fetchval(
            "SELECT 1 FROM complaints WHERE challenge_id = $1 AND status = ANY($2::text[])",
            data.challenge_id,
            list(rules.OPEN_STATUSES),
        ):
            raise conflict("complaint_already_open", "a complaint about this challenge is being handled")
        region = await db.fetchval(
            "SELECT o.region_code FROM tenders t JOIN organisations o ON o.id = t.bureau_id WHERE t.id = $1",
            challenge["tender_id"],
        )
        row = await db.fetchrow(
            """INSERT INTO complaints (id, tender_id, challenge_id, vendor_id, filed_by, grounds, region_code, filed_at,
                   acceptance_due, decision_due)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id""",
            uuid4(), challenge["tender_id"], data.challenge_id, actor.organisation_id, actor.user_id, data.grounds,
            region, now, rules.acceptance_due(now, calendar), rules.decision_due(now, calendar),
        )
        result = await _read(await db.fetchrow(f"{_SELECT} WHERE c.id = $1", row["id"]), now)
        await audit.record(actor, "complaint.filed", "complaint", row["id"], after=result.model_dump())
    return result


async def _visible(actor: Actor, row: Any | None, complaint_id: UUID) -> Any:
    if row is not None:
        if _reads_all(actor):
            return row
        if actor.role == "vendor" and row["vendor_id"] == actor.organisation_id:
            return row
        if actor.role == "regulator" and rules.region_covers(await actor_region(actor), row["region_code"]):
            return row
        if actor.role == "bureau" and await db.fetchval(
            "SELECT 1 FROM tenders WHERE id = $1 AND bureau_id = $2", row["tender_id"], actor.organisation_id
        ):
            return row
    raise NotFound("complaint", complaint_id)


async def get_complaint(actor: Actor, complaint_id: UUID) -> ComplaintRead:
    row = await _visible(actor, await db.fetchrow(f"{_SELECT} WHERE c.id = $1", complaint_id), complaint_id)
    return await _read(row, await clock.now())


async def list_complaints(
    actor: Actor, status: str | None, tender_id: UUID | None, limit: int | None, cursor: str | None
) -> Page[ComplaintRead]:
    """A vendor its own complaints, a bureau those about its tenders, the regulator those of
    the regions it oversees, admins and supervisors all; oldest first."""
    limit = check_limit(limit)
    after_at, after_id = typed_cursor(cursor, datetime, UUID)
    where = db.Conditions()
    if actor.role == "vendor":
        where.add("c.vendor_id = {}::uuid", actor.organisation_id)
    elif actor.role == "bureau":
        where.add("t.bureau_id = {}::uuid", actor.organisation_id)
    elif actor.role == "regulator":
        where.add("c.region_code LIKE {}::text", rules.region_prefix(await actor_region(actor)) + "%")
    where.given("c.status = {}::text", status)
    where.given("c.tender_id = {}::uuid", tender_id)
    if after_at is not None:
        where.add("(c.filed_at, c.id) > ({}::timestamptz, {}::uuid)", after_at, after_id)
    rows = await db.fetch(
        f"{_SELECT} WHERE {where} ORDER BY c.filed_at, c.id LIMIT {where.param(limit + 1)}", *where.args
    )
    now = await clock.now()
    return page(rows, limit, lambda r: (r["filed_at"], r["id"]), lambda r: _complaint_read(r, r["tender_suspended_until"], now))


async def _lock_for_regulator(actor: Actor, complaint_id: UUID) -> tuple[Any, Any]:
    """The tender, then the complaint, locked, when the caller is the regulator of its region."""
    found = await db.fetchrow("SELECT tender_id, region_code FROM complaints WHERE id = $1", complaint_id)
    if found is None or actor.role != "regulator" or not rules.region_covers(await actor_region(actor), found["region_code"]):
        raise NotFound("complaint", complaint_id)
    tender = await db.fetchrow("SELECT * FROM tenders WHERE id = $1 FOR UPDATE", found["tender_id"])
    row = await db.fetchrow("SELECT * FROM complaints WHERE id = $1 FOR UPDATE", complaint_id)
    return tender, row


async def _finish(actor: Actor, action: str, complaint_id: UUID, before: Any, tender_suspended: datetime | None, now: datetime) -> ComplaintRead:
    after = await _read(await db.fetchrow(f"{_SELECT} WHERE c.id = $1", complaint_id), now)
    await audit.record(
        actor, f"complaint.{action}", "complaint", complaint_id,
        before=_complaint_read(before, tender_suspended, now).model_dump(), after=after.model_dump(),
    )
    return after


async def accept_complaint(actor: Actor, complaint_id: UUID) -> ComplaintRead:
    async with db.transaction():
        tender, row = await _lock_for_regulator(actor, complaint_id)
        rules.check_complaint_transition(row["status"], "accepted")
        now = await clock.now()
        await db.execute(
            """UPDATE complaints SET status = 'accepted', accepted_at = $2, regulator_id = $3, handled_by = $4,
                   version = version + 1 WHERE id = $1""",
            complaint_id, now, actor.organisation_id, actor.user_id,
        )
        return await _finish(actor, "accepted", complaint_id, row, tender["suspended_until"], now)


async def refuse_complaint(actor: Actor, complaint_id: UUID, data: ComplaintRefuse) -> ComplaintRead:
    """Refused (不予受理, 94号令 Art. 21): a suspension it caused ends with it."""
    async with db.transaction():
        tender, row = await _lock_for_regulator(actor, complaint_id)
        rules.check_complaint_transition(row["status"], "refused")
        now = await clock.now()
        await _lift_suspension(tender, complaint_id, now)
        await db.execute(
            """UPDATE complaints SET status = 'refused', refused_at = $2, refusal_reason = $3, regulator_id = $4,
                   handled_by = $5, version = version + 1 WHERE id = $1""",
            complaint_id, now, data.reason, actor.organisation_id, actor.user_id,
        )
        return await _finish(actor, "refused", complaint_id, row, tender["suspended_until"], now)


async def _lift_suspension(tender: Any, complaint_id: UUID, now: datetime) -> None:
    if tender["suspended_by_complaint"] == complaint_id:
        await db.execute(
            """UPDATE tenders SET suspended_until = NULL, suspended_by_complaint = NULL, updated_at = $2,
                   version = version + 1 WHERE id = $1""",
            tender["id"], now,
        )
        await db.execute("UPDATE complaints SET resumed_at = $2 WHERE id = $1 AND resumed_at IS NULL", complaint_id, now)


async def suspend_procurement(actor: Actor, complaint_id: UUID, data: ComplaintSuspend) -> ComplaintRead:
    """Suspend the procurement while the complaint is handled (暂停采购活动, 94号令 Art. 28), for at
    most 30 days: no opening, review, award, contract or payment until resumed or decided."""
    async with db.transaction():
        tender, row = await _lock_for_regulator(actor, complaint_id)
        if row["status"] not in rules.OPEN_STATUSES:
            raise conflict("complaint_closed", f"the complaint is {row['status']}: nothing to suspend for")
        if tender["status"] in ("cancelled", "failed"):
            raise conflict("tender_closed", f"the tender is {tender['status']}")
        now = await clock.now()
        if rules.is_suspended(tender["suspended_until"], now):
            raise conflict("procurement_suspended", "the procurement is already suspended")
        until = rules.suspension_end(now)
        await db.execute(
            """UPDATE tenders SET suspended_until = $2, suspended_by_complaint = $3, updated_at = $4, version = version + 1
               WHERE id = $1""",
            tender["id"], until, complaint_id, now,
        )
        await db.execute(
            "UPDATE complaints SET suspended_at = $2, resumed_at = NULL, version = version + 1 WHERE id = $1", complaint_id, now
        )
        result = await _finish(actor, "suspended", complaint_id, row, tender["suspended_until"], now)
        await audit.record(actor, "tender.suspended", "tender", tender["id"],
                           after={"suspended_until": until, "complaint_id": complaint_id, "reason": data.reason})
        return result


async def resume_procurement(actor: Actor, complaint_id: UUID) -> ComplaintRead:
    async with db.transaction():
        tender, row = await _lock_for_regulator(actor, complaint_id)
        now = await clock.now()
        if tender["suspended_by_complaint"] != complaint_id or not rules.is_suspended(tender["suspended_until"], now):
            raise conflict("procurement_not_suspended", "this complaint has not suspended the procurement")
        await _lift_suspension(tender, complaint_id, now)
        await db.execute("UPDATE complaints SET version = version + 1 WHERE id = $1", complaint_id)
        result = await _finish(actor, "resumed", complaint_id, row, tender["suspended_until"], now)
        await audit.record(actor, "tender.resumed", "tender", tender["id"], after={"complaint_id": complaint_id})
        return result


async def decide_complaint(actor: Actor, complaint_id: UUID, data: ComplaintDecide) -> ComplaintRead:
    """The regulator's decision (处理决定, 94号令 Arts. 29–32), public and binding: upheld applies
    the remedy of an upheld challenge of the same kind; the suspension ends."""
    async with db.transaction():
        tender, row = await _lock_for_regulator(actor, complaint_id)
        rules.check_complaint_transition(row["status"], "decided")
        challenge = await db.fetchrow("SELECT * FROM tender_challenges WHERE id = $1 FOR UPDATE", row["challenge_id"])
        now = await clock.now()
        remedy = effect = None
        if data.outcome == "upheld":
            remedy = rules.choose_remedy(challenge["kind"], data.remedy)
            concerned = [UUID(b) for b in challenge["concerned_bid_ids"]]
            if challenge["award_id"] is not None:
                ranking = await db.fetchval("SELECT ranking FROM tender_awards WHERE id = $1", challenge["award_id"])
                concerned = rules.concerned_bids(data.concerned_bid_ids, concerned, ranking)
            elif data.concerned_bid_ids:
                raise RuleViolation("invalid_concerned_bids", "only a complaint on a result challenge concerns bids",
                                    errors=[{"field": "concerned_bid_ids", "message": "only for a result challenge"}])
            await _lift_suspension(tender, complaint_id, now)
            tender = await db.fetchrow("SELECT * FROM tenders WHERE id = $1", tender["id"])
            effect = await apply_remedy(actor, tender, remedy, concerned, data.decision, complaint_id)
        elif data.remedy is not None or data.concerned_bid_ids is not None:
            raise RuleViolation("remedy_not_allowed", "a dismissed complaint has no remedy",
                                errors=[{"field": "remedy", "message": "only for an upheld complaint"}])
        else:
            await _lift_suspension(tender, complaint_id, now)
        await db.execute(
            """UPDATE complaints SET status = 'decided', decided_at = $2, outcome = $3, decision = $4, remedy = $5,
                   remedy_effect = $6, regulator_id = $7, handled_by = $8, version = version + 1 WHERE id = $1""",
            complaint_id, now, data.outcome, data.decision, remedy.value if remedy else None, effect,
            actor.organisation_id, actor.user_id,
        )
        return await _finish(actor, "decided", complaint_id, row, None, now)


async def open_complaints(tender_id: UUID) -> int:
    """Complaints about the tender still being handled (no contract meanwhile)."""
    return await db.fetchval(
        "SELECT count(*) FROM complaints WHERE tender_id = $1 AND status = ANY($2::text[])", tender_id, list(rules.OPEN_STATUSES)
    )
