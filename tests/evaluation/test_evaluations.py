"""The evaluation of a milestone: commissioned by the bureau, scored by the evaluator, submitted,
accepted or returned; who sees it; the total and grade computed by the service."""

from __future__ import annotations

from datetime import timedelta

from govbuy import clock
from govbuy import database as db
from tests import factories

API = "/api/v1/evaluations"


async def commissioned(client, *, deliver: bool = True, template_id: str | None = None):
    award, contract = await factories.contract_from_award(client)
    milestone = contract["milestones"][0]
    if deliver:
        await factories.deliver_milestone(client, award, contract["id"], milestone["id"])
    evaluator = await factories.evaluator_user()
    body = {
        "contract_id": contract["id"], "milestone_id": milestone["id"],
        "evaluator_org_id": str(evaluator.organisation_id), "due_date": str(await clock.today() + timedelta(days=20)),
    }
    if template_id:
        body["template_id"] = template_id
    r = await client.post(API, json=body, headers=award.bureau.headers)
    assert r.status_code == 201, r.text
    return award, contract, milestone, evaluator, r.json()


async def test_a_commissioned_evaluation_carries_the_template_and_the_due_date(client):
    _, contract, milestone, evaluator, evaluation = await commissioned(client)
    assert evaluation["status"] == "commissioned"
    assert evaluation["evaluator_org_id"] == str(evaluator.organisation_id)
    assert evaluation["milestone_id"] == milestone["id"]
    assert len(evaluation["indicators"]) == 11
    assert evaluation["overdue"] is False
    assert evaluation["total_score"] is None


async def test_scores_are_totalled_and_graded_by_the_service(client):
    award, contract, milestone, evaluator, evaluation = await commissioned(client)
    scores = factories.scores_totalling(evaluation["indicators"], "87.25")
    r = await client.put(f"{API}/{evaluation['id']}/scores", json={"scores": scores, "findings": "服务记录完整"}, headers=factories.if_match(evaluator, evaluation))
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == '"2"'
    r = await client.post(f"{API}/{evaluation['id']}/submit", headers={**evaluator.headers, "If-Match": '"2"'})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["status"], body["total_score"], body["grade"], body["grade_label"]) == ("submitted", "87.25", "good", "良")
    assert body["payout_ratio"] == "0.95"
    r = await client.post(f"{API}/{evaluation['id']}/accept", headers=award.bureau.headers)
    assert r.status_code == 200
    assert r.json()["status"] == "accepted"
    assert r.json()["appeal_deadline"] is not None
    read = (await client.get(f"/api/v1/contracts/{contract['id']}", headers=award.bureau.headers)).json()
    assert read["milestones"][0]["status"] == "evaluated"
    assert read["milestones"][0]["grade"] == "good"


async def test_the_satisfaction_survey_scores_the_satisfaction_indicator(client):
    _, _, _, evaluator, evaluation = await commissioned(client)
    scores = factories.scores_totalling(evaluation["indicators"], "100")
    scores["SA1"] = "1"  # overridden by the survey
    r = await client.put(
        f"{API}/{evaluation['id']}/scores",
        json={"scores": scores, "survey": {"responses": 200, "satisfied": 180}},
        headers=factories.if_match(evaluator, evaluation),
    )
    assert r.status_code == 200, r.text
    assert r.json()["scores"]["SA1"] == "13.50"  # 180 / 200 × 15
    assert r.json()["survey"] == {"responses": 200, "satisfied": 180}
    submitted = (await client.post(f"{API}/{evaluation['id']}/submit", headers=evaluator.headers)).json()
    assert submitted["total_score"] == "98.50"


async def test_a_score_over_its_weight_is_refused_and_nothing_is_written(client):
    _, _, _, evaluator, evaluation = await commissioned(client)
    r = await client.put(f"{API}/{evaluation['id']}/scores", json={"scores": {"IN1": "4.5", "NOPE": "1"}}, headers=factories.if_match(evaluator, evaluation))
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "invalid_scores"
    assert {(e["field"], e["code"]) for e in body["errors"]} == {
        ("scores.IN1", "score_exceeds_weight"), ("scores.NOPE", "unknown_indicator"),
    }
    stored = await db.fetchrow("SELECT scores, version FROM evaluations WHERE id = $1", evaluation["id"])
    assert (stored["scores"], stored["version"]) == ({}, 1)


