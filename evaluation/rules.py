"""Rules of third-party performance evaluation (第三方绩效评价, 财综〔2018〕42号).

What an indicator template is and how it is checked, how scores become a total and a grade,
how a beneficiary satisfaction survey becomes the satisfaction score, how a grade becomes a
payout ratio under a payment rule, the evaluation and appeal state machines, and who may
not evaluate a contract (回避). Pure: no I/O; imports only the stdlib and `govbuy.rules`.

Decisions worth knowing:
- Weights and scores are `Decimal` with at most two decimal places; a score sheet with finer
  scores is refused, so the total is an exact sum and is never rounded into a better grade.
- A beneficiary satisfaction survey (responses, satisfied), once recorded, is the score of
  every satisfaction (满意度) indicator of the evaluation: each one scores
  `satisfied / responses × its own weight` (two decimals, half-up). The service writes those
  scores over whatever the evaluator entered for them (`apply_survey`) before it checks and
  totals the sheet, so a hand score never competes with the survey.
- The default template has a single satisfaction indicator, 服务对象满意度 (15), because the
  beneficiary survey is the one satisfaction measure the service records; every other
  category is split into two or three sub-indicators.
- A payment rule is a list of score bands; a band covers [min_score, max_score) except the
  last, which covers [min_score, 100]. Bands may be given in any order; they are sorted by
  `min_score` before they are checked.
- Conflict of interest: the vendor always bid in its own tender, so `bid_in_tender` names an
  evaluator that was a competing bidder; an evaluator that is the vendor itself is reported
  as `is_vendor` only.

Error codes raised here (HTTP status in brackets):
- `weights_must_sum_to_100` (422): a template's weights do not add up to 100.
- `invalid_template` (422): a template with no indicators or an indicator with an empty or
  repeated code, an empty name, an unknown category, or a weight that is not a positive
  number with at most two decimals; or a bound `target` that is empty or over 100
  characters, on an indicator that is not output or outcome, or bound by two indicators
  (the field is `indicators[i].target`).
- `invalid_scores` (422): a score sheet with errors; each entry of `errors` carries its own
  code: `score_missing`, `score_not_a_number`, `score_negative`, `score_exceeds_weight`,
  `score_too_precise`, `unknown_indicator`.
- `invalid_total_score` (422): a total score outside 0–100.
- `invalid_survey` (422): responses not a positive integer, or satisfied outside
  0..responses.
- `invalid_payment_rule` (422): bands with a gap, an overlap, not starting at 0 or not ending
  at 100, an empty band, a ratio outside 0–1, or ratios that fall as the score rises.
- `invalid_status_transition` (409): an evaluation or appeal moved to a status it cannot
  reach from its current one.
- `evaluation_not_editable` (409): scores changed outside `commissioned` / `returned`.
- `evaluator_conflict_of_interest` (409): the evaluator must step aside; `errors` lists every
  failing rule as `{"rule": ..., "message": ...}` with rule ∈ `is_vendor`, `bid_in_tender`,
  `affiliated_with_vendor`, `rotation`.
- `reevaluation_requires_different_evaluator` (409): an upheld appeal's re-evaluation was
  given to the evaluator whose evaluation was appealed.
- `evaluation_not_appealable` (409): an appeal against an evaluation that is not accepted.
- `appeal_window_closed` (409): an appeal after its 5-working-day window.
- `appeal_already_pending` (409): a second appeal while one is pending.
- `appeal_already_upheld` (409): an appeal against an evaluation whose appeal was upheld (it
  is being re-evaluated).
- `invalid_appeal` (422): an appeal without a reason, or with one over 5000 characters.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from functools import lru_cache
from typing import Any, NamedTuple, TypeVar

import msgspec

from govbuy.rules import as_decimal, has_at_most_two_places, RuleViolation, WorkCalendar, conflict, working_period_end
from govbuy.rules import check_transition

HUNDRED = Decimal(100)
CENT = Decimal("0.01")
_Judged = TypeVar("_Judged")






def _two_places(number: Decimal) -> Decimal:
    """Scores and totals are kept to two decimals, half-up (not money: `to_fen` is for yuan)."""
    return number.quantize(CENT, rounding=ROUND_HALF_UP)


def _fmt(number: Decimal) -> str:
    """A Decimal as people write it: 60, 62.5, 0.95."""
    return format(number.normalize(), "f")


# --- indicator templates -----------------------------------------------------------------


class IndicatorCategory(StrEnum):
    """The five indicator categories of a performance evaluation."""

    INPUT = "input"
    PROCESS = "process"
    OUTPUT = "output"
    OUTCOME = "outcome"
    SATISFACTION = "satisfaction"

    @property
    def label(self) -> str:
        return CATEGORY_LABELS[self]


CATEGORY_LABELS: dict[IndicatorCategory, str] = {
    IndicatorCategory.INPUT: "投入",
    IndicatorCategory.PROCESS: "过程",
    IndicatorCategory.OUTPUT: "产出",
    IndicatorCategory.OUTCOME: "效益",
    IndicatorCategory.SATISFACTION: "满意度",
}


@dataclass(frozen=True)
class Indicator:
    """One indicator of a template: `weight` is its maximum score. `target`, when set, binds it
    to the performance target (绩效目标) of that `indicator` name, e.g. 服务人次: the evaluation
    sheet shows the target, reported and verified values beside the indicator's score."""

    code: str
    name: str
    category: IndicatorCategory
    weight: Decimal
    target: str | None = None


