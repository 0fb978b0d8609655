"""PostgreSQL stopped and started again under a load of writes, then every write accounted for.

The service runs as on a bare machine: `govbuy serve` with its own embedded PostgreSQL in a
temporary data folder. While clients write (vendors bid on tenders, retrying a 503 as a real
client would; the bureau pays milestones, retrying a 503 with the same Idempotency-Key; an admin
records assessment grades; a bureau drafts and publishes tenders, which reserves budget) the
embedded server is stopped (`pg_ctl stop -m immediate`: no checkpoint, a
crash as far as the data is concerned, or `fast`, or SIGKILL of the postmaster) and started
again after the outage; or frozen (SIGSTOP, then SIGCONT: a database that hangs rather than
goes away, where only timeouts help). Then:

- every request during the outage failed cleanly: 503 problem+json `database_unavailable`, no
  other 5xx, nothing waiting longer than the client timeout;
- the service recovered by itself (time from the database being back to the first accepted write);
- every accepted (2xx) write is in the database, nothing twice, nothing half-written: each bid
  and grade has its audit event, each published tender its budget reservation, the audit chain
  verifies, each vendor ends with exactly one bid per tender, and each milestone with exactly one
  payment — the one every answer to its key named — and the budget line's `spent` their sum.

Run: `python -m bench.faults [--outage 5] [--mode immediate|fast|kill] [--duration 20]`.
The test suite runs a short version (tests/reliability/test_faults.py).

Top layer (STYLE habit 14): reads any domain's tables directly, set-based.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import json
import statistics
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import asyncpg
import httpx

from bench import harness, scenario

API = "/api/v1"


@dataclass
class Outcome:
    kind: str
    key: str
    status: int  # 0: no answer (timeout or connection error)
    code: str | None
    at: float  # seconds since the load started
    latency: float
    record_id: str | None = None
    problem_json: bool = True


@dataclass
class FaultReport:
    outcomes: list[Outcome] = field(default_factory=list)
    fault_at: float = 0.0
    database_back_at: float = 0.0
    first_write_after: float | None = None
    ready_after: float | None = None
    health_during_outage: str | None = None
    violations: list[str] = field(default_factory=list)
    checked: dict[str, int] = field(default_factory=dict)

    @property
    def outage_seconds(self) -> float:
        return self.database_back_at - self.fault_at

    @property
    def recovery_seconds(self) -> float | None:
        return None if self.first_write_after is None else self.first_write_after - self.database_back_at

    def during_outage(self) -> list[Outcome]:
        return [o for o in self.outcomes if self.fault_at <= o.at + o.latency and o.at <= self.database_back_at]

    def table(self) -> str:
        by_status = Counter((o.kind, o.status, o.code) for o in self.outcomes)
        lines = [f"{'kind':<10} {'status':>6}  {'code':<24} {'count':>6}"]
        for (kind, status, code), n in sorted(by_status.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2] or "")):
            lines.append(f"{kind:<10} {status:>6}  {code or '':<24} {n:>6}")
        failed = self.during_outage()
        slowest = max((o.latency for o in self.outcomes), default=0)
        lines += [
            "",
            f"outage (database down)      {self.outage_seconds:6.2f} s",
            f"requests overlapping it     {len(failed):6d}  statuses {dict(Counter(o.status for o in failed))}",
            f"/health during the outage   {self.health_during_outage}",
            f"first accepted write after  {self.recovery_seconds if self.recovery_seconds is not None else float('nan'):6.2f} s from the database being back",
            f"/ready 200 again after      {(self.ready_after or float('nan')) - self.database_back_at:6.2f} s",
            f"slowest request             {slowest:6.2f} s",
            f"checked in the database     {self.checked}",
            f"violations                  {len(self.violations)}",
        ]
        lines += [f"  - {v}" for v in self.violations[:20]]
        return "\n".join(lines)


def _code(response: httpx.Response) -> tuple[str | None, bool]:
    if response.status_code < 400:
        return None, True
    is_problem = response.headers.get("content-type", "").startswith("application/problem+json")
    try:
        return (response.json().get("code") if is_problem else None), is_problem
    except ValueError:
        return None, False


class Load:
    def __init__(self, server: harness.LiveServer, timeout: float) -> None:
        self.server = server
        self.client = httpx.AsyncClient(
            base_url=server.base_url, timeout=timeout, limits=httpx.Limits(max_connections=200, max_keepalive_connections=200, keepalive_expiry=2.0)
        )
        self.started = time.monotonic()
        self.report = FaultReport()
        self.stop_at = float("inf")

    def now(self) -> float:
        return time.monotonic() - self.started

    async def call(self, kind: str, key: str, method: str, path: str, **kwargs) -> Outcome:
        at = self.now()
        try:
            response = await self.client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            outcome = Outcome(kind, key, 0, type(exc).__name__, at, self.now() - at, problem_json=False)
        else:
            code, is_problem = _code(response)
            record_id = None
            if response.status_code < 300 and response.content:
                body = response.json()
                record_id = body.get("id") if isinstance(body, dict) else None
            outcome = Outcome(kind, key, response.status_code, code, at, self.now() - at, record_id, is_problem)
        self.report.outcomes.append(outcome)
        if outcome.status in (200, 201) and kind != "read" and at > self.report.database_back_at > 0:
            if self.report.first_write_after is None or outcome.at + outcome.latency < self.report.first_write_after:
                self.report.first_write_after = outcome.at + outcome.latency
        return outcome


async def vendor_worker(load: Load, vendor: harness.Account, tenders: list[str], pace: float) -> None:
    """Bid on every tender once; a 503 or no answer is retried, as a client would."""
    for n, tender_id in enumerate(tenders):
        while True:
            outcome = await load.call(
                "bid", f"{tender_id}:{vendor.organisation_id}", "POST", f"{API}/tenders/{tender_id}/bids",
                headers=vendor.headers, json={"price": f"{800000 + n}.00", "proposal": f"方案 {vendor.username} {n}"},
            )
            await asyncio.sleep(pace)
            if outcome.status not in (0, 503):
                break


async def admin_worker(load: Load, admin: harness.Account, vendor_orgs: list[str], pace: float) -> None:
    """Assessment grades, each with a note of its own, until the load stops (no retries)."""
    n = 0
    while load.now() < load.stop_at:
        n += 1
        vendor_id = vendor_orgs[n % len(vendor_orgs)]
        await load.call(
            "grade", f"grade-note-{n}", "POST", f"{API}/vendors/{vendor_id}/assessment-grades",
            headers=admin.headers, json={"grade": f"{1 + n % 5}A", "awarded_on": "2025-06-01", "note": f"grade-note-{n}"},
        )
        await asyncio.sleep(pace)


async def bureau_worker(load: Load, bureau: scenario.Bureau, deadline: str, pace: float) -> None:
    """Draft and publish tenders (publishing reserves the ceiling) until the load stops."""
    n = 0
    while load.now() < load.stop_at:
        n += 1
        body = scenario.tender_body(bureau, datetime.fromisoformat(deadline), ceiling="10000.00", title=f"fault-tender-{n}")
        created = await load.call("tender", f"fault-tender-{n}", "POST", f"{API}/tenders", headers=bureau.account.headers, json=body)
        await asyncio.sleep(pace)
        if created.record_id:
            await load.call("publish", created.record_id, "POST", f"{API}/tenders/{created.record_id}/publish",
                            headers=bureau.account.headers)
            await asyncio.sleep(pace)


async def payment_worker(load: Load, bureau: harness.Account, milestones: list[scenario.PayableMilestone], pace: float) -> None:
    """Pay every milestone once, spread over the run; a 503 or no answer is retried with the
    same Idempotency-Key, as a client must (the retry may find the first attempt committed)."""
    for milestone in milestones:
        key = f"fault-{milestone.milestone_id}"
        while True:
            outcome = await load.call(
                "payment", milestone.milestone_id, "POST",
                f"{API}/contracts/{milestone.contract_id}/milestones/{milestone.milestone_id}/payments",
                headers={**bureau.headers, "Idempotency-Key": key},
            )
            await asyncio.sleep(pace if outcome.status not in (0, 503) else 0.1)
            if outcome.status not in (0, 503):
                break


async def reader_worker(load: Load, pace: float) -> None:
    while load.now() < load.stop_at:
        await load.call("read", "public-tenders", "GET", f"{API}/public/tenders", params={"limit": 20})
        await asyncio.sleep(pace)


async def fault(load: Load, data_dir: Path, at: float, outage: float, mode: str) -> None:
    await asyncio.sleep(at)
    sockets = harness.socket_dir(data_dir)
    load.report.fault_at = load.now()
    if mode == "kill":
        await asyncio.to_thread(harness.kill_database, data_dir)
    elif mode == "freeze":
        harness.freeze_database(data_dir, True)
    else:
        await asyncio.to_thread(harness.stop_database, data_dir, mode)
    await asyncio.sleep(min(outage / 2, 3))
    try:
        health = (await load.client.get("/health")).json()
        load.report.health_during_outage = health.get("embedded_server")
    except httpx.HTTPError as exc:
        load.report.health_during_outage = f"no answer ({type(exc).__name__})"
    await asyncio.sleep(max(outage - (load.now() - load.report.fault_at), 0))
    if mode == "freeze":
        harness.freeze_database(data_dir, False)
    else:
        await asyncio.to_thread(harness.start_database, data_dir, sockets)
    load.report.database_back_at = load.now()
    while True:
        try:
            if (await load.client.get("/ready")).status_code == 200:
                load.report.ready_after = load.now()
                return
        except httpx.HTTPError:
            pass
        await asyncio.sleep(0.05)


async def verify(
    load: Load, data_dir: Path, vendors: list[harness.Account], tenders: list[str], bureau: scenario.Bureau,
    milestones: list[scenario.PayableMilestone],
) -> None:
    report = load.report
    # 1. How every request ended.
    for o in report.outcomes:
        if o.status >= 500 and (o.status != 503 or o.code not in ("database_unavailable", "database_timeout")):
            report.violations.append(f"{o.kind} {o.key}: {o.status} {o.code}")
        if o.status >= 400 and not o.problem_json:
            report.violations.append(f"{o.kind} {o.key}: {o.status} not problem+json")
        if o.status == 0:
            report.violations.append(f"{o.kind} {o.key}: no answer within the timeout ({o.code}, {o.latency:.1f} s)")
    if report.first_write_after is None:
        report.violations.append("no write was accepted after the database came back")

    # 2. The database against the client's ledger.
    dsn = f"postgresql://postgres:@/govbuy?host={harness.socket_dir(data_dir)}"
    conn = await asyncpg.connect(dsn)
    try:
        bids = await conn.fetch(
            "SELECT id::text, tender_id::text, vendor_id::text, status FROM bids WHERE tender_id = ANY($1::uuid[])", tenders
        )
        accepted_bids = {o.record_id for o in report.outcomes if o.kind == "bid" and o.status == 201}
        stored = {b["id"] for b in bids}
        for missing in accepted_bids - stored:
            report.violations.append(f"accepted bid {missing} is not in the database")
        pairs = Counter((b["tender_id"], b["vendor_id"]) for b in bids if b["status"] != "withdrawn")
        for tender_id in tenders:
            for vendor in vendors:
                if pairs[(tender_id, vendor.organisation_id)] != 1:
                    report.violations.append(
                        f"vendor {vendor.username} has {pairs[(tender_id, vendor.organisation_id)]} bids on tender {tender_id}"
                    )
        audited = {r["entity_id"] for r in await conn.fetch("SELECT entity_id FROM audit_events WHERE action = 'bid.submitted'")}
        for b in bids:
            if b["id"] not in audited:
                report.violations.append(f"bid {b['id']} has no audit event (half-written)")

        grades = await conn.fetch("SELECT id::text, note FROM assessment_grades WHERE note LIKE 'grade-note-%'")
        accepted_grades = {o.record_id for o in report.outcomes if o.kind == "grade" and o.status == 201}
        for missing in accepted_grades - {g["id"] for g in grades}:
            report.violations.append(f"accepted grade {missing} is not in the database")
        for note, n in Counter(g["note"] for g in grades).items():
            if n > 1:
                report.violations.append(f"grade {note} stored {n} times")
        grade_events = {
            r["grade_id"]
            for r in await conn.fetch(
                "SELECT after->>'id' AS grade_id FROM audit_events WHERE action = 'assessment_grade.recorded'"
            )
        }
        for g in grades:
            if g["id"] not in grade_events:
                report.violations.append(f"grade {g['id']} has no audit event (half-written)")

        line = await conn.fetchrow("SELECT reserved FROM budget_lines WHERE id = $1", bureau.budget_line_id)
        reserved = await conn.fetchval(
            "SELECT coalesce(sum(reserved_amount), 0) FROM tenders WHERE budget_line_id = $1 AND status = 'published'",
            bureau.budget_line_id,
        )
        if line["reserved"] != reserved:
            report.violations.append(f"budget line reserves {line['reserved']} but its published tenders {reserved}")
        published = await conn.fetch(
            "SELECT id::text FROM tenders WHERE budget_line_id = $1 AND status = 'published'", bureau.budget_line_id
        )
        published_events = {r["entity_id"] for r in await conn.fetch("SELECT entity_id FROM audit_events WHERE action = 'tender.published'")}
        for t in published:
            if t["id"] not in published_events:
                report.violations.append(f"tender {t['id']} published without its audit event")
        for o in report.outcomes:
            if o.kind == "publish" and o.status == 200 and o.key not in {t["id"] for t in published}:
                report.violations.append(f"accepted publication of {o.key} is not in the database")
        report.checked = {"bids": len(bids), "grades": len(grades), "published_tenders": len(published)}
        if milestones:
            payments = await conn.fetch(
                "SELECT id::text, milestone_id::text, amount FROM payments WHERE milestone_id = ANY($1::uuid[])",
                [m.milestone_id for m in milestones],
            )
            stored = Counter(p["milestone_id"] for p in payments)
            for m in milestones:
                answered = {o.record_id for o in report.outcomes if o.kind == "payment" and o.key == m.milestone_id and o.status in (200, 201)}
                if stored[m.milestone_id] != 1:
                    report.violations.append(f"milestone {m.milestone_id} has {stored[m.milestone_id]} payments")
                if len(answered) != 1 or not answered <= {p["id"] for p in payments}:
                    report.violations.append(f"milestone {m.milestone_id}: the client was answered {answered}")
            payment_events = {r["entity_id"] for r in await conn.fetch(
                "SELECT entity_id FROM audit_events WHERE entity_type = 'payment'")}
            report.violations += [f"payment {p['id']} has no audit event (half-written)" for p in payments if p["id"] not in payment_events]
            spent = await conn.fetchval("SELECT spent FROM budget_lines WHERE id = $1", bureau.budget_line_id)
            if spent != sum((p["amount"] for p in payments), start=0):
                report.violations.append(f"budget line spent {spent} differs from its payments")
            report.checked["payments"] = len(payments)
    finally:
        await conn.close()
    verification = (await load.client.get(f"{API}/audit-events/verify", headers=load.server.accounts["supervisor"].headers)).json()
    if not verification.get("ok"):
        report.violations.append(f"audit chain broken: {verification}")
    report.checked["audit_events"] = verification.get("checked", 0)


async def run(
    server: harness.LiveServer,
    *,
    vendors: int = 6,
    tenders: int = 15,
    fault_at: float = 2.0,
    outage: float = 3.0,
    duration: float = 10.0,
    mode: str = "immediate",
    pace: float = 0.05,
    timeout: float = 20.0,
    contracts: int = 1,
) -> FaultReport:
    """Prepare the records, run the load with the fault in it, and check the outcome."""
    data_dir = server.data_dir
    accounts = server.accounts or harness.accounts_for_every_role(server)
    with server.client() as client:
        admin = accounts["admin"]
        bureau = scenario.bureau_with_budget(client, admin, accounts["bureau"])
        bidders = [accounts["vendor"]] + [harness.create_account(client, admin, "vendor") for _ in range(max(vendors, 3) - 1)]
        milestones: list[scenario.PayableMilestone] = []
        if contracts and scenario.has_endpoint(server, "post", "/api/v1/contracts/{contract_id}/milestones/{milestone_id}/payments"):
            evaluator = accounts.get("evaluator") or harness.create_account(client, admin, "evaluator")
            milestones = scenario.contracts_ready_for_payment(client, admin, bureau, bidders[:3], [evaluator], contracts)
        tender_ids = [scenario.published_tender(client, bureau, days=25, ceiling="1000000.00")["id"] for _ in range(tenders)]
        deadline = (scenario.clock_now(client, admin) + timedelta(days=25)).isoformat()
    load = Load(server, timeout)
    load.stop_at = duration
    try:
        await asyncio.gather(
            fault(load, data_dir, fault_at, outage, mode),
            *(vendor_worker(load, v, tender_ids, pace * len(bidders) / 2) for v in bidders),
            admin_worker(load, admin, [v.organisation_id for v in bidders], pace),
            bureau_worker(load, bureau, deadline, pace * 2),
            reader_worker(load, pace),
            payment_worker(load, accounts["bureau"], milestones, duration / (len(milestones) + 1)),
        )
        await verify(load, data_dir, bidders, tender_ids, bureau, milestones)
    finally:
        await load.client.aclose()
    return load.report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vendors", type=int, default=10)
    parser.add_argument("--tenders", type=int, default=40)
    parser.add_argument("--fault-at", type=float, default=4.0)
    parser.add_argument("--outage", type=float, default=5.0)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--mode", choices=["immediate", "fast", "kill", "freeze"], default="immediate",
                        help="pg_ctl stop -m immediate|fast, SIGKILL of the postmaster, or SIGSTOP of every process")
    parser.add_argument("--contracts", type=int, default=2, help="contracts whose 3 milestones get paid")
    parser.add_argument("--timeout", type=float, default=20.0, help="the clients' timeout per request (s)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="govbuy-faults-"))
    server = harness.start_server(data_dir)
    try:
        report = asyncio.run(
            run(server, vendors=args.vendors, tenders=args.tenders, fault_at=args.fault_at, outage=args.outage,
                duration=args.duration, mode=args.mode, contracts=args.contracts, timeout=args.timeout)
        )
    finally:
        server.stop()
        harness.stop_embedded(data_dir)
        log = server.log_records()
        shutil.rmtree(data_dir, ignore_errors=True)  # its own embedded PostgreSQL: tens of MB
    print(report.table())
    watchdog = [r for r in log if (r["level"], r["logger"]) == ("ERROR", "govbuy.embedded")]
    print("\nwatchdog:\n" + "\n".join(f"  {r['time']} {r['message']}" for r in watchdog))
    latencies = [o.latency for o in report.outcomes if o.status]
    if args.json:
        print(json.dumps({
            "outage_s": round(report.outage_seconds, 2),
            "recovery_s": report.recovery_seconds,
            "requests": len(report.outcomes),
            "p50_s": statistics.median(latencies) if latencies else None,
            "violations": report.violations,
        }, indent=1))
    raise SystemExit(1 if report.violations else 0)


if __name__ == "__main__":
    main()
