"""Bids (投标): sealed until the deadline, withdrawn or replaced before it; read after opening."""

from __future__ import annotations

import secrets
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import asyncpg

from govbuy import audit, clock
from govbuy import database as db
from govbuy.audit import Actor
from govbuy.errors import NotFound, check_if_match
from govbuy.pagination import Page, check_limit, page
from govbuy.pagination import typed_cursor
from govbuy.rules import RuleViolation, conflict, local_date
from procurement import rules
from procurement.schemas import BidCreate, BidRead, BidUpdate
from vendors import service as vendors

from procurement.service._common import _TENDER_SELECT, _tender_visible
from procurement.service.opening import _OpenFirst, _due, _tender_for, open_tender
from procurement.service.questions import _check_may_take_part


# --- bids (投标) -------------------------------------------------------------------------------

_BID_SELECT = """SELECT b.*, o.name AS vendor_name,
       (SELECT jsonb_agg(jsonb_build_object('stage', r.stage, 'responsive', r.responsive, 'reason', r.reason,
                                            'reviewed_at', r.reviewed_at) ORDER BY r.reviewed_at, r.stage)
        FROM bid_reviews r WHERE r.bid_id = b.id) AS reviews
    FROM bids b JOIN organisations o ON o.id = b.vendor_id"""


def _seal(price: Decimal, proposal: str) -> tuple[str, str]:
    """A random nonce and the digest of nonce|price|proposal: the audit log records the digest
    while the bid is sealed (a digest of the price alone could be brute-forced)."""
    nonce = secrets.token_hex(16)
    return nonce, rules.seal_digest(nonce, price, proposal)


def _bid_read(row: Any, *, full: bool, price: bool) -> BidRead:
    """`full`: the caller may read the proposal and the eligibility record; `price`: the price."""
    return BidRead(
        id=row["id"],
        tender_id=row["tender_id"],
        vendor_id=row["vendor_id"],
        vendor_name=row["vendor_name"],
        status=row["status"],
        price=row["price"] if price else None,
        proposal=row["proposal"] if full else None,
        first_submitted_at=row["first_submitted_at"],
        submitted_at=row["submitted_at"],
        withdrawn_at=row["withdrawn_at"],
        eligibility_at_submission=row["eligibility_at_submission"] if full else None,
        eligibility_at_opening=row["eligibility_at_opening"] if full else None,
        credit_grade_at_opening=row["credit_grade_at_opening"],
        invalid_reason=row["invalid_reason"],
        sme_declaration=row["sme_declaration"],
        sme_declaration_false_at=row["sme_declaration_false_at"],
        review_status=row["review_status"],
        reviews=(row.get("reviews") or []) if full else None,
        content_digest=row["content_digest"] if full else None,
        seal_nonce=row["seal_nonce"] if full else None,
        version=row["version"],
    )


def _declaration(tender: Any, uscc: str | None, declaration: str | None) -> str | None:
    """The bidder's size declaration, checked against what it is and the tender's reservation."""
    declared = rules.check_declaration(vendors.vendor_type(uscc), declaration)
    rules.check_reservation(rules.SmePolicy(tender["sme_reserved"], tender["sme_price_deduction_percent"]), declared)
    return declared


def _seal_summary(row: Any) -> dict[str, Any]:
    """What the audit log keeps of a sealed bid: never its price or proposal."""
    return {
        "tender_id": row["tender_id"],
        "vendor_id": row["vendor_id"],
        "status": row["status"],
        "submitted_at": row["submitted_at"],
        "content_digest": row["content_digest"],
        "eligibility": row["eligibility_at_submission"],
        "sme_declaration": row["sme_declaration"],
        "version": row["version"],
    }


async def _eligibility_now(tender: Any, vendor_id: UUID, today: date) -> dict[str, Any]:
    result = await vendors.check_eligibility(vendor_id, min_credit_grade=tender["min_credit_grade"], today=today)
    checked = {**result.as_dict(), "checked_on": today.isoformat()}
    if not result.eligible:
        raise rules.ineligible([r.as_dict() for r in result.reasons], excluded_by_law=result.excluded_by_law)
    return checked


async def _lock_open_tender(actor: Actor, tender_id: UUID) -> tuple[Any, datetime]:
    """Share-lock a tender the vendor may bid on, and read the clock under the lock: the
    opening's exclusive lock waits for every bid being written, and a bid written after the
    opening sees it opened. Bids are taken while published and before the deadline; a due
    tender not yet opened raises _OpenFirst."""
    tender = await db.fetchrow(f"{_TENDER_SELECT} WHERE t.id = $1 FOR SHARE OF t", tender_id)
    if tender is None or not _tender_visible(actor, tender, False):
        raise NotFound("tender", tender_id)
    now = await clock.now()
    if _due(tender, now):
        raise _OpenFirst()
    if tender["status"] == "published":
        rules.check_bid_open(now, tender["bid_deadline"])
    elif tender["opened_at"] is not None:
        raise conflict("bid_deadline_passed", "the bid deadline has passed and the tender has been opened")
    else:
        raise conflict("tender_not_open", f"the tender is {tender['status']}: it takes no bids")
    await _check_may_take_part(actor, tender)
    return tender, now


