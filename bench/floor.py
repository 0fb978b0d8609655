"""The floor: the same SQL the service runs, served with nothing else around it.

A bare ASGI app (no framework, no ORM, no validation, no auth) on uvicorn, with an asyncpg pool
of the service's size, that runs statements captured from govbuy's own service functions
(`capture_reads`): for each read endpoint, the identical query text with the identical
arguments, the requested id put in place of the one it was captured with. Its response is
the rows as JSON. What govbuy spends above the floor is the framework, validation,
serialisation and whatever queries it adds.

For the writes the floor is hand-written, what the write cannot do without, in one transaction:
a bid (`FLOOR_BID`) takes the tender's share lock, checks the deadline, inserts the bid and one
audit event behind the audit chain's advisory lock; a payment (`FLOOR_PAYMENT`) locks the contract
and the milestone, reads the accepted evaluation, spends on the budget line, inserts the payment,
marks the milestone paid and appends two audit events. For the evaluation report (PDF) the floor
is the report's data queries, captured like the reads, without the rendering.

    python -m bench.floor --port 8100 --workers 2 --spec /tmp/spec.json   (DATABASE_URL set)

Top layer (STYLE habit 14): reads any domain's tables directly, set-based, and writes them
directly too: it runs the services' own statements without the services, on purpose.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

PLACEHOLDER = "{id}"

# --- capturing the service's statements ----------------------------------------------------------


def _encode(value: Any, target: Any) -> Any:
    if target is not None and value == target:
        return PLACEHOLDER
    if isinstance(value, UUID):
        return {"uuid": str(value)}
    if isinstance(value, datetime):
        return {"datetime": value.isoformat()}
    if isinstance(value, list | tuple):
        return {"list": [_encode(v, target) for v in value]}
    return value


def _decode(value: Any, target: UUID | None) -> Any:
    if value == PLACEHOLDER:
        return target
    if isinstance(value, dict) and "uuid" in value:
        return UUID(value["uuid"])
    if isinstance(value, dict) and "datetime" in value:
        return datetime.fromisoformat(value["datetime"])
    if isinstance(value, dict) and "list" in value:
        return [_decode(v, target) for v in value["list"]]
    return value


async def capture(call: Callable[[], Awaitable[Any]], target: Any = None) -> list[dict[str, Any]]:
    """The statements (method, SQL, arguments) that `call` runs through govbuy.database."""
    from govbuy import database as db

    recorded: list[dict[str, Any]] = []
    originals = {name: getattr(db, name) for name in ("fetch", "fetchrow", "fetchval", "execute")}

    def spy(name: str) -> Callable[..., Awaitable[Any]]:
        async def wrapper(sql: str, *args: Any) -> Any:
            recorded.append({"method": name, "sql": sql, "args": [_encode(a, target) for a in args]})
            return await originals[name](sql, *args)

        return wrapper

    for name in originals:
        setattr(db, name, spy(name))
    try:
        await call()
    finally:
        for name, original in originals.items():
            setattr(db, name, original)
    return recorded


async def capture_reads(detail_id: UUID) -> dict[str, list[dict[str, Any]]]:
    """The statements of the public tender list (first page, no filter) and of one tender's
    detail (an opened and awarded tender: its bids and award notice are read too)."""
    from govbuy.public import service

    return {
        "list": await capture(
            lambda: service.list_tenders(
                region=None, bureau_id=None, category=None, status=None, q=None, published_from=None,
                published_to=None, deadline_from=None, deadline_to=None, limit=None, cursor=None,
            )
        ),
        "detail": await capture(lambda: service.get_tender(detail_id), target=detail_id),
    }


async def capture_report(actor: Any, evaluation_id: UUID) -> list[dict[str, Any]]:
    """The statements the evaluation report reads (the floor of the PDF endpoint: the data,
    without the rendering)."""
    from evaluation import reports

    return await capture(lambda: reports.evaluation_report_data(actor, evaluation_id), target=evaluation_id)


# --- the app ---------------------------------------------------------------------------------------

FLOOR_BID = (
    "SELECT * FROM tenders WHERE id = $1 FOR SHARE",
    """INSERT INTO bids (id, tender_id, vendor_id, submitted_by, price, proposal, first_submitted_at, submitted_at,
           eligibility_at_submission, seal_nonce, content_digest)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8, $9, $10)""",
)


FLOOR_PAYMENT = (
    "SELECT * FROM contracts WHERE id = $1 AND bureau_id = $2 FOR UPDATE",
    "SELECT id FROM payments WHERE bureau_id = $1 AND idempotency_key = $2",
    "SELECT * FROM milestones WHERE id = $1 AND contract_id = $2 FOR UPDATE",
    """SELECT e.id, e.status, e.total_score, e.grade, e.appeal_deadline,
              EXISTS (SELECT 1 FROM appeals a WHERE a.evaluation_id = e.id AND a.status = 'pending') AS appeal_pending
       FROM evaluations e WHERE e.milestone_id = $1 AND e.superseded_at IS NULL""",
    "UPDATE budget_lines SET spent = spent + $2, version = version + 1 WHERE id = $1",
    """INSERT INTO payments (id, contract_id, milestone_id, evaluation_id, bureau_id, payee_id, budget_line_id,
           idempotency_key, milestone_amount, amount, withheld_amount, payout_ratio, total_score, grade, status,
           created_by, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 'pending', $15, $16)""",
    "UPDATE milestones SET status = 'paid', version = version + 1 WHERE id = $1",
)


async def append_event(
    conn: Any, who: dict[str, str], action: str, entity_type: str, entity_id: Any, after: Any, now: datetime,
    *, organisation_id: UUID | None = None,
) -> None:
    """One audit event, chained and keyed as govbuy.audit.record writes it (the chain verifies)."""
    from govbuy.audit import _AUDIT_LOCK, _FIELDS, _INSERT, GENESIS, HASH_VERSION, _canonical, audit_key, event_hash

    await conn.execute("SELECT pg_advisory_xact_lock($1)", _AUDIT_LOCK)
    previous = await conn.fetchval("SELECT hash FROM audit_events ORDER BY seq DESC LIMIT 1") or GENESIS
    event: dict[str, Any] = {
        "seq": await conn.fetchval("SELECT nextval(pg_get_serial_sequence('audit_events', 'seq'))"),
        "id": uuid4(), "occurred_at": now, "actor_user_id": UUID(who["user"]), "actor_username": who["username"],
        "actor_role": who.get("role"), "organisation_id": organisation_id or UUID(who["organisation"]),
        "action": action, "entity_type": entity_type, "entity_id": str(entity_id), "before": None,
        "after": _canonical(after), "prev_hash": previous, "hash_version": HASH_VERSION, "key_id": audit_key()[1],
    }
    event["hash"] = event_hash(event)
    # This pool has no JSON codec: jsonb goes as its text.
    await conn.execute(_INSERT, *(
        json.dumps(event[f]) if f in ("before", "after") and event[f] is not None else event[f] for f in _FIELDS
    ))


RATIOS = {"excellent": Decimal("1.00"), "good": Decimal("0.95"), "fair": Decimal("0.80"), "poor": Decimal("0")}


class Floor:
    def __init__(self, dsn: str, spec: dict[str, Any], pool_size: int) -> None:
        self.dsn = dsn
        self.spec = spec
        self.pool_size = pool_size
        self.pool: Any = None

    async def startup(self) -> None:
        import asyncpg

        self.pool = await asyncpg.create_pool(self.dsn, min_size=2, max_size=self.pool_size)

    async def reads(self, statements: list[dict[str, Any]], target: UUID | None) -> list[Any]:
        out = []
        async with self.pool.acquire() as conn:
            for s in statements:
                args = [_decode(a, target) for a in s["args"]]
                if s["method"] == "fetch":
                    out.append([dict(r) for r in await conn.fetch(s["sql"], *args)])
                elif s["method"] == "fetchrow":
                    row = await conn.fetchrow(s["sql"], *args)
                    out.append(dict(row) if row else None)
                else:
                    out.append(await conn.fetchval(s["sql"], *args))
        return out

    async def bid(self, tender_id: UUID, who: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        import hashlib

        now = datetime.now(UTC)
        bid_id = uuid4()
        vendor_id, user_id = UUID(who["vendor"]), UUID(who["user"])
        nonce = secrets.token_hex(16)
        digest = hashlib.sha256(f"{nonce}|{body['price']}|{body['proposal']}".encode()).hexdigest()
        after = {"tender_id": tender_id, "vendor_id": vendor_id, "status": "submitted", "content_digest": digest}
        async with self.pool.acquire() as conn, conn.transaction():
            tender = await conn.fetchrow(FLOOR_BID[0], tender_id)
            if tender is None or tender["status"] != "published" or tender["bid_deadline"] <= now:
                return {"error": "not open"}
            await conn.execute(
                FLOOR_BID[1], bid_id, tender_id, vendor_id, user_id, Decimal(body["price"]), body["proposal"], now,
                '{"eligible": true, "reasons": []}', nonce, digest,
            )
            # The audit chain as govbuy.audit writes it, so the chain still verifies afterwards.
            await append_event(conn, who, "bid.submitted", "bid", bid_id, after, now, organisation_id=vendor_id)
        return {"id": str(bid_id), "content_digest": digest}

    async def _audit(self, conn: Any, who: dict[str, str], action: str, entity_type: str, entity_id: Any,
                     after: Any, now: datetime) -> None:
        await append_event(conn, who, action, entity_type, entity_id, after, now)

    async def payment(self, contract_id: UUID, milestone_id: UUID, key: str, who: dict[str, str]) -> dict[str, Any]:
        now = datetime.now(UTC)
        bureau_id = UUID(who["organisation"])
        async with self.pool.acquire() as conn, conn.transaction():
            contract = await conn.fetchrow(FLOOR_PAYMENT[0], contract_id, bureau_id)
            if contract is None or await conn.fetchval(FLOOR_PAYMENT[1], bureau_id, key):
                return {"error": "no"}
            milestone = await conn.fetchrow(FLOOR_PAYMENT[2], milestone_id, contract_id)
            evaluation = await conn.fetchrow(FLOOR_PAYMENT[3], milestone_id)
            if milestone is None or milestone["status"] != "evaluated" or evaluation is None or evaluation["appeal_pending"]:
                return {"error": "not payable"}
            ratio = RATIOS[evaluation["grade"]]
            amount = (milestone["amount"] * ratio).quantize(Decimal("0.01"))
            await conn.execute(FLOOR_PAYMENT[4], contract["budget_line_id"], amount)
            await self._audit(conn, who, "budget_line.spent", "budget_line", contract["budget_line_id"], {"amount": amount}, now)
            payment_id = uuid4()
            await conn.execute(
                FLOOR_PAYMENT[5], payment_id, contract_id, milestone_id, evaluation["id"], bureau_id, contract["payee_id"],
                contract["budget_line_id"], key, milestone["amount"], amount, milestone["amount"] - amount, ratio,
                evaluation["total_score"], evaluation["grade"], UUID(who["user"]), now,
            )
            await conn.execute(FLOOR_PAYMENT[6], milestone_id)
            await self._audit(conn, who, "payment.created", "payment", payment_id, {"amount": amount}, now)
        return {"id": str(payment_id), "amount": str(amount)}

    async def _body(self, receive: Any) -> dict[str, Any]:
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        return json.loads(b"".join(chunks) or b"{}")

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await self.startup()
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    if self.pool is not None:
                        await self.pool.close()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        path = scope["path"].rstrip("/")
        status, result = 200, None
        if path == "/floor/public/tenders":
            result = await self.reads(self.spec["list"], None)
        elif path.startswith("/floor/public/tenders/"):
            result = await self.reads(self.spec["detail"], UUID(path.rsplit("/", 1)[1]))
        elif path.startswith("/floor/evaluations/"):
            result = await self.reads(self.spec["report"], UUID(path.split("/")[3]))
        elif path.startswith("/floor/contracts/") and path.endswith("/payments"):
            parts = path.split("/")
            headers = dict(scope["headers"])
            who = {k: headers[f"x-floor-{k}".encode()].decode() for k in ("organisation", "user", "username")}
            key = headers[b"idempotency-key"].decode()
            result = await self.payment(UUID(parts[3]), UUID(parts[5]), key, who)
            status = 201 if "id" in result else 409
        elif path.startswith("/floor/tenders/") and path.endswith("/bids"):
            body = await self._body(receive)
            headers = dict(scope["headers"])
            who = {k: headers[f"x-floor-{k}".encode()].decode() for k in ("vendor", "user", "username")}
            result = await self.bid(UUID(path.split("/")[3]), who, body)
            status = 201 if "id" in result else 409
        elif path == "/ready":
            result = {"ok": True}
        else:
            status = 404
        payload = json.dumps(result, default=str, ensure_ascii=False).encode()
        await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": payload})


def create_app() -> Floor:
    with open(os.environ["FLOOR_SPEC"]) as f:
        spec = json.load(f)
    return Floor(os.environ["DATABASE_URL"], spec, int(os.environ.get("GOVBUY_POOL_MAX_SIZE", "20")))


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--spec", required=True, help="JSON file of captured statements (bench.perf writes it)")
    args = parser.parse_args()
    os.environ["FLOOR_SPEC"] = args.spec
    uvicorn.run("bench.floor:create_app", factory=True, host=args.host, port=args.port, workers=args.workers,
                log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
