"""Walking a contracting process through the HTTP API for the public and OCDS tests, and
reading the feed as an outside reader would."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

import httpx

from govbuy.public import ocds
from tests import factories
from tests.procurement import support as procurement_support
from tests.factories import SignedIn

API = "/api/v1"
_codes = itertools.count(1)

# Markers that must never reach a public response (DESIGN §8).
PROPOSAL_MARKER = "PROPOSAL-SECRET-方案机密"
EXPERT_SCORES = ("37.13", "38.29", "36.71", "39.07", "35.93")  # their means are never these


def ok(response: httpx.Response, *statuses: int) -> Any:
    assert response.status_code in (statuses or (200, 201)), f"{response.request.method} {response.request.url}: {response.status_code} {response.text}"
    return response.json() if response.content else None


@dataclass
class Bureau:
    user: SignedIn
    admin: SignedIn
    item_id: str
    line_id: str
    region_code: str


@dataclass
class Process:
    bureau: Bureau
    tender: dict[str, Any]
    vendors: list[SignedIn] = field(default_factory=list)
    bids: dict[str, dict[str, Any]] = field(default_factory=dict)  # by vendor organisation id
    experts: list[SignedIn] = field(default_factory=list)
    award: dict[str, Any] | None = None

    @property
    def id(self) -> str:
        return self.tender["id"]


async def now(client: httpx.AsyncClient, who: SignedIn) -> datetime:
    return datetime.fromisoformat(ok(await client.get(f"{API}/sandbox/clock", headers=who.headers))["now"])


async def advance(client: httpx.AsyncClient, admin: SignedIn, *, days: int = 0, seconds: int = 0) -> None:
    ok(await client.post(f"{API}/sandbox/clock", json={"advance_days": days, "advance_seconds": seconds}, headers=admin.headers))


async def bureau(
    client: httpx.AsyncClient, *, amount: str = "50000000.00", admin: SignedIn | None = None, region_code: str = "440300"
) -> Bureau:
    """A bureau with a published catalogue item (A0101) of its region and year and a budget line.
    One catalogue is published per region and year: bureaus in one test need their own regions."""
    user = await factories.signed_in("bureau", await factories.organisation("bureau", region_code=region_code))
    admin = admin or await factories.signed_in("admin")
    org = ok(await client.get(f"{API}/auth/me", headers=user.headers))["organisation"]
    year = (await now(client, user)).year
    catalogue = ok(
        await client.post(
            f"{API}/catalogues", json={"region_code": org["region_code"], "year": year, "title": f"{year} 指导性目录"}, headers=user.headers
        )
    )
    item = None
    for code, name in (("A", "基本公共服务"), ("A01", "养老服务"), ("A0101", "居家养老上门服务")):
        item = ok(await client.post(f"{API}/catalogues/{catalogue['id']}/items", json={"code": code, "name": name}, headers=user.headers))
    ok(await client.post(f"{API}/catalogues/{catalogue['id']}/publish", headers=user.headers))
    line = ok(
        await client.post(
            f"{API}/budget-lines",
            json={"code": f"MZ-{next(_codes)}", "year": year, "title": "养老服务补助资金", "amount": amount},
            headers=user.headers,
        )
    )
    return Bureau(user, admin, item["id"], line["id"], org["region_code"])


def tender_body(b: Bureau, deadline: datetime, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "社区居家养老上门服务项目",
        "description": "为辖区 60 周岁以上居家老人提供上门助餐、助洁、助医服务。",
        "catalogue_item_id": b.item_id,
        "budget_line_id": b.line_id,
        "method": "public_tender",
        "ceiling_amount": "1000000.00",
        "contract_months": 12,
        "recurring": False,
        "evaluation_method": "comprehensive",
        "price_weight": "30",
        "criteria": [{"name": "服务方案", "weight": "40"}, {"name": "团队与经验", "weight": "30"}],
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


async def draft(client: httpx.AsyncClient, b: Bureau, *, days: int = 25, **overrides: Any) -> dict[str, Any]:
    deadline = (await now(client, b.user)) + timedelta(days=days)
    return ok(await client.post(f"{API}/tenders", json=tender_body(b, deadline, **overrides), headers=b.user.headers), 201)


async def published(client: httpx.AsyncClient, b: Bureau, **overrides: Any) -> Process:
    tender = await draft(client, b, **overrides)
    tender = ok(await client.post(f"{API}/tenders/{tender['id']}/publish", headers=b.user.headers))
    return Process(b, tender)


async def bid(client: httpx.AsyncClient, p: Process, vendor: SignedIn, price: str) -> dict[str, Any]:
    body = {"price": price, "proposal": f"{PROPOSAL_MARKER} {vendor.user.username}：驻点社工 6 名，每周上门两次。"}
    created = ok(await client.post(f"{API}/tenders/{p.id}/bids", json=body, headers=vendor.headers), 201)
    p.vendors.append(vendor)
    p.bids[str(vendor.organisation_id)] = created
    return created


async def pass_deadline(client: httpx.AsyncClient, p: Process) -> None:
    deadline = datetime.fromisoformat(p.tender["bid_deadline"])
    gap = deadline - await now(client, p.bureau.admin)
    await advance(client, p.bureau.admin, seconds=max(int(gap.total_seconds()) + 2, 0))
    # Any read after the deadline opens the tender.
    p.tender = ok(await client.get(f"{API}/tenders/{p.id}", headers=p.bureau.user.headers))


async def score_and_award(client: httpx.AsyncClient, p: Process) -> dict[str, Any]:
    """A panel of five experts drawn from the pool reviews and scores every valid bid (each expert a different score), then
    the bureau publishes the award notice."""
    panel_world = SimpleNamespace(bureau=p.bureau.user)
    p.experts = await procurement_support.draw_panel(client, panel_world, p.tender, 5)
    bids = ok(await client.get(f"{API}/tenders/{p.id}/bids", headers=p.bureau.user.headers))["items"]
    await procurement_support.review_all(client, panel_world, p.tender, bids, p.experts)
    for n, b in enumerate(bids):
        for expert, technical in zip(p.experts, EXPERT_SCORES):
            scores = {"服务方案": technical, "团队与经验": f"{25 - n}.00"}
            ok(await client.put(f"{API}/tenders/{p.id}/bids/{b['id']}/scores", json={"scores": scores}, headers=expert.headers))
    p.award = ok(await client.post(f"{API}/tenders/{p.id}/award", headers=p.bureau.user.headers))
    return p.award


async def to_award(client: httpx.AsyncClient, b: Bureau, prices=("880000.00", "912345.67", "950000.10")) -> Process:
    p = await published(client, b)
    for price in prices:
        await bid(client, p, await factories.signed_in("vendor"), price)
    await pass_deadline(client, p)
    await score_and_award(client, p)
    return p


# --- reading the feed -----------------------------------------------------------------------


async def read_feed(client: httpx.AsyncClient, since: int = 0, limit: int = 200) -> tuple[list[dict[str, Any]], int, list[dict]]:
    """Every release after `since`, following links.next; (releases, last since, packages)."""
    releases: list[dict[str, Any]] = []
    packages = []
    url = f"{API}/public/ocds/releases?since={since}&limit={limit}"
    while True:
        package = ok(await client.get(url))
        packages.append(package)
        releases += package["releases"]
        next_url = package["links"]["next"]
        since = int(httpx.URL(next_url).params["since"])
        if not package["releases"]:
            return releases, since, packages
        url = next_url


async def record(client: httpx.AsyncClient, ocid: str) -> dict[str, Any]:
    return ok(await client.get(f"{API}/public/ocds/records/{ocid}"))


def assert_valid_release_package(package: dict[str, Any]) -> None:
    assert ocds.validate_release_package(package) == []


def assert_valid_record_package(package: dict[str, Any]) -> None:
    assert ocds.validate_record_package(package) == []
