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


# --- every field hashed, under a key kept outside the database ----------------------------------

import hashlib
import json
import os
import stat
import uuid
from datetime import UTC

import pytest

from govbuy import settings as settings_module
from govbuy.settings import get_settings


async def _tamper(sql: str, *args) -> None:
    """Write the log as someone with write access to the database would (trigger bypassed)."""
    async with db.transaction():
        await db.execute("SET LOCAL session_replication_role = replica")
        await db.execute(sql, *args)


async def _verify(client, who, *, full: bool = False) -> dict:
    """GET /audit-events/verify; `full`: from the first event, not from the latest checkpoint
    (a verification's checkpoint vouches for what came before it)."""
    response = await client.get("/api/v1/audit-events/verify", headers=who.headers, params={"full": "true"} if full else {})
    assert response.status_code == 200, response.text
    return response.json()


async def _events(n: int) -> None:
    for _ in range(n):
        await factories.organisation("vendor")


async def test_new_events_are_keyed_and_record_the_actors_role(client):
    admin = await factories.signed_in("admin")
    await client.post(
        "/api/v1/organisations", headers=admin.headers, json={"name": "罗湖区民政局", "kind": "bureau", "region_code": "440303"}
    )
    event = (await client.get("/api/v1/audit-events?limit=1", headers=admin.headers)).json()["items"][0]
    assert (event["hash_version"], event["key_id"], event["actor_role"]) == (2, audit.audit_key()[1], "admin")
    assert event["actor_username"] == admin.user.username


async def test_an_actor_username_changed_in_sql_is_named_by_verify(client):
    admin = await factories.signed_in("admin")
    await _events(3)
    target = await db.fetchval("SELECT seq FROM audit_events ORDER BY seq OFFSET 1 LIMIT 1")
    await _tamper("UPDATE audit_events SET actor_username = 'someone-else' WHERE seq = $1", target)
    body = await _verify(client, admin)
    assert (body["ok"], body["first_broken"], body["reason"]) == (False, target, "event content does not match its hash")


@pytest.mark.parametrize(
    "change",
    [
        "id = gen_random_uuid()",
        "actor_role = 'supervisor'",
        "organisation_id = gen_random_uuid()",
        "occurred_at = occurred_at - interval '1 day'",
        "entity_id = 'another'",
        "before = '{\"x\": 1}'",
    ],
)
async def test_every_field_is_covered_by_the_hash(client, change):
    admin = await factories.signed_in("admin")
    await _events(2)
    target = await db.fetchval("SELECT max(seq) FROM audit_events")
    await _tamper(f"UPDATE audit_events SET {change} WHERE seq = $1", target)
    body = await _verify(client, admin)
    assert (body["ok"], body["first_broken"]) == (False, target)


def _plain_sha256(row: dict) -> str:
    """What an attacker without the key can compute: the keyed scheme's payload, unkeyed."""
    payload = {**{k: row[k] for k in row if k != "hash"}}
    payload = {k: (v.astimezone(UTC).isoformat(timespec="microseconds") if hasattr(v, "astimezone") else v) for k, v in payload.items()}
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


async def test_a_chain_recomputed_in_sql_without_the_key_fails(client):
    admin = await factories.signed_in("admin")
    await _events(3)
    rows = [dict(r) for r in await db.fetch(f"SELECT {audit.EVENT_COLUMNS} FROM audit_events ORDER BY seq")]
    forged_from = rows[2]["seq"]
    rows[2]["after"] = {"name": "forged"}
    prev = rows[1]["hash"]
    for row in rows[2:]:  # rewrite the event and re-link everything after it
        row["prev_hash"] = prev
        row["hash"] = prev = _plain_sha256(row)
        await _tamper(
            "UPDATE audit_events SET after = $2, prev_hash = $3, hash = $4 WHERE seq = $1",
            row["seq"], row["after"], row["prev_hash"], row["hash"],
        )
    body = await _verify(client, admin)
    assert (body["ok"], body["first_broken"], body["reason"]) == (False, forged_from, "event content does not match its hash")


