"""Experts, the panel (评标委员会 and the other methods' 小组): its random draw from the expert pool,
a withdrawn expert's replacement, a hand-picked panel with its reason, and the panel's scores."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
import secrets
from typing import Any
from uuid import UUID, uuid4

from govbuy import audit, clock
from govbuy import database as db
from govbuy.audit import Actor
from govbuy.errors import NotFound
from govbuy.pagination import Page, check_limit, page
from govbuy.pagination import typed_cursor
from govbuy.rules import RuleViolation, conflict
from procurement import rules
from procurement.schemas import (
    AffiliationsRead,
    AffiliationsWrite,
    PanelDrawCreate,
    PanelDrawRead,
    PanelExpertRead,
    PanelRead,
    PanelReplace,
    PanelWrite,
    ScoreSheetRead,
    ScoreSheetWrite,
)

from procurement.service._common import _reads_all, check_not_suspended
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


async def _pool(tender: Any) -> tuple[list[UUID], list[dict[str, Any]]]:
    """The candidates of a draw (active experts, by id) and who is excluded and why: affiliated
    with a bidder or with the purchaser (回避, 实施条例 Art. 9), already on the panel, or withdrawn
    from this panel before."""
    rows = await db.fetch(
        """SELECT u.id,
                  EXISTS (SELECT 1 FROM expert_affiliations a JOIN bids b ON b.vendor_id = a.organisation_id
                          WHERE a.expert_user_id = u.id AND b.tender_id = $1) AS bidder,
                  EXISTS (SELECT 1 FROM expert_affiliations a
                          WHERE a.expert_user_id = u.id AND a.organisation_id = $2) AS purchaser,
                  EXISTS (SELECT 1 FROM tender_panel_members p
                          WHERE p.tender_id = $1 AND p.expert_user_id = u.id) AS member,
                  EXISTS (SELECT 1 FROM panel_draws d
                          WHERE d.tender_id = $1 AND d.replaced_expert_id = u.id) AS withdrawn
           FROM users u WHERE u.role = 'expert' AND u.active ORDER BY u.id""",
        tender["id"],
        tender["bureau_id"],
    )
    candidates: list[UUID] = []
    excluded: list[dict[str, Any]] = []
    for r in rows:
        reason = (
            "affiliated with a bidder" if r["bidder"]
            else "affiliated with the purchaser" if r["purchaser"]
            else "already on the panel" if r["member"]
            else "withdrew from this panel" if r["withdrawn"]
            else None
        )
        if reason:
            excluded.append({"expert_user_id": str(r["id"]), "reason": reason})
        else:
            candidates.append(r["id"])
    return candidates, excluded


async def _panel(tender_id: UUID) -> list[Any]:
    return await db.fetch(
        """SELECT p.expert_user_id, u.username, p.appointed_at, p.member_role, p.draw_id FROM tender_panel_members p
           JOIN users u ON u.id = p.expert_user_id WHERE p.tender_id = $1 ORDER BY p.member_role, u.username""",
        tender_id,
    )


async def panel_counts(tender_id: UUID) -> tuple[int, int]:
    """(experts, representatives) on the tender's panel."""
    rows = await _panel(tender_id)
    experts = sum(1 for r in rows if r["member_role"] == "expert")
    return experts, len(rows) - experts


async def check_panel_complete(tender: Any) -> None:
    experts, representatives = await panel_counts(tender["id"])
    rules.check_panel_complete(tender["method"], tender["ceiling_amount"], experts, representatives)


async def on_panel(actor: Actor, tender_id: UUID) -> bool:
    return bool(
        await db.fetchval(
            "SELECT 1 FROM tender_panel_members WHERE tender_id = $1 AND expert_user_id = $2", tender_id, actor.user_id
        )
    )


