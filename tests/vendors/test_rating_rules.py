"""The credit rating (vendors.rating): its components, the whole score, and the fingerprint.

Every expected number is worked out by hand in a comment next to it, never by calling the code
under test: the point of these tests is that the formula in docs/credit-rating.md and the
code agree.
"""

import hashlib
import json
import random
from datetime import date
from decimal import Decimal

import pytest

from govbuy.rules import RuleViolation
from vendors.rating import (
    RULES_VERSION,
    AcceptedEvaluation,
    DueMilestone,
    RatingInputs,
    credit_grade_for_score,
    delivery_counts,
    inputs_fingerprint,
    rate_vendor,
    recency_weight,
)
from vendors.rules import CREDIT_LIST_KINDS, CreditListEntry, CurrentGrade

TODAY = date(2026, 6, 30)


def ev(score, amount, accepted_on, grade="good"):
    return AcceptedEvaluation(Decimal(score), Decimal(amount), accepted_on, grade)


def violation(fn, *args, **kwargs) -> RuleViolation:
    with pytest.raises(RuleViolation) as caught:
        fn(*args, **kwargs)
    return caught.value


# --- credit rating: components -------------------------------------------------------------


def test_performance_is_the_amount_weighted_mean_of_recent_scores():
    inputs = RatingInputs(
        evaluations=[
            ev("90", "100000.00", date(2026, 2, 1)),
            ev("80", "300000.00", date(2026, 5, 1)),
        ]
    )
    rating = rate_vendor(inputs, TODAY)
    # Both within a year (recency 1.0):
    # (90×100000 + 80×300000) / (100000 + 300000) = 33000000 / 400000 = 82.50
    assert rating.component("performance").value == Decimal("82.50")
    assert "weighted mean of 2 evaluations" in rating.component("performance").explanation
    # Performance and conduct (history, no penalty: 100) are present:
    # (0.40×82.50 + 0.20×100) / 0.60 = (33 + 20) / 0.60 = 88.333… → 88.33, grade A
    assert rating.score == Decimal("88.33")
    assert rating.grade == "A"
    assert rating.provisional is False


def test_recency_weights_older_evaluations_less():
    inputs = RatingInputs(
        evaluations=[
            ev("90", "100000.00", date(2026, 1, 10)),  # < 1 year: 1.0
            ev("60", "100000.00", date(2025, 1, 10)),  # 1–2 years: 0.6
            ev("40", "100000.00", date(2024, 1, 10)),  # 2–3 years: 0.3
        ]
    )
    # weights 100000, 60000, 30000 → Σ = 190000
    # Σ score×weight = 9000000 + 3600000 + 1200000 = 13800000
    # 13800000 / 190000 = 72.6315… → 72.63
    assert rate_vendor(inputs, TODAY).component("performance").value == Decimal("72.63")


def test_recency_band_boundaries():
    # TODAY − 1 year = 2025-06-30 is no longer "within one year"; likewise for 2 and 3 years.
    assert recency_weight(date(2025, 7, 1), TODAY) == Decimal("1.0")
    assert recency_weight(date(2025, 6, 30), TODAY) == Decimal("0.6")
    assert recency_weight(date(2024, 6, 30), TODAY) == Decimal("0.3")
    assert recency_weight(date(2023, 7, 1), TODAY) == Decimal("0.3")
    assert recency_weight(date(2023, 6, 30), TODAY) is None
    assert recency_weight(date(2026, 7, 1), TODAY) is None


def test_evaluation_older_than_three_years_is_left_out_of_performance():
    inputs = RatingInputs(
        evaluations=[
            ev("10", "900000.00", date(2023, 6, 30), "poor"),
            ev("90", "100000.00", date(2026, 1, 1)),
        ]
    )
    # Only the 2026 evaluation counts: 90×100000 / 100000 = 90.00
    assert rate_vendor(inputs, TODAY).component("performance").value == Decimal("90.00")


