"""Load: many concurrent clients bidding at a deadline, paying milestones and reading what is
public, against `govbuy serve` on the sandbox clock; then every write checked in the database.

Each client loops until the time is up (or its number of requests is done), picking:
- bid: its vendor bids on one of the open tenders, whose deadline falls in the middle of the run
  (before it 201 or 409 bid_already_submitted — several clients share a vendor and race; after
  it 409 bid_deadline_passed);
- pay: the bureau pays a milestone whose evaluation was accepted, with an Idempotency-Key that
  is one of three per milestone (retries and double clicks);
- public: a disclosure read (/public/tenders, a tender, /public/contracts, the OCDS feed);
- read: a signed-in read (a vendor's tender list, the bureau's tender).

Afterwards: no 5xx; every 201 bid is stored once, none after the deadline, one live bid per vendor
and tender, each audited; one payment per milestone whatever the keys, the same key always the
same payment, the budget line's `spent` equal to the payments; RSS of the serving process sampled
every second (flat: the end within a margin of the level after warm-up).

Run: `python -m bench.load [--clients 200] [--duration 60] [--workers 1]` (an embedded
PostgreSQL of its own in a temporary folder). The suite runs a short version
(tests/reliability/test_load.py).

Top layer (STYLE habit 14): reads any domain's tables directly, set-based.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import random
import statistics
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import asyncpg
import httpx

from bench import harness, scenario

API = "/api/v1"
WEIGHTS = {"bid": 30, "pay": 15, "public": 40, "read": 15}
# Below uvicorn's keep-alive timeout (5 s): a connection the server is closing is never reused
# (that race ends in a ReadError that says nothing about the service).
KEEPALIVE_SECONDS = 2.0


@dataclass
class Sample:
    kind: str
    status: int  # 0: no answer
    code: str | None
    latency: float
    at: float


@dataclass
class Setup:
    vendors: list[harness.Account]
    bureau: scenario.Bureau
    tenders: list[str]
    payable: list[scenario.PayableMilestone]
    deadline: datetime


@dataclass
class LoadReport:
    clients: int
    seconds: float = 0.0
    samples: list[Sample] = field(default_factory=list)
    rss: list[tuple[float, int]] = field(default_factory=list)
    bids: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))  # tender:vendor → bid ids (201)
    payments: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # milestone → payment ids (2xx)
    payment_keys: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # key → payment ids
    violations: list[str] = field(default_factory=list)
    checked: dict[str, int] = field(default_factory=dict)

    def server_errors(self) -> list[Sample]:
        return [s for s in self.samples if s.status >= 500 or s.status == 0]

    def rss_start(self) -> int:
        return self.rss[0][1] if self.rss else 0

    def rss_warm(self) -> int:
        """RSS once the service has warmed up: the first sample after a quarter of the run."""
        later = [r for t, r in self.rss if t >= self.seconds / 4]
        return later[0] if later else self.rss_start()

    def rss_end(self) -> int:
        return self.rss[-1][1] if self.rss else 0

    def table(self) -> str:
        lines = [f"{'kind':<8} {'requests':>8} {'rps':>7} {'p50 ms':>8} {'p99 ms':>8} {'2xx':>6} {'4xx':>6} {'5xx':>5}"]
        kinds = sorted({s.kind for s in self.samples}) + ["all"]
        for kind in kinds:
            rows = [s for s in self.samples if kind == "all" or s.kind == kind]
            if not rows:
                continue
            latencies = sorted(s.latency * 1000 for s in rows)
            p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
            lines.append(
                f"{kind:<8} {len(rows):>8} {len(rows) / self.seconds:>7.1f} {statistics.median(latencies):>8.1f} {p99:>8.1f} "
                f"{sum(200 <= s.status < 300 for s in rows):>6} {sum(400 <= s.status < 500 for s in rows):>6} "
                f"{sum(s.status >= 500 or s.status == 0 for s in rows):>5}"
            )
        codes = Counter((s.kind, s.status, s.code) for s in self.samples if s.status >= 400)
        lines.append("refusals: " + ", ".join(f"{k} {st} {c}: {n}" for (k, st, c), n in sorted(codes.items(), key=str)))
        mb = 1024 * 1024
        lines.append(
            f"clients {self.clients}, {self.seconds:.1f} s; RSS start {self.rss_start() / mb:.1f} MB, "
            f"after warm-up {self.rss_warm() / mb:.1f} MB, end {self.rss_end() / mb:.1f} MB, "
            f"max {max((r for _, r in self.rss), default=0) / mb:.1f} MB"
        )
        lines.append(f"checked in the database: {self.checked}; violations: {len(self.violations)}")
        lines += [f"  - {v}" for v in self.violations[:20]]
        return "\n".join(lines)


def prepare(server: harness.LiveServer, *, vendors: int, tenders: int, contracts: int, deadline_in: float) -> Setup:
    """Vendors, contracts whose milestones wait for payment, and open tenders whose deadline is
    `deadline_in` seconds away on the sandbox clock."""
    accounts = server.accounts or harness.accounts_for_every_role(server)
    admin = accounts["admin"]
    with server.client(timeout=60) as client:
        bureau = scenario.bureau_with_budget(client, admin, accounts["bureau"])
        bidders = [accounts["vendor"]] + [harness.create_account(client, admin, "vendor") for _ in range(vendors - 1)]
        payable: list[scenario.PayableMilestone] = []
        if contracts and scenario.has_endpoint(server, "post", "/api/v1/contracts/{contract_id}/milestones/{milestone_id}/payments"):
            evaluators = [accounts["evaluator"], harness.create_account(client, admin, "evaluator")]
            payable = scenario.contracts_ready_for_payment(client, admin, bureau, bidders[:3], evaluators, contracts)
        open_tenders = [scenario.published_tender(client, bureau, days=25)["id"] for _ in range(tenders)]
        deadline = datetime.fromisoformat(
            scenario.check(client.get(f"{API}/tenders/{open_tenders[0]}", headers=bureau.account.headers))["bid_deadline"]
        )
        gap = deadline - scenario.clock_now(client, admin)
        scenario.advance_clock(client, admin, seconds=max(int(gap.total_seconds() - deadline_in), 0))
        # The tenders' deadlines differ by the milliseconds between their creations: take the first.
        for tender_id in open_tenders[1:]:
            other = datetime.fromisoformat(
                scenario.check(client.get(f"{API}/tenders/{tender_id}", headers=bureau.account.headers))["bid_deadline"]
            )
            deadline = min(deadline, other)
    return Setup(bidders, bureau, open_tenders, payable, deadline)


class Clients:
    def __init__(self, server: harness.LiveServer, setup: Setup, report: LoadReport, *, seed: int) -> None:
        self.server = server
        self.setup = setup
        self.report = report
        self.random = random.Random(seed)
        self.http = httpx.AsyncClient(
            base_url=server.base_url, timeout=60,
            limits=httpx.Limits(max_connections=report.clients + 10, max_keepalive_connections=report.clients + 10,
                                keepalive_expiry=KEEPALIVE_SECONDS),
        )
        self.started = time.monotonic()
        bureau = setup.bureau.account
        self.public_paths = ["/public/tenders?limit=20", "/public/contracts?limit=20", "/public/ocds/releases?limit=20"]
        self.public_paths += [f"/public/tenders/{t}" for t in setup.tenders[:5]]
        self.bureau_headers = bureau.headers

    def now(self) -> float:
        return time.monotonic() - self.started

    async def request(self, kind: str, method: str, path: str, **kwargs) -> httpx.Response | None:
        at = self.now()
        try:
            response = await self.http.request(method, API + path, **kwargs)
        except httpx.HTTPError as exc:
            self.report.samples.append(Sample(kind, 0, type(exc).__name__, self.now() - at, at))
            return None
        code = None
        if response.status_code >= 400:
            try:
                code = response.json().get("code")
            except ValueError:
                code = "not-json"
        self.report.samples.append(Sample(kind, response.status_code, code, self.now() - at, at))
        return response

    async def bid(self, n: int) -> None:
        vendor = self.setup.vendors[n % len(self.setup.vendors)]
        tender_id = self.random.choice(self.setup.tenders)
        response = await self.request(
            "bid", "POST", f"/tenders/{tender_id}/bids", headers=vendor.headers,
            json={"price": f"{self.random.randint(500000, 999999)}.00", "proposal": f"客户端 {n} 的服务方案"},
        )
        if response is not None and response.status_code == 201:
            self.report.bids[f"{tender_id}:{vendor.organisation_id}"].append(response.json()["id"])

    async def pay(self, n: int) -> None:
        if not self.setup.payable:
            return await self.public(n)
        milestone = self.random.choice(self.setup.payable)
        key = f"{milestone.milestone_id}-{self.random.randint(1, 3)}"
        response = await self.request(
            "pay", "POST", f"/contracts/{milestone.contract_id}/milestones/{milestone.milestone_id}/payments",
            headers={**self.bureau_headers, "Idempotency-Key": key},
        )
        if response is not None and response.status_code in (200, 201):
            payment_id = response.json()["id"]
            self.report.payments[milestone.milestone_id].add(payment_id)
            self.report.payment_keys[key].add(payment_id)

    async def public(self, n: int) -> None:
        await self.request("public", "GET", self.random.choice(self.public_paths))

    async def read(self, n: int) -> None:
        if n % 2:
            vendor = self.setup.vendors[n % len(self.setup.vendors)]
            await self.request("read", "GET", "/tenders?limit=20", headers=vendor.headers)
        else:
            await self.request("read", "GET", f"/tenders/{self.random.choice(self.setup.tenders)}", headers=self.bureau_headers)

    async def client(self, n: int, until: float, requests: int | None) -> None:
        actions = {"bid": self.bid, "pay": self.pay, "public": self.public, "read": self.read}
        kinds, weights = zip(*WEIGHTS.items())
        done = 0
        while self.now() < until and (requests is None or done < requests):
            await actions[self.random.choices(kinds, weights)[0]](n)
            done += 1


async def sample_rss(pid: int, report: LoadReport, started: float, stop: asyncio.Event) -> None:
    while not stop.is_set():
        report.rss.append((time.monotonic() - started, harness.rss_bytes(pid)))
        try:
            await asyncio.wait_for(stop.wait(), 1.0)
        except TimeoutError:
            pass
    report.rss.append((time.monotonic() - started, harness.rss_bytes(pid)))


async def verify(server: harness.LiveServer, dsn: str, setup: Setup, report: LoadReport) -> None:
    for s in report.server_errors():
        report.violations.append(f"{s.kind}: {s.status} {s.code}")
    conn = await asyncpg.connect(dsn)
    try:
        bids = await conn.fetch(
            """SELECT b.id::text, b.tender_id::text, b.vendor_id::text, b.status, b.submitted_at, t.bid_deadline
               FROM bids b JOIN tenders t ON t.id = b.tender_id WHERE b.tender_id = ANY($1::uuid[])""",
            setup.tenders,
        )
        stored = {b["id"] for b in bids}
        accepted = [bid_id for ids in report.bids.values() for bid_id in ids]
        for bid_id in accepted:
            if bid_id not in stored:
                report.violations.append(f"accepted bid {bid_id} is not in the database")
        for pair, ids in report.bids.items():
            if len(ids) > 1:
                report.violations.append(f"{len(ids)} bids accepted for the same vendor and tender {pair}")
        live = Counter((b["tender_id"], b["vendor_id"]) for b in bids if b["status"] != "withdrawn")
        report.violations += [f"{n} live bids of one vendor on one tender {pair}" for pair, n in live.items() if n > 1]
        report.violations += [f"bid {b['id']} submitted at {b['submitted_at']}, after the deadline" for b in bids
                              if b["submitted_at"] >= b["bid_deadline"]]
        audited = {r["entity_id"] for r in await conn.fetch(
            "SELECT entity_id FROM audit_events WHERE action = 'bid.submitted' AND entity_id = ANY($1::text[])", list(stored))}
        report.violations += [f"bid {b} has no audit event" for b in stored - audited]
        report.checked["bids"] = len(bids)

        if setup.payable:
            milestones = [m.milestone_id for m in setup.payable]
            payments = await conn.fetch(
                "SELECT id::text, milestone_id::text, amount FROM payments WHERE milestone_id = ANY($1::uuid[])", milestones
            )
            per_milestone = Counter(p["milestone_id"] for p in payments)
            report.violations += [f"milestone {m} paid {n} times" for m, n in per_milestone.items() if n > 1]
            for milestone_id, ids in report.payments.items():
                if len(ids) != 1:
                    report.violations.append(f"milestone {milestone_id}: clients were given {len(ids)} different payments")
                if not ids <= {p["id"] for p in payments}:
                    report.violations.append(f"milestone {milestone_id}: accepted payment {ids} is not in the database")
            report.violations += [f"key {k} answered {len(v)} different payments" for k, v in report.payment_keys.items() if len(v) > 1]
            spent = await conn.fetchval("SELECT spent FROM budget_lines WHERE id = $1", setup.bureau.budget_line_id)
            total = sum((p["amount"] for p in payments), start=0)
            if spent != total:
                report.violations.append(f"budget line spent {spent}, payments total {total}")
            report.checked["payments"] = len(payments)
    finally:
        await conn.close()


async def run(
    server: harness.LiveServer,
    dsn: str,
    *,
    clients: int = 200,
    duration: float = 60.0,
    requests_per_client: int | None = None,
    vendors: int = 20,
    tenders: int = 10,
    contracts: int = 4,
    deadline_at: float | None = None,
    seed: int = 9,
) -> LoadReport:
    """Prepare, run the clients (for `duration` seconds, or `requests_per_client` each), verify."""
    deadline_in = deadline_at if deadline_at is not None else duration / 2
    setup = prepare(server, vendors=vendors, tenders=tenders, contracts=contracts, deadline_in=deadline_in)
    report = LoadReport(clients)
    runner = Clients(server, setup, report, seed=seed)
    stop = asyncio.Event()
    sampler = asyncio.create_task(sample_rss(server.pid, report, runner.started, stop))
    try:
        await asyncio.gather(*(runner.client(n, duration, requests_per_client) for n in range(clients)))
    finally:
        report.seconds = runner.now()
        stop.set()
        await sampler
        await runner.http.aclose()
    await verify(server, dsn, setup, report)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers of govbuy serve")
    parser.add_argument("--vendors", type=int, default=20)
    parser.add_argument("--tenders", type=int, default=10)
    parser.add_argument("--contracts", type=int, default=4, help="contracts whose 3 milestones get paid")
    parser.add_argument("--rss-margin-mb", type=float, default=50.0, help="allowed growth after warm-up")
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="govbuy-load-"))
    server = harness.start_server(data_dir, workers=args.workers)
    try:
        dsn = f"postgresql://postgres:@/govbuy?host={harness.socket_dir(data_dir)}"
        report = asyncio.run(run(server, dsn, clients=args.clients, duration=args.duration, vendors=args.vendors,
                                 tenders=args.tenders, contracts=args.contracts))
    finally:
        server.stop()
        harness.stop_embedded(data_dir)
        shutil.rmtree(data_dir, ignore_errors=True)  # its own embedded PostgreSQL: tens of MB
    print(report.table())
    growth = (report.rss_end() - report.rss_warm()) / 1024 / 1024
    flat = growth <= args.rss_margin_mb
    print(f"RSS after warm-up → end: {growth:+.1f} MB ({'flat' if flat else 'GROWING'})")
    raise SystemExit(1 if report.violations or not flat else 0)


if __name__ == "__main__":
    main()
