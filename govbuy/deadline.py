"""The request deadline: every request answers within it, whatever it waits on.

A database that hangs (its processes stopped, a dead network path) does not fail a query: it
never answers one. asyncpg's command timeout (20 s) ends one query, but with PostgreSQL frozen
for 45 s a write queued behind stuck connections answered 503 after 40 s and the public reads
nothing at all. So each request runs under a deadline — `request_deadline_seconds` (10 s), or
`long_request_deadline_seconds` for the routes whose `opt` says `LONG_RUNNING` (imports, PDF
reports, the full walk of the audit chain) — and past it answers at once 503 problem+json with
`Retry-After`: `database_unavailable` when the database does not answer a probe either (within
`health_timeout_seconds`), else `request_timeout`.

The handler is cancelled and left to finish its clean-up in the background (the rollback of a
transaction on a frozen server waits for the server, or for the pool's acquire timeout);
whatever it sends afterwards is dropped. A response already started when the deadline comes
(a download under way) is let finish. A write whose COMMIT was already sent when its deadline
came may still commit: the 503 says its outcome is unknown, as any timeout does, and the writes
that must not happen twice take an Idempotency-Key.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from litestar.types import ASGIApp, Message, Receive, Scope, Send

from govbuy import database as db
from govbuy.errors import PROBLEM_JSON, RETRY_AFTER_SECONDS
from govbuy.http import LONG_RUNNING_OPT
from govbuy.settings import get_settings

log = logging.getLogger("govbuy.deadline")

# Handlers given up on, still cleaning up: kept referenced until they end.
_abandoned: set[asyncio.Task[Any]] = set()


def deadline_of(scope: Scope) -> float:
    settings = get_settings()
    handler = scope.get("route_handler")
    opt = getattr(handler, "opt", None) or {}
    return settings.long_request_deadline_seconds if opt.get(LONG_RUNNING_OPT) else settings.request_deadline_seconds


def _forget(task: asyncio.Task[Any]) -> None:
    _abandoned.discard(task)
    if not task.cancelled() and task.exception() is not None:
        log.debug("a request given up on ended with %r", task.exception())


async def _problem_503(send: Send, seconds: float) -> None:
    if await db.database_answers(get_settings().health_timeout_seconds):
        code, detail = "request_timeout", f"the request did not complete within {seconds:g} s: retry later"
    else:
        code, detail = "database_unavailable", f"the database did not answer within {seconds:g} s: retry later"
    body = json.dumps(
        {"type": f"urn:govbuy:problem:{code}", "title": "Service unavailable", "status": 503, "detail": detail, "code": code}
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", PROBLEM_JSON.encode()),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", str(RETRY_AFTER_SECONDS).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def request_deadline_middleware(app: ASGIApp) -> ASGIApp:
    """Run each HTTP request under its deadline (see the module's docstring)."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        seconds = deadline_of(scope)
        started = given_up = False

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if given_up:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        handler = asyncio.ensure_future(app(scope, receive, guarded_send))
        try:
            done, _ = await asyncio.wait({handler}, timeout=seconds)
            if not done and started:
                await handler
                return
        except asyncio.CancelledError:
            handler.cancel()
            raise
        if done:
            handler.result()
            return
        given_up = True
        handler.cancel()
        _abandoned.add(handler)
        handler.add_done_callback(_forget)
        log.warning("%s %s passed its deadline of %g s", scope["method"], scope.get("path", ""), seconds)
        await _problem_503(send, seconds)

    return middleware
