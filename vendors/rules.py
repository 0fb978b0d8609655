"""Vendor rules: who may bid and how far a vendor can be trusted.

- the unified social credit code (统一社会信用代码, GB 32100-2015): validation with the exact
  reason a code is wrong, its check character, and the vendor type it encodes;
- civil-affairs assessment grades (民政部 社会组织评估等级, 1A–5A, valid 5 years);
- credit lists (信用名单) and which entries are active on a day;
- eligibility to bid (政府购买服务管理办法 Art. 7, 政府采购法 Art. 22, 财库〔2016〕125号);
- the credit rating (信用评价): a pure, versioned function of recorded facts, so that any stored
  rating can be recomputed and explained from its stored inputs. docs/credit-rating.md states
  the formula for people; this module is the formula for machines and the two must agree.

Pure: no I/O, no clock (callers pass `today`), no project imports but `govbuy.rules`.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Any

import msgspec

from govbuy.rules import RuleViolation, as_decimal, conflict, to_fen
from govbuy.uscc import (  # noqa: F401  (re-exported: the vendors domain's view of the code)
    USCC_ALPHABET,
    USCC_LENGTH,
    USCC_WEIGHTS,
    make_uscc,
    normalise_uscc,
    uscc_check_character,
    validate_uscc,
)

# --- unified social credit code: the vendor type it encodes ------------------------------

# The first two characters are the registration authority and the organisation type.
USCC_VENDOR_TYPES = {
    "51": "social_group",
    "52": "private_non_enterprise",
    "53": "foundation",
    "91": "enterprise",
    "12": "public_institution",
}
VENDOR_TYPE_LABELS = {
    "social_group": "社会团体",
    "private_non_enterprise": "民办非企业单位/社会服务机构",
    "foundation": "基金会",
    "enterprise": "企业",
    "public_institution": "事业单位",
    "other": "其他",
}


def vendor_type(uscc: str) -> str:
    """The vendor type encoded in the first two characters of a (validated) USCC.

    One of `VENDOR_TYPE_LABELS`' keys; codes of any other kind are "other" and kept as given.
    """
    return USCC_VENDOR_TYPES.get(normalise_uscc(uscc)[:2], "other")


# --- assessment grades (评估等级) -----------------------------------------------------------

ASSESSMENT_GRADES = {1: "1A", 2: "2A", 3: "3A", 4: "4A", 5: "5A"}
ASSESSMENT_GRADE_VALIDITY_YEARS = 5  # 社会组织评估管理办法 (民政部令第39号)


@lru_cache(maxsize=4096)  # a rating asks for the same few window bounds again and again
def _add_years(day: date, years: int) -> date:
    """The same month and day `years` later (or earlier); 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def _invalid_assessment_grade(value: Any) -> RuleViolation:
    detail = f"assessment grade must be one of 1A, 2A, 3A, 4A, 5A; got {value!r}"
    return RuleViolation(
        "invalid_assessment_grade", detail, errors=[{"field": "grade", "message": detail}]
    )


def parse_assessment_grade(s: str) -> int:
    """1..5 for "1A".."5A" (also "AAA" and "3A级", as grades are written on certificates)."""
    if not isinstance(s, str):
        raise _invalid_assessment_grade(s)
    text = s.strip().upper().removesuffix("级")
    if len(text) == 2 and text[0] in "12345" and text[1] == "A":
        return int(text[0])
    if 1 <= len(text) <= 5 and set(text) == {"A"}:
        return len(text)
    raise _invalid_assessment_grade(s)


def _check_grade_number(grade: Any, field: str = "grade") -> int:
    if isinstance(grade, bool) or not isinstance(grade, int) or grade not in ASSESSMENT_GRADES:
        detail = f"assessment grade must be an integer from 1 to 5; got {grade!r}"
        raise RuleViolation(
            "invalid_assessment_grade", detail, errors=[{"field": field, "message": detail}]
        )
    return grade


def assessment_grade_expires_on(awarded_on: date) -> date:
    """The first day on which a grade awarded on `awarded_on` is no longer valid."""
    return _add_years(awarded_on, ASSESSMENT_GRADE_VALIDITY_YEARS)


@dataclass(frozen=True)
class AssessmentGradeRecord:
    """One grade the civil-affairs department awarded; `grade` 1..5 (a "3A" string is accepted)."""

    grade: int
    awarded_on: date

    def __post_init__(self) -> None:
        grade = parse_assessment_grade(self.grade) if isinstance(self.grade, str) else self.grade
        object.__setattr__(self, "grade", _check_grade_number(grade))


