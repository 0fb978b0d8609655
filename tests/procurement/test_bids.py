"""Bids: submission, revision and withdrawal before the deadline, eligibility at submission and
at opening, the opening by time alone, and 唱标 afterwards."""

from __future__ import annotations

from datetime import timedelta

from govbuy import database as db
from procurement import service as procurement_service
from tests import factories
from tests.procurement import support as s

API = "/api/v1/tenders"


async def test_a_vendor_submits_one_sealed_bid_with_its_eligibility_recorded(client):
    w = await s.world()
    tender = await s.published_tender(client, w)
    vendor = await factories.signed_in("vendor")
    r = await s.bid(client, tender["id"], vendor, "880000.00", "方案全文")
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["price"], body["proposal"], body["status"]) == ("880000.00", "方案全文", "submitted")
    assert body["eligibility_at_submission"]["eligible"] is True
    assert r.headers["etag"] == '"1"'
    again = await s.bid(client, tender["id"], vendor, "870000.00")
    assert (again.status_code, again.json()["code"]) == (409, "bid_already_submitted")


async def test_a_price_above_the_ceiling_is_refused_and_nothing_is_written(client):
    w = await s.world()
    tender = await s.published_tender(client, w, ceiling_amount="1000000.00")
    vendor = await factories.signed_in("vendor")
    before = (await s.count("bids"), await s.audit_count())
    r = await s.bid(client, tender["id"], vendor, "1000000.01")
    assert (r.status_code, r.json()["code"]) == (422, "bid_exceeds_ceiling")
    assert (await s.count("bids"), await s.audit_count()) == before
    assert (await s.bid(client, tender["id"], vendor, "1000000.00")).status_code == 201


async def test_a_vendor_on_a_credit_list_is_turned_away_with_the_reasons(client):
    w = await s.world()
    tender = await s.published_tender(client, w)
    vendor = await factories.signed_in("vendor")
    await s.credit_list(client, w.admin, vendor, "2026-01-05")
    before = await s.count("bids")
    r = await s.bid(client, tender["id"], vendor, "800000.00")
    assert (r.status_code, r.json()["code"]) == (409, "vendor_ineligible")
    assert [e["code"] for e in r.json()["errors"]] == ["credit_list_entry_active"]
    assert await s.count("bids") == before


async def test_a_minimum_assessment_grade_is_refused_as_a_bar(client):
    w = await s.world()
    r = await client.post(API, json=s.tender_body(w, await s.now(client, w.bureau) + timedelta(days=25),
                                                  eligibility={"min_assessment_grade": "3A"}), headers=w.bureau.headers)
    assert (r.status_code, r.json()["code"]) == (422, "assessment_grade_not_a_bar")


async def vendor_of(kind_prefix: str) -> factories.SignedIn:
    org = await factories.organisation("vendor", code=factories.uscc(kind_prefix))
    return await factories.signed_in("vendor", org)


async def test_an_enterprise_and_a_new_4a_organisation_may_bid_where_a_credit_grade_is_required(client):
    """The case of issue: a tender requiring credit grade B turned away an enterprise (never
    assessed, 102号令 Art. 6) and a 4A organisation new to the platform (no grade yet)."""
    w = await s.world()
    tender = await s.published_tender(client, w, eligibility={"min_credit_grade": "B"})
    enterprise, newcomer = await vendor_of("91"), await vendor_of("52")
    r = await client.post(f"/api/v1/vendors/{newcomer.organisation_id}/assessment-grades",
                          json={"grade": "4A", "awarded_on": "2025-06-01"}, headers=w.admin.headers)
    assert r.status_code in (200, 201), r.text
    for vendor in (enterprise, newcomer):
        r = await s.bid(client, tender["id"], vendor, "800000.00")
        assert r.status_code == 201, r.text
        assert r.json()["eligibility_at_submission"]["rule_version"] == 2


