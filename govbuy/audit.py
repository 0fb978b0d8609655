"""The audit log: every state change appends an event in the same transaction as the change,
each event carrying the hash of the one before it, so that a rewritten row breaks the chain.

Appends are serialised by a transaction-scoped advisory lock taken as late as possible (the
event is the last write of a change), so the chain has one order however many workers write.

An event's hash covers every column of its row (but the hash itself), canonically serialised,
as an HMAC-SHA256 under the audit key (`settings.audit_key`), which is kept outside the
database: write access to the database is not enough to forge or recompute the chain. Each
event records the scheme it was hashed under (`hash_version`) and is checked under its own:
version 1, of the events written before the key, is SHA-256 over some of the fields; the chain
never goes back to an older scheme, so the first keyed event seals the unkeyed ones before it.
The heads published to the public (`audit_heads`) must still be in the chain, so that deleting
its last events shows.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from govbuy import clock
from govbuy import database as db
from govbuy.settings import get_settings
from govbuy.errors import TooManyRequests

GENESIS = "0" * 64
HASH_VERSION = 2  # the scheme new events are hashed under (see event_hash)
_AUDIT_LOCK = 0x6A0B_17  # advisory-lock key of the chain's tail


@dataclass(frozen=True)
class Actor:
    """Who acts: a signed-in user of an organisation, or the system itself (actor None)."""

    user_id: UUID
    username: str
    role: str
    organisation_id: UUID
    organisation_kind: str


@dataclass(frozen=True)
class AuditContext:
    """What a listener learns of an event just appended (inside the change's transaction)."""

    actor: Actor | None
    action: str
    entity_type: str
    entity_id: str
    before: Any
    after: Any
    occurred_at: datetime


# Called at the end of every record(), inside the change's transaction and while the chain's
# lock is held, so whatever a listener appends is ordered like the chain (commit order). The
# kernel imports no domain: the shell's top layer registers here (govbuy.public.feed).
listeners: list[Callable[[AuditContext], Awaitable[None]]] = []


def _canonical(value: Any) -> Any:
    # Round-trip through JSON so the hash covers exactly what jsonb stores and gives back.
    return json.loads(db.dumps(value)) if value is not None else None


# Every column of an event's row: its hash covers all of them but the hash itself.
_FIELDS = (
    "seq", "id", "occurred_at", "actor_user_id", "actor_username", "actor_role", "organisation_id", "action",
    "entity_type", "entity_id", "before", "after", "prev_hash", "hash_version", "key_id", "hash",
)
EVENT_COLUMNS = ", ".join(_FIELDS)
_INSERT = f"INSERT INTO audit_events ({EVENT_COLUMNS}) VALUES ({', '.join(f'${i + 1}' for i in range(len(_FIELDS)))})"


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _instant(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def _serialised(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def _legacy_hash(event: Mapping[str, Any]) -> str:
    """Version 1 (events written before the key): SHA-256 over some of the fields."""
    payload = {
        "prev": event["prev_hash"],
        "at": _instant(event["occurred_at"]),
        "actor": _text(event["actor_user_id"]),
        "org": _text(event["organisation_id"]),
        "action": event["action"],
        "entity_type": event["entity_type"],
        "entity_id": event["entity_id"],
        "before": event["before"],
        "after": event["after"],
    }
    return hashlib.sha256(_serialised(payload)).hexdigest()


def _keyed_hash(event: Mapping[str, Any], key: bytes) -> str:
    """Version 2: HMAC-SHA256 under the audit key over every column but the hash."""
    payload = {
        "version": event["hash_version"],
        "key_id": event["key_id"],
        "seq": event["seq"],
        "id": str(event["id"]),
        "occurred_at": _instant(event["occurred_at"]),
        "actor_user_id": _text(event["actor_user_id"]),
        "actor_username": event["actor_username"],
        "actor_role": event["actor_role"],
        "organisation_id": _text(event["organisation_id"]),
        "action": event["action"],
        "entity_type": event["entity_type"],
        "entity_id": event["entity_id"],
        "before": event["before"],
        "after": event["after"],
        "prev_hash": event["prev_hash"],
    }
    return hmac.new(key, _serialised(payload), hashlib.sha256).hexdigest()


@lru_cache(maxsize=4)
def _key_of(secret: str) -> tuple[bytes, str]:
    key = secret.encode()
    return key, hmac.new(key, b"govbuy audit key id", hashlib.sha256).hexdigest()[:16]


def audit_key() -> tuple[bytes, str]:
    """The chain's key and its id (which names the key without giving it away)."""
    return _key_of(get_settings().audit_key)


_SCHEMES: dict[int, Callable[[Mapping[str, Any]], str]] = {
    1: _legacy_hash,
    2: lambda event: _keyed_hash(event, audit_key()[0]),
}


def event_hash(event: Mapping[str, Any]) -> str:
    """The hash of an event (a row of audit_events, or the row about to be written) under the
    scheme of its `hash_version`."""
    return _SCHEMES[event["hash_version"]](event)


def broken_reason(event: Mapping[str, Any]) -> str | None:
    """Why an event's stored hash is not the one its row gives, if it is not."""
    if event["hash_version"] not in _SCHEMES:
        return f"unknown hash scheme version {event['hash_version']}"
    key_id = audit_key()[1]
    if event["hash_version"] == 2 and event["key_id"] != key_id:
        return f"hashed with audit key {event['key_id']}, not this service's key {key_id}"
    if not hmac.compare_digest(event_hash(event), event["hash"]):
        return "event content does not match its hash"
    return None


async def lock_chain() -> None:
    """Hold the chain's lock until the transaction ends: appends after it are ordered after
    this transaction's commit (what record() does; listeners' own appends rely on it)."""
    await db.execute("SELECT pg_advisory_xact_lock($1)", _AUDIT_LOCK)


async def record(
    actor: Actor | None,
    action: str,
    entity_type: str,
    entity_id: Any,
    *,
    before: Any = None,
    after: Any = None,
) -> None:
    """Append an event; must run inside the transaction of the change it records."""
    if db.DB.current_transaction.get() is None:
        raise RuntimeError("audit events are written inside the change's transaction")
    before, after = _canonical(before), _canonical(after)
    occurred_at = await clock.now()
    await lock_chain()
    prev = await db.fetchval("SELECT hash FROM audit_events ORDER BY seq DESC LIMIT 1") or GENESIS
    event: dict[str, Any] = {
        # Drawn under the chain's lock: seq order is chain order (a rolled-back append leaves a gap).
        "seq": await db.fetchval("SELECT nextval(pg_get_serial_sequence('audit_events', 'seq'))"),
        "id": uuid4(),
        "occurred_at": occurred_at,
        "actor_user_id": actor.user_id if actor else None,
        "actor_username": actor.username if actor else "system",
        "actor_role": actor.role if actor else None,
        "organisation_id": actor.organisation_id if actor else None,
        "action": action,
        "entity_type": entity_type,
        "entity_id": str(entity_id),
        "before": before,
        "after": after,
        "prev_hash": prev,
        "hash_version": HASH_VERSION,
        "key_id": audit_key()[1],
    }
    event["hash"] = event_hash(event)
    await db.execute(_INSERT, *(event[field] for field in _FIELDS))
    if listeners:
        context = AuditContext(actor, action, entity_type, str(entity_id), before, after, occurred_at)
        for listener in listeners:
            await listener(context)


@dataclass(frozen=True)
class ChainCheck:
    ok: bool
    checked: int
    first_broken: int | None
    reason: str | None
    # Where a whole chain was found whole up to: the last event walked, and its hash.
    last_seq: int = 0
    last_hash: str = GENESIS


async def verify_chain(batch: int = 1000, *, after_seq: int = 0, prev_hash: str = GENESIS) -> ChainCheck:
    """Walk the chain in order from the event after `after_seq` (whose hash is `prev_hash`),
    recomputing every hash; report the first broken link. Batches are small so that the walk
    lets other requests in between them (about 20 ms of hashing each)."""
    prev = prev_hash
    checked = 0
    last_seq = after_seq
    while True:
        rows = await db.fetch(
            f"SELECT {EVENT_COLUMNS} FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2",
            last_seq,
            batch,
        )
        if not rows:
            return await check_anchors(checked, last_seq, prev)
        for r in rows:
            if r["prev_hash"] != prev:
                return ChainCheck(False, checked, r["seq"], "previous hash does not match")
            if reason := broken_reason(r):
                return ChainCheck(False, checked, r["seq"], reason)
            prev = r["hash"]
            checked += 1
            last_seq = r["seq"]


async def check_anchors(checked: int, last_seq: int = 0, last_hash: str = GENESIS) -> ChainCheck:
    """What a walk of the links cannot see, for a chain whose links hold: an event hashed under
    an older scheme after one of a newer (a rewritten event passed off as unkeyed), and a
    published head no longer in the chain (its last events deleted, or rewritten)."""
    downgraded = await db.fetchval(
        """SELECT seq FROM audit_events
           WHERE hash_version < $1
             AND seq > (SELECT seq FROM audit_events WHERE hash_version = $1 ORDER BY seq LIMIT 1)
           ORDER BY seq LIMIT 1""",
        HASH_VERSION,
    )
    if downgraded is not None:
        return ChainCheck(False, checked, downgraded, "hashed under an older scheme than an event before it")
    lost = await db.fetchrow(
        """SELECT h.seq, h.hash, h.published_at FROM audit_heads h
           LEFT JOIN audit_events e ON e.seq = h.seq AND e.hash = h.hash
           WHERE e.seq IS NULL ORDER BY h.seq LIMIT 1"""
    )
    if lost is not None:
        return ChainCheck(
            False, checked, lost["seq"],
            f"the head published at {_instant(lost['published_at'])} (seq {lost['seq']}, hash {lost['hash']}) is no longer in the chain",
        )
    return ChainCheck(True, checked, None, None, last_seq, last_hash)


# --- published heads -------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainHead:
    """The chain's last event as published: anyone who keeps it can later check that the chain
    still holds it (`GET /api/v1/public/audit-head?seq=`)."""

    seq: int
    hash: str
    at: datetime


async def publish_head() -> ChainHead | None:
    """Record the chain's current head in `audit_heads` (once per head); the head published,
    or None while the chain is empty."""
    async with db.transaction():
        row = await db.fetchrow(
            """INSERT INTO audit_heads (seq, hash, published_at)
               SELECT e.seq, e.hash, $1 FROM (SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1) e
               WHERE NOT EXISTS (SELECT 1 FROM audit_heads h WHERE h.seq = e.seq AND h.hash = e.hash)
               RETURNING seq, hash, published_at""",
            await clock.now(),
        )
    return ChainHead(row["seq"], row["hash"], row["published_at"]) if row else await published_head()


async def published_head() -> ChainHead | None:
    """The head published last, if any."""
    row = await db.fetchrow("SELECT seq, hash, published_at FROM audit_heads ORDER BY seq DESC, id DESC LIMIT 1")
    return ChainHead(row["seq"], row["hash"], row["published_at"]) if row else None


async def event_at(seq: int) -> ChainHead | None:
    """The chain's event at seq as it stands now, as a head (`at`: when it was recorded), to
    compare with a head kept from earlier."""
    row = await db.fetchrow("SELECT seq, hash, occurred_at FROM audit_events WHERE seq = $1", seq)
    return ChainHead(row["seq"], row["hash"], row["occurred_at"]) if row else None


# --- verification from checkpoints ---------------------------------------------------------------

_VERIFY_LOCK = 0x6A0B_18  # advisory-lock key of a verification run (any process, any host)


@dataclass(frozen=True)
class Verification:
    """A verification's answer: the check, and the checkpoint it started from (None: the first
    event), as `GET /audit-events/verify` shows it."""

    check: ChainCheck
    from_checkpoint: int | None


async def _latest_checkpoint() -> Any:
    return await db.fetchrow("SELECT seq, hash, verified_at FROM audit_checkpoints ORDER BY seq DESC LIMIT 1")


async def _first_moved_checkpoint(from_seq: int = 0) -> Any:
    """The first checkpoint from `from_seq` on whose event no longer has the hash recorded for
    it (or is gone): set-based, one query."""
    return await db.fetchrow(
        """SELECT c.seq, c.verified_at FROM audit_checkpoints c
           LEFT JOIN audit_events e ON e.seq = c.seq
           WHERE c.seq >= $1 AND e.hash IS DISTINCT FROM c.hash
           ORDER BY c.seq LIMIT 1""",
        from_seq,
    )


def _moved(checkpoint: Any, checked: int) -> ChainCheck:
    return ChainCheck(
        False,
        checked,
        checkpoint["seq"],
        f"the event no longer has the hash it had when the chain was verified on "
        f"{checkpoint['verified_at'].isoformat(timespec='seconds')}: the chain was rewritten at or before it",
    )


async def _store_checkpoint(check: ChainCheck, after_seq: int) -> None:
    if check.ok and check.last_seq > after_seq:
        await db.execute(
            "INSERT INTO audit_checkpoints (seq, hash, verified_at) VALUES ($1, $2, $3) ON CONFLICT (seq) DO NOTHING",
            check.last_seq,
            check.last_hash,
            await clock.now(),
        )


async def verify(*, full: bool = False) -> Verification:
    """Verify the chain: from the latest checkpoint (after checking that its event still has
    the hash recorded for it), or with `full` from the first event, checking every checkpoint
    on the way too; a whole chain gets a checkpoint at its last event.

    One run at a time across every process (an advisory lock): a second one meanwhile is
    refused with 429 `verify_in_progress` rather than queued, since when it is retried it walks
    only what the first one left. What a walk from a checkpoint cannot see is a rewrite of an
    event before it that kept the stored hashes: that is what `full` is for."""
    async with db.transaction():
        if not await db.fetchval("SELECT pg_try_advisory_xact_lock($1)", _VERIFY_LOCK):
            raise TooManyRequests(
                "the audit chain is being verified already: retry shortly", retry_after=5, code="verify_in_progress"
            )
        start = None if full else await _latest_checkpoint()
        if start is not None and (moved := await _first_moved_checkpoint(start["seq"])) is not None:
            return Verification(_moved(moved, 0), start["seq"])
        after_seq, prev_hash = (start["seq"], start["hash"]) if start is not None else (0, GENESIS)
        check = await verify_chain(after_seq=after_seq, prev_hash=prev_hash)
        if check.ok and start is None and (moved := await _first_moved_checkpoint()) is not None:
            check = _moved(moved, check.checked)
        await _store_checkpoint(check, after_seq)
    return Verification(check, start["seq"] if start is not None else None)
