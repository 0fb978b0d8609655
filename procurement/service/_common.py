"""What every stage of a tender shares: who reads everything, the tender's select with its
bureau, item and invitations, who may see a tender, the reservation's release and the OCDS
release recorded with an audit event."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from govbuy import clock
from govbuy import service as kernel
from govbuy import database as db
from govbuy.audit import Actor
from govbuy.errors import NotFound
from planning import service as planning
from procurement import rules


READERS = ("admin", "supervisor")  # read everything, write nothing here


def _reads_all(actor: Actor) -> bool:
    return actor.role in READERS


# --- a tender as every stage reads it ----------------------------------------------------------

_TENDER_SELECT = f"""SELECT t.*, o.name AS bureau_name, o.region_code AS bureau_region_code, ci.code AS item_code, ci.name AS item_name,
       a.standstill_until AS award_standstill_until,
       (SELECT min(c.reply_due) FROM tender_challenges c WHERE c.tender_id = t.id AND c.status = 'pending')
           AS earliest_reply_due,
       array(SELECT i.vendor_id FROM tender_invitations i WHERE i.tender_id = t.id ORDER BY i.vendor_id)
           AS invited_ids
    FROM tenders t
    JOIN organisations o ON o.id = t.bureau_id
    JOIN {planning.catalogue_items_sql()} ci ON ci.id = t.catalogue_item_id
    LEFT JOIN tender_awards a ON a.id = t.award_id"""


async def actor_region(actor: Actor) -> str:
    """The region (行政区划代码) of the caller's organisation: a regulator's oversight."""
    return await kernel.region_of(actor.organisation_id)


def _tender_visible(actor: Actor, row: Any, on_panel: bool, region: str | None = None) -> bool:
    if _reads_all(actor):
        return True
    if actor.role == "regulator":
        return row["published_at"] is not None and region is not None and rules.region_covers(
            region, row["bureau_region_code"]
        )
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
    region = await actor_region(actor) if actor.role == "regulator" else None
    if row is None or not _tender_visible(actor, row, await _on_panel(actor, tender_id), region):
        raise NotFound("tender", tender_id)
    return row


def _oversees(actor: Actor) -> bool:
    """Reads every part of a tender it may see: admins, supervisors, the region's regulator."""
    return _reads_all(actor) or actor.role == "regulator"


async def check_not_suspended(tender: Any) -> None:
    """No opening, review, award, contract or payment while the regulator suspends the
    procurement (`procurement_suspended`, 财政部令第94号 Art. 28)."""
    rules.check_not_suspended(tender["suspended_until"], await clock.now())


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
