"""Request and response schemas of procurement: tenders, questions, bids, panel and scores,
award and challenges.

Request bodies refuse unknown fields (`Input`), which is also how a tender is kept from setting
any eligibility restriction the law does not allow (差别待遇). Values whose rules have a named
error code (weights, percentages, terms, deadlines) are only typed here and judged by
`procurement.rules`, so that the client gets that code rather than a generic one.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import Field

from govbuy.schemas import BeijingTime, Input, Money, Output

MethodName = Literal[
    "public_tender",
    "invited_tender",
    "competitive_negotiation",
    "competitive_consultation",
    "inquiry",
    "single_source",
]
EvaluationMethodName = Literal["comprehensive", "lowest_price"]
TenderStatusName = Literal["draft", "published", "evaluating", "awarded", "contracted", "cancelled", "failed"]
AssessmentGradeLabel = Literal["1A", "2A", "3A", "4A", "5A"]
CreditGrade = Literal["A", "B", "C", "D"]
PositiveMoney = Annotated[Money, Field(gt=0)]
# Weights, percentages and scores: two decimals at most, judged by the rules.
Points = Annotated[Decimal, Field(max_digits=7, decimal_places=2)]

# --- tenders ---------------------------------------------------------------------------------


class CriterionIn(Input):
    name: str = Field(max_length=100)
    weight: Points


class MilestoneIn(Input):
    title: str = Field(max_length=200)
    percentage: Points
    due_offset_days: int = Field(le=36 * 31, description="days from the contract's start")


class PaymentBandIn(Input):
    min_score: Points
    max_score: Points
    ratio: Annotated[Decimal, Field(max_digits=5, decimal_places=4)]


class EligibilityIn(Input):
    """The only restrictions a tender may set; any other field is refused."""

    min_assessment_grade: AssessmentGradeLabel | None = None
    min_credit_grade: CreditGrade | None = None


class TenderCreate(Input):
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=20000)
    catalogue_item_id: UUID
    budget_line_id: UUID
    method: MethodName
    ceiling_amount: PositiveMoney = Field(description="最高限价, reserved on the budget line at publication")
    contract_months: int = Field(ge=0, le=1200)
    recurring: bool = False
    evaluation_method: EvaluationMethodName
    price_weight: Points | None = None
    criteria: list[CriterionIn] = Field(default_factory=list, max_length=50)
    eligibility: EligibilityIn = Field(default_factory=EligibilityIn)
    milestones: list[MilestoneIn] = Field(max_length=50)
    payment_rule: list[PaymentBandIn] | None = Field(default=None, max_length=20)
    bid_deadline: datetime
    invited_vendor_ids: list[UUID] | None = Field(default=None, max_length=200)


class TenderUpdate(Input):
    """Changes to a draft; fields left out keep their value."""

    title: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=20000)
    catalogue_item_id: UUID | None = None
    budget_line_id: UUID | None = None
    method: MethodName | None = None
    ceiling_amount: PositiveMoney | None = None
    contract_months: int | None = Field(default=None, ge=0, le=1200)
    recurring: bool | None = None
    evaluation_method: EvaluationMethodName | None = None
    price_weight: Points | None = None
    criteria: list[CriterionIn] | None = Field(default=None, max_length=50)
    eligibility: EligibilityIn | None = None
    milestones: list[MilestoneIn] | None = Field(default=None, max_length=50)
    payment_rule: list[PaymentBandIn] | None = Field(default=None, max_length=20)
    bid_deadline: datetime | None = None
    invited_vendor_ids: list[UUID] | None = Field(default=None, max_length=200)


class TenderCancel(Input):
    reason: str = Field(min_length=1, max_length=2000)


class CriterionRead(Output):
    name: str
    weight: Decimal


class MilestoneRead(Output):
    title: str
    percentage: Decimal
    due_offset_days: int


class PaymentBandRead(Output):
    min_score: Decimal
    max_score: Decimal
    ratio: Decimal


class EligibilityRead(Output):
    min_assessment_grade: AssessmentGradeLabel | None
    min_credit_grade: CreditGrade | None


class TenderRead(Output):
    id: UUID
    bureau_id: UUID
    bureau_name: str
    title: str
    description: str
    catalogue_item_id: UUID
    catalogue_item_code: str
    catalogue_item_name: str
    budget_line_id: UUID
    method: MethodName
    ceiling_amount: Money
    contract_months: int
    recurring: bool
    evaluation_method: EvaluationMethodName
    price_weight: Decimal | None
    criteria: list[CriterionRead]
    eligibility: EligibilityRead
    milestones: list[MilestoneRead]
    payment_rule: list[PaymentBandRead] | None = Field(description="None: the default payment rule applies")
    bid_deadline: BeijingTime
    minimum_bid_deadline: BeijingTime | None = Field(
        description="for a draft: the earliest deadline allowed if it were published now"
    )
    calendar_warning: str | None = Field(
        description="set when a working-day period was counted through a year with no recorded schedule"
    )
    status: TenderStatusName
    bids_sealed: bool = Field(description="true until the tender has been opened at its deadline")
    published_at: datetime | None
    opened_at: datetime | None
    failure_reason: str | None
    cancel_reason: str | None
    closed_at: datetime | None
    award_id: UUID | None
    standstill_until: BeijingTime | None
    invited_vendor_ids: list[UUID] | None = Field(
        description="shown to the bureau, admins and supervisors; None for others"
    )
    invited: bool | None = Field(description="for a vendor: whether it may bid on this invited/single-source tender")
    created_at: datetime
    updated_at: datetime
    version: int


# --- questions -------------------------------------------------------------------------------


class QuestionCreate(Input):
    question: str = Field(min_length=1, max_length=4000)


class AnswerCreate(Input):
    answer: str = Field(min_length=1, max_length=8000)


class QuestionRead(Output):
    """A question as published: never who asked it."""

    id: UUID
    tender_id: UUID
    question: str
    asked_at: datetime
    answer: str | None
    answered_at: datetime | None
    mine: bool = Field(description="whether the caller's organisation asked it")


# --- bids ------------------------------------------------------------------------------------


class BidCreate(Input):
    price: PositiveMoney
    proposal: str = Field(min_length=1, max_length=200_000)


class BidUpdate(Input):
    price: PositiveMoney | None = None
    proposal: str | None = Field(default=None, min_length=1, max_length=200_000)


class BidRead(Output):
    """A bid as the caller may see it: before the opening only its own vendor sees it at all;
    after it, other bidders see name and price (唱标) but never the proposal."""

    id: UUID
    tender_id: UUID
    vendor_id: UUID
    vendor_name: str
    status: Literal["submitted", "withdrawn", "valid", "invalid"]
    price: Money | None
    proposal: str | None
    first_submitted_at: datetime
    submitted_at: datetime
    withdrawn_at: datetime | None
    eligibility_at_submission: dict[str, Any] | None
    eligibility_at_opening: dict[str, Any] | None
    credit_grade_at_opening: CreditGrade | None
    invalid_reason: str | None
    content_digest: str | None = Field(
        description="sha256 of seal_nonce|price|proposal, recorded in the audit log when the bid was sealed"
    )
    seal_nonce: str | None
    version: int


# --- experts, panel and scores -----------------------------------------------------------------


class AffiliationsWrite(Input):
    organisation_ids: list[UUID] = Field(max_length=500)


class AffiliationsRead(Output):
    expert_user_id: UUID
    organisation_ids: list[UUID]


class PanelWrite(Input):
    expert_user_ids: list[UUID] = Field(min_length=1, max_length=25)


class PanelExpertRead(Output):
    user_id: UUID
    username: str


class PanelRead(Output):
    tender_id: UUID
    experts: list[PanelExpertRead]
    appointed_at: datetime | None


class ScoreSheetWrite(Input):
    scores: dict[Annotated[str, Field(max_length=100)], Points] = Field(max_length=50)


class ScoreSheetRead(Output):
    tender_id: UUID
    bid_id: UUID
    expert_user_id: UUID
    scores: dict[str, Decimal]
    scored_at: datetime
    version: int


# --- award and challenges ----------------------------------------------------------------------


class RankingLine(Output):
    rank: int
    bid_id: UUID
    vendor_id: UUID
    vendor_name: str
    price: Money
    price_score: Decimal | None
    technical_score: Decimal | None
    total_score: Decimal | None
    credit_grade_at_opening: CreditGrade | None
    submitted_at: datetime


class AwardBidder(Output):
    """One opened bid as the notice lists it (唱标), ranked or not."""

    vendor_id: UUID
    vendor_name: str
    price: Money
    valid: bool
    credit_grade_at_opening: CreditGrade | None


class AwardRead(Output):
    """The award notice (中标公告): the published ranking and the standstill it starts."""

    id: UUID
    tender_id: UUID
    status: Literal["active", "voided"]
    winning_bid_id: UUID
    vendor_id: UUID
    vendor_name: str
    price: Money
    ranking: list[RankingLine]
    bidders: list[AwardBidder] = Field(
        description="every opened bid, valid or not, with the bidder's credit grade at the opening"
    )
    awarded_at: datetime
    standstill_until: BeijingTime = Field(
        description="end of the standstill: the award notice's 1 working day (87号令 Art. 69) and the 7 "
        "working days of 质疑 (实施条例 Art. 53); a challenge is accepted until this instant (24:00 Beijing time)"
    )
    standstill_last_day: date = Field(description="the last day on which the award may be challenged (Asia/Shanghai)")
    time_zone: Literal["Asia/Shanghai"] = "Asia/Shanghai"
    calendar_warning: str | None
    voided_at: datetime | None


class ChallengeCreate(Input):
    grounds: str = Field(min_length=1, max_length=8000)


class ChallengeResolve(Input):
    outcome: Literal["upheld", "dismissed"]
    reply: str = Field(min_length=1, max_length=8000)


class ChallengeRead(Output):
    id: UUID
    tender_id: UUID
    award_id: UUID
    vendor_id: UUID
    grounds: str
    status: Literal["pending", "upheld", "dismissed", "moot"]
    reply: str | None
    filed_at: datetime
    reply_due: BeijingTime = Field(
        description="the bureau answers by this instant: 24:00 of the 7th working day after filing "
        "(政府采购法 Art. 53, 财政部令第94号 Art. 13)"
    )
    reply_last_day: date = Field(description="the last day for the answer (Asia/Shanghai)")
    reply_overdue: bool = Field(description="still pending when the answer was due")
    time_zone: Literal["Asia/Shanghai"] = "Asia/Shanghai"
    resolved_at: datetime | None
    version: int
