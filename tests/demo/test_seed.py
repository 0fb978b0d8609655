"""`govbuy seed` on a small scale, into the test database: the same load as at a million
tenders, checked for what the service would see and for what it must not write."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from rich.progress import Progress

from govbuy import clock
from govbuy import database as db
from govbuy.demo import seed

API = "/api/v1"
STATUSES = {"draft", "published", "evaluating", "awarded", "contracted", "cancelled", "failed"}


async def _indexes() -> set[str]:
    return {r["indexname"] for r in await db.fetch("SELECT indexname FROM pg_indexes WHERE schemaname = 'public'")}


@pytest.fixture(scope="module")
async def seeded(database) -> dict:
    dsn, tables = database
    async with db.transaction():
        await db.execute("SET LOCAL session_replication_role = replica")
        await db.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
    clock.forget_calendar()
    before = await _indexes()
    with Progress(disable=True) as progress:
        counts = await seed.seed(
            dsn, vendors=300, tenders=3000, bids=15000, evaluations=1500, progress=progress,
            now=datetime.now(UTC),
        )
    return {"counts": counts, "indexes_before": before}


async def test_seed_loads_every_table_in_proportion(seeded):
    counts = {r["kind"]: r["n"] for r in await db.fetch("SELECT kind, count(*) AS n FROM organisations GROUP BY kind")}
    assert counts["vendor"] == 300
    assert await db.fetchval("SELECT count(*) FROM tenders") == 3000
    assert 12_000 < await db.fetchval("SELECT count(*) FROM bids") < 18_000
    statuses = {r["status"] for r in await db.fetch("SELECT DISTINCT status FROM tenders")}
    assert statuses == STATUSES
    contracts = await db.fetchval("SELECT count(*) FROM contracts")
    assert contracts == await db.fetchval("SELECT count(*) FROM tenders WHERE status = 'contracted'") > 0
    evaluations = await db.fetchval("SELECT count(*) FROM evaluations WHERE status = 'accepted'")
    assert 1000 < evaluations <= 1800
    assert 0 < await db.fetchval("SELECT count(*) FROM payments") < evaluations


async def test_seed_writes_no_audit_event_and_no_ocds_release(seeded):
    assert await db.fetchval("SELECT count(*) FROM audit_events") == 0
    assert await db.fetchval("SELECT count(*) FROM ocds_releases") == 0


async def test_seed_puts_back_every_index_it_dropped(seeded):
    assert await _indexes() == seeded["indexes_before"]


async def test_seeded_books_balance(seeded):
    # Budget lines carry exactly what the seeded tenders reserve, contracts commit and payments spend.
    off = await db.fetchval(
        """SELECT count(*) FROM budget_lines l WHERE
               l.reserved <> (SELECT coalesce(sum(reserved_amount), 0) FROM tenders t WHERE t.budget_line_id = l.id)
            OR l.committed <> (SELECT coalesce(sum(amount), 0) FROM contracts c WHERE c.budget_line_id = l.id)
            OR l.spent <> (SELECT coalesce(sum(amount), 0) FROM payments p WHERE p.budget_line_id = l.id)"""
    )
    assert off == 0
    # A contract is completed exactly when all its milestones are paid.
    assert not await db.fetchval(
        """SELECT count(*) FROM contracts c WHERE (c.status = 'completed') <>
               NOT EXISTS (SELECT 1 FROM milestones m WHERE m.contract_id = c.id AND m.status <> 'paid')"""
    )
    # Milestone amounts add up to the contract's amount.
    assert not await db.fetchval(
        """SELECT count(*) FROM contracts c
           WHERE c.amount <> (SELECT sum(amount) FROM milestones m WHERE m.contract_id = c.id)"""
    )


async def test_seeded_data_is_served_and_its_users_sign_in(client: httpx.AsyncClient, seeded):
    page = (await client.get(f"{API}/public/tenders")).json()
    assert len(page["items"]) == 50 and page["next_cursor"]
    detail = (await client.get(f"{API}/public/tenders/{page['items'][0]['id']}")).json()
    assert detail["id"] == page["items"][0]["id"]
    awarded = await db.fetchval("SELECT id FROM tenders WHERE status = 'contracted' LIMIT 1")
    tender = (await client.get(f"{API}/public/tenders/{awarded}")).json()
    assert tender["award"]["ranking"][0]["rank"] == 1 and tender["bids"]
    token = await client.post(f"{API}/auth/token", json={"username": "bureau-001", "password": seed.SEED_PASSWORD})
    assert token.status_code == 200
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    own = (await client.get(f"{API}/tenders", headers=headers)).json()["items"]
    assert own and all(t["bureau_name"].endswith("财政局") for t in own)