def _ind(code: str, name: str, category: IndicatorCategory, weight: int) -> Indicator:
    return Indicator(code, name, category, Decimal(weight))


_IN, _PR, _OP, _OC, _SA = IndicatorCategory

#: The default template: 投入 10, 过程 20, 产出 30, 效益 25, 满意度 15.
DEFAULT_TEMPLATE: tuple[Indicator, ...] = (
    _ind("IN1", "资金到位率", _IN, 4),
    _ind("IN2", "人员配备", _IN, 6),
    _ind("PR1", "管理制度健全性", _PR, 8),
    _ind("PR2", "服务记录完整性", _PR, 7),
    _ind("PR3", "资金使用合规性", _PR, 5),
    _ind("OP1", "服务数量完成率", _OP, 12),
    _ind("OP2", "服务质量达标率", _OP, 10),
    _ind("OP3", "服务及时性", _OP, 8),
    _ind("OC1", "社会效益", _OC, 15),
    _ind("OC2", "可持续影响", _OC, 10),
    _ind("SA1", "服务对象满意度", _SA, 15),
)


#: Indicators of these categories may be bound to a performance target: the targets a tender
#: states are what its output (产出) and outcome (效益) are scored against (财库〔2021〕22号;
#: 预算法 Art. 32). Input and process indicators judge how the work was run, not what it
#: achieved, and the satisfaction indicator is scored by the beneficiary survey.
BINDABLE_CATEGORIES = frozenset({IndicatorCategory.OUTPUT, IndicatorCategory.OUTCOME})
MAX_TARGET_NAME = 100  # as a target's `indicator` (validate_targets)


def _check_binding(
    where: str, target: Any, category: Any, bound: dict[str, str], errors: list[dict[str, Any]]
) -> tuple[str | None, bool]:
    """(an indicator's bound target, stripped, or None when it has none; whether the binding is
    valid). A binding that is not 1–100 characters, on an indicator that is not output or
    outcome, or of a target another indicator already binds, is added to `errors`. `bound`:
    target name → where it was first bound."""
    if target is None:
        return None, True
    field = f"{where}.target"
    name = target.strip() if isinstance(target, str) else ""
    if not name or len(name) > MAX_TARGET_NAME:
        errors.append({"field": field, "message": f"target must name a performance target in 1–{MAX_TARGET_NAME} characters"})
        return None, False
    ok = True
    if isinstance(category, IndicatorCategory) and category not in BINDABLE_CATEGORIES:
        errors.append({"field": field, "message": "only output (产出) and outcome (效益) indicators may be bound to a target"})
        ok = False
    if name in bound:
        errors.append({"field": field, "message": f"target {name} is already bound by {bound[name]}"})
        ok = False
    else:
        bound[name] = where
    return name, ok