async def _deadline_passed(tender_id: UUID) -> RuleViolation:
    """Open a due tender (the bid that found it due was rolled back) and refuse the bid."""
    await open_tender(tender_id)
    return conflict("bid_deadline_passed", "the bid deadline has passed: the tender has been opened")


def _already_submitted() -> RuleViolation:
    return conflict("bid_already_submitted", "the vendor already has a bid on this tender: revise it instead")


async def submit_bid(actor: Actor, tender_id: UUID, data: BidCreate) -> BidRead:
    """Submit the vendor's sealed bid before the deadline: one live bid per vendor, price within
    the ceiling, eligibility checked now and stored with the bid."""
    try:
        async with db.transaction():
            tender, now = await _lock_open_tender(actor, tender_id)
            rules.check_bid_price(data.price, tender["ceiling_amount"])
            vendor = await db.fetchrow(
                """SELECT o.name, o.uscc, EXISTS (SELECT 1 FROM bids b WHERE b.tender_id = $1 AND b.vendor_id = o.id
                                                    AND b.status <> 'withdrawn') AS has_bid
                   FROM organisations o WHERE o.id = $2""",
                tender_id,
                actor.organisation_id,
            )
            if vendor["has_bid"]:
                raise _already_submitted()
            declaration = _declaration(tender, vendor["uscc"], data.sme_declaration)
            eligibility = await _eligibility_now(tender, actor.organisation_id, local_date(now))
            nonce, digest = _seal(data.price, data.proposal)
            inserted = await db.fetchrow(
                """INSERT INTO bids (id, tender_id, vendor_id, submitted_by, price, proposal, first_submitted_at,
                       submitted_at, eligibility_at_submission, seal_nonce, content_digest, sme_declaration)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8, $9, $10, $11) RETURNING *""",
                uuid4(),
                tender_id,
                actor.organisation_id,
                actor.user_id,
                data.price,
                data.proposal,
                now,
                eligibility,
                nonce,
                digest,
                declaration,
            )
            row = {**dict(inserted), "vendor_name": vendor["name"]}
            await audit.record(actor, "bid.submitted", "bid", row["id"], after=_seal_summary(row))
    except _OpenFirst:
        raise await _deadline_passed(tender_id) from None
    except asyncpg.UniqueViolationError as exc:  # the same vendor's concurrent second submission
        raise _already_submitted() from exc
    return _bid_read(row, full=True, price=True)


async def _lock_own_bid(actor: Actor, tender_id: UUID, bid_id: UUID) -> Any:
    row = await db.fetchrow(f"{_BID_SELECT} WHERE b.id = $1 AND b.tender_id = $2 FOR UPDATE OF b", bid_id, tender_id)
    if row is None or actor.role != "vendor" or row["vendor_id"] != actor.organisation_id:
        raise NotFound("bid", bid_id)
    if row["status"] == "withdrawn":
        raise conflict("bid_withdrawn", "the bid has been withdrawn: submit a new one")
    return row


async def revise_bid(actor: Actor, tender_id: UUID, bid_id: UUID, data: BidUpdate, if_match: str | None) -> BidRead:
    """Revise one's own bid before the deadline (a revision is a new submission: eligibility
    is checked again and the submission time moves)."""
    try:
        async with db.transaction():
            tender, now = await _lock_open_tender(actor, tender_id)
            row = await _lock_own_bid(actor, tender_id, bid_id)
            check_if_match(if_match, row["version"])
            price = data.price if data.price is not None else row["price"]
            proposal = data.proposal if data.proposal is not None else row["proposal"]
            rules.check_bid_price(price, tender["ceiling_amount"])
            declared = data.sme_declaration if "sme_declaration" in data.model_fields_set else row["sme_declaration"]
            uscc = await db.fetchval("SELECT uscc FROM organisations WHERE id = $1", actor.organisation_id)
            declaration = _declaration(tender, uscc, declared)
            eligibility = await _eligibility_now(tender, actor.organisation_id, local_date(now))
            nonce, digest = _seal(price, proposal)
            updated = await db.fetchrow(
                """UPDATE bids SET price = $2, proposal = $3, submitted_at = $4, eligibility_at_submission = $5,
                       seal_nonce = $6, content_digest = $7, sme_declaration = $8, version = version + 1
                   WHERE id = $1 RETURNING *""",
                bid_id,
                price,
                proposal,
                now,
                eligibility,
                nonce,
                digest,
                declaration,
            )
            updated = {**dict(updated), "vendor_name": row["vendor_name"]}
            await audit.record(actor, "bid.revised", "bid", bid_id, before=_seal_summary(row), after=_seal_summary(updated))
    except _OpenFirst:
        raise await _deadline_passed(tender_id) from None
    return _bid_read(updated, full=True, price=True)


