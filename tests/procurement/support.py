"""API-walking helpers for procurement tests: a bureau with a published catalogue item and a
budget line, tender bodies that pass every rule, the sandbox clock, bids and opening."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx

from govbuy import database as db
from tests import factories
from tests.factories import SignedIn

API = "/api/v1"


@dataclass
class World:
    """A bureau (with a catalogue item it may buy and a budget line) and an admin."""

    bureau: SignedIn
    admin: SignedIn
    catalogue_id: UUID
    item_id: UUID
    line_id: UUID


async def world(amount: str = "5000000.00") -> World:
    [bureau] = await factories.many_signed_in("bureau", 1)
    [admin] = await factories.many_signed_in("admin", 1)
    catalogue_id, item_id = await factories.published_catalogue(bureau)
    line = await factories.budget_line(bureau, amount)
    return World(bureau, admin, catalogue_id, item_id, line.id)


async def now(client: httpx.AsyncClient, who: SignedIn) -> datetime:
    r = await client.get(f"{API}/sandbox/clock", headers=who.headers)
    assert r.status_code == 200, r.text
    return datetime.fromisoformat(r.json()["now"])


async def today(client: httpx.AsyncClient, who: SignedIn) -> date:
    """The service's own date (Asia/Shanghai), as the API gives it: never the UTC date."""
    r = await client.get(f"{API}/sandbox/clock", headers=who.headers)
    assert r.status_code == 200, r.text
    return date.fromisoformat(r.json()["today"])


async def advance_past(client: httpx.AsyncClient, admin: SignedIn, moment: str | datetime, *, seconds: int = 1) -> datetime:
    """Move the sandbox clock to `seconds` after `moment` (an instant the API gave)."""
    moment = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    gap = int((moment - await now(client, admin)).total_seconds()) + seconds
    return await advance(client, admin, seconds=max(gap, 0))


async def advance(client: httpx.AsyncClient, admin: SignedIn, *, days: int = 0, seconds: int = 0) -> datetime:
    r = await client.post(
        f"{API}/sandbox/clock", json={"advance_days": days, "advance_seconds": seconds}, headers=admin.headers
    )
    assert r.status_code == 200, r.text
    return datetime.fromisoformat(r.json()["now"])


def tender_body(w: World, deadline: datetime, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "社区居家养老上门服务项目",
        "description": "为辖区内 60 周岁以上居家老人提供上门助餐、助洁、助医服务。",
        "catalogue_item_id": str(w.item_id),
        "budget_line_id": str(w.line_id),
        "method": "public_tender",
        "ceiling_amount": "1000000.00",
        "contract_months": 12,
        "recurring": False,
        "evaluation_method": "comprehensive",
        "price_weight": "30",
        "criteria": [{"name": "服务方案", "weight": "40"}, {"name": "团队与经验", "weight": "30"}],
        "eligibility": {"min_assessment_grade": None, "min_credit_grade": None},
        "milestones": [
            {"title": "首期服务", "percentage": "30", "due_offset_days": 90},
            {"title": "中期服务", "percentage": "40", "due_offset_days": 200},
            {"title": "终期服务", "percentage": "30", "due_offset_days": 360},
        ],
        "bid_deadline": deadline.isoformat(),
        # 财库〔2020〕10号: no procurement intention announced it, so the tender says why
        "intention_notice_exception": "年度预算调整后新增的项目，未能提前公开采购意向",
    }
    body.update(overrides)
    return body


async def create_tender(client: httpx.AsyncClient, w: World, *, days: int = 25, **overrides: Any) -> dict[str, Any]:
    deadline = (await now(client, w.bureau)) + timedelta(days=days)
    r = await client.post(f"{API}/tenders", json=tender_body(w, deadline, **overrides), headers=w.bureau.headers)
    assert r.status_code == 201, r.text
    return r.json()


async def published_tender(client: httpx.AsyncClient, w: World, *, days: int = 25, **overrides: Any) -> dict[str, Any]:
    tender = await create_tender(client, w, days=days, **overrides)
    r = await client.post(f"{API}/tenders/{tender['id']}/publish", headers=w.bureau.headers)
    assert r.status_code == 200, r.text
    return r.json()


async def bid(client: httpx.AsyncClient, tender_id: Any, vendor: SignedIn, price: str, proposal: str = "服务方案") -> httpx.Response:
    return await client.post(
        f"{API}/tenders/{tender_id}/bids", json={"price": price, "proposal": proposal}, headers=vendor.headers
    )


async def pass_deadline(client: httpx.AsyncClient, w: World, tender: dict[str, Any]) -> None:
    """Move the sandbox clock just past the tender's bid deadline."""
    deadline = datetime.fromisoformat(tender["bid_deadline"])
    gap = deadline - await now(client, w.admin)
    await advance(client, w.admin, seconds=max(int(gap.total_seconds()) + 2, 0))


async def count(table: str) -> int:
    return await db.fetchval(f"SELECT count(*) FROM {table}")


