"""Properties of the money, over random contracts, milestone plans, amendments, grades and
terminations: paid + withheld + remaining + cancelled = the contract amount, to the fen; nothing
is negative; a payment never takes a budget line's spending above its commitment, nor the
commitment above the line; and the books balance — the withheld part of a payment leaves the
commitment when it is settled, so committed − spent is exactly what open milestones still owe.

Two levels: the pure rules chained as the service chains them (many examples, fast), and the
real service on the real database through the API (few examples, bounded for CI).
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts import rules
from evaluation.rules import DEFAULT_PAYMENT_RULE
from govbuy import database as db
from govbuy.rules import RuleViolation
from planning import rules as budget_rules
from tests import factories

CENT = Decimal("0.01")


@st.composite
def plans(draw, max_milestones: int = 5) -> list[tuple[str, Decimal, int]]:
    """Milestone percentages with two decimals summing to exactly 100."""
    n = draw(st.integers(1, max_milestones))
    cuts = sorted(draw(st.lists(st.integers(1, 9_999), min_size=n - 1, max_size=n - 1, unique=True)))
    bounds = [0, *cuts, 10_000]
    return [(f"阶段{i + 1}", Decimal(b - a) / 100, 30 * (i + 1)) for i, (a, b) in enumerate(zip(bounds, bounds[1:]))]


@st.composite
def contracts(draw, max_milestones: int = 5) -> dict:
    plan = draw(plans(max_milestones))
    # At least 10 000.00, so that 0.01 % of it is still worth a fen.
    price = Decimal(draw(st.integers(1_000_000, 999_999_999))) / 100
    scores = draw(
        st.lists(
            st.one_of(st.none(), st.decimals(0, 100, places=2, allow_nan=False, allow_infinity=False)),
            min_size=len(plan), max_size=len(plan),
        )
    )
    increase = Decimal(draw(st.integers(0, int(price * 10)))) / 100  # up to the 10 % cap
    headroom = Decimal(draw(st.integers(0, int(price * 20)))) / 100  # the line may not carry it
    return {"plan": plan, "price": price, "scores": scores, "increase": increase, "headroom": headroom,
            "terminate": draw(st.booleans())}


def check_position(amount: Decimal, lines: list[tuple[Decimal, str, Decimal | None, Decimal | None]]) -> None:
    position = rules.contract_position(amount, lines)
    assert position.paid + position.withheld + position.remaining + position.cancelled == amount
    assert min(position) >= 0
    assert all(v == v.quantize(CENT) for v in position)


@settings(max_examples=300, deadline=None, database=None)
@given(contracts())
def test_the_rules_chained_keep_every_fen_and_never_overspend(case):
    ceiling = case["price"]
    line = budget_rules.reserve(budget_rules.BudgetLine(ceiling + case["headroom"]), ceiling)
    milestones = rules.split_milestones(case["price"], case["plan"])
    amounts = {m.sequence: m.amount for m in milestones}
    amount = case["price"]
    line = budget_rules.commit_reservation(line, ceiling, amount)
    if case["increase"] > 0:
        try:
            extra = budget_rules.commit_extra(line, case["increase"])
        except RuleViolation as refused:
            assert refused.code == "budget_insufficient"
        else:
            rules.check_amendment(case["price"], Decimal(0), case["increase"])
            shares = rules.apply_amendment([(s, a, "pending") for s, a in amounts.items()], case["increase"])
            assert sum(s.added for s in shares) == case["increase"] and min(s.added for s in shares) >= 0
            amounts = {s.id: s.new_amount for s in shares}
            amount, line = amount + case["increase"], extra
    status = {s: "pending" for s in amounts}
    paid: dict[int, tuple[Decimal, Decimal]] = {}
    for sequence, score in zip(sorted(amounts), case["scores"]):
        if score is None:
            continue
        decision = rules.decide_payment(amounts[sequence], "evaluated", ("accepted", score, None), DEFAULT_PAYMENT_RULE)
        assert decision.amount + decision.withheld_amount == amounts[sequence]
        assert decision.amount >= 0 and decision.withheld_amount >= 0
        if decision.amount > 0:
            line = budget_rules.spend(line, decision.amount)
        if decision.withheld_amount > 0:  # settled: the withheld part is never paid, and leaves the commitment
            line = budget_rules.release_commitment(line, decision.withheld_amount)
        paid[sequence], status[sequence] = (decision.amount, decision.withheld_amount), "paid"
        assert line.spent <= line.committed <= line.amount - line.reserved
    if case["terminate"]:
        outcome = rules.terminate([(s, amounts[s], status[s]) for s in amounts])
        for s in outcome.cancelled_ids:
            status[s] = "cancelled"
        if outcome.released_commitment > 0:
            line = budget_rules.release_commitment(line, outcome.released_commitment)
    lines = [(amounts[s], status[s], *paid.get(s, (None, None))) for s in amounts]
    check_position(amount, lines)
    assert line.spent == sum((p for p, _ in paid.values()), Decimal(0))
    assert 0 <= line.spent <= line.committed and line.available >= 0
    # The books balance: what is committed and not spent is exactly what open milestones still owe.
    assert line.committed - line.spent == rules.contract_position(amount, lines).remaining


@settings(
    max_examples=15, deadline=None, database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(contracts(max_milestones=3))
async def test_the_service_keeps_every_fen_and_never_overspends(client, case):
    price, ceiling = case["price"], case["price"]
    award, contract = await factories.contract_from_award(
        client, price=f"{price:.2f}", ceiling=f"{ceiling:.2f}", budget=f"{ceiling + case['headroom']:.2f}",
        plan=tuple((t, f"{p}", d) for t, p, d in case["plan"]), other_bidders=0,
    )
    cid = contract["id"]
    final = await _amend_pay_terminate(client, award, cid, case)
    paid, withheld, remaining, cancelled, amount = (
        Decimal(final[k]) for k in ("paid", "withheld", "remaining", "cancelled", "amount")
    )
    assert paid + withheld + remaining + cancelled == amount
    assert min(paid, withheld, remaining, cancelled) >= 0
    assert sum(Decimal(m["amount"]) for m in final["milestones"]) == amount
    line = await factories.budget_figures(award.budget_line_id)
    assert line["spent"] == paid == (await db.fetchval("SELECT coalesce(sum(amount), 0) FROM payments WHERE contract_id = $1", final["id"]))
    # Withheld money is released at its payment, cancelled money at the termination: the line
    # keeps committed exactly what is paid or still owed.
    assert line["committed"] == amount - cancelled - withheld == paid + remaining
    assert 0 <= line["spent"] <= line["committed"] and line["reserved"] + line["committed"] <= line["amount"]
    released = await db.fetchval(
        """SELECT coalesce(sum((after->>'amount')::numeric), 0) FROM audit_events
           WHERE action = 'budget_line.withheld_released' AND after->>'contract_id' = $1""",
        final["id"],
    )
    assert released == withheld  # each release audited


@settings(
    max_examples=8, deadline=None, database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(contracts(max_milestones=3))
async def test_a_multi_year_contract_balances_the_books_on_each_years_line(client, case):
    """The same sequences on a recurring contract whose milestones fall in up to three budget years
    (102号令 Art. 24): each year's line keeps committed exactly what its milestones were paid or
    still owe, and spent exactly its payments."""
    price = case["price"]
    plan = tuple((t, f"{p}", 400 * i) for i, (t, p, _) in enumerate(case["plan"]))
    award = await factories.award_past_standstill(
        price=f"{price:.2f}", ceiling=f"{price:.2f}", budget=f"{price + case['headroom']:.2f}",
        plan=plan, recurring=True, months=36, other_bidders=0,
    )
    _, contract = await factories.contract_from_award(client, award, sign=False)
    cid = contract["id"]
    chosen = []
    for year in [y for y in contract["budget_years"] if y["budget_line_id"] != str(award.budget_line_id)]:
        line = await factories.budget_line(award.bureau, f"{Decimal(year['amount']) + case['headroom']:.2f}", year=year["year"])
        chosen.append({"year": year["year"], "budget_line_id": str(line.id)})
    for party, body in ((award.bureau, {"budget_lines": chosen}), (award.vendor, None)):
        r = await client.post(f"/api/v1/contracts/{cid}/sign", json=body, headers=party.headers)
        assert r.status_code == 200, r.text
    final = await _amend_pay_terminate(client, award, cid, case)
    owed: dict[str, Decimal] = {}  # by line: what its milestones were paid or still owe
    for m in final["milestones"]:
        still = {"paid": Decimal(m["paid_amount"] or 0), "cancelled": Decimal(0)}.get(m["status"], Decimal(m["amount"]))
        owed[m["budget_line_id"]] = owed.get(m["budget_line_id"], Decimal(0)) + still
    assert len(owed) == len(final["budget_years"])
    for line_id, committed in owed.items():
        line = await factories.budget_figures(line_id)
        spent = await db.fetchval(
            "SELECT coalesce(sum(amount), 0) FROM payments WHERE contract_id = $1 AND budget_line_id = $2", cid, line_id
        )
        assert (line["committed"], line["spent"]) == (committed, spent)
        assert line["reserved"] == 0 and line["committed"] <= line["amount"]


async def _amend_pay_terminate(client, award, cid: str, case: dict) -> dict:
    """A case's sequence on a signed contract through the API — the amendment (which the line may
    not carry), the scored milestones evaluated and paid, then perhaps the termination — and the
    contract as it ends."""
    if case["increase"] > 0:
        r = await client.post(f"/api/v1/contracts/{cid}/amendments",
                              json={"increase": f"{case['increase']:.2f}", "reason": "增加服务量"}, headers=award.bureau.headers)
        assert r.status_code == 201 or r.json()["code"] == "budget_insufficient", r.text
    contract = (await client.get(f"/api/v1/contracts/{cid}", headers=award.bureau.headers)).json()
    scored = [(m, s) for m, s in zip(contract["milestones"], case["scores"]) if s is not None]
    deadlines = [
        (await factories.accepted_evaluation(client, award, cid, milestone["id"], f"{score:.2f}"))["appeal_deadline"]
        for milestone, score in scored
    ]
    if deadlines:
        await factories.advance_past(*deadlines)
    for milestone, _ in scored:
        r = await client.post(f"/api/v1/contracts/{cid}/milestones/{milestone['id']}/payments",
                              headers={**award.bureau.headers, "Idempotency-Key": milestone["id"]})
        assert r.status_code == 201, r.text
    if case["terminate"] and len(scored) < len(contract["milestones"]):
        r = await client.post(f"/api/v1/contracts/{cid}/terminate", json={"reason": "提前终止", "for_cause": False},
                              headers=award.bureau.headers)
        assert r.status_code == 200, r.text
    return (await client.get(f"/api/v1/contracts/{cid}", headers=award.vendor.headers)).json()
