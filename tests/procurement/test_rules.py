"""Unit tests of procurement.rules: tenders, bids, panel, scoring, award.

The working-day calendar is built by hand from the 2026 schedule (春节 2026-02-15..23 off,
make-up Saturdays 02-14 and 02-28; 中秋 2026-09-25..27 off; 国庆 2026-10-01..07 off, make-up
Sunday 09-20 and Saturday 10-10), and one test checks those dates against `chinesecalendar`.
Only these holidays are entered: the tests never touch the rest of 2026.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from govbuy.rules import SHANGHAI, RuleViolation, WorkCalendar
from procurement.rules import (
    BidForRanking,
    ChallengeOutcome,
    EligibilityRequirement,
    Method,
    TenderStatus,
    bids_are_sealed,
    challenge_resolution_effect,
    check_bid_deadline,
    check_bid_open,
    check_bid_price,
    check_challenge_window,
    check_contract_allowed,
    check_contract_term,
    check_expert_scores,
    check_invitations,
    check_panel,
    check_tender_transition,
    ensure_bids_unsealed,
    ineligible,
    minimum_bid_deadline,
    minimum_valid_bids,
    opening_outcome,
    payment_rule_bands,
    rank_bids,
    standstill_until,
    challenge_reply_due,
    challenge_reply_overdue,
    extended_bid_deadline,
    validate_eligibility,
    validate_milestone_plan,
    validate_scoring,
)


def _days(first: date, last: date) -> set[date]:
    return {first + timedelta(days=i) for i in range((last - first).days + 1)}


SPRING_FESTIVAL_2026 = _days(date(2026, 2, 15), date(2026, 2, 23))
MID_AUTUMN_2026 = _days(date(2026, 9, 25), date(2026, 9, 27))
NATIONAL_DAY_2026 = _days(date(2026, 10, 1), date(2026, 10, 7))
MAKE_UP_DAYS_2026 = {date(2026, 2, 14), date(2026, 2, 28), date(2026, 9, 20), date(2026, 10, 10)}

CAL = WorkCalendar(
    holidays=frozenset(SPRING_FESTIVAL_2026 | MID_AUTUMN_2026 | NATIONAL_DAY_2026),
    workdays=frozenset(MAKE_UP_DAYS_2026),
    known_years=frozenset({2026}),
)


def sh(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, ss, tzinfo=SHANGHAI)


def violation(excinfo: pytest.ExceptionInfo[RuleViolation]) -> RuleViolation:
    return excinfo.value


# --- the calendar these tests rely on ------------------------------------------------------


def test_hand_built_2026_calendar_agrees_with_chinesecalendar():
    chinese_calendar = pytest.importorskip("chinese_calendar")
    for day in _days(date(2026, 2, 1), date(2026, 3, 15)) | _days(
        date(2026, 9, 10), date(2026, 10, 20)
    ):
        assert CAL.is_working_day(day) == chinese_calendar.is_workday(day), day


# --- tenders: methods and transitions --------------------------------------------------------


def test_methods_carry_their_chinese_labels():
    assert {m.value: m.label for m in Method} == {
        "public_tender": "公开招标",
        "invited_tender": "邀请招标",
        "competitive_negotiation": "竞争性谈判",
        "competitive_consultation": "竞争性磋商",
        "inquiry": "询价",
        "single_source": "单一来源",
    }


@pytest.mark.parametrize(
    ("current", "target"),
    [
        ("draft", "published"),
        ("draft", "cancelled"),
        ("published", "evaluating"),
        ("published", "cancelled"),
        ("published", "failed"),
        ("evaluating", "awarded"),
        ("evaluating", "failed"),
        ("evaluating", "cancelled"),
        ("awarded", "contracted"),
        ("awarded", "evaluating"),
        ("awarded", "cancelled"),
    ],
)
def test_allowed_tender_transition_passes(current, target):
    check_tender_transition(current, target)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        ("draft", "evaluating"),
        ("draft", "awarded"),
        ("published", "awarded"),
        ("published", "draft"),
        ("evaluating", "contracted"),
        ("awarded", "published"),
        ("contracted", "cancelled"),
        ("cancelled", "published"),
        ("failed", "evaluating"),
    ],
)
def test_disallowed_tender_transition_is_a_conflict_naming_both_states(current, target):
    with pytest.raises(RuleViolation) as exc:
        check_tender_transition(current, target)
    assert (violation(exc).code, violation(exc).status) == ("invalid_status_transition", 409)
    assert f"'{current}'" in violation(exc).detail and f"'{target}'" in violation(exc).detail


# --- tenders: minimum periods ----------------------------------------------------------------


def test_public_tender_deadline_exactly_20_days_after_publication_is_accepted():
    # Published 2026-02-10; day 1 is 02-11 (民法典 Art. 201), day 20 is 03-02.
    assert minimum_bid_deadline("public_tender", sh(2026, 2, 10, 9), CAL) == sh(2026, 3, 2)
    assert check_bid_deadline("public_tender", sh(2026, 2, 10, 9), sh(2026, 3, 2), CAL) is None


def test_public_tender_deadline_one_day_short_is_refused_with_the_earliest_deadline():
    with pytest.raises(RuleViolation) as exc:
        check_bid_deadline("public_tender", sh(2026, 2, 10, 9), sh(2026, 3, 1, 23, 59, 59), CAL)
    assert (violation(exc).code, violation(exc).status) == ("deadline_too_short", 422)
    assert "2026-03-02T00:00:00+08:00" in violation(exc).detail


def test_invited_tender_needs_20_calendar_days_too():
    assert minimum_bid_deadline("invited_tender", sh(2026, 9, 28, 9), CAL) == sh(2026, 10, 18)
    with pytest.raises(RuleViolation):
        check_bid_deadline("invited_tender", sh(2026, 9, 28, 9), sh(2026, 10, 17, 18), CAL)


def test_consultation_needs_10_calendar_days_even_across_national_day():
    # Calendar days ignore holidays: 09-28 + 10 days = 10-08.
    assert minimum_bid_deadline("competitive_consultation", sh(2026, 9, 28), CAL) == sh(2026, 10, 8)
    assert (
        check_bid_deadline("competitive_consultation", sh(2026, 9, 28), sh(2026, 10, 8, 9), CAL)
        is None
    )
    with pytest.raises(RuleViolation):
        check_bid_deadline(
            "competitive_consultation", sh(2026, 9, 28), sh(2026, 10, 7, 23, 59), CAL
        )


def test_inquiry_three_working_days_after_friday_before_spring_festival():
    # Published Fri 02-13: Sat 02-14 is a make-up working day (1); 02-15..23 off;
    # Tue 02-24 (2); Wed 02-25 (3).
    assert minimum_bid_deadline("inquiry", sh(2026, 2, 13, 16), CAL) == sh(2026, 2, 25)
    assert check_bid_deadline("inquiry", sh(2026, 2, 13, 16), sh(2026, 2, 25), CAL) is None


def test_inquiry_deadline_one_working_day_short_is_refused():
    with pytest.raises(RuleViolation) as exc:
        check_bid_deadline("inquiry", sh(2026, 2, 13, 16), sh(2026, 2, 24, 23, 59), CAL)
    assert violation(exc).code == "deadline_too_short"
    assert "2026-02-25T00:00:00+08:00" in violation(exc).detail


def test_negotiation_across_national_day_ends_on_the_make_up_saturday():
    # Published Wed 09-30: 10-01..07 off; Thu 10-08 (1), Fri 10-09 (2), Sat 10-10 make-up (3).
    assert minimum_bid_deadline("competitive_negotiation", sh(2026, 9, 30, 10), CAL) == sh(
        2026, 10, 10
    )
    with pytest.raises(RuleViolation):
        check_bid_deadline("competitive_negotiation", sh(2026, 9, 30, 10), sh(2026, 10, 9, 17), CAL)


def test_single_source_notice_counts_the_make_up_sunday():
    # Published Fri 09-18: Sat 09-19 off; Sun 09-20 make-up (1); 09-21 (2), 09-22 (3),
    # 09-23 (4), Thu 09-24 (5).
    assert minimum_bid_deadline("single_source", sh(2026, 9, 18, 10), CAL) == sh(2026, 9, 24)
    assert check_bid_deadline("single_source", sh(2026, 9, 18, 10), sh(2026, 9, 24), CAL) is None


def test_single_source_notice_skips_mid_autumn():
    # Published Mon 09-21: 09-22 (1), 09-23 (2), 09-24 (3); 09-25..27 中秋 off;
    # Mon 09-28 (4), Tue 09-29 (5).
    assert minimum_bid_deadline("single_source", sh(2026, 9, 21, 10), CAL) == sh(2026, 9, 29)


def test_single_source_notice_around_spring_festival():
    # Published Thu 02-12: 02-13 (1), Sat 02-14 make-up (2), 02-15..23 off, 02-24 (3),
    # 02-25 (4), Thu 02-26 (5).
    assert minimum_bid_deadline("single_source", sh(2026, 2, 12, 10), CAL) == sh(2026, 2, 26)
    with pytest.raises(RuleViolation):
        check_bid_deadline("single_source", sh(2026, 2, 12, 10), sh(2026, 2, 25, 23), CAL)


def test_publication_day_is_the_shanghai_date():
    # 2026-02-12 17:00 UTC is 2026-02-13 01:00 in Shanghai: counting starts from the 13th.
    published = datetime(2026, 2, 12, 17, 0, tzinfo=timezone.utc)
    assert minimum_bid_deadline("inquiry", published, CAL) == sh(2026, 2, 25)


def test_working_day_period_through_a_year_without_schedule_warns():
    # 2027 is unknown: weekdays less the statutory holidays. Thu 12-31 (1), Fri 2027-01-01 is
    # 元旦, Mon 01-04 (2), Tue 01-05 (3).
    warning = check_bid_deadline("inquiry", sh(2026, 12, 30, 10), sh(2027, 1, 5, 9), CAL)
    assert warning is not None and "2027" in warning
    assert minimum_bid_deadline("inquiry", sh(2026, 12, 30, 10), CAL) == sh(2027, 1, 5)


def test_refused_deadline_in_an_unscheduled_year_carries_the_warning_too():
    with pytest.raises(RuleViolation) as exc:
        check_bid_deadline("inquiry", sh(2026, 12, 30, 10), sh(2027, 1, 1, 9), CAL)
    assert "No official holiday schedule is recorded for 2027" in violation(exc).detail


def test_working_day_period_within_a_known_year_does_not_warn():
    assert check_bid_deadline("inquiry", sh(2026, 3, 2), sh(2026, 3, 5), CAL) is None


def test_calendar_day_period_does_not_depend_on_the_schedule_and_does_not_warn():
    assert check_bid_deadline("public_tender", sh(2026, 12, 20), sh(2027, 1, 9), CAL) is None


def test_bid_deadline_without_a_utc_offset_is_refused():
    with pytest.raises(RuleViolation) as exc:
        check_bid_deadline("public_tender", sh(2026, 2, 10), datetime(2026, 3, 10, 9), CAL)
    assert violation(exc).code == "timezone_required"


# --- tenders: term, scoring scheme, milestones, invitations, eligibility ----------------------


@pytest.mark.parametrize(("months", "recurring"), [(1, False), (12, False), (13, True), (36, True)])
def test_contract_term_within_the_limit_is_accepted(months, recurring):
    check_contract_term(months, recurring)


@pytest.mark.parametrize(("months", "recurring"), [(13, False), (37, True)])
def test_contract_term_beyond_the_limit_is_too_long(months, recurring):
    with pytest.raises(RuleViolation) as exc:
        check_contract_term(months, recurring)
    assert violation(exc).code == "contract_term_too_long"


def test_contract_term_of_zero_months_is_invalid():
    with pytest.raises(RuleViolation) as exc:
        check_contract_term(0, False)
    assert violation(exc).code == "invalid_contract_term"


def test_comprehensive_scheme_with_weights_summing_to_100_is_accepted():
    scheme = validate_scoring(
        "comprehensive",
        Decimal("30"),
        [{"name": "服务方案", "weight": Decimal("40")}, {"name": "团队", "weight": 30}],
    )
    assert scheme.price_weight == Decimal("30")
    assert [(c.name, c.weight) for c in scheme.criteria] == [
        ("服务方案", Decimal("40")),
        ("团队", Decimal("30")),
    ]


def test_weights_not_summing_to_100_are_refused_with_the_sum_found():
    with pytest.raises(RuleViolation) as exc:
        validate_scoring(
            "comprehensive",
            Decimal("20"),
            [{"name": "服务方案", "weight": Decimal("45")}, {"name": "团队", "weight": 30}],
        )
    assert violation(exc).code == "weights_must_sum_to_100"
    assert "95" in violation(exc).detail


@pytest.mark.parametrize("price_weight", [Decimal("9.99"), Decimal("30.01"), None])
def test_price_weight_outside_10_to_30_is_refused(price_weight):
    with pytest.raises(RuleViolation) as exc:
        validate_scoring("comprehensive", price_weight, [{"name": "方案", "weight": 70}])
    assert violation(exc).code == "invalid_price_weight"


def test_criteria_with_duplicate_names_or_no_weight_are_refused():
    with pytest.raises(RuleViolation) as exc:
        validate_scoring(
            "comprehensive",
            Decimal("30"),
            [
                {"name": "方案", "weight": 40},
                {"name": "方案", "weight": 30},
                {"name": "", "weight": 0},
            ],
        )
    assert violation(exc).code == "invalid_criteria"
    assert [e["field"] for e in violation(exc).errors] == [
        "criteria[1].name",
        "criteria[2].name",
        "criteria[2].weight",
    ]


def test_lowest_price_scheme_needs_no_criteria():
    scheme = validate_scoring("lowest_price", None, [])
    assert (scheme.price_weight, scheme.criteria) == (None, ())


def test_lowest_price_scheme_rejects_criteria():
    with pytest.raises(RuleViolation) as exc:
        validate_scoring("lowest_price", None, [{"name": "方案", "weight": 70}])
    assert violation(exc).code == "criteria_not_allowed"


def test_milestone_plan_summing_to_100_is_accepted():
    plan = validate_milestone_plan(
        [
            {"title": "启动", "percentage": Decimal("33.33"), "due_offset_days": 0},
            {"title": "中期", "percentage": Decimal("33.33"), "due_offset_days": 180},
            {"title": "结项", "percentage": Decimal("33.34"), "due_offset_days": 372},
        ],
        contract_months=12,
    )
    assert [m.due_offset_days for m in plan] == [0, 180, 372]


def test_milestone_percentages_not_summing_to_100_are_refused():
    with pytest.raises(RuleViolation) as exc:
        validate_milestone_plan(
            [
                {"title": "中期", "percentage": Decimal("40"), "due_offset_days": 180},
                {"title": "结项", "percentage": Decimal("50"), "due_offset_days": 360},
            ]
        )
    assert violation(exc).code == "percentages_must_sum_to_100"
    assert "90" in violation(exc).detail


def test_milestone_due_offsets_must_strictly_increase():
    with pytest.raises(RuleViolation) as exc:
        validate_milestone_plan(
            [
                {"title": "中期", "percentage": Decimal("50"), "due_offset_days": 180},
                {"title": "结项", "percentage": Decimal("50"), "due_offset_days": 180},
            ]
        )
    assert violation(exc).code == "invalid_milestone"
    assert violation(exc).errors[0]["field"] == "milestones[1].due_offset_days"


def test_milestone_due_beyond_the_contract_term_is_refused():
    with pytest.raises(RuleViolation) as exc:
        validate_milestone_plan(
            [{"title": "结项", "percentage": Decimal("100"), "due_offset_days": 187}],
            contract_months=6,
        )
    assert violation(exc).code == "invalid_milestone"


def test_milestone_with_zero_percentage_is_refused():
    with pytest.raises(RuleViolation) as exc:
        validate_milestone_plan(
            [
                {"title": "中期", "percentage": Decimal("0"), "due_offset_days": 30},
                {"title": "结项", "percentage": Decimal("100"), "due_offset_days": 60},
            ]
        )
    assert violation(exc).errors[0]["field"] == "milestones[0].percentage"


def test_invited_tender_needs_at_least_three_invitations():
    assert check_invitations("invited_tender", ["v1", "v2", "v3"]) == ("v1", "v2", "v3")
    with pytest.raises(RuleViolation) as exc:
        check_invitations("invited_tender", ["v1", "v2"])
    assert violation(exc).code == "invitations_required"


def test_single_source_names_exactly_one_vendor():
    assert check_invitations("single_source", ["v1"]) == ("v1",)
    with pytest.raises(RuleViolation) as exc:
        check_invitations("single_source", ["v1", "v2"])
    assert violation(exc).code == "single_source_requires_one_vendor"


def test_open_methods_take_no_invitations():
    assert check_invitations("public_tender", None) == ()
    with pytest.raises(RuleViolation) as exc:
        check_invitations("inquiry", ["v1"])
    assert violation(exc).code == "invitations_not_allowed"


def test_eligibility_accepts_grades_from_the_lists_only():
    assert validate_eligibility(None, "B") == EligibilityRequirement(None, "B")
    assert validate_eligibility() == EligibilityRequirement()
    with pytest.raises(RuleViolation) as exc:
        validate_eligibility(None, "E")
    assert violation(exc).code == "invalid_eligibility_requirement"


def test_a_minimum_assessment_grade_is_no_longer_a_requirement():
    """民政部令第39号 Art. 30: a grade of 3A and above is a priority; 102号令 Art. 6 lets enterprises bid."""
    with pytest.raises(RuleViolation) as exc:
        validate_eligibility("3A", None)
    assert violation(exc).code == "assessment_grade_not_a_bar"


def test_ineligible_vendor_is_refused_with_every_reason():
    reasons = [
        {"code": "credit_list_entry_active", "detail": "listed on abnormal"},
        {"code": "assessment_grade_missing", "detail": "no grade"},
    ]
    refusal = ineligible(reasons)
    assert (refusal.code, refusal.status) == ("vendor_ineligible", 409)
    assert [e["code"] for e in refusal.errors] == ["credit_list_entry_active", "assessment_grade_missing"]


def test_tender_payment_rule_is_checked_and_kept_as_exact_decimals():
    bands = payment_rule_bands(
        [
            {"min_score": 60, "max_score": 100, "ratio": "1.00"},
            {"min_score": 0, "max_score": 60, "ratio": "0.5"},
        ]
    )
    assert bands == [
        {"min_score": "0", "max_score": "60", "ratio": "0.5"},
        {"min_score": "60", "max_score": "100", "ratio": "1.00"},
    ]
    assert payment_rule_bands(None) is None
    with pytest.raises(RuleViolation) as exc:
        payment_rule_bands([{"min_score": 0, "max_score": 50, "ratio": 1}])
    assert violation(exc).code == "invalid_payment_rule"


# --- bids ----------------------------------------------------------------------------------

DEADLINE = sh(2026, 3, 2, 9, 30)


def test_bid_before_the_deadline_is_accepted():
    check_bid_open(DEADLINE - timedelta(seconds=1), DEADLINE)


def test_bid_at_the_deadline_is_refused():
    with pytest.raises(RuleViolation) as exc:
        check_bid_open(DEADLINE, DEADLINE)
    assert (violation(exc).code, violation(exc).status) == ("bid_deadline_passed", 409)


def test_bids_are_sealed_until_the_deadline():
    assert bids_are_sealed(DEADLINE - timedelta(microseconds=1), DEADLINE)
    assert not bids_are_sealed(DEADLINE, DEADLINE)
    with pytest.raises(RuleViolation) as exc:
        ensure_bids_unsealed(DEADLINE - timedelta(minutes=1), DEADLINE)
    assert violation(exc).code == "bids_sealed"


def test_bid_price_at_the_ceiling_is_accepted_and_above_it_refused():
    assert check_bid_price(Decimal("500000.00"), Decimal("500000.00")) == Decimal("500000.00")
    with pytest.raises(RuleViolation) as exc:
        check_bid_price(Decimal("500000.01"), Decimal("500000.00"))
    assert (violation(exc).code, violation(exc).status) == ("bid_exceeds_ceiling", 422)


@pytest.mark.parametrize("price", [Decimal("0"), Decimal("-1"), Decimal("10.001")])
def test_bid_price_must_be_a_positive_fen_amount(price):
    with pytest.raises(RuleViolation) as exc:
        check_bid_price(price, Decimal("500000.00"))
    assert violation(exc).code == "invalid_bid_price"


@pytest.mark.parametrize(
    ("method", "minimum"),
    [
        ("public_tender", 3),
        ("invited_tender", 3),
        ("competitive_negotiation", 3),
        ("competitive_consultation", 2),
        ("inquiry", 3),
        ("single_source", 1),
    ],
)
def test_minimum_valid_bids_per_method(method, minimum):
    assert minimum_valid_bids(method) == minimum


@pytest.mark.parametrize(
    ("method", "valid_bids", "outcome"),
    [
        ("public_tender", 2, TenderStatus.FAILED),
        ("public_tender", 3, TenderStatus.EVALUATING),
        ("competitive_consultation", 2, TenderStatus.EVALUATING),
        ("competitive_consultation", 1, TenderStatus.FAILED),
        ("single_source", 1, TenderStatus.EVALUATING),
        ("single_source", 0, TenderStatus.FAILED),
    ],
)
def test_opening_with_too_few_valid_bids_fails_the_tender(method, valid_bids, outcome):
    assert opening_outcome(method, valid_bids) == outcome


# --- panel ---------------------------------------------------------------------------------


def test_public_tender_panel_of_five_is_accepted():
    check_panel("public_tender", ["e1", "e2", "e3", "e4", "e5"], [])


@pytest.mark.parametrize(
    ("method", "experts"),
    [
        ("public_tender", ["e1", "e2", "e3"]),
        ("public_tender", ["e1", "e2", "e3", "e4", "e5", "e6"]),
        ("inquiry", ["e1", "e2"]),
        ("inquiry", ["e1", "e2", "e3", "e4"]),
    ],
)
def test_panel_of_wrong_size_is_refused(method, experts):
    with pytest.raises(RuleViolation) as exc:
        check_panel(method, experts, [])
    assert violation(exc).code == "invalid_panel_size"


def test_panel_of_three_is_enough_for_other_methods():
    check_panel("competitive_consultation", ["e1", "e2", "e3"], [])


def test_public_tender_of_ten_million_needs_seven_experts():
    with pytest.raises(RuleViolation) as exc:
        check_panel(
            "public_tender", ["e1", "e2", "e3", "e4", "e5"], [], ceiling_amount=Decimal("1e7")
        )
    assert violation(exc).code == "invalid_panel_size"


def test_panel_listing_an_expert_twice_is_refused():
    with pytest.raises(RuleViolation) as exc:
        check_panel("inquiry", ["e1", "e2", "e1"], [])
    assert violation(exc).code == "duplicate_panel_expert"


def test_expert_affiliated_with_a_bidder_may_not_sit():
    with pytest.raises(RuleViolation) as exc:
        check_panel("inquiry", ["e1", "e2", "e3"], ["e3", "e9"])
    assert violation(exc).code == "expert_conflict_of_interest"
    assert "e3" in violation(exc).detail and "e9" not in violation(exc).detail


# --- scoring and ranking ---------------------------------------------------------------------

CRITERIA = [
    {"name": "服务方案", "weight": Decimal("40")},
    {"name": "团队与资质", "weight": Decimal("20")},
    {"name": "类似业绩", "weight": Decimal("10")},
]
EXPERTS = ["x1", "x2", "x3", "x4", "x5"]


def _sheets(plan, team, record):
    """Per-expert score sheets from per-criterion columns (one value per expert)."""
    return {
        expert: {
            "服务方案": Decimal(str(p)),
            "团队与资质": Decimal(str(t)),
            "类似业绩": Decimal(str(r)),
        }
        for expert, p, t, r in zip(EXPERTS, plan, team, record, strict=True)
    }


def test_expert_score_sheet_within_the_weights_is_accepted():
    assert check_expert_scores(CRITERIA, {"服务方案": 40, "团队与资质": 0, "类似业绩": "9.5"}) == {
        "服务方案": Decimal(40),
        "团队与资质": Decimal(0),
        "类似业绩": Decimal("9.5"),
    }


def test_expert_score_sheet_reports_each_bad_criterion():
    with pytest.raises(RuleViolation) as exc:
        check_expert_scores(CRITERIA, {"服务方案": Decimal("40.5"), "类似业绩": -1, "价格": 5})
    assert violation(exc).code == "invalid_scores"
    assert {e["field"]: e["message"] for e in violation(exc).errors} == {
        "scores.价格": "not a criterion of this tender",
        "scores.服务方案": "score must be between 0 and 40",
        "scores.团队与资质": "not scored",
        "scores.类似业绩": "score must be between 0 and 10",
    }


def test_comprehensive_ranking_of_five_bids_by_five_experts_matches_hand_computation():
    # Price weight 30, lowest valid price 800,000.00 (B1).
    # Price score = 800,000 / price × 30:
    #   B1 800,000   → 30            → 30.00
    #   B2 1,000,000 → 24            → 24.00
    #   B3 960,000   → 25            → 25.00
    #   B4 900,000   → 26.6666…      → 26.67
    #   B5 1,536,000 → 15.625        → 15.63 (half-up)
    # Technical = Σ criteria of the mean of five experts:
    #   B1 方案 (30+32+31+29+30)/5 = 152/5 = 30.4; 团队 75/5 = 15; 业绩 35/5 = 7      → 52.40
    #   B2 方案 188/5 = 37.6; 团队 90/5 = 18; 业绩 45/5 = 9                         → 64.60
    #   B3 方案 175.5/5 = 35.1; 团队 85/5 = 17; 业绩 41/5 = 8.2                     → 60.30
    #   B4 方案 167.5/5 = 33.5; 团队 82/5 = 16.4; 业绩 42/5 = 8.4                   → 58.30
    #   B5 方案 194.33/5 = 38.866; 团队 95/5 = 19; 业绩 48.99/5 = 9.798 = 67.664    → 67.66
    # Total = rounded price score + rounded technical score:
    #   B1 82.40, B2 88.60, B3 85.30, B4 84.97, B5 83.29 → B2, B3, B4, B5, B1.
    t0 = sh(2026, 3, 1, 10)
    bids = [
        BidForRanking("B1", "甲", Decimal("800000.00"), t0,
                      _sheets([30, 32, 31, 29, 30], [15, 14, 16, 15, 15], [7, 8, 7, 6, 7])),
        BidForRanking("B2", "乙", Decimal("1000000.00"), t0,
                      _sheets([38, 36, 37, 39, 38], [18, 17, 18, 19, 18], [9, 9, 8, 9, 10])),
        BidForRanking("B3", "丙", Decimal("960000.00"), t0,
                      _sheets([35, 34, 36, 35, "35.5"], [17, 16, 17, 18, 17], [8, 8, 9, 8, 8])),
        BidForRanking("B4", "丁", Decimal("900000.00"), t0,
                      _sheets(["33.5", 34, 33, 34, 33], [16, 17, 16, 16, 17], [8, 9, 8, 8, 9])),
        BidForRanking("B5", "戊", Decimal("1536000.00"), t0,
                      _sheets([39, 38, 40, 39, "38.33"], [19, 19, 20, 18, 19],
                              [10, 9, 10, 10, "9.99"])),
    ]  # fmt: skip
    ranking = rank_bids("comprehensive", Decimal("30"), CRITERIA, bids, EXPERTS)
    assert [
        (r.rank, r.bid_id, r.price_score, r.technical_score, r.total_score) for r in ranking
    ] == [
        (1, "B2", Decimal("24.00"), Decimal("64.60"), Decimal("88.60")),
        (2, "B3", Decimal("25.00"), Decimal("60.30"), Decimal("85.30")),
        (3, "B4", Decimal("26.67"), Decimal("58.30"), Decimal("84.97")),
        (4, "B5", Decimal("15.63"), Decimal("67.66"), Decimal("83.29")),
        (5, "B1", Decimal("30.00"), Decimal("52.40"), Decimal("82.40")),
    ]
    assert ranking[0].vendor_name == "乙" and ranking[0].price == Decimal("1000000.00")


def _single_sheet(score):
    return {"x1": {"方案": Decimal(str(score))}}


ONE_CRITERION = [{"name": "方案", "weight": Decimal("70")}]


def test_equal_totals_rank_the_lower_price_first():
    # Lowest price 100.00, weight 30. A: 30.00 + 50.00 = 80.00; B: 100/120×30 = 25.00
    # + 55.00 = 80.00. Equal totals → A, the lower price, first.
    t0 = sh(2026, 3, 1, 10)
    bids = [
        BidForRanking("B", "乙", Decimal("120.00"), t0, _single_sheet(55)),
        BidForRanking("A", "甲", Decimal("100.00"), t0 + timedelta(hours=1), _single_sheet(50)),
    ]
    ranking = rank_bids("comprehensive", Decimal("30"), ONE_CRITERION, bids, ["x1"])
    assert [(r.bid_id, r.total_score) for r in ranking] == [
        ("A", Decimal("80.00")),
        ("B", Decimal("80.00")),
    ]


def test_equal_totals_and_prices_rank_the_earlier_submission_first():
    t0 = sh(2026, 3, 1, 10)
    bids = [
        BidForRanking(
            "late", "乙", Decimal("100.00"), t0 + timedelta(seconds=1), _single_sheet(60)
        ),
        BidForRanking("early", "甲", Decimal("100.00"), t0, _single_sheet(60)),
    ]
    ranking = rank_bids("comprehensive", Decimal("30"), ONE_CRITERION, bids, ["x1"])
    assert [(r.rank, r.bid_id) for r in ranking] == [(1, "early"), (2, "late")]


def test_ranking_uses_the_published_rounded_total():
    # Weight 10, three experts.
    # C: price 99.90 (lowest) → 10.00; technical (70 + 70 + 70)/3 = 70.00; total 80.00.
    # D: price 100.00 → 99.90/100 × 10 = 9.99; technical (70.01 + 70.01 + 70.02)/3
    #    = 210.04/3 = 70.01333… → 70.01; total 9.99 + 70.01 = 80.00 (80.00333… unrounded).
    # Unrounded, D would lead; on the published totals they tie and the lower price, C, wins.
    experts = ["x1", "x2", "x3"]
    t0 = sh(2026, 3, 1, 10)

    def sheets(*scores):
        return {e: {"方案": Decimal(s)} for e, s in zip(experts, scores, strict=True)}

    bids = [
        BidForRanking("D", "丁", Decimal("100.00"), t0, sheets("70.01", "70.01", "70.02")),
        BidForRanking(
            "C", "丙", Decimal("99.90"), t0 + timedelta(hours=1), sheets("70", "70", "70")
        ),
    ]
    criteria = [{"name": "方案", "weight": Decimal("90")}]
    ranking = rank_bids("comprehensive", Decimal("10"), criteria, bids, experts)
    assert [(r.bid_id, r.price_score, r.technical_score, r.total_score) for r in ranking] == [
        ("C", Decimal("10.00"), Decimal("70.00"), Decimal("80.00")),
        ("D", Decimal("9.99"), Decimal("70.01"), Decimal("80.00")),
    ]


def test_ranking_with_a_missing_expert_score_is_incomplete_and_says_whose():
    t0 = sh(2026, 3, 1, 10)
    bids = [
        BidForRanking("B1", "甲", Decimal("100.00"), t0, {"x1": {"方案": Decimal(60)}}),
        BidForRanking(
            "B2",
            "乙",
            Decimal("110.00"),
            t0,
            {"x1": {"方案": Decimal(60)}, "x2": {"方案": Decimal(60)}},
        ),
    ]
    with pytest.raises(RuleViolation) as exc:
        rank_bids("comprehensive", Decimal("30"), ONE_CRITERION, bids, ["x1", "x2"])
    assert (violation(exc).code, violation(exc).status) == ("scoring_incomplete", 409)
    assert [(e["bid_id"], e["expert_id"]) for e in violation(exc).errors] == [("B1", "x2")]


def test_lowest_price_ranking_puts_the_lowest_price_first_and_ties_by_submission():
    t0 = sh(2026, 3, 1, 10)
    bids = [
        BidForRanking("B1", "甲", Decimal("500.00"), t0),
        BidForRanking("B2", "乙", Decimal("450.00"), t0 + timedelta(minutes=5)),
        BidForRanking("B3", "丙", Decimal("450.00"), t0 + timedelta(minutes=1)),
    ]
    ranking = rank_bids("lowest_price", None, [], bids)
    assert [(r.rank, r.bid_id, r.total_score) for r in ranking] == [
        (1, "B3", None),
        (2, "B2", None),
        (3, "B1", None),
    ]


# --- award, standstill, challenges -----------------------------------------------------------


def test_standstill_is_the_notice_day_and_seven_working_days_to_midnight():
    # 87号令 Art. 69 and 实施条例 Art. 53: awarded Tue 12-08, the notice period is Wed 12-09,
    # the challenge window 12-10 … Fri 12-18; a challenge may be filed until 24:00 of 12-18.
    until = standstill_until(sh(2026, 12, 8, 10), CAL)
    assert until == sh(2026, 12, 19)
    check_challenge_window(sh(2026, 12, 18, 23, 59, 59), until)
    with pytest.raises(RuleViolation) as exc:
        check_challenge_window(sh(2026, 12, 19, 0, 0, 1), until)
    assert violation(exc).code == "standstill_over"
    assert "24:00 of 2026-12-18" in violation(exc).detail


def test_standstill_across_national_day():
    # Awarded Tue 09-29: notice 09-30 (1); 10-01..07 off; 10-08 (2), 10-09 (3), Sat 10-10
    # make-up (4), 10-12 (5), 10-13 (6), 10-14 (7), Thu 10-15 (8) → over when 10-15 ends.
    assert standstill_until(sh(2026, 9, 29, 15), CAL) == sh(2026, 10, 16)


def test_standstill_across_spring_festival_counts_the_make_up_saturday():
    # Awarded Thu 02-12: notice 02-13 (1), Sat 02-14 make-up (2), 02-15..23 off, 02-24 (3),
    # 02-25 (4), 02-26 (5), 02-27 (6), Sat 02-28 make-up (7), Mon 03-02 (8) → over at 03-03 00:00.
    assert standstill_until(sh(2026, 2, 12, 15), CAL) == sh(2026, 3, 3)


def test_challenge_reply_is_due_seven_working_days_after_filing():
    # 政府采购法 Art. 53: filed Fri 12-18 at 16:00 → 12-21 … Tue 12-29 (7) → due at 24:00 of 12-29.
    due = challenge_reply_due(sh(2026, 12, 18, 16), CAL)
    assert due == sh(2026, 12, 30)
    assert challenge_reply_overdue("pending", due, sh(2026, 12, 29, 23, 59)) is False
    assert challenge_reply_overdue("pending", due, due) is True
    assert challenge_reply_overdue("dismissed", due, sh(2027, 1, 5)) is False


def test_a_bid_deadline_shortened_by_a_recorded_schedule_moves_to_the_earliest_allowed_day():
    # Inquiry published Tue 2026-12-29 with its deadline at Mon 2027-01-04 09:30: enough under
    # the fallback (12-30, 12-31, 元旦 off, 01-04). A schedule that also gives Mon 01-04 off
    # moves the earliest day to Tue 01-05; the deadline keeps its time of day.
    published, deadline = sh(2026, 12, 29, 10), sh(2027, 1, 4, 9, 30)
    assert extended_bid_deadline("inquiry", published, deadline, CAL) is None
    recorded = CAL.with_year(2027, frozenset({date(2027, 1, 1), date(2027, 1, 4)}), frozenset())
    assert extended_bid_deadline("inquiry", published, deadline, recorded) == sh(2027, 1, 5, 9, 30)
    # calendar-day periods never move
    assert extended_bid_deadline("public_tender", published, sh(2027, 1, 18, 9, 30), recorded) is None


def test_challenge_is_accepted_during_the_standstill_only():
    until = sh(2026, 10, 15)
    check_challenge_window(until - timedelta(seconds=1), until)
    with pytest.raises(RuleViolation) as exc:
        check_challenge_window(until, until)
    assert (violation(exc).code, violation(exc).status) == ("standstill_over", 409)


def test_contract_during_the_standstill_is_refused():
    until = sh(2026, 10, 15)
    with pytest.raises(RuleViolation) as exc:
        check_contract_allowed(until - timedelta(seconds=1), until, 0)
    assert (violation(exc).code, violation(exc).status) == ("standstill_active", 409)


def test_contract_with_a_challenge_pending_is_refused():
    until = sh(2026, 10, 15)
    with pytest.raises(RuleViolation) as exc:
        check_contract_allowed(until, until, 1)
    assert (violation(exc).code, violation(exc).status) == ("challenge_pending", 409)


def test_contract_after_the_standstill_without_challenges_is_allowed():
    check_contract_allowed(sh(2026, 10, 15), sh(2026, 10, 15), 0)


def test_upheld_challenge_sends_the_tender_back_to_evaluation():
    assert challenge_resolution_effect(ChallengeOutcome.UPHELD) == TenderStatus.EVALUATING
    assert challenge_resolution_effect("dismissed") == TenderStatus.AWARDED
