"""Records to work on, made through the HTTP API of a live server: a bureau with a published
catalogue and a budget line, published tenders, vendors that bid. Used by the fuzzer (real ids),
the access matrix (own and other's records), the fault test and the load bench (bids).

Only what the API offers is used; a step whose endpoint is not there yet is skipped by the
caller (`has_endpoint`)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

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


def service_today(client: httpx.Client, who: Account) -> date:
    """The service's own date (Asia/Shanghai), never the UTC date of its instant."""
    return date.fromisoformat(check(client.get(f"{API}/sandbox/clock", headers=who.headers))["today"])


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
        # 财库〔2020〕10号: no procurement intention announced it, so the tender says why
        "intention_notice_exception": "年度预算调整后新增的项目，未能提前公开采购意向",
    }


def published_tender(client: httpx.Client, bureau: Bureau, *, days: int = 25, **kwargs) -> dict:
    deadline = clock_now(client, bureau.account) + timedelta(days=days)
    tender = check(client.post(f"{API}/tenders", headers=bureau.account.headers, json=tender_body(bureau, deadline, **kwargs)))
    tender = check(client.post(f"{API}/tenders/{tender['id']}/publish", headers=bureau.account.headers))
    bureau.tenders.append(tender)
    return tender


def place_bid(client: httpx.Client, tender_id: str, vendor: Account, price: str, proposal: str = "服务方案：三支队伍、每日上门") -> httpx.Response:
    return client.post(f"{API}/tenders/{tender_id}/bids", headers=vendor.headers, json={"price": price, "proposal": proposal})


# --- contracts whose milestones are ready to be paid -----------------------------------------------

MILESTONE_PLAN = [
    {"title": "首期服务", "percentage": "30", "due_offset_days": 90},
    {"title": "中期服务", "percentage": "40", "due_offset_days": 200},
    {"title": "终期服务", "percentage": "30", "due_offset_days": 330},
]


def scores_totalling(indicators: list[dict], total: str) -> dict[str, str]:
    """Every indicator scored in proportion to its weight, the last taking the remainder."""
    from decimal import Decimal

    target = Decimal(total)
    scores: dict[str, Decimal] = {}
    for indicator in indicators[:-1]:
        scores[indicator["code"]] = (Decimal(str(indicator["weight"])) * target / 100).quantize(Decimal("0.01"))
    scores[indicators[-1]["code"]] = target - sum(scores.values(), Decimal(0))
    return {code: str(value) for code, value in scores.items()}


@dataclass
class PayableMilestone:
    contract_id: str
    milestone_id: str
    amount: str
    evaluation_id: str


def contracts_ready_for_payment(
    client: httpx.Client, admin: Account, bureau: Bureau, vendors: list[Account], evaluators: list[Account], count: int
) -> list[PayableMilestone]:
    """`count` signed contracts (lowest-price tenders, three milestones each), every milestone
    delivered, evaluated by alternating evaluators, accepted, its appeal window passed."""
    headers = bureau.account.headers
    tenders = []
    for n in range(count):
        deadline = clock_now(client, admin) + timedelta(days=25)
        body = tender_body(bureau, deadline, title=f"待付款项目 {n}") | {
            "evaluation_method": "lowest_price", "price_weight": None, "criteria": [], "milestones": MILESTONE_PLAN,
        }
        tender = check(client.post(f"{API}/tenders", headers=headers, json=body))
        tenders.append(check(client.post(f"{API}/tenders/{tender['id']}/publish", headers=headers)))
    for n, tender in enumerate(tenders):
        for k, vendor in enumerate(vendors):
            price = f"{700000 + 1000 * ((k + n) % len(vendors))}.00"  # the winner changes from tender to tender
            check(place_bid(client, tender["id"], vendor, price))
    advance_clock(client, admin, days=26)
    # Each panel: four experts drawn from the pool and the bureau's own representative, who
    # reviews compliance for the panel after the bureau's qualification review.
    for _ in range(4):
        create_account(client, admin, "expert")
    draw = {"size": 5, "bureau_representative_ids": [bureau.account.user_id]}
    for tender in tenders:
        check(client.post(f"{API}/tenders/{tender['id']}/panel/draw", headers=headers, json=draw))
        for opened in check(client.get(f"{API}/tenders/{tender['id']}/bids", headers=headers))["items"]:
            url = f"{API}/tenders/{tender['id']}/bids/{opened['id']}/review"
            check(client.put(url, headers=headers, json={"responsive": True, "reason": "资格审查合格"}))
            check(client.put(url, headers=headers, json={"responsive": True, "reason": "实质性响应", "stage": "compliance"}))
        check(client.post(f"{API}/tenders/{tender['id']}/award", headers=headers))
    # past the standstill (8 working days), with room for the Spring Festival or National Day
    advance_clock(client, admin, days=21)
    start = service_today(client, admin) + timedelta(days=1)
    by_org = {v.organisation_id: v for v in vendors}
    payable: list[PayableMilestone] = []
    turn = 0
    for tender in tenders:
        contract = check(client.post(f"{API}/contracts", headers=headers, json={"tender_id": tender["id"], "start_date": str(start)}))
        winner = by_org[contract["payee_id"]]
        check(client.post(f"{API}/contracts/{contract['id']}/sign", headers=winner.headers))
        check(client.post(f"{API}/contracts/{contract['id']}/sign", headers=headers))
        for milestone in contract["milestones"]:
            check(client.post(
                f"{API}/contracts/{contract['id']}/milestones/{milestone['id']}/deliverables", headers=winner.headers,
                json={"summary": "本阶段服务已按计划完成", "figures": {"people_served": "120"}},
            ))
            evaluator = evaluators[turn % len(evaluators)]
            turn += 1
            evaluation = check(client.post(f"{API}/evaluations", headers=headers, json={
                "contract_id": contract["id"], "milestone_id": milestone["id"],
                "evaluator_org_id": evaluator.organisation_id, "due_date": str(start + timedelta(days=20)),
            }))
            scores = scores_totalling(evaluation["indicators"], "92.00")
            # The score sheet is a shared document: its edit names the version it was read at.
            sheet_headers = {**evaluator.headers, "If-Match": f'"{evaluation["version"]}"'}
            check(client.put(f"{API}/evaluations/{evaluation['id']}/scores", headers=sheet_headers,
                             json={"scores": scores, "findings": "服务记录完整，回访满意"}))
            check(client.post(f"{API}/evaluations/{evaluation['id']}/submit", headers=evaluator.headers))
            check(client.post(f"{API}/evaluations/{evaluation['id']}/accept", headers=headers))
            payable.append(PayableMilestone(contract["id"], milestone["id"], milestone["amount"], evaluation["id"]))
    advance_clock(client, admin, days=10)  # the appeal windows (5 working days) pass
    return payable
