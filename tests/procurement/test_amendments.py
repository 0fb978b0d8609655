"""Amendments of a published tender over HTTP (澄清或者修改, 87号令 Art. 27): the deadline put back,
who may amend and when, the bidders told, the history, the public notice and the OCDS release."""

from __future__ import annotations

from datetime import datetime, timedelta

from govbuy import database as db
from govbuy.rules import local_date, start_of_day
from tests import factories
from tests.procurement import support as s

API = "/api/v1/tenders"
CRITERIA = [{"name": "服务方案", "weight": "50"}, {"name": "团队与经验", "weight": "20"}]


async def amend(client, w, tender, **body):
    headers = {**w.bureau.headers, "If-Match": f'"{tender["version"]}"'}
    return await client.post(f"{API}/{tender['id']}/amendments", json={"reason": "调整评审因素分值", **body}, headers=headers)


async def ten_days_left(client, w):
    """A public tender published with 25 days, 15 days later (10 left)."""
    tender = await s.published_tender(client, w, days=25)
    await s.advance(client, w.admin, days=15)
    return tender


async def test_an_amendment_with_ten_days_left_moves_the_deadline_to_fifteen(client):
    w = await s.world()
    tender = await ten_days_left(client, w)
    now = await s.now(client, w.bureau)
    r = await amend(client, w, tender, criteria=CRITERIA)
    assert r.status_code == 201, r.text
    body = r.json()
    expected = start_of_day(local_date(now) + timedelta(days=15))
    assert datetime.fromisoformat(body["tender"]["bid_deadline"]) == expected
    assert body["amendment"]["deadline_moved"] is True
    assert body["amendment"]["changed_fields"] == ["bid_deadline", "criteria"]
    assert body["amendment"]["before"]["criteria"][0]["weight"] == "40"
    assert body["amendment"]["after"]["criteria"][0]["weight"] == "50"
    assert (body["tender"]["amendment_count"], body["tender"]["version"]) == (1, tender["version"] + 1)


async def test_a_deadline_only_extension_keeps_the_date_asked(client):
    w = await s.world()
    tender = await ten_days_left(client, w)
    asked = datetime.fromisoformat(tender["bid_deadline"]) + timedelta(days=2)
    r = await amend(client, w, tender, bid_deadline=asked.isoformat(), reason="延长投标截止时间")
    assert r.status_code == 201, r.text
    assert datetime.fromisoformat(r.json()["tender"]["bid_deadline"]) == asked
    assert r.json()["amendment"]["deadline_moved"] is False


async def test_a_clarification_does_not_move_the_deadline(client):
    w = await s.world()
    tender = await ten_days_left(client, w)
    r = await amend(client, w, tender, description="澄清：助餐服务含送餐上门。", clarification=True, reason="文字澄清")
    assert r.status_code == 201, r.text
    assert r.json()["tender"]["bid_deadline"] == tender["bid_deadline"]


async def test_changing_the_method_or_the_ceiling_is_refused_by_name(client):
    w = await s.world()
    tender = await s.published_tender(client, w)
    r = await amend(client, w, tender, method="competitive_consultation", ceiling_amount="1200000.00")
    assert (r.status_code, r.json()["code"]) == (422, "amendment_not_allowed")
    assert {e["field"] for e in r.json()["errors"]} == {"method", "ceiling_amount"}


async def test_an_amendment_needs_if_match_and_a_reason(client):
    w = await s.world()
    tender = await s.published_tender(client, w)
    r = await client.post(f"{API}/{tender['id']}/amendments", json={"reason": "x", "description": "y"},
                          headers=w.bureau.headers)
    assert r.status_code == 428
    assert (await amend(client, w, tender, reason="")).status_code == 422


async def test_a_draft_or_a_tender_past_its_deadline_is_not_amended(client):
    w = await s.world()
    draft = await s.create_tender(client, w)
    r = await amend(client, w, draft, description="改")
    assert (r.status_code, r.json()["code"]) == (409, "tender_not_published")
    tender = await s.published_tender(client, w)
    await s.pass_deadline(client, w, tender)
    tender = (await client.get(f"{API}/{tender['id']}", headers=w.bureau.headers)).json()
    r = await amend(client, w, tender, description="改")
    assert r.status_code == 409


