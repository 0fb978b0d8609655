"""Unit tests of the contract rules: signing, milestone split, amendments, termination,
deliverables and payments. Expected numbers are worked out by hand in the comments."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts import rules
from contracts.rules import (
    ContractStatus,
    MilestoneLine,
    MilestoneStatus,
    Party,
    PaymentStatus,
    SignatureState,
    amendment_limit,
    apply_amendment,
    check_amendment,
    check_contract_term,
    check_contract_transition,
    check_idempotency_key,
    check_key_replays_its_payment,
    check_milestone_transition,
    check_appeal_window_closed,
    check_payee,
    check_payment_transition,
    contract_end_date,
    contract_position,
    decide_payment,
    ensure_all_milestones_settled,
    ensure_contract_active,
    ensure_signable,
    fully_signed_at,
    is_fully_signed,
    is_overdue,
    record_signature,
    split_milestones,
    terminate,
    validate_deliverable,
    validate_treasury_reference,
)
from evaluation.rules import DEFAULT_PAYMENT_RULE, EvaluationStatus, Grade, PaymentBand
from govbuy.rules import SHANGHAI, RuleViolation

D = Decimal
PAID, CANCELLED = MilestoneStatus.PAID, MilestoneStatus.CANCELLED
PENDING, DELIVERED, EVALUATED = MilestoneStatus.PENDING, MilestoneStatus.DELIVERED, MilestoneStatus.EVALUATED


def accepted(score: str, grade: Grade | None = None):
    return (EvaluationStatus.ACCEPTED, D(score), grade)


# --- contract status, term and signing ----------------------------------------------------


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (ContractStatus.DRAFT, ContractStatus.ACTIVE),
        (ContractStatus.ACTIVE, ContractStatus.COMPLETED),
        (ContractStatus.ACTIVE, ContractStatus.TERMINATED),
        (ContractStatus.DRAFT, ContractStatus.TERMINATED),
    ],
)
def test_contract_moves_along_its_lifecycle(current, target):
    check_contract_transition(current, target)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (ContractStatus.DRAFT, ContractStatus.COMPLETED),
        (ContractStatus.COMPLETED, ContractStatus.ACTIVE),
        (ContractStatus.TERMINATED, ContractStatus.ACTIVE),
    ],
)
def test_contract_cannot_skip_or_leave_a_final_status(current, target):
    with pytest.raises(RuleViolation) as raised:
        check_contract_transition(current, target)
    assert (raised.value.code, raised.value.status) == ("invalid_status_transition", 409)


def test_contract_becomes_fully_signed_when_both_parties_sign():
    bureau_at = datetime(2025, 3, 3, 9, 0, tzinfo=SHANGHAI)
    vendor_at = datetime(2025, 3, 4, 15, 0, tzinfo=SHANGHAI)
    state = record_signature(SignatureState(), Party.BUREAU, bureau_at)
    assert not is_fully_signed(state)
    state = record_signature(state, "vendor", vendor_at)
    assert is_fully_signed(state)
    assert fully_signed_at(state) == vendor_at


def test_party_cannot_sign_twice():
    state = record_signature(SignatureState(), "vendor", datetime(2025, 3, 3, tzinfo=SHANGHAI))
    with pytest.raises(RuleViolation) as raised:
        record_signature(state, "vendor", datetime(2025, 3, 4, tzinfo=SHANGHAI))
    assert (raised.value.code, raised.value.status) == ("already_signed", 409)


def test_only_bureau_or_vendor_may_sign():
    with pytest.raises(RuleViolation) as raised:
        record_signature(SignatureState(), "evaluator", datetime(2025, 3, 3, tzinfo=SHANGHAI))
    assert raised.value.code == "invalid_party"


def test_active_contract_cannot_be_signed_again():
    with pytest.raises(RuleViolation) as raised:
        ensure_signable(ContractStatus.ACTIVE)
    assert raised.value.code == "contract_not_signable"


def test_amendment_needs_an_active_contract():
    with pytest.raises(RuleViolation) as raised:
        ensure_contract_active(ContractStatus.TERMINATED)
    assert raised.value.code == "contract_not_active"


def test_twelve_month_term_is_allowed():
    check_contract_term(12, recurring=False)


def test_thirteen_month_term_is_too_long_unless_recurring():
    with pytest.raises(RuleViolation) as raised:
        check_contract_term(13, recurring=False)
    assert raised.value.code == "contract_term_too_long"


def test_recurring_term_may_reach_36_months_but_not_37():
    check_contract_term(36, recurring=True)
    with pytest.raises(RuleViolation) as raised:
        check_contract_term(37, recurring=True)
    assert raised.value.code == "contract_term_too_long"


def test_term_ending_in_a_shorter_month_ends_on_its_last_day():
    # 31 January + 1 month: February 2025 has no 31st, so the 28th
    assert contract_end_date(date(2025, 1, 31), 1) == date(2025, 2, 28)


def test_twelve_month_term_ends_on_the_same_day_next_year():
    assert contract_end_date(date(2025, 3, 15), 12) == date(2026, 3, 15)


# --- milestone split ------------------------------------------------------------------------


def test_split_of_1000000_01_is_exact_to_the_fen():
    plan = [("启动", D("33.33"), 30), ("中期", D("33.33"), 120), ("结项", D("33.34"), 330)]
    milestones = split_milestones(D("1000000.01"), plan)
    # 1,000,000.01 × 33.33 % = 333,300.003333 → 333,300.00 (twice)
    # last: 1,000,000.01 − 666,600.00 = 333,400.01
    assert [m.amount for m in milestones] == [D("333300.00"), D("333300.00"), D("333400.01")]
    assert sum(m.amount for m in milestones) == D("1000000.01")


def test_split_with_a_start_date_gives_due_dates():
    plan = [{"title": "中期", "percentage": "40", "due_offset_days": 30},
            {"title": "结项", "percentage": "60", "due_offset_days": 90}]
    milestones = split_milestones(D("500000.00"), plan, start_date=date(2025, 3, 1))
    # 1 March + 30 days = 31 March; + 90 days = 30 May (30 days left in March, 30 in April, 30 in May)
    assert [m.due_date for m in milestones] == [date(2025, 3, 31), date(2025, 5, 30)]
    # 500,000 × 40 % = 200,000.00; the last takes 300,000.00
    assert [m.amount for m in milestones] == [D("200000.00"), D("300000.00")]
    assert [m.sequence for m in milestones] == [1, 2]


def test_split_without_a_start_date_has_no_due_dates():
    milestones = split_milestones(D("100.00"), [("全部", D(100), 30)])
    assert milestones[0].due_date is None


def test_split_percentages_not_summing_to_100_are_refused():
    with pytest.raises(RuleViolation) as raised:
        split_milestones(D("1000.00"), [("a", D(60), 30), ("b", D(30), 60)])
    assert raised.value.code == "percentages_must_sum_to_100"
    assert "90" in raised.value.detail


def test_split_with_a_zero_percentage_is_refused():
    with pytest.raises(RuleViolation) as raised:
        split_milestones(D("1000.00"), [("a", D(0), 30), ("b", D(100), 60)])
    assert raised.value.code == "invalid_milestone_plan"
    assert raised.value.errors[0]["field"] == "milestones[0].percentage"


def test_split_of_an_amount_too_small_for_the_plan_is_refused():
    # 0.05 in ten 10 % milestones: each of the first nine is 0.005 → 0.01, which would leave
    # the last 0.05 − 0.09 = −0.04
    with pytest.raises(RuleViolation) as raised:
        split_milestones(D("0.05"), [(f"m{i}", D(10), 30) for i in range(10)])
    assert raised.value.code == "milestone_amount_too_small"


def test_split_of_a_contract_amount_with_three_decimals_is_refused():
    with pytest.raises(RuleViolation) as raised:
        split_milestones(D("1000.001"), [("a", D(100), 30)])
    assert raised.value.code == "invalid_contract_amount"


# --- amendments ---------------------------------------------------------------------------


def test_amendment_of_exactly_10_percent_is_allowed():
    # 10 % of 1,000,000.00 = 100,000.00; nothing left after it
    assert check_amendment(D("1000000.00"), D(0), D("100000.00")) == D("0.00")


def test_amendment_of_10_percent_and_a_fen_is_refused():
    with pytest.raises(RuleViolation) as raised:
        check_amendment(D("1000000.00"), D(0), D("100000.01"))
    assert raised.value.code == "amendment_exceeds_limit"


def test_amendments_are_capped_cumulatively_and_say_what_is_left():
    # 60,000.00 already added: 100,000.00 − 60,000.00 = 40,000.00 left
    assert check_amendment(D("1000000.00"), D("60000.00"), D("40000.00")) == D("0.00")
    with pytest.raises(RuleViolation) as raised:
        check_amendment(D("1000000.00"), D("60000.00"), D("40000.01"))
    assert raised.value.code == "amendment_exceeds_limit"
    assert "at most 40000.00 more" in raised.value.detail


def test_amendment_cap_is_rounded_to_the_fen():
    # 10 % of 333,333.33 = 33,333.333 → 33,333.33
    assert amendment_limit(D("333333.33")) == D("33333.33")
    with pytest.raises(RuleViolation):
        check_amendment(D("333333.33"), D(0), D("33333.34"))


def test_amendment_must_add_something():
    with pytest.raises(RuleViolation) as raised:
        check_amendment(D("1000000.00"), D(0), D(0))
    assert raised.value.code == "invalid_amendment"


def test_amendment_is_spread_over_open_milestones_by_amount():
    milestones = [
        MilestoneLine("a", D("300000.00"), PAID),
        MilestoneLine("b", D("300000.00"), EVALUATED),
        MilestoneLine("c", D("400000.00"), PENDING),
    ]
    shares = apply_amendment(milestones, D("70000.00"))
    # open: b and c, 700,000.00; b: 70,000 × 3/7 = 30,000.00; c takes 70,000 − 30,000 = 40,000.00
    assert [(s.id, s.added, s.new_amount) for s in shares] == [
        ("b", D("30000.00"), D("330000.00")),
        ("c", D("40000.00"), D("440000.00")),
    ]


def test_amendment_shares_are_rounded_on_the_running_total_with_the_last_taking_the_rest():
    milestones = [(k, D("100.00"), PENDING) for k in "abc"]
    shares = apply_amendment(milestones, D("0.10"))
    # running totals: 0.10 × 1/3 = 0.0333 → 0.03; 0.10 × 2/3 = 0.0667 → 0.07; last 0.10
    # shares: 0.03, 0.07 − 0.03 = 0.04, 0.10 − 0.07 = 0.03
    assert [s.added for s in shares] == [D("0.03"), D("0.04"), D("0.03")]


def test_amendment_share_is_never_negative():
    milestones = [(k, D("1.00"), PENDING) for k in range(10)]
    shares = apply_amendment(milestones, D("0.05"))
    # running totals 0.005 × i half-up: 0.01, 0.01, 0.02, 0.02, 0.03, 0.03, 0.04, 0.04, 0.05, 0.05
    assert [s.added for s in shares] == [D("0.01"), D("0.00")] * 5


def test_amendment_skips_milestones_with_a_payment_pending():
    milestones = [("a", D("100.00"), EVALUATED), ("b", D("100.00"), PENDING)]
    shares = apply_amendment(milestones, D("10.00"), payment_pending_ids={"a"})
    assert [(s.id, s.added) for s in shares] == [("b", D("10.00"))]


def test_amendment_without_an_open_milestone_is_refused():
    with pytest.raises(RuleViolation) as raised:
        apply_amendment([("a", D("100.00"), PAID), ("b", D("100.00"), CANCELLED)], D("10.00"))
    assert (raised.value.code, raised.value.status) == ("no_open_milestone", 409)


# --- termination --------------------------------------------------------------------------


def test_termination_cancels_unpaid_milestones_and_releases_their_amounts():
    milestones = [
        ("a", D("300000.00"), PAID),
        ("b", D("250000.00"), EVALUATED),
        ("c", D("200000.00"), DELIVERED),
        ("d", D("250000.00"), PENDING),
    ]
    result = terminate(milestones, payment_pending_ids={"b"})
    assert result.cancelled_ids == ("c", "d")
    assert result.kept_ids == ("a", "b")
    # 200,000.00 + 250,000.00
    assert result.released_commitment == D("450000.00")


def test_termination_does_not_release_an_already_cancelled_milestone_again():
    result = terminate([("a", D("100.00"), CANCELLED), ("b", D("50.00"), PENDING)])
    assert result.cancelled_ids == ("b",)
    assert result.released_commitment == D("50.00")


# --- milestones ----------------------------------------------------------------------------


def test_paid_milestone_cannot_be_cancelled():
    with pytest.raises(RuleViolation) as raised:
        check_milestone_transition(PAID, CANCELLED)
    assert raised.value.code == "invalid_status_transition"


def test_milestone_is_delivered_evaluated_then_paid():
    check_milestone_transition(PENDING, DELIVERED)
    check_milestone_transition(DELIVERED, EVALUATED)
    check_milestone_transition(EVALUATED, PAID)


def test_contract_with_an_open_milestone_cannot_complete():
    with pytest.raises(RuleViolation) as raised:
        ensure_all_milestones_settled([PAID, EVALUATED, CANCELLED])
    assert raised.value.code == "contract_has_open_milestones"


def test_milestone_delivered_after_its_due_date_is_overdue():
    assert is_overdue(date(2025, 6, 30), date(2025, 7, 1), date(2025, 7, 15))


def test_milestone_delivered_on_its_due_date_is_not_overdue():
    assert not is_overdue(date(2025, 6, 30), date(2025, 6, 30), date(2025, 7, 15))


def test_undelivered_milestone_past_its_due_date_is_overdue():
    assert is_overdue(date(2025, 6, 30), None, date(2025, 7, 1))


def test_undelivered_milestone_on_its_due_date_is_not_yet_overdue():
    assert not is_overdue(date(2025, 6, 30), None, date(2025, 6, 30))


# --- deliverables --------------------------------------------------------------------------


def test_valid_deliverable_is_returned_stripped_with_decimal_figures():
    result = validate_deliverable("  第一季度服务总结  ", {"people_served": 120, "service_hours": "310.5"})
    assert result.summary == "第一季度服务总结"
    assert result.figures == {"people_served": D(120), "service_hours": D("310.5")}


def test_deliverable_without_a_summary_is_refused():
    with pytest.raises(RuleViolation) as raised:
        validate_deliverable("   ", {})
    assert raised.value.code == "invalid_deliverable"


def test_deliverable_summary_over_5000_characters_is_refused():
    with pytest.raises(RuleViolation) as raised:
        validate_deliverable("字" * 5001, {})
    assert raised.value.errors[0]["field"] == "summary"


def test_deliverable_with_an_unknown_figure_is_refused():
    with pytest.raises(RuleViolation) as raised:
        validate_deliverable("总结", {"smiles": 3})
    assert raised.value.errors[0]["field"] == "figures.smiles"


def test_deliverable_with_a_negative_figure_is_refused():
    with pytest.raises(RuleViolation) as raised:
        validate_deliverable("总结", {"sessions_held": -1})
    assert raised.value.errors[0]["field"] == "figures.sessions_held"


def test_deliverable_with_a_fractional_head_count_is_refused():
    with pytest.raises(RuleViolation) as raised:
        validate_deliverable("总结", {"people_served": D("10.5")})
    assert raised.value.errors[0]["message"] == "must be a whole number"


# --- payments ------------------------------------------------------------------------------


def test_payment_without_an_evaluation_is_refused():
    with pytest.raises(RuleViolation) as raised:
        decide_payment(D("300000.00"), EVALUATED, None, DEFAULT_PAYMENT_RULE)
    assert (raised.value.code, raised.value.status) == ("evaluation_required", 409)


def test_payment_on_a_returned_evaluation_is_refused():
    returned = (EvaluationStatus.RETURNED, D(95), Grade.EXCELLENT)
    with pytest.raises(RuleViolation) as raised:
        decide_payment(D("300000.00"), EVALUATED, returned, DEFAULT_PAYMENT_RULE)
    assert raised.value.code == "evaluation_required"


def test_payment_on_a_submitted_but_unaccepted_evaluation_is_refused():
    submitted = (EvaluationStatus.SUBMITTED, D(95), Grade.EXCELLENT)
    with pytest.raises(RuleViolation) as raised:
        decide_payment(D("300000.00"), EVALUATED, submitted, DEFAULT_PAYMENT_RULE)
    assert raised.value.code == "evaluation_required"


def test_second_payment_of_a_milestone_is_refused():
    with pytest.raises(RuleViolation) as raised:
        decide_payment(D("300000.00"), PAID, accepted("95"), DEFAULT_PAYMENT_RULE)
    assert (raised.value.code, raised.value.status) == ("milestone_already_paid", 409)


def test_payment_of_a_cancelled_milestone_is_refused():
    with pytest.raises(RuleViolation) as raised:
        decide_payment(D("300000.00"), CANCELLED, accepted("95"), DEFAULT_PAYMENT_RULE)
    assert raised.value.code == "milestone_cancelled"


def test_payment_while_an_appeal_is_pending_is_refused():
    with pytest.raises(RuleViolation) as raised:
        decide_payment(D("300000.00"), EVALUATED, accepted("65"), DEFAULT_PAYMENT_RULE, appeal_pending=True)
    assert raised.value.code == "appeal_pending"


def test_excellent_evaluation_pays_the_whole_milestone():
    decision = decide_payment(D("300000.00"), EVALUATED, accepted("92.5", Grade.EXCELLENT), DEFAULT_PAYMENT_RULE)
    assert (decision.amount, decision.withheld_amount) == (D("300000.00"), D("0.00"))
    assert (decision.payout_ratio, decision.grade, decision.total_score) == (D("1.00"), Grade.EXCELLENT, D("92.5"))


def test_good_evaluation_pays_95_percent():
    decision = decide_payment(D("300000.00"), EVALUATED, accepted("85"), DEFAULT_PAYMENT_RULE)
    # 300,000.00 × 0.95 = 285,000.00; withheld 15,000.00
    assert (decision.amount, decision.withheld_amount) == (D("285000.00"), D("15000.00"))


def test_fair_evaluation_pays_80_percent():
    decision = decide_payment(D("300000.00"), EVALUATED, accepted("65", Grade.FAIR), DEFAULT_PAYMENT_RULE)
    # 300,000.00 × 0.80 = 240,000.00; withheld 60,000.00
    assert (decision.amount, decision.withheld_amount) == (D("240000.00"), D("60000.00"))


def test_poor_evaluation_pays_nothing_and_withholds_everything():
    decision = decide_payment(D("300000.00"), EVALUATED, accepted("59.99"), DEFAULT_PAYMENT_RULE)
    assert (decision.amount, decision.withheld_amount) == (D("0.00"), D("300000.00"))


def test_grade_is_derived_from_the_score_when_not_given():
    decision = decide_payment(D("100.00"), EVALUATED, accepted("85"), DEFAULT_PAYMENT_RULE)
    assert decision.grade is Grade.GOOD


@pytest.mark.parametrize(
    ("milestone", "score", "paid", "withheld"),
    [
        # 333,333.33 × 0.95 = 316,666.6635 → 316,666.66; 333,333.33 − 316,666.66 = 16,666.67
        ("333333.33", "85", "316666.66", "16666.67"),
        # 12,345.67 × 0.80 = 9,876.536 → 9,876.54; 12,345.67 − 9,876.54 = 2,469.13
        ("12345.67", "70", "9876.54", "2469.13"),
        # 1,234.57 × 0.95 = 1,172.8415 → 1,172.84; 1,234.57 − 1,172.84 = 61.73
        ("1234.57", "80", "1172.84", "61.73"),
        # 0.01 × 0.80 = 0.008 → 0.01; nothing withheld
        ("0.01", "60", "0.01", "0.00"),
    ],
)
def test_odd_amounts_are_rounded_and_paid_plus_withheld_is_the_milestone(milestone, score, paid, withheld):
    decision = decide_payment(D(milestone), EVALUATED, accepted(score), DEFAULT_PAYMENT_RULE)
    assert (decision.amount, decision.withheld_amount) == (D(paid), D(withheld))
    assert decision.amount + decision.withheld_amount == D(milestone)


def test_payment_follows_the_contracts_own_payment_rule():
    bands = [PaymentBand(D(0), D(70), D("0.5")), PaymentBand(D(70), D(100), D(1))]
    decision = decide_payment(D("1000.00"), EVALUATED, accepted("65"), bands)
    # 1,000.00 × 0.5 = 500.00
    assert decision.amount == D("500.00")


def test_payment_is_confirmed_once():
    check_payment_transition(PaymentStatus.PENDING, PaymentStatus.CONFIRMED)
    with pytest.raises(RuleViolation) as raised:
        check_payment_transition(PaymentStatus.CONFIRMED, PaymentStatus.PENDING)
    assert raised.value.code == "invalid_status_transition"


def test_treasury_reference_of_64_characters_is_accepted_and_stripped():
    assert validate_treasury_reference(" " + "R" * 64 + " ") == "R" * 64


@pytest.mark.parametrize("reference", ["", "   ", "R" * 65, None])
def test_empty_or_overlong_treasury_reference_is_refused(reference):
    with pytest.raises(RuleViolation) as raised:
        validate_treasury_reference(reference)
    assert raised.value.code == "invalid_treasury_reference"


def test_idempotency_key_of_200_characters_is_accepted_and_stripped():
    assert check_idempotency_key(" " + "k" * 200 + " ") == "k" * 200


@pytest.mark.parametrize("key", ["", "   ", "k" * 201, None, "tab\tinside"])
def test_missing_overlong_or_unprintable_idempotency_key_is_refused(key):
    with pytest.raises(RuleViolation) as raised:
        check_idempotency_key(key)
    assert (raised.value.code, raised.value.status) == ("invalid_idempotency_key", 422)


def test_idempotency_key_sent_again_for_the_same_milestone_replays_its_payment():
    check_key_replays_its_payment(("contract-1", "milestone-1"), ("contract-1", "milestone-1"))


def test_idempotency_key_sent_again_for_another_milestone_is_a_conflict():
    with pytest.raises(RuleViolation) as raised:
        check_key_replays_its_payment(("contract-1", "milestone-1"), ("contract-1", "milestone-2"))
    assert (raised.value.code, raised.value.status) == ("idempotency_key_reused", 409)


def test_payment_to_anyone_but_the_vendor_is_refused():
    with pytest.raises(RuleViolation) as raised:
        check_payee("subcontractor-1", "vendor-1")
    assert raised.value.code == "payee_must_be_vendor"


# --- contract position ---------------------------------------------------------------------


def test_contract_position_accounts_for_every_fen():
    milestones = [
        (D("300000.00"), PAID, D("285000.00"), D("15000.00")),
        (D("300000.00"), PAID, D("240000.00"), D("60000.00")),
        (D("400000.00"), PENDING, None, None),
    ]
    position = contract_position(D("1000000.00"), milestones)
    # paid 285,000 + 240,000 = 525,000; withheld 15,000 + 60,000 = 75,000;
    # remaining 1,000,000 − 525,000 − 75,000 = 400,000 (the open milestone)
    assert position == (D("525000.00"), D("75000.00"), D("400000.00"), D("0.00"))
    assert position.paid + position.withheld + position.remaining + position.cancelled == D("1000000.00")


def test_cancelled_milestones_leave_nothing_remaining():
    milestones = [
        (D("600000.00"), PAID, D("570000.00"), D("30000.00")),
        (D("400000.00"), CANCELLED, None, None),
    ]
    position = contract_position(D("1000000.00"), milestones)
    # 1,000,000 − 570,000 − 30,000 − 400,000 = 0
    assert (position.remaining, position.cancelled) == (D("0.00"), D("400000.00"))


# --- property: every fen of a contract is accounted for -------------------------------------

STATUSES = [PENDING, DELIVERED, EVALUATED, PAID, CANCELLED]


@st.composite
def percentages(draw) -> list[Decimal]:
    """1–6 positive percentages summing to 100, whole or with two decimals."""
    whole = draw(st.booleans())
    units = 100 if whole else 10_000  # in percent or in hundredths of a percent
    count = draw(st.integers(1, 6))
    cuts = sorted(draw(st.sets(st.integers(1, units - 1), min_size=count - 1, max_size=count - 1)))
    bounds = [0, *cuts, units]
    pieces = [b - a for a, b in zip(bounds, bounds[1:])]
    return [D(p) if whole else D(p) / 100 for p in pieces]


@settings(max_examples=400, deadline=None, database=None)
@given(
    amount=st.integers(1, 10**11).map(lambda fen: D(fen) / 100),
    pcts=percentages(),
    outcomes=st.lists(st.tuples(st.sampled_from(STATUSES), st.integers(0, 10_000)), min_size=6, max_size=6),
)
def test_paid_withheld_remaining_and_cancelled_add_up_to_the_contract_amount(amount, pcts, outcomes):
    plan = [(f"m{i}", pct, 30 * (i + 1)) for i, pct in enumerate(pcts)]
    try:
        milestones = split_milestones(amount, plan)
    except RuleViolation as refused:
        # Only a contract too small for its plan is refused: then some share is below
        # (n − 1) × 0.005 + 0.01, the most the other milestones' rounding can take from it.
        assert refused.code == "milestone_amount_too_small"
        assert amount * min(pcts) / 100 < D("0.005") * (len(pcts) - 1) + D("0.01")
        return
    assert sum(m.amount for m in milestones) == amount
    assert all(m.amount >= D("0.01") for m in milestones)

    rows = []
    open_amount = D(0)
    for milestone, (status, score_hundredths) in zip(milestones, outcomes):
        if status is PAID:
            evaluation = accepted(str(D(score_hundredths) / 100))
            decision = decide_payment(milestone.amount, EVALUATED, evaluation, DEFAULT_PAYMENT_RULE)
            assert decision.amount >= 0 and decision.withheld_amount >= 0
            assert decision.amount + decision.withheld_amount == milestone.amount
            rows.append((milestone.amount, PAID, decision.amount, decision.withheld_amount))
        else:
            rows.append((milestone.amount, status, None, None))
            if status is not CANCELLED:
                open_amount += milestone.amount

    position = contract_position(amount, rows)
    assert position.paid + position.withheld + position.remaining + position.cancelled == amount
    assert min(position) >= 0
    assert position.remaining == open_amount


@settings(max_examples=200, deadline=None, database=None)
@given(
    amounts=st.lists(st.integers(1, 10**9).map(lambda fen: D(fen) / 100), min_size=1, max_size=8),
    increase=st.integers(1, 10**9).map(lambda fen: D(fen) / 100),
)
def test_amendment_shares_add_up_to_the_increase_and_are_never_negative(amounts, increase):
    shares = apply_amendment([(i, a, PENDING) for i, a in enumerate(amounts)], increase)
    assert sum(s.added for s in shares) == increase
    assert all(s.added >= 0 for s in shares)
    assert all(s.new_amount == a + s.added for s, a in zip(shares, amounts))


def test_a_milestone_is_paid_only_once_the_appeal_window_has_closed():
    deadline = datetime(2027, 1, 8, tzinfo=ZoneInfo("Asia/Shanghai"))  # 24:00 of 2027-01-07
    with pytest.raises(RuleViolation) as exc:
        check_appeal_window_closed(deadline - timedelta(seconds=1), deadline)
    assert (exc.value.code, exc.value.status) == ("appeal_window_open", 409)
    check_appeal_window_closed(deadline, deadline)


# --- multi-year contracts (102号令 Art. 24) ---------------------------------------------------------


def test_each_later_budget_year_of_a_recurring_contract_carries_the_milestones_due_in_it():
    milestones = [(date(2026, 12, 20), Decimal("100")), (date(2027, 3, 1), Decimal("50")),
                  (date(2027, 9, 1), Decimal("25")), (date(2029, 1, 2), Decimal("0.01"))]
    assert rules.budget_year_shares(True, 2026, milestones) == {
        2026: Decimal("100"), 2027: Decimal("75"), 2029: Decimal("0.01")
    }
    # Not recurring: at most a year, carried whole by the tender's line.
    assert rules.budget_year_shares(False, 2026, milestones) == {2026: Decimal("175.01")}
    # A line of a later year than a milestone's carries it too.
    assert rules.budget_year_shares(True, 2027, milestones) == {2027: Decimal("175"), 2029: Decimal("0.01")}
    assert rules.budget_year_of(True, 2026, date(2028, 1, 1)) == 2028
    assert rules.budget_year_of(False, 2026, date(2028, 1, 1)) == 2026


def test_the_bureau_names_exactly_one_of_its_lines_of_the_right_year_for_each_later_year():
    shares = {2026: Decimal("10"), 2027: Decimal("20"), 2028: Decimal("30")}
    good = [rules.ChosenLine(2027, "a", 2027), rules.ChosenLine(2028, "b", 2028)]
    assert rules.check_budget_years(2026, shares, good) == {2027: "a", 2028: "b"}
    assert rules.check_budget_years(2026, {2026: Decimal("10")}, []) == {}
    cases = [
        ([good[0]], "budget_lines", "2028"),
        ([good[0], rules.ChosenLine(2028, "b", 2027)], "budget_lines[1].budget_line_id", "2027"),
        ([good[0], rules.ChosenLine(2028, "x", None)], "budget_lines[1].budget_line_id", "bureau"),
        ([*good, rules.ChosenLine(2027, "c", 2027)], "budget_lines[2].year", "twice"),
        ([*good, rules.ChosenLine(2026, "d", 2026)], "budget_lines[2].year", "2026"),
        ([*good, rules.ChosenLine(2030, "e", 2030)], "budget_lines[2].year", "2030"),
    ]
    for chosen, field, words in cases:
        with pytest.raises(RuleViolation) as caught:
            rules.check_budget_years(2026, shares, chosen)
        assert caught.value.code == "invalid_budget_years"
        errors = {e["field"]: e["message"] for e in caught.value.errors}
        assert field in errors and words in errors[field], errors
