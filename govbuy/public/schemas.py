"""Schemas of the public endpoints: only what DESIGN §8 discloses. There is deliberately no
field for a proposal, a score sheet, a user, a beneficiary or a credit-list entry's reason."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal
from uuid import UUID

from pydantic import Field

from govbuy.schemas import BeijingTime, Money, Output

TenderStatus = Literal["published", "evaluating", "awarded", "contracted", "cancelled", "failed"]


class OrganisationRef(Output):
    id: UUID
    name: str


class CatalogueItemRef(Output):
    code: str = Field(description="level-3 code of the guidance catalogue (指导性目录), e.g. A0101")
    name: str
    category_code: str = Field(description="level-1 category, A–E")
    category_name: str | None


class PublicTenderSummary(Output):
    id: UUID
    ocid: str
    title: str
    bureau: OrganisationRef
    region_code: str | None
    catalogue_item: CatalogueItemRef
    method: str
    method_label: str
    status: TenderStatus
    ceiling_amount: Money = Field(description="最高限价 (yuan)")
    published_at: datetime
    bid_deadline: BeijingTime
    bids_sealed: bool = Field(description="true until the bids are opened at the deadline")


class PublicCriterion(Output):
    name: str
    weight: Decimal
    points_by_grade: dict[str, Decimal] | None = Field(default=None, description="scored by the assessment grade at opening")


class PublicMilestonePlan(Output):
    title: str
    percentage: Decimal
    due_offset_days: int


class PublicEligibility(Output):
    min_assessment_grade: str | None
    min_credit_grade: str | None


class PublicBid(Output):
    """A bid as read out at the opening (唱标): who, at what price. Never the proposal."""

    vendor: OrganisationRef
    price: Money
    status: Literal["submitted", "valid", "invalid"]
    submitted_at: datetime


class PublicRankingLine(Output):
    rank: int
    vendor: OrganisationRef
    price: Money
    price_score: Decimal | None
    technical_score: Decimal | None = Field(description="the panel's mean, never an expert's own score")
    total_score: Decimal | None
    credit_grade_at_opening: Literal["A", "B", "C", "D"] | None
    sme_declaration: str | None = Field(default=None, description="中小企业声明函: medium, small, micro, prison_enterprise, disability_welfare_unit")
    price_deduction_percent: Decimal = Field(default=Decimal("0.00"), description="SME price deduction in the evaluation")
    evaluated_price: Money | None = Field(default=None, description="评审价: the price the evaluation used")


class PublicTarget(Output):
    """A performance target (绩效目标) in the tender's terms."""

    indicator: str
    unit: str
    target: Decimal
    direction: Literal["at_least", "at_most"]


class PublicSmePolicy(Output):
    reserved: bool = Field(description="专门面向中小企业")
    price_deduction_percent: Decimal


class PublicAward(Output):
    """An award notice (中标公告) and its ranking."""

    id: UUID
    status: Literal["active", "voided"]
    winner: OrganisationRef
    price: Money
    awarded_at: datetime
    standstill_until: BeijingTime = Field(
        description="end of the standstill: the 1-working-day notice period and the 7 working days of "
        "质疑 after it, at 24:00 Beijing time of the last day"
    )
    standstill_last_day: date = Field(description="the last day on which a bidder may challenge (Asia/Shanghai)")
    time_zone: Literal["Asia/Shanghai"] = "Asia/Shanghai"
    voided_at: datetime | None
    ranking: list[PublicRankingLine]


class PublicTender(PublicTenderSummary):
    description: str
    evaluation_method: Literal["comprehensive", "lowest_price"]
    price_weight: Decimal | None
    criteria: list[PublicCriterion]
    eligibility: PublicEligibility
    sme: PublicSmePolicy
    performance_targets: list[PublicTarget]
    contract_months: int
    recurring: bool
    milestones: list[PublicMilestonePlan]
    opened_at: datetime | None
    calendar_warning: str | None
    failure_reason: str | None
    cancel_reason: str | None
    closed_at: datetime | None
    procurement_intention_id: UUID | None = Field(
        default=None, description="the procurement intention (采购意向, 财库〔2020〕10号) that announced it"
    )
    intention_notice_exception: str | None = Field(
        default=None, description="why it was published with no intention, or sooner than 30 days after it"
    )
    amendment_count: int = Field(default=0, description="amendments (更正公告) published, at /amendments")
    amended_at: datetime | None = Field(default=None, description="when the last amendment was published")
    bids: list[PublicBid] | None = Field(description="null while sealed (before the opening)")
    award: PublicAward | None = Field(description="the award notice in force, or the last one voided")
    voided_awards: list[PublicAward] = Field(default_factory=list, description="awards voided by an upheld challenge")


class PublicEvaluation(Output):
    """An accepted third-party evaluation (第三方绩效评价) of a milestone: its grade and score."""

    id: UUID
    grade: Literal["excellent", "good", "fair", "poor"]
    grade_label: str
    total_score: Decimal
    accepted_at: datetime


