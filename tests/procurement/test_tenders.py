"""Tenders from draft to publication: terms checked by the rules, the budget reservation, the
catalogue reference, visibility, listing, cancellation, and concurrency on a budget line."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest

from govbuy import clock
from govbuy.rules import SHANGHAI
from tests import factories
from tests.procurement import support as s

API = "/api/v1/tenders"


async def line(client, w, headers=None) -> dict:
    r = await client.get(f"/api/v1/budget-lines/{w.line_id}", headers=headers or w.bureau.headers)
    assert r.status_code == 200, r.text
    return r.json()


async def test_a_draft_shows_its_earliest_allowed_deadline_and_carries_an_etag(client):
    w = await s.world()
    tender = await s.create_tender(client, w)
    assert tender["status"] == "draft" and tender["bids_sealed"] is True
    now = await s.now(client, w.bureau)
    # 20 calendar days, the publication day not counted: 00:00 Shanghai of day 20.
    expected = datetime.combine(now.astimezone(SHANGHAI).date() + timedelta(days=20), datetime.min.time(), SHANGHAI)
    assert datetime.fromisoformat(tender["minimum_bid_deadline"]) == expected
    r = await client.get(f"{API}/{tender['id']}", headers=w.bureau.headers)
    assert r.headers["etag"] == '"1"'
    assert tender["criteria"] == [{"name": "服务方案", "weight": "40", "points_by_grade": None},
                                  {"name": "团队与经验", "weight": "30", "points_by_grade": None}]


BAD_TERMS = [
    ({"criteria": [{"name": "服务方案", "weight": "40"}, {"name": "团队", "weight": "20"}]}, "weights_must_sum_to_100"),
    ({"price_weight": "40", "criteria": [{"name": "服务方案", "weight": "60"}]}, "invalid_price_weight"),
    ({"evaluation_method": "lowest_price"}, "criteria_not_allowed"),
    (
        {"milestones": [{"title": "一期", "percentage": "50", "due_offset_days": 90}, {"title": "二期", "percentage": "40", "due_offset_days": 300}]},
        "percentages_must_sum_to_100",
    ),
    ({"contract_months": 13}, "contract_term_too_long"),
    ({"contract_months": 37, "recurring": True}, "contract_term_too_long"),
    ({"contract_months": 0}, "invalid_contract_term"),
    ({"payment_rule": [{"min_score": 0, "max_score": 50, "ratio": "0"}, {"min_score": 60, "max_score": 100, "ratio": "1"}]}, "invalid_payment_rule"),
    ({"eligibility": {"min_assessment_grade": "3A", "region_code": "440300"}}, "invalid_input"),
    ({"eligibility": {"min_assessment_grade": "6A"}}, "invalid_input"),
    ({"invited_vendor_ids": ["00000000-0000-0000-0000-000000000001"]}, "invitations_not_allowed"),
    ({"method": "invited_tender", "invited_vendor_ids": ["00000000-0000-0000-0000-000000000001"]}, "invitations_required"),
    ({"method": "single_source", "evaluation_method": "lowest_price", "price_weight": None, "criteria": []},
     "single_source_requires_one_vendor"),
    ({"method": "inquiry"}, "evaluation_method_not_allowed"),
    ({"method": "competitive_negotiation"}, "evaluation_method_not_allowed"),
    ({"method": "single_source"}, "evaluation_method_not_allowed"),
    ({"method": "competitive_consultation", "evaluation_method": "lowest_price", "price_weight": None, "criteria": []},
     "evaluation_method_not_allowed"),
    ({"bid_deadline": "2030-01-01T00:00:00"}, "timezone_required"),
    ({"ceiling_amount": "0.00"}, "invalid_input"),
    ({"ceiling_amount": "1000000.005"}, "invalid_input"),
]


@pytest.mark.parametrize(("overrides", "code"), BAD_TERMS)
async def test_bad_terms_are_refused_with_their_code_and_nothing_is_written(client, overrides, code):
    w = await s.world()
    before = (await s.count("tenders"), await s.audit_count())
    deadline = (await s.now(client, w.bureau)) + timedelta(days=25)
    r = await client.post(API, json=s.tender_body(w, deadline, **overrides), headers=w.bureau.headers)
    assert r.status_code == 422, r.text
    assert r.json()["code"] == code
    assert (await s.count("tenders"), await s.audit_count()) == before


@pytest.mark.parametrize(
    ("method", "days", "evaluation"),
    [
        ("public_tender", 19, "comprehensive"),
        ("invited_tender", 19, "comprehensive"),
        ("competitive_consultation", 9, "comprehensive"),
        ("inquiry", 1, "lowest_price"),
    ],
)
async def test_deadline_too_short_for_the_method_is_refused_and_nothing_is_written(client, method, days, evaluation):
    w = await s.world()
    vendors = await factories.many_signed_in("vendor", 3)
    extra = {"invited_vendor_ids": [str(v.organisation_id) for v in vendors]} if method == "invited_tender" else {}
    if evaluation == "lowest_price":
        extra.update(price_weight=None, criteria=[])
    before = (await s.count("tenders"), await s.audit_count())
    deadline = (await s.now(client, w.bureau)) + timedelta(days=days)
    body = s.tender_body(w, deadline, method=method, evaluation_method=evaluation, **extra)
    r = await client.post(API, json=body, headers=w.bureau.headers)
    assert (r.status_code, r.json()["code"]) == (422, "deadline_too_short"), r.text
    assert "earliest allowed deadline" in r.json()["detail"]
    assert (await s.count("tenders"), await s.audit_count()) == before


async def test_tender_must_buy_a_level3_item_of_its_own_regions_published_catalogue(client):
    w = await s.world()
    deadline = (await s.now(client, w.bureau)) + timedelta(days=25)
    items = (await client.get(f"/api/v1/catalogues/{w.catalogue_id}/items", headers=w.bureau.headers)).json()["items"]
    level2 = next(i["id"] for i in items if i["level"] == 2)
    r = await client.post(API, json=s.tender_body(w, deadline, catalogue_item_id=level2), headers=w.bureau.headers)
    assert r.json()["code"] == "catalogue_item_not_level3"
    other = await factories.signed_in("bureau", await factories.organisation("bureau", region_code="110000"))
    _, foreign_item = await factories.published_catalogue(other)
    r = await client.post(API, json=s.tender_body(w, deadline, catalogue_item_id=str(foreign_item)), headers=w.bureau.headers)
    assert r.json()["code"] == "catalogue_item_out_of_scope"
    other_line = await factories.budget_line(other)
    r = await client.post(API, json=s.tender_body(w, deadline, budget_line_id=str(other_line.id)), headers=w.bureau.headers)
    assert r.json()["code"] == "budget_line_not_found"


async def test_a_superseded_catalogue_item_cannot_be_published(client):
    w = await s.world()
    tender = await s.create_tender(client, w)
    await factories.published_catalogue(w.bureau)  # supersedes the world's catalogue
    r = await client.post(f"{API}/{tender['id']}/publish", headers=w.bureau.headers)
    assert (r.status_code, r.json()["code"]) == (409, "catalogue_not_published")
    assert (await line(client, w))["reserved"] == "0.00"


async def test_publishing_reserves_the_ceiling_and_cancelling_releases_it(client):
    w = await s.world("5000000.00")
    tender = await s.published_tender(client, w, ceiling_amount="1200000.00")
    assert tender["status"] == "published" and tender["published_at"]
    assert ((await line(client, w))["reserved"], (await line(client, w))["available"]) == ("1200000.00", "3800000.00")
    r = await client.post(f"{API}/{tender['id']}/cancel", json={"reason": "需求变更"}, headers=w.bureau.headers)
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    assert (await line(client, w))["available"] == "5000000.00"
    actions = [e["action"] for e in (await client.get("/api/v1/audit-events", headers=w.admin.headers)).json()["items"]]
    assert {"tender.published", "budget_line.reserved", "tender.cancelled", "budget_line.released"} <= set(actions)


async def test_publishing_beyond_the_available_budget_is_refused_and_changes_nothing(client):
    w = await s.world("800000.00")
    tender = await s.create_tender(client, w, ceiling_amount="1000000.00")
    before = await s.audit_count()
    r = await client.post(f"{API}/{tender['id']}/publish", headers=w.bureau.headers)
    assert (r.status_code, r.json()["code"]) == (409, "budget_insufficient")
    assert (await client.get(f"{API}/{tender['id']}", headers=w.bureau.headers)).json()["status"] == "draft"
    assert (await line(client, w))["reserved"] == "0.00"
    assert await s.audit_count() == before


async def test_two_concurrent_publications_never_take_a_line_beyond_its_amount(client):
    w = await s.world("1000000.00")
    tenders = [await s.create_tender(client, w, ceiling_amount="600000.00") for _ in range(2)]
    results = await asyncio.gather(
        *(client.post(f"{API}/{t['id']}/publish", headers=w.bureau.headers) for t in tenders)
    )
    assert sorted(r.status_code for r in results) == [200, 409]
    assert [r.json()["code"] for r in results if r.status_code == 409] == ["budget_insufficient"]
    assert (await line(client, w))["reserved"] == "600000.00"


async def test_many_concurrent_publications_reserve_exactly_what_fits(client):
    w = await s.world("1000000.00")
    tenders = [await s.create_tender(client, w, ceiling_amount="150000.00") for _ in range(10)]
    results = await asyncio.gather(
        *(client.post(f"{API}/{t['id']}/publish", headers=w.bureau.headers) for t in tenders)
    )
    assert sorted(r.status_code for r in results) == [200] * 6 + [409] * 4
    state = await line(client, w)
    assert (state["reserved"], state["available"]) == ("900000.00", "100000.00")


async def test_a_draft_is_changed_with_if_match_and_a_published_one_not_at_all(client):
    w = await s.world()
    tender = await s.create_tender(client, w)
    stale = await client.patch(f"{API}/{tender['id']}", json={"title": "新标题"}, headers={**w.bureau.headers, "If-Match": '"9"'})
    assert stale.status_code == 412
    r = await client.patch(f"{API}/{tender['id']}", json={"title": "新标题"}, headers={**w.bureau.headers, "If-Match": '"1"'})
    assert r.status_code == 200 and r.json()["title"] == "新标题" and r.headers["etag"] == '"2"'
    bad = await client.patch(f"{API}/{tender['id']}", json={"contract_months": 24}, headers={**w.bureau.headers, "If-Match": '"2"'})
    assert bad.json()["code"] == "contract_term_too_long"
    await client.post(f"{API}/{tender['id']}/publish", headers=w.bureau.headers)
    r = await client.patch(f"{API}/{tender['id']}", json={"title": "再改"}, headers=await factories.editing(client, f"{API}/{tender['id']}", w.bureau))
    assert (r.status_code, r.json()["code"]) == (409, "tender_not_draft")


async def test_tenders_are_seen_only_by_those_entitled(client):
    w = await s.world()
    draft = await s.create_tender(client, w)
    published = await s.published_tender(client, w)
    other_bureau = await factories.signed_in("bureau")
    vendor = await factories.signed_in("vendor")
    expert = await factories.signed_in("expert")
    evaluator = await factories.signed_in("evaluator")
    supervisor = await factories.signed_in("supervisor")

    def ids(r):
        return [t["id"] for t in r.json()["items"]]

    assert ids(await client.get(API, headers=w.bureau.headers)) == [published["id"], draft["id"]]
    assert ids(await client.get(API, headers=supervisor.headers)) == [published["id"], draft["id"]]
    assert ids(await client.get(API, headers=vendor.headers)) == [published["id"]]
    assert ids(await client.get(API, headers=other_bureau.headers)) == []
    assert ids(await client.get(API, headers=expert.headers)) == []
    assert (await client.get(API, headers=evaluator.headers)).status_code == 403
    assert (await client.get(f"{API}/{draft['id']}", headers=vendor.headers)).status_code == 404
    assert (await client.get(f"{API}/{published['id']}", headers=other_bureau.headers)).status_code == 404
    assert (await client.get(f"{API}/{published['id']}", headers=expert.headers)).status_code == 404
    r = await client.post(f"{API}/{draft['id']}/publish", headers=other_bureau.headers)
    assert r.status_code == 404


async def test_tenders_are_filtered_and_paged(client):
    w = await s.world("50000000.00")
    public = [await s.published_tender(client, w) for _ in range(3)]
    inquiry = await s.create_tender(
        client, w, days=10, method="inquiry", evaluation_method="lowest_price", price_weight=None, criteria=[]
    )
    r = await client.get(API, params={"method": "inquiry"}, headers=w.bureau.headers)
    assert [t["id"] for t in r.json()["items"]] == [inquiry["id"]]
    r = await client.get(API, params={"status": "published"}, headers=w.bureau.headers)
    assert {t["id"] for t in r.json()["items"]} == {t["id"] for t in public}
    r = await client.get(API, params={"catalogue_item_id": str(w.item_id), "bureau_id": str(w.bureau.organisation_id)}, headers=w.bureau.headers)
    assert len(r.json()["items"]) == 4
    soon = (await s.now(client, w.bureau)) + timedelta(days=15)
    r = await client.get(API, params={"deadline_to": soon.isoformat()}, headers=w.bureau.headers)
    assert [t["id"] for t in r.json()["items"]] == [inquiry["id"]]
    r = await client.get(API, params={"deadline_from": soon.isoformat()}, headers=w.bureau.headers)
    assert len(r.json()["items"]) == 3
    seen, cursor = [], None
    while True:
        r = await client.get(API, params={"limit": 3, **({"cursor": cursor} if cursor else {})}, headers=w.bureau.headers)
        seen += [t["id"] for t in r.json()["items"]]
        cursor = r.json()["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 4
    bad = await client.get(API, params={"cursor": "bm90IGEgY3Vyc29y"}, headers=w.bureau.headers)
    assert (bad.status_code, bad.json()["code"]) == (422, "invalid_cursor")


async def test_invited_tender_takes_bids_and_questions_from_invited_vendors_only(client):
    w = await s.world()
    invited = await factories.many_signed_in("vendor", 3)
    outsider = await factories.signed_in("vendor")
    tender = await s.published_tender(client, w, method="invited_tender", invited_vendor_ids=[str(v.organisation_id) for v in invited])
    seen = (await client.get(f"{API}/{tender['id']}", headers=outsider.headers)).json()
    assert (seen["invited"], seen["invited_vendor_ids"]) == (False, None)
    r = await s.bid(client, tender["id"], outsider, "500000.00")
    assert (r.status_code, r.json()["code"]) == (403, "vendor_not_invited")
    r = await client.post(f"{API}/{tender['id']}/questions", json={"question": "?"}, headers=outsider.headers)
    assert r.json()["code"] == "vendor_not_invited"
    assert (await s.bid(client, tender["id"], invited[0], "500000.00")).status_code == 201


async def test_negotiation_published_just_before_national_day_2026_gets_the_right_minimum_deadline(client, monkeypatch):
    # The sandbox clock only moves forward, so to stand on 2026-09-30 the test sets the clock.
    # Published Wed 09-30: 10-01..07 are off; Thu 10-08 is working day 1, Fri 10-09 day 2 and
    # the make-up Saturday 10-10 day 3, so the earliest deadline is 2026-10-10 00:00 Shanghai.
    published_at = datetime(2026, 9, 30, 10, 0, tzinfo=SHANGHAI)

    async def fixed_now():
        return published_at

    monkeypatch.setattr(clock, "now", fixed_now)
    w = await s.world()
    body = dict(method="competitive_negotiation", evaluation_method="lowest_price", price_weight=None, criteria=[])
    draft = await client.post(API, json=s.tender_body(w, datetime(2026, 10, 10, 9, 30, tzinfo=SHANGHAI), **body), headers=w.bureau.headers)
    assert draft.status_code == 201, draft.text
    minimum = datetime.fromisoformat(draft.json()["minimum_bid_deadline"])
    assert minimum == datetime(2026, 10, 10, 0, 0, tzinfo=SHANGHAI)
    assert draft.json()["calendar_warning"] is None
    short = await client.post(API, json=s.tender_body(w, datetime(2026, 10, 9, 17, 0, tzinfo=SHANGHAI), **body), headers=w.bureau.headers)
    assert (short.status_code, short.json()["code"]) == (422, "deadline_too_short")
    assert "2026-10-10T00:00:00+08:00" in short.json()["detail"]
    published = await client.post(f"{API}/{draft.json()['id']}/publish", headers=w.bureau.headers)
    assert published.status_code == 200 and published.json()["calendar_warning"] is None


async def test_a_working_day_period_into_an_unscheduled_year_carries_a_warning(client):
    from govbuy import database as db

    w = await s.world()
    known = {r["year"] for r in await db.fetch("SELECT year FROM calendar_years")}
    now = await s.now(client, w.admin)
    year = now.astimezone(SHANGHAI).year
    # Stand on 30 December, ahead of the service's clock, with the next year unscheduled: three
    # working days run into a year with no recorded schedule.
    while year + 1 in known or datetime(year, 12, 30, 10, tzinfo=SHANGHAI) <= now:
        year += 1
    target = datetime(year, 12, 30, 10, tzinfo=SHANGHAI)
    await s.advance(client, w.admin, seconds=int((target - await s.now(client, w.admin)).total_seconds()))
    tender = await s.create_tender(
        client, w, days=10, method="inquiry", evaluation_method="lowest_price", price_weight=None, criteria=[]
    )
    assert str(year + 1) in tender["calendar_warning"]
    published = (await client.post(f"{API}/{tender['id']}/publish", headers=w.bureau.headers)).json()
    assert str(year + 1) in published["calendar_warning"]


async def test_questions_are_published_without_the_askers_name(client):
    w = await s.world()
    tender = await s.published_tender(client, w)
    asker, other = await factories.many_signed_in("vendor", 2)
    r = await client.post(f"{API}/{tender['id']}/questions", json={"question": "服务对象人数是多少？"}, headers=asker.headers)
    assert r.status_code == 201 and r.json()["mine"] is True
    qid = r.json()["id"]
    assert (await client.get(f"{API}/{tender['id']}/questions", headers=other.headers)).json()["items"] == []
    r = await client.post(f"{API}/{tender['id']}/questions/{qid}/answer", json={"answer": "约 1200 人。"}, headers=w.bureau.headers)
    assert r.status_code == 200
    listed = await client.get(f"{API}/{tender['id']}/questions", headers=other.headers)
    assert [(q["question"], q["answer"], q["mine"]) for q in listed.json()["items"]] == [("服务对象人数是多少？", "约 1200 人。", False)]
    assert str(asker.organisation_id) not in listed.text and asker.user.username not in listed.text
    await s.pass_deadline(client, w, tender)
    late = await client.post(f"{API}/{tender['id']}/questions", json={"question": "还能问吗？"}, headers=asker.headers)
    assert (late.status_code, late.json()["code"]) == (409, "questions_closed")
