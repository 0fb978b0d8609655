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
    points_by_grade: dict[AssessmentGradeLabel, Points] | None = Field(
        default=None,
        description="scored by rule, not by the experts: the points of a social organisation by its assessment "
        "grade at the opening, e.g. {\"3A\": 2, \"4A\": 4, \"5A\": 5}; every other bidder gets 0 (民政部令第39号 Art. 30)",
    )


class MilestoneIn(Input):
    title: str = Field(max_length=200)
    percentage: Points
    due_offset_days: int = Field(le=36 * 31, description="days from the contract's start")


class PaymentBandIn(Input):
    min_score: Points
    max_score: Points
    ratio: Annotated[Decimal, Field(max_digits=5, decimal_places=4)]


class TargetIn(Input):
    """A performance target (绩效目标): 服务人次 ≥ 1,200 is {indicator: 服务人次, unit: 人次, target:
    1200, figure: person_times_served}."""

    indicator: str = Field(max_length=100)
    unit: str = Field(max_length=20)
    target: Points
    direction: Literal["at_least", "at_most"] = "at_least"
    figure: str | None = Field(
        default=None, max_length=40, description="the deliverable figure reported against it; none: the evaluator verifies it"
    )


class EligibilityIn(Input):
    """The only restriction a tender may set; any other field is refused. `min_assessment_grade`
    is refused too (`assessment_grade_not_a_bar`): a grade is a priority, given as points."""

    min_assessment_grade: AssessmentGradeLabel | None = None
    min_credit_grade: CreditGrade | None = Field(
        default=None, description="bars rated vendors below it, never one with no grade yet (provisional)"
    )


class SmeIn(Input):
    """财库〔2020〕46号 as amended by 财库〔2022〕19号: reserved for SMEs, or a price deduction of
    10–20 % for small and micro enterprises (10 when not given)."""

    reserved: bool = False
    price_deduction_percent: Points | None = None


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
    sme: SmeIn = Field(default_factory=SmeIn)
    performance_targets: list[TargetIn] = Field(default_factory=list, max_length=20)
    milestones: list[MilestoneIn] = Field(max_length=50)
    payment_rule: list[PaymentBandIn] | None = Field(default=None, max_length=20)
    bid_deadline: datetime
    invited_vendor_ids: list[UUID] | None = Field(default=None, max_length=200)
    procurement_intention_id: UUID | None = Field(
        default=None,
        description="the bureau's published procurement intention (采购意向, 财库〔2020〕10号) of the same budget "
        "line that announced this purchase",
    )
    intention_notice_exception: str | None = Field(
        default=None,
        min_length=1,
        max_length=2000,
        description="why the tender is published with no procurement intention, or sooner than 30 days after it "
        "(财库〔2020〕10号: 原则上不晚于采购活动开始前30日): required then, and public with the tender",
    )


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
    sme: SmeIn | None = None
    performance_targets: list[TargetIn] | None = Field(default=None, max_length=20)
    milestones: list[MilestoneIn] | None = Field(default=None, max_length=50)
    payment_rule: list[PaymentBandIn] | None = Field(default=None, max_length=20)
    bid_deadline: datetime | None = None
    invited_vendor_ids: list[UUID] | None = Field(default=None, max_length=200)
    procurement_intention_id: UUID | None = Field(default=None, description="null unlinks the intention")
    intention_notice_exception: str | None = Field(default=None, min_length=1, max_length=2000, description="null clears it")


class TenderCancel(Input):
    reason: str = Field(min_length=1, max_length=2000)


class CriterionRead(Output):
    name: str
    weight: Decimal
    points_by_grade: dict[str, Decimal] | None = None


class TargetRead(Output):
    indicator: str
    unit: str
    target: Decimal
    direction: Literal["at_least", "at_most"]
    figure: str | None


class SmeRead(Output):
    reserved: bool = Field(description="专门面向中小企业: only SMEs may bid")
    price_deduction_percent: Decimal = Field(description="small and micro enterprises' price deduction in the evaluation")


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
    sme: SmeRead
    performance_targets: list[TargetRead]
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
    suspended_until: BeijingTime | None = Field(
        default=None, description="suspended by the regulator while it handles a complaint (94号令 Art. 28)"
    )
    challenge_reply_overdue: bool = Field(
        default=False, description="a challenge has gone unanswered past its 7 working days (政府采购法 Art. 53)"
    )
    invited_vendor_ids: list[UUID] | None = Field(
        description="shown to the bureau, admins and supervisors; None for others"
    )
    invited: bool | None = Field(description="for a vendor: whether it may bid on this invited/single-source tender")
    procurement_intention_id: UUID | None = Field(
        default=None, description="the procurement intention (采购意向, 财库〔2020〕10号) that announced it"
    )
    intention_notice_exception: str | None = Field(
        default=None, description="why it is published with no intention, or sooner than 30 days after it (public)"
    )
    created_at: datetime
    amendment_count: int = Field(description="amendments (更正) published since the tender was")
    amended_at: datetime | None = Field(description="when the last amendment was published")
    updated_at: datetime
    version: int


# --- questions -------------------------------------------------------------------------------


