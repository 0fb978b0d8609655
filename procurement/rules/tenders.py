"""Tenders: status, minimum bid periods, contract term, scoring scheme, milestones, invitations,
eligibility requirements, and the bids' seal, price and opening."""

from __future__ import annotations

import hashlib
import hmac

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from evaluation.rules import validate_payment_rule
from evaluation.rules import Target as Target  # a tender's performance targets are evaluation's
from evaluation.rules import validate_targets as validate_targets
from govbuy.rules import (
    RuleViolation,
    WorkCalendar,
    as_decimal,
    calendar_warning,
    check_transition,
    conflict,
    local_date,
    start_of_day,
    to_fen,
)
from procurement.rules._common import (
    HUNDRED,
    Method,
    _error,
    _invalid,
    _iso,
    _method,
    _require_aware,
)


class TenderStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    EVALUATING = "evaluating"
    AWARDED = "awarded"
    CONTRACTED = "contracted"
    CANCELLED = "cancelled"
    FAILED = "failed"


TENDER_TRANSITIONS: Mapping[TenderStatus, frozenset[TenderStatus]] = {
    TenderStatus.DRAFT: frozenset({TenderStatus.PUBLISHED, TenderStatus.CANCELLED}),
    TenderStatus.PUBLISHED: frozenset(
        {TenderStatus.EVALUATING, TenderStatus.CANCELLED, TenderStatus.FAILED}
    ),
    TenderStatus.EVALUATING: frozenset(
        {TenderStatus.AWARDED, TenderStatus.FAILED, TenderStatus.CANCELLED}
    ),
    # awarded → evaluating: an upheld challenge voids the award and the panel evaluates again;
    # awarded → failed: an upheld challenge leaves too few responsive bids (废标).
    TenderStatus.AWARDED: frozenset(
        {TenderStatus.CONTRACTED, TenderStatus.EVALUATING, TenderStatus.CANCELLED, TenderStatus.FAILED}
    ),
    TenderStatus.CONTRACTED: frozenset(),
    TenderStatus.CANCELLED: frozenset(),
    TenderStatus.FAILED: frozenset(),
}


def check_tender_transition(current: str, target: str) -> None:
    check_transition("tender", TENDER_TRANSITIONS, TenderStatus(current), TenderStatus(target))


@dataclass(frozen=True)
class BidPeriod:
    """Minimum time from publication to bid deadline, the publication day not counted."""

    days: int
    working_days: bool


BID_PERIODS: Mapping[Method, BidPeriod] = {
    # 政府采购法 Art. 35: not less than 20 days.
    Method.PUBLIC_TENDER: BidPeriod(20, working_days=False),
    Method.INVITED_TENDER: BidPeriod(20, working_days=False),
    # 财库〔2014〕214号 Art. 10: not less than 10 days.
    Method.COMPETITIVE_CONSULTATION: BidPeriod(10, working_days=False),
    # 财政部令第74号 Art. 29 and 45: not less than 3 working days.
    Method.COMPETITIVE_NEGOTIATION: BidPeriod(3, working_days=True),
    Method.INQUIRY: BidPeriod(3, working_days=True),
    # 政府采购法实施条例 Art. 38: public notice of at least 5 working days.
    Method.SINGLE_SOURCE: BidPeriod(5, working_days=True),
}


def _earliest_deadline_date(method: Method, published_on: date, calendar: WorkCalendar) -> date:
    return period_end(BID_PERIODS[method], published_on, calendar)


def period_end(period: BidPeriod, published_on: date, calendar: WorkCalendar) -> date:
    """The first day on which `period`, counted from the day after `published_on`, is complete."""
    if period.working_days:
        return calendar.add_working_days(published_on, period.days)
    return published_on + timedelta(days=period.days)


def minimum_bid_deadline(method: str, published_at: datetime, calendar: WorkCalendar) -> datetime:
    """The earliest allowed bid deadline: 00:00 Asia/Shanghai of the first day on which the
    minimum period is complete (民法典 Art. 201: the day of publication is not counted)."""
    method_s = _method(method)
    published_at = _require_aware(published_at, "published_at")
    return start_of_day(_earliest_deadline_date(method_s, local_date(published_at), calendar))


