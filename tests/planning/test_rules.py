"""Unit tests of planning.rules: the guidance catalogue (codes, import, versions, what a tender
may buy) and the budget arithmetic. The negative list has its own: test_negative_list.py."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from govbuy.rules import RuleViolation
from planning.rules import (
    LEVEL1_CATEGORIES,
    BudgetLine,
    change_amount,
    check_catalogue_transition,
    check_tender_catalogue_item,
    commit_extra,
    commit_reservation,
    ensure_catalogue_editable,
    parent_code,
    release,
    release_commitment,
    reserve,
    spend,
    validate_catalogue_code,
    validate_catalogue_item,
    validate_catalogue_rows,
)


def violation(excinfo: pytest.ExceptionInfo[RuleViolation]) -> RuleViolation:
    return excinfo.value


# --- catalogue -----------------------------------------------------------------------------


def test_level1_categories_are_the_five_standard_ones():
    assert dict(LEVEL1_CATEGORIES) == {
        "A": "基本公共服务",
        "B": "社会管理性服务",
        "C": "行业管理与协调性服务",
        "D": "技术性服务",
        "E": "政府履职所需辅助性服务",
    }


@pytest.mark.parametrize(("code", "level"), [("A", 1), ("A01", 2), ("A0101", 3), ("E9999", 3)])
def test_catalogue_code_gives_its_level(code, level):
    assert validate_catalogue_code(code) == level


@pytest.mark.parametrize(
    "code", ["", "a", "a01", "A1", "A00", "A0100", "A010101", "AA", "A01 ", "1A", None, 101]
)
def test_malformed_catalogue_code_is_rejected(code):
    with pytest.raises(RuleViolation) as exc:
        validate_catalogue_code(code)
    assert violation(exc).code == "invalid_catalogue_code"
    assert violation(exc).status == 422


def test_parent_code_goes_one_level_up():
    assert parent_code("A0101") == "A01"
    assert parent_code("A01") == "A"
    assert parent_code("A") is None


def test_catalogue_import_accepts_a_valid_file_with_a_parent_already_in_the_catalogue():
    rows = [
        {"code": "A", "name": "基本公共服务", "description": ""},
        {"code": "A0101", "name": "居家养老服务", "description": "上门助餐助浴"},
        {"code": "A01", "name": "养老服务", "description": None},
        {"code": "C01", "name": "行业规划", "description": ""},
    ]
    result = validate_catalogue_rows(rows, existing_codes={"C"})
    assert [(r.row, r.code, r.level, r.parent_code) for r in result] == [
        (2, "A", 1, None),
        (3, "A0101", 3, "A01"),
        (4, "A01", 2, "A"),
        (5, "C01", 2, "C"),
    ]


def test_catalogue_import_reports_every_bad_row_and_imports_nothing():
    rows = [
        {"code": "A", "name": "基本公共服务", "description": ""},  # row 2 ok
        {"code": "A01", "name": "养老服务", "description": ""},  # row 3 ok
        {"code": "A01", "name": "养老服务（重复）", "description": ""},  # row 4 duplicate
        {"code": "a0101", "name": "居家养老", "description": ""},  # row 5 bad code
        {"code": "F", "name": "其他", "description": ""},  # row 6 not a level-1 category
        {"code": "B0101", "name": "社区矫正", "description": ""},  # row 7 parent B01 missing
        {"code": "A0102", "name": " ", "description": "助餐"},  # row 8 no name
        {"code": "A0103", "name": "养老设备采购", "description": ""},  # row 9 negative list
        {"code": "", "name": "", "description": ""},  # row 10 blank, skipped
        {"code": "C", "name": "行业管理与协调性服务", "description": ""},  # row 11 already there
    ]
    with pytest.raises(RuleViolation) as exc:
        validate_catalogue_rows(rows, existing_codes={"C"})
    error = violation(exc)
    assert error.code == "catalogue_import_invalid"
    assert error.status == 422
    assert [(e["row"], e["field"]) for e in error.errors] == [
        (4, "code"),
        (5, "code"),
        (6, "code"),
        (7, "code"),
        (8, "name"),
        (9, "name"),
        (11, "code"),
    ]
    messages = {e["row"]: e["message"] for e in error.errors}
    assert "first on row 3" in messages[4]
    assert "'a0101'" in messages[5]
    assert "level-1" in messages[6]
    assert "'B01'" in messages[7]
    assert "required" in messages[8]
    assert "设备采购" in messages[9]
    assert "already in the catalogue" in messages[11]


def test_catalogue_import_reports_several_problems_of_one_row():
    with pytest.raises(RuleViolation) as exc:
        validate_catalogue_rows([{"code": "Z9", "name": "", "description": ""}])
    assert [(e["row"], e["field"]) for e in violation(exc).errors] == [(2, "code"), (2, "name")]


def test_catalogue_import_of_a_file_without_items_is_rejected():
    with pytest.raises(RuleViolation) as exc:
        validate_catalogue_rows([{"code": None, "name": None, "description": None}])
    assert violation(exc).code == "catalogue_import_empty"


def test_single_catalogue_item_needs_its_parent():
    with pytest.raises(RuleViolation) as exc:
        validate_catalogue_item("A0101", "居家养老服务", "", existing_codes={"A"})
    assert violation(exc).code == "catalogue_parent_missing"
    item = validate_catalogue_item("A0101", "居家养老服务", "", existing_codes={"A", "A01"})
    assert (item.level, item.parent_code) == (3, "A01")


def test_single_catalogue_item_with_an_existing_code_is_a_duplicate():
    with pytest.raises(RuleViolation) as exc:
        validate_catalogue_item("A01", "养老服务", "", existing_codes={"A", "A01"})
    assert violation(exc).code == "duplicate_catalogue_code"


def test_catalogue_moves_from_draft_to_published_to_superseded():
    check_catalogue_transition("draft", "published")
    check_catalogue_transition("published", "superseded")


@pytest.mark.parametrize(
    ("current", "target", "code"),
    [
        ("published", "published", "catalogue_not_draft"),
        ("superseded", "published", "catalogue_not_draft"),
        ("draft", "superseded", "catalogue_not_published"),
        ("published", "draft", "invalid_status_transition"),
    ],
)
def test_catalogue_transition_out_of_order_is_a_conflict(current, target, code):
    with pytest.raises(RuleViolation) as exc:
        check_catalogue_transition(current, target)
    assert (violation(exc).code, violation(exc).status) == (code, 409)


def test_only_a_draft_catalogue_is_editable():
    ensure_catalogue_editable("draft")
    with pytest.raises(RuleViolation) as exc:
        ensure_catalogue_editable("published")
    assert (violation(exc).code, violation(exc).status) == ("catalogue_not_draft", 409)


def test_tender_must_buy_a_level3_item_of_a_published_catalogue_of_its_region_and_year():
    scope = dict(catalogue_region_code="310101", catalogue_year=2026, region_code="310101")
    check_tender_catalogue_item("A0101", catalogue_status="published", year=2026, **scope)
    with pytest.raises(RuleViolation) as exc:
        check_tender_catalogue_item("A01", catalogue_status="published", year=2026, **scope)
    assert violation(exc).code == "catalogue_item_not_level3"
    with pytest.raises(RuleViolation) as exc:
        check_tender_catalogue_item("A0101", catalogue_status="draft", year=2026, **scope)
    assert violation(exc).code == "catalogue_not_published"
    with pytest.raises(RuleViolation) as exc:
        check_tender_catalogue_item("A0101", catalogue_status="published", year=2027, **scope)
    assert violation(exc).code == "catalogue_item_out_of_scope"


# --- budget --------------------------------------------------------------------------------

LINE = BudgetLine(amount=Decimal("1000000.00"))


def test_reserving_a_ceiling_reduces_what_is_available():
    line = reserve(LINE, Decimal("600000.00"))
    assert (line.reserved, line.available) == (Decimal("600000.00"), Decimal("400000.00"))


def test_reserving_more_than_available_is_refused():
    line = reserve(LINE, Decimal("600000.00"))
    with pytest.raises(RuleViolation) as exc:
        reserve(line, Decimal("400000.01"))
    assert (violation(exc).code, violation(exc).status) == ("budget_insufficient", 409)


def test_releasing_more_than_is_reserved_is_refused():
    line = reserve(LINE, Decimal("100.00"))
    with pytest.raises(RuleViolation) as exc:
        release(line, Decimal("100.01"))
    assert violation(exc).code == "budget_release_exceeds_reserved"
    assert release(line, Decimal("100.00")).available == LINE.amount


def test_signing_turns_the_reservation_into_a_commitment_and_frees_the_rest():
    line = commit_reservation(
        reserve(LINE, Decimal("600000.00")), Decimal("600000.00"), Decimal("550000.00")
    )
    assert (line.reserved, line.committed, line.available) == (
        Decimal("0.00"),
        Decimal("550000.00"),
        Decimal("450000.00"),
    )


def test_contract_above_its_reservation_is_refused():
    line = reserve(LINE, Decimal("600000.00"))
    with pytest.raises(RuleViolation) as exc:
        commit_reservation(line, Decimal("600000.00"), Decimal("600000.01"))
    assert violation(exc).code == "contract_exceeds_reservation"


def test_amendment_commitment_needs_available_money():
    line = commit_reservation(
        reserve(LINE, Decimal("900000.00")), Decimal("900000.00"), Decimal("900000.00")
    )
    assert commit_extra(line, Decimal("100000.00")).available == Decimal("0.00")
    with pytest.raises(RuleViolation) as exc:
        commit_extra(line, Decimal("100000.01"))
    assert violation(exc).code == "budget_insufficient"


def test_spending_beyond_the_commitment_is_refused():
    line = BudgetLine(Decimal("1000.00"), committed=Decimal("500.00"), spent=Decimal("400.00"))
    assert spend(line, Decimal("100.00")).spent == Decimal("500.00")
    with pytest.raises(RuleViolation) as exc:
        spend(line, Decimal("100.01"))
    assert (violation(exc).code, violation(exc).status) == ("budget_overspent", 409)


def test_releasing_a_commitment_never_releases_money_already_spent():
    line = BudgetLine(Decimal("1000.00"), committed=Decimal("500.00"), spent=Decimal("400.00"))
    assert release_commitment(line, Decimal("100.00")).committed == Decimal("400.00")
    with pytest.raises(RuleViolation) as exc:
        release_commitment(line, Decimal("100.01"))
    assert violation(exc).code == "budget_release_exceeds_unspent"


@pytest.mark.parametrize("amount", [Decimal("0"), Decimal("-1.00"), Decimal("0.001"), 1.5])
def test_budget_amounts_must_be_positive_fen_amounts(amount):
    with pytest.raises(RuleViolation) as exc:
        reserve(LINE, amount)
    assert violation(exc).code == "invalid_amount"


def test_budget_line_amount_cannot_drop_below_what_is_reserved_and_committed():
    line = BudgetLine(Decimal("1000.00"), reserved=Decimal("300.00"), committed=Decimal("200.00"))
    assert change_amount(line, Decimal("500.00")).available == Decimal("0.00")
    with pytest.raises(RuleViolation) as exc:
        change_amount(line, Decimal("499.99"))
    assert violation(exc).code == "budget_amount_below_allocated"


_OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(["reserve", "release", "commit", "extra", "unc", "spend"]),
        st.integers(min_value=1, max_value=150_000).map(lambda fen: Decimal(fen) / 100),
        st.integers(min_value=1, max_value=150_000).map(lambda fen: Decimal(fen) / 100),
    ),
    max_size=40,
)


@settings(max_examples=200, deadline=None)
@given(_OPERATIONS)
def test_no_sequence_of_budget_operations_drives_any_figure_negative(operations):
    line = BudgetLine(Decimal("1000.00"))
    for name, a, b in operations:
        try:
            if name == "reserve":
                line = reserve(line, a)
            elif name == "release":
                line = release(line, a)
            elif name == "commit":
                line = commit_reservation(line, a, b)
            elif name == "extra":
                line = commit_extra(line, a)
            elif name == "unc":
                line = release_commitment(line, a)
            else:
                line = spend(line, a)
        except RuleViolation:
            pass
        assert line.available >= 0
        assert line.reserved >= 0 and line.committed >= 0 and line.spent >= 0
        assert line.spent <= line.committed
        assert line.amount == Decimal("1000.00")
