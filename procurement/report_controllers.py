"""The award notice endpoints (PDF): for signed-in users under /tenders and, since the notice is
public (DESIGN §8), for everyone under /public/tenders. Both give the same document."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, Request, Response
from litestar.params import FromPath

from govbuy.auth import any_signed_in
from govbuy.http import pdf_get, pdf_response
from procurement import reports

DESCRIPTION = "the award notice (中标/成交结果公告), A4 PDF"


class TenderReportController(Controller):
    path = "/api/v1/tenders"
    tags = ["reports"]
    guards = [any_signed_in]

    @pdf_get("/{tender_id:uuid}/award-notice.pdf", DESCRIPTION)
    async def award_notice(self, request: Request, tender_id: FromPath[UUID]) -> Response[bytes]:
        """The tender's award notice: terms, winner and amount, the ranking with each bidder's
        price, scores and credit grade at opening, invalid bids, the standstill."""
        return pdf_response(await reports.award_notice(request.user, tender_id), f"award-notice-{tender_id}.pdf")


class PublicTenderReportController(Controller):
    path = "/api/v1/public/tenders"
    tags = ["public", "reports"]
    opt = {"exclude_from_auth": True}
    security = [{}]

    @pdf_get("/{tender_id:uuid}/award-notice.pdf", DESCRIPTION)
    async def award_notice(self, tender_id: FromPath[UUID]) -> Response[bytes]:
        """The award notice of a published tender, without signing in (the same document as
        /api/v1/tenders/{id}/award-notice.pdf)."""
        return pdf_response(await reports.award_notice(None, tender_id), f"award-notice-{tender_id}.pdf")