async def audit_count() -> int:
    return await count("audit_events")


async def credit_list(client: httpx.AsyncClient, admin: SignedIn, vendor: SignedIn, when: str) -> None:
    """Put a vendor on the serious-dishonesty list (严重违法失信名单) from `when` (ISO date)."""
    r = await client.post(
        f"{API}/vendors/{vendor.organisation_id}/credit-list-entries",
        json={"list": "serious_dishonesty", "reason": "行政处罚：虚假材料骗取补贴", "listed_on": when},
        headers=admin.headers,
    )
    assert r.status_code in (200, 201), r.text


async def opened_tender(
    client: httpx.AsyncClient, w: World, prices: list[str], *, review: bool = True, **overrides: Any
) -> tuple[dict[str, Any], list[SignedIn], list[dict[str, Any]]]:
    """A published tender with one bid per price (a vendor each), opened; returns the tender as
    read after the opening, the vendors and their bids (as the bureau reads them). With `review`
    (the default) its panel is drawn and every valid bid reviewed responsive, so that it may be
    scored and awarded: `appoint_panel` then gives the drawn experts."""
    tender = await published_tender(client, w, **overrides)
    vendors = await factories.many_signed_in("vendor", len(prices), name_prefix="社会服务机构")
    for vendor, price in zip(vendors, prices):
        r = await bid(client, tender["id"], vendor, price, f"{price} 元的服务方案")
        assert r.status_code == 201, r.text
    await pass_deadline(client, w, tender)
    tender = (await client.get(f"{API}/tenders/{tender['id']}", headers=w.bureau.headers)).json()
    bids = (await client.get(f"{API}/tenders/{tender['id']}/bids", headers=w.bureau.headers)).json()["items"]
    by_vendor = {b["vendor_id"]: b for b in bids}
    bids = [by_vendor[str(v.organisation_id)] for v in vendors]
    if review and tender["status"] == "evaluating":
        await review_all(client, w, tender, bids)
    return tender, vendors, bids


#: The experts drawn for each tender by `draw_panel`, by tender id.
_DRAWN: dict[str, list[SignedIn]] = {}


async def draw_panel(client: httpx.AsyncClient, w: World, tender: dict[str, Any], size: int | None = None) -> list[SignedIn]:
    """Put `size` experts (default: the method's minimum) in the pool and draw the panel from it."""
    size = size or (5 if tender["method"] in ("public_tender", "invited_tender") else 3)
    pool = await factories.many_signed_in("expert", size)
    r = await client.post(f"{API}/tenders/{tender['id']}/panel/draw", json={"size": size}, headers=w.bureau.headers)
    assert r.status_code == 200, r.text
    drawn = {e["user_id"] for e in r.json()["experts"]}
    _DRAWN[str(tender["id"])] = [e for e in pool if str(e.id) in drawn]
    assert len(_DRAWN[str(tender["id"])]) == size
    return _DRAWN[str(tender["id"])]


async def review(client: httpx.AsyncClient, who: SignedIn, tender_id: Any, bid_id: Any, responsive: bool = True,
                 reason: str = "符合招标文件要求", stage: str | None = None) -> httpx.Response:
    body: dict[str, Any] = {"responsive": responsive, "reason": reason}
    if stage:
        body["stage"] = stage
    return await client.put(f"{API}/tenders/{tender_id}/bids/{bid_id}/review", json=body, headers=who.headers)


async def review_all(client: httpx.AsyncClient, w: World, tender: dict[str, Any], bids: list[dict[str, Any]],
                     experts: list[SignedIn] | None = None) -> list[SignedIn]:
    """Draw the panel if it has none (or use `experts`, a panel appointed otherwise) and find
    every valid bid responsive: the bureau's qualification review, then the panel's compliance."""
    experts = experts or _DRAWN.get(str(tender["id"])) or await draw_panel(client, w, tender)
    for bid in bids:
        if bid["status"] != "valid":
            continue
        r = await review(client, w.bureau, tender["id"], bid["id"], reason="资格审查合格")
        assert r.status_code == 200, r.text
        r = await review(client, experts[0], tender["id"], bid["id"], reason="实质性响应招标文件")
        assert r.status_code == 200, r.text
    return experts


async def appoint_panel(client: httpx.AsyncClient, w: World, tender_id: Any, size: int = 5) -> list[SignedIn]:
    """The tender's drawn panel (drawn now if it has none)."""
    if str(tender_id) in _DRAWN:
        return _DRAWN[str(tender_id)]
    tender = (await client.get(f"{API}/tenders/{tender_id}", headers=w.bureau.headers)).json()
    return await draw_panel(client, w, tender, size)


async def score(client: httpx.AsyncClient, expert: SignedIn, tender_id: Any, bid_id: Any, sheet: dict[str, Any]) -> httpx.Response:
    return await client.put(f"{API}/tenders/{tender_id}/bids/{bid_id}/scores", json={"scores": sheet}, headers=expert.headers)
