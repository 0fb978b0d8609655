"""Small async factories for tests: organisations, signed-in users, valid credit codes."""

from __future__ import annotations

import itertools
import secrets
from contextvars import ContextVar
from dataclasses import dataclass
from uuid import UUID

from govbuy import auth, service
from govbuy.schemas import OrganisationCreate, OrganisationRead, UserCreate, UserRead
from govbuy.uscc import USCC_ALPHABET as ALPHABET, make_uscc

_counter = itertools.count(1)

# The organisation-type prefix each kind is registered with (GB 32100-2015, first two chars).
USCC_PREFIX = {"vendor": "52", "evaluator": "91", "bureau": "11", "supervisor": "11", "platform": "91"}
PASSWORD = "correct horse battery staple"
#: The one argon2 hash of PASSWORD that factory-made users share (computed on first use).
_PASSWORD_HASH: list[str] = []


def uscc(prefix: str = "52", region: str = "440300") -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(9))
    return make_uscc(prefix + region + body)


async def organisation(kind: str, name: str | None = None, *, region_code: str = "440300", code: str | None = None) -> OrganisationRead:
    n = next(_counter)
    return await service.create_organisation(
        None,
        OrganisationCreate(
            name=name or f"{kind} organisation {n}",
            kind=kind,  # type: ignore[arg-type]
            uscc=code or uscc(USCC_PREFIX[kind], region_code),
            region_code=region_code,
        ),
    )


@dataclass
class SignedIn:
    user: UserRead
    organisation_id: UUID
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def id(self) -> UUID:
        return self.user.id


ROLE_KIND = auth.ROLE_ORGANISATION_KIND


# Within signed_in (this task only), the service is handed one argon2 hash of PASSWORD computed
# once per run rather than a fresh one per user: argon2 is deliberately slow (a third of a second
# here) and the suite signs in hundreds of users. Any hash of PASSWORD verifies as well, so
# signing in is unchanged; every other hash the service computes is its own.
_reusing_hash: ContextVar[bool] = ContextVar("reusing_hash", default=False)
_real_hash_password = auth.hash_password


async def _hash_password(password: str) -> str:
    if _reusing_hash.get() and password == PASSWORD:
        if not _PASSWORD_HASH:
            _PASSWORD_HASH.append(await _real_hash_password(PASSWORD))
        return _PASSWORD_HASH[0]
    return await _real_hash_password(password)


auth.hash_password = _hash_password


async def signed_in(role: str, org: OrganisationRead | UUID | None = None, username: str | None = None) -> SignedIn:
    """A user of `role` made through the service (checks, audit event and all), with a token."""
    if org is None:
        org = await organisation(ROLE_KIND[role])
    org_id = org if isinstance(org, UUID) else org.id
    reusing = _reusing_hash.set(True)
    try:
        user = await service.create_user(
            None,
            UserCreate(username=username or f"{role}{next(_counter)}", password=PASSWORD, organisation_id=org_id, role=role),  # type: ignore[arg-type]
        )
    finally:
        _reusing_hash.reset(reusing)
    token, _ = auth.issue_token(user.id, auth.utcnow())
    return SignedIn(user, org_id, token)


# --- procurement ----------------------------------------------------------------------------


def actor(who: SignedIn):
    """The service-level Actor of a signed-in test user."""
    from govbuy.audit import Actor

    return Actor(who.user.id, who.user.username, who.user.role, who.organisation_id, ROLE_KIND[who.user.role])


async def many_signed_in(role: str, n: int, *, name_prefix: str | None = None) -> list[SignedIn]:
    """n users of `role`, each in an organisation of its own. They share one password hash (of
    PASSWORD), so that fifty vendors do not cost fifty argon2 rounds."""
    from uuid import uuid4

    from govbuy import clock
    from govbuy import database as db

    if not _PASSWORD_HASH:
        _PASSWORD_HASH.append(await _real_hash_password(PASSWORD))
    people = []
    for _ in range(n):
        number = next(_counter)
        org = await organisation(ROLE_KIND[role], f"{name_prefix} {number}" if name_prefix else None)
        user_id = uuid4()
        await db.execute(
            """INSERT INTO users (id, username, password_hash, organisation_id, role, created_at)
               VALUES ($1, $2, $3, $4, $5, $6)""",
            user_id,
            f"{role}{number}",
            _PASSWORD_HASH[0],
            org.id,
            role,
            await clock.now(),
        )
        user = await service.get_user(user_id)
        token, _ = auth.issue_token(user.id, auth.utcnow())
        people.append(SignedIn(user, org.id, token))
    return people


