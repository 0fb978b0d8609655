"""The OCDS feed over the API: a release for each public change of a process, none for drafts
or sealed bids, every release valid, and a reader paging by `since` that never misses one."""

from __future__ import annotations

import asyncio
import json

from govbuy import database as db
from govbuy.public import feed
from tests import factories
from tests.public import support as s

RELEASES = "/api/v1/public/ocds/releases"


async def test_a_draft_is_not_published_anywhere(client):
    b = await s.bureau(client)
    tender = await s.draft(client, b)
    releases, since, _ = await s.read_feed(client)
    assert releases == [] and since == 0
    assert (await client.get(f"/api/v1/public/tenders/{tender['id']}")).status_code == 404
    assert s.ok(await client.get("/api/v1/public/tenders"))["items"] == []
    assert (await client.get(f"/api/v1/public/ocds/records/{feed.ocid_of(tender['id'])}")).status_code == 404


async def test_publishing_a_tender_publishes_its_first_release(client):
    b = await s.bureau(client)
    p = await s.published(client, b)
    releases, since, packages = await s.read_feed(client)
    [release] = releases
    assert release["ocid"] == feed.ocid_of(p.id) and release["id"] == f"{release['ocid']}-{since}"
    assert release["tag"] == ["tender"]
    assert release["tender"]["status"] == "active" and release["tender"]["value"] == {"amount": 1000000, "currency": "CNY"}
    assert release["tender"]["items"][0]["classification"] == {"scheme": "x_govbuy_catalogue", "id": "A0101", "description": "居家养老上门服务"}
    s.assert_valid_release_package(packages[0])
    record = await s.record(client, release["ocid"])
    s.assert_valid_record_package(record)
    assert record["records"][0]["compiledRelease"]["tender"]["title"] == "社区居家养老上门服务项目"


async def test_the_package_declares_its_extensions_and_where_to_read_on(client):
    b = await s.bureau(client)
    await s.published(client, b)
    package = s.ok(await client.get(f"{RELEASES}?since=0&limit=1"))
    assert package["version"] == "1.1"
    assert any("ocds_bid_extension" in e for e in package["extensions"])
    assert package["links"]["next"].endswith(f"{RELEASES}?since=1&limit=1")
    assert package["publisher"]["name"]


async def test_packages_carry_the_published_audit_head_and_stay_valid(client):
    from govbuy import audit
    from govbuy.public import ocds

    b = await s.bureau(client)
    p = await s.published(client, b)
    _, _, packages = await s.read_feed(client)
    assert ocds.AUDIT_HEAD_FIELD not in packages[0]  # nothing published yet: no head
    head = await audit.publish_head()
    _, _, packages = await s.read_feed(client)
    expected = {"seq": head.seq, "hash": head.hash, "publishedDate": s.ok(await client.get("/api/v1/public/audit-head"))["at"]}
    assert packages[0][ocds.AUDIT_HEAD_FIELD] == expected
    s.assert_valid_release_package(packages[0])
    record = await s.record(client, feed.ocid_of(p.id))
    assert record[ocds.AUDIT_HEAD_FIELD] == expected
    s.assert_valid_record_package(record)


async def test_sealed_bids_add_no_release_and_appear_in_none(client):
    b = await s.bureau(client)
    p = await s.published(client, b)
    for price in ("880000.00", "912345.67", "950000.10"):
        await s.bid(client, p, await factories.signed_in("vendor"), price)
    releases, _, _ = await s.read_feed(client)
    assert len(releases) == 1
    text = json.dumps(releases, ensure_ascii=False)
    assert "912345.67" not in text and s.PROPOSAL_MARKER not in text
    assert "bids" not in releases[0] and "tenderers" not in releases[0]["tender"]


async def test_the_opening_publishes_every_bidder_and_price(client):
    b = await s.bureau(client)
    p = await s.published(client, b)
    for price in ("880000.00", "912345.67", "950000.10"):
        await s.bid(client, p, await factories.signed_in("vendor"), price)
    await s.pass_deadline(client, p)
    releases, _, packages = await s.read_feed(client)
    assert [r["tag"] for r in releases] == [["tender"], ["tenderUpdate"]]
    opened = releases[-1]
    assert sorted(d["value"]["amount"] for d in opened["bids"]["details"]) == [880000, 912345.67, 950000.1]
    assert opened["tender"]["numberOfTenderers"] == 3
    for package in packages[:-1]:
        s.assert_valid_release_package(package)


async def test_an_upheld_challenge_publishes_one_release_cancelling_the_award(client):
    b = await s.bureau(client)
    p = await s.to_award(client, b)
    loser = next(v for v in p.vendors if str(v.organisation_id) != p.award["vendor_id"])
    challenge = s.ok(await client.post(f"/api/v1/tenders/{p.id}/challenges", json={"grounds": "评分有误"}, headers=loser.headers))
    before = await db.fetchval("SELECT count(*) FROM ocds_releases")
    s.ok(
        await client.post(
            f"/api/v1/tenders/{p.id}/challenges/{challenge['id']}/resolve",
            json={"outcome": "upheld", "reply": "复核后质疑成立", "remedy": "reevaluate"},
            headers=b.user.headers,
        )
    )
    releases, _, packages = await s.read_feed(client)
    assert len(releases) == before + 1
    last = releases[-1]
    assert last["tag"] == ["tenderUpdate", "awardCancellation"]
    assert last["awards"][0]["status"] == "cancelled" and last["tender"]["status"] == "active"
    for package in packages[:-1]:
        s.assert_valid_release_package(package)
    record = await s.record(client, last["ocid"])
    s.assert_valid_record_package(record)
    assert record["records"][0]["compiledRelease"]["awards"][0]["status"] == "cancelled"