async def test_a_survey_with_more_satisfied_than_responses_is_refused(client):
    _, _, _, evaluator, evaluation = await commissioned(client)
    r = await client.put(
        f"{API}/{evaluation['id']}/scores", json={"survey": {"responses": 10, "satisfied": 11}},
        headers=factories.if_match(evaluator, evaluation),
    )
    assert r.status_code == 422
    assert r.json()["code"] == "invalid_survey"


async def test_an_incomplete_sheet_cannot_be_submitted(client):
    _, _, _, evaluator, evaluation = await commissioned(client)
    await client.put(f"{API}/{evaluation['id']}/scores", json={"scores": {"IN1": "4"}}, headers=factories.if_match(evaluator, evaluation))
    r = await client.post(f"{API}/{evaluation['id']}/submit", headers=evaluator.headers)
    assert r.status_code == 422
    assert r.json()["code"] == "invalid_scores"
    assert {e["code"] for e in r.json()["errors"]} == {"score_missing"}


async def test_an_undelivered_milestone_cannot_be_submitted(client):
    _, _, _, evaluator, evaluation = await commissioned(client, deliver=False)
    scores = factories.scores_totalling(evaluation["indicators"], "90")
    await client.put(f"{API}/{evaluation['id']}/scores", json={"scores": scores}, headers=factories.if_match(evaluator, evaluation))
    r = await client.post(f"{API}/{evaluation['id']}/submit", headers=evaluator.headers)
    assert r.status_code == 409
    assert r.json()["code"] == "deliverable_required"


async def test_a_returned_evaluation_goes_back_to_the_evaluator_with_the_reason(client):
    award, _, _, evaluator, evaluation = await commissioned(client)
    scores = factories.scores_totalling(evaluation["indicators"], "70")
    await client.put(f"{API}/{evaluation['id']}/scores", json={"scores": scores}, headers=factories.if_match(evaluator, evaluation))
    await client.post(f"{API}/{evaluation['id']}/submit", headers=evaluator.headers)
    r = await client.post(f"{API}/{evaluation['id']}/return", json={"reason": "缺少满意度调查样本说明"}, headers=award.bureau.headers)
    assert r.status_code == 200
    assert (r.json()["status"], r.json()["returned_reason"], r.json()["grade"]) == ("returned", "缺少满意度调查样本说明", None)
    scores = factories.scores_totalling(evaluation["indicators"], "75")
    returned = await factories.editing(client, f"{API}/{evaluation['id']}", evaluator)
    assert (await client.put(f"{API}/{evaluation['id']}/scores", json={"scores": scores}, headers=returned)).status_code == 200
    again = await client.post(f"{API}/{evaluation['id']}/submit", headers=evaluator.headers)
    assert (again.json()["status"], again.json()["total_score"]) == ("submitted", "75.00")


async def test_an_accepted_evaluation_is_immutable(client):
    award, contract = await factories.contract_from_award(client)
    evaluation = await factories.accepted_evaluation(client, award, contract["id"], contract["milestones"][0]["id"], "91")
    evaluator_id = evaluation["evaluator_org_id"]
    evaluator = await factories.fast_user("evaluator", __import__("uuid").UUID(evaluator_id))
    r = await client.put(f"{API}/{evaluation['id']}/scores", json={"scores": {"IN1": "1"}}, headers=factories.if_match(evaluator, evaluation))
    assert r.status_code == 409 and r.json()["code"] == "evaluation_not_editable"
    r = await client.post(f"{API}/{evaluation['id']}/return", json={"reason": "改"}, headers=award.bureau.headers)
    assert r.status_code == 409
    # and the database refuses too, whatever path tries
    try:
        await db.execute("UPDATE evaluations SET total_score = 10 WHERE id = $1", evaluation["id"])
    except Exception as exc:  # noqa: BLE001 - the trigger's check violation
        assert "immutable" in str(exc)
    else:
        raise AssertionError("an accepted evaluation was changed")


async def test_an_evaluator_sees_only_what_it_was_commissioned_for(client):
    award, contract, _, evaluator, evaluation = await commissioned(client)
    other = await factories.evaluator_user()
    assert (await client.get(f"{API}/{evaluation['id']}", headers=other.headers)).status_code == 404
    assert (await client.put(f"{API}/{evaluation['id']}/scores", json={"scores": {}}, headers=factories.if_match(other, evaluation))).status_code == 404
    assert (await client.get(API, headers=other.headers)).json()["items"] == []
    assert (await client.get(f"{API}/{evaluation['id']}", headers=evaluator.headers)).status_code == 200
    # the commissioned evaluator sees the contract it evaluates, the other one does not
    assert (await client.get(f"/api/v1/contracts/{contract['id']}", headers=evaluator.headers)).status_code == 200
    assert (await client.get(f"/api/v1/contracts/{contract['id']}", headers=other.headers)).status_code == 404


