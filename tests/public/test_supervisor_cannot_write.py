"""A supervisor (审计, 人大, 监察) reads everything and writes nothing: every write endpoint of the
app, whatever domain it belongs to, refuses a supervisor with 403 before reading its input."""

from __future__ import annotations

import re
from uuid import uuid4

from tests import factories

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
_PARAMETER = re.compile(r"\{(\w+)(?::(\w+))?\}")
_SAMPLE = {"uuid": lambda: str(uuid4()), "int": lambda: "2026", "date": lambda: "2026-01-05", "str": lambda: "x", "path": lambda: "x"}


def concrete(path: str) -> str:
    """The route's path with every parameter replaced by a value of its type (random ids)."""
    return _PARAMETER.sub(lambda m: _SAMPLE.get(m.group(2) or "str", _SAMPLE["str"])(), path)


# A user's own session is not the service's data: a supervisor too signs out and changes its
# password (tests/govbuy/test_sessions.py).
OWN_SESSION = {("POST", "/api/v1/auth/logout"), ("POST", "/api/v1/auth/password"),
               ("POST", "/api/v1/notifications/{notification_id:uuid}/read")}  # and its inbox's read marks


def write_endpoints(app) -> list[tuple[str, str]]:
    endpoints = []
    for route in app.routes:
        for method, (handler, *_rest) in getattr(route, "route_handler_map", {}).items():
            if method in WRITE_METHODS and not handler.opt.get("exclude_from_auth") and (method, route.path) not in OWN_SESSION:
                endpoints.append((method, route.path))
    return sorted(endpoints)


async def test_every_write_endpoint_refuses_a_supervisor_before_anything_else(app, client):
    supervisor = await factories.signed_in("supervisor")
    endpoints = write_endpoints(app)
    # The kernel's own writes alone are more than ten; the domains add theirs as they land.
    assert len(endpoints) > 10
    answers = {}
    for method, path in endpoints:
        response = await client.request(method, concrete(path), json={}, headers=supervisor.headers)
        answers[f"{method} {path}"] = (response.status_code, response.headers.get("content-type", ""))
    refused_otherwise = {k: v for k, v in answers.items() if v[0] != 403}
    assert refused_otherwise == {}
    assert all(ct.startswith("application/problem+json") for _, ct in answers.values())


async def test_a_supervisor_changes_nothing_by_trying(app, client):
    from govbuy import database as db

    supervisor = await factories.signed_in("supervisor")
    before = await db.fetchval("SELECT count(*) FROM audit_events")
    for method, path in write_endpoints(app):
        await client.request(method, concrete(path), json={}, headers=supervisor.headers)
    assert await db.fetchval("SELECT count(*) FROM audit_events") == before
