"""The PDF report kernel: rendering through the real process pool, what a reader sees on the
page, byte-for-byte reproducibility, the embedded CJK font, the cache and the Jinja filters.
No database: reports render from plain data (the store of rendered reports is tested in
tests/reports/test_report_store.py)."""

from __future__ import annotations

import asyncio
import hashlib
import io
import re
import time
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from pypdf import PdfReader

from govbuy import reports
from govbuy.rules import SHANGHAI

AS_OF = datetime(2026, 3, 1, 14, 5, tzinfo=SHANGHAI)
HEADER = {
    "title": "政府购买服务绩效评价报告",
    "bureau": "某市民政局",
    "document_type": "绩效评价报告",
    "as_of": AS_OF,
}
GRADES = ("excellent", "good", "fair", "poor")


def sample_context(rows: int = 30, *, first_amount: Decimal = Decimal("1500000")) -> dict:
    contracts = [
        {
            "name": f"社区居家养老服务项目第{i + 1}期",
            "vendor": f"某某社会工作服务中心{i % 7 + 1}",
            "amount": first_amount + i,
            "grade": GRADES[i % 4],
        }
        for i in range(rows)
    ]
    return {
        "grade": "excellent",
        "total": sum(c["amount"] for c in contracts),
        "payout_ratio": Decimal("0.85"),
        "evaluated_on": date(2026, 2, 27),
        "summary": "本报告依据政府购买服务合同约定，对服务的数量、质量和效果进行绩效评价。",
        "rows": contracts,
    }


async def render_sample(context: dict | None = None) -> reports.RenderedPdf:
    return await reports.render_pdf("_sample.html", context or sample_context(), **HEADER)


