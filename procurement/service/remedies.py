"""What ends or rewinds a tender, shared by the stages that may cause it: an award voided, the
challenges it leaves with nothing to decide made moot, the tender failed (废标) or cancelled with
its reservation released, and the remedies of an upheld challenge or complaint (财政部令第94号
Arts. 31–32). Every function runs inside the caller's transaction with the tender locked."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from govbuy import audit, clock
from govbuy import database as db
from govbuy.audit import Actor
from govbuy.rules import conflict
from procurement import rules

from procurement.service._common import _audit_release, _release_reservation


async def void_award(award_id: UUID | None, now: datetime, source_id: UUID | None) -> None:
    if award_id is not None:
        await db.execute(
            """UPDATE tender_awards SET status = 'voided', voided_at = $2,
                   voided_by_challenge = (SELECT id FROM tender_challenges WHERE id = $3)
               WHERE id = $1 AND status = 'active'""",
            award_id,
            now,
            source_id,
        )


async def moot_pending(
    actor: Actor | None, tender_id: UUID, now: datetime, why: str, *, except_id: UUID | None = None,
    award_id: UUID | None = None,
) -> None:
    """Pending challenges with nothing left to decide become moot: every one of the tender's, or
    those against `award_id` alone."""
    rows = await db.fetch(
        """UPDATE tender_challenges SET status = 'moot', reply = $2, resolved_at = $3, resolved_by = $4,
               version = version + 1
           WHERE tender_id = $1 AND status = 'pending' AND id IS DISTINCT FROM $5
             AND ($6::uuid IS NULL OR award_id = $6) RETURNING id""",
        tender_id,
        why,
        now,
        actor.user_id if actor else None,
        except_id,
        award_id,
    )
    for row in rows:
        await audit.record(actor, "challenge.moot", "challenge", row["id"], after={"status": "moot", "reason": why})


async def fail_tender(actor: Actor | None, tender: Any, now: datetime, reason: str, *, except_id: UUID | None = None) -> None:
    """废标 (政府采购法 Art. 36): the tender fails and its reservation is released."""
    rules.check_tender_transition(tender["status"], "failed")
    released = await _release_reservation(tender, now)
    await db.execute(
        """UPDATE tenders SET status = 'failed', failure_reason = 'insufficient_bids', reserved_amount = 0,
               award_id = NULL, closed_at = $2, updated_at = $2, version = version + 1 WHERE id = $1""",
        tender["id"],
        now,
    )
    await void_award(tender["award_id"], now, except_id)
    await audit.record(actor, "tender.failed", "tender", tender["id"], before={"status": tender["status"]},
                       after={"status": "failed", "failure_reason": "insufficient_bids", "reason": reason})
    await moot_pending(actor, tender["id"], now, "the tender failed", except_id=except_id)
    await _audit_release(actor, tender, released, f"tender failed: {reason}")


async def cancel_locked(actor: Actor, tender: Any, now: datetime, reason: str, *, except_id: UUID | None = None) -> None:
    """Cancel a tender before it is contracted; a reserved ceiling is released and its pending
    challenges become moot."""
    rules.check_tender_transition(tender["status"], "cancelled")
    released = await _release_reservation(tender, now)
    await db.execute(
        """UPDATE tenders SET status = 'cancelled', cancel_reason = $2, closed_at = $3, reserved_amount = 0,
               award_id = NULL, updated_at = $3, version = version + 1 WHERE id = $1""",
        tender["id"],
        reason,
        now,
    )
    await void_award(tender["award_id"], now, except_id)
    await moot_pending(actor, tender["id"], now, "the tender was cancelled", except_id=except_id)
    await _audit_release(actor, tender, released, "tender cancelled")


async def reopen_evaluation(actor: Actor, tender: Any, now: datetime, source_id: UUID) -> None:
    """Back to the panel: a standing award is voided and the tender is under evaluation again;
    reviews and scores may be given again before a new award."""
    if tender["status"] == "evaluating":
        return
    rules.check_tender_transition(tender["status"], "evaluating")
    await db.execute(
        "UPDATE tenders SET status = 'evaluating', award_id = NULL, updated_at = $2, version = version + 1 WHERE id = $1",
        tender["id"],
        now,
    )
    await void_award(tender["award_id"], now, source_id)
    await moot_pending(actor, tender["id"], now, f"the award was voided by {source_id}", except_id=source_id,
                       award_id=tender["award_id"])
    await audit.record(actor, "tender.award_voided", "tender", tender["id"],
                       before={"status": tender["status"], "award_id": tender["award_id"]},
                       after={"status": "evaluating", "source_id": source_id})


async def mark_non_responsive(actor: Actor, tender_id: UUID, bid_ids: list[UUID], reason: str, now: datetime, source_id: UUID) -> None:
    """The finding of an upheld challenge or complaint: these bids are out, with the reason."""
    await db.executemany(
        """INSERT INTO bid_reviews (bid_id, stage, tender_id, responsive, reason, reviewed_by, reviewed_at, source_id)
           VALUES ($1, 'remedy', $2, false, $3, $4, $5, $6)
           ON CONFLICT (bid_id, stage) DO UPDATE SET reason = EXCLUDED.reason, reviewed_by = EXCLUDED.reviewed_by,
               reviewed_at = EXCLUDED.reviewed_at, source_id = EXCLUDED.source_id, version = bid_reviews.version + 1""",
        [(b, tender_id, reason, actor.user_id, now, source_id) for b in bid_ids],
    )
    await db.execute(
        "UPDATE bids SET review_status = 'non_responsive', version = version + 1 WHERE id = ANY($1::uuid[])", bid_ids
    )
    for bid_id in bid_ids:
        await audit.record(actor, "bid.found_non_responsive", "bid", bid_id,
                           after={"stage": "remedy", "reason": reason, "source_id": source_id})


async def apply_remedy(
    actor: Actor, tender: Any, remedy: rules.Remedy, concerned_bid_ids: list[UUID], reason: str, source_id: UUID
) -> dict[str, Any]:
    """Apply the remedy of an upheld challenge or complaint to a locked tender; returns what it did.

    next_candidate awards again from the bids still responsive (a new ranking, a new notice and
    standstill), or fails the tender when too few remain."""
    from procurement.service.award import award_locked  # the award stage builds on this one

    now = await clock.now()
    if remedy is rules.Remedy.CANCEL:
        await cancel_locked(actor, tender, now, f"re-tender (重新开展采购活动) after upheld {source_id}: {reason}", except_id=source_id)
        await audit.record(actor, "tender.cancelled", "tender", tender["id"], before={"status": tender["status"]},
                           after={"status": "cancelled", "remedy": remedy.value, "source_id": source_id})
        return {"remedy": remedy.value, "tender_status": "cancelled"}
    if remedy is rules.Remedy.REEVALUATE:
        await reopen_evaluation(actor, tender, now, source_id)
        return {"remedy": remedy.value, "tender_status": "evaluating"}
    # next candidate
    if tender["status"] != "awarded":
        raise conflict("no_award_to_challenge", f"the tender is {tender['status']}: there is no award to pass on")
    # Decide before anything is written, so that the budget line (when the tender fails) is
    # locked before the first audit event, as every change here orders its locks.
    responsive = await db.fetchval(
        """SELECT count(*) FROM bids WHERE tender_id = $1 AND status = 'valid' AND review_status = 'responsive'
             AND id <> ALL($2::uuid[])""",
        tender["id"],
        concerned_bid_ids,
    )
    outcome = rules.next_candidate_outcome(tender["method"], responsive)
    if outcome is rules.TenderStatus.FAILED:
        await fail_tender(actor, tender, now, f"{responsive} responsive bid(s) left after upheld {source_id}", except_id=source_id)
        await mark_non_responsive(actor, tender["id"], concerned_bid_ids, reason, now, source_id)
        return {"remedy": remedy.value, "tender_status": "failed", "non_responsive_bid_ids": concerned_bid_ids,
                "responsive_bids_left": responsive}
    await mark_non_responsive(actor, tender["id"], concerned_bid_ids, reason, now, source_id)
    await reopen_evaluation(actor, tender, now, source_id)
    locked = await db.fetchrow("SELECT * FROM tenders WHERE id = $1", tender["id"])
    award = await award_locked(actor, locked, now)
    return {"remedy": remedy.value, "tender_status": "awarded", "non_responsive_bid_ids": concerned_bid_ids,
            "responsive_bids_left": responsive, "award_id": award.id, "vendor_id": award.vendor_id}
