"""The contract performance report and a bureau's annual report (PDF)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, Request, Response, get
from litestar.params import FromPath, QueryParameter

from contracts import reports
from contracts.schemas import YearPerformance
from govbuy.auth import requires
from govbuy.http import pdf_get, pdf_response


class ContractReportController(Controller):
    path = "/api/v1/contracts"
    tags = ["reports"]
    guards = [requires("admin", "bureau", "supervisor")]

    @pdf_get("/{contract_id:uuid}/report.pdf", "the contract performance report (合同履约情况报告), A4 PDF")
    async def report(self, request: Request, contract_id: FromPath[UUID]) -> Response[bytes]:
        """The contract performance report: milestones, evaluations, payments and the timeline
        of the contract. For its bureau, supervisors and admins."""
        return pdf_response(await reports.contract_report(request.user, contract_id), f"contract-report-{contract_id}.pdf")


# A bureau's budget year, as the annual report and its data take it.
BudgetYear = Annotated[int, QueryParameter(ge=2000, le=2100, description="budget year")]
YearBureau = Annotated[UUID | None, QueryParameter(description="the bureau (supervisors and admins; a bureau gets its own)")]


class AnnualReportController(Controller):
    path = "/api/v1/reports"
    tags = ["reports"]

    @pdf_get(
        "/annual.pdf",
        "the bureau's annual report (年度政府购买服务执行情况报告), A4 PDF",
        guards=[requires("bureau", "supervisor", "admin")],
    )
    async def annual(
        self,
        request: Request,
        year: BudgetYear,
        bureau_id: YearBureau = None,
    ) -> Response[bytes]:
        """A bureau's year: every signed contract charged to that year's budget lines, spend by
        level-1 catalogue category, evaluation grade distribution."""
        rendered = await reports.annual_report(request.user, year, bureau_id)
        return pdf_response(rendered, f"annual-report-{year}.pdf")

    @get("/performance", guards=[requires("bureau", "supervisor", "admin")])
    async def performance(
        self,
        request: Request,
        year: BudgetYear,
        bureau_id: YearBureau = None,
    ) -> YearPerformance:
        """A bureau's budget year as data: signed contracts by level-1 category and by vendor, with
        money paid and withheld, accepted evaluations and grades, targets met (the annual report's
        figures, for next year's budget)."""
        return await reports.year_performance(request.user, year, bureau_id)
