"""Opening (开标): the first request after the deadline, or the worker, opens a tender; a tender
with too few bids fails."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from govbuy import audit, clock
from govbuy import database as db
from govbuy.audit import Actor
from govbuy.rules import local_date, region_covers
from procurement import rules
from vendors import service as vendors

from procurement.service._common import _audit_release, _release_reservation, _visible_tender


# --- opening (开标) --------------------------------------------------------------------------


async def _open_if_due(tender_id: UUID) -> None:
    """Open the tender now if its deadline has passed and nobody has opened it yet."""
    row = await db.fetchrow("SELECT status, bid_deadline, suspended_until FROM tenders WHERE id = $1", tender_id)
    if row is not None and _due(row, await clock.now()):
        await open_tender(tender_id)


def _due(row: Any, now: datetime) -> bool:
    """Past its deadline and not yet opened; a suspended procurement is not opened until the
    regulator resumes it (财政部令第94号 Art. 28)."""
    return (
        row["status"] == "published"
        and now >= row["bid_deadline"]
        and not rules.is_suspended(row["suspended_until"], now)
    )


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
        if row is None or not _due(row, now):
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
                     AND (suspended_until IS NULL OR suspended_until <= $1)
                   ORDER BY bid_deadline, id LIMIT 1 FOR UPDATE SKIP LOCKED""",
                now,
            )
            if row is None:
                break
            await _open_locked(row, now)
        opened += 1
    return opened


async def _alert_tampering(tender: Any, bids: list[Any], now: datetime) -> None:
    """A sealed bid whose price or proposal no longer matches the digest recorded when it was
    sealed was changed outside the service: it is not opened (invalid, never ranked), the audit
    log records an alert, and the region's regulator and the supervisors are told."""
    from govbuy import notifications

    for bid in bids:
        await audit.record(
            None, "bid.tamper_detected", "bid", bid["id"],
            after={"tender_id": tender["id"], "vendor_id": bid["vendor_id"], "sealed_digest": bid["content_digest"]},
        )
    region = await db.fetchval("SELECT region_code FROM organisations WHERE id = $1", tender["bureau_id"]) or ""
    overseers = await db.fetch(
        """SELECT DISTINCT u.organisation_id, u.role, o.region_code FROM users u
           JOIN organisations o ON o.id = u.organisation_id
           WHERE u.active AND u.role IN ('supervisor', 'regulator')"""
    )
    told = [r["organisation_id"] for r in overseers
            if r["role"] == "supervisor" or region_covers(r["region_code"] or "", region)]
    await notifications.record(
        told, "bid.tamper_detected", "tender", tender["id"],
        f"开标时发现{len(bids)}份投标文件与密封时的摘要不符，已不予开启：{tender['title']}", now,
        {"bid_ids": [str(b["id"]) for b in bids]},
    )


async def _open_locked(tender: Any, now: datetime) -> None:
    """The opening of a locked tender: eligibility is checked again (as of the deadline's
    date) and stored with each bid, bids become valid or invalid, and the tender goes on to
    evaluation or fails (insufficient_bids) and releases its reservation."""
    tender_id = tender["id"]
    bids = await db.fetch(
        """SELECT b.id, b.vendor_id, o.name AS vendor_name, b.price, b.proposal, b.seal_nonce, b.submitted_at,
                  b.content_digest
           FROM bids b JOIN organisations o ON o.id = b.vendor_id
           WHERE b.tender_id = $1 AND b.status = 'submitted' ORDER BY b.submitted_at, b.id FOR UPDATE OF b""",
        tender_id,
    )
    as_of = local_date(tender["bid_deadline"])
    outcomes = []
    tampered = [b for b in bids if not rules.seal_intact(b["seal_nonce"], b["price"], b["proposal"], b["content_digest"])]
    if tampered:
        await _alert_tampering(tender, tampered, now)
    for bid in bids:
        if bid in tampered:
            outcomes.append((bid, {"eligible": False, "reasons": [], "checked_on": as_of.isoformat()}, None, None,
                             rules.TAMPERED_REASON))
            continue
        result = await vendors.check_eligibility(bid["vendor_id"], min_credit_grade=tender["min_credit_grade"], today=as_of)
        grade = await vendors.current_credit_grade(bid["vendor_id"])
        assessment = await vendors.assessment_grade_on(bid["vendor_id"], as_of)
        checked = {**result.as_dict(), "checked_on": as_of.isoformat(), "credit_grade": grade}
        reason = None
        if not result.eligible:
            reason = "not eligible at opening: " + "; ".join(r.detail for r in result.reasons)
        elif bid["price"] > tender["ceiling_amount"]:
            # 政府采购法实施条例 Art. 36 / 87号令 Art. 63: a bid above the ceiling (最高限价) is void.
            reason = f"the price {bid['price']} is above the ceiling {tender['ceiling_amount']}"
        outcomes.append((bid, checked, grade, assessment, reason))
    if outcomes:
        await db.executemany(
            """UPDATE bids SET status = $2::text, eligibility_at_opening = $3, credit_grade_at_opening = $4,
                   assessment_grade_at_opening = $5, invalid_reason = $6,
                   review_status = CASE WHEN $2::text = 'invalid' THEN 'non_responsive' ELSE 'pending' END,
                   version = version + 1 WHERE id = $1""",
            [(b["id"], "invalid" if r else "valid", c, g, a, r) for b, c, g, a, r in outcomes],
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
                for b, _, _, _, r in outcomes
            ],
        },
    )
    if failed:
        await audit.record(None, "tender.failed", "tender", tender_id, after={"failure_reason": "insufficient_bids", "valid_bids": valid})
        await _audit_release(None, tender, released, "tender failed: insufficient_bids")
