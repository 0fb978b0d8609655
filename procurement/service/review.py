"""Review of the opened bids (87号令 Arts. 44, 50): the purchaser's qualification review
(资格性审查) and the panel's compliance review (符合性审查), each with its reason; the tender fails
(废标) as soon as too few bids can still be responsive."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from govbuy import audit, clock
from govbuy import database as db
from govbuy.audit import Actor
from govbuy.errors import NotFound
from govbuy.rules import conflict, local_date
from procurement import rules
from procurement.schemas import BidRead, BidReviewRead, BidReviewWrite, SmeDeclarationFalse
from vendors import service as vendors
from vendors.schemas import CreditListEntryCreate

from procurement.service._common import check_not_suspended
from procurement.service.opening import _open_if_due, _tender_for
from procurement.service.panel import check_panel_complete, on_panel
from procurement.service.remedies import apply_remedy, fail_tender, mark_non_responsive


async def review_bid(actor: Actor, tender_id: UUID, bid_id: UUID, data: BidReviewWrite) -> BidReviewRead:
    """Mark an opened bid responsive or not at the caller's stage: the bureau reviews
    qualification, a member of the panel compliance (only for a qualified bidder). A review may
    be given again while the tender is under evaluation; the last one stands."""
    await _open_if_due(tender_id)
    await _tender_for(actor, tender_id)
    async with db.transaction():
        tender = await db.fetchrow("SELECT * FROM tenders WHERE id = $1 FOR UPDATE", tender_id)
        sits = await on_panel(actor, tender_id)
        stage = rules.review_stage(actor.role, sits, data.stage)
        if stage is rules.ReviewStage.QUALIFICATION and tender["bureau_id"] != actor.organisation_id:
            raise NotFound("tender", tender_id)
        if tender["status"] != "evaluating":
            raise conflict("tender_not_evaluating", f"the tender is {tender['status']}, not under evaluation")
        await check_not_suspended(tender)
        if stage is rules.ReviewStage.COMPLIANCE:
            await check_panel_complete(tender)
        bid = await db.fetchrow("SELECT * FROM bids WHERE id = $1 AND tender_id = $2 FOR UPDATE", bid_id, tender_id)
        if bid is None or bid["status"] not in ("valid", "invalid"):
            raise NotFound("bid", bid_id)
        if bid["status"] == "invalid":
            raise conflict("bid_not_valid", f"the bid was invalid at the opening: {bid['invalid_reason']}")
        reviews = {r["stage"]: r for r in await db.fetch("SELECT * FROM bid_reviews WHERE bid_id = $1", bid_id)}
        if "remedy" in reviews:
            raise conflict("bid_found_non_responsive", f"an upheld challenge found this bid non-responsive: {reviews['remedy']['reason']}")
        qualification = reviews.get("qualification")
        rules.check_review_order(stage, qualification["responsive"] if qualification else None)
        now = await clock.now()
        row = await db.fetchrow(
            """INSERT INTO bid_reviews (bid_id, stage, tender_id, responsive, reason, reviewed_by, reviewed_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7)
               ON CONFLICT (bid_id, stage) DO UPDATE SET responsive = EXCLUDED.responsive, reason = EXCLUDED.reason,
                   reviewed_by = EXCLUDED.reviewed_by, reviewed_at = EXCLUDED.reviewed_at, version = bid_reviews.version + 1
               RETURNING *""",
            bid_id, stage.value, tender_id, data.responsive, data.reason, actor.user_id, now,
        )
        reviews[stage.value] = row
        if stage is rules.ReviewStage.QUALIFICATION and not data.responsive and "compliance" in reviews:
            # A bidder found not qualified is not reviewed further: its compliance review is moot.
            await db.execute("DELETE FROM bid_reviews WHERE bid_id = $1 AND stage = 'compliance'", bid_id)
            del reviews["compliance"]
        status = rules.review_status(
            reviews["qualification"]["responsive"] if "qualification" in reviews else None,
            reviews["compliance"]["responsive"] if "compliance" in reviews else None,
        )
        await db.execute("UPDATE bids SET review_status = $2, version = version + 1 WHERE id = $1", bid_id, status.value)
        statuses = [
            r["review_status"]
            for r in await db.fetch("SELECT review_status FROM bids WHERE tender_id = $1 AND status IN ('valid','invalid')", tender_id)
        ]
        fails = rules.review_fails_tender(tender["method"], statuses)
        result = BidReviewRead(
            tender_id=tender_id, bid_id=bid_id, stage=stage.value, responsive=data.responsive, reason=data.reason,
            reviewed_at=now, review_status=status.value, tender_status="failed" if fails else tender["status"],
        )
        if fails:
            # the budget line is locked (by the release) before the first audit event
            await fail_tender(actor, tender, now, f"fewer than {rules.minimum_valid_bids(tender['method'])} bids can be responsive")
        await audit.record(actor, f"bid.reviewed_{stage.value}", "bid", bid_id,
                           before=_review_summary(bid), after=result.model_dump())
    return result


def _review_summary(bid: Any) -> dict[str, Any]:
    return {"tender_id": bid["tender_id"], "vendor_id": bid["vendor_id"], "review_status": bid["review_status"]}


async def find_declaration_false(actor: Actor, tender_id: UUID, bid_id: UUID, data: SmeDeclarationFalse) -> BidRead:
    """The regulator finds a bid's SME declaration false (财库〔2020〕46号 Art. 20: 提供虚假材料谋取
    中标; 政府采购法 Art. 77, 实施条例 Art. 72): the vendor goes on the procurement blacklist
    (政府采购严重违法失信行为记录名单) through the credit-list path, and the bid no longer counts —
    found non-responsive while the tender is evaluated (the tender fails if too few bids can
    still be responsive), and, if it won an award in force, the award passes to the next candidate
    as an upheld challenge's would. Once contracted the finding and the listing are recorded; what
    becomes of the contract is for the contract's own remedies."""
    from procurement.service.bids import _BID_SELECT, _bid_read  # the bids stage reads bids

    tender = await _tender_for(actor, tender_id)
    if actor.role != "regulator":
        raise NotFound("tender", tender_id)
    async with db.transaction():
        tender = await db.fetchrow("SELECT * FROM tenders WHERE id = $1 FOR UPDATE", tender_id)
        bid = await db.fetchrow("SELECT * FROM bids WHERE id = $1 AND tender_id = $2 FOR UPDATE", bid_id, tender_id)
        if bid is None or bid["status"] not in ("valid", "invalid"):
            raise NotFound("bid", bid_id)
        if bid["sme_declaration"] is None:
            raise conflict("no_sme_declaration", "the bid declared no size: there is nothing to find false")
        if bid["sme_declaration_false_at"] is not None:
            raise conflict("declaration_already_found_false", "the declaration was already found false")
        now = await clock.now()
        reason = f"中小企业声明函不实（财库〔2020〕46号第二十条）：{data.finding}"
        effect: dict[str, Any] = {"tender_status": tender["status"]}
        if tender["status"] == "evaluating" and bid["status"] == "valid":
            await mark_non_responsive(actor, tender_id, [bid_id], reason, now, bid_id)
            statuses = [r["review_status"] for r in await db.fetch(
                "SELECT review_status FROM bids WHERE tender_id = $1 AND status IN ('valid','invalid')", tender_id)]
            if rules.review_fails_tender(tender["method"], statuses):
                await fail_tender(actor, tender, now, f"{reason}: too few bids can be responsive")
                effect["tender_status"] = "failed"
        elif tender["status"] == "awarded":
            winning = await db.fetchval("SELECT winning_bid_id FROM tender_awards WHERE id = $1", tender["award_id"])
            if winning == bid_id:
                effect = await apply_remedy(actor, tender, rules.Remedy.NEXT_CANDIDATE, [bid_id], reason, bid_id)
            else:
                await mark_non_responsive(actor, tender_id, [bid_id], reason, now, bid_id)
        await db.execute(
            """UPDATE bids SET sme_declaration_false_at = $2, sme_declaration_finding = $3, version = version + 1
               WHERE id = $1""",
            bid_id, now, data.finding,
        )
        listing = await vendors.add_credit_list_entry(
            actor, bid["vendor_id"],
            CreditListEntryCreate(list="procurement_blacklist", reason=f"{reason}（招标项目 {tender_id}）",
                                  listed_on=local_date(now)),
        )
        await audit.record(actor, "bid.sme_declaration_found_false", "bid", bid_id,
                           before={"sme_declaration": bid["sme_declaration"]},
                           after={"finding": data.finding, "credit_list_entry_id": listing.id, **effect})
        row = await db.fetchrow(f"{_BID_SELECT} WHERE b.id = $1", bid_id)
    return _bid_read(row, full=True, price=True)
