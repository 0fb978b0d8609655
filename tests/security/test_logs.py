"""The running service's log: JSON lines with the request's fields, one access line per request,
and never a password, a token, an Authorization header, nor a bid's price or proposal."""

from __future__ import annotations

import json
import time

import pytest

from bench import harness, scenario
from govbuy.logs import redact

WRONG_PASSWORD = "Wrong-Horse-Battery-4471"
PROPOSAL = "投标方案机密：夜间照护队伍十二人 ref-7c1e"
PRICE = "912345.67"
REJECTED_PROPOSAL = "被拒绝的方案机密 ref-93ad"
FORGED_TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJmb3JnZWQifQ.c2lnbmF0dXJlLWZvcmdlZA"
QUERY_SECRET = "query-secret-5d2f"
LINE_FIELDS = {"time", "level", "logger", "message"}


@pytest.fixture(scope="module")
def logged(security_server):
    """Requests that carry secrets, made against the live server, and its log afterwards."""
    accounts = security_server.accounts
    vendor = accounts["vendor"]
    with security_server.client() as client:
        wrong = client.post("/api/v1/auth/token", json={"username": vendor.username, "password": WRONG_PASSWORD},
                            headers={"X-Request-ID": "logtest-signin"})
        bureau = scenario.bureau_with_budget(client, accounts["admin"], accounts["bureau"])
        tender = scenario.published_tender(client, bureau)
        bid = client.post(f"/api/v1/tenders/{tender['id']}/bids", json={"price": PRICE, "proposal": PROPOSAL},
                          headers={**vendor.headers, "X-Request-ID": "logtest-bid"})
        rejected = client.post(f"/api/v1/tenders/{tender['id']}/bids", json={"price": "12.345", "proposal": REJECTED_PROPOSAL},
                               headers={**vendor.headers, "X-Request-ID": "logtest-bad-bid"})
        forged = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {FORGED_TOKEN}"})
        query = client.get("/api/v1/public/tenders", params={"access_token": QUERY_SECRET})
        unrouted = client.get("/no/such/path", headers={"X-Request-ID": "logtest-unrouted"})
    answers = {"wrong": wrong, "bid": bid, "rejected": rejected, "forged": forged, "query": query, "unrouted": unrouted}
    assert [r.status_code for r in answers.values()] == [401, 201, 422, 401, 422, 404], {k: r.text for k, r in answers.items()}
    # A request's access line is written once it has been answered: wait for the last one.
    deadline = time.monotonic() + 10
    while not any(r.get("request_id") == "logtest-unrouted" for r in security_server.log_records()):
        assert time.monotonic() < deadline, "the access line of the last request never appeared"
        time.sleep(0.1)
    return security_server, answers


def _access_line(server, request_id: str) -> dict:
    (line,) = [r for r in server.log_records() if r.get("request_id") == request_id and r["logger"] == "govbuy.access"]
    return line


def test_every_line_of_the_service_log_is_json_with_time_level_logger_and_message(logged):
    server, _ = logged
    lines = [line for line in server.log_text().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]
    assert len(records) > 20
    for record in records:
        assert LINE_FIELDS <= record.keys(), record
    assert {"INFO"} <= {r["level"] for r in records}


def test_no_secret_nor_proposal_reaches_the_log(logged):
    server, _ = logged
    log = server.log_text()
    secrets_sent = [
        WRONG_PASSWORD, harness.PASSWORD, harness.ADMIN_PASSWORD, harness.SECRET_KEY, FORGED_TOKEN, QUERY_SECRET,
        PROPOSAL, REJECTED_PROPOSAL, PRICE, "$argon2",
        *(account.token for account in server.accounts.values()),
    ]
    for secret in secrets_sent:
        assert secret not in log, secret
    assert "authorization" not in log.lower()


def test_a_request_line_names_the_request_user_organisation_and_route(logged):
    server, answers = logged
    vendor = server.accounts["vendor"]
    assert answers["bid"].headers["x-request-id"] == "logtest-bid"
    line = _access_line(server, "logtest-bid")
    assert (line["method"], line["status"], line["route"]) == ("POST", 201, "/api/v1/tenders/{tender_id}/bids")
    assert (line["user_id"], line["organisation_id"]) == (vendor.user_id, vendor.organisation_id)
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] > 0
    assert line["message"].startswith("POST /api/v1/tenders/{tender_id}/bids 201 ")


def test_a_failed_sign_in_is_logged_with_its_request_and_without_the_password(logged):
    server, _ = logged
    lines = [r for r in server.log_records() if r.get("request_id") == "logtest-signin"]
    assert {r["logger"] for r in lines} == {"govbuy.accounts", "govbuy.access"}, lines
    failed = next(r for r in lines if r["logger"] == "govbuy.accounts")
    assert failed["message"].startswith("failed sign-in for") and failed["route"] == "/api/v1/auth/token"
    assert "user_id" not in failed  # nobody is signed in yet
    assert _access_line(server, "logtest-signin")["status"] == 401


def test_errors_and_unrouted_requests_have_an_access_line_without_query_or_path_values(logged):
    server, answers = logged
    assert _access_line(server, "logtest-bad-bid")["status"] == 422
    unrouted = _access_line(server, "logtest-unrouted")
    assert (unrouted["status"], unrouted.get("route")) == (404, None)
    assert answers["unrouted"].headers["x-request-id"] == "logtest-unrouted"
    query_id = answers["query"].headers["x-request-id"]
    assert _access_line(server, query_id)["route"] == "/api/v1/public/tenders"


@pytest.mark.parametrize("insane", ["x" * 65, "two words", "caf\xe9", "-leading-dash", 'a"quote', "a\tb"])
async def test_an_insane_request_id_is_replaced_by_a_new_one(client, insane):
    response = await client.get("/health", headers={"X-Request-ID": insane.encode("latin-1")})
    assert response.headers["x-request-id"] != insane and len(response.headers["x-request-id"]) == 32


def test_secrets_are_scrubbed_from_whatever_a_line_says():
    assert redact("Authorization: Bearer abc.def.ghi") == "Authorization: Bearer [redacted]"
    assert redact(f"token {FORGED_TOKEN} refused") == "token [redacted token] refused"
    assert redact("could not connect to postgresql://govbuy:s3cret@db:5432/govbuy") == (
        "could not connect to postgresql://govbuy:[redacted]@db:5432/govbuy"
    )
    assert redact("password='hunter22' secret_key=abc, token: xyz") == (
        "password=[redacted] secret_key=[redacted], token: [redacted]"
    )
    assert redact("failed sign-in for 'vendor' from 127.0.0.1") == "failed sign-in for 'vendor' from 127.0.0.1"



def test_the_input_an_exception_quotes_is_scrubbed():
    from pydantic import BaseModel, ValidationError, constr

    class Bid(BaseModel):
        proposal: constr(max_length=5)

    try:
        Bid(proposal=PROPOSAL)
    except ValidationError as exc:
        text = str(exc)
    assert "ref-7c1e" in text  # pydantic quotes the proposal's ends
    assert "ref-7c1e" not in redact(text) and "input_value=[redacted], input_type=str" in redact(text)
    asyncpg_text = "invalid input for query argument $3: '912345.67' (invalid literal)"
    assert redact(asyncpg_text) == "invalid input for query argument $3: [redacted] (invalid literal)"