def test_performance_is_rounded_half_up():
    inputs = RatingInputs(
        evaluations=[
            ev("80.00", "100000.00", date(2026, 3, 1)),
            ev("80.01", "100000.00", date(2026, 3, 1)),
        ]
    )
    # (80.00 + 80.01) / 2 = 80.005 → half-up 80.01 (half-even would give 80.00)
    assert rate_vendor(inputs, TODAY).component("performance").value == Decimal("80.01")


def test_delivery_is_the_share_of_due_milestones_delivered_on_time():
    inputs = RatingInputs(
        on_time_milestones=2,  # e.g. due 2026-01-31 delivered 01-20, due 03-31 delivered 03-31
        late_milestones=[
            DueMilestone(date(2026, 4, 30), date(2026, 5, 3)),  # late
            DueMilestone(date(2026, 6, 1), None),  # due, undelivered: late
            DueMilestone(date(2026, 9, 30), None),  # not yet due: left out
        ],
    )
    rating = rate_vendor(inputs, TODAY)
    # 2 of 4 due milestones on time: 2 / 4 × 100 = 50.00
    assert rating.component("delivery").value == Decimal("50.00")
    assert rating.component("performance").present is False
    # Delivery and conduct (100): (0.25×50 + 0.20×100) / 0.45 = 32.5 / 0.45 = 72.222… → 72.22
    assert rating.score == Decimal("72.22")
    assert rating.grade == "B"


def test_undelivered_due_milestone_counts_as_late():
    inputs = RatingInputs(late_milestones=[DueMilestone(date(2026, 6, 1))])
    # 0 of 1 on time: 0.00
    assert rate_vendor(inputs, TODAY).component("delivery").value == Decimal("0.00")


def test_milestone_not_yet_due_gives_no_delivery_component():
    inputs = RatingInputs(late_milestones=[DueMilestone(date(2026, 7, 1))])
    assert rate_vendor(inputs, TODAY).component("delivery").present is False


def test_on_time_milestones_alone_give_full_delivery():
    rating = rate_vendor(RatingInputs(on_time_milestones=3), TODAY)
    assert rating.component("delivery").value == Decimal("100.00")
    assert "3 of 3 due milestones" in rating.component("delivery").explanation


def test_a_milestone_delivered_on_time_is_refused_as_late():
    with pytest.raises(RuleViolation) as refused:
        RatingInputs(late_milestones=[DueMilestone(date(2026, 3, 31), date(2026, 3, 31))])
    assert refused.value.code == "invalid_rating_input"


@pytest.mark.parametrize("count", [-1, True, "2"])
def test_on_time_milestones_must_be_a_whole_number(count):
    with pytest.raises(RuleViolation):
        RatingInputs(on_time_milestones=count)


@pytest.mark.parametrize(
    ("grade", "points"), [(5, "100.00"), (4, "90.00"), (3, "80.00"), (2, "65.00"), (1, "50.00")]
)
def test_assessment_component_gives_points_per_grade(grade, points):
    rating = rate_vendor(RatingInputs(assessment_grade=grade), TODAY)
    assert rating.component("assessment").value == Decimal(points)


def test_expired_assessment_grade_is_left_out_of_the_rating():
    expired = CurrentGrade(5, date(2021, 1, 1), date(2026, 1, 1), expired=True)
    inputs = RatingInputs(
        evaluations=[ev("80", "100000.00", date(2026, 3, 1))], assessment_grade=expired
    )
    rating = rate_vendor(inputs, TODAY)
    assert rating.component("assessment").present is False
    assert "expired on 2026-01-01" in rating.component("assessment").explanation
    # Performance 80 and conduct 100 only: (0.40×80 + 0.20×100) / 0.60 = 52 / 0.60 = 86.666… → 86.67
    assert rating.score == Decimal("86.67")


def test_grade_that_expired_after_it_was_read_is_left_out():
    # The flag says valid, but on the rating day the five years are over.
    stale = CurrentGrade(4, date(2021, 6, 30), date(2026, 6, 30), expired=False)
    rating = rate_vendor(RatingInputs(assessment_grade=stale), TODAY)
    assert rating.component("assessment").present is False