@dataclass(frozen=True)
class CurrentGrade:
    """The grade a vendor holds on a day: its latest award, and whether that has expired."""

    grade: int
    awarded_on: date
    expires_on: date
    expired: bool

    @property
    def label(self) -> str:
        return ASSESSMENT_GRADES[self.grade]

    def as_dict(self) -> dict[str, Any]:
        return {
            "grade": self.grade,
            "label": self.label,
            "awarded_on": self.awarded_on.isoformat(),
            "expires_on": self.expires_on.isoformat(),
            "expired": self.expired,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CurrentGrade:
        return cls(
            grade=_check_grade_number(data["grade"]),
            awarded_on=date.fromisoformat(data["awarded_on"]),
            expires_on=date.fromisoformat(data["expires_on"]),
            expired=bool(data["expired"]),
        )


def current_assessment_grade(
    grades: Iterable[AssessmentGradeRecord], today: date
) -> CurrentGrade | None:
    """The latest grade awarded on or before `today`, expired or not; None if never graded.

    A later award replaces an earlier one even when it is lower: a reassessment is the current
    word of the department. Two awards on one day can only be a data-entry slip; the lower one
    is taken so that an ambiguity never raises a vendor's standing.
    """
    awarded = [g for g in grades if g.awarded_on <= today]
    if not awarded:
        return None
    latest = max(awarded, key=lambda g: (g.awarded_on, -g.grade))
    expires_on = assessment_grade_expires_on(latest.awarded_on)
    return CurrentGrade(
        grade=latest.grade,
        awarded_on=latest.awarded_on,
        expires_on=expires_on,
        expired=today >= expires_on,
    )


# --- credit lists (信用名单) ----------------------------------------------------------------

CREDIT_LIST_KINDS = {
    "abnormal": "活动异常名录",
    "serious_dishonesty": "严重违法失信名单",
    "dishonest_judgment_debtor": "失信被执行人",
    "major_tax_violation": "重大税收违法失信主体",
    "procurement_blacklist": "政府采购严重违法失信行为记录名单",
}


def parse_credit_list_kind(s: str) -> str:
    """The list kind, or 422 `invalid_credit_list` naming the kinds that exist."""
    if isinstance(s, str) and s.strip() in CREDIT_LIST_KINDS:
        return s.strip()
    detail = f"credit list must be one of {', '.join(CREDIT_LIST_KINDS)}; got {s!r}"
    raise RuleViolation(
        "invalid_credit_list", detail, errors=[{"field": "list", "message": detail}]
    )


@dataclass(frozen=True)
class CreditListEntry:
    """A vendor's entry on a credit list, from `listed_on` until `removed_on` (exclusive)."""

    list: str
    listed_on: date
    removed_on: date | None = None
    reason: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "list", parse_credit_list_kind(self.list))
        if self.removed_on is not None and self.removed_on < self.listed_on:
            raise _removal_before_listing(self.listed_on, self.removed_on)

    @property
    def label(self) -> str:
        return CREDIT_LIST_KINDS[self.list]

    def is_active(self, today: date) -> bool:
        return self.listed_on <= today and (self.removed_on is None or self.removed_on > today)

    def as_dict(self) -> dict[str, Any]:
        return {
            "list": self.list,
            "label": self.label,
            "listed_on": self.listed_on.isoformat(),
            "removed_on": self.removed_on.isoformat() if self.removed_on else None,
            "reason": self.reason,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CreditListEntry:
        removed_on = data.get("removed_on")
        return cls(
            list=data["list"],
            listed_on=date.fromisoformat(data["listed_on"]),
            removed_on=date.fromisoformat(removed_on) if removed_on else None,
            reason=data.get("reason", ""),
        )


def _removal_before_listing(listed_on: date, removed_on: date) -> RuleViolation:
    detail = f"removed_on {removed_on.isoformat()} is before listed_on {listed_on.isoformat()}"
    return RuleViolation(
        "invalid_removal_date", detail, errors=[{"field": "removed_on", "message": detail}]
    )


def _entry_sort_key(entry: CreditListEntry) -> tuple[Any, ...]:
    return (entry.listed_on, entry.list, entry.removed_on or date.max, entry.reason)


def active_entries(entries: Iterable[CreditListEntry], today: date) -> list[CreditListEntry]:
    """Entries in force on `today`: listed on or before it and not removed by it."""
    return sorted((e for e in entries if e.is_active(today)), key=_entry_sort_key)


def validate_removal(entry: CreditListEntry, removed_on: date) -> CreditListEntry:
    """The entry as removed on `removed_on`; an entry is removed once, never before its listing."""
    if entry.removed_on is not None:
        raise conflict(
            "credit_list_entry_already_removed",
            f"this entry was already removed on {entry.removed_on.isoformat()}",
        )
    if removed_on < entry.listed_on:
        raise _removal_before_listing(entry.listed_on, removed_on)
    return replace(entry, removed_on=removed_on)


# --- eligibility to bid (投标资格) ----------------------------------------------------------

CREDIT_GRADES = ("A", "B", "C", "D")  # best first


def _check_credit_grade(value: Any, field: str) -> str:
    if value not in CREDIT_GRADES:
        detail = f"credit grade must be one of A, B, C, D; got {value!r}"
        raise RuleViolation(
            "invalid_credit_grade", detail, errors=[{"field": field, "message": detail}]
        )
    return value


@dataclass(frozen=True)
class EligibilityReason:
    """One reason a vendor may not bid: a stable `code` and a sentence for people."""

    code: str
    detail: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "detail": self.detail}


