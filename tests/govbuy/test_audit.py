"""The audit log: every change appends a hash-linked event; tampering is found."""

from __future__ import annotations

from govbuy import audit
from govbuy import database as db
from tests import factories


async def test_events_link_each_to_the_previous_hash(client):
    admin = await factories.signed_in("admin")
    await factories.organisation("vendor")
    await factories.organisation("bureau")
    rows = await db.fetch("SELECT seq, prev_hash, hash FROM audit_events ORDER BY seq")
    assert len(rows) >= 4
    assert rows[0]["prev_hash"] == audit.GENESIS
    for earlier, later in zip(rows, rows[1:]):
        assert later["prev_hash"] == earlier["hash"]
    response = await client.get("/api/v1/audit-events/verify", headers=admin.headers)
    assert response.json() == {
        "ok": True, "checked": len(rows), "first_broken": None, "reason": None,
        "from_checkpoint": None, "verified_through": rows[-1]["seq"],
    }


async def test_an_event_records_actor_entity_and_after_state(client):
    admin = await factories.signed_in("admin")
    created = await client.post(
        "/api/v1/organisations", headers=admin.headers, json={"name": "福田区财政局", "kind": "bureau", "region_code": "440304"}
    )
    org_id = created.json()["id"]
    events = (
        await client.get(f"/api/v1/audit-events?entity_type=organisation&entity_id={org_id}", headers=admin.headers)
    ).json()["items"]
    assert len(events) == 1
    event = events[0]
    assert event["action"] == "organisation.created"
    assert event["actor_user_id"] == str(admin.user.id)
    assert event["after"]["name"] == "福田区财政局"


async def test_the_service_cannot_rewrite_the_log(database):
    await factories.organisation("vendor")
    import asyncpg
    import pytest

    with pytest.raises(asyncpg.exceptions.InsufficientPrivilegeError):
        await db.execute("UPDATE audit_events SET action = 'nothing happened'")


async def test_a_row_rewritten_in_sql_is_named_by_verify(client):
    admin = await factories.signed_in("admin")
    for _ in range(3):
        await factories.organisation("vendor")
    target = await db.fetchval("SELECT seq FROM audit_events ORDER BY seq OFFSET 2 LIMIT 1")
    async with db.transaction():
        await db.execute("SET LOCAL session_replication_role = replica")  # a DBA bypassing the trigger
        await db.execute("UPDATE audit_events SET after = '{\"name\": \"forged\"}' WHERE seq = $1", target)
    body = (await client.get("/api/v1/audit-events/verify", headers=admin.headers)).json()
    assert body["ok"] is False
    assert body["first_broken"] == target
    assert body["checked"] == target - 1


async def test_vendors_and_bureaus_cannot_read_the_audit_log(client):
    for role in ("vendor", "bureau", "evaluator", "expert"):
        user = await factories.signed_in(role)
        assert (await client.get("/api/v1/audit-events", headers=user.headers)).status_code == 403
