"""The contract performance report (合同履约情况报告): milestones, evaluations, payments and the
timeline; who may read it; same data, same bytes."""

from __future__ import annotations

import pytest

from bench import report_data
from govbuy import database as db
from tests import factories
from tests.reports.support import API, assert_page_furniture, get_pdf, get_pdf_as, squash, token_headers


@pytest.fixture
async def world(client):
    world = await report_data.report_world(2026, seed=21)
    contract_ids = await report_data.add_contracts(world, 3, terminate_every=3)
    return world, contract_ids


async def test_contract_report_shows_milestones_evaluations_payments_and_timeline(client, world):
    w, contract_ids = world
    contract = await db.fetchrow(
        "SELECT * FROM contracts WHERE id = ANY($1) AND status <> 'terminated' ORDER BY start_date LIMIT 1", contract_ids
    )
    pdf = await get_pdf_as(client, f"{API}/contracts/{contract['id']}/report.pdf", w.bureau_user_id)
    text = squash(pdf.text)
    assert_page_furniture(pdf, report_data.BUREAU_NAME, "合同履约报告")
    assert pdf.page_count == 2
    assert "政府购买服务合同履约情况报告" in text
    assert squash(contract["title"]) in text
    assert f"{contract['amount']:,.2f}" in text
    for milestone in await db.fetch("SELECT * FROM milestones WHERE contract_id = $1", contract["id"]):
        assert milestone["title"] in text
        assert f"{milestone['amount']:,.2f}" in text
    payments = await db.fetch("SELECT * FROM payments WHERE contract_id = $1", contract["id"])
    assert payments, "the sample contract should have payments"
    for payment in payments:
        assert f"{payment['amount']:,.2f}" in text
        if payment["treasury_reference"]:
            assert payment["treasury_reference"] in text
    for evaluation in await db.fetch("SELECT * FROM evaluations WHERE contract_id = $1 AND status = 'accepted'", contract["id"]):
        assert f"{evaluation['total_score']}分" in text
    for event in ("中标结果公告", "合同生效", "第1期交付", "第1期委托评价", "第1期评价验收", "第1期发起支付"):
        assert event in text
    total_paid = sum(p["amount"] for p in payments)
    assert f"已支付（元）{total_paid:,.2f}" in text


async def test_a_terminated_contract_says_so_and_shows_the_cancelled_milestones(client, world):
    w, contract_ids = world
    contract = await db.fetchrow("SELECT * FROM contracts WHERE id = ANY($1) AND status = 'terminated'", contract_ids)
    pdf = await get_pdf_as(client, f"{API}/contracts/{contract['id']}/report.pdf", w.bureau_user_id)
    text = squash(pdf.text)
    assert "已终止" in text and "因承接主体原因" in text
    assert "合同终止" in text and "已取消" in text
    cancelled = await db.fetchval(
        "SELECT sum(amount) FROM milestones WHERE contract_id = $1 AND status = 'cancelled'", contract["id"]
    )
    assert f"终止取消（元）{cancelled:,.2f}" in text


async def test_same_request_twice_gives_identical_bytes(client, world):
    w, contract_ids = world
    path = f"{API}/contracts/{contract_ids[0]}/report.pdf"
    first = await get_pdf_as(client, path, w.bureau_user_id)
    second = await get_pdf_as(client, path, w.bureau_user_id)
    assert first.content == second.content
    supervisor = await factories.signed_in("supervisor")
    assert (await get_pdf(client, path, supervisor)).content == first.content


async def test_other_organisations_get_404_and_other_roles_403(client, world):
    w, contract_ids = world
    path = f"{API}/contracts/{contract_ids[0]}/report.pdf"
    # another bureau: as if the contract did not exist
    response = await client.get(path, headers=(await factories.signed_in("bureau")).headers)
    assert response.status_code == 404, response.text
    # the roles the report is never for (its bureau's, supervisors' and admins'): refused outright
    for headers in (
        token_headers(w.vendor_user_ids[0]),
        token_headers(w.evaluator_user_ids[0]),
        (await factories.signed_in("expert")).headers,
    ):
        response = await client.get(path, headers=headers)
        assert response.status_code == 403, response.text
    assert (await client.get(path)).status_code == 401
