"""Schemas of the vendors domain."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

from pydantic import Field

from govbuy.schemas import Input, Output

CreditList = Literal[
    "abnormal", "serious_dishonesty", "dishonest_judgment_debtor", "major_tax_violation", "procurement_blacklist"
]


class AssessmentGradeCreate(Input):
    grade: str = Field(min_length=2, max_length=8, description="1A–5A (民政部 社会组织评估等级)")
    awarded_on: date
    note: str = Field(default="", max_length=1000)


class AssessmentGradeRead(Output):
    id: UUID
    vendor_id: UUID
    grade: str
    awarded_on: date
    expires_on: date
    note: str
    recorded_at: datetime


class CurrentGradeRead(Output):
    grade: str
    awarded_on: date
    expires_on: date
    expired: bool


class CreditListEntryCreate(Input):
    list: CreditList
    reason: str = Field(min_length=1, max_length=2000)
    listed_on: date


class CreditListEntryRemove(Input):
    removed_on: date
    reason: str = Field(min_length=1, max_length=2000)


class CreditListEntryRead(Output):
    id: UUID
    vendor_id: UUID
    list: CreditList
    list_label: str
    reason: str
    listed_on: date
    removed_on: date | None
    removal_reason: str | None
    active: bool
    version: int


class LegalExclusionWrite(Input):
    """Record that an organisation is excluded by 102号令 Art. 8, and from what source (the
    编制 or 分类 document, the register consulted)."""

    category: Literal["public_welfare_institution_class_1", "budget_funded_mass_organisation"] = Field(
        description="公益一类事业单位, or a 群团组织 on 事业编制 funded by the budget"
    )
    source: str = Field(min_length=1, max_length=2000)


class LegalExclusionLift(Input):
    reason: str = Field(min_length=1, max_length=2000)


class LegalExclusionRead(Output):
    category: str
    category_label: str
    source: str
    recorded_at: datetime


class EligibilityReasonRead(Output):
    code: str
    detail: str


class RatingComponentRead(Output):
    name: str
    value: Decimal | None
    base_weight: Decimal
    effective_weight: Decimal
    present: bool
    explanation: str


class CreditRatingRead(Output):
    vendor_id: UUID
    rated_on: date
    score: Decimal | None
    grade: Literal["A", "B", "C", "D"] | None
    provisional: bool
    eligible: bool
    rules_version: str
    components: list[RatingComponentRead]
    blocking_entries: list[dict[str, Any]]
    inputs: dict[str, Any]
    created_at: datetime


class CreditRatingSummary(Output):
    score: Decimal | None
    grade: Literal["A", "B", "C", "D"] | None
    provisional: bool
    eligible: bool
    rules_version: str
    rated_on: date


class VendorRead(Output):
    id: UUID
    name: str
    uscc: str | None
    vendor_type: str
    vendor_type_label: str
    region_code: str | None
    assessment_grade: CurrentGradeRead | None
    active_credit_list_entries: list[CreditListEntryRead]
    legal_exclusion: LegalExclusionRead | None = Field(description="102号令 Art. 8: may not supply purchased services")
    may_bid_today: bool
    bid_blockers: list[EligibilityReasonRead]
    credit_rating: CreditRatingSummary | None


class VendorSummary(Output):
    id: UUID
    name: str
    uscc: str | None
    vendor_type: str
    region_code: str | None
    credit_grade: Literal["A", "B", "C", "D"] | None
    listed: bool = Field(description="has an active credit-list entry today")
