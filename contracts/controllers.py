"""Contracts endpoints: contracts, signing, amendments, termination, deliverables, payments."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, HeaderParameter, JSONBody, QueryParameter

from contracts import service
from contracts.schemas import (
    AmendmentCreate,
    AmendmentRead,
    BudgetLinePerformance,
    ContractCreate,
    ContractRead,
    ContractStatusName,
    ContractSummary,
    DeliverableCreate,
    DeliverableRead,
    LatePayment,
    PaymentConfirm,
    PaymentRead,
    SignCreate,
    TerminationCreate,
)
from govbuy.auth import requires
from govbuy.http import Cursor, IfMatch, Limit, with_etag
from govbuy.pagination import Page

IdempotencyKey = Annotated[
    str,
    HeaderParameter(
        name="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="required: a retry with the same key returns the same payment",
    ),
]

READERS = ("admin", "supervisor", "bureau", "vendor", "evaluator")


class ContractController(Controller):
    path = "/api/v1/contracts"
    tags = ["contracts"]

    @post("/", guards=[requires("bureau")])
    async def create(self, request: Request, data: JSONBody[ContractCreate]) -> Response[ContractRead]:
        """Create the contract of an awarded tender once its standstill has passed with no challenge
        pending: amount = awarded price, milestones split to the fen, the payment rule of the tender."""
        return with_etag(await service.create_contract(request.user, data), 201)

    @get("/", guards=[requires(*READERS)])
    async def index(
        self,
        request: Request,
        status: Annotated[ContractStatusName | None, QueryParameter()] = None,
        tender_id: Annotated[UUID | None, QueryParameter()] = None,
        limit: Limit = None,
        cursor: Cursor = None,
    ) -> Page[ContractSummary]:
        """Contracts the caller may see, newest first."""
        return await service.list_contracts(request.user, status, tender_id, limit, cursor)

    @get("/late-payments", guards=[requires("admin", "supervisor", "bureau", "regulator")])
    async def late_payments(self, request: Request, limit: Limit = None, cursor: Cursor = None) -> Page[LatePayment]:
        """Payments to SMEs past their due date (30 days after acceptance, 国务院令第802号 Arts. 8–9) with no
        confirmed transfer, most overdue first: a bureau its own, the regulator its region's."""
        return await service.list_late_payments(request.user, limit, cursor)

    @get("/{contract_id:uuid}", guards=[requires(*READERS)])
    async def read(self, request: Request, contract_id: FromPath[UUID]) -> Response[ContractRead]:
        """A contract with its milestones (overdue computed from the clock) and where its money
        stands: paid, withheld, remaining, cancelled."""
        return with_etag(await service.get_contract(request.user, contract_id))

    @post("/{contract_id:uuid}/sign", guards=[requires("bureau", "vendor")], status_code=200)
    async def sign(
        self, request: Request, contract_id: FromPath[UUID], if_match: IfMatch = None,
        data: JSONBody[SignCreate | None] = None,
    ) -> Response[ContractRead]:
        """Sign as the bureau or as the vendor; with both signatures the contract is active and its
        amount committed on the budget line. The bureau's signature of a multi-year (recurring)
        contract names the line of each later budget year it is paid in (`budget_lines`), and that
        year's share is reserved on it (`invalid_budget_years`, `budget_insufficient`)."""
        return with_etag(await service.sign_contract(request.user, contract_id, data, if_match))

    @post("/{contract_id:uuid}/amendments", guards=[requires("bureau")])
    async def amend(
        self, request: Request, contract_id: FromPath[UUID], data: JSONBody[AmendmentCreate], if_match: IfMatch = None
    ) -> AmendmentRead:
        """Add to the contract amount (补充合同): at most 10 % of the original in total
        (`amendment_exceeds_limit`), spread over the open milestones."""
        return await service.add_amendment(request.user, contract_id, data, if_match)

    @get("/{contract_id:uuid}/amendments", guards=[requires(*READERS)])
    async def amendments(self, request: Request, contract_id: FromPath[UUID]) -> list[AmendmentRead]:
        """The contract's amendments, oldest first."""
        return await service.list_amendments(request.user, contract_id)

    @post("/{contract_id:uuid}/terminate", guards=[requires("bureau")], status_code=200)
    async def terminate(
        self, request: Request, contract_id: FromPath[UUID], data: JSONBody[TerminationCreate],
        if_match: IfMatch = None,
    ) -> Response[ContractRead]:
        """Terminate the contract, for cause or not: open milestones are cancelled and their
        commitment released."""
        return with_etag(await service.terminate_contract(request.user, contract_id, data, if_match))

    @post("/{contract_id:uuid}/milestones/{milestone_id:uuid}/deliverables", guards=[requires("vendor")])
    async def deliver(
        self, request: Request, contract_id: FromPath[UUID], milestone_id: FromPath[UUID],
        data: JSONBody[DeliverableCreate],
    ) -> DeliverableRead:
        """Report a milestone's work (summary, figures, uploaded documents by sha256)."""
        return await service.submit_deliverable(request.user, contract_id, milestone_id, data)

    @get("/{contract_id:uuid}/milestones/{milestone_id:uuid}/deliverables", guards=[requires(*READERS)])
    async def deliverables(
        self, request: Request, contract_id: FromPath[UUID], milestone_id: FromPath[UUID]
    ) -> list[DeliverableRead]:
        """A milestone's reports, oldest first."""
        return await service.list_deliverables(request.user, contract_id, milestone_id)

    @post("/{contract_id:uuid}/milestones/{milestone_id:uuid}/payments", guards=[requires("bureau")])
    async def pay(
        self, request: Request, contract_id: FromPath[UUID], milestone_id: FromPath[UUID],
        idempotency_key: IdempotencyKey,
    ) -> Response[PaymentRead]:
        """Pay a milestone against its accepted evaluation (`evaluation_required` otherwise):
        milestone amount × payout ratio of the grade, the rest withheld. At most one payment per
        milestone: 201 when made, 200 with the same payment for a retry with the same key."""
        payment, created = await service.pay_milestone(request.user, contract_id, milestone_id, idempotency_key)
        return with_etag(payment, 201 if created else 200)

    @get("/{contract_id:uuid}/payments", guards=[requires(*READERS)])
    async def payments(self, request: Request, contract_id: FromPath[UUID]) -> list[PaymentRead]:
        """The contract's payments, oldest first."""
        return await service.list_payments(request.user, contract_id)

    @get("/{contract_id:uuid}/payments/{payment_id:uuid}", guards=[requires(*READERS)])
    async def payment(
        self, request: Request, contract_id: FromPath[UUID], payment_id: FromPath[UUID]
    ) -> Response[PaymentRead]:
        """One payment."""
        return with_etag(await service.get_payment(request.user, contract_id, payment_id))

    @post("/{contract_id:uuid}/payments/{payment_id:uuid}/confirm", guards=[requires("bureau")], status_code=200)
    async def confirm(
        self, request: Request, contract_id: FromPath[UUID], payment_id: FromPath[UUID],
        data: JSONBody[PaymentConfirm], if_match: IfMatch = None,
    ) -> Response[PaymentRead]:
        """Record the treasury's reference of the transfer (pending → confirmed)."""
        return with_etag(await service.confirm_payment(request.user, contract_id, payment_id, data, if_match))


class BudgetPerformanceController(Controller):
    """Performance fed back to the budget: served by contracts, which know what the money bought."""

    path = "/api/v1/budget-lines"
    tags = ["planning", "contracts"]

    @get("/{line_id:uuid}/performance", guards=[requires("admin", "supervisor", "bureau")])
    async def performance(self, request: Request, line_id: FromPath[UUID]) -> BudgetLinePerformance:
        """What the signed contracts on the line achieved: paid and withheld money, accepted
        evaluations and their grades, performance targets met (预算法 Art. 32; 财库〔2021〕22号)."""
        return await service.budget_line_performance(request.user, line_id)