async def test_a_keyed_event_passed_off_as_unkeyed_fails(client):
    """Rewritten, then rehashed under the old unkeyed scheme: the chain never goes back to it."""
    admin = await factories.signed_in("admin")
    await _events(3)
    rows = [dict(r) for r in await db.fetch(f"SELECT {audit.EVENT_COLUMNS} FROM audit_events ORDER BY seq")]
    last = rows[-1]
    forged = {**last, "after": {"name": "forged"}, "hash_version": 1, "key_id": None}
    await _tamper(
        "UPDATE audit_events SET after = $2, hash_version = 1, key_id = NULL, hash = $3 WHERE seq = $1",
        last["seq"], forged["after"], _legacy_v1_hash(forged),
    )
    body = await _verify(client, admin)
    assert (body["ok"], body["first_broken"]) == (False, last["seq"])
    assert body["reason"] == "hashed under an older scheme than an event before it"


async def test_events_verified_with_another_key_name_the_key(client, monkeypatch):
    admin = await factories.signed_in("admin")
    await _events(2)
    first = await db.fetchval("SELECT min(seq) FROM audit_events")
    ours = audit.audit_key()[1]
    monkeypatch.setenv("GOVBUY_AUDIT_KEY", "another-key-0123456789abcdef0123456789")
    get_settings.cache_clear()
    try:
        body = await _verify(client, admin)
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    assert (body["ok"], body["first_broken"]) == (False, first)
    assert body["reason"].startswith(f"hashed with audit key {ours}, not this service's key ")