def _draw_read(row: Any) -> PanelDrawRead:
    candidates = [UUID(c) for c in row["candidates"]]
    drawn = [UUID(d) for d in row["drawn"]]
    replay = None
    if row["seed"] is not None:
        replay = rules.draw_experts(row["seed"], candidates, len(drawn)) == drawn
    return PanelDrawRead.model_validate({**dict(row), "candidates": candidates, "drawn": drawn, "replay_matches": replay})


async def _draws(tender_id: UUID) -> list[PanelDrawRead]:
    rows = await db.fetch("SELECT * FROM panel_draws WHERE tender_id = $1 ORDER BY drawn_at, id", tender_id)
    return [_draw_read(r) for r in rows]


async def _panel_read(tender_id: UUID, rows: Sequence[Any], *, with_draws: bool = False) -> PanelRead:
    draws = await _draws(tender_id) if with_draws else None
    selection = "none"
    if rows:
        if draws is not None:
            hand_picked = not draws or any(d.kind == "hand_picked" for d in draws)
        else:  # the records are not shown: one look at their kinds
            hand_picked = await db.fetchval(
                "SELECT coalesce(bool_or(kind = 'hand_picked'), true) FROM panel_draws WHERE tender_id = $1", tender_id
            )
        selection = "hand_picked" if hand_picked else "drawn"
    member = lambda r: PanelExpertRead(user_id=r["expert_user_id"], username=r["username"], role=r["member_role"])  # noqa: E731
    return PanelRead(
        tender_id=tender_id,
        experts=[member(r) for r in rows if r["member_role"] == "expert"],
        representatives=[member(r) for r in rows if r["member_role"] == "representative"],
        selection=selection,
        appointed_at=max((r["appointed_at"] for r in rows), default=None),
        draws=draws,
    )


def _check_evaluating(tender: Any) -> None:
    if tender["status"] != "evaluating":
        raise conflict("tender_not_evaluating", f"the tender is {tender['status']}, not under evaluation")


async def _representatives(tender: Any, ids: Sequence[UUID]) -> list[UUID]:
    """The purchaser's representatives: active users of the tender's own bureau."""
    wanted = list(dict.fromkeys(ids))
    found = {
        r["id"]
        for r in await db.fetch(
            "SELECT id FROM users WHERE id = ANY($1::uuid[]) AND organisation_id = $2 AND role = 'bureau' AND active",
            wanted,
            tender["bureau_id"],
        )
    }
    unknown = [u for u in wanted if u not in found]
    if unknown:
        raise RuleViolation(
            "representative_not_found",
            f"{len(unknown)} id(s) are not active users of the purchasing bureau",
            errors=[{"field": "bureau_representative_ids", "message": f"{u} is not a user of this bureau"} for u in unknown],
        )
    return wanted


async def _lock_for_panel(actor: Actor, tender_id: UUID) -> Any:
    await _open_if_due(tender_id)
    tender = await _own_tender(actor, tender_id, lock="UPDATE")
    _check_evaluating(tender)
    await check_not_suspended(tender)
    if await db.fetchval("SELECT 1 FROM bid_scores WHERE tender_id = $1 LIMIT 1", tender_id):
        raise conflict("panel_locked", "the panel has started scoring: it can no longer be changed")
    return tender


async def _seat(tender_id: UUID, members: Sequence[tuple[UUID, str]], draw_id: UUID, now: Any, actor: Actor) -> None:
    await db.executemany(
        """INSERT INTO tender_panel_members (tender_id, expert_user_id, member_role, draw_id, appointed_at, appointed_by)
           VALUES ($1, $2, $3, $4, $5, $6)""",
        [(tender_id, m, role, draw_id, now, actor.user_id) for m, role in members],
    )


