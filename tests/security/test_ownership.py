"""Another organisation's records: reading or changing them answers 404, as if they did not
exist (DESIGN §1: "a request for something the caller may not see answers 404, not 403, so
that ids leak nothing"), while their owner reaches them.

Two organisations of each role work side by side on a live server: bureau A's draft and
published tenders, its budget line, vendor A's sealed bid and question, expert A's declared
affiliations. B of the same role tries each of them.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from bench import harness, scenario

API = "/api/v1"
PAYMENTS = "/api/v1/contracts/{contract_id}/milestones/{milestone_id}/payments"


@dataclass
class World:
    accounts: dict[str, harness.Account]
    ids: dict[str, str]


@pytest.fixture(scope="module")
def world(security_server) -> World:
    with security_server.client() as client:
        admin = security_server.accounts["admin"]
        a = {role: security_server.accounts[role] for role in ("bureau", "vendor", "expert", "evaluator")}
        b = {role: harness.create_account(client, admin, role) for role in a}
        accounts = {f"{role}_a": acc for role, acc in a.items()} | {f"{role}_b": acc for role, acc in b.items()}
        accounts |= {"admin": admin, "supervisor": security_server.accounts["supervisor"]}
        ids: dict[str, str] = {"expert_a": a["expert"].user_id, "vendor_a_org": a["vendor"].organisation_id}
        if scenario.has_endpoint(security_server, "post", "/api/v1/tenders"):
            bureau_a = scenario.bureau_with_budget(client, admin, a["bureau"])
            scenario.bureau_with_budget(client, admin, b["bureau"])
            if scenario.has_endpoint(security_server, "post", PAYMENTS):
                # First, as it moves the sandbox clock on by weeks: the tenders below open later.
                others = [harness.create_account(client, admin, "vendor") for _ in range(2)]
                payable = scenario.contracts_ready_for_payment(client, admin, bureau_a, [a["vendor"], *others], [a["evaluator"]], 1)
                paid = scenario.check(client.post(
                    f"{API}/contracts/{payable[0].contract_id}/milestones/{payable[0].milestone_id}/payments",
                    headers={**a["bureau"].headers, "Idempotency-Key": "ownership-first-milestone"},
                ))
                ids |= {"contract": payable[0].contract_id, "milestone": payable[0].milestone_id,
                        "milestone2": payable[1].milestone_id, "evaluation": payable[0].evaluation_id, "payment": paid["id"]}
            if scenario.has_endpoint(security_server, "post", "/api/v1/documents"):
                pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n% vendor a's evidence\n"
                document = scenario.check(client.post(f"{API}/documents", headers=a["vendor"].headers,
                                                      files={"file": ("服务记录.pdf", pdf, "application/pdf")}))
                ids["document"] = document["sha256"]
            deadline = scenario.clock_now(client, a["bureau"]).replace(microsecond=0)
            from datetime import timedelta

            draft = scenario.check(
                client.post(f"{API}/tenders", headers=a["bureau"].headers,
                            json=scenario.tender_body(bureau_a, deadline + timedelta(days=25), title="草稿项目"))
            )
            published = scenario.published_tender(client, bureau_a, days=25)
            bid = scenario.check(scenario.place_bid(client, published["id"], a["vendor"], "870000.00", "甲方案"))
            question = scenario.check(
                client.post(f"{API}/tenders/{published['id']}/questions", headers=a["vendor"].headers,
                            json={"question": "服务对象的人数是多少？"})
            )
            ids |= {
                "draft": draft["id"], "tender": published["id"], "line": bureau_a.budget_line_id,
                "bid": bid["id"], "question": question["id"], "catalogue": bureau_a.catalogue_id,
            }
        if scenario.has_endpoint(security_server, "put", "/api/v1/experts/{user_id}/affiliations"):
            scenario.check(
                client.put(f"{API}/experts/{a['expert'].user_id}/affiliations", headers=admin.headers,
                           json={"organisation_ids": [a["vendor"].organisation_id]})
            )
    return World(accounts, ids)


# (who, METHOD, path, body): each must answer 404 to `who`; its owner (the `_a` of the same role)
# must not get 404 on the same request. Paths name ids of World.ids in braces.
OTHERS = [
    ("bureau_b", "GET", "/tenders/{draft}", None),
    ("bureau_b", "PATCH", "/tenders/{draft}", {"title": "改名"}),
    ("bureau_b", "POST", "/tenders/{draft}/publish", None),
    ("bureau_b", "POST", "/tenders/{tender}/cancel", {"reason": "不是我的项目"}),
    ("bureau_b", "GET", "/tenders/{tender}", None),
    ("bureau_b", "GET", "/budget-lines/{line}", None),
    ("bureau_b", "PATCH", "/budget-lines/{line}", {"title": "改名"}),
    ("bureau_b", "POST", "/tenders/{tender}/questions/{question}/answer", {"answer": "三百人"}),
    ("bureau_b", "PUT", "/tenders/{tender}/panel", {"expert_user_ids": ["{expert_a}"]}),
    ("bureau_b", "POST", "/tenders/{tender}/award", None),
    ("vendor_b", "GET", "/tenders/{draft}", None),
    ("vendor_b", "GET", "/tenders/{tender}/bids/{bid}", None),
    ("vendor_b", "PATCH", "/tenders/{tender}/bids/{bid}", {"price": "1.00"}),
    ("vendor_b", "POST", "/tenders/{tender}/bids/{bid}/withdraw", None),
    ("expert_b", "GET", "/experts/{expert_a}/affiliations", None),
    ("expert_b", "GET", "/tenders/{draft}", None),
    # contracts, payments, evaluations (bureau A, vendor A, evaluator A commissioned)
    ("bureau_b", "GET", "/contracts/{contract}", None),
    ("vendor_b", "GET", "/contracts/{contract}", None),
    ("evaluator_b", "GET", "/contracts/{contract}", None),
    ("vendor_b", "POST", "/contracts/{contract}/sign", None),
    ("bureau_b", "POST", "/contracts/{contract}/amendments", {"increase": "1000.00", "reason": "追加服务"}),
    ("bureau_b", "POST", "/contracts/{contract}/terminate", {"reason": "不是我的合同", "for_cause": False}),
    ("vendor_b", "GET", "/contracts/{contract}/milestones/{milestone}/deliverables", None),
    ("vendor_b", "POST", "/contracts/{contract}/milestones/{milestone2}/deliverables", {"summary": "冒名交付"}),
    ("bureau_b", "POST", "/contracts/{contract}/milestones/{milestone2}/payments", None),
    ("bureau_b", "GET", "/contracts/{contract}/payments", None),
    ("vendor_b", "GET", "/contracts/{contract}/payments/{payment}", None),
    ("bureau_b", "POST", "/contracts/{contract}/payments/{payment}/confirm", {"treasury_reference": "GK-0001"}),
    ("bureau_b", "GET", "/contracts/{contract}/report.pdf", None),
    ("bureau_b", "GET", "/evaluations/{evaluation}", None),
    ("vendor_b", "GET", "/evaluations/{evaluation}", None),
    ("evaluator_b", "GET", "/evaluations/{evaluation}", None),
    ("evaluator_b", "PUT", "/evaluations/{evaluation}/scores", {"scores": {}}),
    ("evaluator_b", "POST", "/evaluations/{evaluation}/submit", None),
    ("bureau_b", "POST", "/evaluations/{evaluation}/return", {"reason": "重做"}),
    ("vendor_b", "POST", "/evaluations/{evaluation}/appeals", {"reason": "评分不公"}),
    ("vendor_b", "GET", "/evaluations/{evaluation}/report.pdf", None),
    # documents: vendor A's upload
    ("vendor_b", "GET", "/documents/{document}", None),
    ("vendor_b", "GET", "/documents/{document}/meta", None),
    ("bureau_b", "GET", "/documents/{document}/meta", None),
]
# Whose request the owner makes instead, when the `_a` of the role is not the owner.
OWNER = {
    "vendor_b:GET:/tenders/{draft}": "bureau_a",
    "expert_b:GET:/tenders/{draft}": "bureau_a",
    "bureau_b:GET:/documents/{document}/meta": "vendor_a",
}


def _fill(value, ids: dict[str, str]):
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    return value


def _path(template: str, ids: dict[str, str]) -> str | None:
    try:
        return API + template.format(**ids)
    except KeyError:
        return None  # the endpoints behind it are not there yet


@pytest.mark.parametrize(("who", "method", "template", "body"), OTHERS, ids=lambda v: v if isinstance(v, str) else "")
def test_another_organisations_record_is_404(security_server, world: World, who, method, template, body):
    path = _path(template, world.ids)
    if path is None:
        pytest.skip(f"{template}: not available")
    with security_server.client() as client:
        # Every write carries an Idempotency-Key and If-Match (`*`: whatever the version), so that
        # their absence is never the reason for a refusal.
        headers = {**world.accounts[who].headers, "Idempotency-Key": f"ownership-{who}-{method}-{template}", "If-Match": "*"}
        response = client.request(method, path, headers=headers, json=_fill(body, world.ids))
        assert response.status_code == 404, f"{who} {method} {path}: {response.status_code} {response.text[:300]}"
        assert response.json()["code"] == "not_found"
        owner = OWNER.get(f"{who}:{method}:{template}", who.replace("_b", "_a"))
        if method == "GET":
            mine = client.get(path, headers=world.accounts[owner].headers)
            assert mine.status_code == 200, f"the owner {owner} cannot read {path}: {mine.status_code} {mine.text[:300]}"


def test_lists_show_a_bureau_only_its_own_tenders_and_budget_lines(security_server, world: World):
    if "draft" not in world.ids:
        pytest.skip("no tenders yet")
    with security_server.client() as client:
        for who, path, hidden in (
            ("bureau_b", "/tenders", {world.ids["draft"], world.ids["tender"]}),
            ("bureau_b", "/budget-lines", {world.ids["line"]}),
            ("vendor_b", "/tenders", {world.ids["draft"]}),
            ("expert_b", "/tenders", {world.ids["draft"]}),
        ):
            seen = set()
            cursor = None
            while True:
                params = {"limit": 200} | ({"cursor": cursor} if cursor else {})
                page = scenario.check(client.get(API + path, headers=world.accounts[who].headers, params=params))
                seen |= {item["id"] for item in page["items"]}
                cursor = page.get("next_cursor")
                if not cursor:
                    break
            assert not seen & hidden, f"{who} lists another organisation's records at {path}: {seen & hidden}"


def test_a_sealed_bid_is_not_read_by_anyone_before_the_deadline(security_server, world: World):
    if "bid" not in world.ids:
        pytest.skip("no bids yet")
    path = API + "/tenders/{tender}/bids/{bid}".format(**world.ids)
    with security_server.client() as client:
        for who in ("bureau_a", "admin", "supervisor", "expert_a", "vendor_b"):
            response = client.get(path, headers=world.accounts[who].headers)
            assert response.status_code in (404, 409), f"{who} read a sealed bid: {response.status_code} {response.text[:300]}"
            assert "870000" not in response.text and "甲方案" not in response.text
