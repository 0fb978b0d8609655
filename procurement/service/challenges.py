"""Challenges (质疑) against the documents, a step of the process or the result, each within its
window; the bureau's answer within 7 working days, public once given; and the remedy of an
upheld one (财政部令第94号 Arts. 31–32), applied in the same transaction as the answer."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from govbuy import audit, clock
from govbuy import database as db
from govbuy.audit import Actor
from govbuy.errors import Forbidden, NotFound
from govbuy.pagination import Page, check_limit, page
from govbuy.pagination import typed_cursor
from govbuy.rules import RuleViolation, conflict, last_day
from procurement import rules
from procurement.schemas import ChallengeCreate, ChallengeRead, ChallengeResolve

from procurement.service._common import _oversees
from procurement.service.tenders import _own_tender
from procurement.service.opening import _open_if_due, _tender_for
from procurement.service.remedies import apply_remedy


def _challenge_read(row: Any, now: datetime) -> ChallengeRead:
    return ChallengeRead.model_validate(
        {
            **dict(row),
            "concerned_bid_ids": [UUID(b) for b in row["concerned_bid_ids"] or []],
            "reply_last_day": last_day(row["reply_due"]),
            "reply_overdue": rules.challenge_reply_overdue(row["status"], row["reply_due"], now),
        }
    )


async def _opened_bid(tender_id: UUID, vendor_id: UUID) -> Any:
    return await db.fetchrow(
        "SELECT * FROM bids WHERE tender_id = $1 AND vendor_id = $2 AND status IN ('valid','invalid')", tender_id, vendor_id
    )


async def _window_end(actor: Actor, tender: Any, kind: rules.ChallengeKind, step: str | None, calendar: Any) -> tuple[datetime, Any]:
    """The end of the window the challenge is filed in, and the award it concerns (result only)."""
    if kind is rules.ChallengeKind.DOCUMENTS:
        if tender["method"] in ("invited_tender", "single_source") and not await db.fetchval(
            "SELECT 1 FROM tender_invitations WHERE tender_id = $1 AND vendor_id = $2", tender["id"], actor.organisation_id
        ):
            raise Forbidden("only an invited vendor may challenge these documents", "not_invited")
        return rules.documents_window_end(tender["published_at"], calendar), None
    bid = await _opened_bid(tender["id"], actor.organisation_id)
    if bid is None:
        raise Forbidden("only a vendor whose bid was opened may challenge the process or the result", "not_a_bidder")
    if kind is rules.ChallengeKind.RESULT:
        award = await db.fetchrow("SELECT * FROM tender_awards WHERE id = $1", tender["award_id"])
        return award["standstill_until"], award
    if step is None:
        raise RuleViolation("step_required", "a process challenge names its step",
                            errors=[{"field": "step", "message": "opening, panel or review"}])
    step_s = rules.ProcessStep(step)
    if step_s is rules.ProcessStep.OPENING:
        at = tender["opened_at"]
    elif step_s is rules.ProcessStep.PANEL:
        at = await db.fetchval("SELECT max(drawn_at) FROM panel_draws WHERE tender_id = $1", tender["id"])
    else:  # the review that found the challenger's own bid non-responsive
        at = await db.fetchval(
            "SELECT max(reviewed_at) FROM bid_reviews WHERE bid_id = $1 AND NOT responsive", bid["id"]
        )
    if at is None:
        raise conflict("step_not_taken", f"the {step_s.value} step has not taken place for this bidder")
    return rules.process_window_end(at, calendar), None


async def file_challenge(actor: Actor, tender_id: UUID, data: ChallengeCreate) -> ChallengeRead:
    """A vendor challenges the documents (any vendor that may bid), a step of the process or the
    result (a bidder whose bid was opened), within the window of its kind."""
    await _tender_for(actor, tender_id)
    kind = rules.ChallengeKind(data.kind)
    if data.step is not None and kind is not rules.ChallengeKind.PROCESS:
        raise RuleViolation("step_not_allowed", "only a process challenge names a step",
                            errors=[{"field": "step", "message": "only for kind process"}])
    if data.concerned_bid_ids is not None and kind is not rules.ChallengeKind.RESULT:
        raise RuleViolation("concerned_bids_not_allowed", "only a result challenge names the bids it concerns",
                            errors=[{"field": "concerned_bid_ids", "message": "only for kind result"}])
    async with db.transaction():
        tender = await db.fetchrow("SELECT * FROM tenders WHERE id = $1 FOR UPDATE", tender_id)
        calendar = await clock.calendar_for_update()
        if kind is rules.ChallengeKind.RESULT and not await _opened_bid(tender_id, actor.organisation_id):
            raise Forbidden("only a vendor whose bid was opened may challenge the award", "not_a_bidder")
        rules.check_filing_status(kind, tender["status"])
        window_end, award = await _window_end(actor, tender, kind, data.step, calendar)
        now = await clock.now()
        rules.check_window(kind, now, window_end)
        concerned: list[UUID] = []
        if kind is rules.ChallengeKind.RESULT:
            concerned = rules.concerned_bids(data.concerned_bid_ids, [award["winning_bid_id"]], award["ranking"])
        if await db.fetchval(
            """SELECT 1 FROM tender_challenges WHERE tender_id = $1 AND vendor_id = $2 AND kind = $3 AND status = 'pending'
                 AND award_id IS NOT DISTINCT FROM $4""",
            tender_id, actor.organisation_id, kind.value, award["id"] if award else None,
        ):
            raise conflict("challenge_already_pending", f"the vendor already has a pending {kind.value} challenge here")
        row = await db.fetchrow(
            """INSERT INTO tender_challenges (id, tender_id, award_id, vendor_id, filed_by, grounds, filed_at, reply_due,
                   kind, step, window_end, concerned_bid_ids)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING *""",
            uuid4(), tender_id, award["id"] if award else None, actor.organisation_id, actor.user_id, data.grounds, now,
            rules.challenge_reply_due(now, calendar), kind.value, data.step, window_end, [str(b) for b in concerned],
        )
        result = _challenge_read(row, now)
        await audit.record(actor, "challenge.filed", "challenge", row["id"], after=result.model_dump())
    return result


async def list_challenges(actor: Actor, tender_id: UUID, limit: int | None, cursor: str | None) -> Page[ChallengeRead]:
    """The bureau, admins, supervisors and the regulator see every challenge; a vendor its own."""
    limit = check_limit(limit)
    after_at, after_id = typed_cursor(cursor, datetime, UUID)
    await _tender_for(actor, tender_id)
    if actor.role == "expert":
        return Page(items=[])
    rows = await db.fetch(
        """SELECT * FROM tender_challenges WHERE tender_id = $1 AND ($2::uuid IS NULL OR vendor_id = $2)
             AND ($3::timestamptz IS NULL OR (filed_at, id) > ($3, $4::uuid))
           ORDER BY filed_at, id LIMIT $5""",
        tender_id,
        actor.organisation_id if actor.role == "vendor" and not _oversees(actor) else None,
        after_at,
        after_id,
        limit + 1,
    )
    now = await clock.now()
    return page(rows, limit, lambda r: (r["filed_at"], r["id"]), lambda r: _challenge_read(r, now))


async def resolve_challenge(actor: Actor, tender_id: UUID, challenge_id: UUID, data: ChallengeResolve) -> ChallengeRead:
    """The bureau answers a challenge. Dismissed: nothing changes. Upheld: its remedy is applied
    (documents → cancel and tender again; process → back to the panel, or cancel; result → the
    concerned bids out and the next candidate awarded, or the tender fails)."""
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
        remedy = None
        if data.outcome == "upheld":
            remedy = rules.choose_remedy(row["kind"], data.remedy)
        elif data.remedy is not None:
            raise RuleViolation("remedy_not_allowed", "a dismissed challenge has no remedy",
                                errors=[{"field": "remedy", "message": "only for an upheld challenge"}])
        effect = None
        if remedy is not None:
            effect = await apply_remedy(
                actor, tender, remedy, [UUID(b) for b in row["concerned_bid_ids"]], data.reply, challenge_id
            )
        updated = await db.fetchrow(
            """UPDATE tender_challenges SET status = $2, reply = $3, resolved_at = $4, resolved_by = $5, remedy = $6,
                   remedy_effect = $7, version = version + 1 WHERE id = $1 RETURNING *""",
            challenge_id, data.outcome, data.reply, now, actor.user_id, remedy.value if remedy else None, effect,
        )
        result = _challenge_read(updated, now)
        await audit.record(
            actor, f"challenge.{data.outcome}", "challenge", challenge_id,
            before=_challenge_read(row, now).model_dump(), after=result.model_dump(),
        )
    return result


async def challenge_for_complaint(actor: Actor, challenge_id: UUID) -> Any:
    """The vendor's own challenge, locked with its tender, for the complaint that follows it."""
    row = await db.fetchrow("SELECT tender_id, vendor_id FROM tender_challenges WHERE id = $1", challenge_id)
    if row is None or row["vendor_id"] != actor.organisation_id:
        raise NotFound("challenge", challenge_id)
    await db.fetchrow("SELECT id FROM tenders WHERE id = $1 FOR UPDATE", row["tender_id"])
    return await db.fetchrow("SELECT * FROM tender_challenges WHERE id = $1 FOR UPDATE", challenge_id)
