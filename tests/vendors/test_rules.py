"""Vendor rules: USCC, assessment grades, credit lists and eligibility.

Every expected value is worked out by hand in a comment next to it, never by calling the code
under test.
"""

import json
from datetime import date

import pytest

from govbuy.rules import RuleViolation
from vendors.rating import RatingInputs, rate_vendor
from vendors.rules import (
    CREDIT_LIST_KINDS,
    VENDOR_TYPE_LABELS,
    AssessmentGradeRecord,
    CreditListEntry,
    CurrentGrade,
    ELIGIBILITY_RULE_VERSION,
    EligibilityResult,
    LegalExclusion,
    active_entries,
    assessment_grade_expires_on,
    check_eligibility,
    current_assessment_grade,
    make_uscc,
    normalise_uscc,
    parse_assessment_grade,
    uscc_check_character,
    validate_removal,
    validate_uscc,
    vendor_type,
)

TODAY = date(2026, 6, 30)

# A real-world-shaped code (a Fuzhou enterprise). Check character by hand, alphabet values
# 0-9 → 0-9, M → 21, Y → 30:
#   9×1 + 1×3 + 3×9 + 5×27 + 0×19 + 1×26 + 0×16 + 0×17 + M(21)×20 + 0×29 + 0×25 + 0×13
#   + 1×8 + 0×24 + 0×10 + Y(30)×30 + 4×28
#   = 9 + 3 + 27 + 135 + 26 + 420 + 8 + 900 + 112 = 1640
#   1640 mod 31 = 1640 − 31×52 = 1640 − 1612 = 28;  31 − 28 = 3  → check character "3"
REAL_USCC = "91350100M000100Y43"


def violation(fn, *args, **kwargs) -> RuleViolation:
    with pytest.raises(RuleViolation) as caught:
        fn(*args, **kwargs)
    return caught.value


# --- USCC ----------------------------------------------------------------------------------


def test_real_world_uscc_is_valid():
    assert validate_uscc(REAL_USCC) == REAL_USCC


def test_uscc_check_character_is_computed_by_the_gb_32100_weights():
    assert uscc_check_character(REAL_USCC[:17]) == "3"


def test_uscc_check_value_31_is_written_as_zero():
    # All zeros: sum = 0, 0 mod 31 = 0, 31 − 0 = 31, and 31 maps to "0".
    assert uscc_check_character("0" * 17) == "0"
    assert validate_uscc("0" * 18) == "0" * 18


@pytest.mark.parametrize(
    ("prefix", "expected_type"),
    [
        ("51110000MJ0012345", "social_group"),
        ("52440300MJL123456", "private_non_enterprise"),
        ("53100000500021676", "foundation"),
        ("91310115MA1K4ABCD", "enterprise"),
        ("12100000400000123", "public_institution"),
        ("93350100MA2Y00001", "other"),
    ],
)
def test_made_uscc_of_each_vendor_type_is_valid_and_typed(prefix, expected_type):
    code = make_uscc(prefix)
    assert len(code) == 18
    assert validate_uscc(code) == code
    assert vendor_type(code) == expected_type


@pytest.mark.parametrize("value", ["91350100M000100Y4", "91350100M000100Y430", ""])
def test_uscc_with_wrong_length_says_the_length_found(value):
    error = violation(validate_uscc, value)
    assert error.code == "invalid_uscc"
    assert error.status == 422
    assert f"found {len(value)}" in error.detail


@pytest.mark.parametrize("letter", ["I", "O", "Z", "S", "V"])
def test_uscc_with_forbidden_letter_names_the_character_and_its_position(letter):
    # Position 9 holds "M" in REAL_USCC.
    code = REAL_USCC[:8] + letter + REAL_USCC[9:]
    error = violation(validate_uscc, code)
    assert error.code == "invalid_uscc"
    assert f"character '{letter}' at position 9" in error.detail


def test_uscc_with_punctuation_names_the_first_bad_position():
    error = violation(validate_uscc, "9135-100M000100Y43")
    assert "character '-' at position 5" in error.detail


def test_uscc_with_forbidden_letter_as_check_character_is_reported_at_position_18():
    error = violation(validate_uscc, REAL_USCC[:17] + "I")
    assert "character 'I' at position 18" in error.detail


def test_uscc_with_wrong_check_character_names_the_expected_one():
    error = violation(validate_uscc, REAL_USCC[:17] + "4")
    assert error.code == "invalid_uscc"
    assert error.detail == "check character at position 18 is '4' but '3' was expected"


def test_uscc_violation_names_the_uscc_field():
    error = violation(validate_uscc, "123")
    assert error.errors == [{"field": "uscc", "message": error.detail}]