async def test_a_public_welfare_institution_may_not_bid_nor_be_opened(client):
    """102号令 Art. 8: a 公益一类事业单位 is no supplier of purchased services — refused at the bid,
    and found ineligible at the opening if it was recorded as one after bidding."""
    w = await s.world()
    tender = await s.published_tender(client, w)
    institution, later = await vendor_of("12"), await vendor_of("12")
    body = {"category": "public_welfare_institution_class_1", "source": "市委编办《事业单位分类目录》（2024）"}
    r = await client.put(f"/api/v1/vendors/{institution.organisation_id}/legal-exclusion", json=body, headers=w.admin.headers)
    assert r.status_code == 200 and r.json()["category_label"] == "公益一类事业单位"
    refused = await s.bid(client, tender["id"], institution, "800000.00")
    assert (refused.status_code, refused.json()["code"]) == (409, "vendor_excluded_by_law")
    assert refused.json()["errors"][0]["code"] == "excluded_by_law"
    assert "市委编办《事业单位分类目录》（2024）" in refused.json()["errors"][0]["message"]
    vendors = await factories.many_signed_in("vendor", 3)
    for vendor in (later, *vendors):
        assert (await s.bid(client, tender["id"], vendor, "800000.00")).status_code == 201
    r = await client.put(f"/api/v1/vendors/{later.organisation_id}/legal-exclusion", json=body, headers=w.admin.headers)
    assert r.status_code == 200
    read = (await client.get(f"/api/v1/vendors/{later.organisation_id}", headers=w.admin.headers)).json()
    assert read["may_bid_today"] is False and read["legal_exclusion"]["source"] == body["source"]
    await s.pass_deadline(client, w, tender)
    bids = (await client.get(f"{API}/{tender['id']}/bids", headers=w.bureau.headers)).json()["items"]
    mine = next(b for b in bids if b["vendor_id"] == str(later.organisation_id))
    assert mine["status"] == "invalid" and "102号令 Art. 8" in mine["invalid_reason"]
    # Lifted (reclassified): it may bid again, and the audit log keeps both steps.
    r = await client.post(f"/api/v1/vendors/{later.organisation_id}/legal-exclusion/lift",
                          json={"reason": "经复核为公益二类"}, headers=w.admin.headers)
    assert r.status_code == 204
    assert (await client.get(f"/api/v1/vendors/{later.organisation_id}", headers=w.admin.headers)).json()["may_bid_today"]
    actions = await db.fetch("SELECT action FROM audit_events WHERE entity_id = $1 ORDER BY seq", str(later.organisation_id))
    assert [a["action"] for a in actions if "legal_exclusion" in a["action"]] == [
        "vendor.legal_exclusion_recorded", "vendor.legal_exclusion_lifted"
    ]


async def test_a_bid_is_revised_with_if_match_and_withdrawn_before_the_deadline(client):
    w = await s.world()
    tender = await s.published_tender(client, w)
    vendor = await factories.signed_in("vendor")
    bid = (await s.bid(client, tender["id"], vendor, "900000.00")).json()
    url = f"{API}/{tender['id']}/bids/{bid['id']}"
    stale = await client.patch(url, json={"price": "850000.00"}, headers={**vendor.headers, "If-Match": '"7"'})
    assert stale.status_code == 412
    revised = await client.patch(url, json={"price": "850000.00"}, headers={**vendor.headers, "If-Match": '"1"'})
    assert revised.status_code == 200 and revised.json()["price"] == "850000.00" and revised.json()["version"] == 2
    assert revised.json()["content_digest"] != bid["content_digest"]
    over = await client.patch(url, json={"price": "1000000.01"}, headers=factories.if_match(vendor, revised.json()))
    assert over.json()["code"] == "bid_exceeds_ceiling"
    withdrawn = await client.post(f"{url}/withdraw", headers=vendor.headers)
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    again = await client.patch(url, json={"price": "800000.00"}, headers=factories.if_match(vendor, withdrawn.json()))
    assert (again.status_code, again.json()["code"]) == (409, "bid_withdrawn")
    # A vendor that withdrew may bid again before the deadline.
    assert (await s.bid(client, tender["id"], vendor, "800000.00")).status_code == 201