def validate_template(indicators: Sequence[Indicator | Mapping[str, Any]]) -> tuple[Indicator, ...]:
    """Check a template and return it as `Indicator`s.

    Rows may be `Indicator`s or mappings with `code`, `name`, `category`, `weight` and an
    optional `target` (see `BINDABLE_CATEGORIES`; one indicator per target). Every row error is
    reported at once (`invalid_template`); only a template whose rows are all valid is then
    checked for its sum (`weights_must_sum_to_100`).
    """
    errors: list[dict[str, Any]] = []
    parsed: list[Indicator] = []
    seen: set[str] = set()
    bound: dict[str, str] = {}
    if not indicators:
        raise RuleViolation(
            "invalid_template",
            "A template needs at least one indicator.",
            errors=[{"field": "indicators", "message": "no indicators"}],
        )
    for i, row in enumerate(indicators):
        where = f"indicators[{i}]"
        if isinstance(row, Indicator):
            code, name, category, weight, target = row.code, row.name, row.category, row.weight, row.target
        elif isinstance(row, Mapping):
            code, name = row.get("code"), row.get("name")
            category, weight, target = row.get("category"), row.get("weight"), row.get("target")
        else:
            errors.append({"field": where, "message": "not an indicator"})
            continue
        ok = True
        code = code.strip() if isinstance(code, str) else ""
        if not code:
            errors.append({"field": f"{where}.code", "message": "code is required"})
            ok = False
        elif code in seen:
            errors.append({"field": f"{where}.code", "message": f"code {code} is used twice"})
            ok = False
        seen.add(code)
        name = name.strip() if isinstance(name, str) else ""
        if not name:
            errors.append({"field": f"{where}.name", "message": "name is required"})
            ok = False
        try:
            category = IndicatorCategory(category)
        except ValueError:
            allowed = ", ".join(c.value for c in IndicatorCategory)
            errors.append(
                {"field": f"{where}.category", "message": f"category must be one of {allowed}"}
            )
            ok = False
        number = as_decimal(weight)
        if number is None or number <= 0:
            errors.append({"field": f"{where}.weight", "message": "weight must be a positive number"})
            ok = False
        elif not has_at_most_two_places(number):
            errors.append({"field": f"{where}.weight", "message": "weight has more than two decimals"})
            ok = False
        target, bound_ok = _check_binding(where, target, category, bound, errors)
        if ok and bound_ok:
            parsed.append(Indicator(code, name, category, number, target))
    if errors:
        raise RuleViolation("invalid_template", "The indicator template is not valid.", errors=errors)
    total = sum((ind.weight for ind in parsed), Decimal(0))
    if total != HUNDRED:
        raise RuleViolation(
            "weights_must_sum_to_100",
            f"Indicator weights sum to {_fmt(total)}, not 100.",
            errors=[{"field": "indicators", "message": f"weights sum to {_fmt(total)}"}],
        )
    return tuple(parsed)


def category_weights(indicators: Iterable[Indicator]) -> dict[IndicatorCategory, Decimal]:
    """Total weight of each category, every category listed (0 when the template has none)."""
    totals = {category: Decimal(0) for category in IndicatorCategory}
    for ind in indicators:
        totals[ind.category] += ind.weight
    return totals


def indicators_from_dicts(rows: Iterable[Mapping[str, Any]]) -> tuple[Indicator, ...]:
    """Indicators back from their stored JSON form (see `as_dicts`); checked like any input."""
    return _validated(validate_template, msgspec.json.encode(list(rows), order="sorted"))


@lru_cache(maxsize=512)
def _validated(validate: Any, stored: bytes) -> Any:
    # Stored rules are read far more often than written, and a list shows many rows with the
    # same template: each distinct stored form is checked once. The results are immutable.
    return validate(msgspec.json.decode(stored))


# --- grades ------------------------------------------------------------------------------


class Grade(StrEnum):
    """Evaluation grade: 优 ≥ 90, 良 ≥ 80, 中 ≥ 60, 差 below."""

    EXCELLENT = "excellent"
    GOOD = "good"
    FAIR = "fair"
    POOR = "poor"

    @property
    def label(self) -> str:
        return GRADE_LABELS[self]


GRADE_LABELS: dict[Grade, str] = {
    Grade.EXCELLENT: "优",
    Grade.GOOD: "良",
    Grade.FAIR: "中",
    Grade.POOR: "差",
}

#: Lowest total score of each grade, best first.
GRADE_THRESHOLDS: tuple[tuple[Grade, Decimal], ...] = (
    (Grade.EXCELLENT, Decimal(90)),
    (Grade.GOOD, Decimal(80)),
    (Grade.FAIR, Decimal(60)),
    (Grade.POOR, Decimal(0)),
)


def _check_total(total: Any) -> Decimal:
    number = as_decimal(total)
    if number is None or number < 0 or number > HUNDRED:
        raise RuleViolation(
            "invalid_total_score",
            f"A total score must be between 0 and 100, not {total}.",
            errors=[{"field": "total_score", "message": "must be between 0 and 100"}],
        )
    return number


def grade_for(total: Decimal) -> Grade:
    """The grade of a total score (0–100)."""
    number = _check_total(total)
    for grade, lowest in GRADE_THRESHOLDS:
        if number >= lowest:
            return grade
    return Grade.POOR  # unreachable: the last threshold is 0


# --- scores ------------------------------------------------------------------------------


