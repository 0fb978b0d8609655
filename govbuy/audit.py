"""The audit log: every state change appends an event in the same transaction as the change,
each event carrying the hash of the one before it, so that a rewritten row breaks the chain.

Appends are serialised by a transaction-scoped advisory lock taken as late as possible (the
event is the last write of a change), so the chain has one order however many workers write.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from govbuy import clock
from govbuy import database as db
from govbuy.errors import TooManyRequests

GENESIS = "0" * 64
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


def event_hash(
    *,
    prev_hash: str,
    occurred_at: datetime,
    actor_user_id: UUID | None,
    organisation_id: UUID | None,
    action: str,
    entity_type: str,
    entity_id: str,
    before: Any,
    after: Any,
) -> str:
    payload = {
        "prev": prev_hash,
        "at": occurred_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor": str(actor_user_id) if actor_user_id else None,
        "org": str(organisation_id) if organisation_id else None,
        "action": action,
        "entity_type": entity_type,
        "entity_id": entity_id,
        "before": before,
        "after": after,
    }
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


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
    actor_id = actor.user_id if actor else None
    org_id = actor.organisation_id if actor else None
    digest = event_hash(
        prev_hash=prev,
        occurred_at=occurred_at,
        actor_user_id=actor_id,
        organisation_id=org_id,
        action=action,
        entity_type=entity_type,
        entity_id=str(entity_id),
        before=before,
        after=after,
    )
    await db.execute(
        """INSERT INTO audit_events (id, occurred_at, actor_user_id, actor_username,
               organisation_id, action, entity_type, entity_id, before, after, prev_hash, hash)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)""",
        uuid4(),
        occurred_at,
        actor_id,
        actor.username if actor else "system",
        org_id,
        action,
        entity_type,
        str(entity_id),
        before,
        after,
        prev,
        digest,
    )
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
            """SELECT seq, occurred_at, actor_user_id, organisation_id, action, entity_type,
                      entity_id, before, after, prev_hash, hash
               FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2""",
            last_seq,
            batch,
        )
        if not rows:
            return ChainCheck(True, checked, None, None, last_seq, prev)
        for r in rows:
            if r["prev_hash"] != prev:
                return ChainCheck(False, checked, r["seq"], "previous hash does not match")
            expected = event_hash(
                prev_hash=r["prev_hash"],
                occurred_at=r["occurred_at"],
                actor_user_id=r["actor_user_id"],
                organisation_id=r["organisation_id"],
                action=r["action"],
                entity_type=r["entity_type"],
                entity_id=r["entity_id"],
                before=r["before"],
                after=r["after"],
            )
            if expected != r["hash"]:
                return ChainCheck(False, checked, r["seq"], "event content does not match its hash")
            prev = r["hash"]
            checked += 1
            last_seq = r["seq"]


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
