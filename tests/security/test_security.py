"""Tokens, passwords, response headers, CORS, request sizes and the document store's folder."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from collections import Counter
from pathlib import Path

import httpx
import jwt
import pytest

from bench import harness
from govbuy import auth
from govbuy.app import DOCS_CSP, create_app
from govbuy.settings import get_settings
from tests import factories
from tests.security.routes import app_endpoints

SECRET_PASSWORD = "Zebra-Ladder-Quartz-8815"


def _problem(response: httpx.Response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    if code:
        assert body["code"] == code
    return body


@pytest.fixture
def short_tokens(monkeypatch):
    monkeypatch.setenv("GOVBUY_TOKEN_TTL_SECONDS", "3")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


# --- tokens -----------------------------------------------------------------------------------


async def test_a_token_is_refused_once_it_has_expired(client, short_tokens):
    await factories.signed_in("vendor", username="expiring")
    signed = await client.post("/api/v1/auth/token", json={"username": "expiring", "password": factories.PASSWORD})
    assert signed.json()["expires_in"] == 3
    headers = {"Authorization": f"Bearer {signed.json()['access_token']}"}
    assert (await client.get("/api/v1/auth/me", headers=headers)).status_code == 200
    await asyncio.sleep(3.1)
    _problem(await client.get("/api/v1/auth/me", headers=headers), 401, "not_authenticated")


async def test_moving_the_sandbox_clock_neither_extends_nor_ends_a_token(client):
    admin = await factories.signed_in("admin")
    old, _ = auth.issue_token(admin.user.id, auth.utcnow() - __import__("datetime").timedelta(hours=2))
    assert (await client.post("/api/v1/sandbox/clock", headers=admin.headers, json={"advance_days": 400})).status_code == 200
    assert (await client.get("/api/v1/auth/me", headers=admin.headers)).status_code == 200
    _problem(await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {old}"}), 401)


@pytest.mark.parametrize("forgery", ["alg_none", "tampered_subject", "no_expiry", "garbage"])
async def test_forged_tokens_are_refused(client, forgery):
    victim = await factories.signed_in("admin")
    other = await factories.signed_in("vendor")
    if forgery == "alg_none":
        token = jwt.encode({"sub": str(victim.user.id), "exp": 4102444800}, key=None, algorithm="none")
    elif forgery == "tampered_subject":
        header, payload, signature = other.token.split(".")
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        claims["sub"] = str(victim.user.id)
        forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
        token = f"{header}.{forged}.{signature}"
    elif forgery == "no_expiry":
        token = jwt.encode({"sub": str(victim.user.id)}, get_settings().secret_key, algorithm="HS256")
    else:
        token = "not.a.token"
    _problem(await client.get("/api/v1/users", headers={"Authorization": f"Bearer {token}"}), 401, "not_authenticated")


# --- passwords --------------------------------------------------------------------------------


async def test_passwords_are_never_logged_nor_returned(client, caplog):
    caplog.set_level(logging.DEBUG)
    admin = await factories.signed_in("admin")
    org = await factories.organisation("vendor")
    created = await client.post(
        "/api/v1/users", headers=admin.headers,
        json={"username": "secretive", "password": SECRET_PASSWORD, "organisation_id": str(org.id), "role": "vendor"},
    )
    assert created.status_code == 201
    wrong = await client.post("/api/v1/auth/token", json={"username": "secretive", "password": SECRET_PASSWORD + "x"})
    right = await client.post("/api/v1/auth/token", json={"username": "secretive", "password": SECRET_PASSWORD})
    assert (wrong.status_code, right.status_code) == (401, 200)
    too_short = await client.post(
        "/api/v1/users", headers=admin.headers,
        json={"username": "shorty", "password": "Zq-8815", "organisation_id": str(org.id), "role": "vendor"},
    )
    assert too_short.status_code == 422
    answers = [created, wrong, right, too_short]
    for path in ("/api/v1/users", f"/api/v1/users/{created.json()['id']}", "/api/v1/audit-events?limit=200"):
        answers.append(await client.get(path, headers=admin.headers))
    for response in answers:
        assert SECRET_PASSWORD not in response.text and "Zq-8815" not in response.text, response.request.url
        assert "$argon2" not in response.text and "password_hash" not in response.text
    logged = "\n".join(f"{r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in caplog.records)
    assert caplog.records, "nothing was captured: the check would prove nothing"
    assert SECRET_PASSWORD not in logged and "Zq-8815" not in logged and "$argon2" not in logged


def test_the_running_service_logs_no_password(security_server):
    log = security_server.log_text()
    assert "created the first admin" in log  # the log is the one the accounts were made under
    for secret in (harness.PASSWORD, harness.ADMIN_PASSWORD, "$argon2"):
        assert secret not in log


# --- headers and CORS -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/health"), ("GET", "/api/v1/organisations"), ("GET", "/api/v1/no-such-thing"), ("DELETE", "/api/v1/auth/token"),
     ("GET", "/api/v1/public/tenders"), ("GET", "/schema/openapi.json")],
)
async def test_every_answer_carries_the_security_headers(client, method, path):
    response = await client.request(method, path)
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    # Public lists may be cached a minute by anyone (docs/ocds.md, "HTTP caching"); nothing else.
    cached = path.startswith("/api/v1/public/")
    assert response.headers.get("cache-control") == ("max-age=60, public" if cached else "no-store")
    if path.startswith("/api/"):
        assert response.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"


async def test_the_docs_page_has_its_own_content_security_policy(client):
    page = await client.get("/schema")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert page.headers["content-security-policy"] == DOCS_CSP
    assert "script-src 'self'" in DOCS_CSP and "frame-ancestors 'none'" in DOCS_CSP and "default-src 'self'" in DOCS_CSP


async def test_cors_is_closed_by_default(client):
    for method, headers in (
        ("OPTIONS", {"Origin": "https://evil.example", "Access-Control-Request-Method": "GET",
                     "Access-Control-Request-Headers": "authorization"}),
        ("GET", {"Origin": "https://evil.example"}),
    ):
        response = await client.request(method, "/api/v1/public/tenders", headers=headers)
        assert not any(h.startswith("access-control-allow") for h in response.headers), response.headers


async def test_cors_opens_only_to_the_configured_origins(monkeypatch, database):
    monkeypatch.setenv("GOVBUY_CORS_ORIGINS", "https://portal.example.gov.cn")
    get_settings.cache_clear()
    try:
        app = create_app(manage_pool=False)
    finally:
        get_settings.cache_clear()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://govbuy.test") as c:
        preflight = {"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization"}
        good = await c.options("/api/v1/public/tenders", headers={"Origin": "https://portal.example.gov.cn", **preflight})
        evil = await c.options("/api/v1/public/tenders", headers={"Origin": "https://evil.example", **preflight})
    assert good.headers.get("access-control-allow-origin") == "https://portal.example.gov.cn"
    assert evil.headers.get("access-control-allow-origin") in (None, "https://portal.example.gov.cn")
    assert "*" not in good.headers.get("access-control-allow-origin", "")


# --- request sizes -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "signed_in"),
    [("/api/v1/auth/token", False), ("/api/v1/organisations", True), ("/api/v1/calendar/2031", True)],
)
async def test_a_body_over_the_json_limit_is_413_before_anything_else(client, path, signed_in):
    headers = (await factories.signed_in("admin")).headers if signed_in else {}
    body = b'{"name": "' + b"x" * (get_settings().max_json_bytes + 10) + b'"}'
    method = "PUT" if "calendar" in path else "POST"
    response = await client.request(method, path, headers={**headers, "content-type": "application/json"}, content=body)
    _problem(response, 413, "payload_too_large")


async def test_a_chunked_body_over_the_limit_is_413(client):
    admin = await factories.signed_in("admin")

    async def chunks():
        for _ in range(get_settings().max_json_bytes // 65536 + 2):
            yield b"x" * 65536

    response = await client.post(
        "/api/v1/organisations", headers={**admin.headers, "content-type": "application/json"}, content=chunks()
    )
    _problem(response, 413, "payload_too_large")


def _raw_status(server: harness.LiveServer, request: bytes) -> int:
    """Send raw bytes (httpx refuses to build such requests) and read the status line."""
    import socket
    from urllib.parse import urlsplit

    url = urlsplit(server.base_url)
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall(request)
        answer = sock.recv(4096)
    return int(answer.split(b" ", 2)[1])


def test_oversized_request_lines_and_headers_are_refused_by_the_server(security_server):
    # govbuy serve bounds what it buffers of a request's head (cli.MAX_REQUEST_HEAD_BYTES, give or
    # take one read from the socket): a megabyte of request line or of headers is refused.
    long_line = b"GET /api/v1/public/tenders?q=" + b"x" * 1_000_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    big_header = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Filler: " + b"y" * 1_000_000 + b"\r\n\r\n"
    for request in (long_line, big_header):
        try:
            status = _raw_status(security_server, request)
        except ConnectionResetError:
            continue  # refused before it was read to the end: as good
        assert 400 <= status < 500
    with security_server.client() as c:
        assert c.get("/health").status_code == 200  # and it still answers


# --- the document store -----------------------------------------------------------------------------


TRAVERSALS = ["../../etc/passwd", "..", "/etc/passwd", "..%2F..%2Fetc%2Fpasswd", "....//....//etc/passwd",
              "a" * 62 + "/.", "%00", "C:\\Windows\\win.ini", "0" * 63 + "/"]


@pytest.mark.parametrize("name", TRAVERSALS)
def test_a_document_id_cannot_name_a_path(name, tmp_path):
    from govbuy import documents
    from govbuy.errors import NotFound

    store = documents.LocalDocumentStore(tmp_path / "documents")
    with pytest.raises(ValueError):
        store.path_for(name)
    with pytest.raises(NotFound):
        documents.check_sha256(name)


async def test_stored_blobs_stay_inside_the_storage_folder_whatever_the_names(tmp_path):
    from govbuy import documents

    root = tmp_path / "documents"
    store = documents.LocalDocumentStore(root)
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    sha = await store.put(pdf)
    assert await store.get(sha) == pdf
    stored = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert stored and all(root in p.parents for p in stored)
    for name in ("../../etc/passwd", "..\\..\\boot.ini", "/abs/path/报告.pdf", "\x00evil.pdf", "...", "a/../../b.pdf"):
        cleaned = documents.clean_name(name, "application/pdf")
        assert "/" not in cleaned and "\\" not in cleaned and "\x00" not in cleaned and cleaned not in ("", ".", "..")
    for bad in ("../" + sha, sha.upper(), sha[:-1] + "/"):
        with pytest.raises((ValueError, FileNotFoundError)):
            await store.get(bad)


async def test_uploads_through_the_api_cannot_escape_the_storage_folder(client):
    if not any(e.path == "/api/v1/documents" for e in app_endpoints()):
        pytest.skip("the documents endpoint is not mounted in the app yet")
    vendor = await factories.signed_in("vendor")
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    response = await client.post(
        "/api/v1/documents", headers=vendor.headers,
        files={"file": ("../../../../tmp/escaped.pdf", pdf, "application/pdf")},
    )
    assert response.status_code in (200, 201), response.text
    record = response.json()
    assert record["original_name"] == "escaped.pdf"
    root = get_settings().data_dir / "documents"
    assert (root / record["sha256"][:2] / record["sha256"][2:4] / record["sha256"]).is_file()
    assert not Path("/tmp/escaped.pdf").exists()
    for name in ("..%2F..%2Fetc%2Fpasswd", "....", "%2e%2e"):
        _problem(await client.get(f"/api/v1/documents/{name}", headers=vendor.headers), 404)


# --- the sign-in limiter under a flood ----------------------------------------------------------------


async def test_a_flood_of_wrong_passwords_reaches_the_password_check_at_most_the_limit(app, database):
    limit = get_settings().login_max_failures
    await factories.signed_in("vendor", username="flooded")
    transport = httpx.ASGITransport(app=app, client=("198.51.100.23", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://govbuy.test", timeout=120) as c:
        answers = await asyncio.gather(
            *(c.post("/api/v1/auth/token", json={"username": "flooded", "password": f"guess-{n}"}) for n in range(200))
        )
        statuses = Counter(r.status_code for r in answers)
        # Every 401 is an attempt whose password was checked; all the others were refused before.
        assert statuses[401] <= limit, statuses
        assert statuses[401] + statuses[429] == 200, statuses
        # From the flooding address the account backs off, the right password included.
        right = await c.post("/api/v1/auth/token", json={"username": "flooded", "password": factories.PASSWORD})
        _problem(right, 429, "rate_limited")
        assert int(right.headers["retry-after"]) > 0
