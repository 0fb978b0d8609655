"""The kernel's HTTP helpers: the ETag and PDF responses every domain's controllers return, and
the If-Match check every conditional write makes."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from govbuy.errors import PreconditionFailed, check_if_match
from govbuy.http import pdf_response, with_etag
from govbuy.reports import CONTENT_SHA256_HEADER, RenderedPdf
from tests import factories
from tests.govbuy.test_bad_input import assert_problem
from tests.procurement import support as s


@dataclass
class Versioned:
    version: int


def test_etag_is_the_resource_version_in_quotes():
    response = with_etag(Versioned(7), 201)
    assert (response.status_code, response.headers["ETag"]) == (201, '"7"')


def test_pdf_is_inline_under_its_file_name_with_its_digest():
    rendered = RenderedPdf(b"%PDF-1.7 ...", "sha-of-bytes", "sha-of-data", 1)
    response = pdf_response(rendered, "credit-report-1.pdf")
    assert response.content == b"%PDF-1.7 ..."
    assert response.media_type == "application/pdf"
    assert response.headers["Content-Disposition"] == 'inline; filename="credit-report-1.pdf"'
    assert response.headers[CONTENT_SHA256_HEADER] == "sha-of-bytes"


# --- If-Match: strong comparison (RFC 9110 §13.1.1) --------------------------------------------

@pytest.mark.parametrize("header", ['"9"', '"3", "9"', '"3","9"', "*", ' "9" '])
def test_if_match_passes_on_the_current_strong_tag_or_a_star(header):
    check_if_match(header, 9)


@pytest.mark.parametrize("header", ['W/"9"', 'w/"9"', '"3", W/"9"', "9", '"8"', '"09"', "", '"9'])
def test_if_match_fails_on_a_weak_unquoted_or_other_tag(header):
    with pytest.raises(PreconditionFailed):
        check_if_match(header, 9)


async def test_a_weak_etag_never_matches_on_any_conditional_write(client):
    w = await s.world()
    tender = await s.create_tender(client, w)
    writes = [
        ("PATCH", f"/api/v1/tenders/{tender['id']}", {"title": "新标题"}),
        ("PATCH", f"/api/v1/budget-lines/{w.line_id}", {"amount": "4000000.00"}),
    ]
    for method, url, body in writes:
        read = await client.get(url, headers=w.bureau.headers)
        etag = read.headers["etag"]
        for weak in (f"W/{etag}", f"w/{etag}", f'"0", W/{etag}'):
            response = await client.request(method, url, json=body, headers={**w.bureau.headers, "If-Match": weak})
            assert_problem(response, 412, "version_mismatch")
        response = await client.request(method, url, json=body, headers={**w.bureau.headers, "If-Match": etag})
        assert response.status_code == 200, response.text


# --- If-Match required on the edits of shared documents (428) -------------------------------------

#: The edits that overwrite what two people may be editing at once (docs/architecture.md, "If-Match"):
#: a new one is added here on purpose, not by accident.
IF_MATCH_REQUIRED = {
    ("PATCH", "/api/v1/tenders/{tender_id}"),
    ("POST", "/api/v1/tenders/{tender_id}/amendments"),
    ("PATCH", "/api/v1/tenders/{tender_id}/bids/{bid_id}"),
    ("PATCH", "/api/v1/budget-lines/{line_id}"),
    ("PUT", "/api/v1/evaluations/{evaluation_id}/scores"),
    ("PATCH", "/api/v1/procurement-intentions/{intention_id}"),
}


def test_exactly_the_edits_of_shared_documents_require_if_match_and_document_428(app):
    schema = app.openapi_schema.to_schema()
    requiring, documenting = set(), set()
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            headers = [p for p in operation.get("parameters", []) if p["in"] == "header" and p["name"] == "If-Match"]
            if any(p["required"] for p in headers):
                requiring.add((method.upper(), path))
            if "428" in operation["responses"]:
                documenting.add((method.upper(), path))
                assert operation["responses"]["428"]["content"]["application/problem+json"]
    assert requiring == IF_MATCH_REQUIRED
    assert documenting == IF_MATCH_REQUIRED


async def test_an_edit_without_if_match_is_428_precondition_required_and_changes_nothing(client):
    w = await s.world()
    tender = await s.create_tender(client, w)
    writes = [
        ("PATCH", f"/api/v1/tenders/{tender['id']}", {"title": "盲目覆盖"}),
        ("PATCH", f"/api/v1/budget-lines/{w.line_id}", {"amount": "4000000.00"}),
    ]
    for method, url, body in writes:
        before = (await client.get(url, headers=w.bureau.headers)).json()
        for headers in ({}, {"If-Match": ""}, {"If-Match": "  "}):
            response = await client.request(method, url, json=body, headers={**w.bureau.headers, **headers})
            assert_problem(response, 428, "precondition_required")
        assert (await client.get(url, headers=w.bureau.headers)).json() == before


async def test_if_match_is_required_after_the_role_check_and_before_the_body(client):
    w = await s.world()
    tender = await s.create_tender(client, w)
    url = f"/api/v1/tenders/{tender['id']}"
    vendor = await factories.signed_in("vendor")
    assert_problem(await client.patch(url, json={"title": "x"}, headers=vendor.headers), 403, "role_not_allowed")
    assert_problem(await client.patch(url, json={"title": "x"}), 401, "not_authenticated")
    assert_problem(await client.patch(url, json={"contract_months": "many"}, headers=w.bureau.headers), 428,
                   "precondition_required")


async def test_a_star_or_the_current_etag_satisfies_the_requirement(client):
    w = await s.world()
    url = f"/api/v1/budget-lines/{w.line_id}"
    etag = (await client.get(url, headers=w.bureau.headers)).headers["etag"]
    changed = await client.patch(url, json={"title": "改名"}, headers={**w.bureau.headers, "If-Match": etag})
    assert changed.status_code == 200, changed.text
    assert changed.headers["etag"] != etag
    # `*` is a client's deliberate "whatever it is now" (RFC 9110 §13.1.1), not a blind write.
    star = await client.patch(url, json={"title": "再改名"}, headers={**w.bureau.headers, "If-Match": "*"})
    assert star.status_code == 200, star.text


async def test_state_transitions_keep_if_match_optional(client):
    w = await s.world()
    tender = await s.create_tender(client, w)
    published = await client.post(f"/api/v1/tenders/{tender['id']}/publish", headers=w.bureau.headers)
    assert published.status_code == 200, published.text


# --- query parameters an operation does not take ------------------------------------------------


async def test_a_query_parameter_the_operation_does_not_take_is_422_naming_it(client):
    from tests import factories

    bureau = await factories.signed_in("bureau", await factories.organisation("bureau"))
    r = await client.get("/api/v1/tenders", params={"stauts": "draft", "limit": "5"}, headers=bureau.headers)
    assert (r.status_code, r.json()["code"]) == (422, "unknown_query_parameter")
    assert r.json()["errors"] == [{"field": "query.stauts", "message": "not a parameter of this operation"}]
    assert (await client.get("/api/v1/tenders", params={"status": "draft", "limit": "5"}, headers=bureau.headers)).status_code == 200
    r = await client.get("/api/v1/public/tenders", params={"access_token": "x"})
    assert (r.status_code, r.json()["code"]) == (422, "unknown_query_parameter")
    assert (await client.get("/api/v1/public/tenders", params={"limit": "3"})).status_code == 200
    assert (await client.get("/health", params={"verbose": "1"})).status_code == 422
