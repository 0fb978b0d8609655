"""The evaluation report endpoint (PDF)."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, Request, Response, get
from litestar.datastructures import ResponseHeader
from litestar.params import FromPath

from evaluation import reports
from govbuy.auth import requires
from govbuy.reports import CONTENT_SHA256_HEADER, PDF_MEDIA_TYPE, content_headers

PDF_HEADERS = [
    ResponseHeader(
        name=CONTENT_SHA256_HEADER,
        description="SHA-256 of the PDF bytes (the footer carries the data digest)",
        documentation_only=True,
    )
]


class EvaluationReportController(Controller):
    path = "/api/v1/evaluations"
    tags = ["reports"]
    guards = [requires("admin", "bureau", "evaluator", "supervisor", "vendor")]

    @get(
        "/{evaluation_id:uuid}/report.pdf",
        media_type=PDF_MEDIA_TYPE,
        response_headers=PDF_HEADERS,
        response_description="the evaluation report (第三方绩效评价报告), A4 PDF",
    )
    async def report(self, request: Request, evaluation_id: FromPath[UUID]) -> Response[bytes]:
        """The evaluation report: cover, contract and milestone, indicator scores, grade,
        payment consequence, findings, evaluator. For the commissioning bureau, the evaluator,
        the vendor once accepted, supervisors and admins."""
        rendered = await reports.evaluation_report(request.user, evaluation_id)
        headers = content_headers(rendered)
        headers["Content-Disposition"] = f'inline; filename="evaluation-report-{evaluation_id}.pdf"'
        return Response(rendered.content, media_type=PDF_MEDIA_TYPE, headers=headers)


CONTROLLERS = [EvaluationReportController]
