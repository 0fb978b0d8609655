"""SMEs in the evaluation (财库〔2020〕46号 as amended by 财库〔2022〕19号) and the assessment grade
as a priority (民政部令第39号 Art. 30), computed by hand.

The deduction that changes the winner (comprehensive: price 30, 服务方案 40, 团队与经验 30; one
expert):

    bidder                       price        deduction  evaluated    price score  technical  total
    A social organisation        1 000 000.00    —       1 000 000.00  880/1000×30 = 26.40  60.00  86.40
    B small enterprise           1 100 000.00   20 %       880 000.00  30.00                58.00  88.00

Without the deduction A would win: 30.00 + 60.00 = 90.00 against 1000/1100×30 = 27.27 + 58.00 = 85.27.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from govbuy import database as db
from govbuy.rules import RuleViolation
from procurement import rules
from tests import factories
from tests.procurement import support as s

API = "/api/v1/tenders"
AT = datetime(2026, 12, 8, 2, 0, tzinfo=UTC)
CRITERIA = [{"name": "服务方案", "weight": "40"}, {"name": "团队与经验", "weight": "30"}]
D = Decimal


def ranking(policy: rules.SmePolicy, bids, method="comprehensive", criteria=CRITERIA):
    """bids: (id, price, declaration, {criterion: score}, grade)."""
    return rules.rank_bids(
        method,
        D(30) if method == "comprehensive" else None,
        criteria if method == "comprehensive" else [],
        [
            rules.BidForRanking(
                bid_id, bid_id, D(price), AT, {"x": sheet} if method == "comprehensive" else {},
                evaluated_price=rules.evaluated_price(D(price), rules.deduction_percent(policy, declaration)),
                assessment_grade=grade,
            )
            for bid_id, price, declaration, sheet, grade in bids
        ],
        ["x"] if method == "comprehensive" else [],
    )


BIDS = [
    ("A", "1000000.00", None, {"服务方案": D(35), "团队与经验": D(25)}, None),
    ("B", "1100000.00", "small", {"服务方案": D(33), "团队与经验": D(25)}, None),
]


def test_a_twenty_percent_deduction_changes_the_winner():
    deducted = ranking(rules.validate_sme_policy(False, "20"), BIDS)
    assert [(r.bid_id, r.evaluated_price, r.price_score, r.technical_score, r.total_score) for r in deducted] == [
        ("B", D("880000.00"), D("30.00"), D("58.00"), D("88.00")),
        ("A", D("1000000.00"), D("26.40"), D("60.00"), D("86.40")),
    ]
    assert deducted[0].price == D("1100000.00")  # the award is at the bid price
    reserved = ranking(rules.validate_sme_policy(True), BIDS)  # a reserved tender deducts nothing
    assert [(r.bid_id, r.price_score, r.total_score) for r in reserved] == [
        ("A", D("30.00"), D("90.00")), ("B", D("27.27"), D("85.27"))
    ]


def test_lowest_price_ranks_by_the_evaluated_price():
    bids = [("A", "1000000.00", None, {}, None), ("B", "1100000.00", "micro", {}, None), ("C", "1050000.00", "medium", {}, None)]
    at_ten = ranking(rules.validate_sme_policy(False, None), bids, method="lowest_price")
    # B: 1 100 000 × 0.90 = 990 000 < A 1 000 000 < C 1 050 000 (a medium enterprise gets no deduction)
    assert [(r.bid_id, r.evaluated_price) for r in at_ten] == [
        ("B", D("990000.00")), ("A", D("1000000.00")), ("C", D("1050000.00"))
    ]


def test_a_social_organisation_gets_no_deduction_and_may_not_declare_a_size():
    policy = rules.validate_sme_policy(False, "15")
    assert rules.deduction_percent(policy, None) == 0
    assert rules.deduction_percent(policy, "medium") == 0
    assert rules.deduction_percent(policy, "prison_enterprise") == D(15)
    assert rules.check_declaration("private_non_enterprise", None) is None
    assert rules.check_declaration("private_non_enterprise", "disability_welfare_unit") == "disability_welfare_unit"
    with pytest.raises(RuleViolation) as caught:
        rules.check_declaration("social_group", "small")
    assert caught.value.code == "sme_declaration_not_allowed"


@pytest.mark.parametrize(
    "reserved, percent, code",
    [(False, "9.99", "invalid_price_deduction"), (False, "20.01", "invalid_price_deduction"),
     (True, "10", "sme_deduction_with_reservation"), (False, "abc", "invalid_price_deduction")],
)
def test_the_policy_is_reserved_or_a_deduction_of_ten_to_twenty_percent(reserved, percent, code):
    with pytest.raises(RuleViolation) as caught:
        rules.validate_sme_policy(reserved, percent)
    assert caught.value.code == code


def test_the_default_deduction_is_the_least_the_rule_allows():
    assert rules.validate_sme_policy(False) == rules.SmePolicy(False, D(10))
    assert rules.evaluated_price(D("333333.33"), D("15")) == D("283333.33")  # 283 333.3305 → half up to the fen


def test_an_assessment_grade_criterion_gives_points_and_bars_nobody():
    criteria = [
        {"name": "服务方案", "weight": "40"},
        {"name": "团队与经验", "weight": "25"},
        {"name": "社会组织评估等级", "weight": "5", "points_by_grade": {"3A": "2", "4A": "4", "5A": "5"}},
    ]
    sheet = {"服务方案": D(30), "团队与经验": D(20)}
    policy = rules.validate_sme_policy(False)
    bids = [("4A org", "1000000.00", None, sheet, 4), ("enterprise", "1000000.00", None, sheet, None),
            ("2A org", "1000000.00", None, sheet, 2)]
    ranked = {r.bid_id: r.technical_score for r in ranking(policy, bids, criteria=criteria)}
    assert ranked == {"4A org": D("54.00"), "enterprise": D("50.00"), "2A org": D("50.00")}
    with pytest.raises(RuleViolation) as caught:  # the experts do not score it
        rules.check_expert_scores(criteria, {**sheet, "社会组织评估等级": D(5)})
    assert caught.value.errors[0]["field"] == "scores.社会组织评估等级"


@pytest.mark.parametrize(
    "points, message",
    [({"3A": "6"}, "between 0"), ({"3A": "4", "4A": "3"}, "never worth fewer"), ({"6A": "1"}, "not an assessment grade")],
)
def test_points_by_grade_stay_within_the_weight_and_rise_with_the_grade(points, message):
    criteria = [{"name": "服务方案", "weight": "65"}, {"name": "评估等级", "weight": "5", "points_by_grade": points}]
    with pytest.raises(RuleViolation) as caught:
        rules.validate_scoring("comprehensive", "30", criteria)
    assert any(message in e["message"] for e in caught.value.errors)


# --- over HTTP -------------------------------------------------------------------------------


async def enterprise() -> factories.SignedIn:
    return await factories.signed_in("vendor", await factories.organisation("vendor", code=factories.uscc("91")))


async def test_a_reserved_tender_refuses_a_bidder_that_declares_no_size(client):
    w = await s.world()
    tender = await s.published_tender(client, w, sme={"reserved": True})
    assert tender["sme"] == {"reserved": True, "price_deduction_percent": "0.00"}
    large, small, organisation = await enterprise(), await enterprise(), await factories.signed_in("vendor")
    r = await client.post(f"{API}/{tender['id']}/bids", json={"price": "800000.00", "proposal": "方案"}, headers=large.headers)
    assert (r.status_code, r.json()["code"]) == (409, "tender_reserved_for_smes")
    r = await client.post(f"{API}/{tender['id']}/bids", json={"price": "800000.00", "proposal": "方案", "sme_declaration": "small"},
                          headers=organisation.headers)
    assert (r.status_code, r.json()["code"]) == (422, "sme_declaration_not_allowed")
    r = await client.post(f"{API}/{tender['id']}/bids", json={"price": "800000.00", "proposal": "方案", "sme_declaration": "small"},
                          headers=small.headers)
    assert r.status_code == 201 and r.json()["sme_declaration"] == "small"


async def test_the_award_ranks_by_the_deducted_price_and_awards_the_bid_price(client):
    w = await s.world()
    tender = await s.published_tender(client, w, evaluation_method="lowest_price", price_weight=None, criteria=[],
                                       sme={"price_deduction_percent": "20"}, ceiling_amount="1200000.00")
    organisation, small, medium = await factories.signed_in("vendor"), await enterprise(), await enterprise()
    for vendor, price, size in ((organisation, "1000000.00", None), (small, "1100000.00", "small"), (medium, "1050000.00", "medium")):
        r = await client.post(f"{API}/{tender['id']}/bids", json={"price": price, "proposal": "方案", "sme_declaration": size},
                              headers=vendor.headers)
        assert r.status_code == 201, r.text
    await s.pass_deadline(client, w, tender)
    bids = (await client.get(f"{API}/{tender['id']}/bids", headers=w.bureau.headers)).json()["items"]
    await s.review_all(client, w, tender, bids)
    award = (await client.post(f"{API}/{tender['id']}/award", headers=w.bureau.headers)).json()
    assert award["vendor_id"] == str(small.organisation_id) and award["price"] == "1100000.00"
    assert [(line["sme_declaration"], line["price_deduction_percent"], line["evaluated_price"]) for line in award["ranking"]] == [
        ("small", "20.00", "880000.00"), (None, "0.00", "1000000.00"), ("medium", "0.00", "1050000.00")
    ]
    # The award notice shows each declaration, deduction and evaluated price.
    from tests.reports.support import get_pdf, squash

    text = squash((await get_pdf(client, f"/api/v1/public/tenders/{tender['id']}/award-notice.pdf")).text)
    assert "中小企业声明及价格扣除" in text and "给予20%的扣除" in text
    assert "小型企业20%1,100,000.00880,000.00" in text
    assert "中型企业—1,050,000.001,050,000.00" in text
    # OCDS: the enterprises' declared scale (partyScale extension); a social organisation has none.
    from govbuy.public import feed, ocds

    package = (await client.get(f"/api/v1/public/ocds/records/{feed.ocid_of(tender['id'])}")).json()
    assert ocds.validate_record_package(package) == []
    parties = {p["id"]: p for p in package["records"][0]["compiledRelease"]["parties"]}
    assert parties[str(small.organisation_id)]["details"] == {"scale": "small"}
    assert parties[str(medium.organisation_id)]["details"] == {"scale": "medium"}
    assert "details" not in parties[str(organisation.organisation_id)]
    public = (await client.get(f"/api/v1/public/tenders/{tender['id']}")).json()
    assert public["sme"] == {"reserved": False, "price_deduction_percent": "20.00"}
    assert public["award"]["ranking"][0]["evaluated_price"] == "880000.00"


async def test_a_false_declaration_found_by_the_regulator_blacklists_the_vendor_and_passes_the_award_on(client):
    w = await s.world()
    tender = await s.published_tender(client, w, evaluation_method="lowest_price", price_weight=None, criteria=[],
                                       sme={"price_deduction_percent": "20"}, ceiling_amount="1200000.00")
    cheat = await enterprise()
    others = await factories.many_signed_in("vendor", 3)
    r = await client.post(f"{API}/{tender['id']}/bids", json={"price": "1100000.00", "proposal": "方案", "sme_declaration": "micro"},
                          headers=cheat.headers)
    assert r.status_code == 201, r.text
    cheat_bid = r.json()["id"]
    for vendor, price in zip(others, ("1000000.00", "1010000.00", "1020000.00")):
        assert (await s.bid(client, tender["id"], vendor, price)).status_code == 201
    await s.pass_deadline(client, w, tender)
    bids = (await client.get(f"{API}/{tender['id']}/bids", headers=w.bureau.headers)).json()["items"]
    await s.review_all(client, w, tender, bids)
    first = (await client.post(f"{API}/{tender['id']}/award", headers=w.bureau.headers)).json()
    assert first["vendor_id"] == str(cheat.organisation_id)  # 1 100 000 × 0.8 = 880 000
    url = f"{API}/{tender['id']}/bids/{cheat_bid}/sme-declaration/false"
    finding = {"finding": "经核查，该企业从业人员 420 人、营业收入 1.2 亿元，不属于微型企业"}
    assert (await client.post(url, json=finding, headers=w.bureau.headers)).status_code == 403
    region = await db.fetchval("SELECT region_code FROM organisations WHERE id = $1", w.bureau.organisation_id)
    regulator = await factories.signed_in("regulator", await factories.organisation("bureau", region_code=region))
    r = await client.post(url, json=finding, headers=regulator.headers)
    assert r.status_code == 200, r.text
    assert r.json()["sme_declaration_false_at"] is not None and r.json()["review_status"] == "non_responsive"
    again = await client.post(url, json=finding, headers=regulator.headers)
    assert (again.status_code, again.json()["code"]) == (409, "declaration_already_found_false")
    second = (await client.get(f"{API}/{tender['id']}/award", headers=w.bureau.headers)).json()
    assert second["id"] != first["id"] and second["vendor_id"] == str(others[0].organisation_id)
    vendor = (await client.get(f"/api/v1/vendors/{cheat.organisation_id}", headers=w.admin.headers)).json()
    [entry] = vendor["active_credit_list_entries"]
    assert entry["list"] == "procurement_blacklist" and "不属于微型企业" in entry["reason"]
    assert vendor["may_bid_today"] is False
