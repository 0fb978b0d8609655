"""Bad input anywhere is a 4xx problem+json with a stable code, and writes nothing."""

from __future__ import annotations

import json

import pytest

from govbuy import database as db
from tests import factories


def assert_problem(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert {"type", "title", "status", "detail", "code"} <= body.keys()
    assert body["status"] == status
    if code:
        assert body["code"] == code
    return body


async def _count_orgs() -> int:
    return await db.fetchval("SELECT count(*) FROM organisations")


@pytest.mark.parametrize(
    "payload",
    [
        {"name": 123, "kind": "bureau", "region_code": "440300"},
        {"name": "x", "kind": "ministry", "region_code": "440300"},
        {"name": "x", "kind": "bureau", "region_code": "4403"},
        {"kind": "bureau", "region_code": "440300"},
        {"name": "x", "kind": "bureau", "region_code": "440300", "is_admin": True},
        ["not", "an", "object"],
        "just a string",
    ],
    ids=["wrong type", "unknown enum", "bad pattern", "missing field", "unknown field", "array", "string"],
)
async def test_invalid_bodies_are_422_and_write_nothing(client, payload):
    admin = await factories.signed_in("admin")
    before = await _count_orgs()
    body = assert_problem(await client.post("/api/v1/organisations", headers=admin.headers, json=payload), 422)
    assert body["code"] in {"invalid_input", "malformed_request"}
    assert await _count_orgs() == before


async def test_invalid_input_lists_the_fields_at_fault(client):
    admin = await factories.signed_in("admin")
    body = assert_problem(
        await client.post("/api/v1/organisations", headers=admin.headers, json={"name": "x", "kind": "bureau", "surprise": 1}),
        422,
        "invalid_input",
    )
    assert body["errors"]


async def test_malformed_json_is_422(client):
    admin = await factories.signed_in("admin")
    response = await client.post(
        "/api/v1/organisations", headers={**admin.headers, "content-type": "application/json"}, content=b'{"name": "x",'
    )
    assert_problem(response, 422)


async def test_ten_megabytes_of_json_is_413(client):
    admin = await factories.signed_in("admin")
    payload = json.dumps({"name": "x" * (10 * 1024 * 1024), "kind": "bureau"}).encode()
    response = await client.post(
        "/api/v1/organisations", headers={**admin.headers, "content-type": "application/json"}, content=payload
    )
    assert_problem(response, 413, "payload_too_large")


async def test_a_malformed_id_in_the_path_is_a_4xx_not_a_500(client):
    admin = await factories.signed_in("admin")
    response = await client.get("/api/v1/organisations/not-a-uuid", headers=admin.headers)
    assert 400 <= response.status_code < 500
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_an_out_of_range_limit_is_refused(client):
    admin = await factories.signed_in("admin")
    response = await client.get("/api/v1/organisations?limit=5000", headers=admin.headers)
    assert 400 <= response.status_code < 500
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_a_forged_cursor_is_invalid_cursor(client):
    admin = await factories.signed_in("admin")
    assert_problem(await client.get("/api/v1/organisations?cursor=!!!", headers=admin.headers), 422, "invalid_cursor")


async def test_an_unknown_path_is_404_problem_json(client):
    assert_problem(await client.get("/api/v1/no-such-thing"), 404, "not_found")


async def test_a_wrong_method_is_405_problem_json(client):
    assert_problem(await client.delete("/api/v1/auth/token"), 405, "method_not_allowed")


async def test_a_malformed_authorization_header_is_401(client):
    response = await client.get("/api/v1/auth/me", headers={"Authorization": "Basic abc"})
    assert_problem(response, 401, "not_authenticated")
