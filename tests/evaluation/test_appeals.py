"""The vendor's appeal (申诉) against an accepted evaluation: within 5 working days; an upheld
appeal supersedes the evaluation and commissions a re-evaluation by a different evaluator, and
payment waits for it."""

from __future__ import annotations

from uuid import UUID

from govbuy import database as db
from tests import factories

API = "/api/v1/evaluations"


async def accepted(client, total: str = "55"):
    award, contract = await factories.contract_from_award(client)
    milestone = contract["milestones"][0]
    evaluation = await factories.accepted_evaluation(client, award, contract["id"], milestone["id"], total)
    return award, contract, milestone, evaluation


async def appeal(client, award, evaluation, reason: str = "满意度调查样本不足，评分依据有误"):
    return await client.post(f"{API}/{evaluation['id']}/appeals", json={"reason": reason}, headers=award.vendor.headers)


async def test_a_vendor_appeals_within_the_window(client):
    award, _, _, evaluation = await accepted(client)
    r = await appeal(client, award, evaluation)
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "pending"
    again = await appeal(client, award, evaluation)
    assert again.status_code == 409 and again.json()["code"] == "appeal_already_pending"


async def test_an_appeal_after_five_working_days_is_refused(client):
    award, _, _, evaluation = await accepted(client)
    await factories.advance_past(evaluation["appeal_deadline"])  # 5 working days, whatever the holidays
    r = await appeal(client, award, evaluation)
    assert r.status_code == 409
    assert r.json()["code"] == "appeal_window_closed"
    assert await db.fetchval("SELECT count(*) FROM appeals") == 0


async def test_only_the_contracts_vendor_appeals(client):
    award, _, _, evaluation = await accepted(client)
    stranger = await factories.fast_user("vendor")
    r = await client.post(f"{API}/{evaluation['id']}/appeals", json={"reason": "x"}, headers=stranger.headers)
    assert r.status_code == 404


async def test_a_pending_appeal_holds_the_payment(client):
    award, contract, milestone, evaluation = await accepted(client)
    await appeal(client, award, evaluation)
    await factories.advance_past(evaluation["appeal_deadline"])
    r = await client.post(
        f"/api/v1/contracts/{contract['id']}/milestones/{milestone['id']}/payments",
        headers={**award.bureau.headers, "Idempotency-Key": "held"},
    )
    assert r.status_code == 409
    assert r.json()["code"] == "appeal_pending"


async def test_a_dismissed_appeal_lets_the_payment_go_ahead_on_the_original_grade(client):
    award, contract, milestone, evaluation = await accepted(client, "72")
    appeal_id = (await appeal(client, award, evaluation)).json()["id"]
    r = await client.post(
        f"{API}/{evaluation['id']}/appeals/{appeal_id}/resolve",
        json={"outcome": "dismissed", "reply": "评分依据充分"}, headers=award.bureau.headers,
    )
    assert r.status_code == 200 and r.json()["status"] == "dismissed"
    await factories.advance_past(evaluation["appeal_deadline"])
    r = await client.post(
        f"/api/v1/contracts/{contract['id']}/milestones/{milestone['id']}/payments",
        headers={**award.bureau.headers, "Idempotency-Key": "after-dismissal"},
    )
    assert r.status_code == 201
    assert (r.json()["grade"], r.json()["amount"]) == ("fair", "72000.00")


async def test_an_upheld_appeal_commissions_a_reevaluation_and_payment_waits_for_it(client):
    award, contract, milestone, evaluation = await accepted(client, "55")
    appeal_id = (await appeal(client, award, evaluation)).json()["id"]
    second = await factories.evaluator_user()
    r = await client.post(
        f"{API}/{evaluation['id']}/appeals/{appeal_id}/resolve",
        json={"outcome": "upheld", "reply": "重新评价", "new_evaluator_org_id": str(second.organisation_id)},
        headers=award.bureau.headers,
    )
    assert r.status_code == 200, r.text
    reevaluation_id = r.json()["reevaluation_id"]
    original = (await client.get(f"{API}/{evaluation['id']}", headers=award.bureau.headers)).json()
    assert (original["status"], original["superseded_by_id"]) == ("accepted", reevaluation_id)
    assert original["grade"] == "poor"  # kept as it was
    reevaluation = (await client.get(f"{API}/{reevaluation_id}", headers=second.headers)).json()
    assert (reevaluation["status"], reevaluation["supersedes_id"]) == ("commissioned", evaluation["id"])
    pay = f"/api/v1/contracts/{contract['id']}/milestones/{milestone['id']}/payments"
    await factories.advance_past(evaluation["appeal_deadline"])
    r = await client.post(pay, headers={**award.bureau.headers, "Idempotency-Key": "too-early"})
    assert (r.status_code, r.json()["code"]) == (409, "evaluation_required")
    # the re-evaluation, accepted and past its own appeal window, is what the payment rests on
    scores = factories.scores_totalling(reevaluation["indicators"], "91")
    await client.put(f"{API}/{reevaluation_id}/scores", json={"scores": scores}, headers=factories.if_match(second, reevaluation))
    await client.post(f"{API}/{reevaluation_id}/submit", headers=second.headers)
    accepted_again = await client.post(f"{API}/{reevaluation_id}/accept", headers=award.bureau.headers)
    assert accepted_again.status_code == 200
    await factories.advance_past(accepted_again.json()["appeal_deadline"])
    r = await client.post(pay, headers={**award.bureau.headers, "Idempotency-Key": "now"})
    assert r.status_code == 201, r.text
    assert (r.json()["evaluation_id"], r.json()["grade"], r.json()["amount"]) == (reevaluation_id, "excellent", "90000.00")


