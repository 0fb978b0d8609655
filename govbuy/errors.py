"""Domain errors and the one place they become RFC 9457 problem+json responses.

Services raise `RuleViolation` (from rules) or the errors below, never HTTP exceptions; the
app maps them, Litestar's own exceptions and database failures to a stable `code`.
"""

from __future__ import annotations

import logging
from typing import Any

import asyncpg
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from pydantic import BaseModel, Field

from govbuy.rules import RuleViolation
from govbuy.schemas import DATE_OUT_OF_RANGE

log = logging.getLogger("govbuy.errors")

PROBLEM_JSON = "application/problem+json"
# What every 503 tells the client to wait before trying again, in seconds (Retry-After).
RETRY_AFTER_SECONDS = 5


class Problem(BaseModel):
    """RFC 9457 problem details: the body of every error the API answers (DESIGN §4)."""

    type: str = Field(description="urn:govbuy:problem:<code>")
    title: str
    status: int
    detail: str
    code: str = Field(description="stable snake_case error code")
    errors: list[dict[str, Any]] | None = Field(default=None, description="the fields at fault, if any")


class NotFound(RuleViolation):
    """Missing, or not the caller's to see: both answer 404 so that ids leak nothing."""

    def __init__(self, entity: str, entity_id: Any = None) -> None:
        detail = f"{entity} not found" if entity_id is None else f"{entity} {entity_id} not found"
        super().__init__("not_found", detail, status=404)


class Forbidden(RuleViolation):
    def __init__(self, detail: str, code: str = "role_not_allowed") -> None:
        super().__init__(code, detail, status=403)


class PreconditionFailed(RuleViolation):
    def __init__(self, current_version: int) -> None:
        super().__init__(
            "version_mismatch",
            f"the resource has changed (current ETag \"{current_version}\"): reload and retry",
            status=412,
        )


class PreconditionRequired(RuleViolation):
    def __init__(self) -> None:
        super().__init__(
            "precondition_required",
            "this edit needs If-Match with the ETag last read, so that it cannot overwrite a change "
            "it has not seen: read the resource and send its ETag",
            status=428,
        )


class Unauthenticated(RuleViolation):
    def __init__(self, detail: str = "a valid bearer token is required") -> None:
        super().__init__("not_authenticated", detail, status=401)


class TooManyRequests(RuleViolation):
    def __init__(self, detail: str, retry_after: int, code: str = "rate_limited") -> None:
        super().__init__(code, detail, status=429)
        self.retry_after = retry_after


class ServiceUnavailable(RuleViolation):
    def __init__(self, detail: str, code: str = "database_unavailable") -> None:
        super().__init__(code, detail, status=503)


def _retry_later() -> dict[str, str]:
    return {"Retry-After": str(RETRY_AFTER_SECONDS)}


def check_if_match(if_match: str | None, version: int) -> None:
    """Compare an If-Match header with a resource's version; absent means no check (where the
    header is required, govbuy.http.enforce_if_match has answered 428 before).

    Strong comparison (RFC 9110 §13.1.1), as If-Match requires: only the quoted tag `"9"` of
    the current version, or `*`, matches. A weak tag (`W/"9"`) says "equivalent", not "the same
    bytes", so it never licenses a write; an unquoted `9` is no entity tag at all."""
    if if_match is None:
        return
    tags = {t.strip() for t in if_match.split(",")}
    if "*" not in tags and f'"{version}"' not in tags:
        raise PreconditionFailed(version)


_TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    412: "Precondition failed",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    428: "Precondition required",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}

_HTTP_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "role_not_allowed",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    503: "service_unavailable",
}


