"""Multi-year contracts (102号令 Art. 24: a recurring purchase of up to 3 years, 在预算保障的前提下):
each later budget year's share is carried by that year's line, named by the bureau when it signs,
reserved then, committed at activation, spent, released and amended on that line."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from govbuy import clock
from govbuy import database as db
from tests import factories

# Milestones at the start, about 13 months and about 26 months in: three budget years whatever day
# the suite runs on (400 days always reaches the next calendar year, 800 the one after).
PLAN = (("首年服务", "30", 0), ("次年服务", "30", 400), ("第三年服务", "40", 800))


async def _recurring_contract(client, **kw):
    award = await factories.award_past_standstill(
        recurring=True, months=36, plan=PLAN, price="300000.00", ceiling="400000.00", **kw
    )
    _, contract = await factories.contract_from_award(client, award, sign=False)
    return award, contract


async def _later_lines(award, contract, amount: str = "1000000.00") -> dict[int, str]:
    """A budget line of the bureau for each later year the contract is paid in."""
    lines = {}
    for year in [y["year"] for y in contract["budget_years"][1:]]:
        line = await factories.budget_line(award.bureau, amount, year=year)
        lines[year] = str(line.id)
    return lines


def _body(lines: dict[int, str]) -> dict:
    return {"budget_lines": [{"year": y, "budget_line_id": line} for y, line in lines.items()]}


async def _sign(client, who, contract, body=None):
    return await client.post(f"/api/v1/contracts/{contract['id']}/sign", json=body, headers=who.headers)


async def test_a_recurring_contract_is_carried_by_each_budget_years_line(client):
    award, contract = await _recurring_contract(client)
    first_year = (await clock.today()).year
    years = [y["year"] for y in contract["budget_years"]]
    assert years[0] == first_year and years == sorted(set(years)) and len(years) == 3
    assert years == [date.fromisoformat(m["due_date"]).year for m in contract["milestones"]]
    assert [y["amount"] for y in contract["budget_years"]] == ["90000.00", "90000.00", "120000.00"]
    assert contract["budget_years"][0]["budget_line_id"] == str(award.budget_line_id)
    assert [y["budget_line_id"] for y in contract["budget_years"][1:]] == [None, None]
    lines = await _later_lines(award, contract)

    r = await _sign(client, award.vendor, contract)
    assert r.status_code == 200, r.text
    r = await _sign(client, award.bureau, contract)  # the later years' lines not named
    assert r.status_code == 422
    assert r.json()["code"] == "invalid_budget_years"
    assert {e["field"] for e in r.json()["errors"]} == {"budget_lines"}

    r = await _sign(client, award.bureau, contract, _body(lines))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "active"
    assert [(y["year"], y["budget_line_id"], y["amount"]) for y in body["budget_years"]] == [
        (years[0], str(award.budget_line_id), "90000.00"),
        (years[1], lines[years[1]], "90000.00"),
        (years[2], lines[years[2]], "120000.00"),
    ]
    assert [m["budget_line_id"] for m in body["milestones"]] == [str(award.budget_line_id), *lines.values()]
    # The tender's line commits only its year's share; the ceiling's rest is available again.
    assert await factories.budget_figures(award.budget_line_id) == {
        "amount": Decimal("1000000.00"), "reserved": Decimal("0.00"), "committed": Decimal("90000.00"), "spent": Decimal("0.00"),
    }
    for year, share in ((years[1], "90000.00"), (years[2], "120000.00")):
        figures = await factories.budget_figures(lines[year])
        assert (figures["reserved"], figures["committed"]) == (Decimal("0.00"), Decimal(share))
    actions = await db.fetch(
        "SELECT action, entity_id FROM audit_events WHERE action LIKE 'budget_line.%' AND action <> 'budget_line.created' AND entity_id = ANY($1::text[])",
        [str(award.budget_line_id), *lines.values()],
    )
    assert sorted(r["action"] for r in actions) == [
        "budget_line.committed", "budget_line.committed", "budget_line.committed",
        "budget_line.reserved", "budget_line.reserved",
    ]

    # The third year's milestone is paid from the third year's line: 95 % at grade 良, the
    # withheld 5 % back in that line's available money.
    third = body["milestones"][2]
    evaluation = await factories.accepted_evaluation(client, award, contract["id"], third["id"], "85")
    await factories.advance_past(evaluation["appeal_deadline"])
    r = await client.post(
        f"/api/v1/contracts/{contract['id']}/milestones/{third['id']}/payments",
        headers={**award.bureau.headers, "Idempotency-Key": "third-year"},
    )
    assert r.status_code == 201, r.text
    assert (r.json()["amount"], r.json()["withheld_amount"]) == ("114000.00", "6000.00")
    assert r.json()["budget_line_id"] == lines[years[2]]
    figures = await factories.budget_figures(lines[years[2]])
    assert (figures["committed"], figures["spent"]) == (Decimal("114000.00"), Decimal("114000.00"))
    assert (await factories.budget_figures(award.budget_line_id))["spent"] == Decimal("0.00")

    # Terminating releases each open milestone's commitment from its own year's line.
    current = (await client.get(f"/api/v1/contracts/{contract['id']}", headers=award.bureau.headers)).json()
    r = await client.post(
        f"/api/v1/contracts/{contract['id']}/terminate", json={"reason": "服务对象迁出", "for_cause": False},
        headers={**award.bureau.headers, "If-Match": f'"{current["version"]}"'},
    )
    assert r.status_code == 200, r.text
    assert (await factories.budget_figures(award.budget_line_id))["committed"] == Decimal("0.00")
    assert (await factories.budget_figures(lines[years[1]]))["committed"] == Decimal("0.00")
    assert (await factories.budget_figures(lines[years[2]]))["committed"] == Decimal("114000.00")


async def test_a_later_years_line_must_be_the_bureaus_own_of_that_year(client):
    award, contract = await _recurring_contract(client)
    years = [y["year"] for y in contract["budget_years"]]
    lines = await _later_lines(award, contract)
    wrong_year = dict(lines)
    wrong_year[years[1]] = lines[years[2]]
    stranger = await factories.fast_user("bureau")
    strangers_line = await factories.budget_line(stranger, year=years[2])
    cases = [
        (wrong_year, "budget_lines[0].budget_line_id"),
        ({**lines, years[2]: str(strangers_line.id)}, "budget_lines[1].budget_line_id"),
        ({**lines, years[0]: str(award.budget_line_id)}, "budget_lines[2].year"),
    ]
    for chosen, field in cases:
        r = await _sign(client, award.bureau, contract, _body(chosen))
        assert r.status_code == 422, r.text
        assert r.json()["code"] == "invalid_budget_years"
        assert field in {e["field"] for e in r.json()["errors"]}
    r = await _sign(client, award.vendor, contract, _body(lines))
    assert r.status_code == 422
    assert r.json()["code"] == "invalid_budget_years"
    row = await db.fetchrow("SELECT status, bureau_signed_at, vendor_signed_at FROM contracts WHERE id = $1", contract["id"])
    assert (row["status"], row["bureau_signed_at"], row["vendor_signed_at"]) == ("draft", None, None)


async def test_a_year_whose_line_cannot_carry_its_share_is_refused_and_nothing_moves(client):
    award, contract = await _recurring_contract(client)
    years = [y["year"] for y in contract["budget_years"]]
    lines = await _later_lines(award, contract)
    lines[years[2]] = str((await factories.budget_line(award.bureau, "119999.99", year=years[2])).id)
    before = {line: await factories.budget_figures(line) for line in lines.values()}
    r = await _sign(client, award.bureau, contract, _body(lines))
    assert r.status_code == 409
    assert r.json()["code"] == "budget_insufficient"
    assert str(years[2]) in r.json()["detail"]
    assert {line: await factories.budget_figures(line) for line in lines.values()} == before
    assert await db.fetchval("SELECT bureau_signed_at FROM contracts WHERE id = $1", contract["id"]) is None
    assert await db.fetchval(
        "SELECT count(*) FROM milestones WHERE contract_id = $1 AND budget_line_id IS NOT NULL", contract["id"]
    ) == 0


async def test_the_bureaus_signature_reserves_the_later_years_and_an_unsigned_end_gives_them_back(client):
    award, contract = await _recurring_contract(client)
    years = [y["year"] for y in contract["budget_years"]]
    lines = await _later_lines(award, contract)
    r = await _sign(client, award.bureau, contract, _body(lines))
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "draft"
    assert (await factories.budget_figures(lines[years[1]]))["reserved"] == Decimal("90000.00")
    assert (await factories.budget_figures(lines[years[2]]))["reserved"] == Decimal("120000.00")
    r = await client.post(
        f"/api/v1/contracts/{contract['id']}/terminate", json={"reason": "中标人放弃签约", "for_cause": True},
        headers={**award.bureau.headers, "If-Match": f'"{r.json()["version"]}"'},
    )
    assert r.status_code == 200, r.text
    for line in (award.budget_line_id, *lines.values()):
        figures = await factories.budget_figures(line)
        assert (figures["reserved"], figures["committed"]) == (Decimal("0.00"), Decimal("0.00"))


async def test_an_amendment_commits_each_share_on_its_years_line(client):
    award, contract = await _recurring_contract(client)
    years = [y["year"] for y in contract["budget_years"]]
    lines = await _later_lines(award, contract)
    assert (await _sign(client, award.vendor, contract)).status_code == 200
    signed = (await _sign(client, award.bureau, contract, _body(lines))).json()
    r = await client.post(
        f"/api/v1/contracts/{contract['id']}/amendments", json={"increase": "30000.00", "reason": "服务对象增加"},
        headers={**award.bureau.headers, "If-Match": f'"{signed["version"]}"'},
    )
    assert r.status_code == 201, r.text
    added = {s["milestone_id"]: Decimal(s["added"]) for s in r.json()["shares"]}
    assert sum(added.values()) == Decimal("30000.00")
    by_line = {
        str(award.budget_line_id): Decimal("90000.00") + added[signed["milestones"][0]["id"]],
        lines[years[1]]: Decimal("90000.00") + added[signed["milestones"][1]["id"]],
        lines[years[2]]: Decimal("120000.00") + added[signed["milestones"][2]["id"]],
    }
    for line, committed in by_line.items():
        assert (await factories.budget_figures(line))["committed"] == committed


async def test_a_contract_not_recurring_is_carried_whole_by_its_tenders_line(client):
    award = await factories.award_past_standstill(plan=(("一", "50", 0), ("二", "50", 360)))
    _, contract = await factories.contract_from_award(client, award, sign=False)
    assert [(y["budget_line_id"], y["amount"]) for y in contract["budget_years"]] == [(str(award.budget_line_id), "300000.00")]
    line = await factories.budget_line(award.bureau, year=(await clock.today()).year + 1)
    r = await _sign(client, award.bureau, contract, {"budget_lines": [{"year": line.year, "budget_line_id": str(line.id)}]})
    assert r.status_code == 422
    assert r.json()["code"] == "invalid_budget_years"
    assert (await _sign(client, award.bureau, contract)).status_code == 200
    r = await _sign(client, award.vendor, contract)
    assert r.status_code == 200
    assert (await factories.budget_figures(award.budget_line_id))["committed"] == Decimal("300000.00")


async def test_a_contract_paying_nothing_in_its_tenders_year_gives_that_reservation_back(client):
    award = await factories.award_past_standstill(
        recurring=True, months=24, plan=(("一", "50", 0), ("二", "50", 400)), price="300000.00", ceiling="400000.00"
    )
    next_year = (await clock.today()).year + 1
    _, contract = await factories.contract_from_award(client, award, sign=False, start_date=date(next_year, 1, 4))
    assert [y["year"] for y in contract["budget_years"]][0] == next_year
    lines = {y["year"]: str((await factories.budget_line(award.bureau, year=y["year"])).id) for y in contract["budget_years"]}
    assert (await _sign(client, award.bureau, contract, _body(lines))).status_code == 200
    assert (await _sign(client, award.vendor, contract)).status_code == 200
    figures = await factories.budget_figures(award.budget_line_id)
    assert (figures["reserved"], figures["committed"]) == (Decimal("0.00"), Decimal("0.00"))
    assert sum([(await factories.budget_figures(line))["committed"] for line in lines.values()], Decimal(0)) == Decimal("300000.00")
