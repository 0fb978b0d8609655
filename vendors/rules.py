"""Vendor rules: who may bid.

- the unified social credit code (统一社会信用代码, GB 32100-2015): validation with the exact
  reason a code is wrong, its check character, and the vendor type it encodes;
- civil-affairs assessment grades (民政部 社会组织评估等级, 1A–5A, valid 5 years);
- credit lists (信用名单) and which entries are active on a day;
- eligibility to bid (政府购买服务管理办法 Art. 7, 政府采购法 Art. 22, 财库〔2016〕125号).

The credit rating (信用评价), which reads grades and list entries, is `vendors.rating`.

Pure: no I/O, no clock (callers pass `today`), no project imports but `govbuy.rules` and
`govbuy.uscc`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from govbuy.rules import RuleViolation, conflict
from govbuy.uscc import (  # noqa: F401  (re-exported: the vendors domain's view of the code)
    USCC_ALPHABET,
    USCC_LENGTH,
    USCC_WEIGHTS,
    make_uscc,
    normalise_uscc,
    uscc_check_character,
    validate_uscc,
)

if TYPE_CHECKING:
    from vendors.rating import Rating

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
def add_years(day: date, years: int) -> date:
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


def check_grade_number(grade: Any, field: str = "grade") -> int:
    if isinstance(grade, bool) or not isinstance(grade, int) or grade not in ASSESSMENT_GRADES:
        detail = f"assessment grade must be an integer from 1 to 5; got {grade!r}"
        raise RuleViolation(
            "invalid_assessment_grade", detail, errors=[{"field": field, "message": detail}]
        )
    return grade


def assessment_grade_expires_on(awarded_on: date) -> date:
    """The first day on which a grade awarded on `awarded_on` is no longer valid."""
    return add_years(awarded_on, ASSESSMENT_GRADE_VALIDITY_YEARS)


@dataclass(frozen=True)
class AssessmentGradeRecord:
    """One grade the civil-affairs department awarded; `grade` 1..5 (a "3A" string is accepted)."""

    grade: int
    awarded_on: date

    def __post_init__(self) -> None:
        grade = parse_assessment_grade(self.grade) if isinstance(self.grade, str) else self.grade
        object.__setattr__(self, "grade", check_grade_number(grade))


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
            grade=check_grade_number(data["grade"]),
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


def entry_sort_key(entry: CreditListEntry) -> tuple[Any, ...]:
    return (entry.listed_on, entry.list, entry.removed_on or date.max, entry.reason)


def active_entries(entries: Iterable[CreditListEntry], today: date) -> list[CreditListEntry]:
    """Entries in force on `today`: listed on or before it and not removed by it."""
    return sorted((e for e in entries if e.is_active(today)), key=entry_sort_key)


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


# Which rule decided a stored eligibility check. Results stored before a version keep the rule
# they were decided by: a bid is never re-judged by a later rule except at its own opening.
#   1 — a tender's minimum assessment grade barred unassessed or lower-graded vendors, and a
#       minimum credit grade barred vendors with no grade yet (provisional);
#   2 — 政府购买服务管理办法 (财政部令第102号) Arts. 6–8: an assessment grade is a priority, never a
#       bar (民政部令第39号 Art. 30: 3A and above "优先"; enterprises are never assessed and may
#       bid, Art. 6); a minimum credit grade bars rated vendors below it, never a provisional one
#       (实施条例 Art. 20: no history is no fault); the organisations of Art. 8 may not bid.
ELIGIBILITY_RULE_VERSION = 2

# 102号令 Art. 8: 公益一类事业单位、使用事业编制且由财政拨款保障的群团组织 may not be suppliers
# of government-purchased services. The admin records the attribute with its source.
LEGAL_EXCLUSIONS = {
    "public_welfare_institution_class_1": "公益一类事业单位",
    "budget_funded_mass_organisation": "使用事业编制且由财政拨款保障的群团组织",
}


@dataclass(frozen=True)
class LegalExclusion:
    """A recorded 102号令 Art. 8 exclusion of an organisation."""

    category: str
    source: str


def check_exclusion_category(category: str) -> str:
    if category not in LEGAL_EXCLUSIONS:
        raise RuleViolation(
            "invalid_exclusion_category",
            f"{category!r} is not an exclusion of 102号令 Art. 8",
            errors=[{"field": "category", "message": "one of " + ", ".join(LEGAL_EXCLUSIONS)}],
        )
    return category


@dataclass(frozen=True)
class EligibilityResult:
    """The outcome of one eligibility check, stored with the bid it was made for.

    The requirements checked against and the rule version are kept with the outcome so that a
    stored result explains itself even after the tender's requirements or the rule change.
    `min_assessment_grade` is only ever set on results of rule version 1.
    """

    eligible: bool
    reasons: tuple[EligibilityReason, ...] = ()
    min_assessment_grade: int | None = None
    min_credit_grade: str | None = None
    rule_version: int = ELIGIBILITY_RULE_VERSION

    @property
    def codes(self) -> list[str]:
        return [r.code for r in self.reasons]

    @property
    def excluded_by_law(self) -> bool:
        return "excluded_by_law" in self.codes

    def as_dict(self) -> dict[str, Any]:
        return {
            "eligible": self.eligible,
            "reasons": [r.as_dict() for r in self.reasons],
            "min_assessment_grade": self.min_assessment_grade,
            "min_credit_grade": self.min_credit_grade,
            "rule_version": self.rule_version,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EligibilityResult:
        return cls(
            eligible=bool(data["eligible"]),
            reasons=tuple(EligibilityReason(r["code"], r["detail"]) for r in data["reasons"]),
            min_assessment_grade=data.get("min_assessment_grade"),
            min_credit_grade=data.get("min_credit_grade"),
            rule_version=int(data.get("rule_version") or 1),
        )


def check_eligibility(
    *,
    active_list_entries: Iterable[CreditListEntry],
    credit_grade: str | Rating | None,
    min_credit_grade: str | None,
    exclusion: LegalExclusion | None = None,
) -> EligibilityResult:
    """Whether a vendor may bid, with every reason it may not (not just the first), by rule
    version 2 (`ELIGIBILITY_RULE_VERSION`).

    Only what the law allows is checked: no active credit-list entry (财库〔2016〕125号), no
    exclusion of 102号令 Art. 8, and the tender's optional minimum credit grade, which a vendor
    with no grade yet (never rated, or provisional) always meets. Anything else (region,
    ownership, size, assessment grade) would be 差别待遇 (政府采购法 Art. 22, 实施条例 Art. 20)
    and is deliberately not an input. `credit_grade` may be the vendor's `Rating`.
    """
    if min_credit_grade is not None:
        _check_credit_grade(min_credit_grade, "min_credit_grade")
    if not isinstance(credit_grade, str | None):
        credit_grade = getattr(credit_grade, "grade", credit_grade)  # a Rating
    if credit_grade is not None:
        _check_credit_grade(credit_grade, "credit_grade")

    reasons: list[EligibilityReason] = []
    if exclusion is not None:
        reasons.append(
            EligibilityReason(
                "excluded_by_law",
                f"{LEGAL_EXCLUSIONS.get(exclusion.category, exclusion.category)} may not supply government-purchased "
                f"services (102号令 Art. 8); recorded from {exclusion.source}",
            )
        )
    for entry in sorted(active_list_entries, key=entry_sort_key):
        reasons.append(
            EligibilityReason(
                "credit_list_entry_active",
                f"listed on {entry.list} ({entry.label}) since {entry.listed_on.isoformat()}"
                + (f": {entry.reason}" if entry.reason else ""),
            )
        )
    if (
        min_credit_grade is not None
        and credit_grade is not None
        and CREDIT_GRADES.index(credit_grade) > CREDIT_GRADES.index(min_credit_grade)
    ):
        reasons.append(
            EligibilityReason(
                "credit_grade_below_minimum",
                f"credit grade {credit_grade} is below the required {min_credit_grade}",
            )
        )
    return EligibilityResult(eligible=not reasons, reasons=tuple(reasons), min_credit_grade=min_credit_grade)