def check_bid_deadline(
    method: str, published_at: datetime, bid_deadline: datetime, calendar: WorkCalendar
) -> str | None:
    """Refuse a bid deadline before the method's minimum (`deadline_too_short`); return the
    calendar warning when the working days were counted through a year with no known schedule.

    Calendar-day periods do not depend on the holiday schedule, so they never warn. The caller
    passes `published_at` = now when publishing, which also keeps the deadline in the future.
    """
    method_s = _method(method)
    published_at = _require_aware(published_at, "published_at")
    bid_deadline = _require_aware(bid_deadline, "bid_deadline")
    earliest = minimum_bid_deadline(method_s, published_at, calendar)
    period = BID_PERIODS[method_s]
    warning = calendar_warning(calendar, published_at, earliest) if period.working_days else None
    if bid_deadline < earliest or bid_deadline <= published_at:
        unit = "working days" if period.working_days else "days"
        message = (
            f"{method_s.label} ({method_s}) needs at least {period.days} {unit} from "
            f"publication to the bid deadline; the earliest allowed deadline is {_iso(earliest)}"
        )
        if warning:
            message = f"{message}. {warning}"
        raise RuleViolation("deadline_too_short", message, errors=[_error("bid_deadline", message)])
    return warning


MAX_CONTRACT_MONTHS = 12
MAX_RECURRING_CONTRACT_MONTHS = 36


def check_contract_term(months: int, recurring: bool) -> None:
    """Art. 24: at most 12 months; at most 36 months for a recurring service."""
    if isinstance(months, bool) or not isinstance(months, int) or months < 1:
        raise _invalid(
            "invalid_contract_term", "contract_months", "contract_months must be at least 1"
        )
    limit = MAX_RECURRING_CONTRACT_MONTHS if recurring else MAX_CONTRACT_MONTHS
    if months > limit:
        kind = "a recurring service" if recurring else "a service not marked recurring"
        raise _invalid(
            "contract_term_too_long",
            "contract_months",
            f"{months} months exceeds the {limit}-month limit for {kind} "
            "(政府购买服务管理办法 Art. 24)",
        )


class EvaluationMethod(StrEnum):
    COMPREHENSIVE = "comprehensive"  # 综合评分法
    LOWEST_PRICE = "lowest_price"  # 最低评标价法


# Price weight for services under 综合评分法: 87号令 Art. 55 sets a floor of 10 % for services;
# the 10–30 % band is the services band of 财库〔2007〕2号 and 财库〔2014〕214号 Art. 24, the
# band DESIGN.md adopts (DESIGN cites 财库〔2016〕125号 beside it, which is the credit-record
# notice used for eligibility, not a source for the price weight).
MIN_PRICE_WEIGHT = Decimal(10)
MAX_PRICE_WEIGHT = Decimal(30)


@dataclass(frozen=True)
class Criterion:
    """A technical criterion (评审因素) and its weight, the most points an expert may give.

    With `points_by_grade` the criterion is not scored by the experts but by rule, from the
    bidder's assessment grade at the opening ((grade number, points), e.g. ((3, 2), (4, 4),
    (5, 5))): the priority 民政部令第39号 Art. 30 gives social organisations of 3A and above,
    which bars nobody — an enterprise or an unassessed organisation gets 0 on it."""

    name: str
    weight: Decimal
    points_by_grade: tuple[tuple[int, Decimal], ...] = ()

    @property
    def scored_by_rule(self) -> bool:
        return bool(self.points_by_grade)

    def points_for(self, grade: int | None) -> Decimal:
        """The points of a bidder with that assessment grade (None: none, or expired)."""
        return dict(self.points_by_grade).get(grade or 0, Decimal(0))


@dataclass(frozen=True)
class ScoringScheme:
    evaluation_method: EvaluationMethod
    price_weight: Decimal | None
    criteria: tuple[Criterion, ...]


def _criteria(criteria: Iterable[Any]) -> tuple[tuple[Criterion, ...], list[dict[str, Any]]]:
    parsed: list[Criterion] = []
    errors: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, item in enumerate(criteria or ()):
        if isinstance(item, Criterion):
            parsed.append(item)
            seen.add(item.name)
            continue
        if not isinstance(item, Mapping):
            errors.append(_error(f"criteria[{i}]", "must have a name and a weight"))
            continue
        raw_name, raw_weight = item.get("name"), item.get("weight")
        name = raw_name.strip() if isinstance(raw_name, str) else ""
        weight = as_decimal(raw_weight)
        if not name:
            errors.append(_error(f"criteria[{i}].name", "name is required"))
        elif name in seen:
            errors.append(_error(f"criteria[{i}].name", f"criterion '{name}' appears twice"))
        seen.add(name)
        if weight is None or weight <= 0:
            errors.append(_error(f"criteria[{i}].weight", "weight must be a number above 0"))
        points, point_errors = _points_by_grade(item.get("points_by_grade"), weight, f"criteria[{i}].points_by_grade")
        errors.extend(point_errors)
        if name and weight is not None:
            parsed.append(Criterion(name, weight, points))
    if sum(1 for c in parsed if c.scored_by_rule) > 1:
        errors.append(_error("criteria", "at most one criterion gives points by assessment grade"))
    return tuple(parsed), errors