def validate_scores(indicators: Sequence[Indicator], scores: Mapping[str, Any]) -> dict[str, Decimal]:
    """Check a complete score sheet and return it as Decimals.

    Every indicator must be scored with 0 ≤ score ≤ its weight and at most two decimals, and
    no score may name an unknown indicator; every problem is listed in `errors`.
    """
    errors: list[dict[str, Any]] = []
    result: dict[str, Decimal] = {}
    known = {ind.code for ind in indicators}
    for code in scores:
        if code not in known:
            errors.append(
                {"field": f"scores.{code}", "code": "unknown_indicator",
                 "message": f"{code} is not an indicator of this template"}
            )
    for ind in indicators:
        field = f"scores.{ind.code}"
        if ind.code not in scores or scores[ind.code] is None:
            errors.append({"field": field, "code": "score_missing", "message": f"{ind.name} is not scored"})
            continue
        number = as_decimal(scores[ind.code])
        if number is None:
            errors.append({"field": field, "code": "score_not_a_number", "message": "score must be a number"})
        elif number < 0:
            errors.append({"field": field, "code": "score_negative", "message": "score may not be negative"})
        elif number > ind.weight:
            errors.append(
                {"field": field, "code": "score_exceeds_weight",
                 "message": f"{ind.name}: score {_fmt(number)} exceeds its weight {_fmt(ind.weight)}"}
            )
        elif not has_at_most_two_places(number):
            errors.append({"field": field, "code": "score_too_precise", "message": "at most two decimals"})
        else:
            result[ind.code] = number
    if errors:
        raise RuleViolation("invalid_scores", "The score sheet is not valid.", errors=errors)
    return result


def total_score(indicators: Sequence[Indicator], scores: Mapping[str, Any]) -> Decimal:
    """Sum of a complete, valid score sheet, two decimals half-up (checks the sheet first)."""
    checked = validate_scores(indicators, scores)
    return _two_places(sum(checked.values(), Decimal(0)))


def category_scores(
    indicators: Sequence[Indicator], scores: Mapping[str, Any]
) -> dict[IndicatorCategory, Decimal]:
    """Score obtained in each category (for report tables); every category listed."""
    checked = validate_scores(indicators, scores)
    totals = {category: Decimal(0) for category in IndicatorCategory}
    for ind in indicators:
        totals[ind.category] += checked[ind.code]
    return totals


# --- satisfaction survey (服务对象满意度调查) ------------------------------------------------


def validate_survey(responses: Any, satisfied: Any) -> None:
    """A survey needs at least one response and 0 ≤ satisfied ≤ responses, both integers."""
    errors: list[dict[str, Any]] = []
    responses_ok = isinstance(responses, int) and not isinstance(responses, bool) and responses > 0
    if not responses_ok:
        errors.append({"field": "responses", "message": "responses must be a positive integer"})
    if not isinstance(satisfied, int) or isinstance(satisfied, bool) or satisfied < 0:
        errors.append({"field": "satisfied", "message": "satisfied must be a non-negative integer"})
    elif responses_ok and satisfied > responses:
        errors.append(
            {"field": "satisfied",
             "message": f"satisfied ({satisfied}) exceeds the number of responses ({responses})"}
        )
    if errors:
        raise RuleViolation("invalid_survey", "The satisfaction survey is not valid.", errors=errors)


def satisfaction_score(responses: int, satisfied: int, weight: Decimal) -> Decimal:
    """satisfied / responses × weight, two decimals half-up."""
    validate_survey(responses, satisfied)
    return _two_places(Decimal(satisfied) * Decimal(weight) / Decimal(responses))


def satisfaction_scores(
    indicators: Iterable[Indicator], responses: int, satisfied: int
) -> dict[str, Decimal]:
    """The score a recorded survey gives every satisfaction indicator, by code."""
    return {
        ind.code: satisfaction_score(responses, satisfied, ind.weight)
        for ind in indicators
        if ind.category is IndicatorCategory.SATISFACTION
    }


def apply_survey(
    indicators: Iterable[Indicator], scores: Mapping[str, Any], responses: int, satisfied: int
) -> dict[str, Any]:
    """The score sheet with every satisfaction indicator scored from the survey."""
    return {**scores, **satisfaction_scores(indicators, responses, satisfied)}


# --- payment rule (payout bands) -----------------------------------------------------------


@dataclass(frozen=True)
class PaymentBand:
    """Scores in [min_score, max_score) pay `ratio` of the milestone; the last band includes 100."""

    min_score: Decimal
    max_score: Decimal
    ratio: Decimal


#: Default rule: 差 [0, 60) 0 %, 中 [60, 80) 80 %, 良 [80, 90) 95 %, 优 [90, 100] 100 %.
DEFAULT_PAYMENT_RULE: tuple[PaymentBand, ...] = (
    PaymentBand(Decimal(0), Decimal(60), Decimal("0")),
    PaymentBand(Decimal(60), Decimal(80), Decimal("0.80")),
    PaymentBand(Decimal(80), Decimal(90), Decimal("0.95")),
    PaymentBand(Decimal(90), Decimal(100), Decimal("1.00")),
)


