"""Performance management closing the loop, over HTTP (财库〔2021〕22号; 预算法 Art. 32): a tender
states two targets — 服务人次 ≥ 1,200 (reported by the deliverables) and 满意度 ≥ 90 % (verified by
the evaluator) —, the contract inherits them, the first milestone's deliverable reports 1,000
person-times (short), the evaluator verifies 92 % satisfaction and scores 82.00 (good: 95 %), the
payment withholds 5 % and the withheld money is available again on the budget line, whose
performance view shows what the money bought.

The money (price 800 000.00, milestones 30 / 40 / 30 %):

    milestone 1  240 000.00 × 0.95 = 228 000.00 paid, 12 000.00 withheld → released
    budget line  5 000 000.00: committed 800 000.00 → 788 000.00, available 4 200 000.00 → 4 212 000.00
"""

from __future__ import annotations

from datetime import timedelta

from tests import factories
from tests.procurement import support as s

API = "/api/v1"
TARGETS = [
    {"indicator": "服务人次", "unit": "人次", "target": "1200", "figure": "person_times_served"},
    {"indicator": "服务对象满意度", "unit": "%", "target": "90"},
]


async def test_targets_set_at_tender_are_measured_at_delivery_and_fed_back_to_the_budget(client):
    w = await s.world()
    tender, vendors, _ = await s.opened_tender(
        client, w, ["800000.00", "820000.00", "850000.00"], evaluation_method="lowest_price", price_weight=None,
        criteria=[], performance_targets=TARGETS,
    )
    assert [(t["indicator"], t["target"], t["direction"]) for t in tender["performance_targets"]] == [
        ("服务人次", "1200", "at_least"), ("服务对象满意度", "90", "at_least")
    ]
    public = (await client.get(f"{API}/public/tenders/{tender['id']}")).json()
    assert [t["indicator"] for t in public["performance_targets"]] == ["服务人次", "服务对象满意度"]
    award = (await client.post(f"{API}/tenders/{tender['id']}/award", headers=w.bureau.headers)).json()
    winner = next(v for v in vendors if str(v.organisation_id) == award["vendor_id"])
    await s.advance_past(client, w.admin, award["standstill_until"])
    start = await s.today(client, w.admin) + timedelta(days=1)
    contract = (await client.post(f"{API}/contracts", json={"tender_id": tender["id"], "start_date": str(start)},
                                  headers=w.bureau.headers)).json()
    for party in (winner, w.bureau):
        assert (await client.post(f"{API}/contracts/{contract['id']}/sign", headers=party.headers)).status_code == 200
    first = contract["milestones"][0]
    r = await client.post(f"{API}/contracts/{contract['id']}/milestones/{first['id']}/deliverables",
                          json={"summary": "首期上门服务完成", "figures": {"person_times_served": 1000, "people_served": 180}},
                          headers=winner.headers)
    assert r.status_code == 201, r.text
    read = (await client.get(f"{API}/contracts/{contract['id']}", headers=w.bureau.headers)).json()
    assert [(t["indicator"], t["reported"], t["met"]) for t in read["performance_targets"]] == [
        ("服务人次", "1000", False), ("服务对象满意度", None, None)
    ]

    evaluator = await factories.evaluator_user()
    today = await s.today(client, w.admin)
    evaluation = (await client.post(f"{API}/evaluations", json={
        "contract_id": contract["id"], "milestone_id": first["id"], "evaluator_org_id": str(evaluator.organisation_id),
        "due_date": str(today + timedelta(days=20))}, headers=w.bureau.headers)).json()
    sheet = {"scores": factories.scores_totalling(evaluation["indicators"], "82.00"),
             "target_results": {"服务对象满意度": "92.00"}, "findings": "服务人次未达目标，满意度达标"}
    stray = await client.put(f"{API}/evaluations/{evaluation['id']}/scores",
                             json={**sheet, "target_results": {"入户率": "80"}}, headers=factories.if_match(evaluator, evaluation))
    assert (stray.status_code, stray.json()["code"]) == (422, "invalid_target_results")
    assert (await client.put(f"{API}/evaluations/{evaluation['id']}/scores", json=sheet,
                             headers=factories.if_match(evaluator, evaluation))).status_code == 200
    assert (await client.post(f"{API}/evaluations/{evaluation['id']}/submit", headers=evaluator.headers)).status_code == 200
    accepted = (await client.post(f"{API}/evaluations/{evaluation['id']}/accept", headers=w.bureau.headers)).json()
    assert [(t["indicator"], t["reported"], t["verified"], t["met"]) for t in accepted["targets"]] == [
        ("服务人次", "1000", None, False), ("服务对象满意度", None, "92.00", True)
    ]
    assert (accepted["grade"], accepted["payout_ratio"]) == ("good", "0.95")

    await s.advance_past(client, w.admin, accepted["appeal_deadline"])
    before = (await client.get(f"{API}/budget-lines/{w.line_id}", headers=w.bureau.headers)).json()
    payment = (await client.post(f"{API}/contracts/{contract['id']}/milestones/{first['id']}/payments",
                                 headers={**w.bureau.headers, "Idempotency-Key": "m1"})).json()
    assert (payment["amount"], payment["withheld_amount"]) == ("228000.00", "12000.00")
    after = (await client.get(f"{API}/budget-lines/{w.line_id}", headers=w.bureau.headers)).json()
    assert (before["committed"], after["committed"]) == ("800000.00", "788000.00")
    assert (before["available"], after["available"]) == ("4200000.00", "4212000.00")  # the withheld money is back

    view = (await client.get(f"{API}/budget-lines/{w.line_id}/performance", headers=w.bureau.headers)).json()
    assert (view["committed"], view["spent"], view["available"]) == ("788000.00", "228000.00", "4212000.00")
    totals = view["totals"]
    assert (totals["contracts"], totals["paid"], totals["withheld"], totals["evaluations"], totals["average_score"]) == (
        1, "228000.00", "12000.00", 1, "82.00"
    )
    assert totals["grades"] == {"excellent": 0, "good": 1, "fair": 0, "poor": 0}
    # 满意度 met as verified (92 ≥ 90); 服务人次 not, as reported (1 000 < 1 200).
    assert (totals["targets_met"], totals["targets_total"]) == (1, 2)
    [line] = view["contracts"]
    assert (line["contract_id"], line["vendor_id"]) == (contract["id"], str(winner.organisation_id))
    other = await factories.signed_in("bureau", await factories.organisation("bureau"))
    assert (await client.get(f"{API}/budget-lines/{w.line_id}/performance", headers=other.headers)).status_code == 404

    # The evaluation report shows each target beside what was reported and verified.
    from tests.reports.support import get_pdf, squash

    pdf = await get_pdf(client, f"{API}/evaluations/{evaluation['id']}/report.pdf", w.bureau)
    text = squash(pdf.text)
    assert "绩效目标完成情况" in text
    assert "服务人次≥1200人次1000人次—未达成" in text and "服务对象满意度≥90%—92%达成" in text

    # The bureau's annual report: a targets-met table and the chart of spend and grades by category.
    year = (await s.today(client, w.admin)).year
    line_year = (await client.get(f"{API}/budget-lines/{w.line_id}", headers=w.bureau.headers)).json()["year"]
    annual = await get_pdf(client, f"{API}/reports/annual.pdf?year={line_year}", w.bureau)
    text = squash(annual.text)
    assert "绩效目标完成情况" in text and "分类别支出与评价等级" in text
    assert "合计1215" in text  # 1 contract with targets, 2 targets, 1 met, 50 %
    assert "已支付（元）" in text and "已验收评价（次，按等级）" in text
    assert year >= line_year

    # The same year as data, by category and by vendor, for the bureau (and supervisors naming it).
    r = await client.get(f"{API}/reports/performance?year={line_year}", headers=w.bureau.headers)
    assert r.status_code == 200, r.text
    year_view = r.json()
    assert year_view["bureau_id"] == str(w.bureau.organisation_id)
    assert (year_view["totals"]["withheld"], year_view["totals"]["targets_met"], year_view["totals"]["targets_total"]) == (
        "12000.00", 1, 2
    )
    [category] = [c for c in year_view["categories"] if c["contracts"]]
    assert (category["paid"], category["grades"]["good"]) == ("228000.00", 1)
    [vendor] = year_view["vendors"]
    assert (vendor["vendor_id"], vendor["withheld"], vendor["average_score"]) == (str(winner.organisation_id), "12000.00", "82.00")
    supervisor = await factories.signed_in("supervisor", await factories.organisation("supervisor"))
    r = await client.get(f"{API}/reports/performance?year={line_year}", headers=supervisor.headers)
    assert (r.status_code, r.json()["code"]) == (422, "bureau_id_required")
    r = await client.get(f"{API}/reports/performance?year={line_year}&bureau_id={w.bureau.organisation_id}",
                         headers=supervisor.headers)
    assert r.json()["totals"] == year_view["totals"]
    assert (await client.get(f"{API}/reports/performance?year={line_year}&bureau_id={w.bureau.organisation_id}",
                             headers=other.headers)).status_code == 404
