"""A public tender walked through end to end on the sandbox clock: catalogue, budget, tender,
bids (one vendor turned away, one bid withdrawn), opening, a five-expert panel, the ranking
checked against a hand computation, a dismissed challenge, the standstill passing. And a
tender that fails with two bids."""

from __future__ import annotations

import hashlib
from datetime import datetime
from decimal import Decimal

from govbuy import clock
from govbuy import database as db
from procurement import service as procurement_service
from tests import factories
from tests.procurement import support as s

API = "/api/v1"

CATALOGUE_CSV = """code,name,description
A,基本公共服务,
A01,养老服务,
A0101,居家养老上门服务,助餐、助洁、助医
B,社会管理性服务,
B01,社区治理服务,
B0101,社区矛盾纠纷调解,
"""

# Prices of the six eligible bidders; the sixth withdraws its (lowest) bid before the deadline,
# so it must play no part in the price scores.
PRICES = ["800000.00", "750000.00", "900000.00", "820000.00", "760000.00", "700000.00"]

# Score sheets of the five experts, per bidder: (服务方案 out of 40, 团队与经验 out of 30).
SHEETS = {
    0: [("36", "25"), ("35.5", "26"), ("38", "24"), ("34", "27"), ("37", "25")],
    1: [("30", "22"), ("31", "21"), ("29", "23"), ("32", "22"), ("30", "22")],
    2: [("39", "28"), ("38", "29"), ("40", "28"), ("39", "27"), ("38", "29")],
    3: [("35", "26"), ("36", "27"), ("35", "26.5"), ("36", "26"), ("35", "27")],
    4: [("33", "24"), ("34", "25"), ("33", "25"), ("35", "24"), ("34", "25.5")],
}

# The ranking by hand (87号令 Art. 55; price weight 30, lowest valid price 750 000.00):
#
# bidder  price       price score                         技术 (mean of 5 experts)                 total
# V3      900000.00   750000/900000 × 30 = 25.000 → 25.00  194/5 = 38.8 + 141/5 = 28.2 = 67.00     92.00
# V1      800000.00   750000/800000 × 30 = 28.125 → 28.13  180.5/5 = 36.1 + 127/5 = 25.4 = 61.50   89.63
# V4      820000.00   750000/820000 × 30 = 27.439… → 27.44 177/5 = 35.4 + 132.5/5 = 26.5 = 61.90   89.34
# V5      760000.00   750000/760000 × 30 = 29.605… → 29.61 169/5 = 33.8 + 123.5/5 = 24.7 = 58.50   88.11
# V2      750000.00   750000/750000 × 30 = 30.00           152/5 = 30.4 + 110/5 = 22.0 = 52.40     82.40
EXPECTED = [
    # (bidder index, price, price score, technical score, total)
    (2, "900000.00", "25.00", "67.00", "92.00"),
    (0, "800000.00", "28.13", "61.50", "89.63"),
    (3, "820000.00", "27.44", "61.90", "89.34"),
    (4, "760000.00", "29.61", "58.50", "88.11"),
    (1, "750000.00", "30.00", "52.40", "82.40"),
]


async def rate(vendor, grade: str, score: str) -> None:
    """Store a credit rating for a vendor as the vendors domain would (信用评价)."""
    await db.execute(
        """INSERT INTO credit_ratings (vendor_id, rated_on, score, grade, provisional, eligible, rules_version,
               fingerprint, inputs, result, created_at)
           VALUES ($1, $5, $2, $3, false, true, 'credit-2026.1', $4, '{}', '{}', $6)""",
        vendor.organisation_id,
        Decimal(score),
        grade,
        hashlib.sha256(f"{vendor.organisation_id}{grade}".encode()).hexdigest(),
        await clock.today(),
        await clock.now(),
    )


