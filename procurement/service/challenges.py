"""Challenges (质疑) against an award, filed within the standstill, and their resolution."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from govbuy import audit, clock
from govbuy import database as db
from govbuy.audit import Actor
from govbuy.errors import Forbidden, NotFound
from govbuy.pagination import Page, check_limit, page
from govbuy.pagination import typed_cursor as _keyset
from govbuy.rules import conflict, last_day
from procurement import rules
from procurement.schemas import ChallengeCreate, ChallengeRead, ChallengeResolve

from procurement.service.tenders import _own_tender
from procurement.service.opening import _open_if_due, _tender_for


# --- challenges (质疑) ------------------------------------------------------------------------


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
