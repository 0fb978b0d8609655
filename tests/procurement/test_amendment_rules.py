"""The pure rules of tender amendments (澄清或者修改, 87号令 Art. 27): which terms may change, when
a change may affect bids, and the deadline it leaves, per method."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from govbuy.rules import SHANGHAI, RuleViolation, WorkCalendar
from procurement import rules

# 2026: National Day 1–7 October off, Saturday 10 October a make-up working day.
CAL = WorkCalendar(
    holidays=frozenset(date(2026, 10, d) for d in range(1, 8)),
    workdays=frozenset({date(2026, 10, 10)}),
    known_years=frozenset({2026}),
)


def sh(y: int, m: int, d: int, hh: int = 0) -> datetime:
    return datetime(y, m, d, hh, tzinfo=SHANGHAI)


def test_the_method_and_the_ceiling_cannot_be_amended_and_each_is_named():
    with pytest.raises(RuleViolation) as refused:
        rules.check_amendable({"description", "method", "ceiling_amount"})
    assert refused.value.code == "amendment_not_allowed"
    assert [e["field"] for e in refused.value.errors] == ["ceiling_amount", "method"]


def test_the_terms_of_the_documents_may_be_amended():
    fields = {"title", "description", "criteria", "price_weight", "milestones", "performance_targets", "bid_deadline"}
    assert rules.check_amendable(fields) == fields


def test_an_amendment_changes_something():
    with pytest.raises(RuleViolation) as refused:
        rules.check_amendable(set())
    assert refused.value.code == "amendment_empty"


def test_only_a_clarification_or_a_deadline_extension_leaves_bids_unaffected():
    assert rules.affects_bids({"criteria"}, clarification=False)
    assert not rules.affects_bids({"description"}, clarification=True)
    assert not rules.affects_bids({"bid_deadline"}, clarification=False)
    assert rules.affects_bids({"bid_deadline", "milestones"}, clarification=False)


def test_a_public_tender_amended_with_ten_days_left_gets_fifteen():
    now = sh(2026, 6, 1, 10)
    result = rules.amended_deadline("public_tender", now, sh(2026, 6, 11), None, affects=True, calendar=CAL)
    assert (result.after, result.moved) == (sh(2026, 6, 16), True)


def test_a_deadline_far_enough_away_does_not_move():
    now = sh(2026, 6, 1, 10)
    result = rules.amended_deadline("public_tender", now, sh(2026, 6, 20), None, affects=True, calendar=CAL)
    assert (result.after, result.moved) == (sh(2026, 6, 20), False)


def test_a_consultation_needs_five_days():
    now = sh(2026, 6, 1, 10)
    result = rules.amended_deadline("competitive_consultation", now, sh(2026, 6, 3), None, affects=True, calendar=CAL)
    assert result.after == sh(2026, 6, 6)


@pytest.mark.parametrize("method", ["competitive_negotiation", "inquiry"])
def test_negotiation_and_inquiry_count_three_working_days_across_a_holiday(method):
    # From Wednesday 30 September: 1–7 October are off, Thursday 8, Friday 9, Saturday 10 (made up).
    now = sh(2026, 9, 30, 10)
    result = rules.amended_deadline(method, now, sh(2026, 10, 2), None, affects=True, calendar=CAL)
    assert result.after == sh(2026, 10, 10)


def test_a_later_deadline_asked_is_kept():
    now = sh(2026, 6, 1, 10)
    result = rules.amended_deadline("public_tender", now, sh(2026, 6, 11), sh(2026, 6, 30), affects=True, calendar=CAL)
    assert (result.after, result.moved) == (sh(2026, 6, 30), False)


def test_a_clarification_does_not_move_the_deadline():
    now = sh(2026, 6, 1, 10)
    result = rules.amended_deadline("public_tender", now, sh(2026, 6, 3), None, affects=False, calendar=CAL)
    assert (result.after, result.moved, result.minimum) == (sh(2026, 6, 3), False, None)


def test_an_amendment_never_brings_the_deadline_forward():
    with pytest.raises(RuleViolation) as refused:
        rules.amended_deadline("public_tender", sh(2026, 6, 1), sh(2026, 6, 30), sh(2026, 6, 25), affects=False, calendar=CAL)
    assert refused.value.code == "deadline_too_short"


def test_a_tender_is_amended_only_while_published_and_before_its_deadline():
    rules.check_amendment_open("published", sh(2026, 6, 1), sh(2026, 6, 2))
    with pytest.raises(RuleViolation) as late:
        rules.check_amendment_open("published", sh(2026, 6, 2), sh(2026, 6, 2))
    assert (late.value.code, late.value.status) == ("bid_deadline_passed", 409)
    with pytest.raises(RuleViolation) as draft:
        rules.check_amendment_open("draft", sh(2026, 6, 1), sh(2026, 6, 2))
    assert draft.value.code == "tender_not_published"
