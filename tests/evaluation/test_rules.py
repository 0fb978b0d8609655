"""Unit tests of the evaluation rules: templates, scores, grades, payment rules, lifecycle,
conflict of interest and appeals. Expected numbers are worked out by hand in the comments."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from evaluation.rules import (
    DEFAULT_PAYMENT_RULE,
    DEFAULT_TEMPLATE,
    AppealStatus,
    EvaluationStatus,
    Grade,
    Indicator,
    IndicatorCategory,
    PaymentBand,
    appeal_deadline,
    apply_survey,
    as_dicts,
    bound_targets,
    category_scores,
    category_weights,
    check_appeal_transition,
    check_appeal_window,
    check_evaluation_transition,
    check_evaluator_independence,
    check_no_open_appeal,
    check_reevaluator,
    ensure_appealable,
    ensure_scores_editable,
    from_dicts,
    grade_for,
    indicators_from_dicts,
    payout_ratio,
    satisfaction_score,
    satisfaction_scores,
    total_score,
    validate_appeal_reason,
    validate_payment_rule,
    validate_scores,
    validate_survey,
    validate_template,
)
from govbuy.rules import SHANGHAI, RuleViolation, WorkCalendar

D = Decimal


def band(low: str, high: str, ratio: str) -> PaymentBand:
    return PaymentBand(D(low), D(high), D(ratio))


def full_marks() -> dict[str, Decimal]:
    return {ind.code: ind.weight for ind in DEFAULT_TEMPLATE}


# --- templates ---------------------------------------------------------------------------


def test_default_template_weights_sum_to_100():
    # 4+6 + 8+7+5 + 12+10+8 + 15+10 + 15 = 100
    assert sum(ind.weight for ind in DEFAULT_TEMPLATE) == D(100)


def test_default_template_category_weights_are_10_20_30_25_15():
    assert category_weights(DEFAULT_TEMPLATE) == {
        IndicatorCategory.INPUT: D(10),
        IndicatorCategory.PROCESS: D(20),
        IndicatorCategory.OUTPUT: D(30),
        IndicatorCategory.OUTCOME: D(25),
        IndicatorCategory.SATISFACTION: D(15),
    }


def test_default_template_passes_its_own_validation():
    assert validate_template(DEFAULT_TEMPLATE) == DEFAULT_TEMPLATE


def test_default_template_names_its_indicators_in_chinese():
    names = {ind.code: ind.name for ind in DEFAULT_TEMPLATE}
    assert names["IN1"] == "资金到位率"
    assert names["SA1"] == "服务对象满意度"


def test_category_labels_are_chinese():
    assert [c.label for c in IndicatorCategory] == ["投入", "过程", "产出", "效益", "满意度"]


def test_template_whose_weights_do_not_sum_to_100_is_refused_with_the_sum():
    short = DEFAULT_TEMPLATE[:-1]  # without 服务对象满意度 (15): 100 − 15 = 85
    with pytest.raises(RuleViolation) as raised:
        validate_template(short)
    assert raised.value.code == "weights_must_sum_to_100"
    assert "85" in raised.value.detail


def test_template_with_a_repeated_code_is_refused():
    rows = [
        Indicator("X1", "甲", IndicatorCategory.INPUT, D(50)),
        Indicator("X1", "乙", IndicatorCategory.OUTPUT, D(50)),
    ]
    with pytest.raises(RuleViolation) as raised:
        validate_template(rows)
    assert raised.value.code == "invalid_template"
    assert raised.value.errors[0]["field"] == "indicators[1].code"


def test_template_with_an_unknown_category_is_refused():
    rows = [{"code": "X1", "name": "甲", "category": "impact", "weight": "100"}]
    with pytest.raises(RuleViolation) as raised:
        validate_template(rows)
    assert raised.value.code == "invalid_template"
    assert raised.value.errors[0]["field"] == "indicators[0].category"


def test_template_with_a_zero_weight_is_refused():
    rows = [
        {"code": "X1", "name": "甲", "category": "input", "weight": "0"},
        {"code": "X2", "name": "乙", "category": "output", "weight": "100"},
    ]
    with pytest.raises(RuleViolation) as raised:
        validate_template(rows)
    assert raised.value.code == "invalid_template"
    assert raised.value.errors[0]["field"] == "indicators[0].weight"


def test_template_round_trips_through_json_dicts():
    rows = as_dicts(DEFAULT_TEMPLATE)
    assert rows[0] == {"code": "IN1", "name": "资金到位率", "category": "input", "weight": "4"}
    assert indicators_from_dicts(rows) == DEFAULT_TEMPLATE


# --- indicators bound to performance targets ----------------------------------------------


def bound(**targets: str) -> list[dict[str, str]]:
    """The default template as stored, with `targets` bound by indicator code."""
    rows = as_dicts(DEFAULT_TEMPLATE)
    for row in rows:
        if row["code"] in targets:
            row["target"] = targets[row["code"]]
    return rows


def target_errors(rows) -> list[dict]:
    with pytest.raises(RuleViolation) as raised:
        validate_template(rows)
    assert raised.value.code == "invalid_template"
    return raised.value.errors


def test_output_and_outcome_indicators_may_be_bound_to_targets():
    indicators = {i.code: i for i in validate_template(bound(OP1=" 服务人次 ", OC1="入户率"))}
    assert (indicators["OP1"].target, indicators["OC1"].target, indicators["IN1"].target) == ("服务人次", "入户率", None)


def test_a_binding_round_trips_through_json_dicts_and_an_unbound_indicator_is_stored_as_before():
    rows = as_dicts(validate_template(bound(OP1="服务人次")))
    assert rows[5] == {"code": "OP1", "name": "服务数量完成率", "category": "output", "weight": "12", "target": "服务人次"}
    assert rows[0] == {"code": "IN1", "name": "资金到位率", "category": "input", "weight": "4"}
    assert indicators_from_dicts(rows)[5].target == "服务人次"
    assert as_dicts(indicators_from_dicts(as_dicts(DEFAULT_TEMPLATE))) == as_dicts(DEFAULT_TEMPLATE)


@pytest.mark.parametrize(("code", "index"), [("IN1", 0), ("PR2", 3), ("SA1", 10)])
def test_only_output_and_outcome_indicators_may_be_bound(code, index):
    [error] = target_errors(bound(**{code: "服务人次"}))
    assert error["field"] == f"indicators[{index}].target"
    assert "output" in error["message"]


@pytest.mark.parametrize("target", ["", "   ", "人" * 101, 12])
def test_a_binding_must_name_a_target_in_1_to_100_characters(target):
    [error] = target_errors(bound(OP1=target))
    assert error["field"] == "indicators[5].target"


def test_a_binding_of_100_characters_is_accepted():
    assert validate_template(bound(OP1="人" * 100))[5].target == "人" * 100


def test_two_indicators_may_not_bind_the_same_target():
    [error] = target_errors(bound(OP1="服务人次", OC2="服务人次"))
    assert error["field"] == "indicators[9].target"
    assert "indicators[5]" in error["message"]


def test_every_binding_error_is_listed_with_the_other_row_errors():
    rows = bound(IN2="服务人次", OP2="")
    rows[0]["weight"] = "0"
    assert [e["field"] for e in target_errors(rows)] == ["indicators[0].weight", "indicators[1].target", "indicators[6].target"]


def test_a_bound_indicator_shows_its_contracts_target_and_a_binding_the_contract_lacks_shows_none():
    indicators = validate_template(bound(OP1="服务人次", OC1="入户率"))
    shown = bound_targets(indicators, {"服务人次": "judged 服务人次", "服务对象满意度": "judged 满意度"})
    assert shown["OP1"] == "judged 服务人次"
    assert shown["OC1"] is None  # bound to a target this contract does not state
    assert shown["SA1"] is None  # not bound, even though a target of its name exists
    assert set(shown) == {i.code for i in indicators}


# --- grades ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "grade"),
    [
        ("100", Grade.EXCELLENT),
        ("90", Grade.EXCELLENT),
        ("89.99", Grade.GOOD),
        ("80", Grade.GOOD),
        ("79.99", Grade.FAIR),
        ("60", Grade.FAIR),
        ("59.99", Grade.POOR),
        ("0", Grade.POOR),
    ],
)
def test_grade_boundaries(total, grade):
    assert grade_for(D(total)) is grade


def test_grade_labels_are_chinese():
    assert [g.label for g in Grade] == ["优", "良", "中", "差"]


def test_total_score_above_100_has_no_grade():
    with pytest.raises(RuleViolation) as raised:
        grade_for(D("100.01"))
    assert raised.value.code == "invalid_total_score"


# --- scores ------------------------------------------------------------------------------


def test_scores_over_weight_are_refused_one_error_per_indicator():
    scores = full_marks() | {"IN1": D("4.01"), "OP1": D(13)}  # weights 4 and 12
    with pytest.raises(RuleViolation) as raised:
        validate_scores(DEFAULT_TEMPLATE, scores)
    assert raised.value.code == "invalid_scores"
    assert [(e["field"], e["code"]) for e in raised.value.errors] == [
        ("scores.IN1", "score_exceeds_weight"),
        ("scores.OP1", "score_exceeds_weight"),
    ]


def test_score_equal_to_weight_is_accepted():
    assert validate_scores(DEFAULT_TEMPLATE, full_marks())["IN1"] == D(4)


def test_missing_score_is_refused():
    scores = full_marks()
    del scores["PR2"]
    with pytest.raises(RuleViolation) as raised:
        validate_scores(DEFAULT_TEMPLATE, scores)
    assert raised.value.errors == [
        {"field": "scores.PR2", "code": "score_missing", "message": "服务记录完整性 is not scored"}
    ]


def test_score_for_an_unknown_indicator_is_refused():
    with pytest.raises(RuleViolation) as raised:
        validate_scores(DEFAULT_TEMPLATE, full_marks() | {"ZZ9": D(1)})
    assert raised.value.errors[0]["code"] == "unknown_indicator"


def test_negative_score_is_refused():
    with pytest.raises(RuleViolation) as raised:
        validate_scores(DEFAULT_TEMPLATE, full_marks() | {"OC2": D("-0.5")})
    assert raised.value.errors[0]["code"] == "score_negative"


def test_score_with_three_decimals_is_refused():
    with pytest.raises(RuleViolation) as raised:
        validate_scores(DEFAULT_TEMPLATE, full_marks() | {"OC2": D("7.125")})
    assert raised.value.errors[0]["code"] == "score_too_precise"


def test_total_score_is_the_sum_of_the_scores():
    scores = {
        "IN1": D("3.5"), "IN2": D(6),                    # 9.5
        "PR1": D(7), "PR2": D("6.25"), "PR3": D(5),      # 18.25
        "OP1": D(11), "OP2": D(9), "OP3": D("7.5"),      # 27.5
        "OC1": D(12), "OC2": D(8),                       # 20
        "SA1": D("13.05"),                               # 13.05
    }
    # 9.5 + 18.25 + 27.5 + 20 + 13.05 = 88.30
    assert total_score(DEFAULT_TEMPLATE, scores) == D("88.30")


def test_category_scores_add_up_per_category():
    scores = full_marks() | {"IN1": D(2)}  # input: 2 + 6 = 8
    assert category_scores(DEFAULT_TEMPLATE, scores)[IndicatorCategory.INPUT] == D(8)


# --- satisfaction survey -----------------------------------------------------------------


def test_satisfaction_score_is_the_satisfied_share_of_the_weight():
    # 87 / 100 × 15 = 13.05
    assert satisfaction_score(100, 87, D(15)) == D("13.05")


def test_satisfaction_score_rounds_half_up_to_two_decimals():
    # 2 / 3 × 10 = 6.666… → 6.67
    assert satisfaction_score(3, 2, D(10)) == D("6.67")


def test_survey_without_responses_is_refused():
    with pytest.raises(RuleViolation) as raised:
        validate_survey(0, 0)
    assert raised.value.code == "invalid_survey"


def test_survey_with_more_satisfied_than_responses_is_refused():
    with pytest.raises(RuleViolation) as raised:
        validate_survey(10, 11)
    assert raised.value.errors[0]["field"] == "satisfied"


def test_survey_scores_every_satisfaction_indicator_by_its_weight():
    template = DEFAULT_TEMPLATE[:-1] + (
        Indicator("SA1", "服务对象满意度", IndicatorCategory.SATISFACTION, D(10)),
        Indicator("SA2", "家属满意度", IndicatorCategory.SATISFACTION, D(5)),
    )
    # 180 / 200 = 0.9: 0.9 × 10 = 9.00, 0.9 × 5 = 4.50
    assert satisfaction_scores(template, 200, 180) == {"SA1": D("9.00"), "SA2": D("4.50")}


def test_survey_overrides_the_hand_score_of_satisfaction_indicators():
    sheet = apply_survey(DEFAULT_TEMPLATE, full_marks(), 50, 40)
    # 40 / 50 × 15 = 12.00; the other indicators keep their scores
    assert sheet["SA1"] == D("12.00")
    assert sheet["IN1"] == D(4)


# --- payment rules -----------------------------------------------------------------------


def test_default_payment_rule_is_valid():
    assert validate_payment_rule(DEFAULT_PAYMENT_RULE) == DEFAULT_PAYMENT_RULE


def test_payment_rule_with_a_gap_is_refused():
    bands = [band("0", "60", "0"), band("70", "100", "1")]
    with pytest.raises(RuleViolation) as raised:
        validate_payment_rule(bands)
    assert raised.value.code == "invalid_payment_rule"
    assert raised.value.errors == [{"field": "bands", "message": "gap between 60 and 70"}]


def test_payment_rule_with_an_overlap_is_refused():
    bands = [band("0", "65", "0"), band("60", "100", "1")]
    with pytest.raises(RuleViolation) as raised:
        validate_payment_rule(bands)
    assert raised.value.errors == [{"field": "bands", "message": "overlap between 60 and 65"}]


def test_payment_rule_not_starting_at_0_is_refused():
    bands = [band("10", "60", "0"), band("60", "100", "1")]
    with pytest.raises(RuleViolation) as raised:
        validate_payment_rule(bands)
    assert raised.value.errors == [{"field": "bands", "message": "the first band starts at 10, not 0"}]


def test_payment_rule_not_ending_at_100_is_refused():
    bands = [band("0", "60", "0"), band("60", "95", "1")]
    with pytest.raises(RuleViolation) as raised:
        validate_payment_rule(bands)
    assert raised.value.errors == [{"field": "bands", "message": "the last band ends at 95, not 100"}]


def test_payment_rule_with_decreasing_ratios_is_refused():
    bands = [band("0", "60", "0.5"), band("60", "100", "0.4")]
    with pytest.raises(RuleViolation) as raised:
        validate_payment_rule(bands)
    assert raised.value.code == "invalid_payment_rule"
    assert "ratio falls from 0.5 to 0.4" in raised.value.errors[0]["message"]


def test_payment_rule_with_a_ratio_above_1_is_refused():
    with pytest.raises(RuleViolation) as raised:
        validate_payment_rule([band("0", "100", "1.1")])
    assert raised.value.errors[0]["field"] == "bands[0].ratio"


def test_payment_rule_with_an_empty_band_is_refused():
    with pytest.raises(RuleViolation) as raised:
        validate_payment_rule([band("0", "60", "0"), band("60", "60", "0.5"), band("60", "100", "1")])
    assert raised.value.errors[0]["field"] == "bands[1]"


def test_payment_rule_reports_every_problem_at_once():
    bands = [band("5", "50", "0.6"), band("60", "90", "0.5")]
    with pytest.raises(RuleViolation) as raised:
        validate_payment_rule(bands)
    messages = [e["message"] for e in raised.value.errors]
    assert messages[:3] == [
        "the first band starts at 5, not 0",
        "the last band ends at 90, not 100",
        "gap between 50 and 60",
    ]
    assert len(messages) == 4  # and the falling ratio


def test_payment_rule_bands_given_out_of_order_are_sorted():
    shuffled = [DEFAULT_PAYMENT_RULE[2], DEFAULT_PAYMENT_RULE[0], DEFAULT_PAYMENT_RULE[3], DEFAULT_PAYMENT_RULE[1]]
    assert validate_payment_rule(shuffled) == DEFAULT_PAYMENT_RULE


@pytest.mark.parametrize(
    ("score", "ratio"),
    [
        ("0", "0"),
        ("59.99", "0"),
        ("60", "0.80"),
        ("79.99", "0.80"),
        ("80", "0.95"),
        ("89.99", "0.95"),
        ("90", "1.00"),
        ("100", "1.00"),
    ],
)
def test_payout_for_each_default_band(score, ratio):
    assert payout_ratio(DEFAULT_PAYMENT_RULE, D(score)) == D(ratio)


def test_payout_under_a_custom_rule_uses_its_own_bands():
    bands = [band("0", "50", "0"), band("50", "75", "0.5"), band("75", "100", "1")]
    assert payout_ratio(bands, D("74.99")) == D("0.5")


def test_payment_rule_round_trips_through_json_dicts():
    rows = as_dicts(DEFAULT_PAYMENT_RULE)
    assert rows[1] == {"min_score": "60", "max_score": "80", "ratio": "0.80"}
    assert from_dicts(rows) == DEFAULT_PAYMENT_RULE


# --- lifecycle ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (EvaluationStatus.COMMISSIONED, EvaluationStatus.SUBMITTED),
        (EvaluationStatus.SUBMITTED, EvaluationStatus.ACCEPTED),
        (EvaluationStatus.SUBMITTED, EvaluationStatus.RETURNED),
        (EvaluationStatus.RETURNED, EvaluationStatus.SUBMITTED),
    ],
)
def test_evaluation_moves_along_its_lifecycle(current, target):
    check_evaluation_transition(current, target)


@pytest.mark.parametrize("target", list(EvaluationStatus))
def test_accepted_evaluation_cannot_change(target):
    with pytest.raises(RuleViolation) as raised:
        check_evaluation_transition(EvaluationStatus.ACCEPTED, target)
    assert (raised.value.code, raised.value.status) == ("invalid_status_transition", 409)


def test_commissioned_evaluation_cannot_be_accepted_unsubmitted():
    with pytest.raises(RuleViolation) as raised:
        check_evaluation_transition("commissioned", "accepted")
    assert raised.value.code == "invalid_status_transition"


@pytest.mark.parametrize("status", [EvaluationStatus.COMMISSIONED, EvaluationStatus.RETURNED])
def test_scores_are_editable_while_commissioned_or_returned(status):
    ensure_scores_editable(status)


@pytest.mark.parametrize("status", [EvaluationStatus.SUBMITTED, EvaluationStatus.ACCEPTED])
def test_scores_are_frozen_once_submitted(status):
    with pytest.raises(RuleViolation) as raised:
        ensure_scores_editable(status)
    assert (raised.value.code, raised.value.status) == ("evaluation_not_editable", 409)


# --- conflict of interest ----------------------------------------------------------------


def independence(**overrides):
    args = {
        "evaluator_org_id": "eval-1",
        "vendor_org_id": "vendor-1",
        "tender_bidder_org_ids": ["vendor-1", "vendor-2"],
        "affiliated_org_ids": [],
        "recent_evaluations_of_vendor": [],
    }
    check_evaluator_independence(**(args | overrides))


def failed_rules(**overrides) -> list[str]:
    with pytest.raises(RuleViolation) as raised:
        independence(**overrides)
    assert (raised.value.code, raised.value.status) == ("evaluator_conflict_of_interest", 409)
    return [e["rule"] for e in raised.value.errors]


def test_independent_evaluator_is_allowed():
    independence()


def test_vendor_cannot_evaluate_itself():
    assert failed_rules(evaluator_org_id="vendor-1") == ["is_vendor"]


def test_evaluator_that_bid_in_the_tender_is_refused():
    assert failed_rules(evaluator_org_id="vendor-2") == ["bid_in_tender"]


def test_evaluator_affiliated_with_the_vendor_is_refused():
    assert failed_rules(affiliated_org_ids=["vendor-1"]) == ["affiliated_with_vendor"]


def test_evaluator_failing_several_rules_is_told_all_of_them():
    rules = failed_rules(
        evaluator_org_id="vendor-2",
        affiliated_org_ids=["vendor-1"],
        recent_evaluations_of_vendor=["vendor-2", "vendor-2", "vendor-2"],
    )
    assert rules == ["bid_in_tender", "affiliated_with_vendor", "rotation"]


def test_fourth_evaluation_in_a_row_of_the_same_vendor_is_refused():
    assert failed_rules(recent_evaluations_of_vendor=["eval-1", "eval-1", "eval-1", "eval-2"]) == ["rotation"]


def test_third_evaluation_in_a_row_is_allowed():
    independence(recent_evaluations_of_vendor=["eval-1", "eval-1", "eval-2"])


def test_another_evaluator_may_follow_three_in_a_row():
    independence(evaluator_org_id="eval-2", recent_evaluations_of_vendor=["eval-1", "eval-1", "eval-1"])


def test_evaluator_may_return_after_another_evaluator_took_a_turn():
    # eval-1 evaluated twice in a row, then eval-2 once: the run of eval-1 is broken
    independence(recent_evaluations_of_vendor=["eval-2", "eval-1", "eval-1", "eval-1"])


def test_reevaluation_by_the_original_evaluator_is_refused():
    with pytest.raises(RuleViolation) as raised:
        check_reevaluator(["eval-1"], "eval-1")
    assert raised.value.code == "reevaluation_requires_different_evaluator"


def test_reevaluation_by_any_earlier_evaluator_of_the_milestone_is_refused():
    with pytest.raises(RuleViolation):
        check_reevaluator(["eval-1", "eval-2"], "eval-1")  # the second appeal may not go back to the first


def test_reevaluation_by_another_evaluator_is_allowed():
    check_reevaluator(["eval-1", "eval-2"], "eval-3")


# --- appeals -----------------------------------------------------------------------------

# 2025 National Day: 1–8 October off; Sunday 28 September and Saturday 11 October worked.
NATIONAL_DAY_2025 = WorkCalendar(
    holidays=frozenset(date(2025, 10, d) for d in (1, 2, 3, 6, 7, 8)),
    workdays=frozenset({date(2025, 9, 28), date(2025, 10, 11)}),
    known_years=frozenset({2025}),
)


def test_appeal_deadline_is_the_end_of_the_fifth_working_day():
    accepted_at = datetime(2025, 9, 26, 16, 30, tzinfo=SHANGHAI)  # a Friday
    # working days after: Sun 28 Sep (make-up), Mon 29, Tue 30, [1–8 Oct off], Thu 9, Fri 10 Oct
    assert appeal_deadline(accepted_at, NATIONAL_DAY_2025) == datetime(2025, 10, 11, 0, 0, tzinfo=SHANGHAI)


def test_appeal_on_the_last_minute_of_the_window_is_in_time():
    deadline = datetime(2025, 10, 11, tzinfo=SHANGHAI)
    check_appeal_window(deadline - timedelta(minutes=1), deadline)


def test_appeal_after_the_window_is_refused():
    deadline = datetime(2025, 10, 11, tzinfo=SHANGHAI)
    with pytest.raises(RuleViolation) as raised:
        check_appeal_window(deadline, deadline)
    assert (raised.value.code, raised.value.status) == ("appeal_window_closed", 409)


def test_only_an_accepted_evaluation_can_be_appealed():
    with pytest.raises(RuleViolation) as raised:
        ensure_appealable(EvaluationStatus.SUBMITTED)
    assert raised.value.code == "evaluation_not_appealable"


def test_second_appeal_while_one_is_pending_is_refused():
    with pytest.raises(RuleViolation) as raised:
        check_no_open_appeal([AppealStatus.DISMISSED, AppealStatus.PENDING])
    assert raised.value.code == "appeal_already_pending"


def test_new_appeal_after_a_dismissed_one_is_allowed():
    check_no_open_appeal([AppealStatus.DISMISSED])


def test_appeal_is_decided_once():
    check_appeal_transition(AppealStatus.PENDING, AppealStatus.UPHELD)
    with pytest.raises(RuleViolation) as raised:
        check_appeal_transition(AppealStatus.UPHELD, AppealStatus.DISMISSED)
    assert raised.value.code == "invalid_status_transition"


def test_appeal_without_a_reason_is_refused():
    with pytest.raises(RuleViolation) as raised:
        validate_appeal_reason("   ")
    assert raised.value.code == "invalid_appeal"