class PublicPayment(Output):
    id: UUID
    amount: Money
    withheld_amount: Money
    payout_ratio: Decimal
    grade: Literal["excellent", "good", "fair", "poor"]
    status: Literal["pending", "confirmed"]
    decided_at: datetime
    confirmed_at: datetime | None


class PublicMilestone(Output):
    id: UUID
    sequence: int
    title: str
    percentage: Decimal
    amount: Money
    due_date: date
    status: Literal["pending", "delivered", "evaluated", "paid", "cancelled"]
    delivered_at: datetime | None
    evaluation: PublicEvaluation | None
    payment: PublicPayment | None


class PublicContractSummary(Output):
    id: UUID
    ocid: str
    tender_id: UUID
    title: str
    bureau: OrganisationRef
    vendor: OrganisationRef
    amount: Money
    start_date: date
    end_date: date
    status: Literal["draft", "active", "completed", "terminated"]


class PublicContract(PublicContractSummary):
    original_amount: Money
    contract_months: int
    signed_at: datetime | None
    terminated_at: datetime | None
    milestones: list[PublicMilestone]


class PublicAssessmentGrade(Output):
    grade: str = Field(description="1A–5A (民政部 社会组织评估等级)")
    awarded_on: date
    expires_on: date
    expired: bool


class PublicCreditListing(Output):
    list: str
    list_label: str
    listed_on: date


class PublicVendor(Output):
    """A vendor's public standing: credit grade and list status (DESIGN §8)."""

    id: UUID
    name: str
    uscc: str | None = Field(description="统一社会信用代码 (an organisation's public registration code)")
    vendor_type: str
    vendor_type_label: str
    region_code: str | None
    assessment_grade: PublicAssessmentGrade | None
    credit_grade: Literal["A", "B", "C", "D"] | None
    credit_rating_provisional: bool
    listed: bool = Field(description="on at least one credit list (信用名单) today")
    credit_listings: list[PublicCreditListing]


NoticeType = Literal[
    "tender", "amendment", "result", "challenge_reply", "complaint_decision", "contract", "acceptance", "termination", "intention"
]


class PublicNoticeSummary(Output):
    """A statutory notice as listed: what it is, when it was published, of which tender."""

    id: UUID = Field(description="the notice's own id (the tender's, the award's, the challenge's or the complaint's)")
    type: NoticeType = Field(
        description="tender (采购公告), amendment (更正公告), result (中标/成交结果公告), challenge_reply (质疑答复), "
        "complaint_decision (投诉处理决定), contract (合同公告), acceptance (履约验收结果), termination (合同终止), "
        "intention (采购意向公开, 财库〔2020〕10号)"
    )
    title: str
    published_at: BeijingTime
    url: str = Field(description="the notice's stable URL")
    tender_id: UUID | None = Field(description="None for a procurement intention, which precedes any tender")
    ocid: str | None
    bureau: OrganisationRef
    region_code: str | None


class PublicNotice(PublicNoticeSummary):
    """A notice in full. A challenge reply or a complaint decision names the party that raised
    it, what it raised, the outcome and the remedy applied (财政部令第94号 Arts. 16, 32, 35)."""

    party: OrganisationRef | None = Field(description="the challenger or complainant; the winner of a result")
    subject: str | None = Field(description="the challenge's or complaint's grounds (质疑/投诉事项); the milestone accepted")
    outcome: Literal["upheld", "dismissed"] | None
    remedy: Literal["cancel", "reevaluate", "next_candidate"] | None
    text: str = Field(description="the notice's text: the tender's description, the result, the reply, the decision")
    due_at: BeijingTime | None = Field(description="when the law required it by (reply: 7 working days; decision: 30)")


class PublicAuditHead(Output):
    """A head of the audit chain: keep it, and ask later (`?seq=`) whether the chain still holds
    it; a chain whose last events were deleted or rewritten no longer does."""

    seq: int = Field(description="the event's place in the chain")
    hash: str = Field(description="the event's hash (HMAC-SHA256, hex), which covers every event before it")
    at: BeijingTime = Field(description="when the head was published (with ?seq=: when the event was recorded)")


class PublicIntention(Output):
    """A procurement intention (采购意向公开, 财库〔2020〕10号): what a bureau plans to buy, published
    in principle 30 days before the procurement starts; a withdrawn one stays public, marked so."""

    id: UUID
    bureau: OrganisationRef
    region_code: str | None
    year: int = Field(description="the budget year")
    title: str = Field(description="采购项目名称")
    needs: str = Field(description="采购需求概况")
    budget_amount: Money = Field(description="预算金额 (yuan)")
    expected_month: str = Field(description="预计采购时间, YYYY-MM")
    remarks: str = Field(description="备注")
    status: Literal["published", "withdrawn"]
    published_at: BeijingTime
    withdrawn_at: BeijingTime | None
    withdraw_reason: str | None
    url: str = Field(description="its notice's stable URL")