async def test_a_cancelled_tender_is_tagged_as_a_cancellation(client):
    b = await s.bureau(client)
    p = await s.published(client, b)
    s.ok(await client.post(f"/api/v1/tenders/{p.id}/cancel", json={"reason": "预算调整"}, headers=b.user.headers))
    releases, _, _ = await s.read_feed(client)
    assert [r["tag"] for r in releases] == [["tender"], ["tenderCancellation"]]
    assert releases[-1]["tender"]["status"] == "cancelled"


async def test_published_releases_cannot_be_rewritten(database):
    import asyncpg
    import pytest

    await db.execute(
        """INSERT INTO ocds_releases (seq, release_id, ocid, tender_id, date, tags, data)
           VALUES (1, 'o-1', 'o', gen_random_uuid(), now(), '{tender}', '{"ocid": "o"}')"""
    )
    with pytest.raises(asyncpg.exceptions.InsufficientPrivilegeError):
        await db.execute("UPDATE ocds_releases SET data = '{\"ocid\": \"forged\"}'")
    with pytest.raises(asyncpg.exceptions.InsufficientPrivilegeError):
        await db.execute("DELETE FROM ocds_releases")


async def test_concurrent_writers_and_a_paging_reader_see_every_release_exactly_once(client):
    writers, per_writer = 6, 4
    admin = await factories.signed_in("admin")
    bureaus = [await s.bureau(client, admin=admin, region_code=f"4403{n:02d}") for n in range(1, writers + 1)]
    done = asyncio.Event()

    async def write(b: s.Bureau) -> None:
        for _ in range(per_writer):
            p = await s.published(client, b)
            # A second change of the same process in its own transaction.
            s.ok(await client.post(f"/api/v1/tenders/{p.id}/cancel", json={"reason": "撤回"}, headers=b.user.headers))

    pages_while_writing = 0

    async def read() -> list[dict]:
        nonlocal pages_while_writing
        seen: list[dict] = []
        since = 0
        while True:
            finished = done.is_set()  # read once more after the writers are done
            package = s.ok(await client.get(f"{RELEASES}?since={since}&limit=3"))
            seen += package["releases"]
            pages_while_writing += bool(package["releases"]) and not finished
            since = int(package["links"]["next"].split("since=")[1].split("&")[0])
            if not package["releases"]:
                if finished:
                    return seen
                await asyncio.sleep(0.01)

    async def run_writers() -> None:
        try:
            await asyncio.gather(*(write(b) for b in bureaus))
        finally:
            done.set()

    seen, _ = await asyncio.gather(read(), run_writers())
    stored = [r["release_id"] for r in await db.fetch("SELECT release_id FROM ocds_releases ORDER BY seq")]
    assert len(stored) == writers * per_writer * 2
    assert [r["id"] for r in seen] == stored
    assert pages_while_writing > 1  # the reader really read while transactions were in flight


async def test_backfill_publishes_processes_that_changed_without_the_feed(client, monkeypatch):
    from govbuy import audit
    from govbuy.public import cli

    b = await s.bureau(client)
    known = await s.published(client, b)
    with monkeypatch.context() as m:
        m.setattr(audit, "listeners", [])  # a process run without the listener registered
        missed = await s.published(client, b, title="无监听时发布的项目")
        await s.draft(client, b, title="草稿")
    assert await db.fetchval("SELECT count(*) FROM ocds_releases") == 1
    assert await cli.backfill() == 1
    assert await cli.backfill() == 0
    releases, _, packages = await s.read_feed(client)
    assert [(r["tender"]["id"], r["tag"]) for r in releases] == [(known.id, ["tender"]), (missed.id, ["tender"])]
    s.assert_valid_release_package(packages[0])


def test_the_cli_offers_the_backfill_and_registers_the_feed():
    import argparse

    from govbuy import audit
    from govbuy.public import cli

    parser = argparse.ArgumentParser()
    cli.register_commands(parser.add_subparsers(dest="command"))
    assert parser.parse_args(["ocds-backfill"]).func is cli.cmd_backfill
    assert feed.on_audit_event in audit.listeners


async def test_a_release_that_cannot_be_built_never_stops_the_change(client, monkeypatch):
    b = await s.bureau(client)

    async def broken(*args, **kwargs):
        raise RuntimeError("mapping bug")

    monkeypatch.setattr(feed, "strict", False)
    monkeypatch.setattr(feed, "load_process", broken)
    failures = feed.RELEASE_FAILURES._value.get()
    p = await s.published(client, b)  # the change commits; its release is logged as missing
    assert p.tender["status"] == "published"
    assert await db.fetchval("SELECT status FROM tenders WHERE id = $1::uuid", p.id) == "published"
    assert await db.fetchval("SELECT count(*) FROM ocds_releases") == 0
    assert feed.RELEASE_FAILURES._value.get() == failures + 2  # the draft's creation, its publication
