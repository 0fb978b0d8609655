"""Reading a report as its reader would: fetch the PDF through the API, check the headers,
and extract each page's text with pypdf."""

from __future__ import annotations

import hashlib
import io
import os
import re
from dataclasses import dataclass
from pathlib import Path

import httpx
from pypdf import PdfReader

from tests.factories import SignedIn


@dataclass
class Pdf:
    content: bytes
    pages: list[str]
    sha256_header: str

    @property
    def text(self) -> str:
        return "\n".join(self.pages)

    @property
    def page_count(self) -> int:
        return len(self.pages)

    def data_digest(self) -> str:
        """The data digest printed in the footer."""
        match = re.search(r"数据摘要（SHA-256）：\s*([0-9a-f]{64})", self.pages[0])
        assert match, "no data digest in the footer"
        return match.group(1)


def read_pdf(content: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(content)).pages]


async def get_pdf(client: httpx.AsyncClient, path: str, who: SignedIn | None = None) -> Pdf:
    """GET a report and check it is a PDF whose X-Content-SHA256 is the hash of its bytes."""
    response = await client.get(path, headers=who.headers if who else {})
    assert response.status_code == 200, f"{path}: {response.status_code} {response.text[:300]}"
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert response.headers["x-content-sha256"] == hashlib.sha256(response.content).hexdigest()
    if dump := os.environ.get("GOVBUY_DUMP_REPORTS"):  # look at them: pdftoppm -png -r 60
        name = re.sub(r"[^A-Za-z0-9.-]+", "_", path.strip("/"))
        (Path(dump) / name).write_bytes(response.content)
    return Pdf(response.content, read_pdf(response.content), response.headers["x-content-sha256"])


def squash(text: str) -> str:
    """Text without whitespace: pypdf breaks lines where the layout wrapped them."""
    return re.sub(r"\s+", "", text)


def assert_page_furniture(pdf: Pdf, bureau: str, document_type: str) -> None:
    """Every page has the header (bureau, document type), "第 N 页 / 共 M 页" and the digest."""
    digest = pdf.data_digest()
    for n, text in enumerate(pdf.pages, start=1):
        assert bureau in text, f"page {n} lacks the bureau"
        assert document_type in text, f"page {n} lacks the document type"
        assert f"第 {n} 页 / 共 {pdf.page_count} 页" in text
        assert digest in text
        assert "数据截至" in text
