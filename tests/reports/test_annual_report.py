"""A bureau's annual report (年度政府购买服务执行情况报告): its contracts of the budget year, spend by
level-1 category, grade distribution; who may read it; same data, same bytes."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest

from bench import report_data
from govbuy import database as db
from tests import factories
from tests.reports.support import API, assert_page_furniture, get_pdf, get_pdf_as, read_pdf, squash, token_headers

GRADE_LABELS = {"excellent": "优", "good": "良", "fair": "中", "poor": "差"}


@pytest.fixture
async def world(client):
    world = await report_data.report_world(2026, seed=31)
    contract_ids = await report_data.add_contracts(world, 40, terminate_every=15)
    return world, contract_ids


async def test_annual_report_shows_contracts_spend_by_category_and_grades(client, world):
    w, contract_ids = world
    pdf = await get_pdf_as(client, f"{API}/reports/annual.pdf?year=2026", w.bureau_user_id)
    text = squash(pdf.text)
    assert_page_furniture(pdf, report_data.BUREAU_NAME, "年度报告")
    assert pdf.page_count == 4  # with the chart of spend and grades and the targets table
    assert "分类别支出与评价等级" in text and "绩效目标完成情况" in text
    assert "合同名称" in pdf.pages[-1]  # the contract list's header repeats on its last page
    assert "2026年度政府购买服务执行情况报告" in text
    # every contract is listed, with its amount
    for c in await db.fetch("SELECT title, amount FROM contracts WHERE id = ANY($1)", contract_ids):
        assert squash(c["title"]) in text
        assert f"{c['amount']:,.2f}" in text
    total = await db.fetchval("SELECT sum(amount) FROM contracts WHERE id = ANY($1)", contract_ids)
    paid = await db.fetchval("SELECT sum(amount) FROM payments WHERE contract_id = ANY($1)", contract_ids)
    assert f"合计（40份）{total:,.2f}{paid:,.2f}" in text
    # spend by level-1 category: every standard category is a row, with its own paid sum
    rows = await db.fetch(
        """SELECT left(ci.code, 1) AS code, sum(p.amount) AS paid FROM payments p JOIN contracts c ON c.id = p.contract_id
           JOIN tenders t ON t.id = c.tender_id JOIN catalogue_items ci ON ci.id = t.catalogue_item_id
           WHERE c.id = ANY($1) GROUP BY 1""",
        contract_ids,
    )
    for name in ("基本公共服务", "社会管理性服务", "行业管理与协调性服务", "技术性服务", "政府履职所需辅助性服务"):
        assert name in text
    for r in rows:
        assert f"{r['paid']:,.2f}" in text
    # grade distribution over current accepted evaluations
    grades = Counter(
        r["grade"] for r in await db.fetch(
            "SELECT grade FROM evaluations WHERE contract_id = ANY($1) AND status = 'accepted'", contract_ids
        )
    )
    evaluated = sum(grades.values())
    for grade, label in GRADE_LABELS.items():
        share = (Decimal(grades[grade]) / evaluated * 100).quantize(Decimal("0.1"))
        assert f"{label}{grades[grade]}{share}%" in text
    assert "已终止" in text


async def test_same_request_twice_gives_identical_bytes(client, world):
    w, _ = world
    first = await get_pdf_as(client, f"{API}/reports/annual.pdf?year=2026", w.bureau_user_id)
    second = await get_pdf_as(client, f"{API}/reports/annual.pdf?year=2026", w.bureau_user_id)
    assert first.content == second.content
    supervisor = await factories.signed_in("supervisor")
    by_supervisor = await get_pdf(client, f"{API}/reports/annual.pdf?year=2026&bureau_id={w.bureau_id}", supervisor)
    assert by_supervisor.content == first.content


async def test_a_year_without_contracts_still_reports_its_budget(client, world):
    w, _ = world
    pdf = await get_pdf_as(client, f"{API}/reports/annual.pdf?year=2025", w.bureau_user_id)
    assert "本年度无已签订的合同" in squash(pdf.text)
    assert pdf.page_count == 2


async def test_a_bureau_gets_only_its_own_and_other_roles_none(client, world):
    w, _ = world
    other = await factories.signed_in("bureau")
    response = await client.get(f"{API}/reports/annual.pdf?year=2026&bureau_id={w.bureau_id}", headers=other.headers)
    assert response.status_code == 404
    own = await client.get(f"{API}/reports/annual.pdf?year=2026", headers=other.headers)
    assert own.status_code == 200 and "本年度无已签订的合同" in squash("".join(read_pdf(own.content)))
    for headers in (token_headers(w.vendor_user_ids[0]), token_headers(w.evaluator_user_ids[0])):
        assert (await client.get(f"{API}/reports/annual.pdf?year=2026", headers=headers)).status_code == 403
    assert (await client.get(f"{API}/reports/annual.pdf?year=2026")).status_code == 401


async def test_supervisors_must_name_the_bureau(client, world):
    supervisor = await factories.signed_in("supervisor")
    response = await client.get(f"{API}/reports/annual.pdf?year=2026", headers=supervisor.headers)
    assert response.status_code == 422
    assert response.json()["code"] == "bureau_id_required"
    bad_year = await client.get(f"{API}/reports/annual.pdf?year=1900", headers=supervisor.headers)
    assert bad_year.status_code == 422