async def test_another_vendor_cannot_touch_a_bid(client):
    w = await s.world()
    tender = await s.published_tender(client, w)
    owner, other = await factories.many_signed_in("vendor", 2)
    bid = (await s.bid(client, tender["id"], owner, "900000.00")).json()
    url = f"{API}/{tender['id']}/bids/{bid['id']}"
    assert (await client.patch(url, json={"price": "1.00"}, headers=factories.if_match(other, bid))).status_code == 404
    assert (await client.post(f"{url}/withdraw", headers=other.headers)).status_code == 404
    assert (await client.get(url, headers=other.headers)).status_code == 404


async def test_after_the_deadline_bids_are_refused_and_the_request_opens_the_tender(client):
    w = await s.world()
    tender = await s.published_tender(client, w)
    vendors = await factories.many_signed_in("vendor", 3)
    bids = [(await s.bid(client, tender["id"], v, f"{900000 - i * 1000}.00")).json() for i, v in enumerate(vendors)]
    await s.pass_deadline(client, w, tender)
    late = await factories.signed_in("vendor")
    r = await s.bid(client, tender["id"], late, "700000.00")
    assert (r.status_code, r.json()["code"]) == (409, "bid_deadline_passed")
    row = await db.fetchrow("SELECT status, opened_at FROM tenders WHERE id = $1", tender["id"])
    assert row["status"] == "evaluating" and row["opened_at"] is not None
    url = f"{API}/{tender['id']}/bids/{bids[0]['id']}"
    r = await client.patch(url, json={"price": "1.00"}, headers=factories.if_match(vendors[0], bids[0]))
    assert r.json()["code"] == "bid_deadline_passed"
    r = await client.post(f"{url}/withdraw", headers=vendors[0].headers)
    assert r.json()["code"] == "bid_deadline_passed"
    assert {b["status"] for b in (await client.get(f"{API}/{tender['id']}/bids", headers=w.bureau.headers)).json()["items"]} == {"valid"}


async def test_opening_checks_eligibility_again_and_stores_the_result(client):
    w = await s.world()
    tender = await s.published_tender(client, w)
    vendors = await factories.many_signed_in("vendor", 4)
    for i, v in enumerate(vendors):
        assert (await s.bid(client, tender["id"], v, f"{800000 + i}.00")).status_code == 201
    deadline_day = tender["bid_deadline"][:10]
    await s.credit_list(client, w.admin, vendors[0], deadline_day)
    await s.pass_deadline(client, w, tender)
    bids = (await client.get(f"{API}/{tender['id']}/bids", headers=w.bureau.headers)).json()["items"]
    by_vendor = {b["vendor_id"]: b for b in bids}
    listed = by_vendor[str(vendors[0].organisation_id)]
    assert listed["status"] == "invalid" and "not eligible at opening" in listed["invalid_reason"]
    assert listed["eligibility_at_submission"]["eligible"] is True
    assert listed["eligibility_at_opening"]["eligible"] is False
    assert listed["eligibility_at_opening"]["reasons"][0]["code"] == "credit_list_entry_active"
    assert sorted(b["status"] for b in bids) == ["invalid", "valid", "valid", "valid"]
    tender_now = (await client.get(f"{API}/{tender['id']}", headers=w.bureau.headers)).json()
    assert tender_now["status"] == "evaluating" and tender_now["bids_sealed"] is False


async def test_fewer_than_three_valid_bids_fail_the_tender_and_release_the_budget(client):
    w = await s.world("5000000.00")
    tender = await s.published_tender(client, w)
    for v in await factories.many_signed_in("vendor", 2):
        await s.bid(client, tender["id"], v, "800000.00")
    await s.pass_deadline(client, w, tender)
    read = (await client.get(f"{API}/{tender['id']}", headers=w.bureau.headers)).json()
    assert (read["status"], read["failure_reason"]) == ("failed", "insufficient_bids")
    line = (await client.get(f"/api/v1/budget-lines/{w.line_id}", headers=w.bureau.headers)).json()
    assert (line["reserved"], line["available"]) == ("0.00", "5000000.00")


async def test_a_consultation_goes_on_with_two_bids(client):
    w = await s.world()
    tender = await s.published_tender(client, w, days=12, method="competitive_consultation")
    for v in await factories.many_signed_in("vendor", 2):
        await s.bid(client, tender["id"], v, "800000.00")
    await s.pass_deadline(client, w, tender)
    assert (await client.get(f"{API}/{tender['id']}", headers=w.bureau.headers)).json()["status"] == "evaluating"


