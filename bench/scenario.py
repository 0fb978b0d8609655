"""Records to work on, made through the HTTP API of a live server: a bureau with a published
catalogue and a budget line, published tenders, vendors that bid. Used by the fuzzer (real ids),
the access matrix (own and other's records), the fault test and the load bench (bids).

Only what the API offers is used; a step whose endpoint is not there yet is skipped by the
caller (`has_endpoint`)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx

from bench.harness import Account, LiveServer, create_account

API = "/api/v1"
_codes = itertools.count(1)


def check(response: httpx.Response, *expected: int) -> dict:
    if response.status_code not in (expected or (200, 201)):
        raise RuntimeError(f"{response.request.method} {response.request.url.path}: {response.status_code} {response.text}")
    return response.json() if response.content else {}


def has_endpoint(server: LiveServer, method: str, path: str) -> bool:
    document = httpx.get(f"{server.base_url}/schema/openapi.json", timeout=30).json()
    return method.lower() in document["paths"].get(path, {})


def clock_now(client: httpx.Client, who: Account) -> datetime:
    return datetime.fromisoformat(check(client.get(f"{API}/sandbox/clock", headers=who.headers))["now"])


def advance_clock(client: httpx.Client, admin: Account, *, days: int = 0, seconds: int = 0) -> datetime:
    body = {"advance_days": days, "advance_seconds": seconds}
    return datetime.fromisoformat(check(client.post(f"{API}/sandbox/clock", json=body, headers=admin.headers))["now"])


@dataclass
class Bureau:
    account: Account
    catalogue_id: str
    item_id: str
    budget_line_id: str
    tenders: list[dict] = field(default_factory=list)


def bureau_with_budget(client: httpx.Client, admin: Account, bureau: Account | None = None, amount: str = "900000000.00") -> Bureau:
    """A bureau with a published catalogue (A → A01 → A0101) of this year and a budget line."""
    bureau = bureau or create_account(client, admin, "bureau")
    year = clock_now(client, bureau).year
    catalogues = check(client.get(f"{API}/catalogues", headers=bureau.headers, params={"limit": 200}))["items"]
    mine = [c for c in catalogues if c.get("year") == year and c.get("status") == "published" and c.get("region_code") == "440300"]
    if mine:
        catalogue_id = mine[0]["id"]
        items = check(client.get(f"{API}/catalogues/{catalogue_id}/items", headers=bureau.headers, params={"limit": 200}))["items"]
        item_id = next(i["id"] for i in items if len(i["code"]) == 5)
    else:
        catalogue = check(
            client.post(f"{API}/catalogues", headers=bureau.headers,
                        json={"region_code": "440300", "year": year, "title": f"{year} 政府购买服务指导性目录"})
        )
        catalogue_id = catalogue["id"]
        for code, name in (("A", "基本公共服务"), ("A01", "养老服务"), ("A0101", "居家养老上门服务")):
            item = check(client.post(f"{API}/catalogues/{catalogue_id}/items", headers=bureau.headers, json={"code": code, "name": name}))
        item_id = item["id"]
        check(client.post(f"{API}/catalogues/{catalogue_id}/publish", headers=bureau.headers))
    line = check(
        client.post(f"{API}/budget-lines", headers=bureau.headers,
                    json={"code": f"2130{next(_codes):04d}", "year": year, "title": "社区养老服务经费", "amount": amount})
    )
    return Bureau(bureau, catalogue_id, item_id, line["id"])


def tender_body(bureau: Bureau, deadline: datetime, *, ceiling: str = "1000000.00", title: str = "社区居家养老上门服务项目") -> dict:
    return {
        "title": title,
        "description": "为辖区内 60 周岁以上居家老人提供上门助餐、助洁、助医服务。",
        "catalogue_item_id": bureau.item_id,
        "budget_line_id": bureau.budget_line_id,
        "method": "public_tender",
        "ceiling_amount": ceiling,
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
    }


def published_tender(client: httpx.Client, bureau: Bureau, *, days: int = 25, **kwargs) -> dict:
    deadline = clock_now(client, bureau.account) + timedelta(days=days)
    tender = check(client.post(f"{API}/tenders", headers=bureau.account.headers, json=tender_body(bureau, deadline, **kwargs)))
    tender = check(client.post(f"{API}/tenders/{tender['id']}/publish", headers=bureau.account.headers))
    bureau.tenders.append(tender)
    return tender


def place_bid(client: httpx.Client, tender_id: str, vendor: Account, price: str, proposal: str = "服务方案：三支队伍、每日上门") -> httpx.Response:
    return client.post(f"{API}/tenders/{tender_id}/bids", headers=vendor.headers, json={"price": price, "proposal": proposal})