def page_texts(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


@pytest.fixture(scope="module")
async def sample() -> reports.RenderedPdf:
    reports.clear_render_cache()
    return await render_sample()


@pytest.fixture(scope="module", autouse=True)
def stop_renderer_after_module():
    yield
    reports.shutdown_renderer()


# --- what the page shows -------------------------------------------------------------------


def test_sample_report_has_two_pages(sample):
    assert sample.page_count == 2
    assert len(PdfReader(io.BytesIO(sample.content)).pages) == 2


def test_every_page_is_a4(sample):
    for page in PdfReader(io.BytesIO(sample.content)).pages:
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        assert (round(width), round(height)) == (595, 842)  # 210 × 297 mm in points


def test_every_page_shows_its_number_of_the_total(sample):
    first, second = page_texts(sample.content)
    assert "第 1 页 / 共 2 页" in first
    assert "第 2 页 / 共 2 页" in second


def test_every_page_header_names_the_bureau_and_document_type(sample):
    for text in page_texts(sample.content):
        assert "某市民政局" in text
        assert "绩效评价报告" in text


def test_every_page_footer_carries_the_data_digest_and_as_of_time(sample):
    for text in page_texts(sample.content):
        assert sample.data_digest in text
        assert "2026年3月1日 14:05" in text


def test_title_is_printed_in_chinese(sample):
    assert "政府购买服务绩效评价报告" in page_texts(sample.content)[0]


def test_grade_is_printed_as_its_chinese_label(sample):
    text = page_texts(sample.content)[0]
    assert re.search(r"评价等级\s*优", text)


def test_amounts_have_thousands_separators_and_two_decimals(sample):
    text = page_texts(sample.content)[0]
    assert "1,500,000.00" in text
    assert "45,000,435.00元" in text


def test_table_header_repeats_on_the_next_page(sample):
    second = page_texts(sample.content)[1]
    assert "合同名称" in second
    assert "金额（元）" in second


def test_cjk_font_is_embedded_as_a_subset(sample):
    embedded = set()
    for page in PdfReader(io.BytesIO(sample.content)).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            for descendant in font.get("/DescendantFonts", []):
                descriptor = descendant.get_object()["/FontDescriptor"].get_object()
                if any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")):
                    embedded.add(str(font["/BaseFont"]))
    assert embedded, "no embedded font"
    assert all(re.fullmatch(r"/[A-Z]{6}\+GovbuyCJK.*", name) for name in embedded)


def test_pdf_dates_are_the_as_of_time_not_the_clock(sample):
    metadata = PdfReader(io.BytesIO(sample.content)).metadata
    assert metadata.creation_date == AS_OF
    assert metadata.modification_date == metadata.creation_date


def test_pdf_metadata_names_title_and_bureau(sample):
    metadata = PdfReader(io.BytesIO(sample.content)).metadata
    assert metadata.title == HEADER["title"]
    assert metadata.author == HEADER["bureau"]


# --- digests, reproducibility, cache ---------------------------------------------------------


def test_content_sha256_is_the_hash_of_the_pdf_bytes(sample):
    assert sample.sha256 == hashlib.sha256(sample.content).hexdigest()


def test_content_headers_carry_the_pdf_hash(sample):
    headers = reports.content_headers(sample)
    assert headers["X-Content-SHA256"] == hashlib.sha256(sample.content).hexdigest()
    assert headers["Content-Type"] == "application/pdf"


def test_data_digest_is_the_hash_of_the_canonical_input(sample):
    canonical = reports.canonical_json(
        {
            "template": "_sample.html",
            "title": HEADER["title"],
            "bureau": HEADER["bureau"],
            "document_type": HEADER["document_type"],
            "as_of": AS_OF,
            "data": sample_context(),
        }
    )
    assert sample.data_digest == hashlib.sha256(canonical.encode()).hexdigest()


def test_data_digest_changes_when_the_data_changes():
    changed = sample_context(first_amount=Decimal("1500000.01"))
    assert reports.data_digest("_sample.html", changed, **HEADER) != reports.data_digest(
        "_sample.html", sample_context(), **HEADER
    )


def test_data_digest_ignores_the_as_of_time_zone():
    in_utc = {**HEADER, "as_of": AS_OF.astimezone(timezone.utc)}
    assert reports.data_digest("_sample.html", sample_context(), **in_utc) == (
        reports.data_digest("_sample.html", sample_context(), **HEADER)
    )


async def test_warm_renderer_leaves_the_static_fonts_on_disk():
    await reports.warm_renderer()
    assert all(path.is_file() for path in reports.static_font_paths().values())


async def test_same_request_twice_is_served_from_the_cache(sample):
    again = await render_sample()
    assert again is sample


async def test_same_request_gives_identical_bytes_from_fresh_renderer_processes(sample):
    reports.shutdown_renderer()
    reports.clear_render_cache()
    await forget_stored(sample)
    renders = reports.render_count()
    again = await render_sample()
    assert reports.render_count() == renders + 1
    assert again is not sample
    assert again.content == sample.content


async def forget_stored(rendered: reports.RenderedPdf) -> None:
    """Drop a report from the store of rendered reports, when an earlier test of the run started
    the database (this module needs none; without one, nothing is stored)."""
    from govbuy import database as db

    if db.is_connected():
        await db.execute("DELETE FROM rendered_reports WHERE data_digest = $1", rendered.data_digest)


async def test_rendering_does_not_block_the_event_loop():
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.create_task(tick())
    started = time.perf_counter()
    await render_sample(sample_context(rows=200))  # not cached: new data
    elapsed = time.perf_counter() - started
    ticker.cancel()
    assert elapsed > 0.1
    assert ticks >= elapsed / 0.01 / 4  # the loop ran while the PDF was being made


async def test_thousand_row_annual_report_renders():
    context = sample_context(rows=1000)
    started = time.perf_counter()
    rendered = await render_sample(context)
    elapsed = time.perf_counter() - started
    print(
        f"\n1,000-row report: {elapsed:.1f} s, {rendered.page_count} pages, "
        f"{len(rendered.content) / 1024:.0f} KiB"
    )
    last = page_texts(rendered.content)[-1]
    assert f"第 {rendered.page_count} 页 / 共 {rendered.page_count} 页" in last
    assert "合同名称" in last  # the header still repeats at the end


def test_cache_evicts_the_least_recently_used_entry():
    cache = reports._RenderCache(max_entries=2, max_bytes=1024)
    pdfs = {k: reports.RenderedPdf(k.encode() * 10, k, k, 1) for k in "abc"}
    cache.put("a", pdfs["a"])
    cache.put("b", pdfs["b"])
    cache.get("a")
    cache.put("c", pdfs["c"])
    assert cache.get("b") is None
    assert cache.get("a") is pdfs["a"]
    assert cache.get("c") is pdfs["c"]


def test_cache_keeps_within_its_byte_budget():
    cache = reports._RenderCache(max_entries=10, max_bytes=25)
    for key in "abc":
        cache.put(key, reports.RenderedPdf(b"x" * 10, key, key, 1))
    assert len(cache) == 2
    assert cache.get("a") is None


def test_worker_count_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("GOVBUY_REPORT_WORKERS", "3")
    assert reports.report_workers() == 3
    monkeypatch.delenv("GOVBUY_REPORT_WORKERS")
    assert reports.report_workers() == 2


def test_worker_count_must_be_positive(monkeypatch):
    monkeypatch.setenv("GOVBUY_REPORT_WORKERS", "0")
    with pytest.raises(ValueError):
        reports.report_workers()


async def test_naive_as_of_time_is_rejected():
    with pytest.raises(ValueError, match="timezone-aware"):
        await reports.render_pdf(
            "_sample.html", sample_context(), **{**HEADER, "as_of": datetime(2026, 3, 1)}
        )


# --- templates -------------------------------------------------------------------------------


def test_header_fields_are_escaped_in_the_page_margin_css():
    html = reports.render_html(
        "_sample.html", sample_context(rows=1), **{**HEADER, "bureau": 'A"局\\</style>'}
    )
    assert 'content: "A\\"局\\\\\\3C /style>"' in html


def test_context_may_not_shadow_the_report_header():
    with pytest.raises(ValueError, match="reserved"):
        reports.render_html("_sample.html", {"report": 1}, **HEADER)


def test_domain_templates_folder_can_extend_base(tmp_path, monkeypatch):
    folder = tmp_path / "evaluation" / "templates"
    folder.mkdir(parents=True)
    (folder / "evaluation_report.html").write_text(
        '{% extends "base.html" %}{% block content %}<p>评价结论：{{ grade|grade }}</p>'
        "{% endblock %}",
        encoding="utf-8",
    )
    monkeypatch.setattr(reports, "REPO_ROOT", tmp_path)
    reports.template_environment.cache_clear()
    try:
        html = reports.render_html("evaluation_report.html", {"grade": "good"}, **HEADER)
    finally:
        monkeypatch.undo()
        reports.template_environment.cache_clear()
    assert "评价结论：良" in html
    assert "政府购买服务绩效评价报告" in html


def test_template_folders_are_govbuy_first_and_only_existing_ones():
    dirs = reports.template_dirs()
    assert dirs[0] == reports.TEMPLATES_DIR
    assert all(d.is_dir() for d in dirs)


# --- filters and canonical JSON --------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Decimal("1500000"), "1,500,000.00"),
        (1500000, "1,500,000.00"),
        (Decimal("0.005"), "0.01"),
        (Decimal("-1234.5"), "-1,234.50"),
        (None, "—"),
    ],
)
def test_yuan_has_thousands_separators_and_two_decimals(value, shown):
    assert reports.format_yuan(value) == shown