def _points_by_grade(
    raw: Any, weight: Decimal | None, field: str
) -> tuple[tuple[tuple[int, Decimal], ...], list[dict[str, Any]]]:
    """{"3A": 2, "4A": 4, "5A": 5} → ((3, 2), (4, 4), (5, 5)): each grade's points within the
    criterion's weight, and a higher grade never worth less."""
    if not raw:
        return (), []
    if not isinstance(raw, Mapping):
        return (), [_error(field, "maps assessment grades (1A–5A) to points")]
    errors: list[dict[str, Any]] = []
    points: dict[int, Decimal] = {}
    for label, value in raw.items():
        if label not in ASSESSMENT_GRADES:
            errors.append(_error(f"{field}.{label}", "not an assessment grade (1A–5A)"))
            continue
        number = as_decimal(value)
        if number is None or number < 0 or (weight is not None and number > weight):
            errors.append(_error(f"{field}.{label}", f"points must be between 0 and the criterion's weight {weight}"))
            continue
        points[ASSESSMENT_GRADES.index(label) + 1] = number
    ordered = tuple(sorted(points.items()))
    if any(a[1] > b[1] for a, b in zip(ordered, ordered[1:])):
        errors.append(_error(field, "a higher grade is never worth fewer points"))
    return ordered, errors


def validate_scoring(
    evaluation_method: str, price_weight: Any, criteria: Iterable[Any]
) -> ScoringScheme:
    """Check a tender's scoring scheme.

    comprehensive: price weight 10–30 and criteria weights (each > 0, names unique) that with
    the price weight make exactly 100. lowest_price: no price weight, no criteria.
    """
    try:
        method = EvaluationMethod(evaluation_method)
    except ValueError:
        raise _invalid(
            "invalid_evaluation_method",
            "evaluation_method",
            f"{evaluation_method!r} is not comprehensive or lowest_price",
        ) from None
    criteria_list = list(criteria or ())
    if method is EvaluationMethod.LOWEST_PRICE:
        if criteria_list:
            raise _invalid(
                "criteria_not_allowed",
                "criteria",
                "the lowest price method (最低评标价法) has no scoring criteria",
            )
        if price_weight is not None:
            raise _invalid(
                "price_weight_not_allowed",
                "price_weight",
                "the lowest price method (最低评标价法) has no price weight",
            )
        return ScoringScheme(method, None, ())

    weight = as_decimal(price_weight)
    if weight is None or not MIN_PRICE_WEIGHT <= weight <= MAX_PRICE_WEIGHT:
        raise _invalid(
            "invalid_price_weight",
            "price_weight",
            f"the price weight for services must be between {MIN_PRICE_WEIGHT} and "
            f"{MAX_PRICE_WEIGHT}, got {price_weight!r}",
        )
    if not criteria_list:
        raise _invalid(
            "criteria_required", "criteria", "comprehensive scoring needs technical criteria"
        )
    parsed, errors = _criteria(criteria_list)
    if errors:
        raise RuleViolation("invalid_criteria", "some criteria are invalid", errors=errors)
    total = weight + sum((c.weight for c in parsed), Decimal(0))
    if total != HUNDRED:
        message = (
            f"criteria weights plus the price weight sum to {total}, not 100 "
            f"(price {weight}, criteria {sum((c.weight for c in parsed), Decimal(0))})"
        )
        raise RuleViolation(
            "weights_must_sum_to_100", message, errors=[_error("criteria", message)]
        )
    return ScoringScheme(method, weight, parsed)


