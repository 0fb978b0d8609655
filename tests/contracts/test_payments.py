"""Payments: only against an accepted evaluation, the grade's payout ratio under the contract's
rule, at most once per milestone whatever retries or concurrent requests arrive."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from decimal import Decimal

from govbuy import database as db
from govbuy.rules import SHANGHAI
from tests import factories


async def _paid_ready(client, total="95.00", **kw):
    """An active contract whose first milestone has an accepted evaluation and a closed appeal window."""
    award, contract = await factories.contract_from_award(client, **kw)
    milestone = contract["milestones"][0]
    evaluation = await factories.accepted_evaluation(client, award, contract["id"], milestone["id"], total)
    await factories.advance_past(evaluation["appeal_deadline"])
    return award, contract, milestone, evaluation


def _pay_url(contract, milestone) -> str:
    return f"/api/v1/contracts/{contract['id']}/milestones/{milestone['id']}/payments"


async def test_payment_without_an_accepted_evaluation_is_refused(client):
    award, contract = await factories.contract_from_award(client)
    milestone = contract["milestones"][0]
    r = await client.post(_pay_url(contract, milestone), headers={**award.bureau.headers, "Idempotency-Key": "k1"})
    assert r.status_code == 409
    assert r.json()["code"] == "evaluation_required"
    await factories.deliver_milestone(client, award, contract["id"], milestone["id"])
    evaluator = await factories.evaluator_user()
    r = await client.post(
        "/api/v1/evaluations",
        json={"contract_id": contract["id"], "milestone_id": milestone["id"],
              "evaluator_org_id": str(evaluator.organisation_id), "due_date": contract["end_date"]},
        headers=award.bureau.headers,
    )
    assert r.status_code == 201
    r = await client.post(_pay_url(contract, milestone), headers={**award.bureau.headers, "Idempotency-Key": "k2"})
    assert r.status_code == 409
    assert r.json()["code"] == "evaluation_required"
    assert await db.fetchval("SELECT count(*) FROM payments") == 0


async def test_payment_needs_an_idempotency_key(client):
    award, contract, milestone, _ = await _paid_ready(client)
    r = await client.post(_pay_url(contract, milestone), headers=award.bureau.headers)
    assert r.status_code == 422
    assert await db.fetchval("SELECT count(*) FROM payments") == 0


async def test_payment_waits_for_the_appeal_window(client):
    award, contract = await factories.contract_from_award(client)
    milestone = contract["milestones"][0]
    evaluation = await factories.accepted_evaluation(client, award, contract["id"], milestone["id"], "95")
    r = await client.post(_pay_url(contract, milestone), headers={**award.bureau.headers, "Idempotency-Key": "early"})
    assert r.status_code == 409
    assert r.json()["code"] == "appeal_window_open"
    assert evaluation["appeal_deadline"] in r.json()["detail"] or "appeal" in r.json()["detail"]


async def test_payment_is_the_milestone_amount_times_the_payout_ratio_of_the_grade(client):
    award, contract, milestone, evaluation = await _paid_ready(client, total="85.50")
    r = await client.post(_pay_url(contract, milestone), headers={**award.bureau.headers, "Idempotency-Key": "pay-1"})
    assert r.status_code == 201, r.text
    payment = r.json()
    assert r.headers["etag"] == '"1"'
    assert payment["grade"] == "good"
    assert payment["payout_ratio"] == "0.95"
    assert payment["milestone_amount"] == "90000.00"
    assert payment["amount"] == "85500.00"
    assert payment["withheld_amount"] == "4500.00"
    assert payment["evaluation_id"] == evaluation["id"]
    assert payment["status"] == "pending"
    assert payment["payee_id"] == str(award.vendor.organisation_id)
    read = (await client.get(f"/api/v1/contracts/{contract['id']}", headers=award.vendor.headers)).json()
    assert (read["paid"], read["withheld"], read["remaining"]) == ("85500.00", "4500.00", "210000.00")
    assert read["milestones"][0]["status"] == "paid"
    budget = await factories.budget_figures(award.budget_line_id)
    # The 4 500.00 withheld is never paid: it left the commitment (300 000.00 − 4 500.00).
    assert (budget["committed"], budget["spent"]) == (Decimal("295500.00"), Decimal("85500.00"))
    event = await db.fetchrow(
        "SELECT after FROM audit_events WHERE action = 'budget_line.withheld_released' AND entity_id = $1",
        str(award.budget_line_id),
    )
    assert Decimal(str(event["after"]["amount"])) == Decimal("4500.00") and event["after"]["milestone_id"] == milestone["id"]


async def test_the_same_key_returns_the_same_payment_and_another_key_is_refused(client):
    award, contract, milestone, _ = await _paid_ready(client)
    headers = {**award.bureau.headers, "Idempotency-Key": "same"}
    first = await client.post(_pay_url(contract, milestone), headers=headers)
    retry = await client.post(_pay_url(contract, milestone), headers=headers)
    assert (first.status_code, retry.status_code) == (201, 200)
    assert retry.json() == first.json()
    other = await client.post(_pay_url(contract, milestone), headers={**award.bureau.headers, "Idempotency-Key": "other"})
    assert other.status_code == 409
    assert other.json()["code"] == "milestone_already_paid"
    assert await db.fetchval("SELECT count(*) FROM payments") == 1
    assert (await factories.budget_figures(award.budget_line_id))["spent"] == Decimal("90000.00")


async def test_a_key_used_for_one_milestone_cannot_pay_another(client):
    award, contract, milestone, _ = await _paid_ready(client)
    headers = {**award.bureau.headers, "Idempotency-Key": "reused"}
    assert (await client.post(_pay_url(contract, milestone), headers=headers)).status_code == 201
    r = await client.post(_pay_url(contract, contract["milestones"][1]), headers=headers)
    assert r.status_code == 409
    assert r.json()["code"] == "idempotency_key_reused"


async def test_twenty_concurrent_requests_with_one_key_make_one_payment(client):
    award, contract, milestone, _ = await _paid_ready(client)
    headers = {**award.bureau.headers, "Idempotency-Key": "burst"}
    responses = await asyncio.gather(*(client.post(_pay_url(contract, milestone), headers=headers) for _ in range(20)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 19 + [201]
    assert len({r.json()["id"] for r in responses}) == 1
    assert await db.fetchval("SELECT count(*) FROM payments WHERE milestone_id = $1", uuid.UUID(milestone["id"])) == 1
    assert (await factories.budget_figures(award.budget_line_id))["spent"] == Decimal("90000.00")


async def test_twenty_concurrent_requests_with_different_keys_make_one_payment(client):
    award, contract, milestone, _ = await _paid_ready(client)
    responses = await asyncio.gather(
        *(
            client.post(_pay_url(contract, milestone), headers={**award.bureau.headers, "Idempotency-Key": f"key-{i}"})
            for i in range(20)
        )
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * 19
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"milestone_already_paid"}
    assert await db.fetchval("SELECT count(*) FROM payments") == 1
    assert (await factories.budget_figures(award.budget_line_id))["spent"] == Decimal("90000.00")


async def test_concurrent_payments_on_one_budget_line_never_overspend_it(client):
    # Four contracts on one line; every milestone of every contract evaluated excellent, then
    # every milestone paid at once. Spent ends exactly at what was committed, never above.
    bureau = await factories.fast_user("bureau")
    line = await factories.contract_budget_line(bureau.organisation_id, "1200000.00")
    ready, deadlines = [], []
    for _ in range(4):
        award, contract = await factories.contract_from_award(
            client, bureau=bureau, budget_line_id=line, price="300000.00", ceiling="300000.00",
            plan=(("一", "50", 10), ("二", "50", 20)),
        )
        for milestone in contract["milestones"]:
            evaluation = await factories.accepted_evaluation(client, award, contract["id"], milestone["id"], "92")
            ready.append((contract, milestone))
            deadlines.append(evaluation["appeal_deadline"])
    await factories.advance_past(*deadlines)
    responses = await asyncio.gather(
        *(
            client.post(_pay_url(c, m), headers={**bureau.headers, "Idempotency-Key": f"{m['id']}"})
            for c, m in ready
        )
    )
    assert [r.status_code for r in responses] == [201] * 8, [r.json() for r in responses]
    budget = await factories.budget_figures(line)
    assert budget["spent"] == budget["committed"] == Decimal("1200000.00")
    total = await db.fetchval("SELECT sum(amount) FROM payments WHERE budget_line_id = $1", line)
    assert total == budget["spent"]


async def test_confirming_a_payment_records_the_treasury_reference(client):
    award, contract, milestone, _ = await _paid_ready(client)
    payment = (await client.post(_pay_url(contract, milestone), headers={**award.bureau.headers, "Idempotency-Key": "c"})).json()
    url = f"/api/v1/contracts/{contract['id']}/payments/{payment['id']}/confirm"
    r = await client.post(url, json={"treasury_reference": "GK2026-000123"}, headers=award.bureau.headers)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "confirmed"
    assert r.json()["treasury_reference"] == "GK2026-000123"
    again = await client.post(url, json={"treasury_reference": "GK2026-000124"}, headers=award.bureau.headers)
    assert again.status_code == 409


async def test_a_vendor_cannot_pay_itself(client):
    award, contract, milestone, _ = await _paid_ready(client)
    r = await client.post(_pay_url(contract, milestone), headers={**award.vendor.headers, "Idempotency-Key": "v"})
    assert r.status_code == 403


async def test_a_poor_grade_pays_nothing_and_withholds_all(client):
    award, contract, milestone, _ = await _paid_ready(client, total="59.99")
    r = await client.post(_pay_url(contract, milestone), headers={**award.bureau.headers, "Idempotency-Key": "poor"})
    assert r.status_code == 201, r.text
    assert (r.json()["grade"], r.json()["amount"], r.json()["withheld_amount"]) == ("poor", "0.00", "90000.00")
    assert (await factories.budget_figures(award.budget_line_id))["spent"] == 0


async def test_payments_are_audited(client):
    award, contract, milestone, _ = await _paid_ready(client)
    payment = (await client.post(_pay_url(contract, milestone), headers={**award.bureau.headers, "Idempotency-Key": "a"})).json()
    row = await db.fetchrow(
        "SELECT actor_user_id, after FROM audit_events WHERE action = 'payment.created' AND entity_id = $1", payment["id"]
    )
    assert row["actor_user_id"] == award.bureau.user.id
    assert row["after"]["amount"] == "90000.00"


async def test_withheld_money_of_payments_made_before_its_release_is_released_once_by_the_command(client):
    award, contract, milestone, _ = await _paid_ready(client, total="85.50")
    r = await client.post(_pay_url(contract, milestone), headers={**award.bureau.headers, "Idempotency-Key": "pay-old"})
    assert r.status_code == 201, r.text
    # As a payment made before the release existed left it: withheld still committed, unmarked.
    await db.execute("UPDATE payments SET withheld_released_at = NULL WHERE id = $1", uuid.UUID(r.json()["id"]))
    await db.execute("UPDATE budget_lines SET committed = committed + 4500.00 WHERE id = $1", award.budget_line_id)
    from contracts import service as contracts_service

    assert await contracts_service.release_outstanding_withheld() == 1
    assert await contracts_service.release_outstanding_withheld() == 0  # once
    budget = await factories.budget_figures(award.budget_line_id)
    assert budget["committed"] == Decimal("295500.00")


async def test_a_payment_to_an_sme_is_due_thirty_days_after_acceptance_and_shows_late(client):
    """保障中小企业款项支付条例 (国务院令第802号) Arts. 8–9: 30 days from the acceptance (验收) —
    here the accepted evaluation's appeal window, before which no payment may be made."""
    from datetime import date, timedelta

    from govbuy.rules import last_day

    small = await factories.signed_in("vendor", await factories.organisation("vendor", code=factories.uscc("91")))
    award, contract = await factories.contract_from_award(client, vendor=small, sme_declaration="small")
    late = await factories.contract_from_award(client)  # a social organisation: no statutory due date
    milestone = contract["milestones"][0]
    evaluation = await factories.accepted_evaluation(client, award, contract["id"], milestone["id"], "90")
    other = late[1]["milestones"][0]
    await factories.accepted_evaluation(client, late[0], late[1]["id"], other["id"], "90")
    due = last_day(datetime.fromisoformat(evaluation["appeal_deadline"])) + timedelta(days=30)
    read = (await client.get(f"/api/v1/contracts/{contract['id']}", headers=award.bureau.headers)).json()
    assert (read["milestones"][0]["payment_due_on"], read["milestones"][0]["payment_overdue"]) == (due.isoformat(), False)
    region = await db.fetchval("SELECT region_code FROM organisations WHERE id = $1", award.bureau.organisation_id)
    regulator = await factories.signed_in("regulator", await factories.organisation("bureau", region_code=region))
    supervisor = await factories.signed_in("supervisor")
    listed = (await client.get("/api/v1/contracts/late-payments", headers=award.bureau.headers)).json()["items"]
    assert listed == []
    from govbuy.reports import format_cn_date
    from tests.reports.support import get_pdf, squash

    report = squash((await get_pdf(client, f"/api/v1/contracts/{contract['id']}/report.pdf", award.bureau)).text)
    assert "承接主体投标时声明为小型企业" in report and f"第1期应于{format_cn_date(due)}前支付" in report
    await factories.advance_past(datetime.combine(due + timedelta(days=1), datetime.min.time(), SHANGHAI))
    read = (await client.get(f"/api/v1/contracts/{contract['id']}", headers=award.bureau.headers)).json()
    assert read["milestones"][0]["payment_overdue"] is True
    other_read = (await client.get(f"/api/v1/contracts/{late[1]['id']}", headers=late[0].bureau.headers)).json()
    assert (other_read["milestones"][0]["payment_due_on"], other_read["milestones"][0]["payment_overdue"]) == (None, False)
    for reader in (award.bureau, regulator, supervisor):
        items = (await client.get("/api/v1/contracts/late-payments", headers=reader.headers)).json()["items"]
        mine = [i for i in items if i["milestone_id"] == milestone["id"]]
        assert len(mine) == 1 and mine[0]["days_late"] == 1 and mine[0]["payment_due_on"] == due.isoformat(), reader
    elsewhere = await factories.signed_in("regulator", await factories.organisation("bureau", region_code="650100"))
    assert (await client.get("/api/v1/contracts/late-payments", headers=elsewhere.headers)).json()["items"] == []
    # Paid and confirmed, it is no longer late.
    r = await client.post(_pay_url(contract, milestone), headers={**award.bureau.headers, "Idempotency-Key": "late"})
    assert r.status_code == 201, r.text
    r = await client.post(f"/api/v1/contracts/{contract['id']}/payments/{r.json()['id']}/confirm",
                          json={"treasury_reference": "GK-2027-0009"}, headers=award.bureau.headers)
    assert r.status_code == 200, r.text
    items = (await client.get("/api/v1/contracts/late-payments", headers=award.bureau.headers)).json()["items"]
    assert [i for i in items if i["milestone_id"] == milestone["id"]] == []
