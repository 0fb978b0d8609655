"""From award to the last payment, on the sandbox clock, through the API only: a tender awarded
at the lowest price, its contract of three milestones signed, each milestone delivered,
evaluated by an independent evaluator and paid at the payout ratio of its grade — excellent
100 %, fair 80 %, poor 0 % — with the budget line's committed and spent checked after every
step and every sum exact to the fen.

The money, by hand (price 777 777.77; milestones 30 / 40 / 30 %, the last takes the remainder):

    milestone  amount       grade      ratio  paid         withheld
    1          233 333.33   excellent  1.00   233 333.33        0.00   (777 777.77 × 0.30 = 233 333.331)
    2          311 111.11   fair       0.80   248 888.89   62 222.22   (311 111.11 × 0.8 = 248 888.888)
    3          233 333.33   poor       0      0.00         233 333.33  (777 777.77 − 233 333.33 − 311 111.11)
    total      777 777.77                     482 222.22   295 555.55
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from contracts.rules import contract_end_date
from govbuy import database as db
from vendors import service as vendor_service
from tests import factories
from tests.procurement import support as s

API = "/api/v1"
PRICES = ["777777.77", "820000.00", "905000.50"]
PLAN = [
    {"title": "首期服务：需求评估与建档", "percentage": "30", "due_offset_days": 90},
    {"title": "中期服务：上门助餐助洁", "percentage": "40", "due_offset_days": 200},
    {"title": "终期服务：成效评估与总结", "percentage": "30", "due_offset_days": 330},
]
GRADES = [("96.50", "excellent", "1.00", "233333.33", "0.00"),
          ("64.00", "fair", "0.80", "248888.89", "62222.22"),
          ("41.25", "poor", "0.00", "0.00", "233333.33")]


async def budget(client, w) -> dict[str, str]:
    r = await client.get(f"{API}/budget-lines/{w.line_id}", headers=w.bureau.headers)
    assert r.status_code == 200, r.text
    line = r.json()
    return {k: line[k] for k in ("reserved", "committed", "spent", "available")}


async def test_award_to_last_payment_of_a_three_milestone_contract(client):
    w = await s.world("5000000.00")
    # --- the tender, awarded at the lowest price ---------------------------------------------
    tender, vendors, _ = await s.opened_tender(
        client, w, PRICES, method="public_tender", evaluation_method="lowest_price", price_weight=None,
        criteria=[], milestones=PLAN,
    )
    winner = vendors[0]
    r = await client.post(f"{API}/tenders/{tender['id']}/award", headers=w.bureau.headers)
    assert r.status_code == 200, r.text
    award = r.json()
    assert award["vendor_id"] == str(winner.organisation_id)
    assert await budget(client, w) == {
        "reserved": "1000000.00", "committed": "0.00", "spent": "0.00", "available": "4000000.00",
    }
    start = await s.today(client, w.admin)
    early = await client.post(f"{API}/contracts", json={"tender_id": tender["id"], "start_date": str(start)}, headers=w.bureau.headers)
    assert (early.status_code, early.json()["code"]) == (409, "standstill_active")

    # --- the standstill passes; the contract is made and signed --------------------------------
    await s.advance_past(client, w.admin, award["standstill_until"])
    start = await s.today(client, w.admin) + timedelta(days=1)
    r = await client.post(f"{API}/contracts", json={"tender_id": tender["id"], "start_date": str(start)}, headers=w.bureau.headers)
    assert r.status_code == 201, r.text
    contract = r.json()
    cid = contract["id"]
    assert contract["amount"] == "777777.77"
    assert [m["amount"] for m in contract["milestones"]] == ["233333.33", "311111.11", "233333.33"]
    assert [m["due_date"] for m in contract["milestones"]] == [str(start + timedelta(days=d)) for d in (90, 200, 330)]
    assert contract["end_date"] == str(contract_end_date(start, 12))
    assert contract["payee_id"] == str(winner.organisation_id)
    assert await budget(client, w) == {
        "reserved": "1000000.00", "committed": "0.00", "spent": "0.00", "available": "4000000.00",
    }
    assert (await client.post(f"{API}/contracts/{cid}/sign", headers=winner.headers)).json()["status"] == "draft"
    signed = await client.post(f"{API}/contracts/{cid}/sign", headers=w.bureau.headers)
    assert signed.json()["status"] == "active"
    # the reservation of the ceiling became the commitment of the price; the rest is available
    assert await budget(client, w) == {
        "reserved": "0.00", "committed": "777777.77", "spent": "0.00", "available": "4222222.23",
    }

    # --- each milestone: delivered, evaluated independently, paid by its grade ----------------
    evaluators = [await factories.evaluator_user(), await factories.evaluator_user()]
    spent = released = Decimal("0.00")
    for index, (total, grade, ratio, paid, withheld) in enumerate(GRADES):
        milestone = contract["milestones"][index]
        mid = milestone["id"]
        # the service clock reaches the milestone's due date; the first one is reported late
        due = date.fromisoformat(milestone["due_date"])
        today = await s.today(client, w.admin)
        await s.advance(client, w.admin, days=(due - today).days + (3 if index == 0 else -5))
        read = (await client.get(f"{API}/contracts/{cid}", headers=w.bureau.headers)).json()
        assert read["milestones"][index]["overdue"] is (index == 0)
        deliverable = await client.post(
            f"{API}/contracts/{cid}/milestones/{mid}/deliverables",
            json={"summary": f"{milestone['title']}已完成", "figures": {"people_served": 150 + index, "service_hours": "420.5"}},
            headers=winner.headers,
        )
        assert deliverable.status_code == 201, deliverable.text
        # no payment before an accepted evaluation
        r = await client.post(f"{API}/contracts/{cid}/milestones/{mid}/payments",
                              headers={**w.bureau.headers, "Idempotency-Key": f"m{index}-early"})
        assert (r.status_code, r.json()["code"]) == (409, "evaluation_required")

        evaluation = await factories.evaluate(client, w.bureau, evaluators[index % 2], cid, mid, total,
                                              findings="评价发现", due_in_days=20)
        assert (evaluation["total_score"], evaluation["grade"], evaluation["status"]) == (total, grade, "accepted")
        # the vendor's appeal window (5 working days) passes without an appeal
        await s.advance_past(client, w.admin, evaluation["appeal_deadline"])

        r = await client.post(f"{API}/contracts/{cid}/milestones/{mid}/payments",
                              headers={**w.bureau.headers, "Idempotency-Key": f"m{index}"})
        assert r.status_code == 201, r.text
        payment = r.json()
        assert (payment["grade"], payment["payout_ratio"], payment["amount"], payment["withheld_amount"]) == (
            grade, ratio, paid, withheld,
        )
        assert Decimal(payment["amount"]) + Decimal(payment["withheld_amount"]) == Decimal(milestone["amount"])
        assert payment["evaluation_id"] == evaluation["id"]
        spent += Decimal(paid)
        released += Decimal(withheld)  # settled: the withheld part leaves the commitment
        assert await budget(client, w) == {
            "reserved": "0.00", "committed": f"{Decimal('777777.77') - released:.2f}", "spent": f"{spent:.2f}",
            "available": f"{Decimal('4222222.23') + released:.2f}",
        }
        r = await client.post(f"{API}/contracts/{cid}/payments/{payment['id']}/confirm",
                              json={"treasury_reference": f"GK-{index + 1:04d}"}, headers=w.bureau.headers)
        assert r.json()["status"] == "confirmed"

    # --- the contract is settled: paid + withheld + remaining = amount, to the fen -------------
    final = (await client.get(f"{API}/contracts/{cid}", headers=winner.headers)).json()
    assert final["status"] == "completed"
    assert (final["paid"], final["withheld"], final["remaining"], final["cancelled"]) == (
        "482222.22", "295555.55", "0.00", "0.00",
    )
    assert Decimal(final["paid"]) + Decimal(final["withheld"]) == Decimal(final["amount"])
    # Every fen committed is spent or available again: 5 000 000.00 − 482 222.22 = 4 517 777.78.
    assert await budget(client, w) == {
        "reserved": "0.00", "committed": "482222.22", "spent": "482222.22", "available": "4517777.78",
    }
    verify = await client.get(f"{API}/audit-events/verify", headers=w.admin.headers)
    assert verify.json()["ok"] is True
    # every figure the process moved agrees with its latest audit event
    reconciled = (await client.get(f"{API}/audit-events/reconcile", headers=w.admin.headers)).json()
    assert (reconciled["ok"], reconciled["differences"]) == (True, [])

    # --- the evaluations now rate the vendor (Art. 25: results feed future choices) -------------
    # performance = Σ score × amount × recency / Σ amount × recency, all three within a year:
    #   (96.50 × 233 333.33 + 64.00 × 311 111.11 + 41.25 × 233 333.33) / 777 777.77
    #   = 52 052 777.2475 / 777 777.77 = 66.924999… → 66.92
    # conduct = 100 − 15 for the one poor grade = 85
    rating = (await client.get(f"{API}/vendors/{winner.organisation_id}/credit-rating", headers=w.bureau.headers)).json()
    components = {c["name"]: c for c in rating["components"]}
    assert rating["provisional"] is False
    assert components["performance"]["present"] and Decimal(components["performance"]["value"]) == Decimal("66.92")
    assert Decimal(components["conduct"]["value"]) == Decimal("85")
    assert components["assessment"]["present"] is False
    # delivery: the first milestone delivered 3 days late, the second 5 days early; the third,
    # delivered 5 days early too, is not due yet today and is left out → 1 / 2 × 100
    assert Decimal(components["delivery"]["value"]) == Decimal("50.00")
    assert rating["inputs"]["on_time_milestones"] == 1
    assert [m["due_date"] for m in rating["inputs"]["late_milestones"]] == [contract["milestones"][0]["due_date"]]
    # The full recompute reads every vendor's facts with the all-vendors form of the statement.
    # By now (the payments took days) the third milestone is due too: on time, 2 / 3.
    await vendor_service.recompute_all()
    latest = await db.fetchrow(
        "SELECT inputs, result FROM credit_ratings WHERE vendor_id = $1 ORDER BY id DESC LIMIT 1", winner.organisation_id
    )
    assert latest["inputs"]["on_time_milestones"] == 2
    assert {c["name"]: c["value"] for c in latest["result"]["components"]}["delivery"] == "66.67"
    # The per-vendor form of the statement, on the same day, sees the same facts: nothing to store.
    assert await vendor_service.recompute_rating(None, winner.organisation_id) is False
