"""One cursor codec for every list (issue 19): a cursor this service did not issue — wrong
length, wrong types, not base64, not JSON, too long — is 422 `invalid_cursor` on every list
endpoint, never a 500. The lists are found in the app's routes (every handler with a `cursor`
query parameter), so a new list is covered without touching this file."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from govbuy.pagination import MAX_CURSOR_LENGTH, encode_cursor, typed_cursor
from govbuy.rules import RuleViolation
from tests import factories
from tests.govbuy.test_bad_input import assert_problem
from tests.govbuy.test_request_bodies import concrete_path
from tests.security.routes import app_endpoints

LISTS = [
    e
    for e in app_endpoints()
    if e.method == "GET"
    and "cursor" in e.handler.parsed_fn_signature.parameters
    and (e.public or (e.roles is not None and "admin" in e.roles))
]


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def of(values) -> str:
    return b64(json.dumps(values).encode())


# Values no position of any cursor takes (a str, an int64, a UUID, a date or an instant as text).
NO_KIND = [None, True, 1.5, 2**70, -(2**64), {}, [], "\u0000", "\ud800"]

CRAFTED = {
    "wrong length: none": of([]),
    "wrong length: four": of(["x", 1, str(uuid.uuid4()), "2026-12-08"]),
    **{f"wrong types: {json.dumps(v)[:12]} x{n}": of([v] * n) for v in NO_KIND for n in (1, 2, 3)},
    "not a list": of({"at": "2026-12-08T10:00:00+08:00"}),
    "a string": of("x"),
    "not base64": "!!!",
    "base64 with holes": "Wy J4 Il0",
    "truncated base64": "W",
    "not JSON": b64(b"hello"),
    "not UTF-8": b64(b"[\"\xff\xfe\"]"),
    "nested": of([[[[["x"]]]]]),
    "huge": "W" * 10_000,
    "just over the limit": of(["x" * MAX_CURSOR_LENGTH]),
}


def test_the_routes_have_lists():
    paths = {e.path for e in LISTS}
    assert len(LISTS) >= 20
    assert {"/api/v1/vendors", "/api/v1/audit-events", "/api/v1/public/notices"} <= paths


@pytest.mark.parametrize("endpoint", LISTS, ids=[str(e) for e in LISTS])
async def test_a_crafted_cursor_is_422_invalid_cursor_on_every_list(client, endpoint):
    headers = {} if endpoint.public else (await factories.fast_user("admin")).headers
    path = concrete_path(endpoint.route_path)
    for name, cursor in CRAFTED.items():
        response = await client.get(path, params={"cursor": cursor}, headers=headers)
        assert response.status_code == 422, f"{name}: {response.status_code} {response.text}"
        assert_problem(response, 422, "invalid_cursor")


@pytest.mark.parametrize("name_length", [20, 200], ids=["short names", "the longest names"])
async def test_an_issued_cursor_reads_the_next_page(client, name_length):
    admin = await factories.fast_user("admin")
    for n in range(3):
        await factories.organisation("vendor", f"{n}" + "社" * (name_length - 1))
    first = (await client.get("/api/v1/vendors", params={"limit": 2}, headers=admin.headers)).json()
    second = await client.get("/api/v1/vendors", params={"limit": 2, "cursor": first["next_cursor"]}, headers=admin.headers)
    assert second.status_code == 200, second.text
    assert len(first["items"]) == 2 and len(second.json()["items"]) == 1


# --- the codec --------------------------------------------------------------------------------

AT = datetime(2026, 12, 8, 10, 0, tzinfo=timezone(timedelta(hours=8)))


def test_every_kind_comes_back_as_it_was_issued():
    values = (AT, date(2026, 12, 8), uuid.uuid4(), 2**62, "社区养老 “A”\\")
    assert typed_cursor(encode_cursor(values), datetime, date, uuid.UUID, int, str) == list(values)


def test_no_cursor_is_the_first_page():
    assert typed_cursor(None, datetime, uuid.UUID) == [None, None]
    assert typed_cursor("", int) == [None]


@pytest.mark.parametrize(
    ("values", "kinds"),
    [
        (["2026-12-08T10:00:00"], (datetime,)),  # an instant without its offset
        (["0001-01-01T00:00:00+08:00"], (datetime,)),  # before the first instant in UTC
        (["9999-12-31T23:59:59-14:00"], (datetime,)),  # after the last one
        (["2026-12-08T10:00:00+08:00"], (date,)),
        (["5"], (int,)),
        ([5], (str,)),
        ([2**63], (int,)),
        (["not-a-uuid"], (uuid.UUID,)),
        ([str(uuid.uuid4())], (uuid.UUID, uuid.UUID)),
    ],
)
def test_a_value_of_the_wrong_kind_is_invalid_cursor(values, kinds):
    with pytest.raises(RuleViolation) as refused:
        typed_cursor(of(values), *kinds)
    assert refused.value.code == "invalid_cursor"


def test_instants_keep_their_instant():
    [at] = typed_cursor(of([AT.isoformat()]), datetime)
    assert at == AT and at.tzinfo is not None and at.astimezone(UTC) == AT