async def test_a_vendor_sees_its_evaluation_only_once_accepted(client):
    award, contract, _, evaluator, evaluation = await commissioned(client)
    url = f"{API}/{evaluation['id']}"
    assert (await client.get(url, headers=award.vendor.headers)).status_code == 404
    scores = factories.scores_totalling(evaluation["indicators"], "93")
    await client.put(f"{url}/scores", json={"scores": scores}, headers=factories.if_match(evaluator, evaluation))
    await client.post(f"{url}/submit", headers=evaluator.headers)
    assert (await client.get(url, headers=award.vendor.headers)).status_code == 404
    await client.post(f"{url}/accept", headers=award.bureau.headers)
    seen = await client.get(url, headers=award.vendor.headers)
    assert seen.status_code == 200 and seen.json()["grade"] == "excellent"
    stranger = await factories.fast_user("vendor")
    assert (await client.get(url, headers=stranger.headers)).status_code == 404


async def test_another_bureau_cannot_commission_on_the_contract(client):
    award, contract = await factories.contract_from_award(client)
    stranger = await factories.fast_user("bureau")
    evaluator = await factories.evaluator_user()
    r = await client.post(
        API,
        json={"contract_id": contract["id"], "milestone_id": contract["milestones"][0]["id"],
              "evaluator_org_id": str(evaluator.organisation_id), "due_date": contract["end_date"]},
        headers=stranger.headers,
    )
    assert r.status_code == 404


async def test_a_milestone_has_one_current_evaluation(client):
    award, contract, milestone, _, _ = await commissioned(client)
    evaluator = await factories.evaluator_user()
    r = await client.post(
        API,
        json={"contract_id": contract["id"], "milestone_id": milestone["id"],
              "evaluator_org_id": str(evaluator.organisation_id), "due_date": contract["end_date"]},
        headers=award.bureau.headers,
    )
    assert r.status_code == 409
    assert r.json()["code"] == "evaluation_already_commissioned"


async def test_an_evaluation_past_its_due_date_shows_as_overdue(client):
    award, _, _, evaluator, evaluation = await commissioned(client)
    await factories.advance_sandbox_clock(21)
    assert (await client.get(f"{API}/{evaluation['id']}", headers=award.bureau.headers)).json()["overdue"] is True


async def test_an_evaluation_with_a_custom_template_uses_it(client):
    bureau = await factories.fast_user("bureau")
    template = await client.post(
        "/api/v1/indicator-templates",
        json={"name": "简化指标", "indicators": [
            {"code": "Q", "name": "服务质量", "category": "output", "weight": "60"},
            {"code": "S", "name": "满意度", "category": "satisfaction", "weight": "40"},
        ]},
        headers=bureau.headers,
    )
    _, _, _, evaluator, evaluation = await commissioned(client, template_id=template.json()["id"])
    assert [i["code"] for i in evaluation["indicators"]] == ["Q", "S"]
    r = await client.put(
        f"{API}/{evaluation['id']}/scores", json={"scores": {"Q": "60"}, "survey": {"responses": 4, "satisfied": 3}},
        headers=factories.if_match(evaluator, evaluation),
    )
    assert r.json()["scores"] == {"Q": "60", "S": "30.00"}
    assert (await client.post(f"{API}/{evaluation['id']}/submit", headers=evaluator.headers)).json()["total_score"] == "90.00"


async def test_the_evaluation_lifecycle_is_audited(client):
    award, contract = await factories.contract_from_award(client)
    evaluation = await factories.accepted_evaluation(client, award, contract["id"], contract["milestones"][0]["id"], "80")
    actions = [
        r["action"]
        for r in await db.fetch(
            "SELECT action FROM audit_events WHERE entity_type = 'evaluation' AND entity_id = $1 ORDER BY seq",
            evaluation["id"],
        )
    ]
    assert actions == ["evaluation.commissioned", "evaluation.scored", "evaluation.submitted", "evaluation.accepted"]
