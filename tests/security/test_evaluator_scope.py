"""Who reads what of others: an evaluator commissioned on one milestone reads that milestone's
deliverables and payment, not the rest of the contract's; a vendor's full credit rating is not a
competitor's to read."""

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


async def test_a_credit_rating_in_full_is_for_the_vendor_bureaus_and_supervisors_and_stored_only_audited(client):
    """One rule for the rating, its history and the credit report; everyone else sees the grade at
    /public/vendors/{id} (DESIGN §8)."""
    from govbuy import database as db

    vendor, competitor = await factories.signed_in("vendor"), await factories.signed_in("vendor")
    bureau, evaluator = await factories.signed_in("bureau"), await factories.evaluator_user()
    url = f"/api/v1/vendors/{vendor.organisation_id}/credit-rating"
    for outsider in (competitor, evaluator):
        assert (await client.get(url, headers=outsider.headers)).status_code == 404
        assert (await client.get(f"{url}/history", headers=outsider.headers)).status_code == 404
        assert (await client.get(f"/api/v1/vendors/{vendor.organisation_id}/credit-report.pdf",
                                 headers=outsider.headers)).status_code == 404
    first = await client.get(url, headers=bureau.headers)
    assert first.status_code == 200
    assert (await client.get(url, headers=vendor.headers)).status_code == 200
    stored = await db.fetchval("SELECT count(*) FROM credit_ratings WHERE vendor_id = $1", vendor.organisation_id)
    audited = await db.fetchval(
        "SELECT count(*) FROM audit_events WHERE action = 'credit_rating.computed' AND entity_id = $1",
        str(vendor.organisation_id),
    )
    assert stored == audited == 1
    public = (await client.get(f"/api/v1/public/vendors/{vendor.organisation_id}")).json()
    assert "credit_grade" in public and "components" not in public
