"""Request and response schemas of the evaluation domain: evaluator affiliations, indicator
templates, evaluations, score sheets and appeals. Scores are decimals with at most two places
(judged by `evaluation.rules`, so that a bad score gets its own code)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field

from govbuy.schemas import BeijingTime, Input, Output

CategoryName = Literal["input", "process", "output", "outcome", "satisfaction"]
EvaluationStatusName = Literal["commissioned", "submitted", "accepted", "returned"]
GradeName = Literal["excellent", "good", "fair", "poor"]
AppealStatusName = Literal["pending", "upheld", "dismissed"]
Points = Annotated[Decimal, Field(max_digits=12, allow_inf_nan=False)]


# --- evaluators and affiliations -------------------------------------------------------------


class AffiliationsWrite(Input):
    vendor_ids: list[UUID] = Field(max_length=500, description="vendors the evaluator is affiliated with (回避)")
    note: str = Field(default="", max_length=2000)


class AffiliationsRead(Output):
    evaluator_org_id: UUID
    vendor_ids: list[UUID]
    note: str
    declared_at: datetime | None


class EvaluatorRead(Output):
    id: UUID
    name: str
    uscc: str | None
    region_code: str | None
    affiliated_vendor_count: int


# --- indicator templates ---------------------------------------------------------------------


TARGET_BINDING = (
    "the performance target (绩效目标) this indicator is scored against, by the target's `indicator` name "
    "(e.g. 服务人次): only output 产出 and outcome 效益 indicators, one indicator per target"
)


class IndicatorIn(Input):
    code: str = Field(min_length=1, max_length=20)
    name: str = Field(min_length=1, max_length=100)
    category: str = Field(description="input 投入 | process 过程 | output 产出 | outcome 效益 | satisfaction 满意度")
    weight: Points
    target: str | None = Field(
        default=None, description=TARGET_BINDING + "; 1–100 characters (`invalid_template` at indicators[i].target)"
    )


class IndicatorRead(Output):
    code: str
    name: str
    category: CategoryName
    category_label: str
    weight: Decimal
    target: str | None = Field(default=None, description=TARGET_BINDING + "; null: not bound")


class TemplateCreate(Input):
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)
    indicators: list[IndicatorIn] = Field(min_length=1, max_length=100)


class TemplateRead(Output):
    id: UUID
    name: str
    description: str
    is_default: bool
    indicators: list[IndicatorRead]
    category_weights: dict[str, Decimal]
    organisation_id: UUID | None
    created_at: datetime
    version: int


# --- evaluations -----------------------------------------------------------------------------


class EvaluationCreate(Input):
    contract_id: UUID
    milestone_id: UUID
    evaluator_org_id: UUID
    template_id: UUID | None = Field(default=None, description="default template when absent")
    due_date: date


class SurveyIn(Input):
    responses: int = Field(description="beneficiaries who answered the satisfaction survey")
    satisfied: int = Field(description="of whom satisfied")


class ScoresWrite(Input):
    scores: dict[str, Points] = Field(default_factory=dict, description="indicator code → score (0 ≤ score ≤ weight)")
    target_results: dict[str, Points] | None = Field(
        default=None, description="the value the evaluator verified for each performance target (by indicator)"
    )
    survey: SurveyIn | None = Field(default=None, description="scores every satisfaction indicator")
    findings: str | None = Field(default=None, max_length=20000)
    evidence_document_ids: list[str] | None = Field(default=None, max_length=50)


class SurveyRead(Output):
    responses: int
    satisfied: int


class EvaluationTargetRead(Output):
    """A performance target of the contract as this evaluation judges it (绩效目标)."""

    indicator: str
    unit: str
    target: Decimal
    direction: Literal["at_least", "at_most"]
    reported: Decimal | None = Field(description="the vendor's figures, summed over the milestones up to this one")
    verified: Decimal | None = Field(description="what the evaluator verified")
    met: bool | None = Field(description="by the verified value, else the reported one; null: neither")


class SheetRowRead(Output):
    """One indicator of the evaluation's score sheet with the performance target it is bound to."""

    code: str
    name: str
    category: CategoryName
    category_label: str
    weight: Decimal
    score: Decimal | None = Field(description="null until scored")
    target: EvaluationTargetRead | None = Field(
        description="the bound performance target with its target, reported and verified values and whether it "
        "is met; null when the indicator is bound to nothing or to a target this contract does not state "
        "(a template serves many tenders)"
    )


class EvaluationRead(Output):
    id: UUID
    contract_id: UUID
    milestone_id: UUID
    bureau_id: UUID
    vendor_id: UUID
    evaluator_org_id: UUID
    template_id: UUID
    indicators: list[IndicatorRead]
    due_date: date
    overdue: bool = Field(description="not yet submitted and the due date has passed")
    status: EvaluationStatusName
    scores: dict[str, Decimal]
    survey: SurveyRead | None
    findings: str
    evidence_document_ids: list[str]
    targets: list[EvaluationTargetRead] = Field(default_factory=list)
    sheet: list[SheetRowRead] = Field(
        default_factory=list,
        description="the score sheet: each indicator in template order with its score and its bound target",
    )
    total_score: Decimal | None
    grade: GradeName | None
    grade_label: str | None
    payout_ratio: Decimal | None = Field(description="what the grade pays under the contract's payment rule")
    returned_reason: str | None
    commissioned_at: datetime
    submitted_at: datetime | None
    accepted_at: datetime | None
    appeal_deadline: BeijingTime | None = Field(
        description="end of the vendor's 5-working-day appeal window: an appeal is accepted until this "
        "instant, 24:00 Beijing time of its last working day"
    )
    appeal_last_day: date | None = Field(default=None, description="the last day on which the vendor may appeal (Asia/Shanghai)")
    time_zone: Literal["Asia/Shanghai"] = "Asia/Shanghai"
    calendar_warning: str | None = Field(default=None, description="set when the appeal window crossed a year with no official holiday schedule")
    supersedes_id: UUID | None = Field(description="the appealed evaluation this one re-evaluates")
    superseded_by_id: UUID | None = Field(description="the re-evaluation that replaced this one after an upheld appeal")
    superseded_at: datetime | None
    version: int


class EvaluationReturn(Input):
    reason: str = Field(min_length=1, max_length=5000)


# --- appeals ---------------------------------------------------------------------------------


class AppealCreate(Input):
    reason: str = Field(min_length=1, max_length=5000)


class AppealResolve(Input):
    outcome: Literal["upheld", "dismissed"]
    reply: str = Field(min_length=1, max_length=5000)
    new_evaluator_org_id: UUID | None = Field(default=None, description="required when upheld: who re-evaluates")
    due_date: date | None = Field(default=None, description="the re-evaluation's due date (default: 30 days on)")


class AppealRead(Output):
    id: UUID
    evaluation_id: UUID
    vendor_id: UUID
    reason: str
    status: AppealStatusName
    filed_at: datetime
    reply: str | None
    resolved_at: datetime | None
    reevaluation_id: UUID | None
    version: int
