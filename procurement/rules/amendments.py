"""Amendments of a published tender (澄清或者修改): which terms may change, and when a change
moves the bid deadline.

财政部令第87号 Art. 27: the purchaser may clarify or amend the tender documents it has issued;
when the change may affect the preparation of bids and comes fewer than 15 days before the bid
deadline, the deadline is put back so that 15 days remain. The other methods keep the same rule
with their own periods: 5 days for competitive consultation (财库〔2014〕214号 Art. 10), 3 working
days for competitive negotiation and inquiry (财政部令第74号 Arts. 29, 45). Single source has no
such clause; govbuy gives its one supplier the negotiation's 3 working days.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from govbuy.rules import RuleViolation, WorkCalendar, conflict, local_date, start_of_day
from procurement.rules._common import Method, _error, _iso, _method, _require_aware
from procurement.rules.tenders import BidPeriod, period_end

#: The terms an amendment may change. The method, the ceiling (reserved on the budget line at
#: publication), the budget line, the item, the term, the evaluation method, the eligibility
#: requirement, the SME policy and the invitations are the tender's identity: changing them is a
#: new procurement (cancel and publish again), never an amendment.
AMENDABLE_FIELDS = frozenset(
    {"title", "description", "price_weight", "criteria", "performance_targets", "milestones", "payment_rule",
     "bid_deadline"}
)

AMENDMENT_PERIODS: Mapping[Method, BidPeriod] = {
    # 87号令 Art. 27: 至少15日前.
    Method.PUBLIC_TENDER: BidPeriod(15, working_days=False),
    Method.INVITED_TENDER: BidPeriod(15, working_days=False),
    # 财库〔2014〕214号 Art. 10: 提交首次响应文件截止时间至少5日前.
    Method.COMPETITIVE_CONSULTATION: BidPeriod(5, working_days=False),
    # 财政部令第74号 Arts. 29, 45: 提交首次响应文件截止之日3个工作日前.
    Method.COMPETITIVE_NEGOTIATION: BidPeriod(3, working_days=True),
    Method.INQUIRY: BidPeriod(3, working_days=True),
    Method.SINGLE_SOURCE: BidPeriod(3, working_days=True),
}


def check_amendable(fields: Iterable[str]) -> frozenset[str]:
    """The fields an amendment changes, all amendable (`amendment_not_allowed`, naming each
    other one), and at least one (`amendment_empty`)."""
    given = frozenset(fields)
    refused = sorted(given - AMENDABLE_FIELDS)
    if refused:
        raise RuleViolation(
            "amendment_not_allowed",
            f"an amendment cannot change {', '.join(refused)}: cancel the tender and publish a new one",
            errors=[_error(f, "not amendable after publication (87号令 Art. 27)") for f in refused],
        )
    if not given:
        raise RuleViolation("amendment_empty", "an amendment changes at least one term",
                            errors=[_error("changes", "no field given")])
    return given


def check_amendment_open(status: str, now: datetime, bid_deadline: datetime) -> None:
    """A tender is amended while it is published and before its bid deadline (409)."""
    if status != "published":
        raise conflict("tender_not_published", f"the tender is {status}: only a published tender is amended")
    if _require_aware(now, "now") >= _require_aware(bid_deadline, "bid_deadline"):
        raise conflict("bid_deadline_passed", f"the bid deadline {_iso(bid_deadline)} has passed: no amendment")


def affects_bids(fields: Iterable[str], clarification: bool) -> bool:
    """Whether the change may affect how bids are prepared: anything but a clarification of
    wording (`clarification: true`, the bureau's statement) or a mere extension of the deadline."""
    return not clarification and bool(frozenset(fields) - {"bid_deadline"})


@dataclass(frozen=True)
class AmendedDeadline:
    before: datetime
    after: datetime
    minimum: datetime | None  # the earliest deadline the amendment allows; None when it affects no bid
    moved: bool  # put back by the rule, beyond what was asked


def minimum_amended_deadline(method: str, now: datetime, calendar: WorkCalendar) -> datetime:
    """00:00 Asia/Shanghai of the first day on which the method's amendment period, counted from
    the day after `now`, is complete (the same count as the bid period's)."""
    period = AMENDMENT_PERIODS[_method(method)]
    return start_of_day(period_end(period, local_date(_require_aware(now, "now")), calendar))


def amended_deadline(
    method: str,
    now: datetime,
    current: datetime,
    asked: datetime | None,
    *,
    affects: bool,
    calendar: WorkCalendar,
) -> AmendedDeadline:
    """The deadline after an amendment: the one asked (never earlier than the current one:
    `deadline_too_short`), put back to the minimum when the change affects bids and leaves less
    than the method's period (87号令 Art. 27)."""
    current = _require_aware(current, "bid_deadline")
    wanted = _require_aware(asked, "bid_deadline") if asked is not None else current
    if wanted < current:
        message = f"an amendment never brings the deadline forward: it is {_iso(current)}"
        raise RuleViolation("deadline_too_short", message, errors=[_error("bid_deadline", message)])
    if not affects:
        return AmendedDeadline(current, wanted, None, moved=False)
    minimum = minimum_amended_deadline(method, now, calendar)
    return AmendedDeadline(current, max(wanted, minimum), minimum, moved=minimum > wanted)
