"""The HTTP helpers every domain's controllers share: the list parameters (`Limit`, `Cursor`),
the `If-Match` header, the response that carries a resource's ETag, the conditional response of
a public read (ETag, Last-Modified, 304) and the cache lifetime of public lists, the route and response
of a PDF report, the app's request class, which reads every JSON body the same way, and the
caller's address as seen through the trusted proxies.

Written once so that every endpoint documents the same parameter the same way in the OpenAPI
document, and answers with the same headers.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Annotated, Any

from litestar import MediaType, Request, Response, get
from litestar.datastructures import CacheControlHeader, ResponseHeader
from litestar.serialization import encode_json, get_serializer
from litestar.handlers.base import BaseRouteHandler
from litestar.params import HeaderParameter, QueryParameter

from govbuy import clock
from govbuy.pagination import MAX_CURSOR_LENGTH, MAX_LIMIT
from govbuy.reports import CONTENT_SHA256_HEADER, PDF_MEDIA_TYPE, RenderedPdf, content_headers
from govbuy.errors import PreconditionRequired
from govbuy.rules import RuleViolation
from govbuy.schemas import request_today
from govbuy.settings import IpNetwork, get_settings

__all__ = [
    "LONG_RUNNING", "PUBLIC_CONTENT_CACHE", "PUBLIC_LIST_CACHE", "ApiRequest", "Cursor", "IfMatch", "Limit", "RequiredIfMatch",
    "client_address", "conditional_response", "enforce_if_match", "pdf_get", "pdf_response", "with_etag",
]

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
# Required on the edits of a document that two people may edit (docs/architecture.md, "If-Match"):
# a write without it would overwrite blindly, and is refused with 428 by `enforce_if_match`.
RequiredIfMatch = Annotated[
    str,
    HeaderParameter(
        name="If-Match", required=True, description="the ETag last read: required (428 if absent, 412 if stale)"
    ),
]


def requires_if_match(handler: BaseRouteHandler) -> bool:
    """Whether a route handler takes `RequiredIfMatch`."""
    return any(
        isinstance(kw := field.kwarg_definition, HeaderParameter)
        and (kw.name or "").lower() == "if-match"
        and kw.required
        for field in handler.parsed_fn_signature.parameters.values()
    )


async def enforce_if_match(request: Request) -> None:
    """The app's before-request hook: an edit that requires If-Match and lacks it is 428
    `precondition_required` (RFC 6585 §3), not Litestar's answer for a missing header; a query
    parameter the operation does not take is 422 `unknown_query_parameter`. It runs after the
    guards, so 401/403 come first; before the body is read and the record looked up."""
    if not request.headers.get("if-match", "").strip() and requires_if_match(request.route_handler):
        raise PreconditionRequired()
    check_query_parameters(request)


_QUERY_PARAMETERS: dict[int, frozenset[str]] = {}


def query_parameters(handler: BaseRouteHandler, path_parameters: Iterable[str]) -> frozenset[str]:
    """The query parameters a route handler takes (its own and its dependencies'), by name."""
    names = _QUERY_PARAMETERS.get(id(handler))
    if names is None:
        model = handler.create_kwargs_model(path_parameters=dict.fromkeys(path_parameters))  # type: ignore[arg-type]
        names = _QUERY_PARAMETERS[id(handler)] = frozenset(p.field_alias for p in model.expected_query_params)
    return names


def check_query_parameters(request: Request) -> None:
    """Refuse a query parameter the operation does not take: a misspelt filter
    (`?stauts=draft`) would otherwise be ignored and the client given every record, as if it
    had asked for them."""
    unknown = set(request.query_params) - query_parameters(request.route_handler, request.path_params)
    if unknown:
        names = sorted(unknown)
        raise RuleViolation(
            "unknown_query_parameter",
            f"this operation takes no query parameter {', '.join(repr(n) for n in names)}",
            errors=[{"field": f"query.{n}", "message": "not a parameter of this operation"} for n in names],
        )


# Public lists change with every publication: caches may keep one for a minute, no longer.
PUBLIC_LIST_CACHE = CacheControlHeader(public=True, max_age=60)
# Public content that does not change once published (a notice, a record as of its last
# release): caches keep it a minute too, then revalidate it with If-None-Match for a 304.
PUBLIC_CONTENT_CACHE = CacheControlHeader(public=True, max_age=60)


def _etag_matches(header: str, etag: str) -> bool:
    """If-None-Match (RFC 9110 §13.1.2): `*` or any listed tag, compared weakly."""
    tags = {t.strip().removeprefix("W/") for t in header.split(",")}
    return "*" in tags or etag.removeprefix("W/") in tags


def _not_modified_since(header: str, last_modified: datetime) -> bool:
    try:
        since = parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return False  # an unreadable date is ignored (RFC 9110 §13.1.3)
    return since.tzinfo is not None and last_modified.replace(microsecond=0) <= since


def conditional_response(
    request: Request, content: Any, *, last_modified: datetime | None = None, cache: CacheControlHeader = PUBLIC_CONTENT_CACHE
) -> Response[Any]:
    """A public read with validators: an ETag that is the digest of the body as served (so any
    change to the resource gives a new one) and, when given, Last-Modified; a request whose
    If-None-Match matches — or, without If-None-Match, whose If-Modified-Since is not older —
    gets 304 with no body (RFC 9110 §13.2.2)."""
    body = encode_json(content, serializer=get_serializer(request.route_handler.resolve_type_encoders()))
    etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
    headers = {"ETag": etag, cache.HEADER_NAME: cache.to_header()}
    if last_modified is not None:
        headers["Last-Modified"] = format_datetime(last_modified.astimezone(UTC), usegmt=True)
    if_none_match = request.headers.get("if-none-match")
    if_modified_since = request.headers.get("if-modified-since")
    if (if_none_match is not None and _etag_matches(if_none_match, etag)) or (
        if_none_match is None and if_modified_since and last_modified is not None
        and _not_modified_since(if_modified_since, last_modified)
    ):
        return Response(b"", status_code=304, headers=headers)
    return Response(body, media_type=MediaType.JSON, headers=headers)


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


# --- the caller's address ---------------------------------------------------------------------------

UNKNOWN_ADDRESS = "unknown"


def parse_address(text: str) -> str | None:
    """An address as a forwarded-for header writes one — `192.0.2.7`, `192.0.2.7:4711`,
    `[2001:db8::1]:4711`, `"[2001:db8::1]"` — in its canonical form (an IPv4-mapped IPv6 address
    as IPv4); None for anything else (`unknown`, an obfuscated `_hidden`, garbage)."""
    text = text.strip().strip('"')
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return str(address)


def forwarded_for(header: str, values: Iterable[str]) -> list[str]:
    """The hops a forwarded-for header lists, the client first and the nearest proxy's peer last,
    each as written: `X-Forwarded-For: a, b` or RFC 7239 `Forwarded: for=a;proto=https, for=b`.
    Several header lines are one list, in order."""
    hops: list[str] = []
    for value in values:
        for element in value.split(","):
            if header == "x-forwarded-for":
                hops.append(element)
                continue
            pairs = (pair.partition("=") for pair in element.split(";"))
            hops.extend(v for k, _, v in pairs if k.strip().lower() == "for")
    return hops


def resolve_client_address(peer: str | None, hops: Sequence[str], trusted: Sequence[IpNetwork]) -> str:
    """Who is calling: the direct peer, unless it is a trusted proxy; then, walking the hops the
    proxies appended from the right, the first address that is not a trusted proxy (a client
    writes what it likes to the left of what the proxies append, so the right-most untrusted
    address is the one a proxy saw). A hop that is not an address ends the walk at the proxy that
    passed it on; if every hop is a proxy, the left-most."""
    address = parse_address(peer or "")
    if address is None:
        return UNKNOWN_ADDRESS

    def is_proxy(candidate: str) -> bool:
        ip = ipaddress.ip_address(candidate)
        return any(ip.version == net.version and ip in net for net in trusted)

    for hop in reversed(hops):
        if not is_proxy(address):
            break
        forwarded = parse_address(hop)
        if forwarded is None:
            break
        address = forwarded
    return address


def client_address(request: Request) -> str:
    """The caller's address, seen through the proxies of GOVBUY_TRUSTED_PROXIES (none by default:
    a forwarded-for header is then never read, whoever sends it)."""
    settings = get_settings()
    peer = request.client.host if request.client else None
    hops: list[str] = []
    if settings.trusted_proxies:
        hops = forwarded_for(settings.forwarded_header, request.headers.getall(settings.forwarded_header, []))
    return resolve_client_address(peer, hops, settings.trusted_proxies)