def test_uscc_in_lower_case_with_surrounding_spaces_is_normalised():
    assert normalise_uscc("  91350100m000100y43\t") == REAL_USCC
    assert validate_uscc(" 91350100m000100y43 ") == REAL_USCC


def test_uscc_that_is_not_a_string_is_rejected():
    assert violation(validate_uscc, 91350100).code == "invalid_uscc"


def test_vendor_type_is_read_from_a_lower_case_code():
    assert vendor_type("  52440300mjl123456x") == "private_non_enterprise"


def test_every_vendor_type_has_a_chinese_label():
    assert VENDOR_TYPE_LABELS["social_group"] == "社会团体"
    assert VENDOR_TYPE_LABELS["private_non_enterprise"] == "民办非企业单位/社会服务机构"
    assert VENDOR_TYPE_LABELS["foundation"] == "基金会"
    assert VENDOR_TYPE_LABELS["public_institution"] == "事业单位"
    assert {"enterprise", "other"} <= VENDOR_TYPE_LABELS.keys()


# --- assessment grades -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "grade"),
    [("1A", 1), ("2A", 2), ("3A", 3), ("4A", 4), ("5A", 5), (" 4a ", 4), ("AAA", 3), ("5A级", 5)],
)
def test_assessment_grade_is_parsed(text, grade):
    assert parse_assessment_grade(text) == grade


@pytest.mark.parametrize("text", ["0A", "6A", "AB", "3B", "AAAAAA", "", "3", None, 3])
def test_unknown_assessment_grade_is_rejected(text):
    error = violation(parse_assessment_grade, text)
    assert error.code == "invalid_assessment_grade"
    assert error.status == 422


def test_assessment_grade_expires_five_years_later_on_the_same_day():
    assert assessment_grade_expires_on(date(2021, 9, 15)) == date(2026, 9, 15)


def test_assessment_grade_awarded_on_29_february_expires_on_28_february():
    # 2024 + 5 = 2029, not a leap year.
    assert assessment_grade_expires_on(date(2024, 2, 29)) == date(2029, 2, 28)


def test_current_assessment_grade_is_the_latest_awarded():
    grades = [
        AssessmentGradeRecord(5, date(2019, 3, 1)),
        AssessmentGradeRecord(3, date(2024, 3, 1)),
    ]
    current = current_assessment_grade(grades, TODAY)
    assert current == CurrentGrade(3, date(2024, 3, 1), date(2029, 3, 1), expired=False)
    assert current.label == "3A"


def test_assessment_grade_is_expired_from_its_expiry_day():
    grades = [AssessmentGradeRecord("4A", date(2021, 6, 30))]
    assert current_assessment_grade(grades, date(2026, 6, 29)).expired is False
    assert current_assessment_grade(grades, date(2026, 6, 30)).expired is True


def test_assessment_grade_awarded_in_the_future_is_not_yet_current():
    grades = [
        AssessmentGradeRecord(2, date(2023, 1, 10)),
        AssessmentGradeRecord(4, date(2026, 7, 1)),
    ]
    assert current_assessment_grade(grades, TODAY).grade == 2


def test_vendor_never_graded_has_no_current_grade():
    assert current_assessment_grade([], TODAY) is None
    assert current_assessment_grade([AssessmentGradeRecord(3, date(2027, 1, 1))], TODAY) is None


# --- credit lists ----------------------------------------------------------------------------


def test_the_five_credit_lists_have_their_chinese_names():
    assert CREDIT_LIST_KINDS == {
        "abnormal": "活动异常名录",
        "serious_dishonesty": "严重违法失信名单",
        "dishonest_judgment_debtor": "失信被执行人",
        "major_tax_violation": "重大税收违法失信主体",
        "procurement_blacklist": "政府采购严重违法失信行为记录名单",
    }


def test_credit_list_entry_is_active_from_its_listing_day():
    entry = CreditListEntry("abnormal", date(2026, 6, 30), None, "annual report missing")
    assert active_entries([entry], date(2026, 6, 29)) == []
    assert active_entries([entry], date(2026, 6, 30)) == [entry]


def test_credit_list_entry_is_inactive_from_its_removal_day():
    entry = CreditListEntry("abnormal", date(2025, 1, 1), date(2026, 6, 30), "report filed")
    assert active_entries([entry], date(2026, 6, 29)) == [entry]
    assert active_entries([entry], date(2026, 6, 30)) == []


def test_unknown_credit_list_is_rejected():
    error = violation(CreditListEntry, "grey_list", date(2026, 1, 1))
    assert error.code == "invalid_credit_list"


def test_removal_records_the_removal_date():
    entry = CreditListEntry("serious_dishonesty", date(2025, 1, 1))
    assert validate_removal(entry, date(2026, 2, 1)).removed_on == date(2026, 2, 1)