def _band_fields(row: Any) -> tuple[Any, Any, Any]:
    if isinstance(row, PaymentBand):
        return row.min_score, row.max_score, row.ratio
    if isinstance(row, Mapping):
        return row.get("min_score"), row.get("max_score"), row.get("ratio")
    if isinstance(row, Sequence) and not isinstance(row, str) and len(row) == 3:
        return row[0], row[1], row[2]
    return None, None, None


def validate_payment_rule(bands: Sequence[PaymentBand | Mapping[str, Any]]) -> tuple[PaymentBand, ...]:
    """Check a payment rule and return its bands sorted by `min_score`.

    The bands must cover 0–100 exactly once: the first starts at 0, the last ends at 100,
    each starts where the one before ends; each band has min < max and 0 ≤ ratio ≤ 1; and a
    higher band never pays a lower ratio. All problems are reported at once.
    """
    errors: list[dict[str, Any]] = []
    if not bands:
        raise RuleViolation(
            "invalid_payment_rule",
            "A payment rule needs at least one band.",
            errors=[{"field": "bands", "message": "no bands"}],
        )
    parsed: list[PaymentBand] = []
    for i, row in enumerate(bands):
        raw_min, raw_max, raw_ratio = _band_fields(row)
        low, high, ratio = as_decimal(raw_min), as_decimal(raw_max), as_decimal(raw_ratio)
        where = f"bands[{i}]"
        if low is None:
            errors.append({"field": f"{where}.min_score", "message": "min_score must be a number"})
        if high is None:
            errors.append({"field": f"{where}.max_score", "message": "max_score must be a number"})
        if ratio is None:
            errors.append({"field": f"{where}.ratio", "message": "ratio must be a number"})
        elif not Decimal(0) <= ratio <= Decimal(1):
            errors.append({"field": f"{where}.ratio", "message": f"ratio {_fmt(ratio)} is not between 0 and 1"})
        if low is not None and high is not None and low >= high:
            errors.append(
                {"field": where, "message": f"band from {_fmt(low)} to {_fmt(high)} is empty (min must be below max)"}
            )
        if low is not None and high is not None and ratio is not None:
            parsed.append(PaymentBand(low, high, ratio))
    if errors:
        raise RuleViolation("invalid_payment_rule", "The payment rule is not valid.", errors=errors)

    ordered = sorted(parsed, key=lambda band: (band.min_score, band.max_score))
    if ordered[0].min_score != 0:
        errors.append(
            {"field": "bands", "message": f"the first band starts at {_fmt(ordered[0].min_score)}, not 0"}
        )
    if ordered[-1].max_score != HUNDRED:
        errors.append(
            {"field": "bands", "message": f"the last band ends at {_fmt(ordered[-1].max_score)}, not 100"}
        )
    for before, after in zip(ordered, ordered[1:]):
        if before.max_score < after.min_score:
            errors.append(
                {"field": "bands",
                 "message": f"gap between {_fmt(before.max_score)} and {_fmt(after.min_score)}"}
            )
        elif before.max_score > after.min_score:
            errors.append(
                {"field": "bands",
                 "message": f"overlap between {_fmt(after.min_score)} and "
                            f"{_fmt(min(before.max_score, after.max_score))}"}
            )
        if after.ratio < before.ratio:
            errors.append(
                {"field": "bands",
                 "message": f"ratio falls from {_fmt(before.ratio)} to {_fmt(after.ratio)} "
                            f"at score {_fmt(after.min_score)}: ratios may not decrease as the score rises"}
            )
    if errors:
        raise RuleViolation("invalid_payment_rule", "The payment rule is not valid.", errors=errors)
    return tuple(ordered)


def payout_ratio(bands: Sequence[PaymentBand | Mapping[str, Any]], total_score: Decimal) -> Decimal:
    """The ratio of the milestone amount paid for a total score under a payment rule."""
    ordered = validate_payment_rule(bands)
    score = _check_total(total_score)
    for band in ordered[:-1]:
        if band.min_score <= score < band.max_score:
            return band.ratio
    return ordered[-1].ratio  # the last band is [min, 100] and the rule covers 0–100