def test_conduct_deducts_for_poor_grades_terminations_and_past_entries():
    inputs = RatingInputs(
        poor_grade_count=2,
        terminations_for_cause=1,
        past_list_entries=[
            CreditListEntry("major_tax_violation", date(2024, 1, 1), date(2024, 9, 1))
        ],
    )
    # 100 − 15×2 − 25×1 − 10×1 = 100 − 30 − 25 − 10 = 35.00
    rating = rate_vendor(inputs, TODAY)
    assert rating.component("conduct").value == Decimal("35.00")
    assert "major_tax_violation ×1" in rating.component("conduct").explanation


def test_conduct_is_floored_at_zero():
    inputs = RatingInputs(poor_grade_count=5, terminations_for_cause=2)
    # 100 − 15×5 − 25×2 = 100 − 75 − 50 = −25 → 0.00
    assert rate_vendor(inputs, TODAY).component("conduct").value == Decimal("0.00")


def test_past_list_entry_listed_more_than_three_years_ago_is_not_deducted():
    old = CreditListEntry("abnormal", date(2023, 6, 30), date(2023, 12, 1))
    recent = CreditListEntry("abnormal", date(2023, 7, 1), date(2023, 12, 1))
    # TODAY − 3 years = 2023-06-30: only entries listed after it count.
    assert rate_vendor(RatingInputs(past_list_entries=[old]), TODAY).component(
        "conduct"
    ).value == Decimal("100.00")
    assert rate_vendor(RatingInputs(past_list_entries=[recent]), TODAY).component(
        "conduct"
    ).value == Decimal("90.00")


def test_conduct_alone_gives_a_provisional_rating():
    inputs = RatingInputs(
        past_list_entries=[CreditListEntry("abnormal", date(2025, 1, 1), date(2025, 3, 1))]
    )
    rating = rate_vendor(inputs, TODAY)
    # 100 − 10×1 = 90.00, but with no performance and no delivery there is no track record.
    assert rating.component("conduct").value == Decimal("90.00")
    assert rating.provisional is True
    assert rating.score is None


# --- credit rating: the whole --------------------------------------------------------------


def worked_example_inputs(**overrides) -> RatingInputs:
    """The worked example of docs/credit-rating.md, rated on 2026-06-30."""
    fields = {
        "evaluations": [
            ev("92", "200000.00", date(2026, 3, 15), "excellent"),
            ev("78", "100000.00", date(2025, 4, 10), "fair"),
            ev("55", "150000.00", date(2023, 9, 1), "poor"),
            ev("95", "300000.00", date(2023, 5, 20), "excellent"),
        ],
        # on time: due 2025-03-31 (delivered 03-28), 2025-06-30 (on the day), 2026-03-31
        # (03-30), 2026-05-31 (05-29)
        "on_time_milestones": 4,
        "late_milestones": [
            DueMilestone(date(2025, 12, 31), date(2026, 1, 5)),
            DueMilestone(date(2026, 6, 15), None),
            DueMilestone(date(2026, 9, 30), None),
        ],
        "assessment_grade": CurrentGrade(4, date(2022, 12, 1), date(2027, 12, 1), expired=False),
        "poor_grade_count": 1,
        "terminations_for_cause": 0,
        "past_list_entries": [
            CreditListEntry("abnormal", date(2024, 2, 1), date(2024, 5, 1), "annual report late"),
            CreditListEntry("abnormal", date(2022, 1, 10), date(2022, 3, 1), "address unreachable"),
        ],
    }
    fields.update(overrides)
    return RatingInputs(**fields)