def problem(
    status: int,
    code: str,
    detail: str,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body: dict[str, Any] = {
        "type": f"urn:govbuy:problem:{code}",
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "code": code,
    }
    if errors:
        body["errors"] = errors
    return Response(content=body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _validation_errors(extra: Any) -> list[dict[str, Any]]:
    errors = []
    for item in extra if isinstance(extra, list) else []:
        if isinstance(item, dict):
            errors.append(
                {
                    "field": str(item.get("key") or item.get("loc") or ""),
                    "message": str(item.get("message") or item.get("msg") or item),
                    **({"source": item["source"]} if "source" in item else {}),
                }
            )
    return errors


def handle_rule_violation(_: Request, exc: RuleViolation) -> Response:
    headers = None
    if isinstance(exc, TooManyRequests):
        headers = {"Retry-After": str(exc.retry_after)}
    elif exc.status == 503:
        headers = _retry_later()
    return problem(exc.status, exc.code, exc.detail, exc.errors, headers)


def handle_validation(_: Request, exc: ValidationException) -> Response:
    errors = _validation_errors(exc.extra)
    prefix = f"{DATE_OUT_OF_RANGE}: "
    if errors and all(e["message"].startswith(prefix) for e in errors):
        # Only dates outside the window (govbuy.schemas.Input): their own code, naming the fields.
        for error in errors:
            error["message"] = error["message"].removeprefix(prefix)
        fields = ", ".join(e["field"] for e in errors)
        return problem(422, DATE_OUT_OF_RANGE, f"outside the dates this service accepts: {fields}", errors)
    return problem(422, "invalid_input", "the request is not valid", errors)


def handle_http(_: Request, exc: HTTPException) -> Response:
    status = exc.status_code
    if status == 400:
        # Litestar answers 400 for bodies it cannot decode; to clients that is bad input (422).
        return problem(422, "malformed_request", f"the request body could not be read: {exc.detail}")
    code = _HTTP_CODES.get(status, "http_error")
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail else _TITLES.get(status, "")
    return problem(status, code, detail, headers=exc.headers)


_UNAVAILABLE = (
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.ConnectionFailureError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.exceptions.InterfaceError,
    ConnectionError,
    OSError,
    TimeoutError,
)


def _broken_connection(exc: Exception) -> bool:
    """A connection that broke in the middle of an operation leaves its protocol in a state that
    asyncpg reports as an InternalClientError (seen when the server is killed under load): that is
    the outage again. Any other InternalClientError is a bug, and answers 500."""
    return isinstance(exc, asyncpg.exceptions.InternalClientError) and "cannot switch to state" in str(exc)


def handle_database(_: Request, exc: Exception) -> Response:
    if isinstance(exc, asyncpg.exceptions.UniqueViolationError):
        return problem(409, "already_exists", f"already exists ({exc.constraint_name})")
    if isinstance(exc, asyncpg.exceptions.ForeignKeyViolationError):
        return problem(422, "reference_not_found", f"a referenced record does not exist ({exc.constraint_name})")
    if isinstance(exc, asyncpg.exceptions.CheckViolationError):
        return problem(422, "constraint_violated", f"the value breaks a rule ({exc.constraint_name})")
    if isinstance(exc, (asyncpg.exceptions.DataError, asyncpg.exceptions.NotNullViolationError)):
        return problem(422, "invalid_input", "a value is out of range or malformed")
    if isinstance(
        exc,
        (asyncpg.exceptions.SerializationError, asyncpg.exceptions.DeadlockDetectedError),
    ):
        return problem(409, "concurrent_update", "a concurrent change interfered: retry")
    if isinstance(exc, (asyncpg.exceptions.QueryCanceledError, asyncpg.exceptions.LockNotAvailableError)):
        return problem(503, "database_timeout", "the database took too long: retry later", headers=_retry_later())
    if isinstance(exc, _UNAVAILABLE) or _broken_connection(exc):
        log.warning("database unavailable: %r", exc)
        return problem(503, "database_unavailable", "the database is not reachable: retry later", headers=_retry_later())
    log.exception("database error", exc_info=exc)
    return problem(500, "internal_error", "an unexpected error occurred")


def handle_unexpected(request: Request, exc: Exception) -> Response:
    if isinstance(exc, (asyncpg.PostgresError, *_UNAVAILABLE)) or _broken_connection(exc):
        return handle_database(request, exc)
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem(500, "internal_error", "an unexpected error occurred")


EXCEPTION_HANDLERS = {
    RuleViolation: handle_rule_violation,
    ValidationException: handle_validation,
    HTTPException: handle_http,
    asyncpg.PostgresError: handle_database,
    Exception: handle_unexpected,
}
