"""A change whose OCDS release cannot be built goes through, and owes its release: recorded with
the change, counted by /health, published by `govbuy retry-releases` (or the process's next
change) — never a change left silently without its release."""

from __future__ import annotations

from govbuy import database as db
from govbuy.public import feed, ocds_mapping
from tests.procurement import support as s


async def test_a_release_that_cannot_be_built_is_owed_and_published_by_the_retry(client, monkeypatch):
    w = await s.world()
    tender = await s.create_tender(client, w)
    built = ocds_mapping.build_release

    def broken(*args, **kwargs):
        raise OverflowError("date value out of range")

    monkeypatch.setattr(ocds_mapping, "build_release", broken)
    r = await client.post(f"/api/v1/tenders/{tender['id']}/publish", headers=w.bureau.headers)
    assert r.status_code == 200, r.text  # the purchase is not held up by its disclosure
    assert await db.fetchval("SELECT count(*) FROM ocds_releases WHERE tender_id = $1", tender["id"]) == 0
    owed = await db.fetchrow("SELECT * FROM ocds_pending_releases WHERE tender_id = $1", tender["id"])
    assert (owed["action"], owed["attempts"]) == ("tender.published", 1) and "OverflowError" in owed["last_error"]
    assert (await client.get("/health")).json()["owed_releases"] == 1

    assert await feed.retry_owed() == (0, 1)  # still broken: counted again, kept
    assert await db.fetchval("SELECT attempts FROM ocds_pending_releases WHERE tender_id = $1", tender["id"]) == 2

    monkeypatch.setattr(ocds_mapping, "build_release", built)
    assert await feed.retry_owed() == (1, 0)
    assert await db.fetchval("SELECT count(*) FROM ocds_pending_releases") == 0
    [release] = await db.fetch("SELECT tags, data FROM ocds_releases WHERE tender_id = $1", tender["id"])
    assert release["data"]["tender"]["status"] == "active"
    assert (await client.get("/health")).json()["owed_releases"] == 0


async def test_the_next_change_of_the_process_pays_what_it_owed(client, monkeypatch):
    w = await s.world()
    tender = await s.create_tender(client, w)
    built = ocds_mapping.build_release
    monkeypatch.setattr(ocds_mapping, "build_release", lambda *a, **k: (_ for _ in ()).throw(ValueError("broken")))
    assert (await client.post(f"/api/v1/tenders/{tender['id']}/publish", headers=w.bureau.headers)).status_code == 200
    monkeypatch.setattr(ocds_mapping, "build_release", built)
    r = await client.post(f"/api/v1/tenders/{tender['id']}/cancel", json={"reason": "需求变更"}, headers=w.bureau.headers)
    assert r.status_code == 200, r.text
    assert await db.fetchval("SELECT count(*) FROM ocds_pending_releases") == 0
    assert await db.fetchval("SELECT count(*) FROM ocds_releases WHERE tender_id = $1", tender["id"]) == 1