def test_worked_example_of_the_documentation():
    rating = rate_vendor(worked_example_inputs(), TODAY)
    # performance: 2023-05-20 is older than 3 years; weights 200000×1.0, 100000×0.6,
    #   150000×0.3 = 200000 + 60000 + 45000 = 305000;
    #   92×200000 + 78×60000 + 55×45000 = 18400000 + 4680000 + 2475000 = 25555000;
    #   25555000 / 305000 = 83.7868… → 83.79
    # delivery: 6 milestones due by 2026-06-30, on time: 1st, 2nd (on the day), 4th, 5th
    #   → 4 / 6 × 100 = 66.666… → 66.67
    # assessment: 4A valid until 2027-12-01 → 90.00
    # conduct: 1 poor grade, 1 past entry (the 2022 one is outside 3 years)
    #   → 100 − 15 − 10 = 75.00
    # score: 0.40×83.79 + 0.25×66.67 + 0.15×90 + 0.20×75
    #   = 33.516 + 16.6675 + 13.5 + 15 = 78.6835 → 78.68, grade B
    assert [c.value for c in rating.components] == [
        Decimal("83.79"),
        Decimal("66.67"),
        Decimal("90.00"),
        Decimal("75.00"),
    ]
    assert rating.score == Decimal("78.68")
    assert rating.grade == "B"
    assert rating.provisional is False
    assert rating.eligible is True
    assert rating.rules_version == RULES_VERSION == "credit-2026.2"


def test_absent_component_is_left_out_and_the_rest_reweighted():
    rating = rate_vendor(worked_example_inputs(assessment_grade=None), TODAY)
    # Without assessment the present weights sum to 0.40 + 0.25 + 0.20 = 0.85:
    # (33.516 + 16.6675 + 15) / 0.85 = 65.1835 / 0.85 = 76.6864… → 76.69
    assert rating.score == Decimal("76.69")
    # 0.40 / 0.85 = 0.47058… → 0.4706; 0.25 / 0.85 = 0.2941; 0.20 / 0.85 = 0.2353
    assert [c.effective_weight for c in rating.components] == [
        Decimal("0.4706"),
        Decimal("0.2941"),
        Decimal("0.0000"),
        Decimal("0.2353"),
    ]


def test_score_is_rounded_half_up():
    inputs = RatingInputs(
        evaluations=[ev("80", "100000.00", date(2026, 3, 1))],
        on_time_milestones=3,
        late_milestones=[DueMilestone(date(2026, 1, d)) for d in (4, 5, 6, 7)],
        assessment_grade=2,
    )
    # delivery 3 / 7 × 100 = 42.857… → 42.86; conduct 100; assessment 2A = 65
    # 0.40×80 + 0.25×42.86 + 0.15×65 + 0.20×100 = 32 + 10.715 + 9.75 + 20 = 72.465
    # → half-up 72.47 (half-even would give 72.46)
    assert rate_vendor(inputs, TODAY).score == Decimal("72.47")


@pytest.mark.parametrize(
    ("score", "grade"),
    [
        ("100", "A"),
        ("85.00", "A"),
        ("84.99", "B"),
        ("70.00", "B"),
        ("69.99", "C"),
        ("55.00", "C"),
        ("54.99", "D"),
        ("0", "D"),
    ],
)
def test_credit_grade_bands(score, grade):
    assert credit_grade_for_score(Decimal(score)) == grade


def test_vendor_without_history_is_provisional_without_score():
    rating = rate_vendor(RatingInputs(), TODAY)
    assert rating.provisional is True
    assert rating.score is None
    assert rating.grade is None
    assert rating.eligible is True
    assert [c.present for c in rating.components] == [False, False, False, False]


def test_provisional_rating_still_lists_the_components_present():
    rating = rate_vendor(RatingInputs(assessment_grade=5), TODAY)
    assert rating.provisional is True
    assert rating.score is None
    assert [(c.name, c.present) for c in rating.components] == [
        ("performance", False),
        ("delivery", False),
        ("assessment", True),
        ("conduct", False),
    ]


@pytest.mark.parametrize("kind", sorted(CREDIT_LIST_KINDS))
def test_active_entry_on_any_list_makes_the_vendor_ineligible_whatever_the_score(kind):
    entry = CreditListEntry(kind, date(2026, 5, 1), None, "listed by the authority")
    inputs = RatingInputs(
        evaluations=[ev("100", "100000.00", date(2026, 3, 1), "excellent")],
        active_list_entries=[entry],
    )
    rating = rate_vendor(inputs, TODAY)
    # (0.40×100 + 0.20×100) / 0.60 = 100.00: a perfect score, and still barred.
    assert rating.score == Decimal("100.00")
    assert rating.eligible is False
    assert rating.blocking_entries == (entry,)
    assert rating.as_dict()["blocking_entries"][0]["list"] == kind


