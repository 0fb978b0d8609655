"""Experts, the review panel (评标委员会) and their scores."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any
from uuid import UUID

from govbuy import audit, clock
from govbuy import database as db
from govbuy.audit import Actor
from govbuy.errors import NotFound
from govbuy.pagination import Page, check_limit, page
from govbuy.pagination import typed_cursor as _keyset
from govbuy.rules import RuleViolation, conflict
from procurement import rules
from procurement.schemas import (
    AffiliationsRead,
    AffiliationsWrite,
    PanelExpertRead,
    PanelRead,
    PanelWrite,
    ScoreSheetRead,
    ScoreSheetWrite,
)

from procurement.service._common import _reads_all
from procurement.service.tenders import _own_tender
from procurement.service.opening import _open_if_due, _tender_for


# --- experts, panel and scores ---------------------------------------------------------------


async def _expert(user_id: UUID) -> Any:
    row = await db.fetchrow("SELECT id, username FROM users WHERE id = $1 AND role = 'expert'", user_id)
    if row is None:
        raise NotFound("expert", user_id)
    return row


async def get_affiliations(actor: Actor, user_id: UUID) -> AffiliationsRead:
    if not _reads_all(actor) and actor.user_id != user_id:
        raise NotFound("expert", user_id)
    await _expert(user_id)
    rows = await db.fetch(
        "SELECT organisation_id FROM expert_affiliations WHERE expert_user_id = $1 ORDER BY organisation_id", user_id
    )
    return AffiliationsRead(expert_user_id=user_id, organisation_ids=[r["organisation_id"] for r in rows])


async def put_affiliations(actor: Actor, user_id: UUID, data: AffiliationsWrite) -> AffiliationsRead:
    """Record (replace) the organisations an expert is affiliated with (回避)."""
    wanted = sorted(set(data.organisation_ids))
    async with db.transaction():
        await db.fetchrow("SELECT id FROM users WHERE id = $1 FOR UPDATE", user_id)
        await _expert(user_id)
        found = {r["id"] for r in await db.fetch("SELECT id FROM organisations WHERE id = ANY($1::uuid[])", wanted)}
        unknown = [o for o in wanted if o not in found]
        if unknown:
            raise RuleViolation(
                "organisation_not_found",
                f"{len(unknown)} organisation(s) do not exist",
                errors=[{"field": "organisation_ids", "message": f"{o} does not exist"} for o in unknown],
            )
        before = await get_affiliations(actor, user_id)
        await db.execute("DELETE FROM expert_affiliations WHERE expert_user_id = $1", user_id)
        now = await clock.now()
        await db.executemany(
            """INSERT INTO expert_affiliations (expert_user_id, organisation_id, declared_at, declared_by)
               VALUES ($1, $2, $3, $4)""",
            [(user_id, o, now, actor.user_id) for o in wanted],
        )
        after = AffiliationsRead(expert_user_id=user_id, organisation_ids=wanted)
        await audit.record(actor, "expert.affiliations_declared", "user", user_id, before=before.model_dump(), after=after.model_dump())
    return after


async def _affiliated_with_bidders(tender_id: UUID, expert_ids: Sequence[UUID]) -> set[UUID]:
    rows = await db.fetch(
        """SELECT DISTINCT a.expert_user_id FROM expert_affiliations a
           WHERE a.expert_user_id = ANY($2::uuid[])
             AND a.organisation_id IN (SELECT vendor_id FROM bids WHERE tender_id = $1)""",
        tender_id,
        list(expert_ids),
    )
    return {r["expert_user_id"] for r in rows}


async def _panel(tender_id: UUID) -> list[Any]:
    return await db.fetch(
        """SELECT p.expert_user_id, u.username, p.appointed_at FROM tender_panel_members p
           JOIN users u ON u.id = p.expert_user_id WHERE p.tender_id = $1 ORDER BY u.username""",
        tender_id,
    )


def _panel_read(tender_id: UUID, rows: Sequence[Any]) -> PanelRead:
    return PanelRead(
        tender_id=tender_id,
        experts=[PanelExpertRead(user_id=r["expert_user_id"], username=r["username"]) for r in rows],
        appointed_at=max((r["appointed_at"] for r in rows), default=None),
    )


def _check_evaluating(tender: Any) -> None:
    if tender["status"] != "evaluating":
        raise conflict("tender_not_evaluating", f"the tender is {tender['status']}, not under evaluation")


async def set_panel(actor: Actor, tender_id: UUID, data: PanelWrite) -> PanelRead:
    """Appoint the evaluation panel (评标委员会) after the opening: an odd number of experts (5+
    for a public tender, 3+ otherwise), none affiliated with a bidder. Replaced freely until
    the first score is recorded."""
    await _open_if_due(tender_id)
    async with db.transaction():
        tender = await _own_tender(actor, tender_id, lock="UPDATE")
        _check_evaluating(tender)
        if await db.fetchval("SELECT 1 FROM bid_scores WHERE tender_id = $1 LIMIT 1", tender_id):
            raise conflict("panel_locked", "the panel has started scoring: it can no longer be changed")
        ids = list(data.expert_user_ids)
        experts = {
            r["id"]
            for r in await db.fetch(
                "SELECT id FROM users WHERE id = ANY($1::uuid[]) AND role = 'expert' AND active", list(set(ids))
            )
        }
        unknown = [e for e in dict.fromkeys(ids) if e not in experts]
        if unknown:
            raise RuleViolation(
                "expert_not_found",
                f"{len(unknown)} id(s) are not active experts",
                errors=[{"field": "expert_user_ids", "message": f"{e} is not an active expert"} for e in unknown],
            )
        rules.check_panel(
            tender["method"], ids, await _affiliated_with_bidders(tender_id, ids), ceiling_amount=tender["ceiling_amount"]
        )
        before = _panel_read(tender_id, await _panel(tender_id))
        now = await clock.now()
        await db.execute("DELETE FROM tender_panel_members WHERE tender_id = $1", tender_id)
        await db.executemany(
            """INSERT INTO tender_panel_members (tender_id, expert_user_id, appointed_at, appointed_by)
               VALUES ($1, $2, $3, $4)""",
            [(tender_id, e, now, actor.user_id) for e in ids],
        )
        after = _panel_read(tender_id, await _panel(tender_id))
        await audit.record(actor, "tender.panel_appointed", "tender", tender_id, before=before.model_dump(), after=after.model_dump())
    return after


async def get_panel(actor: Actor, tender_id: UUID) -> PanelRead:
    tender = await _tender_for(actor, tender_id)
    if actor.role == "vendor":
        raise NotFound("panel of tender", tender["id"])
    return _panel_read(tender_id, await _panel(tender_id))


def _score_read(row: Any) -> ScoreSheetRead:
    return ScoreSheetRead(
        tender_id=row["tender_id"],
        bid_id=row["bid_id"],
        expert_user_id=row["expert_user_id"],
        scores={k: Decimal(v) for k, v in row["scores"].items()},
        scored_at=row["scored_at"],
        version=row["version"],
    )


async def put_scores(actor: Actor, tender_id: UUID, bid_id: UUID, data: ScoreSheetWrite) -> ScoreSheetRead:
    """An expert of the panel scores a valid bid on every criterion (0 ≤ score ≤ weight); a
    sheet may be rescored while the tender is under evaluation."""
    await _tender_for(actor, tender_id)
    async with db.transaction():
        tender = await db.fetchrow("SELECT * FROM tenders WHERE id = $1 FOR SHARE", tender_id)
        _check_evaluating(tender)
        if tender["evaluation_method"] != "comprehensive":
            raise conflict("scoring_not_applicable", "the lowest price method (最低评标价法) has no scores")
        bid = await db.fetchrow("SELECT id, status FROM bids WHERE id = $1 AND tender_id = $2", bid_id, tender_id)
        if bid is None:
            raise NotFound("bid", bid_id)
        if bid["status"] != "valid":
            raise conflict("bid_not_valid", f"the bid is {bid['status']}: only valid bids are scored")
        if await _affiliated_with_bidders(tender_id, [actor.user_id]):
            raise RuleViolation(
                "expert_conflict_of_interest",
                "the expert has declared an affiliation with a bidder and may not score",
                errors=[{"field": "expert_user_ids", "message": f"expert {actor.user_id} is affiliated with a bidder"}],
            )
        clean = rules.check_expert_scores(tender["criteria"], data.scores)
        stored = {k: str(v) for k, v in clean.items()}
        before = await db.fetchrow(
            "SELECT * FROM bid_scores WHERE bid_id = $1 AND expert_user_id = $2 FOR UPDATE", bid_id, actor.user_id
        )
        row = await db.fetchrow(
            """INSERT INTO bid_scores (bid_id, expert_user_id, tender_id, scores, scored_at)
               VALUES ($1, $2, $3, $4, $5)
               ON CONFLICT (bid_id, expert_user_id)
               DO UPDATE SET scores = EXCLUDED.scores, scored_at = EXCLUDED.scored_at, version = bid_scores.version + 1
               RETURNING *""",
            bid_id,
            actor.user_id,
            tender_id,
            stored,
            await clock.now(),
        )
        result = _score_read(row)
        await audit.record(
            actor,
            "bid.scored",
            "bid",
            bid_id,
            before=_score_read(before).model_dump() if before else None,
            after=result.model_dump(),
        )
    return result


async def list_scores(
    actor: Actor, tender_id: UUID, bid_id: UUID | None, limit: int | None, cursor: str | None
) -> Page[ScoreSheetRead]:
    """Score sheets by bid then expert: an expert sees its own; the bureau, admins and
    supervisors all of them. Experts' individual scores are never public."""
    await _tender_for(actor, tender_id)
    if actor.role == "vendor":
        raise NotFound("scores of tender", tender_id)
    limit = check_limit(limit)
    after_bid, after_expert = _keyset(cursor, UUID, UUID)
    rows = await db.fetch(
        """SELECT * FROM bid_scores WHERE tender_id = $1 AND ($2::uuid IS NULL OR bid_id = $2)
             AND ($3::uuid IS NULL OR expert_user_id = $3)
             AND ($4::uuid IS NULL OR (bid_id, expert_user_id) > ($4, $5::uuid))
           ORDER BY bid_id, expert_user_id LIMIT $6""",
        tender_id,
        bid_id,
        actor.user_id if actor.role == "expert" else None,
        after_bid,
        after_expert,
        limit + 1,
    )
    return page(rows, limit, lambda r: (r["bid_id"], r["expert_user_id"]), _score_read)