class QuestionCreate(Input):
    question: str = Field(min_length=1, max_length=4000)


class AnswerCreate(Input):
    answer: str = Field(min_length=1, max_length=8000)


class TenderAmendmentCreate(TenderUpdate):
    """An amendment (澄清或者修改, 87号令 Art. 27): the terms that change and why. Every field of a
    draft's change is accepted here so that a term that may not change after publication (the
    method, the ceiling, …) is refused by name (`amendment_not_allowed`) rather than as unknown."""

    reason: str = Field(min_length=1, max_length=2000)
    clarification: bool = Field(
        default=False,
        description="a clarification of wording that cannot affect how bids are prepared: the deadline is not moved",
    )


class TenderAmendmentRead(Output):
    """One amendment, as published: every changed term before and after."""

    id: UUID
    tender_id: UUID
    sequence: int
    reason: str
    clarification: bool
    changed_fields: list[str]
    before: dict[str, Any]
    after: dict[str, Any]
    deadline_before: datetime
    deadline_after: datetime
    deadline_moved: bool = Field(description="whether the rule put the deadline back beyond what was asked")
    bidders_notified: int
    created_at: datetime


class TenderAmendmentResult(Output):
    """What an amendment returns: the amended tender and the amendment, whose id is its public
    notice's (更正公告, `/api/v1/public/notices/{id}`)."""

    tender: TenderRead
    amendment: TenderAmendmentRead


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


SmeDeclaration = Literal["medium", "small", "micro", "prison_enterprise", "disability_welfare_unit"]
SME_DECLARATION_DESCRIPTION = (
    "中小企业声明函 (财库〔2020〕46号 Art. 11): an enterprise's size, or 监狱企业 / 残疾人福利性单位 (both count as small or "
    "micro); a social organisation or an institution declares nothing (null)"
)


class BidCreate(Input):
    price: PositiveMoney
    proposal: str = Field(min_length=1, max_length=200_000)
    sme_declaration: SmeDeclaration | None = Field(default=None, description=SME_DECLARATION_DESCRIPTION)


class BidUpdate(Input):
    price: PositiveMoney | None = None
    proposal: str | None = Field(default=None, min_length=1, max_length=200_000)
    sme_declaration: SmeDeclaration | None = Field(default=None, description="given: replaces the declaration (null: none)")


class SmeDeclarationFalse(Input):
    """The finding that a bid's size declaration was false (财库〔2020〕46号 Art. 20)."""

    finding: str = Field(min_length=1, max_length=4000)


class BidReviewLine(Output):
    stage: Literal["qualification", "compliance", "remedy"]
    responsive: bool
    reason: str
    reviewed_at: datetime


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
    sme_declaration: SmeDeclaration | None = Field(default=None, description=SME_DECLARATION_DESCRIPTION)
    sme_declaration_false_at: datetime | None = Field(default=None, description="when the declaration was found false")
    review_status: Literal["pending", "responsive", "non_responsive"] = Field(
        description="after the opening: qualification (资格性审查) and compliance (符合性审查) reviews; only "
        "responsive bids are scored and ranked"
    )
    reviews: list[BidReviewLine] | None = Field(
        default=None, description="each review with its reason (the bureau, the panel, the bidder itself)"
    )
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
    """A hand-picked panel (87号令 Art. 48: technically complex or specialised purchases where a
    random draw cannot find suitable experts), only with the reason, which supervisors read."""

    expert_user_ids: list[UUID] = Field(min_length=1, max_length=25)
    bureau_representative_ids: list[UUID] = Field(default_factory=list, max_length=12)
    reason: str | None = Field(default=None, max_length=4000)


class PanelDrawCreate(Input):
    size: int = Field(ge=1, le=25, description="members in all: odd, at least the method's minimum")
    bureau_representative_ids: list[UUID] = Field(
        default_factory=list, max_length=12, description="the purchaser's representatives (at most a third)"
    )


class PanelReplace(Input):
    expert_user_id: UUID = Field(description="the expert who withdraws (回避 or unable to attend)")
    reason: str = Field(min_length=1, max_length=4000)


class PanelExpertRead(Output):
    user_id: UUID
    username: str
    role: Literal["expert", "representative"] = "expert"


class PanelDrawRead(Output):
    """A draw as the audit log keeps it: replaying `seed` over `candidates` gives `drawn`."""

    id: UUID
    tender_id: UUID
    kind: Literal["draw", "replacement", "hand_picked"]
    seed: str | None
    candidates: list[UUID]
    excluded: list[dict[str, Any]]
    drawn: list[UUID]
    representatives: list[UUID]
    replaced_expert_id: UUID | None
    reason: str | None
    drawn_at: datetime
    replay_matches: bool | None = Field(description="the draw replayed from its seed and candidates gives the same experts")


class PanelRead(Output):
    tender_id: UUID
    experts: list[PanelExpertRead]
    representatives: list[PanelExpertRead] = Field(default_factory=list)
    selection: Literal["none", "drawn", "hand_picked"] = "none"
    appointed_at: datetime | None
    draws: list[PanelDrawRead] | None = Field(default=None, description="the bureau, admins, supervisors, the regulator")


