"""The credit rating (信用评价): a pure, versioned function of recorded facts, so that any
stored rating can be recomputed and explained from its stored inputs. docs/credit-rating.md
states the formula for people; this module is the formula for machines and the two must agree.

Its inputs are the vendor rules' assessment grades and credit-list entries (`vendors.rules`),
accepted evaluations and due milestones; its outputs are the rating with its components, the
fingerprint of its inputs, and the rows `vendors.service` stores for many vendors at once.

Pure: no I/O, no clock (callers pass `today`), no project imports but `vendors.rules` and
`govbuy.rules`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Any

import msgspec

from govbuy.rules import RuleViolation, as_decimal, to_fen
from vendors.rules import (
    ASSESSMENT_GRADES,
    AssessmentGradeRecord,
    CreditListEntry,
    CurrentGrade,
    active_entries,
    add_years,
    check_grade_number,
    current_assessment_grade,
    entry_sort_key,
)


# Bump whenever anything below changes the result for some input: stored ratings name the
# version they were computed under, and a rating can only be re-explained by its own version.
RULES_VERSION = "credit-2026.2"

COMPONENT_BASE_WEIGHTS = {
    "performance": Decimal("0.40"),
    "delivery": Decimal("0.25"),
    "assessment": Decimal("0.15"),
    "conduct": Decimal("0.20"),
}
LOOKBACK_YEARS = 3


def lookback_start(today: date) -> date:
    """The first day of the rating's look-back window (three years back, 29 Feb → 28 Feb)."""
    return add_years(today, -LOOKBACK_YEARS)
# (an evaluation accepted less than N years before today, its recency factor)
RECENCY_WEIGHTS = ((1, Decimal("1.0")), (2, Decimal("0.6")), (3, Decimal("0.3")))
ASSESSMENT_GRADE_POINTS = {
    5: Decimal("100"),
    4: Decimal("90"),
    3: Decimal("80"),
    2: Decimal("65"),
    1: Decimal("50"),
}
POOR_GRADE_PENALTY = Decimal("15")
TERMINATION_PENALTY = Decimal("25")
PAST_LIST_ENTRY_PENALTY = Decimal("10")
# (lowest score of the grade, grade); below the last band is D.
CREDIT_GRADE_BANDS = ((Decimal("85"), "A"), (Decimal("70"), "B"), (Decimal("55"), "C"))
EVALUATION_GRADES = ("excellent", "good", "fair", "poor")  # 优 良 中 差

_POINTS = Decimal("0.01")
_WEIGHT_DISPLAY = Decimal("0.0001")
# Far more digits than any input carries, and set explicitly so the result never depends on
# the caller's decimal context.
_PRECISION = 60


def _invalid_input(field: str, detail: str) -> RuleViolation:
    return RuleViolation(
        "invalid_rating_input", detail, errors=[{"field": field, "message": detail}]
    )


def _decimal(value: Any, field: str) -> Decimal:
    # A float has already lost the digits a bureau typed: the kernel's parser refuses it.
    number = as_decimal(value)
    if number is None:
        raise _invalid_input(field, f"{field} must be a finite Decimal, int or numeric string; got {value!r}")
    return number


