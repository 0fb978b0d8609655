"""The HTTP helpers every domain's controllers share: the list parameters (`Limit`, `Cursor`),
the `If-Match` header, the response that carries a resource's ETag, and the route and response
of a PDF report.

Written once so that every endpoint documents the same parameter the same way in the OpenAPI
document, and answers with the same headers.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Response, get
from litestar.datastructures import ResponseHeader
from litestar.params import HeaderParameter, QueryParameter

from govbuy.pagination import MAX_LIMIT
from govbuy.reports import CONTENT_SHA256_HEADER, PDF_MEDIA_TYPE, RenderedPdf, content_headers

__all__ = ["Cursor", "IfMatch", "Limit", "pdf_get", "pdf_response", "with_etag"]

# The list parameters of every `{"items": [...], "next_cursor": ...}` endpoint (DESIGN §4).
Limit = Annotated[int | None, QueryParameter(ge=1, le=MAX_LIMIT, description=f"page size (≤ {MAX_LIMIT})")]
Cursor = Annotated[str | None, QueryParameter(max_length=512, description="from next_cursor")]

# Optional: a write without it is not checked; one with a stale version is refused with 412.
IfMatch = Annotated[
    str | None, HeaderParameter(name="If-Match", required=False, description="the ETag last read (412 if stale)")
]


def with_etag(model: Any, status_code: int = 200) -> Response[Any]:
    """A response carrying the resource's version as its ETag, for the next write's If-Match."""
    return Response(model, status_code=status_code, headers={"ETag": f'"{model.version}"'})


# Documented only: `pdf_response` sets it on every report.
_PDF_HEADERS = [
    ResponseHeader(
        name=CONTENT_SHA256_HEADER,
        description="SHA-256 of the PDF bytes (the footer carries the data digest)",
        documentation_only=True,
    )
]


def pdf_get(path: str, description: str, **options: Any) -> Any:
    """The GET route of a PDF report: its media type, its digest header and what it is, as the
    OpenAPI document shows them; `options` are the route's others (guards, ...)."""
    return get(
        path, media_type=PDF_MEDIA_TYPE, response_headers=_PDF_HEADERS, response_description=description, **options
    )


def pdf_response(rendered: RenderedPdf, filename: str) -> Response[bytes]:
    """A rendered report, shown inline by a browser, saved under `filename`, with its SHA-256."""
    headers = content_headers(rendered)
    headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return Response(rendered.content, media_type=PDF_MEDIA_TYPE, headers=headers)
