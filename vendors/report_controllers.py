"""The vendor credit report endpoint (PDF)."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, Request, Response
from litestar.params import FromPath

from govbuy.auth import any_signed_in
from govbuy.http import pdf_get, pdf_response
from vendors import reports


class VendorReportController(Controller):
    path = "/api/v1/vendors"
    tags = ["reports"]
    guards = [any_signed_in]

    @pdf_get("/{vendor_id:uuid}/credit-report.pdf", "the credit report (承接主体信用报告), A4 PDF")
    async def credit_report(self, request: Request, vendor_id: FromPath[UUID]) -> Response[bytes]:
        """The vendor's credit report: rating and its components, rating history, assessment
        grades and credit-list entries. For the vendor itself, bureaus, supervisors and admins."""
        rendered = await reports.credit_report(request.user, vendor_id)
        return pdf_response(rendered, f"credit-report-{vendor_id}.pdf")
