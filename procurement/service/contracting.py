"""What the contracts domain needs: an awarded tender locked for contracting, marked
contracted; tenders as a subquery for its reports."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

from govbuy import audit, clock
from govbuy import database as db
from govbuy.audit import Actor
from govbuy.errors import NotFound
from govbuy.rules import conflict
from procurement import rules

from procurement.service.opening import _open_if_due
from procurement.service.bids import tender_bidder_ids
from procurement.service._common import check_not_suspended as _check_tender_not_suspended
from procurement.service.complaints import open_complaints


async def check_not_suspended(tender_id: UUID) -> None:
    """For the contracts domain: no payment while the regulator suspends the procurement."""
    tender = await db.fetchrow("SELECT suspended_until FROM tenders WHERE id = $1", tender_id)
    if tender is not None:
        await _check_tender_not_suspended(tender)


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
    sme_declaration: str | None = None  # the winning bid's, unless found false
    performance_targets: tuple[dict, ...] = ()  # as stored: {indicator, unit, target, direction, figure}


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
        await _check_tender_not_suspended(tender)
        award = await db.fetchrow("SELECT * FROM tender_awards WHERE id = $1", tender["award_id"])
        # any challenge of the tender still unanswered, and any complaint still being handled
        pending = await db.fetchval(
            "SELECT count(*) FROM tender_challenges WHERE tender_id = $1 AND status = 'pending'", tender_id
        ) + await open_complaints(tender_id)
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
            performance_targets=tuple(tender["performance_targets"] or ()),
            sme_declaration=await db.fetchval(
                "SELECT sme_declaration FROM bids WHERE id = $1 AND sme_declaration_false_at IS NULL", award["winning_bid_id"]
            ),
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