async def test_after_the_opening_bidders_see_names_and_prices_but_only_their_own_proposal(client):
    w = await s.world()
    tender = await s.published_tender(client, w)
    bidders = await factories.many_signed_in("vendor", 4, name_prefix="社工机构")
    outsider = await factories.signed_in("vendor")
    for i, v in enumerate(bidders):
        await s.bid(client, tender["id"], v, f"{810000 + i * 10000}.00", f"proposal of bidder {i}")
    withdrawn = (await client.get(f"{API}/{tender['id']}/bids", headers=bidders[3].headers)).json()["items"][0]
    await client.post(f"{API}/{tender['id']}/bids/{withdrawn['id']}/withdraw", headers=bidders[3].headers)
    await s.pass_deadline(client, w, tender)
    r = await client.get(f"{API}/{tender['id']}/bids", headers=bidders[0].headers)
    items = r.json()["items"]
    assert len(items) == 3  # the withdrawn bid is not read out
    assert sorted(b["price"] for b in items) == ["810000.00", "820000.00", "830000.00"]
    assert all(b["vendor_name"].startswith("社工机构") for b in items)
    assert "proposal of bidder 0" in r.text
    assert "proposal of bidder 1" not in r.text and "proposal of bidder 2" not in r.text
    assert "proposal of bidder 3" not in r.text
    other = next(b for b in items if b["vendor_id"] != str(bidders[0].organisation_id))
    one = await client.get(f"{API}/{tender['id']}/bids/{other['id']}", headers=bidders[0].headers)
    assert one.status_code == 200 and one.json()["proposal"] is None and one.json()["price"] == other["price"]
    assert (await client.get(f"{API}/{tender['id']}/bids", headers=outsider.headers)).json()["items"] == []
    assert (await client.get(f"{API}/{tender['id']}/bids/{other['id']}", headers=outsider.headers)).status_code == 404
    bureau_view = await client.get(f"{API}/{tender['id']}/bids", headers=w.bureau.headers)
    assert all(f"proposal of bidder {i}" in bureau_view.text for i in range(4))


async def test_a_worker_opens_due_tenders_and_skips_none(client):
    w = await s.world("50000000.00")
    tenders = [await s.published_tender(client, w) for _ in range(3)]
    for tender in tenders:
        for v in await factories.many_signed_in("vendor", 3):
            await s.bid(client, tender["id"], v, "700000.00")
    await s.pass_deadline(client, w, tenders[-1])
    assert await procurement_service.open_due_tenders() == 3
    assert await procurement_service.open_due_tenders() == 0
    statuses = await db.fetch("SELECT status FROM tenders WHERE id = ANY($1::uuid[])", [t["id"] for t in tenders])
    assert {r["status"] for r in statuses} == {"evaluating"}


async def test_a_list_read_after_the_deadline_shows_the_tender_opened(client):
    w = await s.world()
    tender = await s.published_tender(client, w)
    await s.pass_deadline(client, w, tender)
    listed = (await client.get(API, params={"status": "failed"}, headers=w.bureau.headers)).json()["items"]
    assert [t["id"] for t in listed] == [tender["id"]]


async def test_the_audit_log_keeps_a_digest_of_a_sealed_bid_never_its_price(client):
    w = await s.world()
    tender = await s.published_tender(client, w)
    vendor = await factories.signed_in("vendor")
    bid = (await s.bid(client, tender["id"], vendor, "876543.21", "SECRET-PROPOSAL")).json()
    events = await client.get("/api/v1/audit-events", params={"entity_type": "bid"}, headers=w.admin.headers)
    assert events.status_code == 200 and bid["content_digest"] in events.text
    assert "876543" not in events.text and "SECRET-PROPOSAL" not in events.text
    # The digest covers nonce, price and proposal, so the opened bid can be proved the sealed one.
    import hashlib

    expected = hashlib.sha256(f"{bid['seal_nonce']}|876543.21|SECRET-PROPOSAL".encode()).hexdigest()
    assert expected == bid["content_digest"]