async def test_another_bureau_gets_404_and_a_vendor_403(client):
    w = await s.world()
    [other] = await factories.many_signed_in("bureau", 1)
    tender = await s.published_tender(client, w)
    headers = {**other.headers, "If-Match": f'"{tender["version"]}"'}
    r = await client.post(f"{API}/{tender['id']}/amendments", json={"reason": "x", "description": "y"}, headers=headers)
    assert r.status_code == 404
    vendor = await factories.signed_in("vendor")
    r = await client.post(f"{API}/{tender['id']}/amendments", json={"reason": "x", "description": "y"},
                          headers={**vendor.headers, "If-Match": f'"{tender["version"]}"'})
    assert r.status_code == 403
    assert (await client.get(f"{API}/{tender['id']}/amendments", headers=other.headers)).status_code == 404


async def test_bidders_are_told_and_may_still_revise_their_sealed_bid(client):
    w = await s.world()
    tender = await ten_days_left(client, w)
    bidder, withdrawn = await factories.many_signed_in("vendor", 2)
    bid = (await s.bid(client, tender["id"], bidder, "900000.00")).json()
    gone = (await s.bid(client, tender["id"], withdrawn, "910000.00")).json()
    assert (await client.post(f"{API}/{tender['id']}/bids/{gone['id']}/withdraw", headers=withdrawn.headers)).status_code == 200
    r = await amend(client, w, tender, criteria=CRITERIA)
    assert r.status_code == 201, r.text
    assert r.json()["amendment"]["bidders_notified"] == 1
    told = await db.fetch("SELECT organisation_id, message FROM notifications WHERE event = 'tender.amended' AND entity_id = $1",
                          tender["id"])
    assert [t["organisation_id"] for t in told] == [bidder.organisation_id]
    assert told[0]["message"].startswith("招标文件已更正")
    revised = await client.patch(f"{API}/{tender['id']}/bids/{bid['id']}", json={"price": "850000.00"},
                                 headers=factories.if_match(bidder, bid))
    assert revised.status_code == 200, revised.text
    assert r.json()["tender"]["bids_sealed"] is True


async def test_the_history_is_readable_by_the_bureau_and_the_public(client):
    w = await s.world()
    tender = await ten_days_left(client, w)
    first = (await amend(client, w, tender, criteria=CRITERIA)).json()
    second = await amend(client, w, first["tender"], description="新的采购需求", reason="补充需求")
    assert second.status_code == 201, second.text
    own = (await client.get(f"{API}/{tender['id']}/amendments", headers=w.bureau.headers)).json()["items"]
    assert [a["sequence"] for a in own] == [1, 2]
    assert own[1]["before"]["description"] == tender["description"]
    page = await client.get(f"/api/v1/public/tenders/{tender['id']}/amendments?limit=1")
    assert page.status_code == 200 and page.json()["items"][0]["id"] == own[0]["id"]
    rest = await client.get(f"/api/v1/public/tenders/{tender['id']}/amendments?limit=1&cursor={page.json()['next_cursor']}")
    assert rest.json()["items"][0]["id"] == own[1]["id"]
    public = (await client.get(f"/api/v1/public/tenders/{tender['id']}")).json()
    assert public["amendment_count"] == 2


async def test_an_amendment_is_a_public_notice_and_a_tender_amendment_release(client):
    w = await s.world()
    tender = await ten_days_left(client, w)
    amendment = (await amend(client, w, tender, criteria=CRITERIA)).json()["amendment"]
    notices = (await client.get(f"/api/v1/public/notices?type=amendment&tender_id={tender['id']}")).json()["items"]
    assert [n["id"] for n in notices] == [amendment["id"]]
    assert notices[0]["title"].endswith("更正公告")
    notice = (await client.get(f"/api/v1/public/notices/{amendment['id']}")).json()
    assert "评审因素" in notice["text"] and "调整评审因素分值" in notice["text"]
    every = (await client.get(f"/api/v1/public/notices?tender_id={tender['id']}")).json()["items"]
    assert [n["type"] for n in every] == ["amendment", "tender"]
    releases = await db.fetch("SELECT release_id, tags, data FROM ocds_releases WHERE tender_id = $1 ORDER BY seq", tender["id"])
    last = releases[-1]
    assert last["tags"] == ["tenderAmendment"]
    [entry] = last["data"]["tender"]["amendments"]
    assert (entry["id"], entry["rationale"], entry["amendsReleaseID"]) == (amendment["id"], "调整评审因素分值",
                                                                           releases[-2]["release_id"])
