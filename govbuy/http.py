"""The HTTP helpers every domain's controllers share: the list parameters (`Limit`, `Cursor`),
the `If-Match` header, the response that carries a resource's ETag, the route and response
of a PDF report, and the app's request class, which reads every JSON body the same way.

Written once so that every endpoint documents the same parameter the same way in the OpenAPI
document, and answers with the same headers.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from litestar import Request, Response, get
from litestar.datastructures import ResponseHeader
from litestar.params import HeaderParameter, QueryParameter

from govbuy import clock
from govbuy.pagination import MAX_CURSOR_LENGTH, MAX_LIMIT
from govbuy.reports import CONTENT_SHA256_HEADER, PDF_MEDIA_TYPE, RenderedPdf, content_headers
from govbuy.rules import RuleViolation
from govbuy.schemas import request_today

__all__ = ["LONG_RUNNING", "ApiRequest", "Cursor", "IfMatch", "Limit", "pdf_get", "pdf_response", "with_etag"]

# A route's `opt` for work that may take long by nature (an import, a PDF report, a full walk of
# the audit chain): its deadline is `long_request_deadline_seconds` (govbuy/deadline.py).
LONG_RUNNING_OPT = "long_running"
LONG_RUNNING = {LONG_RUNNING_OPT: True}

# The list parameters of every `{"items": [...], "next_cursor": ...}` endpoint (DESIGN §4).
Limit = Annotated[int | None, QueryParameter(ge=1, le=MAX_LIMIT, description=f"page size (≤ {MAX_LIMIT})")]
# Its length is checked by the cursor codec, not here, so that a forged cursor of any kind is
# one answer (422 invalid_cursor); the document still says how long one may be.
Cursor = Annotated[
    str | None,
    QueryParameter(description="from next_cursor", schema_extra={"maxLength": MAX_CURSOR_LENGTH}),
]

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
    OpenAPI document shows them; `options` are the route's others (guards, ...). Rendering may
    take seconds (an annual report), so its deadline is the long one."""
    opt = {**LONG_RUNNING, **options.pop("opt", {})}
    return get(
        path, media_type=PDF_MEDIA_TYPE, response_headers=_PDF_HEADERS, response_description=description, opt=opt, **options
    )


def pdf_response(rendered: RenderedPdf, filename: str) -> Response[bytes]:
    """A rendered report, shown inline by a browser, saved under `filename`, with its SHA-256."""
    headers = content_headers(rendered)
    headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return Response(rendered.content, media_type=PDF_MEDIA_TYPE, headers=headers)


#: How deep arrays and objects may nest in a request body. The decoder recurses once per level
#: and fails with RecursionError near 1000; no body of this API needs more than a handful.
MAX_JSON_DEPTH = 64

# What matters to nesting: brackets, and the strings (with their escapes) they may hide in.
_JSON_STRUCTURE = re.compile(rb'[\[\]{}"\\]')
_OPEN, _CLOSE, _QUOTE, _BACKSLASH = b"[{", b"]}", ord('"'), ord("\\")


def json_nesting_exceeds(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether a JSON text nests arrays and objects deeper than `limit`, found without decoding
    it: one pass over its brackets, quotes and backslashes (none at all for most bodies)."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    depth, in_string, escaped_at = 0, False, -1
    for match in _JSON_STRUCTURE.finditer(body):
        at = match.start()
        char = body[at]
        if in_string:
            if at == escaped_at:
                continue
            if char == _BACKSLASH:
                escaped_at = at + 1
            elif char == _QUOTE:
                in_string = False
        elif char == _QUOTE:
            in_string = True
        elif char in _OPEN:
            depth += 1
            if depth > limit:
                return True
        elif char in _CLOSE:
            depth -= 1
    return False


def _is_json(media_type: str) -> bool:
    media_type = media_type.lower()
    return media_type == "application/json" or (media_type.startswith("application/") and media_type.endswith("+json"))


class ApiRequest(Request):
    """The app's request class. Litestar reads a JSON body through `json()`, for every endpoint
    that takes one and only when a body was sent, so its two checks live here: the body must be
    sent as JSON (415 otherwise: a JSON body behind `text/plain` is a client's mistake, and what
    slips past a CORS preflight), and nest no deeper than MAX_JSON_DEPTH (422, before the
    decoder recurses into it). It also gives the body's validation the service's date, the
    upper end of the dates a request may carry (govbuy.schemas.Input)."""

    async def json(self) -> Any:
        media_type, _ = self.content_type
        if not _is_json(media_type):
            raise RuleViolation(
                "unsupported_media_type",
                f"the body must be sent as application/json, not {media_type or 'without a Content-Type'}",
                status=415,
            )
        if json_nesting_exceeds(await self.body()):
            raise RuleViolation("json_too_deep", f"the body nests arrays and objects deeper than {MAX_JSON_DEPTH} levels")
        request_today.set(await clock.today())
        return await super().json()