async def published_catalogue(bureau: SignedIn, *, year: int | None = None) -> tuple[UUID, UUID]:
    """A published catalogue of the bureau's region (this year by default) with one branch
    A → A01 → A0101; returns (catalogue id, id of the level-3 item A0101)."""
    from govbuy import clock
    from planning import service as planning
    from planning.schemas import CatalogueCreate, CatalogueItemCreate

    who = actor(bureau)
    region = (await service.get_organisation(bureau.organisation_id)).region_code
    year = year or (await clock.today()).year
    catalogue = await planning.create_catalogue(who, CatalogueCreate(region_code=region, year=year, title=f"{year} 指导性目录"))
    item = None
    for code, name in (("A", "基本公共服务"), ("A01", "养老服务"), ("A0101", "居家养老上门服务")):
        item = await planning.add_catalogue_item(who, catalogue.id, CatalogueItemCreate(code=code, name=name))
    await planning.publish_catalogue(who, catalogue.id, None)
    assert item is not None
    return catalogue.id, item.id


async def budget_line(bureau: SignedIn, amount: str = "5000000.00", *, year: int | None = None, code: str | None = None):
    """A budget line of the bureau (this year by default)."""
    from decimal import Decimal

    from govbuy import clock
    from planning import service as planning
    from planning.schemas import BudgetLineCreate

    year = year or (await clock.today()).year
    return await planning.create_budget_line(
        actor(bureau),
        BudgetLineCreate(code=code or f"2130{next(_counter):04d}", year=year, title="社区养老服务经费", amount=Decimal(amount)),
    )


# --- contracts and evaluation -----------------------------------------------------------------
# An awarded tender whose standstill is over is written straight into procurement's tables (a
# fixture, not a walk through the tender: tests/scenarios do that through the API).

from datetime import datetime as _datetime
from datetime import timedelta as _timedelta
from decimal import Decimal as _Decimal
from typing import Any as _Any
from uuid import uuid4 as _uuid4

from govbuy import clock as _clock
from govbuy import database as _db

async def fast_user(role: str, org: OrganisationRead | UUID | None = None) -> SignedIn:
    """A signed-in user like `signed_in`, written directly with one password hash computed once
    per run: argon2 is deliberately slow, and these tests create many users."""
    if not _PASSWORD_HASH:
        _PASSWORD_HASH.append(await _real_hash_password(PASSWORD))
    if org is None:
        org = await organisation(ROLE_KIND[role])
    org_id = org if isinstance(org, UUID) else org.id
    row = await _db.fetchrow(
        """INSERT INTO users (id, username, password_hash, organisation_id, role, created_at)
           VALUES ($1, $2, $3, $4, $5, now()) RETURNING id, username, full_name, organisation_id, role, active, created_at""",
        _uuid4(), f"{role}{next(_counter)}", _PASSWORD_HASH[0], org_id, role,
    )
    token, _ = auth.issue_token(row["id"], auth.utcnow())
    return SignedIn(UserRead.model_validate(dict(row)), org_id, token)


DEFAULT_MILESTONE_PLAN = (("项目启动与需求评估", "30", 30), ("中期服务交付", "40", 120), ("结项评估与总结", "30", 300))


@dataclass
class ContractAward:
    """An awarded tender past its standstill, with no challenge pending."""

    tender_id: UUID
    budget_line_id: UUID
    bureau: SignedIn
    vendor: SignedIn
    bidder_org_ids: list[UUID]
    price: _Decimal
    ceiling: _Decimal


async def contract_budget_line(bureau_org_id: UUID, amount: str = "1000000.00", reserved: str = "0.00") -> UUID:
    line_id = _uuid4()
    now = await _clock.now()
    await _db.execute(
        """INSERT INTO budget_lines (id, bureau_id, code, year, title, amount, reserved, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)""",
        line_id, bureau_org_id, f"BL-{next(_counter)}", (await _clock.today()).year, "社区养老服务", _Decimal(amount), _Decimal(reserved), now,
    )
    return line_id


async def _catalogue_item(bureau_org_id: UUID, region_code: str, year: int) -> UUID:
    now = await _clock.now()
    catalogue_id = _uuid4()
    await _db.execute(
        """INSERT INTO catalogues (id, region_code, year, version_no, title, status, created_by_org, created_at)
           VALUES ($1, $2, $3, $4, '指导性目录', 'draft', $5, $6)""",
        catalogue_id, region_code, year, next(_counter), bureau_org_id, now,
    )
    item_id = _uuid4()
    for code, name, level, parent, ident in (
        ("A", "基本公共服务", 1, None, _uuid4()),
        ("A01", "养老服务", 2, "A", _uuid4()),
        ("A0101", "居家社区养老服务", 3, "A01", item_id),
    ):
        await _db.execute(
            """INSERT INTO catalogue_items (id, catalogue_id, code, level, parent_code, name, created_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7)""",
            ident, catalogue_id, code, level, parent, name, now,
        )
    await _db.execute(
        "UPDATE catalogues SET status = 'published', published_at = $2 WHERE id = $1", catalogue_id, now
    )
    return item_id