async def test_the_original_evaluator_may_not_reevaluate(client):
    award, _, _, evaluation = await accepted(client)
    appeal_id = (await appeal(client, award, evaluation)).json()["id"]
    r = await client.post(
        f"{API}/{evaluation['id']}/appeals/{appeal_id}/resolve",
        json={"outcome": "upheld", "reply": "重新评价", "new_evaluator_org_id": evaluation["evaluator_org_id"]},
        headers=award.bureau.headers,
    )
    assert r.status_code == 409
    assert r.json()["code"] == "reevaluation_requires_different_evaluator"
    assert await db.fetchval("SELECT status FROM appeals WHERE id = $1", UUID(appeal_id)) == "pending"


async def test_an_upheld_appeal_needs_a_new_evaluator(client):
    award, _, _, evaluation = await accepted(client)
    appeal_id = (await appeal(client, award, evaluation)).json()["id"]
    r = await client.post(
        f"{API}/{evaluation['id']}/appeals/{appeal_id}/resolve",
        json={"outcome": "upheld", "reply": "重新评价"}, headers=award.bureau.headers,
    )
    assert r.status_code == 422 and r.json()["code"] == "new_evaluator_required"


async def test_the_reevaluator_passes_the_conflict_checks_too(client):
    award, _, _, evaluation = await accepted(client)
    appeal_id = (await appeal(client, award, evaluation)).json()["id"]
    r = await client.post(
        f"{API}/{evaluation['id']}/appeals/{appeal_id}/resolve",
        json={"outcome": "upheld", "reply": "重新评价", "new_evaluator_org_id": str(award.bidder_org_ids[1])},
        headers=award.bureau.headers,
    )
    assert r.status_code == 409 and r.json()["code"] == "evaluator_conflict_of_interest"


async def test_a_second_upheld_appeal_never_goes_back_to_an_earlier_evaluator(client):
    award, _, _, evaluation = await accepted(client, "55")
    first_evaluator = evaluation["evaluator_org_id"]
    second, third = await factories.evaluator_user(), await factories.evaluator_user()
    appeal_id = (await appeal(client, award, evaluation)).json()["id"]
    r = await client.post(f"{API}/{evaluation['id']}/appeals/{appeal_id}/resolve",
                          json={"outcome": "upheld", "reply": "重新评价", "new_evaluator_org_id": str(second.organisation_id)},
                          headers=award.bureau.headers)
    assert r.status_code == 200, r.text
    reevaluation = (await client.get(f"{API}/{r.json()['reevaluation_id']}", headers=second.headers)).json()
    scores = factories.scores_totalling(reevaluation["indicators"], "58")
    await client.put(f"{API}/{reevaluation['id']}/scores", json={"scores": scores}, headers=factories.if_match(second, reevaluation))
    await client.post(f"{API}/{reevaluation['id']}/submit", headers=second.headers)
    assert (await client.post(f"{API}/{reevaluation['id']}/accept", headers=award.bureau.headers)).status_code == 200
    again = (await appeal(client, award, reevaluation, "复评仍未核实服务记录")).json()["id"]
    url = f"{API}/{reevaluation['id']}/appeals/{again}/resolve"
    body = {"outcome": "upheld", "reply": "再次重新评价"}
    for earlier in (first_evaluator, str(second.organisation_id)):
        r = await client.post(url, json={**body, "new_evaluator_org_id": earlier}, headers=award.bureau.headers)
        assert (r.status_code, r.json()["code"]) == (409, "reevaluation_requires_different_evaluator")
    r = await client.post(url, json={**body, "new_evaluator_org_id": str(third.organisation_id)}, headers=award.bureau.headers)
    assert r.status_code == 200, r.text