#: Which evaluation method each procurement method takes (财政部令第74号 Arts. 35, 47: negotiation
#: and inquiry by lowest price; 财库〔2014〕214号 Art. 23: consultation by comprehensive scoring;
#: 87号令 Art. 52: a tender by either). Single source (74号令 Arts. 41–42) negotiates a price with
#: its one supplier: no ranking, so no scores — the lowest price method's shape.
ALLOWED_EVALUATION_METHODS: Mapping[Method, frozenset[EvaluationMethod]] = {
    Method.PUBLIC_TENDER: frozenset({EvaluationMethod.COMPREHENSIVE, EvaluationMethod.LOWEST_PRICE}),
    Method.INVITED_TENDER: frozenset({EvaluationMethod.COMPREHENSIVE, EvaluationMethod.LOWEST_PRICE}),
    Method.COMPETITIVE_NEGOTIATION: frozenset({EvaluationMethod.LOWEST_PRICE}),
    Method.INQUIRY: frozenset({EvaluationMethod.LOWEST_PRICE}),
    Method.COMPETITIVE_CONSULTATION: frozenset({EvaluationMethod.COMPREHENSIVE}),
    Method.SINGLE_SOURCE: frozenset({EvaluationMethod.LOWEST_PRICE}),
}


def check_evaluation_method(method: str, evaluation_method: str) -> None:
    """The evaluation method follows the procurement method (`evaluation_method_not_allowed`)."""
    method_s = _method(method)
    try:
        evaluation = EvaluationMethod(evaluation_method)
    except ValueError:
        raise _invalid(
            "invalid_evaluation_method", "evaluation_method", f"{evaluation_method!r} is not comprehensive or lowest_price"
        ) from None
    allowed = ALLOWED_EVALUATION_METHODS[method_s]
    if evaluation not in allowed:
        names = " or ".join(sorted(a.value for a in allowed))
        raise _invalid(
            "evaluation_method_not_allowed",
            "evaluation_method",
            f"a {method_s.label} ({method_s}) is evaluated by {names}, not {evaluation.value} "
            "(财政部令第74号, 财库〔2014〕214号)",
        )


@dataclass(frozen=True)
class Milestone:
    title: str
    percentage: Decimal
    due_offset_days: int


def validate_milestone_plan(
    milestones: Sequence[Mapping[str, Any]], contract_months: int | None = None
) -> tuple[Milestone, ...]:
    """Milestones: a title, a percentage > 0, a due offset in days from the contract start
    (≥ 0, strictly increasing, within the term, counted as months × 31 days when
    `contract_months` is given); percentages sum to exactly 100."""
    if not milestones:
        raise _invalid("milestones_required", "milestones", "at least one milestone is required")
    max_offset = contract_months * 31 if contract_months is not None else None
    parsed: list[Milestone] = []
    errors: list[dict[str, Any]] = []
    previous_offset: int | None = None
    for i, item in enumerate(milestones):
        title = item.get("title")
        title = title.strip() if isinstance(title, str) else ""
        percentage = as_decimal(item.get("percentage"))
        offset = item.get("due_offset_days")
        if not title:
            errors.append(_error(f"milestones[{i}].title", "title is required"))
        if percentage is None or not 0 < percentage <= HUNDRED:
            errors.append(
                _error(f"milestones[{i}].percentage", "percentage must be above 0 and at most 100")
            )
        if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
            errors.append(
                _error(f"milestones[{i}].due_offset_days", "must be a whole number of days ≥ 0")
            )
            offset = None
        else:
            if max_offset is not None and offset > max_offset:
                errors.append(
                    _error(
                        f"milestones[{i}].due_offset_days",
                        f"{offset} days is beyond the {contract_months}-month contract term",
                    )
                )
            if previous_offset is not None and offset <= previous_offset:
                errors.append(
                    _error(
                        f"milestones[{i}].due_offset_days",
                        f"must come after the previous milestone ({previous_offset} days)",
                    )
                )
            previous_offset = offset
        if title and percentage is not None and offset is not None:
            parsed.append(Milestone(title, percentage, offset))
    if errors:
        raise RuleViolation("invalid_milestone", "some milestones are invalid", errors=errors)
    total = sum((m.percentage for m in parsed), Decimal(0))
    if total != HUNDRED:
        message = f"milestone percentages sum to {total}, not 100"
        raise RuleViolation(
            "percentages_must_sum_to_100", message, errors=[_error("milestones", message)]
        )
    return tuple(parsed)


def payment_rule_bands(bands: Sequence[Any] | None) -> list[dict[str, str]] | None:
    """A tender's own payment rule (bands of evaluation score → payout ratio), checked by the
    evaluation domain's rule and kept as exact decimal strings, sorted by `min_score`; None
    means the default rule applies."""
    if bands is None:
        return None
    checked = validate_payment_rule(list(bands))
    return [
        {"min_score": str(b.min_score), "max_score": str(b.max_score), "ratio": str(b.ratio)}
        for b in checked
    ]


