"""The kernel's HTTP helpers: the ETag and PDF responses every domain's controllers return, and
the If-Match check every conditional write makes."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from govbuy.errors import PreconditionFailed, check_if_match
from govbuy.http import pdf_response, with_etag
from govbuy.reports import CONTENT_SHA256_HEADER, RenderedPdf
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