class BidReviewWrite(Input):
    responsive: bool
    reason: str = Field(min_length=1, max_length=4000)
    stage: Literal["qualification", "compliance"] | None = Field(
        default=None, description="default: qualification for the bureau, compliance for a panel member"
    )


class BidReviewRead(Output):
    tender_id: UUID
    bid_id: UUID
    stage: Literal["qualification", "compliance"]
    responsive: bool
    reason: str
    reviewed_at: datetime
    review_status: Literal["pending", "responsive", "non_responsive"]
    tender_status: TenderStatusName


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
    sme_declaration: SmeDeclaration | None = None
    price_deduction_percent: Decimal = Field(default=Decimal(0), description="SME deduction in the evaluation")
    evaluated_price: Money | None = Field(default=None, description="评审价: the price the evaluation used")
    assessment_grade_at_opening: int | None = Field(default=None, description="1–5 (1A–5A), in force at the opening")


class AwardBidder(Output):
    """One opened bid as the notice lists it (唱标), ranked or not, with its review."""

    vendor_id: UUID
    vendor_name: str
    price: Money
    valid: bool
    credit_grade_at_opening: CreditGrade | None
    sme_declaration: SmeDeclaration | None = None
    review_status: Literal["pending", "responsive", "non_responsive"] = "responsive"
    non_responsive_reason: str | None = None


class AwardPanelMember(Output):
    name: str
    role: Literal["expert", "representative"]


class AwardCreate(Input):
    """Single source only (74号令 Arts. 41–42): the price the panel agreed with the supplier and
    the record of the negotiation."""

    negotiated_price: PositiveMoney | None = None
    negotiation_record: str | None = Field(default=None, min_length=1, max_length=8000)


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
    panel: list[AwardPanelMember] = Field(
        default_factory=list, description="the panel's members, public with the result (87号令 Art. 69)"
    )
    panel_draw_ids: list[UUID] = Field(default_factory=list, description="the draws that made the panel")
    negotiation_record: str | None = None


ChallengeKindName = Literal["documents", "process", "result"]
RemedyName = Literal["cancel", "reevaluate", "next_candidate"]


class ChallengeCreate(Input):
    grounds: str = Field(min_length=1, max_length=8000)
    kind: ChallengeKindName = Field(default="result", description="documents, a step of the process, or the result")
    step: Literal["opening", "panel", "review"] | None = Field(default=None, description="process challenges: the step")
    concerned_bid_ids: list[UUID] | None = Field(
        default=None, max_length=50, description="result challenges: the bids it concerns (default: the winning bid)"
    )


class ChallengeResolve(Input):
    outcome: Literal["upheld", "dismissed"]
    reply: str = Field(min_length=1, max_length=8000)
    remedy: RemedyName | None = Field(
        default=None, description="upheld: documents → cancel; process → reevaluate|cancel; result → next_candidate|reevaluate|cancel"
    )


class ChallengeRead(Output):
    id: UUID
    tender_id: UUID
    award_id: UUID | None
    vendor_id: UUID
    kind: ChallengeKindName
    step: str | None
    concerned_bid_ids: list[UUID]
    grounds: str
    status: Literal["pending", "upheld", "dismissed", "moot"]
    reply: str | None
    remedy: RemedyName | None
    remedy_effect: dict[str, Any] | None
    window_end: BeijingTime | None = Field(description="the end of the window in which it was filed")
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


# --- complaints (投诉) --------------------------------------------------------------------------


class ComplaintCreate(Input):
    challenge_id: UUID
    grounds: str = Field(min_length=1, max_length=8000)


class ComplaintRefuse(Input):
    reason: str = Field(min_length=1, max_length=8000)


class ComplaintSuspend(Input):
    reason: str = Field(min_length=1, max_length=4000)


class ComplaintDecide(Input):
    outcome: Literal["upheld", "dismissed"]
    decision: str = Field(min_length=1, max_length=8000)
    remedy: RemedyName | None = None
    concerned_bid_ids: list[UUID] | None = Field(default=None, max_length=50)


class ComplaintRead(Output):
    id: UUID
    tender_id: UUID
    challenge_id: UUID
    vendor_id: UUID
    grounds: str
    region_code: str
    status: Literal["filed", "accepted", "refused", "decided"]
    filed_at: datetime
    acceptance_due: BeijingTime = Field(description="the regulator accepts or refuses by then (94号令 Art. 21: 5 working days)")
    decision_due: BeijingTime = Field(description="and decides by then (Art. 26: 30 working days)")
    acceptance_overdue: bool
    decision_overdue: bool
    accepted_at: datetime | None
    refused_at: datetime | None
    refusal_reason: str | None
    decided_at: datetime | None
    outcome: Literal["upheld", "dismissed"] | None
    decision: str | None
    remedy: RemedyName | None
    remedy_effect: dict[str, Any] | None
    suspended: bool = Field(description="the procurement is suspended by this complaint")
    suspended_until: BeijingTime | None
    time_zone: Literal["Asia/Shanghai"] = "Asia/Shanghai"
    version: int