MIN_INVITED_VENDORS = 3


def check_invitations(method: str, invited_vendor_ids: Iterable[Hashable] | None) -> tuple:
    """Invited tenders invite at least 3 vendors, single source names exactly 1; the open
    methods invite nobody. Returns the ids in the order given."""
    method_s = _method(method)
    ids = tuple(invited_vendor_ids or ())
    if len(set(ids)) != len(ids):
        raise _invalid(
            "duplicate_invitation", "invited_vendor_ids", "a vendor is invited more than once"
        )
    if method_s is Method.INVITED_TENDER:
        if len(ids) < MIN_INVITED_VENDORS:
            raise _invalid(
                "invitations_required",
                "invited_vendor_ids",
                f"an invited tender (邀请招标) invites at least {MIN_INVITED_VENDORS} vendors, "
                f"got {len(ids)}",
            )
    elif method_s is Method.SINGLE_SOURCE:
        if len(ids) != 1:
            raise _invalid(
                "single_source_requires_one_vendor",
                "invited_vendor_ids",
                f"single source (单一来源) names exactly one vendor, got {len(ids)}",
            )
    elif ids:
        raise _invalid(
            "invitations_not_allowed",
            "invited_vendor_ids",
            f"a {method_s.label} tender is open to every eligible vendor: no invitations",
        )
    return ids


# Best last, so that a higher index is a better grade.
ASSESSMENT_GRADES: tuple[str, ...] = ("1A", "2A", "3A", "4A", "5A")
# Best first, as the credit rating names them.
CREDIT_GRADES: tuple[str, ...] = ("A", "B", "C", "D")


@dataclass(frozen=True)
class EligibilityRequirement:
    """The only restrictions a tender may set (Art. 7; 政府采购法 Art. 22). Anything else —
    region, ownership, size — is 差别待遇: the request schema forbids unknown fields, so no
    other requirement can reach this type. Active credit-list entries always bar bidding."""

    min_assessment_grade: str | None = None
    min_credit_grade: str | None = None

    @property
    def min_assessment_grade_number(self) -> int | None:
        """The minimum assessment grade as the vendors domain counts it (3A → 3)."""
        if self.min_assessment_grade is None:
            return None
        return ASSESSMENT_GRADES.index(self.min_assessment_grade) + 1


def validate_eligibility(
    min_assessment_grade: str | None = None, min_credit_grade: str | None = None
) -> EligibilityRequirement:
    errors = []
    if min_assessment_grade is not None:
        # 民政部令第39号 Art. 30 makes a grade of 3A or above a priority, and 102号令 Art. 6 lets
        # enterprises (never assessed) bid: a minimum grade would bar them (差别待遇).
        raise RuleViolation(
            "assessment_grade_not_a_bar",
            "an assessment grade is a priority, never a bar: give graded social organisations points with a "
            "criterion's points_by_grade instead",
            errors=[_error("eligibility.min_assessment_grade", "not allowed (102号令 Art. 6; 民政部令第39号 Art. 30)")],
        )
    if min_credit_grade is not None and min_credit_grade not in CREDIT_GRADES:
        errors.append(_error("eligibility.min_credit_grade", "must be one of A, B, C, D"))
    if errors:
        raise RuleViolation(
            "invalid_eligibility_requirement",
            "; ".join(f"{e['field']} {e['message']}" for e in errors),
            errors=errors,
        )
    return EligibilityRequirement(min_assessment_grade, min_credit_grade)


# --- the seal -----------------------------------------------------------------------------

TAMPERED_REASON = "the bid's price or proposal does not match the digest recorded when it was sealed: not opened"


def seal_digest(nonce: str, price: Decimal, proposal: str) -> str:
    """The digest of a sealed bid: SHA-256 of nonce|price|proposal (the audit log keeps it while
    the bid is sealed; the nonce keeps a digest of the price alone from being brute-forced)."""
    return hashlib.sha256(f"{nonce}|{Decimal(price):.2f}|{proposal}".encode()).hexdigest()


def seal_intact(nonce: str | None, price: Decimal, proposal: str, digest: str | None) -> bool:
    """Whether a bid opened is the bid sealed (87号令 Art. 40: 开标时检查投标文件的密封情况)."""
    return bool(nonce and digest) and hmac.compare_digest(seal_digest(nonce, price, proposal), digest)


