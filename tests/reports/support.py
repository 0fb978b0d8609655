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


def embedded_fonts(content: bytes) -> set[str]:
    """The base names of the fonts the PDF's pages use."""
    names = set()
    for page in PdfReader(io.BytesIO(content)).pages:
        for font in page["/Resources"]["/Font"].values():
            names.add(str(font.get_object()["/BaseFont"]))
    return names


def assert_page_furniture(pdf: Pdf, bureau: str, document_type: str) -> None:
    """Every page has the header (bureau, document type), "第 N 页 / 共 M 页" and the digest,
    and the text is set in the embedded CJK font only (a fallback font would mean a character
    the project's font lacks: a box on a machine without that fallback)."""
    fonts = embedded_fonts(pdf.content)
    assert fonts and all(re.fullmatch(r"/[A-Z]{6}\+GovbuyCJK(-Bold)?", f) for f in fonts), fonts
    digest = pdf.data_digest()
    for n, text in enumerate(pdf.pages, start=1):
        assert bureau in text, f"page {n} lacks the bureau"
        assert document_type in text, f"page {n} lacks the document type"
        assert f"第 {n} 页 / 共 {pdf.page_count} 页" in text
        assert digest in text
        assert "数据截至" in text


# --- data for the reports ----------------------------------------------------------------------

API = "/api/v1"


async def store_rating(vendor_id, inputs):
    """Store a credit rating computed by the vendors rules from the given history, as the
    vendors service does once contracts and evaluations feed it; returns the rating."""
    from govbuy import clock
    from govbuy import database as db
    from vendors.rating import inputs_fingerprint, rate_vendor

    today = await clock.today()
    rating = rate_vendor(inputs, today)
    result = rating.as_dict()
    result.pop("rated_on")
    result.pop("inputs")
    await db.execute(
        """INSERT INTO credit_ratings (vendor_id, rated_on, score, grade, provisional, eligible, rules_version,
                                       fingerprint, inputs, result, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)""",
        vendor_id, today, rating.score, rating.grade, rating.provisional, rating.eligible, rating.rules_version,
        inputs_fingerprint(inputs), inputs.as_dict(), result, await clock.now(),
    )
    return rating


def ok(response: httpx.Response, *statuses: int):
    assert response.status_code in (statuses or (200, 201)), (
        f"{response.request.method} {response.request.url}: {response.status_code} {response.text}"
    )
    return response.json() if response.content else None


@dataclass
class Awarded:
    """A public tender opened with its bids, scored by a panel of five and awarded."""

    world: object  # tests.procurement.support.World
    tender: dict
    vendors: list[SignedIn]
    award: dict


VENDOR_NAMES = ("深圳市阳光社工服务中心", "深圳市彩虹社会工作服务社", "深圳市康宁养老服务中心", "深圳市晨曦公益服务中心")


async def awarded_tender(
    client: httpx.AsyncClient,
    prices: tuple[str, ...] = ("880000.00", "912345.67", "950000.10"),
    *,
    names: tuple[str, ...] = VENDOR_NAMES,
    grades: dict[int, str] | None = None,
    listed_at_opening: tuple[int, ...] = (),
) -> Awarded:
    """Bidders `names[i]` bid `prices[i]`; `grades` gives some a credit rating (by index: a
    rating of "A" or "B" before opening); bidders in `listed_at_opening` are put on a credit list
    after bidding, so their bid is invalid at opening."""
    from datetime import timedelta
    from decimal import Decimal

    from govbuy import clock
    from tests import factories
    from tests.procurement import support as procurement
    from vendors.rating import RatingInputs

    world = await procurement.world()
    tender = await procurement.published_tender(client, world)
    vendors = []
    for n, price in enumerate(prices):
        org = await factories.organisation("vendor", names[n % len(names)] + ("" if n < len(names) else str(n)))
        vendor = await factories.signed_in("vendor", org)
        ok(await procurement.bid(client, tender["id"], vendor, price), 201)
        vendors.append(vendor)
    today = await clock.today()
    for n, grade in (grades or {}).items():
        score = {"A": Decimal("92.00"), "B": Decimal("65.00")}[grade]
        await store_rating(
            vendors[n].organisation_id,
            RatingInputs(
                evaluations=[(score, Decimal("100000.00"), today - timedelta(days=20), "excellent" if grade == "A" else "fair")],
                on_time_milestones=1 if grade == "A" else 0,
            ),
        )
    for n in listed_at_opening:
        await procurement.credit_list(client, world.admin, vendors[n], today.isoformat())
    await procurement.pass_deadline(client, world, tender)
    tender = ok(await client.get(f"{API}/tenders/{tender['id']}", headers=world.bureau.headers))
    experts = await procurement.draw_panel(client, world, tender, 5)
    bids = ok(await client.get(f"{API}/tenders/{tender['id']}/bids", headers=world.bureau.headers))["items"]
    await procurement.review_all(client, world, tender, bids, experts)
    for n, b in enumerate(x for x in bids if x["status"] == "valid"):
        for m, expert in enumerate(experts):
            scores = {"服务方案": f"{36 + m % 3 - n}.00", "团队与经验": f"{26 - n}.50"}
            ok(await client.put(f"{API}/tenders/{tender['id']}/bids/{b['id']}/scores", json={"scores": scores},
                                headers=expert.headers))
    award = ok(await client.post(f"{API}/tenders/{tender['id']}/award", headers=world.bureau.headers))
    return Awarded(world, tender, vendors, award)


def token_headers(user_id) -> dict[str, str]:
    """Bearer headers for a user made by bench.report_data (those never sign in with a password)."""
    from govbuy import auth

    token, _ = auth.issue_token(user_id, auth.utcnow())
    return {"Authorization": f"Bearer {token}"}


async def get_pdf_as(client: httpx.AsyncClient, path: str, user_id) -> Pdf:
    return await get_pdf(client, path, _Headers(token_headers(user_id)))


@dataclass
class _Headers:
    headers: dict[str, str]