def as_dicts(items: Iterable[PaymentBand | Indicator]) -> list[dict[str, str]]:
    """Bands or indicators as JSON-ready dicts: Decimals and categories as strings."""
    rows: list[dict[str, str]] = []
    for item in items:
        if isinstance(item, PaymentBand):
            rows.append(
                {"min_score": str(item.min_score), "max_score": str(item.max_score), "ratio": str(item.ratio)}
            )
        elif isinstance(item, Indicator):
            row = {"code": item.code, "name": item.name, "category": item.category.value, "weight": str(item.weight)}
            if item.target is not None:  # an unbound indicator is stored as it was before bindings
                row["target"] = item.target
            rows.append(row)
        else:
            raise TypeError(f"cannot serialise {type(item).__name__}")
    return rows


def from_dicts(rows: Iterable[Mapping[str, Any]]) -> tuple[PaymentBand, ...]:
    """A payment rule back from its stored JSON form (see `as_dicts`); checked like any input."""
    return _validated(validate_payment_rule, msgspec.json.encode(list(rows), order="sorted"))


# --- evaluation lifecycle ------------------------------------------------------------------


class EvaluationStatus(StrEnum):
    """commissioned → submitted → accepted | returned (→ submitted again); accepted is final."""

    COMMISSIONED = "commissioned"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    RETURNED = "returned"


EVALUATION_TRANSITIONS: dict[EvaluationStatus, frozenset[EvaluationStatus]] = {
    EvaluationStatus.COMMISSIONED: frozenset({EvaluationStatus.SUBMITTED}),
    EvaluationStatus.SUBMITTED: frozenset({EvaluationStatus.ACCEPTED, EvaluationStatus.RETURNED}),
    EvaluationStatus.RETURNED: frozenset({EvaluationStatus.SUBMITTED}),
    EvaluationStatus.ACCEPTED: frozenset(),
}

SCORES_EDITABLE_IN = frozenset({EvaluationStatus.COMMISSIONED, EvaluationStatus.RETURNED})


class EvaluationResult(NamedTuple):
    """What payment needs to know of a milestone's evaluation."""

    status: EvaluationStatus
    total_score: Decimal | None
    grade: Grade | None


def check_evaluation_transition(current: EvaluationStatus | str, target: EvaluationStatus | str) -> None:
    check_transition("evaluation", EVALUATION_TRANSITIONS, EvaluationStatus(current), EvaluationStatus(target))


def ensure_scores_editable(status: EvaluationStatus | str) -> None:
    status = EvaluationStatus(status)
    if status not in SCORES_EDITABLE_IN:
        raise conflict(
            "evaluation_not_editable",
            f"Scores can only be changed while the evaluation is commissioned or returned; "
            f"it is {status.value}.",
        )


# --- conflict of interest (回避) -----------------------------------------------------------

#: An evaluator may evaluate the same vendor at most this many times in a row.
MAX_CONSECUTIVE_EVALUATIONS = 3


def check_evaluator_independence(
    *,
    evaluator_org_id: Hashable,
    vendor_org_id: Hashable,
    tender_bidder_org_ids: Iterable[Hashable],
    affiliated_org_ids: Iterable[Hashable],
    recent_evaluations_of_vendor: Sequence[Hashable],
) -> None:
    """Refuse an evaluator that must step aside, naming every rule it fails.

    `affiliated_org_ids` are the evaluator's declared affiliations. `recent_evaluations_of_vendor`
    lists the evaluator organisations of this vendor's evaluations (accepted or in progress,
    across all its contracts), most recent first; if the first three are all this evaluator,
    a fourth in a row is refused. Ids are compared as strings, so UUIDs and their text agree.
    """
    me, vendor = str(evaluator_org_id), str(vendor_org_id)
    failures: list[dict[str, str]] = []
    if me == vendor:
        failures.append({"rule": "is_vendor", "message": "the evaluator is the vendor itself"})
    elif me in {str(org) for org in tender_bidder_org_ids}:
        failures.append(
            {"rule": "bid_in_tender", "message": "the evaluator bid in the tender this contract was awarded from"}
        )
    if vendor in {str(org) for org in affiliated_org_ids}:
        failures.append(
            {"rule": "affiliated_with_vendor", "message": "the evaluator has declared an affiliation with the vendor"}
        )
    latest = [str(org) for org in list(recent_evaluations_of_vendor)[:MAX_CONSECUTIVE_EVALUATIONS]]
    if len(latest) == MAX_CONSECUTIVE_EVALUATIONS and all(org == me for org in latest):
        failures.append(
            {"rule": "rotation",
             "message": f"the evaluator made the vendor's last {MAX_CONSECUTIVE_EVALUATIONS} evaluations "
                        "in a row; another evaluator must take this one"}
        )
    if failures:
        rules = ", ".join(f["rule"] for f in failures)
        raise RuleViolation(
            "evaluator_conflict_of_interest",
            f"This evaluator may not evaluate the contract ({rules}).",
            status=409,
            errors=failures,
        )


