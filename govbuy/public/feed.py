"""The OCDS feed: a release for every public change of a contracting process, appended inside
the change's own transaction, and the reads of the feed and of a process's record.

`on_audit_event` is an audit listener: the kernel calls it at the end of every `audit.record`,
inside the change's transaction and while the audit chain's advisory lock is held. So a
release's `seq` is taken in commit order — a reader that pages forward by `seq` never skips a
release that commits after it read — and the state the release describes is the state the
change leaves (the transaction sees its own writes).

One release per process per transaction: when a transaction records several events of one
process (an upheld challenge voids the award and reopens evaluation), its release is rewritten
at each event and commits as the state after the last one. A change that alters nothing public
(a sealed bid, a score sheet, a question) adds no release: every release is a full snapshot,
and one equal to the previous is not published.

Top layer (STYLE habit 14): reads any domain's tables directly, set-based.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from prometheus_client import Counter

from govbuy import audit, clock
from govbuy import database as db
from govbuy.public import notices, ocds, ocds_mapping
from govbuy.settings import get_settings

log = logging.getLogger("govbuy.public.feed")

RELEASE_FAILURES = Counter("govbuy_ocds_release_failures_total", "OCDS releases that could not be built")

# When False (production) a release that cannot be built is logged and counted and the change
# goes through: the next change of the process publishes a full snapshot again. Tests set it
# True so that a mapping error fails loudly.
strict = False

# How to find the tender (the contracting process) of an audited entity. Entities that are not
# part of a process (organisations, users, catalogues, budget lines, vendors) are not here.
_TENDER_OF: dict[str, str] = {
    "tender": "SELECT id FROM tenders WHERE id = $1",
    # A bid changes nothing public before the opening (and is only changed before it): one
    # cheap look-up, so that sealed bids, submitted in bursts at the deadline, cost nothing more.
    "bid": "SELECT b.tender_id FROM bids b JOIN tenders t ON t.id = b.tender_id WHERE b.id = $1 AND t.opened_at IS NOT NULL",
    "award": "SELECT tender_id FROM tender_awards WHERE id = $1",
    "tender_award": "SELECT tender_id FROM tender_awards WHERE id = $1",
    "challenge": "SELECT tender_id FROM tender_challenges WHERE id = $1",
    "tender_challenge": "SELECT tender_id FROM tender_challenges WHERE id = $1",
    "contract": "SELECT tender_id FROM contracts WHERE id = $1",
    "milestone": """SELECT c.tender_id FROM milestones m JOIN contracts c ON c.id = m.contract_id WHERE m.id = $1""",
    "amendment": """SELECT c.tender_id FROM amendments a JOIN contracts c ON c.id = a.contract_id WHERE a.id = $1""",
    "deliverable": """SELECT c.tender_id FROM deliverables d JOIN contracts c ON c.id = d.contract_id WHERE d.id = $1""",
    "payment": """SELECT c.tender_id FROM payments p JOIN contracts c ON c.id = p.contract_id WHERE p.id = $1""",
    "evaluation": """SELECT c.tender_id FROM evaluations e JOIN contracts c ON c.id = e.contract_id WHERE e.id = $1""",
    "complaint": "SELECT tender_id FROM complaints WHERE id = $1",
    "appeal": """SELECT c.tender_id FROM appeals a JOIN evaluations e ON e.id = a.evaluation_id
                 JOIN contracts c ON c.id = e.contract_id WHERE a.id = $1""",
}

# Events that never change what a release shows: skipped without building one.
_SILENT_ACTIONS = frozenset(
    {
        "bid.scored",
        "tender.panel_appointed",
        "tender_question.asked",
        "tender_question.answered",
        "challenge.filed",
        "challenge.moot",
        "challenge.reply_due_extended",
        "evaluation.commissioned",
        "evaluation.scored",
        "evaluation.submitted",
        "evaluation.returned",
        "evaluation.appeal_window_extended",
        "appeal.filed",
        "complaint.filed",
        "complaint.accepted",
        "complaint.refused",
        "complaint.suspended",
        "complaint.resumed",
    }
)


def ocid_of(tender_id: Any) -> str:
    return ocds.ocid_for(get_settings().ocid_prefix, tender_id)


def tender_id_of(ocid: str) -> UUID | None:
    prefix = get_settings().ocid_prefix + "-"
    if not ocid.startswith(prefix):
        return None
    try:
        return UUID(ocid[len(prefix) :])
    except ValueError:
        return None


# --- the listener ---------------------------------------------------------------------------


async def on_audit_event(event: audit.AuditContext) -> None:
    query = _TENDER_OF.get(event.entity_type)
    if query is None or event.action in _SILENT_ACTIONS:
        return
    try:
        entity_id = UUID(event.entity_id)
    except ValueError:
        return
    if strict:
        await _publish_for(query, entity_id)
        return
    try:
        async with db.connection() as conn, conn.transaction():  # a savepoint: a failure here undoes only this
            await _publish_for(query, entity_id)
    except Exception as error:  # the change itself must not fail because its release could not be built
        RELEASE_FAILURES.inc()
        log.exception("no OCDS release for %s %s (%s)", event.entity_type, event.entity_id, event.action)
        try:
            async with db.connection() as conn, conn.transaction():  # recording the debt may not fail the change either
                await _owe_release(query, entity_id, event, error)
        except Exception:
            log.exception("the release owed for %s %s could not be recorded", event.entity_type, event.entity_id)


async def _publish_for(query: str, entity_id: UUID) -> None:
    tender_id = await db.fetchval(query, entity_id)
    if tender_id is not None:
        await publish(tender_id)


async def _owe_release(query: str, entity_id: UUID, event: audit.AuditContext, error: Exception) -> None:
    """Record, with the change, that its process owes a release (retried by `retry_owed`)."""
    tender_id = await db.fetchval(query, entity_id)
    if tender_id is None:
        return
    await db.execute(
        """INSERT INTO ocds_pending_releases (tender_id, entity_type, action, first_failed_at, last_failed_at, last_error)
           VALUES ($1, $2, $3, $4, $4, $5)
           ON CONFLICT (tender_id) DO UPDATE SET last_failed_at = $4, attempts = ocds_pending_releases.attempts + 1,
                                                 last_error = $5""",
        tender_id, event.entity_type, event.action, await clock.now(), f"{type(error).__name__}: {error}"[:2000],
    )


async def publish(tender_id: UUID) -> int | None:
    """Append (or, within one transaction, rewrite) the release of a process as it stands now;
    the seq of the release, or None when nothing public changed or the tender is a draft."""
    now = await clock.now()
    process = await load_process(tender_id, now)
    if process is None:
        return None
    ocid = ocid_of(tender_id)
    latest = await db.fetchrow(
        """SELECT seq, release_id, date, data, written_by_xact = pg_current_xact_id() AS ours
           FROM ocds_releases WHERE ocid = $1 ORDER BY seq DESC LIMIT 1""",
        ocid,
    )
    ours = latest if latest is not None and latest["ours"] else None
    previous = latest
    if ours is not None:
        previous = await db.fetchrow(
            "SELECT seq, date, data FROM ocds_releases WHERE ocid = $1 AND seq < $2 ORDER BY seq DESC LIMIT 1",
            ocid,
            ours["seq"],
        )
    # Release dates never go back within a process, so date order is seq order.
    date = max(now, previous["date"]) if previous is not None else now
    draft = ocds_mapping.build_release(process, ocid=ocid, release_id="", date=date, tags=["tender"], now=now)
    # Built: whatever an earlier change of the process owed is covered by this snapshot.
    await db.execute("DELETE FROM ocds_pending_releases WHERE tender_id = $1", tender_id)
    tags = ocds.release_tags(previous["data"] if previous is not None else None, draft)
    if not tags:
        if ours is not None:  # this transaction's changes cancelled out
            await db.execute("DELETE FROM ocds_releases WHERE seq = $1", ours["seq"])
        return None
    if ours is not None:
        release = {**draft, "id": ours["release_id"], "tag": tags}
        await db.execute(
            "UPDATE ocds_releases SET date = $2, tags = $3, data = $4 WHERE seq = $1", ours["seq"], date, tags, release
        )
        return ours["seq"]
    seq = await db.fetchval("SELECT nextval(pg_get_serial_sequence('ocds_releases', 'seq'))")
    release = {**draft, "id": f"{ocid}-{seq}", "tag": tags}
    await db.execute(
        """INSERT INTO ocds_releases (seq, release_id, ocid, tender_id, date, tags, data)
           VALUES ($1, $2, $3, $4, $5, $6, $7)""",
        seq,
        release["id"],
        ocid,
        tender_id,
        date,
        tags,
        release,
    )
    return seq


# --- the state of a process -----------------------------------------------------------------

_ORG_COLUMNS = "id, name, uscc, region_code"


async def load_process(tender_id: UUID, now: datetime) -> ocds_mapping.Process | None:
    """A process as the public may see it now; None for a tender never published."""
    tender = await db.fetchrow(
        """SELECT t.*, EXISTS (SELECT 1 FROM tender_invitations i WHERE i.tender_id = t.id) AS invited
           FROM tenders t WHERE t.id = $1""",
        tender_id,
    )
    if tender is None or tender["published_at"] is None:
        return None
    tender = dict(tender)
    bureau = await db.fetchrow(f"SELECT {_ORG_COLUMNS} FROM organisations WHERE id = $1", tender["bureau_id"])
    item = await db.fetchrow("SELECT catalogue_id, code, name FROM catalogue_items WHERE id = $1", tender["catalogue_item_id"])
    parents = await db.fetch(
        "SELECT code, name FROM catalogue_items WHERE catalogue_id = $1 AND code = ANY($2::text[]) ORDER BY code",
        item["catalogue_id"],
        [item["code"][:n] for n in range(1, len(item["code"]), 2)],
    )
    budget_line = await db.fetchrow("SELECT code, title FROM budget_lines WHERE id = $1", tender["budget_line_id"])
    intention = None
    if tender.get("procurement_intention_id") is not None:
        intention = await db.fetchrow(
            "SELECT id, title, needs, budget_amount, published_at FROM procurement_intentions WHERE id = $1",
            tender["procurement_intention_id"],
        )
    # Sealed until the deadline whatever the row says: the opening sets opened_at only after it.
    opened = tender["opened_at"] is not None and now >= tender["bid_deadline"]
    bids: Sequence[Mapping[str, Any]] = ()
    if opened:
        bids = await db.fetch(
            """SELECT id, vendor_id, price, status, review_status, sme_declaration, submitted_at FROM bids
               WHERE tender_id = $1 AND status <> 'withdrawn' ORDER BY submitted_at, id""",
            tender_id,
        )
    awards = [
        {**dict(a), "contracted": tender["status"] == "contracted"}
        for a in await db.fetch(
            """SELECT id, vendor_id, winning_bid_id, price, ranking, awarded_at, standstill_until, status, voided_at
               FROM tender_awards WHERE tender_id = $1 ORDER BY awarded_at, id""",
            tender_id,
        )
    ]
    # A contract is public once signed by both parties (DESIGN §8), never as a draft.
    contract = await db.fetchrow("SELECT * FROM contracts WHERE tender_id = $1 AND activated_at IS NOT NULL", tender_id)
    milestones: Sequence[Mapping[str, Any]] = ()
    amendments: Sequence[Mapping[str, Any]] = ()
    evaluations: Sequence[Mapping[str, Any]] = ()
    payments: Sequence[Mapping[str, Any]] = ()
    if contract is not None:
        milestones = await db.fetch(
            """SELECT id, sequence, title, percentage, amount, due_date, status, delivered_at
               FROM milestones WHERE contract_id = $1 ORDER BY sequence""",
            contract["id"],
        )
        amendments = await db.fetch(
            """SELECT id, increase, amount_before, amount_after, reason, created_at
               FROM amendments WHERE contract_id = $1 ORDER BY created_at, id""",
            contract["id"],
        )
        evaluations = await db.fetch(
            """SELECT id, milestone_id, total_score, grade, accepted_at, superseded_at
               FROM evaluations WHERE contract_id = $1 AND status = 'accepted' ORDER BY accepted_at, id""",
            contract["id"],
        )
        payments = await db.fetch(
            """SELECT id, milestone_id, payee_id, amount, withheld_amount, payout_ratio, grade, status, confirmed_at
               FROM payments WHERE contract_id = $1 ORDER BY created_at, id""",
            contract["id"],
        )
    # Each amendment (更正, 87号令 Art. 27) with the release it amends: the last one published
    # before it, which does not list it yet.
    tender_amendments = await db.fetch(
        """SELECT a.id, a.sequence, a.reason, a.changed_fields, a.deadline_before, a.deadline_after, a.created_at,
                  (SELECT r.release_id FROM ocds_releases r
                   WHERE r.ocid = $2
                     AND coalesce(jsonb_array_length(r.data -> 'tender' -> 'amendments'), 0) < a.sequence
                   ORDER BY r.seq DESC LIMIT 1) AS amends_release_id
           FROM tender_amendments a WHERE a.tender_id = $1 ORDER BY a.sequence""",
        tender_id,
        ocid_of(tender_id),
    )
    published_notices = [
        {**dict(n), "title": notices.title(n), "text": notices.text(n), "url": notices.url(get_settings().public_url, n["id"])}
        for n in await db.fetch(
            f"{notices.query(list(notices.PROCESS_TYPES))} WHERE n.tender_id = $1 ORDER BY n.published_at, n.id", tender_id
        )
    ]
    vendor_ids = {b["vendor_id"] for b in bids} | {a["vendor_id"] for a in awards} | {p["payee_id"] for p in payments}
    if contract is not None:
        vendor_ids.add(contract["vendor_id"])
    vendors = {
        r["id"]: r
        for r in await db.fetch(f"SELECT {_ORG_COLUMNS} FROM organisations WHERE id = ANY($1::uuid[])", list(vendor_ids))
    }
    return ocds_mapping.Process(
        tender=tender,
        bureau=bureau,
        item=item,
        item_parents=parents,
        budget_line=budget_line,
        intention=intention,
        tender_amendments=tender_amendments,
        opened=opened,
        bids=bids,
        awards=awards,
        vendors=vendors,
        contract=contract,
        milestones=milestones,
        amendments=amendments,
        evaluations=evaluations,
        payments=payments,
        notices=published_notices,
    )


# --- backfill -------------------------------------------------------------------------------


async def backfill(batch: int = 500) -> int:
    """Publish the current state of every published tender that has no release yet, one
    transaction each, under the audit chain's lock like every other append (so the feed stays
    in commit order); returns how many releases were published."""
    published = 0
    after = None
    while True:
        rows = await db.fetch(
            """SELECT t.id FROM tenders t
               WHERE t.published_at IS NOT NULL AND ($1::uuid IS NULL OR t.id > $1)
                 AND NOT EXISTS (SELECT 1 FROM ocds_releases r WHERE r.tender_id = t.id)
               ORDER BY t.id LIMIT $2""",
            after,
            batch,
        )
        if not rows:
            return published
        for row in rows:
            async with db.transaction():
                await audit.lock_chain()
                published += await publish(row["id"]) is not None
        after = rows[-1]["id"]


# --- reads ----------------------------------------------------------------------------------


async def retry_owed(batch: int = 500) -> tuple[int, int]:
    """Publish the releases owed (see `_owe_release`), one transaction each under the audit
    chain's lock like every append; (published, still failing). A process whose next change
    published it is no longer owed anything."""
    published = failing = 0
    rows = await db.fetch("SELECT tender_id FROM ocds_pending_releases ORDER BY first_failed_at LIMIT $1", batch)
    for row in rows:
        try:
            async with db.transaction():
                await audit.lock_chain()
                await publish(row["tender_id"])
            published += 1
        except Exception as error:
            failing += 1
            log.exception("the OCDS release owed for tender %s still cannot be built", row["tender_id"])
            await db.execute(
                """UPDATE ocds_pending_releases SET last_failed_at = $2, attempts = attempts + 1, last_error = $3
                   WHERE tender_id = $1""",
                row["tender_id"], await clock.now(), f"{type(error).__name__}: {error}"[:2000],
            )
    return published, failing


async def owed_releases() -> int:
    """How many processes owe a release (`/health`)."""
    return await db.fetchval("SELECT count(*) FROM ocds_pending_releases")


async def releases_since(since: int, limit: int) -> list[Any]:
    """Releases after `since`, oldest first. Only committed releases are visible, and none can
    commit later with a smaller seq (see the module docstring)."""
    return await db.fetch(
        "SELECT seq, data, date FROM ocds_releases WHERE seq > $1 ORDER BY seq LIMIT $2", since, limit
    )


async def releases_of(ocid: str) -> list[Any]:
    return await db.fetch("SELECT seq, data, date FROM ocds_releases WHERE ocid = $1 ORDER BY seq", ocid)


async def latest_release_date() -> datetime | None:
    return await db.fetchval("SELECT date FROM ocds_releases ORDER BY seq DESC LIMIT 1")


def register() -> None:
    """Make the audit log call the feed (idempotent)."""
    if on_audit_event not in audit.listeners:
        audit.listeners.append(on_audit_event)
