"""The award (中标): the panel's ranking made the award notice (中标公告), with its standstill."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from govbuy import audit, clock
from govbuy import database as db
from govbuy.audit import Actor
from govbuy.errors import NotFound, check_if_match
from govbuy.rules import calendar_warning, conflict, last_day
from procurement import rules
from procurement.schemas import AwardCreate, AwardRead

from procurement.service.tenders import _own_tender
from procurement.service.opening import _open_if_due, _tender_for
from procurement.service._common import check_not_suspended
from procurement.service.panel import _panel, check_panel_complete


# --- award (中标公告) ----------------------------------------------------------------------------

_AWARD_SELECT = """SELECT a.*, o.name AS vendor_name FROM tender_awards a JOIN organisations o ON o.id = a.vendor_id"""


async def _award_read(row: Any) -> AwardRead:
    bidders = await db.fetch(
        """SELECT b.vendor_id, o.name AS vendor_name, b.price, b.status = 'valid' AS valid, b.credit_grade_at_opening,
                  b.review_status, b.sme_declaration,
                  CASE WHEN b.status = 'invalid' THEN b.invalid_reason ELSE
                      (SELECT string_agg(r.reason, '; ' ORDER BY r.reviewed_at) FROM bid_reviews r
                       WHERE r.bid_id = b.id AND NOT r.responsive) END AS non_responsive_reason
           FROM bids b JOIN organisations o ON o.id = b.vendor_id
           WHERE b.tender_id = $1 AND b.status IN ('valid', 'invalid') ORDER BY b.price, b.submitted_at, b.id""",
        row["tender_id"],
    )
    panel = await db.fetch(
        """SELECT coalesce(u.full_name, u.username) AS name, p.member_role AS role, p.draw_id
           FROM tender_panel_members p JOIN users u ON u.id = p.expert_user_id
           WHERE p.tender_id = $1 ORDER BY p.member_role, u.username""",
        row["tender_id"],
    )
    return AwardRead.model_validate(
        {
            **dict(row),
            "standstill_last_day": last_day(row["standstill_until"]),
            "bidders": [dict(b) for b in bidders],
            "panel": [{"name": p["name"], "role": p["role"]} for p in panel],
            "panel_draw_ids": list(dict.fromkeys(p["draw_id"] for p in panel if p["draw_id"] is not None)),
        }
    )


async def award_locked(actor: Actor, tender: Any, now: datetime, negotiated: AwardCreate | None = None) -> AwardRead:
    """Rank the responsive bids of a locked tender under evaluation and publish the award notice
    with its standstill; the caller has checked the tender may be awarded."""
    tender_id = tender["id"]
    rules.check_tender_transition(tender["status"], "awarded")
    await check_panel_complete(tender)
    bids = await db.fetch(
        """SELECT b.id, b.vendor_id, o.name AS vendor_name, b.price, b.submitted_at, b.credit_grade_at_opening,
                  b.review_status, b.sme_declaration, b.assessment_grade_at_opening
           FROM bids b JOIN organisations o ON o.id = b.vendor_id
           WHERE b.tender_id = $1 AND b.status = 'valid' ORDER BY b.submitted_at, b.id""",
        tender_id,
    )
    rules.check_all_reviewed(b["review_status"] for b in bids)
    bids = [b for b in bids if b["review_status"] == "responsive"]
    if len(bids) < rules.minimum_valid_bids(tender["method"]):
        raise conflict("insufficient_bids", f"{len(bids)} responsive bid(s): fewer than the method's minimum")
    panel = [r["expert_user_id"] for r in await _panel(tender_id)]
    sheets: dict[UUID, dict[UUID, dict[str, Decimal]]] = {b["id"]: {} for b in bids}
    for s in await db.fetch("SELECT bid_id, expert_user_id, scores FROM bid_scores WHERE tender_id = $1", tender_id):
        if s["bid_id"] in sheets:
            sheets[s["bid_id"]][s["expert_user_id"]] = {k: Decimal(v) for k, v in s["scores"].items()}
    policy = rules.SmePolicy(tender["sme_reserved"], tender["sme_price_deduction_percent"])
    deduction = {b["id"]: rules.deduction_percent(policy, b["sme_declaration"]) for b in bids}
    ranked = rules.rank_bids(
        tender["evaluation_method"],
        tender["price_weight"],
        tender["criteria"],
        [
            rules.BidForRanking(
                b["id"], b["vendor_name"], b["price"], b["submitted_at"], sheets[b["id"]],
                evaluated_price=rules.evaluated_price(b["price"], deduction[b["id"]]),
                assessment_grade=b["assessment_grade_at_opening"],
            )
            for b in bids
        ],
        panel,
    )
    if not ranked:
        raise conflict("no_valid_bids", "there is no responsive bid to award")
    by_id = {b["id"]: b for b in bids}
    winner = ranked[0]
    price = winner.price
    if negotiated is not None and negotiated.negotiated_price is not None:
        price = rules.check_negotiated_price(negotiated.negotiated_price, winner.price)
    ranking = [
        {
            "rank": r.rank,
            "bid_id": r.bid_id,
            "vendor_id": by_id[r.bid_id]["vendor_id"],
            "vendor_name": r.vendor_name,
            "price": price if r.rank == 1 else r.price,
            "price_score": r.price_score,
            "technical_score": r.technical_score,
            "total_score": r.total_score,
            "credit_grade_at_opening": by_id[r.bid_id]["credit_grade_at_opening"],
            "submitted_at": r.submitted_at,
            "sme_declaration": by_id[r.bid_id]["sme_declaration"],
            "price_deduction_percent": deduction[r.bid_id],
            "evaluated_price": r.evaluated_price,
            "assessment_grade_at_opening": by_id[r.bid_id]["assessment_grade_at_opening"],
        }
        for r in ranked
    ]
    calendar = await clock.calendar_for_update()
    until = rules.standstill_until(now, calendar)
    warning = calendar_warning(calendar, now, until)
    award_id = uuid4()
    await db.execute(
        """INSERT INTO tender_awards (id, tender_id, winning_bid_id, vendor_id, price, ranking, awarded_at,
               awarded_by, standstill_until, calendar_warning, negotiation_record)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)""",
        award_id,
        tender_id,
        winner.bid_id,
        by_id[winner.bid_id]["vendor_id"],
        price,
        ranking,
        now,
        actor.user_id,
        until,
        warning,
        negotiated.negotiation_record if negotiated else None,
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


async def award_tender(actor: Actor, tender_id: UUID, if_match: str | None, data: AwardCreate | None = None) -> AwardRead:
    """Compute, store and publish the ranking of the responsive bids (rank 1 wins) and start the
    standstill during which bidders may challenge. Needs the panel and every opened bid reviewed;
    single source (74号令 Arts. 41–42) may record the price negotiated with its supplier."""
    await _open_if_due(tender_id)
    async with db.transaction():
        tender = await _own_tender(actor, tender_id, lock="UPDATE")
        check_if_match(if_match, tender["version"])
        await check_not_suspended(tender)
        rules.check_negotiation(tender["method"], data is not None and data.negotiated_price is not None)
        return await award_locked(actor, tender, await clock.now(), data)


async def get_award(actor: Actor, tender_id: UUID) -> AwardRead:
    """The tender's latest award notice (voided ones stay readable with their status)."""
    await _tender_for(actor, tender_id)
    row = await db.fetchrow(
        f"{_AWARD_SELECT} WHERE a.tender_id = $1 ORDER BY a.awarded_at DESC, a.id DESC LIMIT 1", tender_id
    )
    if row is None:
        raise NotFound("award of tender", tender_id)
    return await _award_read(row)
