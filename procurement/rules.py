"""Procurement rules: tenders and their minimum periods, bids, the evaluation panel
(评标委员会), comprehensive scoring (综合评分法) and lowest-price ranking (最低评标价法), award,
standstill and challenges (质疑).

Pure functions, enums and frozen dataclasses: no I/O, no database, no project imports but
`govbuy.rules` and `evaluation.rules` (the payment-rule bands a tender may set). The service layer loads state, calls these and persists what they return.

Sources: 《政府购买服务管理办法》(财政部令第102号), 《政府采购法》 and its 实施条例,
《政府采购货物和服务招标投标管理办法》(财政部令第87号), 《政府采购非招标采购方式管理办法》
(财政部令第74号), 《政府采购竞争性磋商采购方式管理暂行办法》(财库〔2014〕214号),
财库〔2015〕124号, 《政府采购质疑和投诉办法》(财政部令第94号), 《民法典》 Arts. 201, 203.

Error codes (422 bad input unless marked 409 state conflict). Those named in DESIGN.md are
part of the API contract and spelled exactly as there.

The catalogue and budget rules a tender meets are planning's (`planning.rules`).

Tenders
  invalid_method, invalid_status_transition (409), timezone_required, deadline_too_short,
  invalid_contract_term, contract_term_too_long, invalid_evaluation_method,
  invalid_price_weight, price_weight_not_allowed, criteria_required, invalid_criteria,
  criteria_not_allowed, weights_must_sum_to_100, milestones_required, invalid_milestone,
  percentages_must_sum_to_100, invitations_required, single_source_requires_one_vendor,
  invitations_not_allowed, duplicate_invitation, invalid_eligibility_requirement,
  vendor_ineligible (409; the check itself is vendors.service.check_eligibility),
  invalid_payment_rule (evaluation.rules)
Bids
  bid_deadline_passed (409), bids_sealed (409), invalid_bid_price, bid_exceeds_ceiling
Panel and scoring
  duplicate_panel_expert, invalid_panel_size, expert_conflict_of_interest, invalid_scores,
  scoring_incomplete (409)
Award and challenges
  standstill_over (409), standstill_active (409), challenge_pending (409)
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, localcontext
from enum import StrEnum
from typing import Any

from evaluation.rules import validate_payment_rule
from govbuy.rules import (
    SHANGHAI,
    RuleViolation,
    WorkCalendar,
    as_decimal,
    calendar_warning,
    check_transition,
    conflict,
    last_day,
    local_date,
    start_of_day,
    to_fen,
    working_period_end,
)

HUNDRED = Decimal(100)


# --- small helpers -------------------------------------------------------------------------


def _error(field_name: str, message: str) -> dict[str, Any]:
    return {"field": field_name, "message": message}


def _invalid(code: str, field_name: str, message: str) -> RuleViolation:
    return RuleViolation(code, message, errors=[_error(field_name, message)])


# The budget section below still says `_as_decimal`; it is moving to planning/, and takes the
# kernel's name there.
_as_decimal = as_decimal


def _require_aware(moment: Any, field_name: str) -> datetime:
    if not isinstance(moment, datetime) or moment.utcoffset() is None:
        raise _invalid(
            "timezone_required", field_name, f"{field_name} must be a date-time with a UTC offset"
        )
    return moment


def _iso(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).isoformat()


# --- tenders -------------------------------------------------------------------------------


class Method(StrEnum):
    PUBLIC_TENDER = "public_tender"
    INVITED_TENDER = "invited_tender"
    COMPETITIVE_NEGOTIATION = "competitive_negotiation"
    COMPETITIVE_CONSULTATION = "competitive_consultation"
    INQUIRY = "inquiry"
    SINGLE_SOURCE = "single_source"

    @property
    def label(self) -> str:
        return _METHOD_LABELS[self]


_METHOD_LABELS: Mapping[Method, str] = {
    Method.PUBLIC_TENDER: "公开招标",
    Method.INVITED_TENDER: "邀请招标",
    Method.COMPETITIVE_NEGOTIATION: "竞争性谈判",
    Method.COMPETITIVE_CONSULTATION: "竞争性磋商",
    Method.INQUIRY: "询价",
    Method.SINGLE_SOURCE: "单一来源",
}


def _method(value: Any) -> Method:
    try:
        return Method(value)
    except ValueError:
        raise _invalid(
            "invalid_method", "method", f"{value!r} is not a procurement method"
        ) from None


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
    # awarded → evaluating: an upheld challenge voids the award.
    TenderStatus.AWARDED: frozenset(
        {TenderStatus.CONTRACTED, TenderStatus.EVALUATING, TenderStatus.CANCELLED}
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
    period = BID_PERIODS[method]
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
    """A technical criterion (评审因素) and its weight, the most points an expert may give."""

    name: str
    weight: Decimal


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
            raw_name, raw_weight = item.name, item.weight
        elif isinstance(item, Mapping):
            raw_name, raw_weight = item.get("name"), item.get("weight")
        else:
            errors.append(_error(f"criteria[{i}]", "must have a name and a weight"))
            continue
        name = raw_name.strip() if isinstance(raw_name, str) else ""
        weight = as_decimal(raw_weight)
        if not name:
            errors.append(_error(f"criteria[{i}].name", "name is required"))
        elif name in seen:
            errors.append(_error(f"criteria[{i}].name", f"criterion '{name}' appears twice"))
        seen.add(name)
        if weight is None or weight <= 0:
            errors.append(_error(f"criteria[{i}].weight", "weight must be a number above 0"))
        if name and weight is not None:
            parsed.append(Criterion(name, weight))
    return tuple(parsed), errors


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
    if min_assessment_grade is not None and min_assessment_grade not in ASSESSMENT_GRADES:
        errors.append(
            _error("eligibility.min_assessment_grade", "must be one of 1A, 2A, 3A, 4A, 5A")
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


def ineligible(reasons: Sequence[Mapping[str, Any]]) -> RuleViolation:
    """The refusal of a bid by a vendor that fails the eligibility check (资格审查); `reasons`
    are the check's reasons ({code, detail}), each reported in `errors`."""
    details = [str(r.get("detail") or r.get("code")) for r in reasons]
    return conflict(
        "vendor_ineligible",
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


# --- panel (评标委员会) ---------------------------------------------------------------------

LARGE_TENDER_CEILING = Decimal("10000000")


def minimum_panel_size(method: str, ceiling_amount: Any = None) -> int:
    """5 for a public tender (7 from a budget of 10 million yuan, 87号令 Art. 47), else 3."""
    if _method(method) is Method.PUBLIC_TENDER:
        ceiling = as_decimal(ceiling_amount) if ceiling_amount is not None else None
        return 7 if ceiling is not None and ceiling >= LARGE_TENDER_CEILING else 5
    return 3


def check_panel(
    method: str,
    expert_ids: Sequence[Hashable],
    bidder_affiliated_expert_ids: Iterable[Hashable],
    *,
    ceiling_amount: Any = None,
) -> None:
    """An odd number of distinct experts, at least the method's minimum, none affiliated with
    a bidder (回避). Pass `ceiling_amount` to apply the 7-member rule for large tenders."""
    ids = list(expert_ids)
    duplicates = sorted({str(e) for e in ids if ids.count(e) > 1})
    if duplicates:
        raise _invalid(
            "duplicate_panel_expert",
            "expert_user_ids",
            f"expert(s) listed more than once: {', '.join(duplicates)}",
        )
    minimum = minimum_panel_size(method, ceiling_amount)
    if len(ids) < minimum or len(ids) % 2 == 0:
        raise _invalid(
            "invalid_panel_size",
            "expert_user_ids",
            f"a {_method(method).label} panel needs an odd number of experts, at least "
            f"{minimum}; got {len(ids)}",
        )
    affiliated = set(bidder_affiliated_expert_ids)
    conflicted = [e for e in ids if e in affiliated]
    if conflicted:
        names = ", ".join(str(e) for e in conflicted)
        raise RuleViolation(
            "expert_conflict_of_interest",
            f"expert(s) affiliated with a bidder may not sit on the panel: {names}",
            errors=[
                _error("expert_user_ids", f"expert {e} is affiliated with a bidder")
                for e in conflicted
            ],
        )


# --- scoring (财政部令第87号, 综合评分法) ----------------------------------------------------

SCORE_PLACES = Decimal("0.01")


def _round_score(value: Decimal) -> Decimal:
    return value.quantize(SCORE_PLACES, rounding=ROUND_HALF_UP)


def _criteria_of(criteria: Iterable[Any]) -> tuple[Criterion, ...]:
    parsed, errors = _criteria(criteria)
    if errors:
        raise RuleViolation("invalid_criteria", "some criteria are invalid", errors=errors)
    return parsed


def _score_sheet_errors(
    criteria: Sequence[Criterion], scores: Mapping[str, Any], prefix: str
) -> tuple[dict[str, Decimal], list[dict[str, Any]]]:
    weights = {c.name: c.weight for c in criteria}
    errors: list[dict[str, Any]] = []
    clean: dict[str, Decimal] = {}
    for name in scores:
        if name not in weights:
            errors.append(_error(f"{prefix}{name}", "not a criterion of this tender"))
    for name, weight in weights.items():
        if name not in scores:
            errors.append(_error(f"{prefix}{name}", "not scored"))
            continue
        value = as_decimal(scores[name])
        if value is None or not 0 <= value <= weight:
            errors.append(_error(f"{prefix}{name}", f"score must be between 0 and {weight}"))
        else:
            clean[name] = value
    return clean, errors


def check_expert_scores(criteria: Iterable[Any], scores: Mapping[str, Any]) -> dict[str, Decimal]:
    """One expert's score sheet for one bid: every criterion once, 0 ≤ score ≤ its weight."""
    clean, errors = _score_sheet_errors(_criteria_of(criteria), scores, "scores.")
    if errors:
        raise RuleViolation(
            "invalid_scores", "the score sheet is incomplete or out of range", errors=errors
        )
    return clean


@dataclass(frozen=True)
class BidForRanking:
    """A valid bid as the ranking needs it. `expert_scores` maps each panel expert's id to the
    score sheet that expert gave this bid ({criterion name: score})."""

    bid_id: Hashable
    vendor_name: str
    price: Decimal
    submitted_at: datetime
    expert_scores: Mapping[Hashable, Mapping[str, Decimal]] = field(default_factory=dict)


@dataclass(frozen=True)
class RankedBid:
    """One line of the published ranking. Scores are None under the lowest price method."""

    rank: int
    bid_id: Hashable
    vendor_name: str
    price: Decimal
    price_score: Decimal | None
    technical_score: Decimal | None
    total_score: Decimal | None
    submitted_at: datetime


def rank_bids(
    method: str,
    price_weight: Any,
    criteria: Iterable[Any],
    bids: Sequence[BidForRanking],
    expert_ids: Sequence[Hashable] = (),
) -> list[RankedBid]:
    """Rank the valid bids of a tender; rank 1 is the recommended winner.

    Comprehensive (综合评分法, 87号令 Art. 55): price score = lowest valid price ÷ bid price ×
    price weight; technical score = Σ over criteria of the experts' mean score; every bid must
    be scored by every expert in `expert_ids`. Lowest price (最低评标价法, Art. 56): by price.

    Rounding: the price score and the technical score are computed at full precision (no
    intermediate rounding of per-expert means or of the price ratio) and each rounded once,
    half-up, to 2 decimals. The total is the sum of those two rounded scores, so anyone can
    re-add the published table, and ranking uses that published total, so the order never
    disagrees with what the award notice shows. Ties (87号令 leaves them 并列; DESIGN breaks
    them): lower price, then earlier submission, then bid id so the order is deterministic.
    """
    try:
        evaluation = EvaluationMethod(method)
    except ValueError:
        raise _invalid(
            "invalid_evaluation_method", "evaluation_method", f"{method!r} is not a method"
        ) from None
    for bid in bids:
        check_bid_price(bid.price, None)
    if not bids:
        return []

    if evaluation is EvaluationMethod.LOWEST_PRICE:
        ordered = sorted(bids, key=lambda b: (b.price, b.submitted_at, str(b.bid_id)))
        return [
            RankedBid(i, b.bid_id, b.vendor_name, b.price, None, None, None, b.submitted_at)
            for i, b in enumerate(ordered, start=1)
        ]

    scheme = validate_scoring(evaluation, price_weight, criteria)
    assert scheme.price_weight is not None
    panel = list(expert_ids)
    if not panel:
        raise conflict("scoring_incomplete", "the tender has no panel, so no scores")
    missing: list[dict[str, Any]] = []
    invalid: list[dict[str, Any]] = []
    sheets: dict[Hashable, list[dict[str, Decimal]]] = {}
    for bid in bids:
        sheets[bid.bid_id] = []
        for expert in bid.expert_scores:
            if expert not in panel:
                invalid.append(
                    {
                        "bid_id": str(bid.bid_id),
                        "expert_id": str(expert),
                        "field": "scores",
                        "message": "scored by an expert who is not on the panel",
                    }
                )
        for expert in panel:
            if expert not in bid.expert_scores:
                missing.append(
                    {
                        "bid_id": str(bid.bid_id),
                        "expert_id": str(expert),
                        "field": "scores",
                        "message": f"expert {expert} has not scored bid {bid.bid_id}",
                    }
                )
                continue
            clean, errors = _score_sheet_errors(
                scheme.criteria, bid.expert_scores[expert], "scores."
            )
            invalid.extend(
                {"bid_id": str(bid.bid_id), "expert_id": str(expert), **e} for e in errors
            )
            sheets[bid.bid_id].append(clean)
    if missing:
        pairs = "; ".join(f"bid {m['bid_id']} by expert {m['expert_id']}" for m in missing)
        raise conflict("scoring_incomplete", f"scores are missing: {pairs}", errors=missing)
    if invalid:
        raise RuleViolation(
            "invalid_scores", "some score sheets are invalid or unexpected", errors=invalid
        )

    lowest = min(b.price for b in bids)
    scored: list[tuple[BidForRanking, Decimal, Decimal, Decimal]] = []
    with localcontext() as ctx:
        ctx.prec = 50
        for bid in bids:
            price_score = _round_score(lowest / bid.price * scheme.price_weight)
            experts = Decimal(len(panel))
            technical_full = sum(
                (
                    sum((sheet[c.name] for sheet in sheets[bid.bid_id]), Decimal(0)) / experts
                    for c in scheme.criteria
                ),
                Decimal(0),
            )
            technical_score = _round_score(technical_full)
            scored.append((bid, price_score, technical_score, price_score + technical_score))
    scored.sort(key=lambda s: (-s[3], s[0].price, s[0].submitted_at, str(s[0].bid_id)))
    return [
        RankedBid(i, b.bid_id, b.vendor_name, b.price, p, t, total, b.submitted_at)
        for i, (b, p, t, total) in enumerate(scored, start=1)
    ]


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
            f"{pending_challenges} challenge(s) to the award are still pending",
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