def _count(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _invalid_input(field, f"{field} must be a whole number ≥ 0; got {value!r}")
    return value


def _canonical(value: Decimal) -> str:
    """One spelling per number (90 and 90.00 alike), so equal inputs fingerprint alike."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def _points(value: Decimal) -> Decimal:
    """Round a score or component to two decimals, half-up: the one rounding of points."""
    return value.quantize(_POINTS, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class AcceptedEvaluation:
    """An accepted third-party evaluation of one of the vendor's milestones."""

    score: Decimal
    milestone_amount: Decimal
    accepted_on: date
    grade: str

    def __post_init__(self) -> None:
        score = _decimal(self.score, "score")
        if not Decimal(0) <= score <= Decimal(100):
            raise _invalid_input("score", f"score must be between 0 and 100; got {score}")
        amount = _decimal(self.milestone_amount, "milestone_amount")
        # A zero amount would carry no weight and could leave the mean undefined.
        if amount <= 0 or amount != to_fen(amount):
            raise _invalid_input(
                "milestone_amount",
                f"milestone_amount must be positive and in whole fen; got {amount}",
            )
        if self.grade not in EVALUATION_GRADES:
            raise _invalid_input(
                "grade", f"grade must be one of {', '.join(EVALUATION_GRADES)}; got {self.grade!r}"
            )
        object.__setattr__(self, "score", score)
        object.__setattr__(self, "milestone_amount", to_fen(amount))

    def as_dict(self) -> dict[str, Any]:
        return {
            "score": _canonical(self.score),
            "milestone_amount": str(self.milestone_amount),
            "accepted_on": self.accepted_on.isoformat(),
            "grade": self.grade,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AcceptedEvaluation:
        return cls(
            score=data["score"],
            milestone_amount=data["milestone_amount"],
            accepted_on=date.fromisoformat(data["accepted_on"]),
            grade=data["grade"],
        )


@dataclass(frozen=True)
class DueMilestone:
    """A contract milestone of the vendor's, with its due date and when it was delivered."""

    due_date: date
    delivered_on: date | None = None

    def on_time(self) -> bool:
        return self.delivered_on is not None and self.delivered_on <= self.due_date

    def as_dict(self) -> dict[str, Any]:
        return {
            "due_date": self.due_date.isoformat(),
            "delivered_on": self.delivered_on.isoformat() if self.delivered_on else None,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DueMilestone:
        delivered_on = data.get("delivered_on")
        return cls(
            due_date=date.fromisoformat(data["due_date"]),
            delivered_on=date.fromisoformat(delivered_on) if delivered_on else None,
        )


def delivery_counts(inputs: Mapping[str, Any], rated_on: date) -> tuple[int, int]:
    """(milestones due, of which on time) from stored inputs, under either version's shape:
    credit-2026.1 listed every milestone; credit-2026.2 counts the on-time ones and lists the
    late ones."""
    if "milestones" in inputs:
        listed = [DueMilestone.from_dict(m) for m in inputs["milestones"]]
        due = [m for m in listed if m.due_date <= rated_on]
        return len(due), sum(1 for m in due if m.on_time())
    late = [m for m in inputs.get("late_milestones", []) if date.fromisoformat(m["due_date"]) <= rated_on]
    on_time = int(inputs.get("on_time_milestones", 0))
    return on_time + len(late), on_time


def _coerce(items: Iterable[Any], kind: type, field: str) -> list[Any]:
    """Accept the record, a mapping (from storage) or a plain tuple (as callers write them)."""
    result = []
    for item in items:
        if isinstance(item, kind):
            result.append(item)
        elif isinstance(item, Mapping):
            result.append(kind.from_dict(item))
        elif isinstance(item, tuple | list):
            result.append(kind(*item))
        else:
            raise _invalid_input(field, f"cannot read {item!r} as {kind.__name__}")
    return result


@dataclass(frozen=True)
class RatingInputs:
    """Everything a credit rating is computed from, as recorded facts about one vendor.

    The caller passes facts; the rating applies its own windows (3 years, due by today), so
    passing more history than needed is harmless. Collections are sorted on construction, so
    inputs that differ only in order are equal, rate alike and fingerprint alike.

    - `evaluations`: accepted evaluations of the vendor's milestones (any age);
    - `on_time_milestones`: how many of the vendor's milestones due by the rating day were
      delivered by their due date (counted, not listed: they are the great majority);
    - `late_milestones`: the milestones not delivered by their due date (delivered late, or
      not delivered), each with its dates, so a bureau can see which; those not yet due on
      the rating day are left out by the rating;
    - `assessment_grade`: the current valid grade 1..5, or a `CurrentGrade` (ignored when
      expired), or None;
    - `poor_grade_count`: evaluations graded poor (差) within the last 3 years;
    - `terminations_for_cause`: contracts terminated for the vendor's fault within 3 years;
    - `past_list_entries`, `active_list_entries`: credit-list entries. The rating classifies
      each entry itself as of `today`, so an entry counts once whichever field carries it.
    """

    evaluations: tuple[AcceptedEvaluation, ...] = ()
    on_time_milestones: int = 0
    late_milestones: tuple[DueMilestone, ...] = ()
    assessment_grade: int | CurrentGrade | None = None
    poor_grade_count: int = 0
    terminations_for_cause: int = 0
    past_list_entries: tuple[CreditListEntry, ...] = ()
    active_list_entries: tuple[CreditListEntry, ...] = ()

    def __post_init__(self) -> None:
        evaluations = _coerce(self.evaluations, AcceptedEvaluation, "evaluations")
        late = _coerce(self.late_milestones, DueMilestone, "late_milestones")
        for milestone in late:
            if milestone.on_time():
                raise _invalid_input(
                    "late_milestones",
                    f"milestone due {milestone.due_date} was delivered on {milestone.delivered_on}: on time, "
                    "so it is counted in on_time_milestones",
                )
        past = _coerce(self.past_list_entries, CreditListEntry, "past_list_entries")
        active = _coerce(self.active_list_entries, CreditListEntry, "active_list_entries")
        grade = self.assessment_grade
        if isinstance(grade, Mapping):
            grade = CurrentGrade.from_dict(grade)
        elif grade is not None and not isinstance(grade, CurrentGrade):
            grade = check_grade_number(grade, "assessment_grade")
        set_ = object.__setattr__
        set_(
            self,
            "evaluations",
            tuple(
                sorted(
                    evaluations,
                    key=lambda e: (e.accepted_on, e.score, e.milestone_amount, e.grade),
                )
            ),
        )
        set_(self, "on_time_milestones", _count(self.on_time_milestones, "on_time_milestones"))
        set_(
            self,
            "late_milestones",
            tuple(sorted(late, key=lambda m: (m.due_date, m.delivered_on is None, m.delivered_on or date.min))),
        )
        set_(self, "assessment_grade", grade)
        set_(self, "poor_grade_count", _count(self.poor_grade_count, "poor_grade_count"))
        set_(
            self,
            "terminations_for_cause",
            _count(self.terminations_for_cause, "terminations_for_cause"),
        )
        set_(self, "past_list_entries", tuple(sorted(past, key=entry_sort_key)))
        set_(self, "active_list_entries", tuple(sorted(active, key=entry_sort_key)))

    def as_dict(self) -> dict[str, Any]:
        grade = self.assessment_grade
        return {
            "evaluations": [e.as_dict() for e in self.evaluations],
            "on_time_milestones": self.on_time_milestones,
            "late_milestones": [m.as_dict() for m in self.late_milestones],
            "assessment_grade": grade.as_dict() if isinstance(grade, CurrentGrade) else grade,
            "poor_grade_count": self.poor_grade_count,
            "terminations_for_cause": self.terminations_for_cause,
            "past_list_entries": [e.as_dict() for e in self.past_list_entries],
            "active_list_entries": [e.as_dict() for e in self.active_list_entries],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RatingInputs:
        return cls(
            evaluations=tuple(data.get("evaluations", ())),
            on_time_milestones=data.get("on_time_milestones", 0),
            late_milestones=tuple(data.get("late_milestones", ())),
            assessment_grade=data.get("assessment_grade"),
            poor_grade_count=data.get("poor_grade_count", 0),
            terminations_for_cause=data.get("terminations_for_cause", 0),
            past_list_entries=tuple(data.get("past_list_entries", ())),
            active_list_entries=tuple(data.get("active_list_entries", ())),
        )


@dataclass(frozen=True)
class RatingComponent:
    """One part of the rating: its value 0–100 (None when absent) and how it was weighted."""

    name: str
    value: Decimal | None
    base_weight: Decimal
    effective_weight: Decimal
    present: bool
    explanation: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": str(self.value) if self.value is not None else None,
            "base_weight": str(self.base_weight),
            "effective_weight": str(self.effective_weight),
            "present": self.present,
            "explanation": self.explanation,
        }


@dataclass(frozen=True)
class Rating:
    """A vendor's credit rating on `rated_on`, with the inputs and rules that produced it."""

    score: Decimal | None
    grade: str | None
    provisional: bool
    eligible: bool
    components: tuple[RatingComponent, ...]
    rules_version: str
    inputs: RatingInputs
    rated_on: date
    blocking_entries: tuple[CreditListEntry, ...] = ()

    def component(self, name: str) -> RatingComponent:
        return next(c for c in self.components if c.name == name)

    def result_dict(self) -> dict[str, Any]:
        """The outcome alone, as stored beside the inputs."""
        return {
            "score": str(self.score) if self.score is not None else None,
            "grade": self.grade,
            "provisional": self.provisional,
            "eligible": self.eligible,
            "blocking_entries": [e.as_dict() for e in self.blocking_entries],
            "components": [c.as_dict() for c in self.components],
            "rules_version": self.rules_version,
        }

    def as_dict(self) -> dict[str, Any]:
        return {**self.result_dict(), "rated_on": self.rated_on.isoformat(), "inputs": self.inputs.as_dict()}


def credit_grade_for_score(score: Decimal) -> str:
    """A ≥ 85, B ≥ 70, C ≥ 55, D below (applied to the score rounded to two decimals)."""
    for lowest, grade in CREDIT_GRADE_BANDS:
        if score >= lowest:
            return grade
    return "D"


def recency_weight(accepted_on: date, today: date) -> Decimal | None:
    """1.0 if accepted less than a year before `today`, 0.6 within two, 0.3 within three.

    None when older than three years (or not yet accepted): the evaluation does not count.
    An evaluation accepted exactly one year ago falls in the second band.
    """
    if accepted_on > today:
        return None
    for years, weight in RECENCY_WEIGHTS:
        if accepted_on > add_years(today, -years):
            return weight
    return None


def _plural(n: int, singular: str, plural: str | None = None) -> str:
    return f"{n} {singular if n == 1 else (plural or singular + 's')}"


def _performance(inputs: RatingInputs, today: date) -> tuple[Decimal | None, str]:
    weighted_sum = Decimal(0)
    total_weight = Decimal(0)
    counted = 0
    for evaluation in inputs.evaluations:
        recency = recency_weight(evaluation.accepted_on, today)
        if recency is None:
            continue
        weight = evaluation.milestone_amount * recency
        weighted_sum += evaluation.score * weight
        total_weight += weight
        counted += 1
    since = add_years(today, -LOOKBACK_YEARS).isoformat()
    if not counted:
        return None, f"no evaluation accepted after {since}"
    value = _points(weighted_sum / total_weight)
    return value, (
        f"weighted mean of {_plural(counted, 'evaluation')} accepted after {since} "
        f"(weight = milestone amount × recency): {_canonical(weighted_sum)} / "
        f"{_canonical(total_weight)} = {value}"
    )


def _delivery(inputs: RatingInputs, today: date) -> tuple[Decimal | None, str]:
    late = [m for m in inputs.late_milestones if m.due_date <= today]
    on_time = inputs.on_time_milestones
    due = on_time + len(late)
    if not due:
        return None, "no milestone due yet"
    value = _points(Decimal(on_time) * 100 / due)
    return value, (
        f"{on_time} of {_plural(due, 'due milestone')} delivered by the due date: "
        f"{on_time} / {due} × 100 = {value}"
    )


def _assessment(inputs: RatingInputs, today: date) -> tuple[Decimal | None, str]:
    grade = inputs.assessment_grade
    if isinstance(grade, CurrentGrade):
        # The stored flag was computed on some day; the rating day is the one that matters.
        if grade.expired or grade.expires_on <= today:
            return None, (
                f"assessment grade {grade.label} expired on {grade.expires_on.isoformat()}"
            )
        if grade.awarded_on > today:
            return None, f"assessment grade {grade.label} is not awarded until {grade.awarded_on}"
        grade = grade.grade
    if grade is None:
        return None, "no current assessment grade"
    value = _points(ASSESSMENT_GRADE_POINTS[grade])
    return value, f"assessment grade {ASSESSMENT_GRADES[grade]} = {value}"


def _all_entries(inputs: RatingInputs) -> list[CreditListEntry]:
    entries = set(inputs.past_list_entries) | set(inputs.active_list_entries)
    return sorted(entries, key=entry_sort_key)


def _past_entries(inputs: RatingInputs, today: date) -> list[CreditListEntry]:
    since = add_years(today, -LOOKBACK_YEARS)
    return [
        e
        for e in _all_entries(inputs)
        if e.removed_on is not None and e.removed_on <= today and e.listed_on > since
    ]


def _has_history(inputs: RatingInputs, today: date) -> bool:
    return bool(
        any(e.accepted_on <= today for e in inputs.evaluations)
        or inputs.on_time_milestones
        or any(m.due_date <= today for m in inputs.late_milestones)
        or any(e.listed_on <= today for e in _all_entries(inputs))
        or inputs.poor_grade_count
        or inputs.terminations_for_cause
    )


def _conduct(inputs: RatingInputs, today: date) -> tuple[Decimal | None, str]:
    if not _has_history(inputs, today):
        # A vendor with no record has not behaved well; it has not behaved at all.
        return None, "no history: no evaluation, due milestone or credit-list entry"
    past = _past_entries(inputs, today)
    raw = (
        Decimal(100)
        - POOR_GRADE_PENALTY * inputs.poor_grade_count
        - TERMINATION_PENALTY * inputs.terminations_for_cause
        - PAST_LIST_ENTRY_PENALTY * len(past)
    )
    value = _points(max(raw, Decimal(0)))
    kinds: dict[str, int] = {}
    for entry in past:
        kinds[entry.list] = kinds.get(entry.list, 0) + 1
    by_kind = ", ".join(f"{kind} ×{n}" for kind, n in sorted(kinds.items()))
    by_kind = f" ({by_kind})" if by_kind else ""
    floored = f" = {_canonical(raw)}, floored at 0" if raw < 0 else ""
    return value, (
        f"100 − 15 × {_plural(inputs.poor_grade_count, 'poor grade')} "
        f"− 25 × {_plural(inputs.terminations_for_cause, 'termination')} for cause "
        f"− 10 × {_plural(len(past), 'past list entry', 'past list entries')}{by_kind}"
        f"{floored} = {value}"
    )


_COMPONENT_RULES = {
    "performance": _performance,
    "delivery": _delivery,
    "assessment": _assessment,
    "conduct": _conduct,
}


def rate_vendor(inputs: RatingInputs, today: date) -> Rating:
    """The vendor's credit rating on `today` under `RULES_VERSION` (docs/credit-rating.md).

    score = Σ(base weight × component) / Σ(base weight) over the components present, which
    is the weighted sum with the present weights scaled to sum to 1; components and score are
    rounded half-up to two decimals. With no performance and no delivery there is no track
    record: the rating is provisional, without score or grade. An active credit-list entry
    makes the vendor ineligible whatever the score.
    """
    with localcontext(prec=_PRECISION):
        values = {name: rule(inputs, today) for name, rule in _COMPONENT_RULES.items()}
        present = [name for name, (value, _) in values.items() if value is not None]
        provisional = values["performance"][0] is None and values["delivery"][0] is None
        present_weight = sum((COMPONENT_BASE_WEIGHTS[n] for n in present), Decimal(0))

        components = []
        for name, (value, explanation) in values.items():
            base = COMPONENT_BASE_WEIGHTS[name]
            used = value is not None and not provisional
            effective = (
                (base / present_weight).quantize(_WEIGHT_DISPLAY, ROUND_HALF_UP)
                if used
                else Decimal("0.0000")
            )
            components.append(
                RatingComponent(
                    name=name,
                    value=value,
                    base_weight=base,
                    effective_weight=effective,
                    present=value is not None,
                    explanation=explanation,
                )
            )

        score = grade = None
        if not provisional:
            # Dividing once at the end keeps the arithmetic exact until the single rounding.
            weighted = sum((COMPONENT_BASE_WEIGHTS[n] * values[n][0] for n in present), Decimal(0))
            score = _points(weighted / present_weight)
            grade = credit_grade_for_score(score)

    blocking = tuple(active_entries(_all_entries(inputs), today))
    return Rating(
        score=score,
        grade=grade,
        provisional=provisional,
        eligible=not blocking,
        components=tuple(components),
        rules_version=RULES_VERSION,
        inputs=inputs,
        rated_on=today,
        blocking_entries=blocking,
    )


def _json(value: Any) -> str:
    """Canonical JSON: sorted keys, no spaces, Chinese as itself (what `json.dumps` gives with
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, an order of magnitude faster)."""
    return msgspec.json.encode(value, order="sorted").decode()


def _fingerprint(inputs_json: str) -> str:
    # The canonical JSON of {"inputs": …, "rules_version": …}, spliced from the inputs' own
    # canonical JSON (keys in sorted order) so a batch serialises the inputs only once.
    return hashlib.sha256(f'{{"inputs":{inputs_json},"rules_version":{_json(RULES_VERSION)}}}'.encode()).hexdigest()


def inputs_fingerprint(inputs: RatingInputs) -> str:
    """sha256 of the canonical JSON of the inputs and `RULES_VERSION`.

    Equal fingerprints mean the rating would only differ through the passage of time (the
    3-year window and the recency bands move with `today`), so a caller that re-rates daily
    compares the fingerprint and the rating day.
    """
    return _fingerprint(_json(inputs.as_dict()))


# --- rating many vendors for storage -----------------------------------------------------


@dataclass(frozen=True)
class VendorFacts:
    """What the database knows of one vendor, as plain values (cheap to send to a worker)."""

    vendor_id: Any
    grades: tuple[tuple[int, date], ...]
    entries: tuple[tuple[str, date, date | None, str], ...]
    evaluations: tuple[tuple[Decimal, Decimal, date, str], ...] = ()
    on_time_milestones: int = 0
    late_milestones: tuple[tuple[date, date | None], ...] = ()
    terminations_for_cause: int = 0


def inputs_from_facts(facts: VendorFacts, today: date) -> RatingInputs:
    """The rating's inputs on `today`: valid grade only, entries split into active and past."""
    grades = [AssessmentGradeRecord(g, on) for g, on in facts.grades]
    entries = [CreditListEntry(kind, listed, removed, reason) for kind, listed, removed, reason in facts.entries]
    current = current_assessment_grade(grades, today)
    evaluations = tuple(AcceptedEvaluation(s, a, on, g) for s, a, on, g in facts.evaluations)
    return RatingInputs(
        evaluations=evaluations,
        on_time_milestones=facts.on_time_milestones,
        late_milestones=tuple(DueMilestone(due, delivered) for due, delivered in facts.late_milestones),
        assessment_grade=current.grade if current and not current.expired else None,
        poor_grade_count=sum(1 for e in evaluations if e.grade == "poor"),
        terminations_for_cause=facts.terminations_for_cause,
        past_list_entries=tuple(e for e in entries if e.removed_on is not None and e.removed_on <= today),
        active_list_entries=tuple(active_entries(entries, today)),
    )


def rate_for_storage(batch: list[VendorFacts], today: date) -> list[tuple[Any, ...]]:
    """Rate a batch and serialise each rating once: (vendor_id, score, grade, provisional,
    eligible, rules_version, fingerprint, inputs_json, result_json). Runs in worker processes."""
    stored = []
    for facts in batch:
        inputs = inputs_from_facts(facts, today)
        rating = rate_vendor(inputs, today)
        inputs_json = _json(inputs.as_dict())
        stored.append(
            (facts.vendor_id, rating.score, rating.grade, rating.provisional, rating.eligible,
             rating.rules_version, _fingerprint(inputs_json), inputs_json, _json(rating.result_dict()))
        )
    return stored
