"""Award, standstill and challenges (质疑)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from govbuy.rules import (
    SHANGHAI,
    WorkCalendar,
    conflict,
    last_day,
    local_date,
    working_period_end,
)
from procurement.rules._common import Method, _invalid, _iso, _method, _require_aware
from procurement.rules.tenders import TenderStatus, check_bid_price, minimum_bid_deadline


# --- award, standstill and challenges (质疑) ------------------------------------------------

#: 财政部令第87号 Art. 69: the award notice (中标、成交结果公告) is published for 1 working day.
AWARD_NOTICE_WORKING_DAYS = 1
#: 政府采购法 Art. 52, 实施条例 Art. 53 (三): a bidder may challenge the result within 7 working
#: days of the day the award notice period ends.
CHALLENGE_WORKING_DAYS = 7
#: The standstill: no contract before every bidder's challenge window has closed.
STANDSTILL_WORKING_DAYS = AWARD_NOTICE_WORKING_DAYS + CHALLENGE_WORKING_DAYS
#: 政府采购法 Art. 53, 财政部令第94号 Art. 13: the bureau answers a challenge within 7 working
#: days of receiving it.
CHALLENGE_REPLY_WORKING_DAYS = 7


def standstill_until(awarded_at: datetime, calendar: WorkCalendar) -> datetime:
    """The end of the standstill: the award notice's 1 working day, then the 7 working days
    of the challenge window, counted from the day after the award (民法典 Art. 201) and ending
    at 24:00 Beijing time of the last one (Art. 203).

    Awarded Tue 2026-12-08: the notice period is 12-09, the challenge window 12-10 … 12-18, so
    a challenge is accepted until 24:00 of Fri 12-18.
    """
    return working_period_end(
        calendar, _require_aware(awarded_at, "awarded_at"), STANDSTILL_WORKING_DAYS
    )


def challenge_reply_due(filed_at: datetime, calendar: WorkCalendar) -> datetime:
    """When the bureau's answer to a challenge is due: 24:00 of the 7th working day after the
    day it was filed (政府采购法 Art. 53, 财政部令第94号 Art. 13)."""
    return working_period_end(
        calendar, _require_aware(filed_at, "filed_at"), CHALLENGE_REPLY_WORKING_DAYS
    )


def challenge_reply_overdue(status: str, reply_due: datetime, now: datetime) -> bool:
    """A challenge still unanswered once its answer was due (`challenge_reply_overdue`)."""
    return status == "pending" and _require_aware(now, "now") >= _require_aware(reply_due, "reply_due")


def check_challenge_window(now: datetime, standstill_until: datetime) -> None:
    """A bidder may challenge the award until the standstill ends (24:00 of its last day)."""
    if _require_aware(now, "now") >= _require_aware(standstill_until, "standstill_until"):
        raise conflict(
            "standstill_over",
            f"the standstill ended at 24:00 of {last_day(standstill_until)} (Asia/Shanghai, "
            f"{_iso(standstill_until)}): the award can no longer be challenged here",
        )


def extended_bid_deadline(
    method: str, published_at: datetime, bid_deadline: datetime, calendar: WorkCalendar
) -> datetime | None:
    """The later bid deadline a published tender needs when its minimum period, counted again
    under `calendar` (a year's schedule recorded since publication), ends after its deadline:
    the earliest allowed day at the deadline's own time of day. None when the deadline holds.

    Only working-day periods depend on the schedule; calendar-day ones never move.
    """
    method_s = _method(method)
    published_at = _require_aware(published_at, "published_at")
    bid_deadline = _require_aware(bid_deadline, "bid_deadline")
    earliest = minimum_bid_deadline(method_s, published_at, calendar)
    if bid_deadline >= earliest:
        return None
    local = bid_deadline.astimezone(SHANGHAI)
    return datetime.combine(local_date(earliest), local.timetz().replace(tzinfo=None), tzinfo=SHANGHAI)


def check_contract_allowed(
    now: datetime, standstill_until: datetime, pending_challenges: int
) -> None:
    """A contract is created only after the standstill and with no challenge pending."""
    if _require_aware(now, "now") < _require_aware(standstill_until, "standstill_until"):
        raise conflict(
            "standstill_active",
            f"the standstill runs until {_iso(standstill_until)}",
        )
    if pending_challenges > 0:
        raise conflict(
            "challenge_pending",
            f"{pending_challenges} challenge(s) or complaint(s) about the procurement are still pending",
        )


class ChallengeOutcome(StrEnum):
    UPHELD = "upheld"
    DISMISSED = "dismissed"


def challenge_resolution_effect(outcome: str) -> TenderStatus:
    """The tender's status after a challenge is resolved: an upheld challenge voids the award
    and sends the tender back to evaluation; a dismissed one leaves it awarded."""
    if ChallengeOutcome(outcome) is ChallengeOutcome.UPHELD:
        return TenderStatus.EVALUATING
    return TenderStatus.AWARDED



def check_negotiation(method: str, negotiated: bool) -> None:
    """Only single source negotiates its price with the one supplier (74号令 Arts. 41–42)."""
    if negotiated and _method(method) is not Method.SINGLE_SOURCE:
        raise _invalid(
            "negotiated_price_not_allowed", "negotiated_price", "only a single source procurement negotiates its price"
        )


def check_negotiated_price(negotiated: Decimal, bid_price: Decimal) -> Decimal:
    """The negotiated price is a fen amount above zero and never above the supplier's bid."""
    price = check_bid_price(negotiated, bid_price)
    return price
