"""Every endpoint that reads a JSON body reads it the same way (issue 19): only a body sent as
JSON (`application/json` or `application/…+json`) is read, anything else is 415
`unsupported_media_type`; a body nested deeper than MAX_JSON_DEPTH is 422 `json_too_deep`
before it is decoded (the decoder recurses once per level). Generated from the app's routes: a
new JSON endpoint is covered without touching this file."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from litestar.enums import RequestEncodingType

from govbuy.http import MAX_JSON_DEPTH, json_nesting_exceeds
from tests import factories
from tests.govbuy.test_bad_input import assert_problem
from tests.govbuy.test_documents import PDF
from tests.procurement import support as s
from tests.security.routes import Endpoint, app_endpoints


def _body_kind(endpoint: Endpoint) -> RequestEncodingType | None:
    data = endpoint.handler.parsed_fn_signature.parameters.get("data")
    if data is None:
        return None
    return getattr(data.kwarg_definition, "media_type", None) or RequestEncodingType.JSON


JSON_ENDPOINTS = [e for e in app_endpoints() if _body_kind(e) == RequestEncodingType.JSON]
UPLOAD_ENDPOINTS = [e for e in app_endpoints() if _body_kind(e) == RequestEncodingType.MULTI_PART]

_PATH_VALUES = {"uuid": lambda: str(uuid.uuid4()), "int": lambda: "2027", "str": lambda: "x", "date": lambda: "2027-01-04"}


def concrete_path(route_path: str) -> str:
    """A route path with a value of the right type in each parameter (they exist nowhere: the
    body is refused before anything is looked up)."""
    parts = []
    for part in route_path.split("/"):
        if part.startswith("{") and part.endswith("}"):
            kind = part[1:-1].partition(":")[2] or "str"
            part = _PATH_VALUES[kind]()
        parts.append(part)
    return "/".join(parts)


async def caller_headers(endpoint: Endpoint, users: dict[str, factories.SignedIn]) -> dict[str, str]:
    """Headers of a caller the endpoint admits (admin where it may), with If-Match `*`, so that the
    edits that require one (428 without) read the body too."""
    if endpoint.public:
        return {}
    roles = endpoint.roles or frozenset({"admin"})
    role = "admin" if "admin" in roles else sorted(roles)[0]
    if role not in users:
        users[role] = await factories.fast_user(role)
    return {**users[role].headers, "If-Match": "*"}


def _ids(endpoints: list[Endpoint]) -> list[str]:
    return [str(e) for e in endpoints]


def test_the_routes_have_json_endpoints_and_upload_endpoints():
    assert len(JSON_ENDPOINTS) > 40
    assert ("POST", "/api/v1/auth/token") in {e.key for e in JSON_ENDPOINTS}
    assert {e.key for e in UPLOAD_ENDPOINTS} >= {("POST", "/api/v1/documents")}


# --- depth --------------------------------------------------------------------------------------

DEEP_BODIES = {
    "arrays": b"[" * 1000 + b"]" * 1000,
    "objects": b'{"a":' * 1000 + b"1" + b"}" * 1000,
    "inside a field": b'{"title": ' + b"[" * 1000 + b"]" * 1000 + b"}",
    "unterminated": b"[" * 100_000,
}


@pytest.mark.parametrize("endpoint", JSON_ENDPOINTS, ids=_ids(JSON_ENDPOINTS))
async def test_a_deeply_nested_body_is_422_json_too_deep_on_every_json_endpoint(client, endpoint):
    headers = {**await caller_headers(endpoint, {}), "content-type": "application/json"}
    path = concrete_path(endpoint.route_path)
    for name, body in DEEP_BODIES.items():
        response = await client.request(endpoint.method, path, headers=headers, content=body)
        problem = assert_problem(response, 422, "json_too_deep")
        assert str(MAX_JSON_DEPTH) in problem["detail"], name


async def test_a_body_as_deep_as_the_limit_is_decoded(client):
    nested = b"[" * (MAX_JSON_DEPTH - 1) + b"]" * (MAX_JSON_DEPTH - 1)  # in an object: the limit
    response = await client.post(
        "/api/v1/auth/token", headers={"content-type": "application/json"}, content=b'{"username": ' + nested + b"}"
    )
    assert_problem(response, 422, "invalid_input")  # read, and refused for what it says


@pytest.mark.parametrize(
    ("text", "too_deep"),
    [
        (b"[" * 65 + b"]" * 65, True),
        (b"[" * 64 + b"]" * 64, False),
        (b"[]" * 10_000, False),
        (b'{"a": "' + b"[" * 1000 + b'"}', False),  # brackets inside a string are text
        (b'{"a": "\\"' + b"[" * 1000 + b'"}', False),  # an escaped quote does not end the string
        (b'{"a": "\\\\", "b": ' + b"[" * 65 + b"]" * 65 + b"}", True),  # an escaped backslash does
        (b"{" * 40 + b"[" * 40, True),
    ],
    ids=["65", "64", "wide", "brackets in a string", "escaped quote", "escaped backslash", "mixed"],
)
def test_nesting_is_measured_without_decoding(text, too_deep):
    assert json_nesting_exceeds(text, 64) is too_deep


# --- media type ---------------------------------------------------------------------------------

NOT_JSON = ["text/plain", "application/xml", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None]


@pytest.mark.parametrize("endpoint", JSON_ENDPOINTS, ids=_ids(JSON_ENDPOINTS))
async def test_a_body_not_sent_as_json_is_415_on_every_json_endpoint(client, endpoint):
    caller = await caller_headers(endpoint, {})
    path = concrete_path(endpoint.route_path)
    for media_type in NOT_JSON:
        headers = {**caller, **({"content-type": media_type} if media_type else {})}
        response = await client.request(endpoint.method, path, headers=headers, content=b"{}")
        assert_problem(response, 415, "unsupported_media_type")


async def test_a_tender_sent_as_text_is_415_and_not_stored(client):
    w = await s.world()
    body = json.dumps(s.tender_body(w, await s.now(client, w.bureau) + timedelta(days=25)))
    for media_type in ("text/plain", "application/xml"):
        response = await client.post("/api/v1/tenders", headers={**w.bureau.headers, "content-type": media_type}, content=body)
        assert_problem(response, 415, "unsupported_media_type")
    assert await s.count("tenders") == 0
    created = await client.post("/api/v1/tenders", headers={**w.bureau.headers, "content-type": "application/json"}, content=body)
    assert created.status_code == 201, created.text


@pytest.mark.parametrize(
    "media_type", ["application/json", "application/json; charset=utf-8", "Application/JSON", "application/merge-patch+json"]
)
async def test_json_and_json_suffixed_media_types_are_read(client, media_type):
    response = await client.post(
        "/api/v1/auth/token", headers={"content-type": media_type}, content=b'{"username": "nobody", "password": "x"}'
    )
    assert_problem(response, 401, "invalid_credentials")


async def test_a_json_endpoint_with_an_optional_body_takes_none_without_a_content_type(client):
    admin = await factories.fast_user("admin")
    response = await client.post(f"/api/v1/tenders/{uuid.uuid4()}/award", headers=admin.headers)
    assert response.status_code != 415, response.text


async def test_uploads_are_still_multipart(client):
    vendor = await factories.fast_user("vendor")
    response = await client.post(
        "/api/v1/documents", headers=vendor.headers, files={"file": ("offer.pdf", PDF, "application/pdf")}
    )
    assert response.status_code in (200, 201), response.text
