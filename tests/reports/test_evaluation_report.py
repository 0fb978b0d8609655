"""The evaluation report (第三方绩效评价报告): cover, contract and milestone, indicator table,
grade, payment consequence, findings, evaluator; who may read it; same data, same bytes."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bench import report_data
from govbuy import database as db
from tests import factories
from tests.reports.support import API, assert_page_furniture, get_pdf, get_pdf_as, squash, token_headers


@pytest.fixture
async def world(client):
    world = await report_data.report_world(2026, seed=7)
    contract_ids = await report_data.add_contracts(world, 4)
    return world, contract_ids


async def accepted_evaluation(contract_ids):
    for contract_id in contract_ids:
        if row := await report_data.first_evaluation(contract_id):
            return row
    raise AssertionError("no accepted evaluation in the data")


async def test_evaluation_report_shows_indicators_grade_payment_and_evaluator(client, world):
    w, contract_ids = world
    evaluation = await accepted_evaluation(contract_ids)
    pdf = await get_pdf_as(client, f"{API}/evaluations/{evaluation['id']}/report.pdf", w.bureau_user_id)
    text = squash(pdf.text)
    assert_page_furniture(pdf, report_data.BUREAU_NAME, "绩效评价报告")
    assert pdf.page_count == 4  # cover, contract and indicators, grade and payment, findings and evaluator
    assert "政府购买服务第三方绩效评价报告" in pdf.pages[0]
    contract = await db.fetchrow("SELECT * FROM contracts WHERE id = $1", evaluation["contract_id"])
    assert squash(contract["title"]) in squash(pdf.pages[0])
    for name in ("资金到位率", "服务对象满意度", "社会效益"):
        assert name in text
    for label in ("投入", "过程", "产出", "效益", "满意度"):
        assert label in text
    for code, score in evaluation["scores"].items():
        assert code in text
    assert f"{evaluation['total_score']}分" in text
    grade = {"excellent": "优", "good": "良", "fair": "中", "poor": "差"}[evaluation["grade"]]
    assert f"评价等级{grade}" in text
    payment = await db.fetchrow("SELECT * FROM payments WHERE evaluation_id = $1", evaluation["id"])
    milestone = await db.fetchrow("SELECT * FROM milestones WHERE id = $1", evaluation["milestone_id"])
    assert f"里程碑金额{milestone['amount']:,.2f}元" in text
    if payment:
        assert f"{payment['amount']:,.2f}元" in text and f"{payment['withheld_amount']:,.2f}元" in text
    assert evaluation["findings"].splitlines()[0] in text
    evaluator = await db.fetchval("SELECT name FROM organisations WHERE id = $1", evaluation["evaluator_id"])
    assert f"评价机构：{evaluator}" in text


async def test_same_request_twice_gives_identical_bytes(client, world):
    w, contract_ids = world
    evaluation = await accepted_evaluation(contract_ids)
    path = f"{API}/evaluations/{evaluation['id']}/report.pdf"
    first = await get_pdf_as(client, path, w.bureau_user_id)
    second = await get_pdf_as(client, path, w.bureau_user_id)
    assert first.content == second.content


async def test_the_vendor_and_the_evaluator_read_the_same_report(client, world):
    w, contract_ids = world
    evaluation = await accepted_evaluation(contract_ids)
    path = f"{API}/evaluations/{evaluation['id']}/report.pdf"
    by_bureau = await get_pdf_as(client, path, w.bureau_user_id)
    vendor_user = w.vendor_user_ids[w.vendor_ids.index(evaluation["vendor_id"])]
    evaluator_user = w.evaluator_user_ids[w.evaluator_ids.index(evaluation["evaluator_id"])]
    assert (await get_pdf_as(client, path, vendor_user)).content == by_bureau.content
    assert (await get_pdf_as(client, path, evaluator_user)).content == by_bureau.content
    supervisor = await factories.signed_in("supervisor")
    assert (await get_pdf(client, path, supervisor)).content == by_bureau.content


async def test_other_organisations_get_404_and_other_roles_403(client, world):
    w, contract_ids = world
    evaluation = await accepted_evaluation(contract_ids)
    path = f"{API}/evaluations/{evaluation['id']}/report.pdf"
    other_vendor = next(v for v in w.vendor_user_ids if v != w.vendor_user_ids[w.vendor_ids.index(evaluation["vendor_id"])])
    other_evaluator = next(
        u for u, e in zip(w.evaluator_user_ids, w.evaluator_ids) if e != evaluation["evaluator_id"]
    )
    for headers in (
        token_headers(other_vendor),
        token_headers(other_evaluator),
        (await factories.signed_in("bureau")).headers,
    ):
        response = await client.get(path, headers=headers)
        assert response.status_code == 404, response.text
    # experts never read evaluations: refused outright
    response = await client.get(path, headers=(await factories.signed_in("expert")).headers)
    assert response.status_code == 403, response.text
    assert (await client.get(path)).status_code == 401


async def test_a_vendor_does_not_see_an_evaluation_before_it_is_accepted(client):
    w = await report_data.report_world(2026, seed=11)
    contract_ids = await report_data.add_contracts(w, 20, as_of=report_data.date(2026, 7, 1))
    pending = await db.fetchrow(
        "SELECT * FROM evaluations WHERE contract_id = ANY($1) AND status <> 'accepted' ORDER BY id LIMIT 1",
        contract_ids,
    )
    assert pending is not None, "the data should hold an evaluation not yet accepted on 1 July"
    path = f"{API}/evaluations/{pending['id']}/report.pdf"
    vendor_user = w.vendor_user_ids[w.vendor_ids.index(pending["vendor_id"])]
    assert (await client.get(path, headers=token_headers(vendor_user))).status_code == 404
    draft = await get_pdf_as(client, path, w.bureau_user_id)
    assert "非最终结论" in squash(draft.pages[0])