async def award_past_standstill(
    *,
    price: str = "300000.00",
    ceiling: str = "400000.00",
    budget: str = "1000000.00",
    plan: tuple[tuple[str, str, int], ...] = DEFAULT_MILESTONE_PLAN,
    payment_rule: list[dict[str, str]] | None = None,
    months: int = 12,
    recurring: bool = False,
    bureau: SignedIn | None = None,
    vendor: SignedIn | None = None,
    other_bidders: int = 2,
    budget_line_id: UUID | None = None,
    sme_declaration: str | None = None,
    performance_targets: list[dict[str, _Any]] | None = None,
) -> ContractAward:
    """A tender of `bureau` awarded to `vendor` at `price`, standstill over, its ceiling reserved;
    the winning bid declares `sme_declaration` (the vendor should then be an enterprise); the
    tender states `performance_targets` (as stored: {indicator, unit, target, direction, figure})."""
    bureau = bureau or await fast_user("bureau")
    vendor = vendor or await fast_user("vendor")
    now = await _clock.now()
    region = str(110000 + next(_counter))  # one published catalogue per region and year
    async with _db.transaction():
        if budget_line_id is None:
            budget_line_id = await contract_budget_line(bureau.organisation_id, budget, ceiling)
        else:
            await _db.execute(
                "UPDATE budget_lines SET reserved = reserved + $2 WHERE id = $1", budget_line_id, _Decimal(ceiling)
            )
        item_id = await _catalogue_item(bureau.organisation_id, region, (await _clock.today()).year)
        tender_id = _uuid4()
        awarded_at = now - _timedelta(days=20)
        await _db.execute(
            """INSERT INTO tenders (id, bureau_id, title, catalogue_item_id, budget_line_id, method, ceiling_amount,
                                    contract_months, recurring, evaluation_method, milestones, payment_rule,
                                    bid_deadline, status, reserved_amount, published_at, opened_at, created_by,
                                    created_at, updated_at, performance_targets)
               VALUES ($1, $2, '社区居家养老服务项目', $3, $4, 'public_tender', $5, $6, $7, 'lowest_price', $8, $9,
                       $10, 'evaluating', $5, $11, $10, $12, $11, $11, $13)""",
            tender_id, bureau.organisation_id, item_id, budget_line_id, _Decimal(ceiling), months, recurring,
            [{"title": t, "percentage": p, "due_offset_days": d} for t, p, d in plan],
            payment_rule,
            awarded_at - _timedelta(days=2),
            awarded_at - _timedelta(days=30),
            bureau.user.id,
            performance_targets or [],
        )
        bidders = [vendor.organisation_id] + [(await organisation("vendor")).id for _ in range(other_bidders)]
        bid_ids = []
        for i, org_id in enumerate(bidders):
            bid_id = _uuid4()
            bid_ids.append(bid_id)
            user_id = vendor.user.id if i == 0 else (await fast_user("vendor", org_id)).user.id
            await _db.execute(
                """INSERT INTO bids (id, tender_id, vendor_id, submitted_by, price, proposal, status, first_submitted_at,
                                     submitted_at, eligibility_at_submission, eligibility_at_opening, seal_nonce,
                                     content_digest, sme_declaration)
                   VALUES ($1, $2, $3, $4, $5, '服务方案', 'valid', $6, $6, '{}', '{}', $7, $8, $9)""",
                bid_id, tender_id, org_id, user_id, min(_Decimal(price) + i * 1000, _Decimal(ceiling)), awarded_at - _timedelta(days=5),
                "0" * 32, "0" * 64, sme_declaration if i == 0 else None,
            )
        award_id = _uuid4()
        await _db.execute(
            """INSERT INTO tender_awards (id, tender_id, winning_bid_id, vendor_id, price, ranking, awarded_at,
                                          awarded_by, standstill_until)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)""",
            award_id, tender_id, bid_ids[0], vendor.organisation_id, _Decimal(price),
            [{"bid_id": str(b), "rank": i + 1} for i, b in enumerate(bid_ids)],
            awarded_at, bureau.user.id, now - _timedelta(days=1),
        )
        await _db.execute("UPDATE tenders SET status = 'awarded', award_id = $2 WHERE id = $1", tender_id, award_id)
    return ContractAward(tender_id, budget_line_id, bureau, vendor, bidders, _Decimal(price), _Decimal(ceiling))


async def budget_figures(line_id: UUID) -> dict[str, _Decimal]:
    row = await _db.fetchrow("SELECT amount, reserved, committed, spent FROM budget_lines WHERE id = $1", line_id)
    return {k: row[k] for k in ("amount", "reserved", "committed", "spent")}


