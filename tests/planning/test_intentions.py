"""Procurement intentions (采购意向公开, 财库〔2020〕10号): the rules on their own, and the resource
`/api/v1/procurement-intentions` from draft to published and withdrawn."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from govbuy.rules import RuleViolation
from planning import rules
from tests import factories
from tests.procurement import support as s

API = "/api/v1/procurement-intentions"


# --- rules ------------------------------------------------------------------------------------


def test_the_current_month_is_not_past():
    rules.check_expected_month(date(2027, 3, 1), today=date(2027, 3, 31), budget_year=2027)


def test_a_past_month_is_refused():
    with pytest.raises(RuleViolation) as refused:
        rules.check_expected_month(date(2027, 2, 1), today=date(2027, 3, 1), budget_year=2027)
    assert refused.value.code == "intention_month_past"


def test_a_month_outside_the_budget_year_is_refused():
    with pytest.raises(RuleViolation) as refused:
        rules.check_expected_month(date(2028, 1, 1), today=date(2027, 3, 1), budget_year=2027)
    assert refused.value.code == "intention_month_outside_budget_year"


def test_the_budget_may_be_all_that_is_available_and_no_more():
    rules.check_intention_amount(Decimal("100.00"), Decimal("100.00"))
    with pytest.raises(RuleViolation) as refused:
        rules.check_intention_amount(Decimal("100.01"), Decimal("100.00"))
    assert refused.value.code == "intention_exceeds_available"


def test_a_withdrawn_intention_cannot_be_published_again():
    with pytest.raises(RuleViolation) as refused:
        rules.check_intention_transition("withdrawn", "published")
    assert refused.value.code == "intention_already_withdrawn" and refused.value.status == 409


# --- the resource -----------------------------------------------------------------------------


async def body(client, w, **overrides):
    today = await s.today(client, w.bureau)
    return {
        "budget_line_id": str(w.line_id),
        "title": "社区居家养老上门服务项目",
        "needs": "为辖区内 60 周岁以上居家老人提供助餐、助洁、助医上门服务，约 1 200 人次。",
        "budget_amount": "1000000.00",
        "expected_month": f"{today:%Y-%m}",
        "remarks": "",
        **overrides,
    }


async def create(client, w, **overrides):
    r = await client.post(API, json=await body(client, w, **overrides), headers=w.bureau.headers)
    assert r.status_code == 201, r.text
    return r.json()


async def test_a_bureau_drafts_an_intention_from_its_budget_line(client):
    w = await s.world()
    intention = await create(client, w)
    assert intention["status"] == "draft" and intention["published_at"] is None
    assert intention["budget_amount"] == "1000000.00"
    line = (await client.get(f"/api/v1/budget-lines/{w.line_id}", headers=w.bureau.headers)).json()
    assert line["reserved"] == "0.00"  # a check, not a reservation


async def test_a_budget_above_what_the_line_has_available_is_refused(client):
    w = await s.world(amount="500000.00")
    r = await client.post(API, json=await body(client, w, budget_amount="500000.01"), headers=w.bureau.headers)
    assert r.status_code == 422 and r.json()["code"] == "intention_exceeds_available"


async def test_a_past_month_is_refused_by_the_service_clock(client):
    w = await s.world()
    today = await s.today(client, w.bureau)
    past = date(today.year - 1, 12, 1) if today.month == 1 else date(today.year, today.month - 1, 1)
    r = await client.post(API, json=await body(client, w, expected_month=f"{past:%Y-%m}"), headers=w.bureau.headers)
    assert r.status_code == 422 and r.json()["code"] in ("intention_month_past",)


async def test_another_bureaus_line_is_not_found(client):
    w, other = await s.world(), await s.world()
    r = await client.post(API, json=await body(client, w), headers=other.bureau.headers)
    assert r.status_code == 422 and r.json()["code"] == "budget_line_not_found"


async def test_a_draft_changes_only_with_if_match(client):
    w = await s.world()
    intention = await create(client, w)
    url = f"{API}/{intention['id']}"
    assert (await client.patch(url, json={"title": "新名称"}, headers=w.bureau.headers)).status_code == 428
    stale = {**w.bureau.headers, "If-Match": '"9"'}
    assert (await client.patch(url, json={"title": "新名称"}, headers=stale)).status_code == 412
    r = await client.patch(url, json={"title": "新名称"}, headers={**w.bureau.headers, "If-Match": '"1"'})
    assert r.status_code == 200, r.text
    assert r.json()["title"] == "新名称" and r.headers["etag"] == '"2"'


async def test_a_published_intention_is_immutable_and_withdrawn_with_a_reason(client):
    w = await s.world()
    intention = await create(client, w)
    url = f"{API}/{intention['id']}"
    published = await client.post(f"{url}/publish", headers=w.bureau.headers)
    assert published.status_code == 200 and published.json()["published_at"]
    r = await client.patch(url, json={"title": "x"}, headers={**w.bureau.headers, "If-Match": '"2"'})
    assert r.status_code == 409 and r.json()["code"] == "intention_not_draft"
    withdrawn = await client.post(f"{url}/withdraw", json={"reason": "项目并入区级统一采购"}, headers=w.bureau.headers)
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["status"] == "withdrawn" and withdrawn.json()["withdraw_reason"] == "项目并入区级统一采购"
    again = await client.post(f"{url}/withdraw", json={"reason": "再次"}, headers=w.bureau.headers)
    assert again.status_code == 409 and again.json()["code"] == "intention_already_withdrawn"


async def test_the_list_filters_by_status_and_year_and_pages(client):
    w = await s.world()
    for _ in range(3):
        await create(client, w)
    first = await create(client, w)
    await client.post(f"{API}/{first['id']}/publish", headers=w.bureau.headers)
    page = (await client.get(API, params={"limit": 2}, headers=w.bureau.headers)).json()
    assert len(page["items"]) == 2 and page["next_cursor"]
    rest = (await client.get(API, params={"limit": 2, "cursor": page["next_cursor"]}, headers=w.bureau.headers)).json()
    assert len(rest["items"]) == 2 and rest["next_cursor"] is None
    published = (await client.get(API, params={"status": "published"}, headers=w.bureau.headers)).json()["items"]
    assert [i["id"] for i in published] == [first["id"]]
    year = first["year"]
    assert (await client.get(API, params={"year": year - 1}, headers=w.bureau.headers)).json()["items"] == []


async def test_another_bureau_gets_404(client):
    w, other = await s.world(), await s.world()
    intention = await create(client, w)
    url = f"{API}/{intention['id']}"
    assert (await client.get(url, headers=other.bureau.headers)).status_code == 404
    assert (await client.post(f"{url}/publish", headers=other.bureau.headers)).status_code == 404
    assert (await client.get(API, headers=other.bureau.headers)).json()["items"] == []


async def test_roles_other_than_the_bureau_may_not_write(client):
    w = await s.world()
    intention = await create(client, w)
    [vendor] = await factories.many_signed_in("vendor", 1)
    [supervisor] = await factories.many_signed_in("supervisor", 1)
    assert (await client.post(API, json=await body(client, w), headers=vendor.headers)).status_code == 403
    assert (await client.get(API, headers=vendor.headers)).status_code == 403
    assert (await client.post(f"{API}/{intention['id']}/publish", headers=supervisor.headers)).status_code == 403
    assert (await client.get(f"{API}/{intention['id']}", headers=supervisor.headers)).status_code == 200