def test_removal_on_the_listing_day_is_allowed():
    entry = CreditListEntry("abnormal", date(2025, 1, 1))
    assert validate_removal(entry, date(2025, 1, 1)).removed_on == date(2025, 1, 1)


def test_removal_before_listing_is_rejected():
    entry = CreditListEntry("abnormal", date(2025, 1, 1))
    error = violation(validate_removal, entry, date(2024, 12, 31))
    assert error.status == 422
    assert error.errors[0]["field"] == "removed_on"


def test_removing_an_entry_twice_is_a_conflict():
    entry = CreditListEntry("abnormal", date(2025, 1, 1), date(2025, 6, 1))
    error = violation(validate_removal, entry, date(2026, 1, 1))
    assert error.code == "credit_list_entry_already_removed"
    assert error.status == 409


# --- eligibility -------------------------------------------------------------------------

def eligibility(**overrides):
    arguments = {"active_list_entries": [], "credit_grade": "B", "min_credit_grade": None, "exclusion": None}
    arguments.update(overrides)
    return check_eligibility(**arguments)


def test_vendor_without_entries_and_without_minimums_is_eligible():
    result = eligibility(credit_grade=None)
    assert result.eligible is True
    assert result.reasons == () and result.rule_version == ELIGIBILITY_RULE_VERSION == 2


def test_active_credit_list_entry_makes_vendor_ineligible_and_names_the_list():
    entry = CreditListEntry("dishonest_judgment_debtor", date(2026, 1, 5), None, "court order")
    result = eligibility(active_list_entries=[entry])
    assert result.eligible is False
    assert result.codes == ["credit_list_entry_active"]
    assert "dishonest_judgment_debtor" in result.reasons[0].detail
    assert "失信被执行人" in result.reasons[0].detail


def test_an_assessment_grade_is_no_input_of_eligibility():
    """民政部令第39号 Art. 30: a grade is a priority; 102号令 Art. 6: enterprises, never assessed, may bid."""
    with pytest.raises(TypeError):
        check_eligibility(active_list_entries=[], credit_grade=None, min_credit_grade=None, min_assessment_grade=3)


def test_an_organisation_excluded_by_102_art_8_may_not_bid_and_says_why():
    result = eligibility(exclusion=LegalExclusion("public_welfare_institution_class_1", "深编办〔2024〕12号"))
    assert result.codes == ["excluded_by_law"] and result.excluded_by_law is True
    assert "公益一类事业单位" in result.reasons[0].detail and "深编办〔2024〕12号" in result.reasons[0].detail


def test_credit_grade_below_minimum_fails():
    result = eligibility(credit_grade="C", min_credit_grade="B")
    assert result.codes == ["credit_grade_below_minimum"]


def test_credit_grade_equal_to_or_better_than_minimum_passes():
    assert eligibility(credit_grade="B", min_credit_grade="B").eligible is True
    assert eligibility(credit_grade="A", min_credit_grade="B").eligible is True


def test_a_vendor_with_no_grade_yet_meets_any_minimum():
    """实施条例 Art. 20: no history on the platform is no fault; barring it would favour incumbents."""
    assert eligibility(credit_grade=None, min_credit_grade="A").eligible is True


def test_a_provisional_rating_meets_any_minimum():
    provisional = rate_vendor(RatingInputs(), TODAY)
    assert eligibility(credit_grade=provisional, min_credit_grade="A").eligible is True


def test_eligibility_lists_every_reason():
    entry = CreditListEntry("abnormal", date(2026, 1, 1))
    result = eligibility(
        active_list_entries=[entry],
        credit_grade="D",
        min_credit_grade="C",
        exclusion=LegalExclusion("budget_funded_mass_organisation", "市委编办批复"),
    )
    assert result.codes == ["excluded_by_law", "credit_list_entry_active", "credit_grade_below_minimum"]


def test_unknown_minimum_credit_grade_is_rejected():
    assert violation(eligibility, min_credit_grade="E").code == "invalid_credit_grade"


def test_eligibility_result_survives_a_json_round_trip():
    result = eligibility(credit_grade="C", min_credit_grade="B")
    stored = json.loads(json.dumps(result.as_dict()))
    assert stored["reasons"][0]["code"] == "credit_grade_below_minimum" and stored["rule_version"] == 2
    assert EligibilityResult.from_dict(stored) == result


def test_a_result_stored_before_rule_versions_reads_as_version_1():
    old = {"eligible": False, "reasons": [{"code": "assessment_grade_missing", "detail": "…"}],
           "min_assessment_grade": 3, "min_credit_grade": None}
    result = EligibilityResult.from_dict(old)
    assert result.rule_version == 1 and result.min_assessment_grade == 3 and result.codes == ["assessment_grade_missing"]
