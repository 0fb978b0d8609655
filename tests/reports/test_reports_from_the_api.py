"""The reports read what the services wrote: a tender awarded, its contract signed, two milestones
delivered, evaluated and paid, all through the API on the sandbox clock; then every report of
that contract's world is fetched and checked against the API's own answers."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from tests import factories
from tests.conftest import instant_params
from tests.procurement import support as s
from tests.reports.support import API, assert_page_furniture, get_pdf, squash

PRICES = ["777777.77", "820000.00", "905000.50"]
PLAN = [
    {"title": "首期服务：需求评估与建档", "percentage": "30", "due_offset_days": 90},
    {"title": "中期服务：上门助餐助洁", "percentage": "40", "due_offset_days": 200},
    {"title": "终期服务：成效评估与总结", "percentage": "30", "due_offset_days": 330},
]
# (total, grade label, payout ratio, paid, withheld) of milestones 1 and 2
GRADES = [("96.50", "优", "100%", "233,333.33", "0.00"), ("64.00", "中", "80%", "248,888.89", "62,222.22")]


@pytest.fixture(params=instant_params())
def service_instant(request: pytest.FixtureRequest):
    """Every report is checked at each instant where days, years and holidays turn."""
    return request.param


async def test_every_report_reads_what_the_services_wrote(client):
    w = await s.world("5000000.00")
    tender, vendors, _ = await s.opened_tender(
        client, w, PRICES, method="public_tender", evaluation_method="lowest_price", price_weight=None,
        criteria=[], milestones=PLAN,
    )
    winner = vendors[0]
    r = await client.post(f"{API}/tenders/{tender['id']}/award", headers=w.bureau.headers)
    assert r.status_code == 200, r.text
    award = r.json()

    # the award notice, public: the lowest-price ranking, every bidder with its price
    notice = await get_pdf(client, f"{API}/public/tenders/{tender['id']}/award-notice.pdf")
    text = squash(notice.text)
    assert "最低评标价法" in text and "777,777.77元" in text
    assert "人民币柒拾柒万柒仟柒佰柒拾柒元柒角柒分" in text
    for price in ("777,777.77", "820,000.00", "905,000.50"):
        assert price in text

    await s.advance_past(client, w.admin, award["standstill_until"])
    start = await s.today(client, w.admin) + timedelta(days=1)
    r = await client.post(f"{API}/contracts", json={"tender_id": tender["id"], "start_date": str(start)}, headers=w.bureau.headers)
    assert r.status_code == 201, r.text
    contract = r.json()
    cid = contract["id"]
    for who in (winner, w.bureau):
        assert (await client.post(f"{API}/contracts/{cid}/sign", headers=who.headers)).status_code == 200

    evaluator = await factories.evaluator_user()
    evaluation_ids = []
    for index, (total, *_rest) in enumerate(GRADES):
        milestone = contract["milestones"][index]
        mid = milestone["id"]
        due = date.fromisoformat(milestone["due_date"])
        today = await s.today(client, w.admin)
        await s.advance(client, w.admin, days=(due - today).days + (3 if index == 0 else -5))
        r = await client.post(
            f"{API}/contracts/{cid}/milestones/{mid}/deliverables",
            json={"summary": f"{milestone['title']}已完成，服务老人{150 + index}人",
                  "figures": {"people_served": 150 + index, "service_hours": "420.5"}},
            headers=winner.headers,
        )
        assert r.status_code == 201, r.text
        evaluation = await factories.evaluate(client, w.bureau, evaluator, cid, mid, total,
                                              findings="台账完整。\n个别服务记录不及时。", due_in_days=20)
        evaluation_ids.append(evaluation["id"])
        await s.advance_past(client, w.admin, evaluation["appeal_deadline"])
        r = await client.post(f"{API}/contracts/{cid}/milestones/{mid}/payments",
                              headers={**w.bureau.headers, "Idempotency-Key": f"m{index}"})
        assert r.status_code == 201, r.text
        r = await client.post(f"{API}/contracts/{cid}/payments/{r.json()['id']}/confirm",
                              json={"treasury_reference": f"GK-{index + 1:04d}"}, headers=w.bureau.headers)
        assert r.status_code == 200, r.text

    # the evaluation report of milestone 2: scores, grade, what it paid; the vendor reads the same
    path = f"{API}/evaluations/{evaluation_ids[1]}/report.pdf"
    report = await get_pdf(client, path, w.bureau)
    assert (await get_pdf(client, path, winner)).content == report.content
    assert (await get_pdf(client, path, evaluator)).content == report.content
    text = squash(report.text)
    bureau_name = tender["bureau_name"]
    assert_page_furniture(report, bureau_name, "绩效评价报告")
    total, grade, ratio, paid, withheld = GRADES[1]
    assert f"{total}分" in text and f"评价等级{grade}" in text
    assert f"支付比例{ratio}" in text and f"{paid}元" in text and f"{withheld}元" in text
    assert "凭证号GK-0002" in text
    assert "服务人数151人" in text and "服务时长420.5小时" in text
    assert "1.台账完整。" in text and "2.个别服务记录不及时。" in text
    assert "（含）前提出申诉" in text  # the window ends at a Beijing midnight: its last day is named

    # the contract report: both milestones evaluated and paid, the third pending, the timeline
    contract_pdf = await get_pdf(client, f"{API}/contracts/{cid}/report.pdf", w.bureau)
    text = squash(contract_pdf.text)
    read = (await client.get(f"{API}/contracts/{cid}", headers=w.bureau.headers)).json()
    assert f"已支付（元）{Decimal(read['paid']):,.2f}" in text
    assert f"评价扣减（元）{Decimal(read['withheld']):,.2f}" in text
    assert f"待支付（元）{Decimal(read['remaining']):,.2f}" in text
    assert "逾期3天" in text  # the first milestone was delivered three days late
    for event in ("合同生效", "第1期交付", "第1期评价验收", "第2期国库支付确认", "采购人签章", "承接主体签章"):
        assert event in text

    # the bureau's annual report of the contract's budget year lists it with its payments
    line = (await client.get(f"{API}/budget-lines/{w.line_id}", headers=w.bureau.headers)).json()
    annual = await get_pdf(client, f"{API}/reports/annual.pdf?year={line['year']}", w.bureau)
    text = squash(annual.text)
    assert squash(tender["title"]) in text
    assert f"合计（1份）{Decimal(read['amount']):,.2f}{Decimal(read['paid']):,.2f}{Decimal(read['withheld']):,.2f}" in text
    assert "优1" in text and "中1" in text

    # the vendor's credit report: the rating the two evaluations gave it
    rating = (await client.get(f"{API}/vendors/{winner.organisation_id}/credit-rating", headers=w.bureau.headers)).json()
    credit = await get_pdf(client, f"{API}/vendors/{winner.organisation_id}/credit-report.pdf", winner)
    text = squash(credit.text)
    assert rating["provisional"] is False
    assert f"{Decimal(rating['score'])}分" in text and f"{rating['grade']}级" in text
    assert "近三年已验收评价2次" in text