def test_yuan_cn_appends_yuan():
    assert reports.format_yuan_cn(Decimal("1500000")) == "1,500,000.00元"


def test_cn_date_is_year_month_day():
    assert reports.format_cn_date(date(2026, 3, 1)) == "2026年3月1日"


def test_cn_date_of_a_datetime_is_its_shanghai_date():
    late_utc = datetime(2026, 2, 28, 17, 0, tzinfo=timezone.utc)  # 01:00 on 1 March in Beijing
    assert reports.format_cn_date(late_utc) == "2026年3月1日"


def test_cn_datetime_is_in_shanghai_time():
    moment = datetime(2026, 3, 1, 6, 5, tzinfo=timezone.utc)
    assert reports.format_cn_datetime(moment) == "2026年3月1日 14:05"


def test_cn_datetime_rejects_a_naive_datetime():
    with pytest.raises(ValueError):
        reports.format_cn_datetime(datetime(2026, 3, 1, 14, 5))


@pytest.mark.parametrize(
    ("grade", "label"), [("excellent", "优"), ("good", "良"), ("fair", "中"), ("poor", "差")]
)
def test_grade_labels(grade, label):
    assert reports.format_grade(grade) == label


def test_unknown_grade_is_an_error():
    with pytest.raises(ValueError):
        reports.format_grade("outstanding")


@pytest.mark.parametrize(
    ("value", "digits", "shown"),
    [(Decimal("0.85"), 1, "85.0%"), (0.8567, 2, "85.67%"), (Decimal("0.00125"), 1, "0.1%")],
)
def test_percent_shows_a_fraction_as_a_percentage(value, digits, shown):
    assert reports.format_percent(value, digits) == shown


def test_canonical_json_sorts_keys_and_writes_decimals_and_dates_as_strings():
    value = {"b": Decimal("1.50"), "a": date(2026, 3, 1), "c": AS_OF}
    assert reports.canonical_json(value) == (
        '{"a":"2026-03-01","b":"1.50","c":"2026-03-01T06:05:00+00:00"}'
    )


def test_canonical_json_refuses_unknown_types():
    with pytest.raises(TypeError):
        reports.canonical_json({"x": object()})
