"""Contracts from awards, signing, amendments, termination, deliverables and who sees what."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from govbuy import clock
from govbuy import database as db
from tests import factories


async def test_contract_from_an_award_splits_the_price_into_milestones_exact_to_the_fen(client):
    award = await factories.award_past_standstill(price="100000.01", plan=(("一", "33.33", 10), ("二", "33.33", 20), ("三", "33.34", 30)))
    today = await clock.today()
    r = await client.post(
        "/api/v1/contracts", json={"tender_id": str(award.tender_id), "start_date": str(today)}, headers=award.bureau.headers
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert r.headers["etag"] == f'"{body["version"]}"'
    assert body["status"] == "draft"
    assert body["amount"] == "100000.01"
    assert body["vendor_id"] == body["payee_id"] == str(award.vendor.organisation_id)
    amounts = [m["amount"] for m in body["milestones"]]
    assert amounts == ["33330.00", "33330.00", "33340.01"]
    assert sum(Decimal(a) for a in amounts) == Decimal("100000.01")
    assert [m["due_date"] for m in body["milestones"]] == [str(today + timedelta(days=d)) for d in (10, 20, 30)]
    assert body["payment_rule_source"] == "default"
    assert [b["ratio"] for b in body["payment_rule"]] == ["0", "0.80", "0.95", "1.00"]
    assert (body["paid"], body["withheld"], body["remaining"]) == ("0.00", "0.00", "100000.01")


async def test_a_tender_gets_one_contract_only(client):
    award, _ = await factories.contract_from_award(client, sign=False)
    r = await client.post(
        "/api/v1/contracts",
        json={"tender_id": str(award.tender_id), "start_date": str(await clock.today())},
        headers=award.bureau.headers,
    )
    assert r.status_code == 409


async def test_another_bureau_cannot_contract_the_tender(client):
    award = await factories.award_past_standstill()
    stranger = await factories.fast_user("bureau")
    r = await client.post(
        "/api/v1/contracts",
        json={"tender_id": str(award.tender_id), "start_date": str(await clock.today())},
        headers=stranger.headers,
    )
    assert r.status_code == 404


async def test_contract_during_the_standstill_is_refused(client):
    award = await factories.award_past_standstill()
    await db.execute(  # three days from the service's clock, not the database server's
        "UPDATE tender_awards SET standstill_until = $2 WHERE tender_id = $1",
        award.tender_id, await clock.now() + timedelta(days=3),
    )
    r = await client.post(
        "/api/v1/contracts",
        json={"tender_id": str(award.tender_id), "start_date": str(await clock.today())},
        headers=award.bureau.headers,
    )
    assert r.status_code == 409
    assert r.json()["code"] == "standstill_active"
    assert await db.fetchval("SELECT count(*) FROM contracts") == 0


async def test_the_tender_payment_rule_is_the_contract_rule(client):
    rule = [
        {"min_score": "0", "max_score": "70", "ratio": "0"},
        {"min_score": "70", "max_score": "100", "ratio": "1"},
    ]
    _, body = await factories.contract_from_award(client, payment_rule=rule, sign=False)
    assert body["payment_rule_source"] == "tender"
    assert [(b["min_score"], b["max_score"], b["ratio"]) for b in body["payment_rule"]] == [("0", "70", "0"), ("70", "100", "1")]


async def test_signing_by_both_parties_activates_and_commits_the_budget(client):
    # and the tender is contracted only then, when its reservation becomes the commitment
    award, body = await factories.contract_from_award(client, sign=False)
    assert await factories.budget_figures(award.budget_line_id) == {
        "amount": Decimal("1000000.00"), "reserved": Decimal("400000.00"), "committed": 0, "spent": 0,
    }
    r = await client.post(f"/api/v1/contracts/{body['id']}/sign", headers=award.bureau.headers)
    assert r.status_code == 200 and r.json()["status"] == "draft"
    again = await client.post(f"/api/v1/contracts/{body['id']}/sign", headers=award.bureau.headers)
    assert again.status_code == 409 and again.json()["code"] == "already_signed"
    r = await client.post(f"/api/v1/contracts/{body['id']}/sign", headers=award.vendor.headers)
    assert r.status_code == 200
    assert r.json()["status"] == "active"
    assert await db.fetchval("SELECT status FROM tenders WHERE id = $1", award.tender_id) == "contracted"
    assert await factories.budget_figures(award.budget_line_id) == {
        "amount": Decimal("1000000.00"), "reserved": 0, "committed": Decimal("300000.00"), "spent": 0,
    }


async def test_a_stale_if_match_on_signing_is_412(client):
    award, body = await factories.contract_from_award(client, sign=False)
    r = await client.post(
        f"/api/v1/contracts/{body['id']}/sign", headers={**award.vendor.headers, "If-Match": '"99"'}
    )
    assert r.status_code == 412


async def test_another_vendor_sees_nothing_of_the_contract(client):
    award, body = await factories.contract_from_award(client, sign=False)
    other = await factories.fast_user("vendor")
    assert (await client.get(f"/api/v1/contracts/{body['id']}", headers=other.headers)).status_code == 404
    assert (await client.post(f"/api/v1/contracts/{body['id']}/sign", headers=other.headers)).status_code == 404
    listing = await client.get("/api/v1/contracts", headers=other.headers)
    assert listing.json()["items"] == []
    mine = await client.get("/api/v1/contracts", headers=award.vendor.headers)
    assert [c["id"] for c in mine.json()["items"]] == [body["id"]]


async def test_supervisor_reads_every_contract_but_cannot_sign(client):
    _, body = await factories.contract_from_award(client, sign=False)
    supervisor = await factories.fast_user("supervisor")
    assert (await client.get(f"/api/v1/contracts/{body['id']}", headers=supervisor.headers)).status_code == 200
    assert (await client.post(f"/api/v1/contracts/{body['id']}/sign", headers=supervisor.headers)).status_code == 403


async def test_an_uncommissioned_evaluator_does_not_see_the_contract(client):
    _, body = await factories.contract_from_award(client)
    evaluator = await factories.evaluator_user()
    assert (await client.get(f"/api/v1/contracts/{body['id']}", headers=evaluator.headers)).status_code == 404


async def test_amendments_add_at_most_ten_percent_in_total(client):
    award, body = await factories.contract_from_award(client)
    url = f"/api/v1/contracts/{body['id']}/amendments"
    r = await client.post(url, json={"increase": "20000.00", "reason": "增加服务对象"}, headers=award.bureau.headers)
    assert r.status_code == 201, r.text
    assert r.json()["amount_after"] == "320000.00"
    assert sum(Decimal(s["added"]) for s in r.json()["shares"]) == Decimal("20000.00")
    over = await client.post(url, json={"increase": "10000.01", "reason": "再次增加"}, headers=award.bureau.headers)
    assert over.status_code == 422
    assert over.json()["code"] == "amendment_exceeds_limit"
    contract = (await client.get(f"/api/v1/contracts/{body['id']}", headers=award.bureau.headers)).json()
    assert contract["amount"] == "320000.00"
    assert contract["amendment_headroom"] == "10000.00"
    assert sum(Decimal(m["amount"]) for m in contract["milestones"]) == Decimal("320000.00")
    assert (await factories.budget_figures(award.budget_line_id))["committed"] == Decimal("320000.00")
    exact = await client.post(url, json={"increase": "10000.00", "reason": "最后一次"}, headers=award.bureau.headers)
    assert exact.status_code == 201


async def test_an_amendment_the_budget_cannot_carry_is_refused_and_changes_nothing(client):
    award, body = await factories.contract_from_award(client, budget="305000.00", ceiling="300000.00", price="300000.00")
    r = await client.post(
        f"/api/v1/contracts/{body['id']}/amendments", json={"increase": "6000.00", "reason": "增加"}, headers=award.bureau.headers
    )
    assert r.status_code == 409
    assert r.json()["code"] == "budget_insufficient"
    contract = (await client.get(f"/api/v1/contracts/{body['id']}", headers=award.bureau.headers)).json()
    assert contract["amount"] == "300000.00"
    assert await db.fetchval("SELECT count(*) FROM amendments") == 0


async def test_termination_cancels_open_milestones_and_releases_their_commitment(client):
    award, body = await factories.contract_from_award(client)
    r = await client.post(
        f"/api/v1/contracts/{body['id']}/terminate",
        json={"reason": "承接主体严重违约", "for_cause": True},
        headers=award.bureau.headers,
    )
    assert r.status_code == 200, r.text
    contract = r.json()
    assert contract["status"] == "terminated"
    assert contract["terminated_for_cause"] is True
    assert {m["status"] for m in contract["milestones"]} == {"cancelled"}
    assert (contract["cancelled"], contract["remaining"]) == ("300000.00", "0.00")
    assert (await factories.budget_figures(award.budget_line_id))["committed"] == 0
    again = await client.post(
        f"/api/v1/contracts/{body['id']}/terminate", json={"reason": "x", "for_cause": False}, headers=award.bureau.headers
    )
    assert again.status_code == 409


async def test_terminating_a_draft_gives_the_reservation_back(client):
    award, body = await factories.contract_from_award(client, sign=False)
    r = await client.post(
        f"/api/v1/contracts/{body['id']}/terminate", json={"reason": "供应商拒签", "for_cause": True},
        headers=award.bureau.headers,
    )
    assert r.status_code == 200
    budget = await factories.budget_figures(award.budget_line_id)
    assert (budget["reserved"], budget["committed"]) == (0, 0)
    assert await db.fetchval("SELECT status FROM tenders WHERE id = $1", award.tender_id) == "cancelled"


async def test_deliverable_marks_the_milestone_delivered_and_an_overdue_one_shows(client):
    award, body = await factories.contract_from_award(client)
    first, second = body["milestones"][0], body["milestones"][1]
    await factories.advance_sandbox_clock(40)  # the first milestone was due after 30 days
    contract = (await client.get(f"/api/v1/contracts/{body['id']}", headers=award.vendor.headers)).json()
    assert [m["overdue"] for m in contract["milestones"]] == [True, False, False]
    deliverable = await factories.deliver_milestone(client, award, body["id"], first["id"])
    assert deliverable["late"] is True
    assert deliverable["figures"] == {"people_served": "120", "service_hours": "360.5"}
    contract = (await client.get(f"/api/v1/contracts/{body['id']}", headers=award.bureau.headers)).json()
    assert contract["milestones"][0]["status"] == "delivered"
    assert contract["milestones"][0]["overdue"] is True  # delivered late stays late
    on_time = await factories.deliver_milestone(client, award, body["id"], second["id"])
    assert on_time["late"] is False


async def test_a_bad_deliverable_figure_is_refused_with_its_field(client):
    award, body = await factories.contract_from_award(client)
    r = await client.post(
        f"/api/v1/contracts/{body['id']}/milestones/{body['milestones'][0]['id']}/deliverables",
        json={"summary": "完成", "figures": {"people_served": "12.5", "smiles": 3}},
        headers=award.vendor.headers,
    )
    assert r.status_code == 422
    assert r.json()["code"] == "invalid_deliverable"
    fields = {e["field"] for e in r.json()["errors"]}
    assert fields == {"figures.people_served", "figures.smiles"}
    assert await db.fetchval("SELECT count(*) FROM deliverables") == 0


async def test_a_deliverable_cannot_attach_someone_elses_document(client):
    award, body = await factories.contract_from_award(client)
    r = await client.post(
        f"/api/v1/contracts/{body['id']}/milestones/{body['milestones'][0]['id']}/deliverables",
        json={"summary": "完成", "document_ids": ["a" * 64]},
        headers=award.vendor.headers,
    )
    assert r.status_code == 422
    assert r.json()["code"] == "document_not_found"


async def test_every_contract_change_is_in_the_audit_log(client):
    award, body = await factories.contract_from_award(client)
    actions = [
        r["action"]
        for r in await db.fetch(
            "SELECT action FROM audit_events WHERE entity_type = 'contract' AND entity_id = $1 ORDER BY seq", body["id"]
        )
    ]
    assert actions == ["contract.created", "contract.signed", "contract.signed", "contract.activated"]