@dataclass(frozen=True)
class EligibilityResult:
    """The outcome of one eligibility check, stored with the bid it was made for.

    The requirements checked against are kept with the outcome so that a stored result explains
    itself even after the tender's requirements are edited.
    """

    eligible: bool
    reasons: tuple[EligibilityReason, ...] = ()
    min_assessment_grade: int | None = None
    min_credit_grade: str | None = None

    @property
    def codes(self) -> list[str]:
        return [r.code for r in self.reasons]

    def as_dict(self) -> dict[str, Any]:
        return {
            "eligible": self.eligible,
            "reasons": [r.as_dict() for r in self.reasons],
            "min_assessment_grade": self.min_assessment_grade,
            "min_credit_grade": self.min_credit_grade,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EligibilityResult:
        return cls(
            eligible=bool(data["eligible"]),
            reasons=tuple(EligibilityReason(r["code"], r["detail"]) for r in data["reasons"]),
            min_assessment_grade=data.get("min_assessment_grade"),
            min_credit_grade=data.get("min_credit_grade"),
        )


def check_eligibility(
    *,
    active_list_entries: Iterable[CreditListEntry],
    current_grade: CurrentGrade | None,
    credit_grade: str | Rating | None,
    min_assessment_grade: int | None,
    min_credit_grade: str | None,
) -> EligibilityResult:
    """Whether a vendor may bid, with every reason it may not (not just the first).

    Only what the law allows is checked: no active credit-list entry, and the tender's optional
    minimum assessment and credit grades. Anything else (region, ownership) would be
    差别待遇 and is deliberately not an input. `credit_grade` may be the vendor's `Rating`; a
    provisional rating has no grade, which counts as missing when a minimum is required.
    """
    if min_assessment_grade is not None:
        _check_grade_number(min_assessment_grade, "min_assessment_grade")
    if min_credit_grade is not None:
        _check_credit_grade(min_credit_grade, "min_credit_grade")
    if isinstance(credit_grade, Rating):
        credit_grade = credit_grade.grade
    if credit_grade is not None:
        _check_credit_grade(credit_grade, "credit_grade")

    reasons: list[EligibilityReason] = []
    for entry in sorted(active_list_entries, key=_entry_sort_key):
        reasons.append(
            EligibilityReason(
                "credit_list_entry_active",
                f"listed on {entry.list} ({entry.label}) since {entry.listed_on.isoformat()}"
                + (f": {entry.reason}" if entry.reason else ""),
            )
        )

    if min_assessment_grade is not None:
        required = ASSESSMENT_GRADES[min_assessment_grade]
        if current_grade is None:
            reasons.append(
                EligibilityReason(
                    "assessment_grade_missing",
                    f"the tender requires assessment grade {required} or above; "
                    "the vendor has none",
                )
            )
        elif current_grade.expired:
            reasons.append(
                EligibilityReason(
                    "assessment_grade_expired",
                    f"assessment grade {current_grade.label} expired on "
                    f"{current_grade.expires_on.isoformat()}; the tender requires {required} "
                    "or above",
                )
            )
        elif current_grade.grade < min_assessment_grade:
            reasons.append(
                EligibilityReason(
                    "assessment_grade_below_minimum",
                    f"assessment grade {current_grade.label} is below the required {required}",
                )
            )

    if min_credit_grade is not None:
        if credit_grade is None:
            reasons.append(
                EligibilityReason(
                    "credit_grade_missing",
                    f"the tender requires credit grade {min_credit_grade} or better; the vendor "
                    "has no credit grade (no rating, or a provisional one)",
                )
            )
        elif CREDIT_GRADES.index(credit_grade) > CREDIT_GRADES.index(min_credit_grade):
            reasons.append(
                EligibilityReason(
                    "credit_grade_below_minimum",
                    f"credit grade {credit_grade} is below the required {min_credit_grade}",
                )
            )

    return EligibilityResult(
        eligible=not reasons,
        reasons=tuple(reasons),
        min_assessment_grade=min_assessment_grade,
        min_credit_grade=min_credit_grade,
    )


# --- credit rating (信用评价) ---------------------------------------------------------------

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
    return _add_years(today, -LOOKBACK_YEARS)
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
            grade = _check_grade_number(grade, "assessment_grade")
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
        set_(self, "past_list_entries", tuple(sorted(past, key=_entry_sort_key)))
        set_(self, "active_list_entries", tuple(sorted(active, key=_entry_sort_key)))

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
        if accepted_on > _add_years(today, -years):
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
    since = _add_years(today, -LOOKBACK_YEARS).isoformat()
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
    return sorted(entries, key=_entry_sort_key)


def _past_entries(inputs: RatingInputs, today: date) -> list[CreditListEntry]:
    since = _add_years(today, -LOOKBACK_YEARS)
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
