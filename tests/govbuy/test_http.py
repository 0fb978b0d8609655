"""The kernel's HTTP helpers: the ETag and PDF responses every domain's controllers return."""

from __future__ import annotations

from dataclasses import dataclass

from govbuy.http import pdf_response, with_etag
from govbuy.reports import CONTENT_SHA256_HEADER, RenderedPdf


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
