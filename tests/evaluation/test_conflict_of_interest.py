"""回避: an evaluator may not evaluate a contract if it is the vendor, bid in the same tender, or
declared an affiliation with the vendor, nor evaluate the same vendor more than 3 times in a
row. Each refusal names its rule; a clean evaluator is accepted."""

from __future__ import annotations

from uuid import UUID

from govbuy import database as db
from tests import factories

API = "/api/v1/evaluations"


async def commission(client, award, contract, milestone_index: int, evaluator_org_id: UUID):
    return await client.post(
        API,
        json={"contract_id": contract["id"], "milestone_id": contract["milestones"][milestone_index]["id"],
              "evaluator_org_id": str(evaluator_org_id), "due_date": contract["end_date"]},
        headers=award.bureau.headers,
    )


def refused_for(response, *rules: str) -> bool:
    body = response.json()
    return (
        response.status_code == 409
        and body["code"] == "evaluator_conflict_of_interest"
        and sorted(e["rule"] for e in body["errors"]) == sorted(rules)
        and all(rule in body["detail"] for rule in rules)
    )


async def test_a_clean_evaluator_is_accepted(client):
    award, contract = await factories.contract_from_award(client)
    evaluator = await factories.evaluator_user()
    r = await commission(client, award, contract, 0, evaluator.organisation_id)
    assert r.status_code == 201, r.text


async def test_the_vendor_itself_is_refused(client):
    award, contract = await factories.contract_from_award(client)
    r = await commission(client, award, contract, 0, award.vendor.organisation_id)
    assert refused_for(r, "is_vendor"), r.json()


async def test_an_organisation_that_bid_in_the_same_tender_is_refused(client):
    award, contract = await factories.contract_from_award(client)
    competitor = award.bidder_org_ids[1]
    r = await commission(client, award, contract, 0, competitor)
    assert refused_for(r, "bid_in_tender"), r.json()


async def test_an_evaluator_affiliated_with_the_vendor_is_refused(client):
    award, contract = await factories.contract_from_award(client)
    evaluator = await factories.evaluator_user()
    admin = await factories.fast_user("admin")
    r = await client.put(
        f"/api/v1/evaluators/{evaluator.organisation_id}/affiliations",
        json={"vendor_ids": [str(award.vendor.organisation_id)], "note": "理事交叉任职"},
        headers=admin.headers,
    )
    assert r.status_code == 200
    r = await commission(client, award, contract, 0, evaluator.organisation_id)
    assert refused_for(r, "affiliated_with_vendor"), r.json()


async def test_a_fourth_evaluation_of_the_vendor_in_a_row_is_refused(client):
    plan = tuple((f"阶段{i}", "20", 30 * i) for i in range(1, 6))
    award, contract = await factories.contract_from_award(client, plan=plan)
    evaluator = await factories.evaluator_user()
    for i in range(3):
        assert (await commission(client, award, contract, i, evaluator.organisation_id)).status_code == 201
    r = await commission(client, award, contract, 3, evaluator.organisation_id)
    assert refused_for(r, "rotation"), r.json()
    # another evaluator breaks the run, after which the first may evaluate the vendor again
    other = await factories.evaluator_user()
    assert (await commission(client, award, contract, 3, other.organisation_id)).status_code == 201
    assert (await commission(client, award, contract, 4, evaluator.organisation_id)).status_code == 201


async def test_rotation_counts_the_vendors_evaluations_across_its_contracts(client):
    vendor = await factories.fast_user("vendor")
    evaluator = await factories.evaluator_user()
    for _ in range(3):
        award, contract = await factories.contract_from_award(client, vendor=vendor, plan=(("全部", "100", 30),))
        assert (await commission(client, award, contract, 0, evaluator.organisation_id)).status_code == 201
    award, contract = await factories.contract_from_award(client, vendor=vendor, plan=(("全部", "100", 30),))
    assert refused_for(await commission(client, award, contract, 0, evaluator.organisation_id), "rotation")


async def test_every_failing_rule_is_named_at_once(client):
    plan = tuple((f"阶段{i}", "25", 30 * i) for i in range(1, 5))
    award, contract = await factories.contract_from_award(client, plan=plan)
    evaluator = await factories.evaluator_user()
    for i in range(3):
        assert (await commission(client, award, contract, i, evaluator.organisation_id)).status_code == 201
    admin = await factories.fast_user("admin")
    await client.put(
        f"/api/v1/evaluators/{evaluator.organisation_id}/affiliations",
        json={"vendor_ids": [str(award.vendor.organisation_id)]}, headers=admin.headers,
    )
    r = await commission(client, award, contract, 3, evaluator.organisation_id)
    assert refused_for(r, "affiliated_with_vendor", "rotation"), r.json()


async def test_a_refused_commission_writes_nothing(client):
    award, contract = await factories.contract_from_award(client)
    before = await db.fetchval("SELECT count(*) FROM audit_events")
    r = await commission(client, award, contract, 0, award.vendor.organisation_id)
    assert r.status_code == 409
    assert await db.fetchval("SELECT count(*) FROM evaluations") == 0
    assert await db.fetchval("SELECT count(*) FROM audit_events") == before


async def test_an_organisation_that_is_no_evaluator_is_refused(client):
    award, contract = await factories.contract_from_award(client)
    stranger = await factories.organisation("vendor")
    r = await commission(client, award, contract, 0, stranger.id)
    assert r.status_code == 422
    assert r.json()["code"] == "not_an_evaluator"