async def contract_from_award(client: _Any, award: ContractAward | None = None, *, sign: bool = True, start_date: _Any = None, **kw: _Any) -> tuple[ContractAward, dict[str, _Any]]:
    """A contract from an award through the API, signed by both parties unless `sign=False`."""
    award = award or await award_past_standstill(**kw)
    start = start_date or await _clock.today()
    r = await client.post(
        "/api/v1/contracts", json={"tender_id": str(award.tender_id), "start_date": str(start)}, headers=award.bureau.headers
    )
    assert r.status_code == 201, r.text
    body = r.json()
    if sign:
        for party in (award.bureau, award.vendor):
            r = await client.post(f"/api/v1/contracts/{body['id']}/sign", headers=party.headers)
            assert r.status_code == 200, r.text
        body = r.json()
    return award, body


def scores_totalling(indicators: list[dict[str, _Any]], total: str) -> dict[str, str]:
    """A score sheet giving `total` (0–100): every indicator scored in proportion to its weight,
    the last taking the rounding remainder."""
    target = _Decimal(total)
    scores: dict[str, _Decimal] = {}
    for ind in indicators[:-1]:
        scores[ind["code"]] = (_Decimal(ind["weight"]) * target / 100).quantize(_Decimal("0.01"))
    last = indicators[-1]
    scores[last["code"]] = target - sum(scores.values(), _Decimal(0))
    assert 0 <= scores[last["code"]] <= _Decimal(last["weight"])
    return {k: str(v) for k, v in scores.items()}


async def evaluator_user() -> SignedIn:
    return await fast_user("evaluator")


async def deliver_milestone(client: _Any, award: ContractAward, contract_id: str, milestone_id: str, **body: _Any) -> dict[str, _Any]:
    r = await client.post(
        f"/api/v1/contracts/{contract_id}/milestones/{milestone_id}/deliverables",
        json={"summary": "本阶段服务已按计划完成", "figures": {"people_served": 120, "service_hours": "360.5"}, **body},
        headers=award.vendor.headers,
    )
    assert r.status_code == 201, r.text
    return r.json()


async def accepted_evaluation(
    client: _Any, award: ContractAward, contract_id: str, milestone_id: str, total: str, by: SignedIn | None = None,
    *, deliver_first: bool = True,
) -> dict[str, _Any]:
    """Deliver the milestone (unless done), commission an evaluation, score it to `total`, submit
    and accept it."""
    if deliver_first:
        await deliver_milestone(client, award, contract_id, milestone_id)
    return await evaluate(client, award.bureau, by or await evaluator_user(), contract_id, milestone_id, total)


async def evaluate(
    client: _Any, bureau: SignedIn, evaluator: SignedIn, contract_id: str, milestone_id: str, total: str,
    *, findings: str | None = None, due_in_days: int = 30,
) -> dict[str, _Any]:
    """The bureau commissions an evaluation of a delivered milestone, the evaluator scores it to
    `total` and submits it, the bureau accepts it; the accepted evaluation."""
    today = await _clock.today()
    r = await client.post(
        "/api/v1/evaluations",
        json={"contract_id": contract_id, "milestone_id": milestone_id, "evaluator_org_id": str(evaluator.organisation_id),
              "due_date": str(today + _timedelta(days=due_in_days))},
        headers=bureau.headers,
    )
    assert r.status_code == 201, r.text
    evaluation = r.json()
    body: dict[str, _Any] = {"scores": scores_totalling(evaluation["indicators"], total)}
    if findings is not None:
        body["findings"] = findings
    r = await client.put(f"/api/v1/evaluations/{evaluation['id']}/scores", json=body, headers=evaluator.headers)
    assert r.status_code == 200, r.text
    r = await client.post(f"/api/v1/evaluations/{evaluation['id']}/submit", headers=evaluator.headers)
    assert r.status_code == 200, r.text
    r = await client.post(f"/api/v1/evaluations/{evaluation['id']}/accept", headers=bureau.headers)
    assert r.status_code == 200, r.text
    return r.json()


async def advance_sandbox_clock(days: int) -> None:
    """Move the sandbox clock forward (what POST /api/v1/sandbox/clock does)."""
    await _clock.advance(days * 86400)


async def advance_past(*moments: _Any) -> None:
    """Move the sandbox clock a second past the latest of `moments` (instants or the ISO strings
    the API gives): past a period's end whatever the holidays on the way."""
    latest = max(_datetime.fromisoformat(m) if isinstance(m, str) else m for m in moments)
    gap = (latest - await _clock.now()).total_seconds()
    if gap >= 0:
        await _clock.advance(int(gap) + 1)