def test_the_key_is_made_once_in_the_data_folder_readable_by_its_owner_only(tmp_path, monkeypatch):
    monkeypatch.delenv("GOVBUY_AUDIT_KEY", raising=False)
    path = tmp_path / "data" / "audit_key"
    key = settings_module.kept_secret(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert len(key) >= 64 and path.read_text() == key
    assert settings_module.kept_secret(path) == key
    assert [p.name for p in path.parent.iterdir()] == ["audit_key"]  # nothing left aside


def test_a_configured_key_wins_and_no_file_is_made(tmp_path, monkeypatch):
    monkeypatch.setenv("GOVBUY_AUDIT_KEY", "configured")
    settings_module.get_settings.cache_clear()
    try:
        assert settings_module.get_settings().audit_key == "configured"
    finally:
        settings_module.get_settings.cache_clear()
    assert settings_module.kept_secret(tmp_path / "audit_key", "GOVBUY_AUDIT_KEY") == "configured"
    assert not (tmp_path / "audit_key").exists()


# --- events written before the key (hash version 1) --------------------------------------------


def _legacy_v1_hash(row: dict) -> str:
    """The scheme of events written before the key, as it was (SHA-256 over some fields)."""
    payload = {
        "prev": row["prev_hash"],
        "at": row["occurred_at"].astimezone(UTC).isoformat(timespec="microseconds"),
        "actor": str(row["actor_user_id"]) if row["actor_user_id"] else None,
        "org": str(row["organisation_id"]) if row["organisation_id"] else None,
        "action": row["action"],
        "entity_type": row["entity_type"],
        "entity_id": row["entity_id"],
        "before": row["before"],
        "after": row["after"],
    }
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


async def _legacy_events(n: int) -> list[int]:
    """n events as the service wrote them before the key: no role, no key id, version 1."""
    from govbuy import clock

    prev, seqs = audit.GENESIS, []
    for i in range(n):
        row = {
            "occurred_at": await clock.now(), "actor_user_id": None, "organisation_id": None,
            "action": "organisation.created", "entity_type": "organisation", "entity_id": str(uuid.uuid4()),
            "before": None, "after": {"name": f"旧机构{i}"}, "prev_hash": prev,
        }
        prev = _legacy_v1_hash(row)
        seqs.append(await db.fetchval(
            """INSERT INTO audit_events (id, occurred_at, actor_user_id, actor_username, organisation_id, action,
                   entity_type, entity_id, before, after, prev_hash, hash, hash_version)
               VALUES ($1, $2, NULL, 'system', NULL, $3, $4, $5, NULL, $6, $7, $8, 1) RETURNING seq""",
            uuid.uuid4(), row["occurred_at"], row["action"], row["entity_type"], row["entity_id"], row["after"],
            row["prev_hash"], prev,
        ))
    return seqs


async def test_events_of_the_old_scheme_still_verify_and_the_chain_goes_on_from_them(client):
    legacy = await _legacy_events(3)
    admin = await factories.signed_in("admin")
    rows = await db.fetch("SELECT seq, hash_version, prev_hash, hash FROM audit_events ORDER BY seq")
    assert [r["hash_version"] for r in rows[:3]] == [1, 1, 1] and {r["hash_version"] for r in rows[3:]} == {2}
    assert rows[3]["prev_hash"] == rows[2]["hash"]
    body = await _verify(client, admin)
    assert (body["ok"], body["checked"]) == (True, len(rows))
    # the first keyed event seals the unkeyed ones before it: one rewritten (and its successors
    # re-linked, as anyone could for version 1) still breaks the chain at the keyed event
    await _tamper("UPDATE audit_events SET after = '{\"name\": \"forged\"}' WHERE seq = $1", legacy[2])
    forged = dict(await db.fetchrow("SELECT * FROM audit_events WHERE seq = $1", legacy[2]))
    await _tamper("UPDATE audit_events SET hash = $2 WHERE seq = $1", legacy[2], _legacy_v1_hash(forged))
    body = await _verify(client, admin, full=True)
    assert (body["ok"], body["first_broken"], body["reason"]) == (False, rows[3]["seq"], "previous hash does not match")


async def test_the_migration_marks_earlier_events_as_the_old_scheme(database):
    column = await db.fetchrow(
        "SELECT is_nullable, column_default FROM information_schema.columns WHERE table_name = 'audit_events' AND column_name = 'hash_version'"
    )
    assert (column["is_nullable"], column["column_default"]) == ("NO", None)  # new events state their version
    import asyncpg

    with pytest.raises(asyncpg.exceptions.CheckViolationError):  # a keyed event names its key
        await db.execute(
            """INSERT INTO audit_events (id, occurred_at, actor_username, action, entity_type, entity_id, prev_hash, hash, hash_version)
               VALUES (gen_random_uuid(), now(), 'x', 'a', 'b', 'c', $1, $1, 2)""",
            "0" * 64,
        )


# --- published heads --------------------------------------------------------------------------


async def test_deleting_the_last_events_fails_against_the_published_head(client):
    admin = await factories.signed_in("admin")
    await _events(3)
    head = await audit.publish_head()
    assert head is not None and head.seq == await db.fetchval("SELECT max(seq) FROM audit_events")
    assert (await _verify(client, admin))["ok"] is True
    await _tamper("DELETE FROM audit_events WHERE seq > $1", head.seq - 2)
    incremental = await _verify(client, admin)  # its checkpoint's event is gone
    assert (incremental["ok"], incremental["first_broken"]) == (False, head.seq)
    body = await _verify(client, admin, full=True)
    assert (body["ok"], body["first_broken"]) == (False, head.seq)
    assert f"(seq {head.seq}, hash {head.hash}) is no longer in the chain" in body["reason"]


async def test_a_head_is_published_once_and_the_service_cannot_remove_it(database):
    assert await audit.publish_head() is None  # an empty chain has no head
    await _events(1)
    first = await audit.publish_head()
    assert await audit.publish_head() == first
    assert await db.fetchval("SELECT count(*) FROM audit_heads") == 1
    import asyncpg

    with pytest.raises(asyncpg.exceptions.InsufficientPrivilegeError):
        await db.execute("DELETE FROM audit_heads")


async def test_the_public_reads_the_published_head_and_checks_a_kept_one(client):
    missing = await client.get("/api/v1/public/audit-head")
    assert (missing.status_code, missing.json()["code"]) == (404, "audit_head_not_published")
    await _events(2)
    head = await audit.publish_head()
    await _events(1)  # later events: the endpoint still serves what was published
    body = (await client.get("/api/v1/public/audit-head")).json()
    assert (body["seq"], body["hash"]) == (head.seq, head.hash)
    kept = (await client.get(f"/api/v1/public/audit-head?seq={head.seq}")).json()
    assert (kept["seq"], kept["hash"]) == (head.seq, head.hash)
    await _tamper("DELETE FROM audit_events WHERE seq >= $1", head.seq)
    gone = await client.get(f"/api/v1/public/audit-head?seq={head.seq}")
    assert (gone.status_code, gone.json()["code"]) == (404, "not_found")


def test_publish_audit_head_is_a_command():
    from govbuy import cli

    assert cli.build_parser().parse_args(["publish-audit-head"]).func is cli.cmd_publish_audit_head
