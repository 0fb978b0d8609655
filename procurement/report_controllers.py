"""The award notice endpoints (PDF): for signed-in users under /tenders and, since the notice is
public (DESIGN §8), for everyone under /public/tenders. Both give the same document."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, Request, Response, get
from litestar.datastructures import ResponseHeader
from litestar.params import FromPath

from govbuy.auth import any_signed_in
from govbuy.reports import CONTENT_SHA256_HEADER, PDF_MEDIA_TYPE, RenderedPdf, content_headers
from procurement import reports

PDF_HEADERS = [
    ResponseHeader(
        name=CONTENT_SHA256_HEADER,
        description="SHA-256 of the PDF bytes (the footer carries the data digest)",
        documentation_only=True,
    )
]
DESCRIPTION = "the award notice (中标/成交结果公告), A4 PDF"


def _pdf(rendered: RenderedPdf, tender_id: UUID) -> Response[bytes]:
    headers = content_headers(rendered)
    headers["Content-Disposition"] = f'inline; filename="award-notice-{tender_id}.pdf"'
    return Response(rendered.content, media_type=PDF_MEDIA_TYPE, headers=headers)


class TenderReportController(Controller):
    path = "/api/v1/tenders"
    tags = ["reports"]
    guards = [any_signed_in]

    @get(
        "/{tender_id:uuid}/award-notice.pdf",
        media_type=PDF_MEDIA_TYPE,
        response_headers=PDF_HEADERS,
        response_description=DESCRIPTION,
    )
    async def award_notice(self, request: Request, tender_id: FromPath[UUID]) -> Response[bytes]:
        """The tender's award notice: terms, winner and amount, the ranking with each bidder's
        price, scores and credit grade at opening, invalid bids, the standstill."""
        return _pdf(await reports.award_notice(request.user, tender_id), tender_id)


class PublicTenderReportController(Controller):
    path = "/api/v1/public/tenders"
    tags = ["public", "reports"]
    opt = {"exclude_from_auth": True}

    @get(
        "/{tender_id:uuid}/award-notice.pdf",
        media_type=PDF_MEDIA_TYPE,
        response_headers=PDF_HEADERS,
        response_description=DESCRIPTION,
    )
    async def award_notice(self, tender_id: FromPath[UUID]) -> Response[bytes]:
        """The award notice of a published tender, without signing in (the same document as
        /api/v1/tenders/{id}/award-notice.pdf)."""
        return _pdf(await reports.award_notice(None, tender_id), tender_id)


CONTROLLERS = [TenderReportController, PublicTenderReportController]
