"""Request and response schemas of the contracts domain: contracts, milestones, amendments,
deliverables and payments. Money is `Money` (a JSON string with two decimals)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal
from uuid import UUID

from pydantic import Field

from govbuy.schemas import Input, Money, Output
from procurement.schemas import TargetIn, TargetRead

ContractStatusName = Literal["draft", "active", "completed", "terminated"]
MilestoneStatusName = Literal["pending", "delivered", "evaluated", "paid", "cancelled"]
PaymentStatusName = Literal["pending", "confirmed"]
GradeName = Literal["excellent", "good", "fair", "poor"]

Sha256 = str  # a document id: the SHA-256 of its content, as returned by POST /documents


class ContractCreate(Input):
    tender_id: UUID
    start_date: date = Field(description="first day of the service; milestone due dates count from it")


class BudgetYearLine(Input):
    year: int = Field(ge=2000, le=2200, description="a later budget year the contract is paid in")
    budget_line_id: UUID = Field(description="one of the bureau's budget lines of that year")


class SignCreate(Input):
    """The bureau's signature of a multi-year (recurring) contract names the budget line of each
    later year it is paid in (102号令 Art. 24); that year's share is reserved on it at once and
    committed when the contract is active. Other signatures send no body."""

    budget_lines: list[BudgetYearLine] = Field(default_factory=list, max_length=5)


class BudgetYearRead(Output):
    """What one budget year carries of a contract: the milestones due in it, on its line."""

    year: int
    budget_line_id: UUID | None = Field(description="null until the bureau names the line, at its signature")
    amount: Money


class PaymentBandRead(Output):
    min_score: Decimal
    max_score: Decimal
    ratio: Decimal


class MilestoneRead(Output):
    id: UUID
    sequence: int
    title: str
    percentage: Decimal
    amount: Money
    original_amount: Money
    due_offset_days: int
    due_date: date
    budget_line_id: UUID | None = Field(default=None, description="the budget line paying this milestone")
    status: MilestoneStatusName
    overdue: bool = Field(description="due date passed before delivery (computed from the service clock)")
    delivered_at: datetime | None
    cancelled_at: datetime | None
    evaluation_id: UUID | None = Field(description="the milestone's current evaluation, if the caller may see it")
    evaluation_status: str | None
    grade: GradeName | None
    payment_id: UUID | None
    paid_amount: Money | None
    withheld_amount: Money | None
    payment_due_on: date | None = Field(
        default=None,
        description="an SME vendor's payment is due 30 days after acceptance (the accepted evaluation's appeal "
        "window end), 国务院令第802号 Arts. 8–9; none for other vendors (no statutory term)",
    )
    payment_overdue: bool = Field(default=False, description="the due date passed and no payment was confirmed")


class ContractTargetRead(Output):
    """A performance target the contract inherited, with what the deliverables report against it."""

    indicator: str
    unit: str
    target: Decimal
    direction: Literal["at_least", "at_most"]
    figure: str | None
    reported: Decimal | None = Field(description="the figure summed over each milestone's latest deliverable")
    met: bool | None = Field(description="whether what is reported meets the target; null: nothing reported")


class LatePayment(Output):
    """A milestone whose payment to an SME is overdue (国务院令第802号)."""

    contract_id: UUID
    contract_title: str
    bureau_id: UUID
    vendor_id: UUID
    vendor_sme_declaration: str
    milestone_id: UUID
    milestone_title: str
    amount: Money
    accepted_at: datetime
    payment_due_on: date
    days_late: int
    payment_id: UUID | None
    payment_status: str | None


class ContractRead(Output):
    id: UUID
    tender_id: UUID
    bid_id: UUID
    title: str
    bureau_id: UUID
    vendor_id: UUID
    payee_id: UUID = Field(description="always the vendor: the contract may not be transferred (转包)")
    budget_line_id: UUID
    status: ContractStatusName
    original_amount: Money
    amount: Money = Field(description="current amount: the original plus amendments")
    amended_amount: Money
    amendment_headroom: Money = Field(description="what amendments may still add (10 % cap)")
    paid: Money
    withheld: Money
    remaining: Money
    cancelled: Money
    contract_months: int
    recurring: bool
    start_date: date
    end_date: date
    payment_rule: list[PaymentBandRead]
    payment_rule_source: Literal["tender", "default"]
    bureau_signed_at: datetime | None
    vendor_signed_at: datetime | None
    activated_at: datetime | None
    completed_at: datetime | None
    terminated_at: datetime | None
    termination_reason: str | None
    terminated_for_cause: bool | None
    created_at: datetime
    version: int
    milestones: list[MilestoneRead]
    budget_years: list[BudgetYearRead] = Field(
        default_factory=list,
        description="each budget year's share and the line carrying it: one year unless the contract is recurring "
        "and paid in later years (102号令 Art. 24)",
    )
    performance_targets: list[ContractTargetRead] = Field(
        default_factory=list, description="绩效目标 inherited from the tender, with what is reported against them"
    )


class ContractSummary(Output):
    id: UUID
    tender_id: UUID
    title: str
    bureau_id: UUID
    vendor_id: UUID
    status: ContractStatusName
    amount: Money
    start_date: date
    end_date: date
    created_at: datetime
    version: int


class AmendmentCreate(Input):
    """A supplementary agreement: it adds to the amount, changes the performance targets, or both."""

    increase: Money | None = Field(
        default=None, gt=0, description="amount added (yuan); all amendments together ≤ 10 % of the original"
    )
    performance_targets: list[TargetIn] | None = Field(
        default=None, max_length=20,
        description="the contract's targets from now on (all of them); evaluations already accepted keep the targets "
        "they judged",
    )
    reason: str = Field(min_length=1, max_length=2000)


class AmendmentShare(Output):
    milestone_id: UUID
    added: Money
    new_amount: Money


class AmendmentRead(Output):
    id: UUID
    contract_id: UUID
    increase: Money
    amount_before: Money
    amount_after: Money
    reason: str
    shares: list[AmendmentShare]
    targets_before: list[TargetRead] | None = Field(default=None, description="set when the amendment changed the targets")
    targets_after: list[TargetRead] | None = None
    created_by: UUID
    created_at: datetime


class TerminationCreate(Input):
    reason: str = Field(min_length=1, max_length=2000)
    for_cause: bool = Field(description="terminated for the vendor's fault (counts against its credit rating)")


class DeliverableCreate(Input):
    summary: str = Field(min_length=1, max_length=5000)
    figures: dict[str, Decimal] = Field(
        default_factory=dict,
        description="e.g. people_served, person_times_served, sessions_held, service_hours",
    )
    document_ids: list[Sha256] = Field(default_factory=list, max_length=50)


class DeliverableRead(Output):
    id: UUID
    contract_id: UUID
    milestone_id: UUID
    summary: str
    figures: dict[str, Decimal]
    document_ids: list[Sha256]
    submitted_by: UUID
    submitted_at: datetime
    late: bool = Field(description="submitted after the milestone's due date")


class PaymentRead(Output):
    id: UUID
    contract_id: UUID
    milestone_id: UUID
    evaluation_id: UUID
    payee_id: UUID
    budget_line_id: UUID
    milestone_amount: Money
    amount: Money
    withheld_amount: Money
    payout_ratio: Decimal
    total_score: Decimal
    grade: GradeName
    status: PaymentStatusName
    treasury_reference: str | None
    confirmed_at: datetime | None
    idempotency_key: str
    created_at: datetime
    version: int


class PaymentConfirm(Input):
    treasury_reference: str = Field(min_length=1, max_length=64, description="国库集中支付 reference of the transfer")



class PerformanceFigures(Output):
    """What a set of contracts achieved (绩效): money, evaluations, grades and targets."""

    contracts: int
    amount: Money
    paid: Money
    withheld: Money = Field(description="withheld for performance, released to the budget line")
    evaluations: int = Field(description="accepted evaluations in force")
    average_score: Decimal | None
    grades: dict[str, int] = Field(description="accepted evaluations by grade: excellent, good, fair, poor")
    targets_met: int
    targets_total: int


class ContractPerformance(PerformanceFigures):
    contract_id: UUID
    title: str
    vendor_id: UUID
    vendor_name: str
    status: str


class BudgetLinePerformance(Output):
    """A budget line's results, for next year's budget (预算法 Art. 32; 财库〔2021〕22号)."""

    budget_line_id: UUID
    code: str
    year: int
    title: str
    amount: Money
    committed: Money
    spent: Money
    available: Money
    totals: PerformanceFigures
    contracts: list[ContractPerformance]


class CategoryPerformance(PerformanceFigures):
    code: str = Field(description="level-1 catalogue category (A–E), ? when unknown")
    name: str


class VendorPerformance(PerformanceFigures):
    vendor_id: UUID
    vendor_name: str


class YearPerformance(Output):
    """A bureau's budget year: what its signed contracts achieved, by category and by vendor
    (预算法 Art. 32; 财库〔2021〕22号) — the evidence its next budget reads."""

    year: int
    bureau_id: UUID
    bureau_name: str
    totals: PerformanceFigures
    categories: list[CategoryPerformance]
    vendors: list[VendorPerformance]
