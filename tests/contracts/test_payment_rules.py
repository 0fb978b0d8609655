"""A payment rule must cover the scores 0–100 once, without gap or overlap: refused with its code
when a tender states it, and again, as a last check, when a contract is made from the tender."""

from __future__ import annotations

from datetime import timedelta

import pytest

from govbuy import clock
from govbuy import database as db
from tests import factories
from tests.procurement import support as s

GAP = [
    {"min_score": "0", "max_score": "60", "ratio": "0"},
    {"min_score": "70", "max_score": "100", "ratio": "1"},
]
OVERLAP = [
    {"min_score": "0", "max_score": "65", "ratio": "0"},
    {"min_score": "60", "max_score": "100", "ratio": "1"},
]
CASES = [pytest.param(GAP, "gap between 60 and 70", id="gap"), pytest.param(OVERLAP, "overlap between 60 and 65", id="overlap")]


@pytest.mark.parametrize(("rule", "message"), CASES)
async def test_a_tender_with_a_broken_payment_rule_is_refused_and_nothing_is_written(client, rule, message):
    w = await s.world()
    deadline = (await s.now(client, w.bureau)) + timedelta(days=25)
    r = await client.post("/api/v1/tenders", json=s.tender_body(w, deadline, payment_rule=rule), headers=w.bureau.headers)
    assert r.status_code == 422
    assert r.json()["code"] == "invalid_payment_rule"
    assert message in {e["message"] for e in r.json()["errors"]}
    assert await db.fetchval("SELECT count(*) FROM tenders") == 0


@pytest.mark.parametrize(("rule", "message"), CASES)
async def test_a_contract_is_never_made_on_a_broken_payment_rule(client, rule, message):
    # written past the tender's own check, as only a bug or a hand edit could
    award = await factories.award_past_standstill(payment_rule=rule)
    r = await client.post(
        "/api/v1/contracts",
        json={"tender_id": str(award.tender_id), "start_date": str(await clock.today())},
        headers=award.bureau.headers,
    )
    assert r.status_code == 422
    assert r.json()["code"] == "invalid_payment_rule"
    assert message in {e["message"] for e in r.json()["errors"]}
    assert await db.fetchval("SELECT count(*) FROM contracts") == 0
    assert await db.fetchval("SELECT count(*) FROM milestones") == 0