def check_reevaluator(earlier_evaluator_org_ids: Iterable[Hashable], new_evaluator_org_id: Hashable) -> None:
    """An upheld appeal is re-evaluated by an evaluator that has never evaluated that milestone:
    not the one whose evaluation was overturned, nor any before it (a second upheld appeal must
    not go back to the first evaluator; 财库〔2021〕22号 on the independence of 第三方评价)."""
    if str(new_evaluator_org_id) in {str(e) for e in earlier_evaluator_org_ids}:
        raise conflict(
            "reevaluation_requires_different_evaluator",
            "A re-evaluation after an upheld appeal must be made by an evaluator that has not evaluated this "
            "milestone before.",
        )


# --- appeals (申诉) ------------------------------------------------------------------------

#: The vendor may appeal an accepted evaluation within this many working days.
APPEAL_WORKING_DAYS = 5
MAX_APPEAL_REASON = 5000


class AppealStatus(StrEnum):
    PENDING = "pending"
    UPHELD = "upheld"
    DISMISSED = "dismissed"


APPEAL_TRANSITIONS: dict[AppealStatus, frozenset[AppealStatus]] = {
    AppealStatus.PENDING: frozenset({AppealStatus.UPHELD, AppealStatus.DISMISSED}),
    AppealStatus.UPHELD: frozenset(),
    AppealStatus.DISMISSED: frozenset(),
}


def appeal_deadline(accepted_at: datetime, calendar: WorkCalendar) -> datetime:
    """End of the appeal window: 5 working days counted from the day after acceptance."""
    return working_period_end(calendar, accepted_at, APPEAL_WORKING_DAYS)


def check_appeal_window(now: datetime, deadline: datetime) -> None:
    if now >= deadline:
        raise conflict(
            "appeal_window_closed",
            f"The appeal window closed at {deadline.isoformat()}.",
        )


def ensure_appealable(status: EvaluationStatus | str) -> None:
    """Only an accepted evaluation can be appealed."""
    status = EvaluationStatus(status)
    if status is not EvaluationStatus.ACCEPTED:
        raise conflict(
            "evaluation_not_appealable",
            f"Only an accepted evaluation can be appealed; this one is {status.value}.",
        )


def check_no_open_appeal(existing: Iterable[AppealStatus | str]) -> None:
    """One pending appeal per evaluation; none once an appeal was upheld (it is re-evaluated)."""
    statuses = {AppealStatus(s) for s in existing}
    if AppealStatus.PENDING in statuses:
        raise conflict("appeal_already_pending", "An appeal against this evaluation is already pending.")
    if AppealStatus.UPHELD in statuses:
        raise conflict(
            "appeal_already_upheld",
            "An appeal against this evaluation was upheld; it is being re-evaluated.",
        )


def check_appeal_transition(current: AppealStatus | str, target: AppealStatus | str) -> None:
    check_transition("appeal", APPEAL_TRANSITIONS, AppealStatus(current), AppealStatus(target))


def validate_appeal_reason(reason: Any) -> str:
    """The appeal's reason, stripped: required, at most 5000 characters."""
    text = reason.strip() if isinstance(reason, str) else ""
    if not text or len(text) > MAX_APPEAL_REASON:
        raise RuleViolation(
            "invalid_appeal",
            "An appeal needs a reason of at most 5000 characters.",
            errors=[{"field": "reason", "message": "required, at most 5000 characters"}],
        )
    return text


# --- performance targets (绩效目标) ----------------------------------------------------------

#: Figures a deliverable may report: counts are whole numbers, hours may have two decimals.
COUNT_FIGURES = frozenset({
    "people_served",          # 服务人数
    "person_times_served",    # 服务人次
    "households_served",      # 服务户数
    "sessions_held",          # 活动/服务场次
    "volunteers_involved",    # 志愿者人数
    "referrals_made",         # 转介个案数
    "cases_closed",           # 结案个案数
})
HOUR_FIGURES = frozenset({
    "service_hours",          # 服务时长
    "volunteer_hours",        # 志愿服务时长
})
KNOWN_FIGURES = COUNT_FIGURES | HOUR_FIGURES

MAX_TARGETS = 20
TARGET_DIRECTIONS = ("at_least", "at_most")


