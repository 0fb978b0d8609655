"""The panel drawn at random for every method, bid review before scoring, challenges with their
remedies, complaints to the regulator and the suspension of a procurement."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from uuid import UUID, uuid4

from govbuy import clock
from govbuy import database as db
from procurement import rules
from tests import factories
from tests.procurement import support as s

API = "/api/v1/tenders"
LOWEST_PRICE = dict(evaluation_method="lowest_price", price_weight=None, criteria=[])
INQUIRY = dict(days=10, method="inquiry", **LOWEST_PRICE)
PRICES = ["500000.00", "480000.00", "490000.00"]


async def award(client, w, tender_id):
    return await client.post(f"{API}/{tender_id}/award", headers=w.bureau.headers)


# --- the panel -------------------------------------------------------------------------------


async def test_a_lowest_price_award_needs_a_panel(client):
    w = await s.world()
    tender, _, _ = await s.opened_tender(client, w, PRICES, review=False, **LOWEST_PRICE)
    r = await award(client, w, tender["id"])
    assert (r.status_code, r.json()["code"]) == (409, "panel_required")
    assert (await client.get(f"{API}/{tender['id']}", headers=w.bureau.headers)).json()["status"] == "evaluating"


async def test_an_inquiry_award_needs_a_panel(client):
    w = await s.world()
    tender, _, _ = await s.opened_tender(client, w, PRICES, review=False, **INQUIRY)
    r = await award(client, w, tender["id"])
    assert (r.status_code, r.json()["code"]) == (409, "panel_required")
    await s.draw_panel(client, w, tender)
    r = await award(client, w, tender["id"])
    assert (r.status_code, r.json()["code"]) == (409, "bid_not_reviewed")


async def test_the_draw_excludes_affiliated_experts_and_replays_to_the_same_panel_from_its_record(client):
    w = await s.world()
    tender, vendors, _ = await s.opened_tender(client, w, PRICES, review=False)
    pool = await factories.many_signed_in("expert", 7)
    to_bidder, to_bureau = pool[0], pool[1]
    for expert, org in ((to_bidder, vendors[2].organisation_id), (to_bureau, w.bureau.organisation_id)):
        r = await client.put(f"/api/v1/experts/{expert.id}/affiliations", json={"organisation_ids": [str(org)]},
                             headers=w.admin.headers)
        assert r.status_code == 200
    r = await client.post(f"{API}/{tender['id']}/panel/draw", json={"size": 5}, headers=w.bureau.headers)
    assert r.status_code == 200, r.text
    panel = r.json()
    drawn = {e["user_id"] for e in panel["experts"]}
    assert drawn == {str(e.id) for e in pool[2:]} and panel["selection"] == "drawn"
    [record] = panel["draws"]
    assert {x["expert_user_id"]: x["reason"] for x in record["excluded"]} == {
        str(to_bidder.id): "affiliated with a bidder", str(to_bureau.id): "affiliated with the purchaser"
    }
    assert str(to_bidder.id) not in record["candidates"] and record["replay_matches"] is True
    # Replayed from the audit log's record alone: the same experts in the same order.
    event = await db.fetchrow(
        "SELECT after FROM audit_events WHERE action = 'tender.panel_drawn' AND entity_id = $1", tender["id"]
    )
    logged = event["after"]
    assert logged["seed"] == record["seed"] and len(logged["seed"]) == 64
    replayed = rules.draw_experts(logged["seed"], [UUID(c) for c in logged["candidates"]], len(logged["drawn"]))
    assert [str(e) for e in replayed] == logged["drawn"] == record["drawn"]
    # A panel is drawn once: no redraw until the result suits.
    again = await client.post(f"{API}/{tender['id']}/panel/draw", json={"size": 5}, headers=w.bureau.headers)
    assert (again.status_code, again.json()["code"]) == (409, "panel_already_drawn")


def test_a_draw_depends_only_on_its_seed_and_candidates():
    candidates = [uuid4() for _ in range(40)]
    shuffled = random.Random(7).sample(candidates, len(candidates))
    seed = "a" * 64
    assert rules.draw_experts(seed, candidates, 5) == rules.draw_experts(seed, shuffled, 5)
    assert rules.draw_experts(seed, candidates, 5) != rules.draw_experts("b" * 64, candidates, 5)
    # every candidate is drawn about as often as any other over many seeds
    counts = {c: 0 for c in candidates[:10]}
    for i in range(2000):
        for c in rules.draw_experts(f"{i:064x}", candidates[:10], 3):
            counts[c] += 1
    assert min(counts.values()) > 450 and max(counts.values()) < 750  # 600 expected each


def test_the_panel_make_up_follows_the_method():
    assert rules.minimum_panel_size("public_tender", "1000000") == 5
    assert rules.minimum_panel_size("invited_tender", "12000000") == 7
    assert rules.minimum_panel_size("inquiry") == 3
    assert rules.experts_to_draw("public_tender", 5, 1, "1000000") == 4
    for size, reps, code in ((4, 0, "invalid_panel_size"), (5, 2, "too_few_experts"), (3, 0, "invalid_panel_size")):
        try:
            rules.experts_to_draw("public_tender", size, reps, "1000000")
        except rules.RuleViolation as e:
            assert e.code == code
        else:
            raise AssertionError((size, reps))


async def test_a_withdrawn_expert_is_replaced_by_a_draw_that_excludes_it(client):
    w = await s.world()
    tender, _, _ = await s.opened_tender(client, w, PRICES, review=False, **INQUIRY)
    experts = await s.draw_panel(client, w, tender)
    await factories.many_signed_in("expert", 2)
    r = await client.post(f"{API}/{tender['id']}/panel/replace",
                          json={"expert_user_id": str(experts[0].id), "reason": "与投标人存在利害关系，申请回避"},
                          headers=w.bureau.headers)
    assert r.status_code == 200, r.text
    members = {e["user_id"] for e in r.json()["experts"]}
    assert str(experts[0].id) not in members and len(members) == 3
    replacement = r.json()["draws"][-1]
    assert replacement["kind"] == "replacement" and replacement["replay_matches"] is True
    assert str(experts[0].id) not in replacement["candidates"]


async def test_a_hand_picked_panel_needs_its_reason(client):
    w = await s.world()
    tender, _, _ = await s.opened_tender(client, w, PRICES, review=False, **INQUIRY)
    experts = await factories.many_signed_in("expert", 3)
    body = {"expert_user_ids": [str(e.id) for e in experts]}
    r = await client.put(f"{API}/{tender['id']}/panel", json=body, headers=w.bureau.headers)
    assert (r.status_code, r.json()["code"]) == (422, "panel_reason_required")
    r = await client.put(f"{API}/{tender['id']}/panel", json={**body, "reason": "技术复杂，经主管预算单位同意自行选定"},
                         headers=w.bureau.headers)
    assert r.status_code == 200 and r.json()["selection"] == "hand_picked"
    supervisor = await factories.signed_in("supervisor")
    seen = (await client.get(f"{API}/{tender['id']}/panel", headers=supervisor.headers)).json()
    assert seen["draws"][0]["reason"] == "技术复杂，经主管预算单位同意自行选定"


# --- review ----------------------------------------------------------------------------------


async def test_an_unreviewed_bid_cannot_be_scored(client):
    w = await s.world()
    tender, _, bids = await s.opened_tender(client, w, PRICES, review=False)
    experts = await s.draw_panel(client, w, tender)
    sheet = {"服务方案": "30", "团队与经验": "20"}
    r = await s.score(client, experts[0], tender["id"], bids[0]["id"], sheet)
    assert (r.status_code, r.json()["code"]) == (409, "bid_not_reviewed")
    early = await s.review(client, experts[0], tender["id"], bids[0]["id"])
    assert (early.status_code, early.json()["code"]) == (409, "bid_not_reviewed")  # qualification first
    assert (await s.review(client, w.bureau, tender["id"], bids[0]["id"])).json()["review_status"] == "pending"
    r = await s.score(client, experts[0], tender["id"], bids[0]["id"], sheet)
    assert (r.status_code, r.json()["code"]) == (409, "bid_not_reviewed")
    assert (await s.review(client, experts[0], tender["id"], bids[0]["id"])).json()["review_status"] == "responsive"
    assert (await s.score(client, experts[0], tender["id"], bids[0]["id"], sheet)).status_code == 200


async def test_a_vendor_reviews_nothing_and_a_non_responsive_bid_is_not_scored_and_says_why(client):
    w = await s.world()
    tender, vendors, bids = await s.opened_tender(client, w, ["800000.00", "810000.00", "820000.00", "830000.00"], review=False)
    experts = await s.draw_panel(client, w, tender)
    assert (await s.review(client, vendors[0], tender["id"], bids[0]["id"])).status_code == 403
    r = await s.review(client, w.bureau, tender["id"], bids[3]["id"], False, "未提供有效的社会组织登记证书")
    assert r.json()["review_status"] == "non_responsive" and r.json()["tender_status"] == "evaluating"
    r = await s.score(client, experts[0], tender["id"], bids[3]["id"], {"服务方案": "30", "团队与经验": "20"})
    assert (r.status_code, r.json()["code"]) == (409, "bid_not_responsive")
    own = (await client.get(f"{API}/{tender['id']}/bids/{bids[3]['id']}", headers=vendors[3].headers)).json()
    assert own["review_status"] == "non_responsive" and own["reviews"][0]["reason"] == "未提供有效的社会组织登记证书"


async def test_reviews_leaving_too_few_responsive_bids_fail_the_tender_and_release_its_reservation(client):
    w = await s.world("5000000.00")
    tender, _, bids = await s.opened_tender(client, w, PRICES, review=False, **LOWEST_PRICE)
    experts = await s.draw_panel(client, w, tender)
    await s.review(client, w.bureau, tender["id"], bids[0]["id"])
    r = await s.review(client, experts[0], tender["id"], bids[0]["id"], False, "服务方案未响应实质性要求")
    assert r.json()["tender_status"] == "failed"
    read = (await client.get(f"{API}/{tender['id']}", headers=w.bureau.headers)).json()
    assert (read["status"], read["failure_reason"]) == ("failed", "insufficient_bids")
    line = (await client.get(f"/api/v1/budget-lines/{w.line_id}", headers=w.bureau.headers)).json()
    assert line["available"] == "5000000.00"


# --- challenges and their remedies --------------------------------------------------------------


async def challenge(client, tender_id, vendor, **body):
    r = await client.post(f"{API}/{tender_id}/challenges", json={"grounds": "质疑事项及事实依据", **body}, headers=vendor.headers)
    assert r.status_code == 201, r.text
    return r.json()


async def resolve(client, w, tender_id, challenge_id, outcome, **body):
    return await client.post(f"{API}/{tender_id}/challenges/{challenge_id}/resolve",
                             json={"outcome": outcome, "reply": "经复核，答复如下", **body}, headers=w.bureau.headers)


async def test_an_upheld_result_challenge_on_the_winner_awards_the_runner_up(client):
    w = await s.world()
    tender, vendors, bids = await s.opened_tender(client, w, ["500000.00", "480000.00", "490000.00", "495000.00"], **LOWEST_PRICE)
    first = (await award(client, w, tender["id"])).json()
    assert first["vendor_id"] == str(vendors[1].organisation_id)
    c = await challenge(client, tender["id"], vendors[2], grounds="中标人提供的业绩材料虚假")
    assert c["concerned_bid_ids"] == [bids[1]["id"]] and c["kind"] == "result"
    r = await resolve(client, w, tender["id"], c["id"], "upheld")
    assert r.status_code == 200, r.text
    assert r.json()["remedy"] == "next_candidate" and r.json()["remedy_effect"]["tender_status"] == "awarded"
    second = (await client.get(f"{API}/{tender['id']}/award", headers=w.bureau.headers)).json()
    assert second["id"] != first["id"] and second["vendor_id"] == str(vendors[2].organisation_id)
    assert [line["price"] for line in second["ranking"]] == ["490000.00", "495000.00", "500000.00"]
    out = {b["vendor_id"]: b for b in second["bidders"]}[str(vendors[1].organisation_id)]
    assert out["review_status"] == "non_responsive" and out["non_responsive_reason"] == "经复核，答复如下"


async def test_an_upheld_challenge_leaving_two_responsive_bids_fails_a_public_tender(client):
    w = await s.world("5000000.00")
    tender, vendors, _ = await s.opened_tender(client, w, PRICES, **LOWEST_PRICE)
    await award(client, w, tender["id"])
    c = await challenge(client, tender["id"], vendors[0])
    r = await resolve(client, w, tender["id"], c["id"], "upheld")
    assert r.status_code == 200 and r.json()["remedy_effect"]["tender_status"] == "failed"
    read = (await client.get(f"{API}/{tender['id']}", headers=w.bureau.headers)).json()
    assert (read["status"], read["failure_reason"]) == ("failed", "insufficient_bids")
    assert (await client.get(f"{API}/{tender['id']}/award", headers=w.bureau.headers)).json()["status"] == "voided"
    line = (await client.get(f"/api/v1/budget-lines/{w.line_id}", headers=w.bureau.headers)).json()
    assert line["available"] == "5000000.00"


async def test_an_upheld_documents_challenge_cancels_the_tender_to_tender_again(client):
    w = await s.world("5000000.00")
    tender = await s.published_tender(client, w)
    vendor = await factories.signed_in("vendor")
    c = await challenge(client, tender["id"], vendor, kind="documents", grounds="评分标准设置了地域限制，构成差别待遇")
    assert c["reply_overdue"] is False
    r = await resolve(client, w, tender["id"], c["id"], "upheld", remedy="next_candidate")
    assert (r.status_code, r.json()["code"]) == (422, "remedy_not_allowed")
    r = await resolve(client, w, tender["id"], c["id"], "upheld")
    assert r.status_code == 200 and r.json()["remedy"] == "cancel"
    read = (await client.get(f"{API}/{tender['id']}", headers=w.bureau.headers)).json()
    assert read["status"] == "cancelled" and c["id"] in read["cancel_reason"]


async def test_an_unanswered_challenge_shows_overdue_on_the_tender(client):
    w = await s.world()
    tender = await s.published_tender(client, w, days=40)
    vendor = await factories.signed_in("vendor")
    c = await challenge(client, tender["id"], vendor, kind="documents")
    await s.advance_past(client, w.admin, c["reply_due"])
    read = (await client.get(f"{API}/{tender['id']}", headers=w.bureau.headers)).json()
    assert read["challenge_reply_overdue"] is True
    await s.advance_past(client, w.admin, c["window_end"])
    late = await client.post(f"{API}/{tender['id']}/challenges", json={"grounds": "x", "kind": "documents"},
                             headers=(await factories.signed_in("vendor")).headers)
    assert (late.status_code, late.json()["code"]) == (409, "challenge_window_closed")


async def test_a_process_challenge_names_a_step_that_took_place(client):
    w = await s.world()
    tender, vendors, _ = await s.opened_tender(client, w, PRICES, review=False, **INQUIRY)
    r = await client.post(f"{API}/{tender['id']}/challenges", json={"grounds": "x", "kind": "process", "step": "panel"},
                          headers=vendors[0].headers)
    assert (r.status_code, r.json()["code"]) == (409, "step_not_taken")
    c = await challenge(client, tender["id"], vendors[0], kind="process", step="opening", grounds="开标程序违规")
    assert c["step"] == "opening"


# --- complaints and suspension -------------------------------------------------------------------


async def regulator_of(w) -> factories.SignedIn:
    region = await db.fetchval("SELECT region_code FROM organisations WHERE id = $1", w.bureau.organisation_id)
    org = await factories.organisation("bureau", "市财政局政府采购监督管理处", region_code=region)
    return await factories.signed_in("regulator", org)


async def complaint_about(client, tender_id, vendor, challenge_id):
    return await client.post("/api/v1/complaints", json={"challenge_id": challenge_id, "grounds": "对质疑答复不满意"},
                             headers=vendor.headers)


async def suspended_by_complaint(client, w, tender, vendor, **challenge_body):
    c = await challenge(client, tender["id"], vendor, **challenge_body)
    assert (await resolve(client, w, tender["id"], c["id"], "dismissed")).status_code == 200
    r = await complaint_about(client, tender["id"], vendor, c["id"])
    assert r.status_code == 201, r.text
    regulator = await regulator_of(w)
    r = await client.post(f"/api/v1/complaints/{r.json()['id']}/suspend", json={"reason": "投诉事项可能影响采购结果"},
                          headers=regulator.headers)
    assert r.status_code == 200 and r.json()["suspended"] is True, r.text
    return regulator, r.json()


async def test_a_suspended_procurement_is_not_opened_until_resumed(client):
    w = await s.world()
    tender = await s.published_tender(client, w)
    vendors = await factories.many_signed_in("vendor", 3)
    for v, price in zip(vendors, PRICES):
        assert (await s.bid(client, tender["id"], v, price)).status_code == 201
    regulator, complaint = await suspended_by_complaint(client, w, tender, vendors[0], kind="documents")
    await s.pass_deadline(client, w, tender)
    read = (await client.get(f"{API}/{tender['id']}", headers=w.bureau.headers)).json()
    assert (read["status"], read["bids_sealed"]) == ("published", True) and read["suspended_until"]
    r = await client.get(f"{API}/{tender['id']}/bids", headers=w.bureau.headers)
    assert (r.status_code, r.json()["code"]) == (409, "bids_sealed")
    r = await client.post(f"/api/v1/complaints/{complaint['id']}/resume", headers=regulator.headers)
    assert r.status_code == 200 and r.json()["suspended"] is False
    assert (await client.get(f"{API}/{tender['id']}", headers=w.bureau.headers)).json()["status"] == "evaluating"


async def test_a_suspended_procurement_refuses_review_and_award(client):
    w = await s.world()
    tender, vendors, bids = await s.opened_tender(client, w, PRICES, review=False, **INQUIRY)
    experts = await s.draw_panel(client, w, tender)
    await suspended_by_complaint(client, w, tender, vendors[0], kind="process", step="opening")
    r = await s.review(client, w.bureau, tender["id"], bids[0]["id"])
    assert (r.status_code, r.json()["code"]) == (409, "procurement_suspended")
    r = await s.review(client, experts[0], tender["id"], bids[0]["id"])
    assert (r.status_code, r.json()["code"]) == (409, "procurement_suspended")
    r = await award(client, w, tender["id"])
    assert (r.status_code, r.json()["code"]) == (409, "procurement_suspended")


async def test_a_suspended_procurement_refuses_an_award_and_a_contract(client):
    w = await s.world()
    tender, vendors, _ = await s.opened_tender(client, w, PRICES, **INQUIRY)
    first = (await award(client, w, tender["id"])).json()
    await suspended_by_complaint(client, w, tender, vendors[0])
    await s.advance_past(client, w.admin, first["standstill_until"])
    r = await client.post("/api/v1/contracts", json={"tender_id": tender["id"], "start_date": str(await s.today(client, w.admin))},
                          headers=w.bureau.headers)
    assert (r.status_code, r.json()["code"]) == (409, "procurement_suspended")
    r = await award(client, w, tender["id"])
    assert (r.status_code, r.json()["code"]) == (409, "procurement_suspended")


async def test_a_suspended_procurement_refuses_a_payment(client):
    award_, contract = await factories.contract_from_award(client)
    milestone = contract["milestones"][0]
    await factories.accepted_evaluation(client, award_, contract["id"], milestone["id"], "95")
    # the tender's last challenge was answered on the day of the award notice
    challenge_id = uuid4()
    now = await clock.now()
    vendor_user = await db.fetchval("SELECT id FROM users WHERE organisation_id = $1 LIMIT 1", award_.bidder_org_ids[1])
    await db.execute(
        """INSERT INTO tender_challenges (id, tender_id, vendor_id, filed_by, grounds, status, reply, filed_at, reply_due,
               resolved_at, kind, step)
           VALUES ($1, $2, $3, $4, '开标过程违规', 'dismissed', '不成立', $5, $6, $5, 'process', 'opening')""",
        challenge_id, award_.tender_id, award_.bidder_org_ids[1], vendor_user, now, now + timedelta(days=1),
    )
    vendor = await factories.signed_in("vendor", award_.bidder_org_ids[1])
    r = await complaint_about(client, award_.tender_id, vendor, str(challenge_id))
    assert r.status_code == 201, r.text
    bureau_region = await db.fetchval("SELECT region_code FROM organisations WHERE id = $1", award_.bureau.organisation_id)
    regulator = await factories.signed_in("regulator", await factories.organisation("bureau", region_code=bureau_region))
    assert (await client.post(f"/api/v1/complaints/{r.json()['id']}/suspend", json={"reason": "暂停"},
                              headers=regulator.headers)).status_code == 200
    await factories.advance_past((await db.fetchval(
        "SELECT max(appeal_deadline) FROM evaluations WHERE milestone_id = $1", UUID(milestone["id"]))))
    r = await client.post(f"/api/v1/contracts/{contract['id']}/milestones/{milestone['id']}/payments",
                          headers={**award_.bureau.headers, "Idempotency-Key": "pay-1"})
    assert (r.status_code, r.json()["code"]) == (409, "procurement_suspended")


async def test_a_complaint_on_the_sixteenth_working_day_is_refused(client):
    w = await s.world()
    tender, vendors, _ = await s.opened_tender(client, w, PRICES, **INQUIRY)
    await award(client, w, tender["id"])
    early = await challenge(client, tender["id"], vendors[0])
    late = await challenge(client, tender["id"], vendors[2])
    for c in (early, late):
        assert (await resolve(client, w, tender["id"], c["id"], "dismissed")).status_code == 200
    end = rules.complaint_window_end("dismissed", datetime.fromisoformat(late["reply_due"]), await clock.now(), await clock.load_calendar())
    assert rules.last_day(end) > rules.last_day(datetime.fromisoformat(late["reply_due"]))
    await s.advance_past(client, w.admin, end, seconds=-2)  # the last seconds of the 15th working day
    assert (await complaint_about(client, tender["id"], vendors[0], early["id"])).status_code == 201
    await s.advance(client, w.admin, seconds=3)  # 00:00:01 of the next day
    r = await complaint_about(client, tender["id"], vendors[2], late["id"])
    assert (r.status_code, r.json()["code"]) == (409, "complaint_window_closed")


async def test_the_regulator_of_another_region_sees_nothing_and_decides_nothing(client):
    w = await s.world()
    tender, vendors, _ = await s.opened_tender(client, w, PRICES, **INQUIRY)
    await award(client, w, tender["id"])
    c = await challenge(client, tender["id"], vendors[0])
    await resolve(client, w, tender["id"], c["id"], "dismissed")
    complaint = (await complaint_about(client, tender["id"], vendors[0], c["id"])).json()
    elsewhere = await factories.signed_in("regulator", await factories.organisation("bureau", region_code="650100"))
    assert (await client.get(f"/api/v1/complaints/{complaint['id']}", headers=elsewhere.headers)).status_code == 404
    assert (await client.post(f"/api/v1/complaints/{complaint['id']}/accept", headers=elsewhere.headers)).status_code == 404
    assert (await client.get(f"{API}/{tender['id']}", headers=elsewhere.headers)).status_code == 404
    regulator = await regulator_of(w)
    assert (await client.get(f"{API}/{tender['id']}", headers=regulator.headers)).status_code == 200
    r = await client.post(f"/api/v1/complaints/{complaint['id']}/decide",
                          json={"outcome": "dismissed", "decision": "投诉缺乏事实依据，驳回"}, headers=regulator.headers)
    assert (r.status_code, r.json()["code"]) == (409, "invalid_status_transition")  # accepted first
    assert (await client.post(f"/api/v1/complaints/{complaint['id']}/accept", headers=regulator.headers)).status_code == 200
    r = await client.post(f"/api/v1/complaints/{complaint['id']}/decide",
                          json={"outcome": "dismissed", "decision": "投诉缺乏事实依据，驳回"}, headers=regulator.headers)
    assert r.status_code == 200 and r.json()["status"] == "decided"


async def test_an_upheld_complaint_concerns_only_bids_ranked_in_the_award_challenged(client):
    w = await s.world()
    tender, vendors, bids = await s.opened_tender(client, w, ["500000.00", "480000.00", "490000.00", "495000.00"],
                                                  **LOWEST_PRICE)
    await award(client, w, tender["id"])
    c = await challenge(client, tender["id"], vendors[0])
    await resolve(client, w, tender["id"], c["id"], "dismissed")
    complaint = (await complaint_about(client, tender["id"], vendors[0], c["id"])).json()
    regulator = await regulator_of(w)
    assert (await client.post(f"/api/v1/complaints/{complaint['id']}/accept", headers=regulator.headers)).status_code == 200
    stray = str(uuid4())
    r = await client.post(f"/api/v1/complaints/{complaint['id']}/decide",
                          json={"outcome": "upheld", "decision": "投诉成立", "concerned_bid_ids": [stray]},
                          headers=regulator.headers)
    assert (r.status_code, r.json()["code"]) == (422, "invalid_concerned_bids")
    assert r.json()["errors"] == [{"field": "concerned_bid_ids", "message": f"{stray} is not ranked"}]
    read = (await client.get(f"/api/v1/complaints/{complaint['id']}", headers=regulator.headers)).json()
    assert read["status"] == "accepted"  # nothing decided, nothing remedied
    assert (await client.get(f"{API}/{tender['id']}/award", headers=w.bureau.headers)).json()["status"] == "active"


async def test_a_challenge_is_a_public_notice_once_answered_and_not_before(client):
    w = await s.world()
    tender = await s.published_tender(client, w)
    vendor = await factories.signed_in("vendor")
    c = await challenge(client, tender["id"], vendor, kind="documents", grounds="资格条件设置了注册地限制")
    assert (await client.get(f"/api/v1/public/notices/{c['id']}")).status_code == 404
    listed = (await client.get("/api/v1/public/notices", params={"tender_id": tender["id"]})).json()["items"]
    assert [n["type"] for n in listed] == ["tender"]
    await resolve(client, w, tender["id"], c["id"], "dismissed")
    notice = (await client.get(f"/api/v1/public/notices/{c['id']}")).json()
    assert (notice["type"], notice["outcome"], notice["subject"]) == ("challenge_reply", "dismissed", "资格条件设置了注册地限制")
    assert notice["party"]["id"] == str(vendor.organisation_id) and notice["due_at"] == c["reply_due"]