async def test_public_tender_from_catalogue_to_a_standstill_that_passes(client):
    bureau = (await factories.many_signed_in("bureau", 1))[0]
    admin = (await factories.many_signed_in("admin", 1))[0]
    year = (await s.now(client, admin)).year

    # The guidance catalogue of the bureau's region, imported from a file and published.
    catalogue = (await client.post(f"{API}/catalogues", json={"region_code": "440300", "year": year, "title": f"{year} 指导性目录"}, headers=bureau.headers)).json()
    imported = await client.post(
        f"{API}/catalogues/{catalogue['id']}/import", files={"file": ("目录.csv", CATALOGUE_CSV.encode(), "text/csv")}, headers=bureau.headers
    )
    assert imported.json()["imported"] == 6
    assert (await client.post(f"{API}/catalogues/{catalogue['id']}/publish", headers=bureau.headers)).status_code == 200
    items = (await client.get(f"{API}/catalogues/{catalogue['id']}/items", params={"level": 3}, headers=bureau.headers)).json()["items"]
    item_id = next(i["id"] for i in items if i["code"] == "A0101")

    # The budget line (先有预算、后购买服务) and the tender; publishing reserves the ceiling.
    line = (await client.post(f"{API}/budget-lines", json={"code": "2081002", "year": year, "title": "养老服务补助", "amount": "3000000.00"}, headers=bureau.headers)).json()
    w = s.World(bureau, admin, catalogue["id"], item_id, line["id"])
    tender = await s.published_tender(client, w)
    tid = tender["id"]
    line = (await client.get(f"{API}/budget-lines/{line['id']}", headers=bureau.headers)).json()
    assert (line["reserved"], line["available"]) == ("1000000.00", "2000000.00")

    # Seven vendors: six eligible, one on the serious-dishonesty list (严重违法失信名单).
    vendors = await factories.many_signed_in("vendor", 6, name_prefix="社工服务中心")
    [listed] = await factories.many_signed_in("vendor", 1, name_prefix="失信机构")
    await s.credit_list(client, admin, listed, (await s.now(client, admin)).date().isoformat())
    refused = await s.bid(client, tid, listed, "650000.00")
    assert (refused.status_code, refused.json()["code"]) == (409, "vendor_ineligible")
    assert refused.json()["errors"][0]["code"] == "credit_list_entry_active"
    await rate(vendors[0], "A", "88.00")
    await rate(vendors[2], "B", "75.00")

    bids = []
    for vendor, price in zip(vendors, PRICES):
        r = await s.bid(client, tid, vendor, price, f"服务方案（{price} 元）")
        assert r.status_code == 201, r.text
        bids.append(r.json())
    withdrawn = await client.post(f"{API}/tenders/{tid}/bids/{bids[5]['id']}/withdraw", headers=vendors[5].headers)
    assert withdrawn.json()["status"] == "withdrawn"

    question = (await client.post(f"{API}/tenders/{tid}/questions", json={"question": "服务对象共多少人？"}, headers=vendors[1].headers)).json()
    await client.post(f"{API}/tenders/{tid}/questions/{question['id']}/answer", json={"answer": "约 1200 人。"}, headers=bureau.headers)

    # The deadline passes; the next read opens the tender by itself.
    await s.pass_deadline(client, w, tender)
    opened = (await client.get(f"{API}/tenders/{tid}", headers=vendors[0].headers)).json()
    assert (opened["status"], opened["bids_sealed"]) == ("evaluating", False)
    sung = (await client.get(f"{API}/tenders/{tid}/bids", headers=vendors[0].headers)).json()["items"]
    assert sorted(b["price"] for b in sung) == sorted(PRICES[:5])  # 唱标, without the withdrawn bid
    await rate(vendors[2], "C", "60.00")  # a later rating does not change the grade at opening

    # A five-expert panel, drawn at random from the pool, reviews and scores every valid bid.
    experts = await s.appoint_panel(client, w, tid, size=5)
    opened_bids = (await client.get(f"{API}/tenders/{tid}/bids", headers=bureau.headers)).json()["items"]
    await s.review_all(client, w, opened, opened_bids, experts)
    for bidder, sheets in SHEETS.items():
        for expert, (plan, team) in zip(experts, sheets):
            r = await s.score(client, expert, tid, bids[bidder]["id"], {"服务方案": plan, "团队与经验": team})
            assert r.status_code == 200, r.text

    award = await client.post(f"{API}/tenders/{tid}/award", headers=bureau.headers)
    assert award.status_code == 200, award.text
    notice = award.json()
    assert [
        (line["rank"], line["vendor_id"], line["price"], line["price_score"], line["technical_score"], line["total_score"])
        for line in notice["ranking"]
    ] == [
        (rank, str(vendors[i].organisation_id), price, ps, ts, total)
        for rank, (i, price, ps, ts, total) in enumerate(EXPECTED, start=1)
    ]
    grades = {line["vendor_id"]: line["credit_grade_at_opening"] for line in notice["ranking"]}
    assert grades[str(vendors[0].organisation_id)] == "A" and grades[str(vendors[2].organisation_id)] == "B"
    assert grades[str(vendors[1].organisation_id)] is None  # provisional: no grade yet
    assert [(b["price"], b["valid"]) for b in notice["bidders"]] == [(p, True) for p in sorted(PRICES[:5])]
    assert (notice["vendor_id"], notice["price"]) == (str(vendors[2].organisation_id), "900000.00")
    assert notice["vendor_name"].startswith("社工服务中心")

    # A losing bidder challenges during the standstill; the bureau dismisses it.
    challenge = (await client.post(f"{API}/tenders/{tid}/challenges", json={"grounds": "我方报价最低，应当中标。"}, headers=vendors[1].headers)).json()
    with_challenge = await client.post(f"{API}/tenders/{tid}/challenges/{challenge['id']}/resolve",
                                       json={"outcome": "dismissed", "reply": "本项目采用综合评分法，价格分仅占 30 分。"}, headers=bureau.headers)
    assert with_challenge.json()["status"] == "dismissed"

    # The standstill (7 working days) passes; a contract may now be made from the award.
    until = datetime.fromisoformat(notice["standstill_until"])
    await s.advance(client, admin, seconds=int((until - await s.now(client, admin)).total_seconds()) + 60)
    found = await procurement_service.award_for_contract(tid, bureau.organisation_id)
    assert (found.vendor_id, found.price) == (vendors[2].organisation_id, Decimal("900000.00"))
    assert set(found.bidder_vendor_ids) == {v.organisation_id for v in vendors}

    verify = (await client.get(f"{API}/audit-events/verify", headers=admin.headers)).json()
    assert verify["ok"] is True
    actions = {e["action"] for e in (await client.get(f"{API}/audit-events", params={"entity_id": tid, "limit": 200}, headers=admin.headers)).json()["items"]}
    assert {"tender.created", "tender.published", "tender.opened", "tender.panel_drawn", "tender.awarded"} <= actions


async def test_a_public_tender_with_two_bids_fails_and_frees_its_budget(client):
    w = await s.world("3000000.00")
    tender = await s.published_tender(client, w, ceiling_amount="1200000.00")
    for vendor, price in zip(await factories.many_signed_in("vendor", 2), ["900000.00", "950000.00"]):
        assert (await s.bid(client, tender["id"], vendor, price)).status_code == 201
    await s.advance(client, w.admin, days=26)
    read = (await client.get(f"{API}/tenders/{tender['id']}", headers=w.bureau.headers)).json()
    assert (read["status"], read["failure_reason"]) == ("failed", "insufficient_bids")
    line = (await client.get(f"{API}/budget-lines/{w.line_id}", headers=w.bureau.headers)).json()
    assert (line["reserved"], line["available"]) == ("0.00", "3000000.00")
    panel = await client.put(f"{API}/tenders/{tender['id']}/panel", json={"expert_user_ids": []}, headers=w.bureau.headers)
    assert panel.status_code == 422  # an empty panel is bad input whatever the state
    award = await client.post(f"{API}/tenders/{tender['id']}/award", headers=w.bureau.headers)
    assert (award.status_code, award.json()["code"]) == (409, "invalid_status_transition")
