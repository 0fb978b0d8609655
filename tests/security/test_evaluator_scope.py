"""An evaluator commissioned on one milestone reads that milestone's deliverables and payment,
not the rest of the contract's: the other milestones' work and money are none of its business."""

from __future__ import annotations

from uuid import UUID

from tests import factories

API = "/api/v1/contracts"


async def test_an_evaluator_reads_only_its_own_milestones_deliverables_and_payments(client):
    award, contract = await factories.contract_from_award(client)
    first, second = contract["milestones"][0], contract["milestones"][1]
    one = await factories.accepted_evaluation(client, award, contract["id"], first["id"], "92")
    two = await factories.accepted_evaluation(client, award, contract["id"], second["id"], "81")
    await factories.advance_past(one["appeal_deadline"], two["appeal_deadline"])
    for milestone in (first, second):
        r = await client.post(f"{API}/{contract['id']}/milestones/{milestone['id']}/payments",
                              headers={**award.bureau.headers, "Idempotency-Key": milestone["id"]})
        assert r.status_code == 201, r.text
    evaluator_of_first = await factories.signed_in("evaluator", UUID(one["evaluator_org_id"]))
    headers = evaluator_of_first.headers
    assert (await client.get(f"{API}/{contract['id']}/milestones/{first['id']}/deliverables", headers=headers)).status_code == 200
    assert (await client.get(f"{API}/{contract['id']}/milestones/{second['id']}/deliverables", headers=headers)).status_code == 404
    payments = (await client.get(f"{API}/{contract['id']}/payments", headers=headers)).json()
    assert [p["milestone_id"] for p in payments] == [first["id"]]
    everyone = (await client.get(f"{API}/{contract['id']}/payments", headers=award.bureau.headers)).json()
    other = next(p for p in everyone if p["milestone_id"] == second["id"])
    assert (await client.get(f"{API}/{contract['id']}/payments/{other['id']}", headers=headers)).status_code == 404
    read = (await client.get(f"{API}/{contract['id']}", headers=headers)).json()
    by_id = {m["id"]: m for m in read["milestones"]}
    assert by_id[first["id"]]["paid_amount"] is not None
    assert (by_id[second["id"]]["paid_amount"], by_id[second["id"]]["payment_id"]) == (None, None)