async def _record_draw(actor: Actor, tender_id: UUID, kind: str, seed: str | None, candidates: Sequence[UUID],
                       excluded: list[dict[str, Any]], drawn: Sequence[UUID], representatives: Sequence[UUID],
                       now: Any, *, replaced: UUID | None = None, reason: str | None = None) -> UUID:
    draw_id = uuid4()
    await db.execute(
        """INSERT INTO panel_draws (id, tender_id, kind, seed, candidates, excluded, drawn, representatives,
               replaced_expert_id, reason, drawn_at, drawn_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)""",
        draw_id, tender_id, kind, seed, [str(c) for c in candidates], excluded, [str(d) for d in drawn],
        [str(r) for r in representatives], replaced, reason, now, actor.user_id,
    )
    return draw_id


async def draw_panel(actor: Actor, tender_id: UUID, data: PanelDrawCreate) -> PanelRead:
    """Draw the panel's experts at random from the pool (实施条例 Art. 39), after the opening so
    that everyone affiliated with a bidder is known and excluded. The seed, the candidates, the
    excluded and the result go to the audit log, from which anyone may replay the draw."""
    async with db.transaction():
        tender = await _lock_for_panel(actor, tender_id)
        if await _panel(tender_id):
            raise conflict("panel_already_drawn", "the tender has its panel: replace a member who withdraws instead")
        representatives = await _representatives(tender, data.bureau_representative_ids)
        count = rules.experts_to_draw(tender["method"], data.size, len(representatives), tender["ceiling_amount"])
        candidates, excluded = await _pool(tender)
        seed = secrets.token_hex(32)
        drawn = rules.draw_experts(seed, candidates, count)
        now = await clock.now()
        draw_id = await _record_draw(actor, tender_id, "draw", seed, candidates, excluded, drawn, representatives, now)
        await _seat(tender_id, [(e, "expert") for e in drawn] + [(r, "representative") for r in representatives], draw_id, now, actor)
        after = await _panel_read(tender_id, await _panel(tender_id), with_draws=True)
        [record] = [d for d in after.draws or [] if d.id == draw_id]
        await audit.record(actor, "tender.panel_drawn", "tender", tender_id, after=record.model_dump())
    return after


async def replace_panel_member(actor: Actor, tender_id: UUID, data: PanelReplace) -> PanelRead:
    """An expert who withdraws (回避, or cannot attend) is replaced by a draw made the same way
    (87号令 Art. 49), before the panel starts scoring."""
    async with db.transaction():
        tender = await _lock_for_panel(actor, tender_id)
        members = {r["expert_user_id"]: r for r in await _panel(tender_id)}
        leaving = members.get(data.expert_user_id)
        if leaving is None or leaving["member_role"] != "expert":
            raise NotFound("expert on the panel", data.expert_user_id)
        await db.execute(
            "DELETE FROM tender_panel_members WHERE tender_id = $1 AND expert_user_id = $2", tender_id, data.expert_user_id
        )
        now = await clock.now()
        # The leaver is recorded as withdrawn by the draw below, so it is excluded from it too.
        candidates, excluded = await _pool(tender)
        candidates = [c for c in candidates if c != data.expert_user_id]
        excluded.append({"expert_user_id": str(data.expert_user_id), "reason": "withdrew from this panel"})
        seed = secrets.token_hex(32)
        drawn = rules.draw_experts(seed, candidates, 1)
        draw_id = await _record_draw(
            actor, tender_id, "replacement", seed, candidates, excluded, drawn, [], now,
            replaced=data.expert_user_id, reason=data.reason,
        )
        await _seat(tender_id, [(drawn[0], "expert")], draw_id, now, actor)
        after = await _panel_read(tender_id, await _panel(tender_id), with_draws=True)
        [record] = [d for d in after.draws or [] if d.id == draw_id]
        await audit.record(actor, "tender.panel_member_replaced", "tender", tender_id, after=record.model_dump())
    return after