def test_removed_entry_does_not_make_the_vendor_ineligible():
    entry = CreditListEntry("abnormal", date(2026, 1, 1), date(2026, 3, 1))
    assert rate_vendor(RatingInputs(past_list_entries=[entry]), TODAY).eligible is True


def test_entry_removed_only_after_today_still_makes_the_vendor_ineligible():
    entry = CreditListEntry("abnormal", date(2026, 1, 1), date(2026, 7, 15))
    rating = rate_vendor(RatingInputs(past_list_entries=[entry]), TODAY)
    assert rating.eligible is False


def test_equal_inputs_in_any_order_give_equal_ratings_and_fingerprints():
    forward = worked_example_inputs()
    shuffled = worked_example_inputs(
        evaluations=random.Random(7).sample(list(forward.evaluations), 4),
        late_milestones=list(reversed(forward.late_milestones)),
        past_list_entries=list(reversed(forward.past_list_entries)),
    )
    assert shuffled == forward
    assert rate_vendor(shuffled, TODAY) == rate_vendor(forward, TODAY)
    assert inputs_fingerprint(shuffled) == inputs_fingerprint(forward)


def test_fingerprint_ignores_how_a_number_is_written():
    a = RatingInputs(evaluations=[ev("90", "1000.00", date(2026, 1, 1))])
    b = RatingInputs(evaluations=[ev("90.00", "1000", date(2026, 1, 1))])
    assert inputs_fingerprint(a) == inputs_fingerprint(b)


def test_fingerprint_changes_when_an_input_changes():
    before = inputs_fingerprint(worked_example_inputs())
    after = inputs_fingerprint(worked_example_inputs(terminations_for_cause=1))
    assert len(before) == 64
    assert before != after


def test_stored_rating_can_be_recomputed_from_its_stored_inputs():
    rating = rate_vendor(worked_example_inputs(), TODAY)
    stored = json.loads(json.dumps(rating.as_dict()))
    inputs = RatingInputs.from_dict(stored["inputs"])
    assert inputs == rating.inputs
    assert rate_vendor(inputs, date.fromisoformat(stored["rated_on"])) == rating
    assert stored["score"] == "78.68"


def test_evaluation_score_above_100_is_rejected():
    error = violation(ev, "100.5", "1000.00", date(2026, 1, 1))
    assert error.code == "invalid_rating_input"


def test_float_money_is_rejected():
    error = violation(AcceptedEvaluation, Decimal("90"), 1000.0, date(2026, 1, 1), "good")
    assert error.errors[0]["field"] == "milestone_amount"


def test_delivery_counts_read_stored_inputs_of_either_rules_version():
    rated_on = date(2026, 6, 30)
    listed = {  # credit-2026.1: every milestone listed
        "milestones": [
            {"due_date": "2026-01-31", "delivered_on": "2026-01-20"},
            {"due_date": "2026-04-30", "delivered_on": "2026-05-03"},
            {"due_date": "2026-06-01", "delivered_on": None},
            {"due_date": "2026-09-30", "delivered_on": None},
        ]
    }
    counted = RatingInputs(
        on_time_milestones=1,
        late_milestones=[DueMilestone(date(2026, 4, 30), date(2026, 5, 3)), DueMilestone(date(2026, 6, 1)),
                         DueMilestone(date(2026, 9, 30))],
    ).as_dict()  # credit-2026.2
    # due by 2026-06-30: three, of which one on time
    assert delivery_counts(listed, rated_on) == (3, 1)
    assert delivery_counts(counted, rated_on) == (3, 1)


def test_fingerprint_is_sha256_of_the_canonical_json_of_inputs_and_rules_version():
    inputs = worked_example_inputs(
        active_list_entries=[CreditListEntry("abnormal", date(2026, 5, 1), None, "地址无法联系 \\ \"引号\" \u2028")]
    )
    canonical = json.dumps(
        {"rules_version": RULES_VERSION, "inputs": inputs.as_dict()},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    assert inputs_fingerprint(inputs) == hashlib.sha256(canonical.encode("utf-8")).hexdigest()
