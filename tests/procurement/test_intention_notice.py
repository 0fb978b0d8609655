"""A tender and its procurement intention (采购意向公开, 财库〔2020〕10号): the link (the bureau's
own, published, same budget line) and the 30 days from the intention to the tender, with the
exception the tender states."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from govbuy.rules import SHANGHAI, RuleViolation
from procurement import rules
from tests.procurement import support as s

INTENTIONS = "/api/v1/procurement-intentions"
NO_REASON = {"intention_notice_exception": None}


def test_thirty_days_after_the_intention_need_no_reason():
    rules.check_intention_notice(datetime(2027, 3, 1, 23, 0, tzinfo=SHANGHAI), datetime(2027, 3, 31, 0, 5, tzinfo=SHANGHAI), None)


def test_twenty_nine_days_need_a_reason():
    with pytest.raises(RuleViolation) as refused:
        rules.check_intention_notice(datetime(2027, 3, 1, 8, 0, tzinfo=SHANGHAI), datetime(2027, 3, 30, 23, 0, tzinfo=SHANGHAI), None)
    assert refused.value.code == "intention_too_recent"
    rules.check_intention_notice(datetime(2027, 3, 1, tzinfo=SHANGHAI), datetime(2027, 3, 30, tzinfo=SHANGHAI), "紧急")


def test_no_intention_needs_a_reason():
    with pytest.raises(RuleViolation) as refused:
        rules.check_intention_notice(None, datetime(2027, 3, 30, tzinfo=SHANGHAI), "  ")
    assert refused.value.code == "intention_required"
    rules.check_intention_notice(None, datetime(2027, 3, 30, tzinfo=SHANGHAI), "应急采购")


async def published_intention(client, w, *, publish=True, line_id=None) -> dict:
    today = await s.today(client, w.bureau)
    r = await client.post(
        INTENTIONS,
        json={"budget_line_id": str(line_id or w.line_id), "title": "社区居家养老上门服务项目", "needs": "助餐、助洁、助医",
              "budget_amount": "1000000.00", "expected_month": f"{today:%Y-%m}"},
        headers=w.bureau.headers,
    )
    assert r.status_code == 201, r.text
    if publish:
        r = await client.post(f"{INTENTIONS}/{r.json()['id']}/publish", headers=w.bureau.headers)
        assert r.status_code == 200, r.text
    return r.json()


async def publish(client, w, tender):
    return await client.post(f"/api/v1/tenders/{tender['id']}/publish", headers=w.bureau.headers)


async def test_a_tender_without_intention_or_reason_is_refused(client):
    w = await s.world()
    intention = await published_intention(client, w)
    tender = await s.create_tender(client, w, **NO_REASON)
    r = await publish(client, w, tender)
    assert r.status_code == 422 and r.json()["code"] == "intention_required"
    assert r.json()["errors"][0]["published_intention_ids"] == [intention["id"]]


async def test_a_tender_sooner_than_thirty_days_after_its_intention_is_refused_without_a_reason(client):
    w = await s.world()
    intention = await published_intention(client, w)
    tender = await s.create_tender(client, w, procurement_intention_id=intention["id"], **NO_REASON)
    assert tender["procurement_intention_id"] == intention["id"]
    r = await publish(client, w, tender)
    assert r.status_code == 422 and r.json()["code"] == "intention_too_recent"
    reason = "上级部门临时下达的应急服务任务，须在本月内启动"
    r = await client.patch(f"/api/v1/tenders/{tender['id']}", json={"intention_notice_exception": reason},
                           headers={**w.bureau.headers, "If-Match": '"1"'})
    assert r.status_code == 200, r.text
    published = await publish(client, w, r.json())
    assert published.status_code == 200 and published.json()["intention_notice_exception"] == reason


async def test_a_tender_thirty_days_after_its_intention_needs_no_reason(client):
    w = await s.world()
    intention = await published_intention(client, w)
    await s.advance(client, w.admin, days=30)
    tender = await s.create_tender(client, w, procurement_intention_id=intention["id"], **NO_REASON)
    r = await publish(client, w, tender)
    assert r.status_code == 200, r.text
    assert r.json()["intention_notice_exception"] is None


async def test_a_draft_intention_is_not_linked(client):
    w = await s.world()
    draft = await published_intention(client, w, publish=False)
    r = await client.post("/api/v1/tenders", headers=w.bureau.headers, json=s.tender_body(
        w, await s.now(client, w.bureau) + timedelta(days=25), procurement_intention_id=draft["id"]))
    assert r.status_code == 422 and r.json()["code"] == "intention_not_published"


async def test_another_bureaus_intention_is_not_found(client):
    other, w = await s.world(), await s.world()  # one published catalogue per region: w's is the last
    theirs = await published_intention(client, other)
    r = await client.post("/api/v1/tenders", headers=w.bureau.headers, json=s.tender_body(
        w, await s.now(client, w.bureau) + timedelta(days=25), procurement_intention_id=theirs["id"]))
    assert r.status_code == 422 and r.json()["code"] == "intention_not_found"


async def test_an_intention_of_another_budget_line_is_refused(client):
    from tests import factories

    w = await s.world()
    other_line = await factories.budget_line(w.bureau)
    intention = await published_intention(client, w, line_id=other_line.id)
    r = await client.post("/api/v1/tenders", headers=w.bureau.headers, json=s.tender_body(
        w, await s.now(client, w.bureau) + timedelta(days=25), procurement_intention_id=intention["id"]))
    assert r.status_code == 422 and r.json()["code"] == "intention_budget_line_mismatch"
