"""Verifying the audit chain from checkpoints: each whole walk leaves one, the next walks only
what follows it, a full walk checks every one, and one verification runs at a time."""

from __future__ import annotations

import asyncpg
import pytest

from govbuy import audit
from govbuy import database as db
from tests import factories

VERIFY = "/api/v1/audit-events/verify"


async def _last_seq() -> int:
    return await db.fetchval("SELECT max(seq) FROM audit_events")


async def _as_dba(sql: str, *args) -> None:
    """A statement as a DBA would run it, past the append-only triggers."""
    async with db.transaction():
        await db.execute("SET LOCAL session_replication_role = replica")
        await db.execute(sql, *args)


async def test_a_whole_walk_leaves_a_checkpoint_and_the_next_walks_only_what_follows(client):
    admin = await factories.signed_in("admin")
    await factories.organisation("vendor")
    first = (await client.get(VERIFY, headers=admin.headers)).json()
    last = await _last_seq()
    assert (first["ok"], first["from_checkpoint"], first["verified_through"], first["checked"]) == (True, None, last, last)
    assert await db.fetchval("SELECT seq FROM audit_checkpoints") == last

    await factories.organisation("bureau")
    await factories.organisation("vendor")
    second = (await client.get(VERIFY, headers=admin.headers)).json()
    assert (second["ok"], second["from_checkpoint"], second["verified_through"]) == (True, last, await _last_seq())
    assert second["checked"] == await _last_seq() - last


async def test_a_walk_with_nothing_new_checks_nothing_and_adds_no_checkpoint(client):
    admin = await factories.signed_in("admin")
    await client.get(VERIFY, headers=admin.headers)
    again = (await client.get(VERIFY, headers=admin.headers)).json()
    assert (again["ok"], again["checked"]) == (True, 0)
    assert await db.fetchval("SELECT count(*) FROM audit_checkpoints") == 1


async def test_a_row_rewritten_before_the_checkpoint_is_found_by_the_full_walk(client):
    admin = await factories.signed_in("admin")
    for _ in range(3):
        await factories.organisation("vendor")
    await client.get(VERIFY, headers=admin.headers)
    target = await db.fetchval("SELECT seq FROM audit_events ORDER BY seq OFFSET 2 LIMIT 1")
    await _as_dba("UPDATE audit_events SET after = '{\"name\": \"forged\"}' WHERE seq = $1", target)

    # From the checkpoint the rewrite is out of sight (its hashes were left as they were) ...
    assert (await client.get(VERIFY, headers=admin.headers)).json()["ok"] is True
    # ... and the full walk finds it.
    full = (await client.get(VERIFY, headers=admin.headers, params={"full": "true"})).json()
    assert (full["ok"], full["first_broken"], full["from_checkpoint"]) == (False, target, None)


async def test_events_deleted_from_the_end_are_found_by_their_checkpoint(client):
    """What is left is a whole chain, links and all: only the checkpoint knows it was longer."""
    admin = await factories.signed_in("admin")
    for _ in range(3):
        await factories.organisation("vendor")
    await client.get(VERIFY, headers=admin.headers)
    last = await _last_seq()
    await _as_dba("DELETE FROM audit_events WHERE seq >= $1", last - 1)

    for params in ({}, {"full": "true"}):
        body = (await client.get(VERIFY, headers=admin.headers, params=params)).json()
        assert (body["ok"], body["first_broken"]) == (False, last), params
        assert "rewritten at or before it" in body["reason"]


async def test_a_verification_while_another_runs_is_429_verify_in_progress(client):
    admin = await factories.signed_in("admin")
    async with db.DB.pool.acquire() as other:
        async with other.transaction():
            await other.execute("SELECT pg_advisory_xact_lock($1)", audit._VERIFY_LOCK)
            refused = await client.get(VERIFY, headers=admin.headers)
    assert (refused.status_code, refused.json()["code"]) == (429, "verify_in_progress")
    assert refused.headers["retry-after"] == "5"
    assert (await client.get(VERIFY, headers=admin.headers)).status_code == 200


async def test_checkpoints_are_append_only(client):
    admin = await factories.signed_in("admin")
    await client.get(VERIFY, headers=admin.headers)
    with pytest.raises(asyncpg.exceptions.InsufficientPrivilegeError):
        await db.execute("UPDATE audit_checkpoints SET hash = 'x'")
