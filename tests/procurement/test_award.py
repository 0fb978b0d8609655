"""The panel (评标委员会), experts' scores, the award notice and its standstill, challenges
(质疑), and what the contracts domain reads of an award."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from govbuy.errors import NotFound
from govbuy.rules import SHANGHAI, RuleViolation
from planning import service as planning_service
from procurement import service as procurement_service
from tests import factories
from tests.procurement import support as s

API = "/api/v1/tenders"
FULL = {"服务方案": "40", "团队与经验": "30"}
HAND_PICKED = "技术复杂、专业性强，随机抽取难以确定合适的评审专家（87号令第48条）"
LOWEST_PRICE = dict(days=10, method="inquiry", evaluation_method="lowest_price", price_weight=None, criteria=[])


async def scored_tender(client, w, prices):
    tender, vendors, bids = await s.opened_tender(client, w, prices)
    experts = await s.appoint_panel(client, w, tender["id"])
    for expert in experts:
        for bid in bids:
            assert (await s.score(client, expert, tender["id"], bid["id"], FULL)).status_code == 200
    return tender, vendors, bids, experts


async def test_the_panel_is_appointed_only_after_the_opening(client):
    w = await s.world()
    tender = await s.published_tender(client, w)
    experts = await factories.many_signed_in("expert", 5)
    r = await client.put(f"{API}/{tender['id']}/panel", json={"expert_user_ids": [str(e.id) for e in experts], "reason": HAND_PICKED}, headers=w.bureau.headers)
    assert (r.status_code, r.json()["code"]) == (409, "tender_not_evaluating")


async def test_a_public_tender_panel_needs_an_odd_five_or_more_real_experts(client):
    w = await s.world()
    tender, _, _ = await s.opened_tender(client, w, ["800000.00", "810000.00", "820000.00"], review=False)
    experts = await factories.many_signed_in("expert", 5)
    four = [str(e.id) for e in experts[:4]]
    r = await client.put(f"{API}/{tender['id']}/panel", json={"expert_user_ids": four, "reason": HAND_PICKED}, headers=w.bureau.headers)
    assert (r.status_code, r.json()["code"]) == (422, "invalid_panel_size")
    not_expert = await factories.signed_in("supervisor")
    r = await client.put(
        f"{API}/{tender['id']}/panel", json={"expert_user_ids": four + [str(not_expert.id)], "reason": HAND_PICKED}, headers=w.bureau.headers
    )
    assert r.json()["code"] == "expert_not_found"
    r = await client.put(f"{API}/{tender['id']}/panel", json={"expert_user_ids": [str(e.id) for e in experts], "reason": HAND_PICKED}, headers=w.bureau.headers)
    assert r.status_code == 200 and len(r.json()["experts"]) == 5


async def test_an_expert_affiliated_with_a_bidder_may_not_sit_or_score(client):
    w = await s.world()
    tender, vendors, bids = await s.opened_tender(client, w, ["800000.00", "810000.00", "820000.00"], review=False)
    experts = await factories.many_signed_in("expert", 5)
    url = f"/api/v1/experts/{experts[0].id}/affiliations"
    body = {"organisation_ids": [str(vendors[1].organisation_id)]}
    assert (await client.put(url, json=body, headers=w.bureau.headers)).status_code == 403
    r = await client.put(url, json=body, headers=w.admin.headers)
    assert r.status_code == 200 and r.json()["organisation_ids"] == [str(vendors[1].organisation_id)]
    assert (await client.get(url, headers=experts[0].headers)).json() == r.json()
    assert (await client.get(url, headers=experts[1].headers)).status_code == 404
    before = await s.count("tender_panel_members")
    r = await client.put(f"{API}/{tender['id']}/panel", json={"expert_user_ids": [str(e.id) for e in experts], "reason": HAND_PICKED}, headers=w.bureau.headers)
    assert (r.status_code, r.json()["code"]) == (422, "expert_conflict_of_interest")
    assert str(experts[0].id) in r.json()["detail"]
    assert await s.count("tender_panel_members") == before
    # An affiliation declared after the appointment stops the expert from scoring.
    await client.put(url, json={"organisation_ids": []}, headers=w.admin.headers)
    assert (await client.put(f"{API}/{tender['id']}/panel", json={"expert_user_ids": [str(e.id) for e in experts], "reason": HAND_PICKED}, headers=w.bureau.headers)).status_code == 200
    await s.review_all(client, w, tender, bids, experts)
    await client.put(url, json=body, headers=w.admin.headers)
    r = await s.score(client, experts[0], tender["id"], bids[0]["id"], FULL)
    assert (r.status_code, r.json()["code"]) == (422, "expert_conflict_of_interest")


async def test_experts_see_only_the_tenders_of_their_panel(client):
    w = await s.world()
    tender, _, bids = await s.opened_tender(client, w, ["800000.00", "810000.00", "820000.00"])
    outsider = await factories.signed_in("expert")
    assert (await client.get(f"{API}/{tender['id']}", headers=outsider.headers)).status_code == 404
    assert (await s.score(client, outsider, tender["id"], bids[0]["id"], FULL)).status_code == 404
    experts = await s.appoint_panel(client, w, tender["id"])
    listed = (await client.get(API, headers=experts[0].headers)).json()["items"]
    assert [t["id"] for t in listed] == [tender["id"]]
    seen = await client.get(f"{API}/{tender['id']}/bids", headers=experts[0].headers)
    assert seen.status_code == 200 and all(b["proposal"] for b in seen.json()["items"])
    assert (await client.get(API, headers=outsider.headers)).json()["items"] == []


async def test_a_score_sheet_covers_every_criterion_within_its_weight(client):
    w = await s.world()
    tender, _, bids = await s.opened_tender(client, w, ["800000.00", "810000.00", "820000.00"])
    experts = await s.appoint_panel(client, w, tender["id"])
    r = await s.score(client, experts[0], tender["id"], bids[0]["id"], {"服务方案": "41", "团队与经验": "30"})
    assert (r.status_code, r.json()["code"]) == (422, "invalid_scores")
    r = await s.score(client, experts[0], tender["id"], bids[0]["id"], {"服务方案": "40"})
    assert r.json()["code"] == "invalid_scores"
    r = await s.score(client, experts[0], tender["id"], bids[0]["id"], {"服务方案": "38.5", "团队与经验": "27"})
    assert r.status_code == 200 and r.json()["scores"] == {"服务方案": "38.5", "团队与经验": "27"}
    again = await s.score(client, experts[0], tender["id"], bids[0]["id"], {"服务方案": "39", "团队与经验": "27"})
    assert again.json()["version"] == 2
    # Once scoring has started the panel is fixed.
    others = await factories.many_signed_in("expert", 5)
    r = await client.put(f"{API}/{tender['id']}/panel", json={"expert_user_ids": [str(e.id) for e in others], "reason": HAND_PICKED}, headers=w.bureau.headers)
    assert (r.status_code, r.json()["code"]) == (409, "panel_locked")
    own = (await client.get(f"{API}/{tender['id']}/scores", headers=experts[1].headers)).json()
    assert own["items"] == []
    sheets = (await client.get(f"{API}/{tender['id']}/scores", headers=w.bureau.headers)).json()["items"]
    assert [(sheet["expert_user_id"], sheet["scores"]) for sheet in sheets] == [(str(experts[0].id), {"服务方案": "39", "团队与经验": "27"})]


async def test_the_award_notice_lists_every_opened_bid_with_its_credit_grade_at_opening(client):
    w = await s.world()
    tender = await s.published_tender(client, w, **LOWEST_PRICE)
    vendors = await factories.many_signed_in("vendor", 4)
    for v, price in zip(vendors, ["500000.00", "480000.00", "490000.00", "470000.00"]):
        await s.bid(client, tender["id"], v, price)
    await s.credit_list(client, w.admin, vendors[3], tender["bid_deadline"][:10])
    await s.pass_deadline(client, w, tender)
    bids = (await client.get(f"{API}/{tender['id']}/bids", headers=w.bureau.headers)).json()["items"]
    await s.review_all(client, w, tender, bids)
    award = (await client.post(f"{API}/{tender['id']}/award", headers=w.bureau.headers)).json()
    assert [line["price"] for line in award["ranking"]] == ["480000.00", "490000.00", "500000.00"]
    assert [(b["price"], b["valid"]) for b in award["bidders"]] == [
        ("470000.00", False), ("480000.00", True), ("490000.00", True), ("500000.00", True)
    ]


async def test_an_invalid_bid_is_not_scored(client):
    w = await s.world()
    tender = await s.published_tender(client, w)
    vendors = await factories.many_signed_in("vendor", 4)
    for v in vendors:
        await s.bid(client, tender["id"], v, "800000.00")
    await s.credit_list(client, w.admin, vendors[0], tender["bid_deadline"][:10])
    await s.pass_deadline(client, w, tender)
    bids = (await client.get(f"{API}/{tender['id']}/bids", params={"status": "invalid"}, headers=w.bureau.headers)).json()["items"]
    experts = await s.appoint_panel(client, w, tender["id"])
    r = await s.score(client, experts[0], tender["id"], bids[0]["id"], FULL)
    assert (r.status_code, r.json()["code"]) == (409, "bid_not_valid")


async def test_award_needs_every_score_and_publishes_the_ranking(client):
    w = await s.world()
    tender, vendors, bids = await s.opened_tender(client, w, ["800000.00", "750000.00", "900000.00"])
    experts = await s.appoint_panel(client, w, tender["id"])
    for expert in experts:
        for bid in bids[:2]:
            await s.score(client, expert, tender["id"], bid["id"], FULL)
    r = await client.post(f"{API}/{tender['id']}/award", headers=w.bureau.headers)
    assert (r.status_code, r.json()["code"]) == (409, "scoring_incomplete")
    for expert in experts:
        await s.score(client, expert, tender["id"], bids[2]["id"], FULL)
    r = await client.post(f"{API}/{tender['id']}/award", headers=w.bureau.headers)
    assert r.status_code == 200, r.text
    award = r.json()
    # Equal technical scores (70): price decides. 750000 gets 30; 800000: 750/800×30 = 28.125
    # → 28.13; 900000: 750/900×30 = 25.00.
    assert [(line["price"], line["price_score"], line["technical_score"], line["total_score"]) for line in award["ranking"]] == [
        ("750000.00", "30.00", "70.00", "100.00"),
        ("800000.00", "28.13", "70.00", "98.13"),
        ("900000.00", "25.00", "70.00", "95.00"),
    ]
    assert award["vendor_id"] == str(vendors[1].organisation_id) and award["price"] == "750000.00"
    tender_now = (await client.get(f"{API}/{tender['id']}", headers=vendors[0].headers)).json()
    assert tender_now["status"] == "awarded" and tender_now["standstill_until"] == award["standstill_until"]
    public = await client.get(f"{API}/{tender['id']}/award", headers=vendors[2].headers)
    assert public.status_code == 200 and "服务方案" not in public.text  # no expert's sheet in the notice


async def test_lowest_price_award_needs_no_panel(client):
    w = await s.world()
    tender, vendors, _ = await s.opened_tender(client, w, ["500000.00", "480000.00", "490000.00"], **LOWEST_PRICE)
    r = await client.post(f"{API}/{tender['id']}/award", headers=w.bureau.headers)
    assert r.status_code == 200, r.text
    assert [line["price"] for line in r.json()["ranking"]] == ["480000.00", "490000.00", "500000.00"]
    assert r.json()["ranking"][0]["total_score"] is None


async def test_the_standstill_is_the_notice_day_and_seven_working_days_by_the_recorded_calendar(client):
    w = await s.world()
    tender, _, _ = await s.opened_tender(client, w, ["500000.00", "480000.00", "490000.00"], **LOWEST_PRICE)
    award = (await client.post(f"{API}/{tender['id']}/award", headers=w.bureau.headers)).json()
    awarded_on = datetime.fromisoformat(award["awarded_at"]).astimezone(SHANGHAI).date()
    until = datetime.fromisoformat(award["standstill_until"]).astimezone(SHANGHAI)
    # 87号令 Art. 69 and 实施条例 Art. 53: 1 working day of notice, then 7 of 质疑, to 24:00
    assert (until.hour, until.minute) == (0, 0)
    last_day = until.date() - timedelta(days=1)
    working = []
    day = awarded_on
    while day < last_day:
        day += timedelta(days=1)
        answer = (await client.get(f"/api/v1/calendar/days/{day.isoformat()}", headers=w.bureau.headers)).json()
        working.append(answer["working_day"])
    assert working.count(True) == 8 and working[-1] is True
    assert award["standstill_last_day"] == str(last_day)
    years = {awarded_on.year, last_day.year}
    known = [(await client.get(f"/api/v1/calendar/{y}", headers=w.bureau.headers)).status_code == 200 for y in years]
    assert (award["calendar_warning"] is None) == all(known)


async def test_only_an_opened_bidder_challenges_and_only_during_the_standstill(client):
    w = await s.world()
    tender, vendors, _ = await s.opened_tender(client, w, ["500000.00", "480000.00", "490000.00"], **LOWEST_PRICE)
    outsider = await factories.signed_in("vendor")
    early = await client.post(f"{API}/{tender['id']}/challenges", json={"grounds": "未中标"}, headers=vendors[0].headers)
    assert (early.status_code, early.json()["code"]) == (409, "no_award_to_challenge")
    award = (await client.post(f"{API}/{tender['id']}/award", headers=w.bureau.headers)).json()
    r = await client.post(f"{API}/{tender['id']}/challenges", json={"grounds": "x"}, headers=outsider.headers)
    assert (r.status_code, r.json()["code"]) == (403, "not_a_bidder")
    r = await client.post(f"{API}/{tender['id']}/challenges", json={"grounds": "报价计算有误"}, headers=vendors[0].headers)
    assert r.status_code == 201 and r.json()["status"] == "pending"
    again = await client.post(f"{API}/{tender['id']}/challenges", json={"grounds": "再次质疑"}, headers=vendors[0].headers)
    assert again.json()["code"] == "challenge_already_pending"
    mine = (await client.get(f"{API}/{tender['id']}/challenges", headers=vendors[2].headers)).json()["items"]
    assert mine == []
    until = datetime.fromisoformat(award["standstill_until"])
    await s.advance(client, w.admin, seconds=int((until - await s.now(client, w.admin)).total_seconds()) + 1)
    late = await client.post(f"{API}/{tender['id']}/challenges", json={"grounds": "迟到"}, headers=vendors[2].headers)
    assert (late.status_code, late.json()["code"]) == (409, "standstill_over")


async def test_a_dismissed_challenge_keeps_the_award(client):
    w = await s.world()
    tender, vendors, _ = await s.opened_tender(client, w, ["500000.00", "480000.00", "490000.00"], **LOWEST_PRICE)
    award = (await client.post(f"{API}/{tender['id']}/award", headers=w.bureau.headers)).json()
    challenge = (await client.post(f"{API}/{tender['id']}/challenges", json={"grounds": "报价异常低"}, headers=vendors[0].headers)).json()
    url = f"{API}/{tender['id']}/challenges/{challenge['id']}/resolve"
    assert (await client.post(url, json={"outcome": "dismissed", "reply": "报价经核实合理"}, headers=vendors[0].headers)).status_code == 403
    r = await client.post(url, json={"outcome": "dismissed", "reply": "报价经核实合理"}, headers=w.bureau.headers)
    assert r.status_code == 200 and (r.json()["status"], r.json()["reply"]) == ("dismissed", "报价经核实合理")
    again = await client.post(url, json={"outcome": "upheld", "reply": "改判"}, headers=w.bureau.headers)
    assert again.json()["code"] == "challenge_already_resolved"
    still = (await client.get(f"{API}/{tender['id']}/award", headers=w.bureau.headers)).json()
    assert (still["id"], still["status"]) == (award["id"], "active")


async def test_cancelling_an_awarded_tender_voids_the_award_and_closes_its_challenges(client):
    w = await s.world("5000000.00")
    tender, vendors, _ = await s.opened_tender(client, w, ["500000.00", "480000.00", "490000.00"], **LOWEST_PRICE)
    award = (await client.post(f"{API}/{tender['id']}/award", headers=w.bureau.headers)).json()
    await client.post(f"{API}/{tender['id']}/challenges", json={"grounds": "x"}, headers=vendors[0].headers)
    r = await client.post(f"{API}/{tender['id']}/cancel", json={"reason": "预算调整"}, headers=w.bureau.headers)
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    assert (await client.get(f"{API}/{tender['id']}/award", headers=w.bureau.headers)).json()["status"] == "voided"
    challenges = (await client.get(f"{API}/{tender['id']}/challenges", headers=w.bureau.headers)).json()["items"]
    assert [c["status"] for c in challenges] == ["moot"]
    line = (await client.get(f"/api/v1/budget-lines/{w.line_id}", headers=w.bureau.headers)).json()
    assert line["available"] == "5000000.00"
    assert award["id"]


async def test_an_upheld_challenge_voids_the_award_and_the_panel_rescores(client):
    w = await s.world()
    tender, vendors, bids, experts = await scored_tender(client, w, ["800000.00", "750000.00", "900000.00"])
    first = (await client.post(f"{API}/{tender['id']}/award", headers=w.bureau.headers)).json()
    assert first["vendor_id"] == str(vendors[1].organisation_id)
    upheld = (await client.post(f"{API}/{tender['id']}/challenges", json={"grounds": "评分有误"}, headers=vendors[0].headers)).json()
    other = (await client.post(f"{API}/{tender['id']}/challenges", json={"grounds": "同上"}, headers=vendors[2].headers)).json()
    r = await client.post(
        f"{API}/{tender['id']}/challenges/{upheld['id']}/resolve", json={"outcome": "upheld", "reply": "重新评审", "remedy": "reevaluate"}, headers=w.bureau.headers
    )
    assert r.status_code == 200 and r.json()["status"] == "upheld"
    read = (await client.get(f"{API}/{tender['id']}", headers=w.bureau.headers)).json()
    assert (read["status"], read["award_id"]) == ("evaluating", None)
    voided = (await client.get(f"{API}/{tender['id']}/award", headers=w.bureau.headers)).json()
    assert (voided["id"], voided["status"]) == (first["id"], "voided")
    challenges = {c["id"]: c for c in (await client.get(f"{API}/{tender['id']}/challenges", headers=w.bureau.headers)).json()["items"]}
    assert challenges[other["id"]]["status"] == "moot"
    # The panel rescores the first bidder higher; the new award goes to it.
    for expert in experts:
        r = await s.score(client, expert, tender["id"], bids[0]["id"], {"服务方案": "40", "团队与经验": "30"})
        assert r.status_code == 200
        r = await s.score(client, expert, tender["id"], bids[1]["id"], {"服务方案": "30", "团队与经验": "30"})
        assert r.status_code == 200
    second = (await client.post(f"{API}/{tender['id']}/award", headers=w.bureau.headers)).json()
    assert second["id"] != first["id"] and second["status"] == "active"
    assert second["vendor_id"] == str(vendors[0].organisation_id)


async def test_the_contracts_domain_reads_an_award_only_after_a_clear_standstill(client):
    w = await s.world("5000000.00")
    tender, vendors, _ = await s.opened_tender(client, w, ["500000.00", "480000.00", "490000.00"], **LOWEST_PRICE)
    award = (await client.post(f"{API}/{tender['id']}/award", headers=w.bureau.headers)).json()
    with pytest.raises(RuleViolation) as exc:
        await procurement_service.award_for_contract(tender["id"], w.bureau.organisation_id)
    assert exc.value.code == "standstill_active"
    with pytest.raises(NotFound):
        await procurement_service.award_for_contract(tender["id"], vendors[0].organisation_id)
    challenge = (await client.post(f"{API}/{tender['id']}/challenges", json={"grounds": "x"}, headers=vendors[0].headers)).json()
    until = datetime.fromisoformat(award["standstill_until"])
    await s.advance(client, w.admin, seconds=int((until - await s.now(client, w.admin)).total_seconds()) + 1)
    with pytest.raises(RuleViolation) as exc:
        await procurement_service.award_for_contract(tender["id"], w.bureau.organisation_id)
    assert exc.value.code == "challenge_pending"
    await client.post(
        f"{API}/{tender['id']}/challenges/{challenge['id']}/resolve", json={"outcome": "dismissed", "reply": "驳回"}, headers=w.bureau.headers
    )
    found = await procurement_service.award_for_contract(tender["id"], w.bureau.organisation_id)
    assert (found.vendor_id, found.price, found.ceiling_amount) == (vendors[1].organisation_id, Decimal("480000.00"), Decimal("1000000.00"))
    assert found.milestones == (("首期服务", Decimal("30"), 90), ("中期服务", Decimal("40"), 200), ("终期服务", Decimal("30"), 360))
    assert found.payment_rule is None and found.contract_months == 12 and not found.recurring
    assert set(found.bidder_vendor_ids) == {v.organisation_id for v in vendors}
    assert sorted(await procurement_service.tender_bidder_ids(tender["id"])) == sorted(v.organisation_id for v in vendors)

    from govbuy import database as db

    who = factories.actor(w.bureau)
    async with db.transaction():
        await procurement_service.award_for_contract(tender["id"], w.bureau.organisation_id)
        line = await planning_service.commit_budget(who, found.budget_line_id, found.ceiling_amount, found.price, tender_id=tender["id"])
        await procurement_service.mark_contracted(who, tender["id"])
    assert (line.reserved, line.committed, line.available) == (Decimal("0.00"), Decimal("480000.00"), Decimal("4520000.00"))
    read = (await client.get(f"{API}/{tender['id']}", headers=w.bureau.headers)).json()
    assert read["status"] == "contracted"
    line = await planning_service.spend_budget(who, found.budget_line_id, Decimal("144000.00"))
    assert line.spent == Decimal("144000.00")
    with pytest.raises(RuleViolation) as exc:
        await planning_service.release_budget_commitment(who, found.budget_line_id, Decimal("400000.00"))
    assert exc.value.code == "budget_release_exceeds_unspent"
    line = await planning_service.commit_extra_budget(who, found.budget_line_id, Decimal("48000.00"))
    assert (line.committed, line.available) == (Decimal("528000.00"), Decimal("4472000.00"))
