"""A supplementary agreement (补充合同) may change a contract's performance targets (民法典 Art. 543:
a contract is changed by agreement), with or without adding to its amount; the amendment keeps the
targets before and after, and evaluations already accepted keep the targets they judged."""

from __future__ import annotations

from govbuy import database as db
from tests import factories

TARGETS = [{"indicator": "服务人次", "unit": "人次", "target": "1200", "direction": "at_least", "figure": "person_times_served"}]
AMENDED = [
    {"indicator": "服务人次", "unit": "人次", "target": "1000", "figure": "person_times_served"},
    {"indicator": "服务对象满意度", "unit": "%", "target": "90"},
]


async def _contract_with_targets(client):
    award = await factories.award_past_standstill()
    await db.execute("UPDATE tenders SET performance_targets = $2 WHERE id = $1", award.tender_id, TARGETS)
    return await factories.contract_from_award(client, award)


def _amend(client, award, contract, body):
    return client.post(f"/api/v1/contracts/{contract['id']}/amendments", json=body, headers=award.bureau.headers)


async def test_an_amendment_changes_the_targets_and_keeps_what_they_were(client):
    award, contract = await _contract_with_targets(client)
    assert [t["target"] for t in contract["performance_targets"]] == ["1200"]
    r = await _amend(client, award, contract, {"performance_targets": AMENDED, "reason": "服务对象迁出，调整年度绩效目标"})
    assert r.status_code == 201, r.text
    amendment = r.json()
    assert (amendment["increase"], amendment["amount_before"], amendment["amount_after"], amendment["shares"]) == (
        "0.00", contract["amount"], contract["amount"], []
    )
    assert [(t["indicator"], t["target"]) for t in amendment["targets_before"]] == [("服务人次", "1200")]
    assert [(t["indicator"], t["target"], t["direction"]) for t in amendment["targets_after"]] == [
        ("服务人次", "1000", "at_least"), ("服务对象满意度", "90", "at_least")
    ]
    read = (await client.get(f"/api/v1/contracts/{contract['id']}", headers=award.vendor.headers)).json()
    assert [(t["indicator"], t["target"]) for t in read["performance_targets"]] == [("服务人次", "1000"), ("服务对象满意度", "90")]
    assert read["amount"] == contract["amount"] and read["version"] == contract["version"] + 1
    listed = (await client.get(f"/api/v1/contracts/{contract['id']}/amendments", headers=award.bureau.headers)).json()
    assert [a["targets_after"] for a in listed] == [amendment["targets_after"]]
    event = await db.fetchrow(
        "SELECT after FROM audit_events WHERE action = 'contract.amended' AND entity_id = $1", contract["id"]
    )
    assert [t["target"] for t in event["after"]["targets_before"]] == ["1200"]


async def test_one_amendment_adds_money_and_changes_the_targets(client):
    award, contract = await _contract_with_targets(client)
    r = await _amend(client, award, contract, {"increase": "3000.00", "performance_targets": AMENDED[:1], "reason": "增加服务量"})
    assert r.status_code == 201, r.text
    assert (r.json()["increase"], r.json()["amount_after"]) == ("3000.00", "303000.00")
    assert [t["target"] for t in r.json()["targets_after"]] == ["1000"]


async def test_an_amendment_that_changes_nothing_or_states_bad_targets_is_refused_and_nothing_is_written(client):
    award, contract = await _contract_with_targets(client)
    r = await _amend(client, award, contract, {"reason": "无变更"})
    assert (r.status_code, r.json()["code"]) == (422, "invalid_amendment")
    twice = [AMENDED[0], AMENDED[0]]
    r = await _amend(client, award, contract, {"performance_targets": twice, "reason": "重复指标"})
    assert (r.status_code, r.json()["code"]) == (422, "invalid_performance_targets")
    assert await db.fetchval("SELECT count(*) FROM amendments WHERE contract_id = $1", contract["id"]) == 0
    read = (await client.get(f"/api/v1/contracts/{contract['id']}", headers=award.bureau.headers)).json()
    assert [t["target"] for t in read["performance_targets"]] == ["1200"] and read["version"] == contract["version"]


async def test_an_evaluation_accepted_before_the_amendment_keeps_the_targets_it_judged(client):
    award, contract = await _contract_with_targets(client)
    first, second = contract["milestones"][0], contract["milestones"][1]
    accepted = await factories.accepted_evaluation(client, award, contract["id"], first["id"], "85")
    assert [(t["indicator"], t["target"]) for t in accepted["targets"]] == [("服务人次", "1200")]
    r = await _amend(client, award, contract, {"performance_targets": AMENDED, "reason": "调整绩效目标"})
    assert r.status_code == 201, r.text
    again = (await client.get(f"/api/v1/evaluations/{accepted['id']}", headers=award.bureau.headers)).json()
    assert [(t["indicator"], t["target"]) for t in again["targets"]] == [("服务人次", "1200")]
    later = await factories.accepted_evaluation(client, award, contract["id"], second["id"], "90")
    assert [(t["indicator"], t["target"]) for t in later["targets"]] == [("服务人次", "1000"), ("服务对象满意度", "90")]