def ineligible(reasons: Sequence[Mapping[str, Any]], excluded_by_law: bool = False) -> RuleViolation:
    """The refusal of a bid by a vendor that fails the eligibility check (资格审查); `reasons`
    are the check's reasons ({code, detail}), each reported in `errors`. An organisation that
    102号令 Art. 8 excludes is refused as such (`vendor_excluded_by_law`), whatever else."""
    details = [str(r.get("detail") or r.get("code")) for r in reasons]
    return conflict(
        "vendor_excluded_by_law" if excluded_by_law else "vendor_ineligible",
        "the vendor may not bid: " + ("; ".join(details) or "not eligible"),
        errors=[
            {"field": "vendor", "code": str(r.get("code")), "message": str(r.get("detail"))}
            for r in reasons
        ],
    )


# --- bids ----------------------------------------------------------------------------------


def check_bid_open(now: datetime, bid_deadline: datetime) -> None:
    """Bids may be submitted, changed or withdrawn only before the deadline."""
    if _require_aware(now, "now") >= _require_aware(bid_deadline, "bid_deadline"):
        raise conflict("bid_deadline_passed", f"the bid deadline {_iso(bid_deadline)} has passed")


def bids_are_sealed(now: datetime, bid_deadline: datetime) -> bool:
    """Before the deadline nobody — bureau and admins included — reads a price or proposal."""
    return _require_aware(now, "now") < _require_aware(bid_deadline, "bid_deadline")


def ensure_bids_unsealed(now: datetime, bid_deadline: datetime) -> None:
    if bids_are_sealed(now, bid_deadline):
        raise conflict("bids_sealed", f"bids stay sealed until the deadline {_iso(bid_deadline)}")


def check_bid_price(price: Any, ceiling: Any) -> Decimal:
    """A price is a positive fen amount no higher than the tender's ceiling (最高限价)."""
    number = as_decimal(price)
    if number is None or number <= 0 or number != to_fen(number):
        raise _invalid(
            "invalid_bid_price", "price", "the price must be a positive amount in yuan and fen"
        )
    ceiling_d = as_decimal(ceiling)
    if ceiling_d is not None and number > ceiling_d:
        raise _invalid(
            "bid_exceeds_ceiling",
            "price",
            f"the price {number} exceeds the tender's ceiling {ceiling_d}",
        )
    return number


def minimum_valid_bids(method: str) -> int:
    """Below this many valid bids the tender fails. Competitive consultation for purchase of
    services may go on with 2 (财库〔2015〕124号); single source has its one vendor."""
    method_s = _method(method)
    if method_s is Method.SINGLE_SOURCE:
        return 1
    if method_s is Method.COMPETITIVE_CONSULTATION:
        return 2
    return 3


def opening_outcome(method: str, valid_bid_count: int) -> TenderStatus:
    """What a tender becomes when its bids open (`failed` is reported as insufficient_bids)."""
    if valid_bid_count >= minimum_valid_bids(method):
        return TenderStatus.EVALUATING
    return TenderStatus.FAILED



# --- the procurement intention (采购意向公开, 财库〔2020〕10号) -----------------------------------

#: 财库〔2020〕10号 二(三): 采购意向公开时间应当尽量提前，原则上不得晚于采购活动开始前30日公开.
INTENTION_NOTICE_DAYS = 30


def intention_notice_days(intention_published_at: datetime, tender_published_at: datetime) -> int:
    """Whole days, by the calendar in Asia/Shanghai, from the intention's publication to the
    tender's."""
    return (local_date(tender_published_at) - local_date(intention_published_at)).days


def check_intention_notice(
    intention_published_at: datetime | None, tender_published_at: datetime, exception: str | None
) -> None:
    """A tender is published at least 30 days after its procurement intention (财库〔2020〕10号);
    "in principle" (原则上), so a tender with no intention, or published sooner, states why
    (`intention_notice_exception`), and the reason is public with it."""
    if exception and exception.strip():
        return
    if intention_published_at is None:
        raise _invalid(
            "intention_required",
            "intention_notice_exception",
            "a tender is announced by a published procurement intention (采购意向, 财库〔2020〕10号): "
            "link one (procurement_intention_id) or state why there is none (intention_notice_exception)",
        )
    days = intention_notice_days(intention_published_at, tender_published_at)
    if days < INTENTION_NOTICE_DAYS:
        raise _invalid(
            "intention_too_recent",
            "intention_notice_exception",
            f"the procurement intention was published {days} day(s) ago; a tender follows it by at least "
            f"{INTENTION_NOTICE_DAYS} days (财库〔2020〕10号), or states why sooner (intention_notice_exception)",
        )