@dataclass(frozen=True)
class Target:
    """A performance target (绩效目标, 财库〔2021〕22号; 预算法 Art. 32) a tender states and its
    contract inherits: 服务人次 ≥ 1,200 is ("服务人次", "人次", 1200, "at_least",
    "person_times_served"). `figure` names the deliverable figure that reports against it (its
    reported value is the sum over the milestones' latest deliverables); a target with no figure
    (满意度 ≥ 90 %) is verified by the evaluator only."""

    indicator: str
    unit: str
    target: Decimal
    direction: str = "at_least"
    figure: str | None = None

    def met(self, value: Decimal | None) -> bool | None:
        if value is None:
            return None
        return value >= self.target if self.direction == "at_least" else value <= self.target

    def as_dict(self) -> dict[str, Any]:
        return {"indicator": self.indicator, "unit": self.unit, "target": str(self.target),
                "direction": self.direction, "figure": self.figure}


def validate_targets(targets: Iterable[Mapping[str, Any]] | None) -> tuple[Target, ...]:
    """A tender's targets: each named once, a unit, a number ≥ 0, a direction, and a figure only
    among those a deliverable reports."""
    items = list(targets or ())
    errors: list[dict[str, Any]] = []
    if len(items) > MAX_TARGETS:
        errors.append({"field": "performance_targets", "message": f"at most {MAX_TARGETS} targets"})
    parsed: list[Target] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        field = f"performance_targets[{i}]"
        indicator = str(item.get("indicator") or "").strip()
        unit = str(item.get("unit") or "").strip()
        value = as_decimal(item.get("target"))
        direction = item.get("direction") or "at_least"
        figure = item.get("figure")
        if not indicator or len(indicator) > 100:
            errors.append({"field": f"{field}.indicator", "message": "1–100 characters"})
        elif indicator in seen:
            errors.append({"field": f"{field}.indicator", "message": f"{indicator} appears twice"})
        seen.add(indicator)
        if not unit or len(unit) > 20:
            errors.append({"field": f"{field}.unit", "message": "1–20 characters"})
        if value is None or value < 0 or not has_at_most_two_places(value):
            errors.append({"field": f"{field}.target", "message": "a number ≥ 0 with at most two decimals"})
        if direction not in TARGET_DIRECTIONS:
            errors.append({"field": f"{field}.direction", "message": "at_least or at_most"})
        if figure is not None and figure not in KNOWN_FIGURES:
            errors.append({"field": f"{field}.figure", "message": "one of " + ", ".join(sorted(KNOWN_FIGURES))})
        if not errors:
            parsed.append(Target(indicator, unit, value, direction, figure))
    if errors:
        raise RuleViolation("invalid_performance_targets", "some performance targets are invalid", errors=errors)
    return tuple(parsed)


def targets_from_dicts(stored: Iterable[Mapping[str, Any]] | None) -> tuple[Target, ...]:
    return tuple(
        Target(t["indicator"], t["unit"], Decimal(str(t["target"])), t.get("direction") or "at_least", t.get("figure"))
        for t in stored or ()
    )


def reported_values(targets: Iterable[Target], deliverable_figures: Iterable[Mapping[str, Any]]) -> dict[str, Decimal]:
    """Each target's reported value: its figure summed over the deliverables given (the latest of
    each milestone), by indicator; targets with no figure, or no report yet, are absent."""
    sums: dict[str, Decimal] = {}
    reported: set[str] = set()
    for figures in deliverable_figures:
        for name, value in (figures or {}).items():
            sums[name] = sums.get(name, Decimal(0)) + Decimal(str(value))
            reported.add(name)
    return {t.indicator: sums[t.figure] for t in targets if t.figure and t.figure in reported}


def bound_targets(indicators: Iterable[Indicator], judged: Mapping[str, _Judged]) -> dict[str, _Judged | None]:
    """Each indicator's bound target as the evaluation judges it, by indicator code: None for an
    indicator bound to nothing, and for one bound to a target this contract does not state (a
    bureau's template serves many tenders, each with its own targets: a binding is a name to
    look for, not a promise that every contract has it). `judged`: by target indicator name."""
    return {ind.code: judged.get(ind.target) if ind.target is not None else None for ind in indicators}


def check_target_results(indicators: Iterable[str], results: Mapping[str, Any]) -> dict[str, Decimal]:
    """The evaluator's verified values: only for the contract's targets, each a number ≥ 0."""
    known = set(indicators)
    errors = []
    checked: dict[str, Decimal] = {}
    for name, value in results.items():
        number = as_decimal(value)
        if name not in known:
            errors.append({"field": f"target_results.{name}", "message": "not a performance target of this contract"})
        elif number is None or number < 0:
            errors.append({"field": f"target_results.{name}", "message": "a number ≥ 0"})
        else:
            checked[name] = number
    if errors:
        raise RuleViolation("invalid_target_results", "some verified target values are invalid", errors=errors)
    return checked
