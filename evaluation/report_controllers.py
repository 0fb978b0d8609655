"""The evaluation report endpoint (PDF)."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, Request, Response
from litestar.params import FromPath

from evaluation import reports
from govbuy.auth import requires
from govbuy.http import pdf_get, pdf_response


class EvaluationReportController(Controller):
    path = "/api/v1/evaluations"
    tags = ["reports"]
    guards = [requires("admin", "bureau", "evaluator", "supervisor", "vendor")]

    @pdf_get("/{evaluation_id:uuid}/report.pdf", "the evaluation report (第三方绩效评价报告), A4 PDF")
    async def report(self, request: Request, evaluation_id: FromPath[UUID]) -> Response[bytes]:
        """The evaluation report: cover, contract and milestone, indicator scores, grade,
        payment consequence, findings, evaluator. For the commissioning bureau, the evaluator,
        the vendor once accepted, supervisors and admins."""
        rendered = await reports.evaluation_report(request.user, evaluation_id)
        return pdf_response(rendered, f"evaluation-report-{evaluation_id}.pdf")
