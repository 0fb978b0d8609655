"""Concurrency at the bid deadline: every bid is accepted before it or refused after it, never
both and never lost, and the tender is opened exactly once."""

from __future__ import annotations

import asyncio
from datetime import datetime

from govbuy import database as db
from tests import factories
from tests.procurement import support as s

API = "/api/v1/tenders"


async def race_the_deadline(client, w, vendors, lead: float) -> tuple[set[str], set[str]]:
    """One tender; the vendors' bids start 10 ms apart from `lead` seconds before its deadline
    (each is still in flight while dozens of others are). Checks that every bid was accepted
    before the deadline or refused after it, and that after the opening exactly the accepted
    ones are there; returns (accepted, refused) vendor ids."""
    tender = await s.published_tender(client, w)
    deadline = datetime.fromisoformat(tender["bid_deadline"])
    gap = (deadline - await s.now(client, w.admin)).total_seconds()
    await s.advance(client, w.admin, seconds=int(gap) - 2)
    remaining = (deadline - await s.now(client, w.admin)).total_seconds()
    await asyncio.sleep(max(remaining - lead, 0))

    async def submit(i: int, vendor):
        await asyncio.sleep(i * 0.01)
        return await s.bid(client, tender["id"], vendor, f"{700000 + i}.00")

    results = await asyncio.gather(*(submit(i, v) for i, v in enumerate(vendors)))

    accepted = {str(v.organisation_id) for v, r in zip(vendors, results) if r.status_code == 201}
    refused = {str(v.organisation_id) for v, r in zip(vendors, results) if r.status_code == 409}
    assert accepted | refused == {str(v.organisation_id) for v in vendors}, [r.text for r in results]
    assert not accepted & refused
    assert all(r.json()["code"] == "bid_deadline_passed" for r in results if r.status_code == 409)
    for r in results:
        if r.status_code == 201:
            assert datetime.fromisoformat(r.json()["submitted_at"]) < deadline

    await s.pass_deadline(client, w, tender)
    stored, cursor = [], None
    while True:
        page = await client.get(
            f"{API}/{tender['id']}/bids", params={"limit": 7, **({"cursor": cursor} if cursor else {})}, headers=w.bureau.headers
        )
        assert page.status_code == 200, page.text
        stored += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if not cursor:
            break
    assert {b["vendor_id"] for b in stored} == accepted
    assert len(stored) == len(accepted)
    opened = await db.fetch(
        "SELECT after FROM audit_events WHERE action = 'tender.opened' AND entity_id = $1", str(tender["id"])
    )
    assert len(opened) == 1
    assert {b["vendor_id"] for b in opened[0]["after"]["bids"]} == accepted
    return accepted, refused


async def test_fifty_concurrent_bids_at_the_deadline_are_accepted_before_it_or_refused_never_lost(client):
    w = await s.world("50000000.00")
    vendors = await factories.many_signed_in("vendor", 50)
    # On a slow or busy machine the deadline may miss the burst: aim again (earlier when every
    # bid came too late, later when none did), up to three tenders; each one is checked whole.
    lead, splits = 0.25, []
    for _ in range(3):
        accepted, refused = await race_the_deadline(client, w, vendors, lead)
        splits.append((len(accepted), len(refused)))
        if accepted and refused:
            break
        lead = lead * 3 if not accepted else lead / 3
    assert splits[-1][0] and splits[-1][1], f"the deadline never fell inside the burst: {splits}"


async def test_concurrent_first_reads_after_the_deadline_open_the_tender_once(client):
    w = await s.world()
    tender = await s.published_tender(client, w)
    vendors = await factories.many_signed_in("vendor", 3)
    for v in vendors:
        await s.bid(client, tender["id"], v, "800000.00")
    await s.pass_deadline(client, w, tender)
    reads = await asyncio.gather(
        *(client.get(f"{API}/{tender['id']}", headers=v.headers) for v in vendors * 5)
    )
    assert {r.json()["status"] for r in reads} == {"evaluating"}
    opened = await db.fetchval(
        "SELECT count(*) FROM audit_events WHERE action = 'tender.opened' AND entity_id = $1", str(tender["id"])
    )
    assert opened == 1


async def test_one_vendors_concurrent_double_submission_keeps_one_bid(client):
    w = await s.world()
    tender = await s.published_tender(client, w)
    vendor = await factories.signed_in("vendor")
    results = await asyncio.gather(*(s.bid(client, tender["id"], vendor, "800000.00") for _ in range(5)))
    assert sorted(r.status_code for r in results) == [201, 409, 409, 409, 409]
    assert {r.json()["code"] for r in results if r.status_code == 409} == {"bid_already_submitted"}
    assert await db.fetchval("SELECT count(*) FROM bids WHERE tender_id = $1", tender["id"]) == 1
