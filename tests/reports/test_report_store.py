"""The store of rendered reports (govbuy/report_store.py): a report is rendered once per data
digest and served again from PostgreSQL, by any process, after its in-process cache is gone;
new data renders anew; the store keeps within its bounds; `govbuy prerender-reports` renders
what has no stored render, and nothing the second time."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

import pytest

from bench import report_data
from evaluation import reports as evaluation_reports
from govbuy import audit, clock, prerender, report_store, reports
from govbuy import database as db
from govbuy.cli import build_parser
from govbuy.rules import SHANGHAI
from tests.reports.support import API, get_pdf_as


@pytest.fixture
async def world(client):
    world = await report_data.report_world((await clock.today()).year, seed=11)  # the budget year prerender reads
    contract_ids = await report_data.add_contracts(world, 3)
    reports.clear_render_cache()  # the same data in an earlier test left its reports in memory, not in this store
    return world, contract_ids


async def an_accepted_evaluation(contract_ids):
    for contract_id in contract_ids:
        if row := await report_data.first_evaluation(contract_id):
            return row
    raise AssertionError("no accepted evaluation in the data")


async def stored_rows():
    return await db.fetch("SELECT * FROM rendered_reports ORDER BY created_at, cache_key")


def fake_report(n: int) -> tuple[str, reports.RenderedPdf]:
    """A render cache key and a stand-in report of 1,000 bytes (the store keeps bytes, whatever they are)."""
    content = bytes([n]) * 1000
    digest = hashlib.sha256(f"data {n}".encode()).hexdigest()
    return reports.render_cache_key(digest), reports.RenderedPdf(content, hashlib.sha256(content).hexdigest(), digest, 1)


async def store_fakes(count: int) -> list[str]:
    """Store `count` stand-in reports, the first one served longest ago."""
    keys = []
    for n in range(count):
        key, rendered = fake_report(n)
        assert await report_store.save(key, rendered, renderer_version="test", template="fake.html", subject=None)
        await db.execute(
            "UPDATE rendered_reports SET served_at = now() - make_interval(hours => $2) WHERE cache_key = $1",
            key, count - n,
        )
        keys.append(key)
    return keys


async def test_a_rendered_report_is_stored_and_served_again_from_the_store_without_rendering(client, world):
    w, contract_ids = world
    evaluation = await an_accepted_evaluation(contract_ids)
    path = f"{API}/evaluations/{evaluation['id']}/report.pdf"
    first = await get_pdf_as(client, path, w.bureau_user_id)

    [row] = await stored_rows()
    assert bytes(row["content"]) == first.content
    assert row["sha256"] == first.sha256_header
    assert row["data_digest"] == first.data_digest()
    assert row["page_count"] == first.page_count and row["size"] == len(first.content)
    assert row["subject"] == str(evaluation["id"]) and row["template"] == evaluation_reports.TEMPLATE

    reports.clear_render_cache()  # as a process that never rendered it (another API host, a restart)
    renders = reports.render_count()
    again = await get_pdf_as(client, path, w.bureau_user_id)
    assert reports.render_count() == renders
    assert again.content == first.content
    assert len(await stored_rows()) == 1


async def test_two_renders_of_the_same_report_store_it_once(client):
    key, rendered = fake_report(1)
    assert await report_store.save(key, rendered, renderer_version="test", template="fake.html", subject=None)
    assert not await report_store.save(key, rendered, renderer_version="test", template="fake.html", subject=None)
    assert len(await stored_rows()) == 1


async def test_changed_data_changes_the_digest_and_renders_anew(client, world):
    w, contract_ids = world
    evaluation = await an_accepted_evaluation(contract_ids)
    path = f"{API}/evaluations/{evaluation['id']}/report.pdf"
    before = await get_pdf_as(client, path, w.bureau_user_id)
    await db.execute("UPDATE organisations SET name = name || '（更名）' WHERE id = $1", evaluation["evaluator_id"])

    renders = reports.render_count()
    after = await get_pdf_as(client, path, w.bureau_user_id)
    assert reports.render_count() == renders + 1
    assert after.data_digest() != before.data_digest()
    assert "（更名）" in after.text
    assert {r["data_digest"] for r in await stored_rows()} == {before.data_digest(), after.data_digest()}


async def test_the_store_keeps_within_its_byte_bound_dropping_the_longest_unserved(client):
    keys = await store_fakes(3)
    assert await report_store.evict(max_bytes=2500, max_age_days=0) == 1
    assert [r["cache_key"] for r in await stored_rows()] == keys[1:]


async def test_reports_unserved_longer_than_the_age_bound_are_dropped(client):
    keys = await store_fakes(2)
    await db.execute("UPDATE rendered_reports SET served_at = now() - interval '31 days' WHERE cache_key = $1", keys[0])
    assert await report_store.evict(max_bytes=10**9, max_age_days=30) == 1
    assert [r["cache_key"] for r in await stored_rows()] == keys[1:]


async def test_serving_a_stored_report_marks_it_served(client):
    [key] = await store_fakes(1)
    loaded = await report_store.load(key)
    assert loaded is not None and loaded.content == fake_report(0)[1].content
    [row] = await stored_rows()
    assert row["served_at"] > row["created_at"] - timedelta(seconds=1)  # moved on from an hour ago


async def test_prerender_renders_what_has_no_stored_render_and_then_nothing(client, world):
    w, contract_ids = world
    accepted = await evaluation_reports.accepted_report_ids()
    assert accepted

    first = await prerender.prerender()
    assert first.year == (await clock.today()).year == w.year
    assert (first.evaluation_reports, first.annual_reports) == (len(accepted), 1)
    assert (first.rendered, first.skipped, first.failed) == (len(accepted) + 1, 0, 0)
    stored = {r["subject"] for r in await stored_rows() if r["subject"]}
    assert stored == {str(e) for e in accepted}

    reports.clear_render_cache()
    second = await prerender.prerender()
    assert (second.evaluation_reports, second.annual_reports) == (0, 1)
    assert (second.rendered, second.skipped, second.failed) == (0, 1, 0)


async def test_prerender_since_renders_the_reports_whose_data_changed(client, world):
    w, contract_ids = world
    await prerender.prerender()
    evaluation = await an_accepted_evaluation(contract_ids)
    # The data stands on 20 December (bench/report_data.py): a change comes after it.
    since = datetime(w.year, 12, 21, tzinfo=SHANGHAI)
    await clock.pin_sandbox(datetime(w.year, 12, 22, 10, tzinfo=SHANGHAI))
    async with db.transaction():
        await audit.record(None, "evaluation.noted", "evaluation", evaluation["id"])

    summary = await prerender.prerender(changed_since=since)
    assert (summary.evaluation_reports, summary.rendered, summary.skipped) == (1, 1, 1)  # the annual is unchanged
    assert await evaluation_reports.accepted_report_ids(since) == [evaluation["id"]]


def test_the_command_reads_since_as_beijing_time_without_an_offset():
    args = build_parser().parse_args(["prerender-reports", "--since", "2026-12-01", "--limit", "5"])
    assert args.since.tzinfo is SHANGHAI and args.since.hour == 0
    assert args.limit == 5 and args.year is None