async def withdraw_bid(actor: Actor, tender_id: UUID, bid_id: UUID, if_match: str | None) -> BidRead:
    """Withdraw one's own bid before the deadline; it stays on record, unopened."""
    try:
        async with db.transaction():
            _, now = await _lock_open_tender(actor, tender_id)
            row = await _lock_own_bid(actor, tender_id, bid_id)
            check_if_match(if_match, row["version"])
            updated = await db.fetchrow(
                """UPDATE bids SET status = 'withdrawn', withdrawn_at = $2, version = version + 1
                   WHERE id = $1 RETURNING *""",
                bid_id,
                now,
            )
            updated = {**dict(updated), "vendor_name": row["vendor_name"]}
            await audit.record(actor, "bid.withdrawn", "bid", bid_id, before=_seal_summary(row), after=_seal_summary(updated))
    except _OpenFirst:
        raise await _deadline_passed(tender_id) from None
    return _bid_read(updated, full=True, price=True)


async def _bid_access(actor: Actor, tender: Any) -> tuple[str, bool]:
    """How the caller sees the bids of a tender: ('own', _) only its own bids; ('all', full)
    every bid, with proposals when full; ('sealed', _) nothing yet."""
    if tender["opened_at"] is None:
        return ("own", True) if actor.role == "vendor" else ("sealed", False)
    if actor.role == "vendor":
        bid_on_it = await db.fetchval(
            "SELECT 1 FROM bids WHERE tender_id = $1 AND vendor_id = $2 AND status <> 'withdrawn'",
            tender["id"],
            actor.organisation_id,
        )
        return ("all", False) if bid_on_it else ("own", True)
    return "all", True


async def list_bids(
    actor: Actor, tender_id: UUID, status: str | None, limit: int | None, cursor: str | None
) -> Page[BidRead]:
    """Before the opening a vendor sees only its own bid and nobody else anything (bids_sealed);
    after it the bureau, the panel, admins and supervisors see every bid, and each bidder sees
    every bidder's name and price (唱标) and its own proposal only."""
    limit = check_limit(limit)
    after_at, after_id = typed_cursor(cursor, datetime, UUID)
    tender = await _tender_for(actor, tender_id)
    mode, full = await _bid_access(actor, tender)
    if mode == "sealed":
        rules.ensure_bids_unsealed(await clock.now(), tender["bid_deadline"])
        raise conflict("bids_sealed", "the bids have not been opened")
    own = actor.organisation_id if mode == "own" else None
    # Other bidders see the opened bids, not what a competitor withdrew before the deadline.
    hide_withdrawn = actor.role == "vendor" and mode == "all"
    rows = await db.fetch(
        f"""{_BID_SELECT}
            WHERE b.tender_id = $1 AND ($2::uuid IS NULL OR b.vendor_id = $2) AND ($3::text IS NULL OR b.status = $3)
              AND (NOT $4::boolean OR b.status <> 'withdrawn' OR b.vendor_id = $7)
              AND ($5::timestamptz IS NULL OR (b.submitted_at, b.id) > ($5, $6::uuid))
            ORDER BY b.submitted_at, b.id LIMIT $8""",
        tender_id,
        own,
        status,
        hide_withdrawn,
        after_at,
        after_id,
        actor.organisation_id,
        limit + 1,
    )

    def item(r: Any) -> BidRead:
        mine = actor.role == "vendor" and r["vendor_id"] == actor.organisation_id
        return _bid_read(r, full=full or mine, price=True)

    return page(rows, limit, lambda r: (r["submitted_at"], r["id"]), item)


async def get_bid(actor: Actor, tender_id: UUID, bid_id: UUID) -> BidRead:
    tender = await _tender_for(actor, tender_id)
    row = await db.fetchrow(f"{_BID_SELECT} WHERE b.id = $1 AND b.tender_id = $2", bid_id, tender_id)
    mode, full = await _bid_access(actor, tender)
    mine = row is not None and actor.role == "vendor" and row["vendor_id"] == actor.organisation_id
    if row is None or (mode == "own" and not mine) or (mode == "all" and not full and not mine and row["status"] == "withdrawn"):
        raise NotFound("bid", bid_id)
    if mode == "sealed":
        raise conflict("bids_sealed", "the bids have not been opened")
    return _bid_read(row, full=full or mine, price=True)


async def tender_bidder_ids(tender_id: UUID) -> list[UUID]:
    """Vendors that submitted a bid to the tender, withdrawn bids included."""
    rows = await db.fetch("SELECT DISTINCT vendor_id FROM bids WHERE tender_id = $1 ORDER BY vendor_id", tender_id)
    return [r["vendor_id"] for r in rows]
