"""Complaints (投诉) to the regulator, its suspension of a procurement and its decision
(《政府采购质疑和投诉办法》, 财政部令第94号; 政府采购法 Arts. 55–57).

- A challenger unsatisfied with the answer, or unanswered when the 7 working days ran out, may
  complain within 15 working days after the answer period ends (Art. 17: 答复期满后十五个工作日内).
  The law counts from the end of the answer period, not from the day of the answer: a challenger
  answered early keeps the full window.
- The regulator examines it within 5 working days of receipt and accepts or refuses it (Art. 21).
- It may suspend the procurement while it handles the complaint, for at most 30 days (Art. 28;
  政府采购法 Art. 57): no opening, review, award, contract or payment meanwhile.
- It decides within 30 working days of receipt (Art. 26); the decision is public (Art. 33) and
  binds the purchaser: an upheld complaint has the remedies of an upheld challenge (Arts. 31–32).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from enum import StrEnum

from govbuy.rules import (  # noqa: F401  (region_prefix, region_covers: re-exported for the service)
    WorkCalendar,
    check_transition,
    conflict,
    last_day,
    region_covers,
    region_prefix,
    working_period_end,
)
from procurement.rules._common import _iso, _require_aware
from procurement.rules.challenges import following_period_end

COMPLAINT_WORKING_DAYS = 15
ACCEPTANCE_WORKING_DAYS = 5
DECISION_WORKING_DAYS = 30
SUSPENSION_MAX_DAYS = 30


class ComplaintStatus(StrEnum):
    FILED = "filed"
    ACCEPTED = "accepted"
    REFUSED = "refused"
    DECIDED = "decided"


COMPLAINT_TRANSITIONS: Mapping[ComplaintStatus, frozenset[ComplaintStatus]] = {
    ComplaintStatus.FILED: frozenset({ComplaintStatus.ACCEPTED, ComplaintStatus.REFUSED}),
    ComplaintStatus.ACCEPTED: frozenset({ComplaintStatus.DECIDED}),
    ComplaintStatus.REFUSED: frozenset(),
    ComplaintStatus.DECIDED: frozenset(),
}

#: Statuses in which a complaint is still being handled: no contract meanwhile.
OPEN_STATUSES = (ComplaintStatus.FILED.value, ComplaintStatus.ACCEPTED.value)


def check_complaint_transition(current: str, target: str) -> None:
    check_transition("complaint", COMPLAINT_TRANSITIONS, ComplaintStatus(current), ComplaintStatus(target))


def complaint_window_end(
    challenge_status: str, reply_due: datetime, now: datetime, calendar: WorkCalendar
) -> datetime:
    """The end of the challenger's window to complain: 24:00 of the 15th working day after the
    answer period's last day. Refused while the challenge is pending and not yet overdue, and
    for a challenge made moot by another's remedy."""
    reply_due = _require_aware(reply_due, "reply_due")
    if challenge_status == "moot":
        raise conflict("challenge_moot", "the challenge was made moot when the award it concerned was voided")
    if challenge_status == "pending" and _require_aware(now, "now") < reply_due:
        raise conflict(
            "challenge_reply_pending",
            f"the purchaser may answer until 24:00 of {last_day(reply_due)}: a complaint follows the answer "
            "or its missed deadline (94号令 Art. 17)",
        )
    return following_period_end(calendar, reply_due, COMPLAINT_WORKING_DAYS)


def check_complaint_window(now: datetime, window_end: datetime) -> None:
    if _require_aware(now, "now") >= _require_aware(window_end, "window_end"):
        raise conflict(
            "complaint_window_closed",
            f"the 15 working days to complain ended at 24:00 of {last_day(window_end)} (Asia/Shanghai, "
            f"{_iso(window_end)}; 财政部令第94号 Art. 17)",
        )


def acceptance_due(filed_at: datetime, calendar: WorkCalendar) -> datetime:
    return working_period_end(calendar, _require_aware(filed_at, "filed_at"), ACCEPTANCE_WORKING_DAYS)


def decision_due(filed_at: datetime, calendar: WorkCalendar) -> datetime:
    return working_period_end(calendar, _require_aware(filed_at, "filed_at"), DECISION_WORKING_DAYS)


def suspension_end(now: datetime) -> datetime:
    """A suspension lasts at most 30 days (94号令 Art. 28); the regulator may resume sooner."""
    return _require_aware(now, "now") + timedelta(days=SUSPENSION_MAX_DAYS)


def is_suspended(suspended_until: datetime | None, now: datetime) -> bool:
    return suspended_until is not None and _require_aware(now, "now") < suspended_until


def check_not_suspended(suspended_until: datetime | None, now: datetime) -> None:
    """No opening, review, award, contract or payment while the regulator suspends the procurement."""
    if is_suspended(suspended_until, now):
        assert suspended_until is not None
        raise conflict(
            "procurement_suspended",
            f"the regulator has suspended this procurement while it handles a complaint, until "
            f"{_iso(suspended_until)} at the latest (财政部令第94号 Art. 28)",
        )