async def set_panel(actor: Actor, tender_id: UUID, data: PanelWrite) -> PanelRead:
    """A hand-picked panel (87号令 Art. 48), only with its reason: the same make-up as a drawn one,
    no expert affiliated with a bidder or with the purchaser. Replaced freely until the first
    score; never over a drawn panel."""
    async with db.transaction():
        tender = await _lock_for_panel(actor, tender_id)
        if not (data.reason or "").strip():
            raise RuleViolation(
                "panel_reason_required",
                "experts are drawn at random (POST …/panel/draw, 实施条例 Art. 39); hand-picking them needs the reason "
                "the law allows (87号令 Art. 48: technically complex or specialised)",
                errors=[{"field": "reason", "message": "required for a hand-picked panel"}],
            )
        current = await _panel(tender_id)
        if any(r["draw_id"] is not None for r in current) and await db.fetchval(
            "SELECT 1 FROM panel_draws WHERE tender_id = $1 AND kind <> 'hand_picked' LIMIT 1", tender_id
        ):
            raise conflict("panel_already_drawn", "the panel was drawn at random: it is not replaced by hand")
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
        representatives = await _representatives(tender, data.bureau_representative_ids)
        conflicted = await _affiliated_with_bidders(tender_id, ids) | {
            r["expert_user_id"]
            for r in await db.fetch(
                "SELECT expert_user_id FROM expert_affiliations WHERE expert_user_id = ANY($1::uuid[]) AND organisation_id = $2",
                ids,
                tender["bureau_id"],
            )
        }
        rules.check_panel(
            tender["method"], ids, conflicted, ceiling_amount=tender["ceiling_amount"], representative_ids=representatives
        )
        before = await _panel_read(tender_id, current)
        now = await clock.now()
        await db.execute("DELETE FROM tender_panel_members WHERE tender_id = $1", tender_id)
        draw_id = await _record_draw(actor, tender_id, "hand_picked", None, [], [], ids, representatives, now, reason=data.reason)
        await _seat(tender_id, [(e, "expert") for e in ids] + [(r, "representative") for r in representatives], draw_id, now, actor)
        after = await _panel_read(tender_id, await _panel(tender_id), with_draws=True)
        await audit.record(actor, "tender.panel_appointed", "tender", tender_id, before=before.model_dump(),
                           after={**after.model_dump(exclude={"draws"}), "reason": data.reason, "draw_id": draw_id})
    return after


async def get_panel(actor: Actor, tender_id: UUID) -> PanelRead:
    """The panel; the bureau, admins, supervisors and the regulator also read its draws."""
    tender = await _tender_for(actor, tender_id)
    if actor.role == "vendor":
        raise NotFound("panel of tender", tender["id"])
    return await _panel_read(tender_id, await _panel(tender_id), with_draws=actor.role != "expert")


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
    """A member of the panel scores a bid found responsive at both reviews on every criterion
    (0 ≤ score ≤ weight); a sheet may be rescored while the tender is under evaluation."""
    await _tender_for(actor, tender_id)
    async with db.transaction():
        tender = await db.fetchrow("SELECT * FROM tenders WHERE id = $1 FOR SHARE", tender_id)
        _check_evaluating(tender)
        if tender["evaluation_method"] != "comprehensive":
            raise conflict("scoring_not_applicable", "the lowest price method (最低评标价法) has no scores")
        await check_not_suspended(tender)
        if not await on_panel(actor, tender_id):
            raise NotFound("tender", tender_id)
        await check_panel_complete(tender)
        bid = await db.fetchrow("SELECT id, status, review_status FROM bids WHERE id = $1 AND tender_id = $2", bid_id, tender_id)
        if bid is None:
            raise NotFound("bid", bid_id)
        if bid["status"] != "valid":
            raise conflict("bid_not_valid", f"the bid is {bid['status']}: only valid bids are scored")
        rules.check_scorable(bid["review_status"])
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
    limit = check_limit(limit)
    after_bid, after_expert = typed_cursor(cursor, UUID, UUID)
    await _tender_for(actor, tender_id)
    if actor.role == "vendor":
        raise NotFound("scores of tender", tender_id)
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
