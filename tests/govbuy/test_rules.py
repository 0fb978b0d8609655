"""The kernel's pure rules every domain uses: the status-transition check and the money parser."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

import pytest

from govbuy.rules import RuleViolation, as_decimal, check_transition


class Door(StrEnum):
    OPEN = "open"
    SHUT = "shut"
    LOCKED = "locked"


DOOR_TRANSITIONS = {
    Door.OPEN: frozenset({Door.SHUT}),
    Door.SHUT: frozenset({Door.OPEN, Door.LOCKED}),
    Door.LOCKED: frozenset(),
}


def test_allowed_transition_passes():
    check_transition("door", DOOR_TRANSITIONS, Door.SHUT, Door.LOCKED)


def test_refused_transition_is_a_conflict_that_names_both_statuses():
    with pytest.raises(RuleViolation) as raised:
        check_transition("door", DOOR_TRANSITIONS, Door.OPEN, Door.LOCKED)
    assert (raised.value.code, raised.value.status) == ("invalid_status_transition", 409)
    assert raised.value.detail == "The door is 'open': it cannot become 'locked'."


def test_refused_transition_carries_the_code_the_caller_names():
    with pytest.raises(RuleViolation) as raised:
        check_transition("door", DOOR_TRANSITIONS, Door.LOCKED, Door.OPEN, code="door_locked")
    assert raised.value.code == "door_locked"


@pytest.mark.parametrize(
    ("value", "parsed"),
    [(Decimal("1500000.00"), Decimal("1500000.00")), (30, Decimal(30)), (" 12.50 ", Decimal("12.50"))],
)
def test_money_parser_reads_decimals_ints_and_numeric_strings(value, parsed):
    assert as_decimal(value) == parsed


@pytest.mark.parametrize("value", [0.1, 1500000.0, True, "NaN", "Infinity", "1,500", "", None, [1]])
def test_money_parser_refuses_floats_and_what_is_not_a_finite_number(value):
    assert as_decimal(value) is None
