"""Throughput and latency of govbuy over HTTP, on a seeded database, each line with its ratio to
the floor (bench/floor.py: the same SQL with nothing around it).

Starts `govbuy serve` (production mode: no sandbox) and the floor as subprocesses with the same
number of uvicorn workers, then drives each from this process with an asyncio httpx client:
`--clients` concurrent clients, each sending its next request as soon as the last one is
answered (closed loop), for `--duration` seconds after a warm-up. Optionally `--rate`: an open
loop at a fixed arrival rate over `--clients` keep-alive connections, latency counted from
each request's scheduled time.

    DATABASE_URL=postgresql://…/seed1m python -m bench.perf --workers 2 --clients 100 --duration 20

Endpoints: `list` (GET /api/v1/public/tenders, first page), `detail` (GET a public tender that
was awarded: its bids and award notice are read too), `bid` (POST a sealed bid as one of the
seeded vendors kept free of bids, on a published tender), `payment` (POST the payment of an
evaluated milestone as its bureau, with an Idempotency-Key), `report` (GET an evaluation report
PDF as the bureau that commissioned it).

Top layer (STYLE habit 14): reads any domain's tables directly, set-based.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import random
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from uuid import UUID

import httpx

ROOT = Path(__file__).resolve().parents[1]
SECRET_KEY = "bench-secret-key-not-for-production-0123456789"
Request = tuple[str, str, dict[str, Any]]  # method, path, httpx keyword arguments


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Process:
    name: str
    base_url: str
    popen: subprocess.Popen
    log: Path

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGINT)
            try:
                self.popen.wait(20)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)


def _start(name: str, argv: list[str], env: dict[str, str], port: int, workdir: Path) -> Process:
    log = workdir / f"{name}.log"
    with open(log, "ab") as out:
        popen = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    process = Process(name, f"http://127.0.0.1:{port}", popen, log)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if popen.poll() is not None:
            raise RuntimeError(f"{name} exited with {popen.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{process.base_url}/ready", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    process.stop()
    raise RuntimeError(f"{name} not ready:\n{log.read_text()[-3000:]}")


def start_govbuy(dsn: str, workers: int, workdir: Path) -> Process:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVBUY_")}
    env.update(
        DATABASE_URL=dsn,
        GOVBUY_SECRET_KEY=SECRET_KEY,
        GOVBUY_OCID_PREFIX="ocds-bench0",  # production mode refuses the shared default
        GOVBUY_DATA_DIR=str(workdir / "data"),
        GOVBUY_LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    argv = [sys.executable, "-m", "govbuy.cli", "--log-level", "WARNING", "serve", "--host", "127.0.0.1",
            "--port", str(port), "--workers", str(workers)]
    return _start("govbuy", argv, env, port, workdir)


def start_floor(dsn: str, workers: int, spec: Path, workdir: Path) -> Process:
    port = free_port()
    env = dict(os.environ, DATABASE_URL=dsn, PYTHONUNBUFFERED="1")
    argv = [sys.executable, "-m", "bench.floor", "--port", str(port), "--workers", str(workers), "--spec", str(spec)]
    return _start("floor", argv, env, port, workdir)


# --- the load --------------------------------------------------------------------------------------


@dataclass
class Result:
    latencies: list[float] = field(default_factory=list)  # seconds
    statuses: dict[int, int] = field(default_factory=dict)
    seconds: float = 0.0
    errors: int = 0
    lateness: list[float] = field(default_factory=list)  # open loop: how late the client sent (seconds)

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000


_TLS = ssl.create_default_context()


def _client(base_url: str) -> httpx.AsyncClient:
    # One client, one keep-alive connection per simulated user: a single httpx pool shared by a
    # hundred connections spends more CPU finding a free connection than the server spends
    # answering (measured: 33 ms per request at 100 connections, 2 ms at 1).
    # One TLS context for all: httpx builds one per client otherwise, loading the CA bundle
    # each time (~30 ms of blocked event loop per client, seconds for a hundred).
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    return httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60, verify=_TLS)


async def closed_loop(base_url: str, next_request: Callable[[], Request | None], clients: int, duration: float,
                      warmup: float) -> Result:
    result = Result()
    started = time.perf_counter()
    measure_from, stop_at = started + warmup, started + warmup + duration

    async def client() -> None:
        async with _client(base_url) as http:
            while time.perf_counter() < stop_at:
                    request = next_request()
                    if request is None:
                        return
                    method, path, kwargs = request
                    sent = time.perf_counter()
                    try:
                        response = await http.request(method, path, **kwargs)
                        status = response.status_code
                    except httpx.HTTPError:
                        status = 0
                    done = time.perf_counter()
                    if sent >= measure_from and done <= stop_at:
                        result.latencies.append(done - sent)
                        result.statuses[status] = result.statuses.get(status, 0) + 1
                        if status == 0 or status >= 400:
                            result.errors += 1

    await asyncio.gather(*(client() for _ in range(clients)))
    result.seconds = duration
    return result


async def open_loop(base_url: str, next_request: Callable[[], Request | None], rate: float, duration: float,
                    warmup: float, connections: int = 64) -> Result:
    """Requests at a fixed rate whatever the answers; latency from the scheduled send time, so
    that a slow answer is not hidden by the requests it delayed (coordinated omission). Sent
    over up to `connections` keep-alive connections, each used by one request at a time."""
    result = Result()
    queue: asyncio.Queue[tuple[float, Request] | None] = asyncio.Queue()
    clients = [_client(base_url) for _ in range(connections)]  # made before the clock starts
    started = time.perf_counter()
    measure_from = started + warmup

    async def sender(http: httpx.AsyncClient) -> None:
        async with http:
            while (item := await queue.get()) is not None:
                scheduled, (method, path, kwargs) = item
                if scheduled >= measure_from:
                    result.lateness.append(time.perf_counter() - scheduled)
                try:
                    response = await http.request(method, path, **kwargs)
                    status = response.status_code
                except httpx.HTTPError:
                    status = 0
                if scheduled >= measure_from:
                    result.latencies.append(time.perf_counter() - scheduled)
                    result.statuses[status] = result.statuses.get(status, 0) + 1
                    if status == 0 or status >= 400:
                        result.errors += 1

    senders = [asyncio.create_task(sender(http)) for http in clients]
    for i in range(int((warmup + duration) * rate)):
        scheduled = started + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        request = next_request()
        if request is None:
            break
        queue.put_nowait((scheduled, request))
    for _ in senders:
        queue.put_nowait(None)
    await asyncio.gather(*senders)
    result.seconds = duration
    return result


# --- what to request ----------------------------------------------------------------------------


@dataclass
class Inputs:
    detail_ids: list[str]
    bid_pairs: list[tuple[str, str, dict[str, str], dict[str, str]]]  # tender, price, app headers, floor headers
    spec: dict[str, Any]
    payments: list[tuple[str, str, dict[str, str], dict[str, str]]] = field(default_factory=list)  # contract, milestone, …
    report_ids: list[str] = field(default_factory=list)
    report_headers: dict[str, str] = field(default_factory=dict)


async def prepare(dsn: str, max_bids: int, max_payments: int) -> Inputs:
    """Ids to read, (tender, vendor) pairs to bid with, tokens, and the floor's statements."""
    os.environ["GOVBUY_SECRET_KEY"] = SECRET_KEY
    os.environ.pop("GOVBUY_SANDBOX", None)
    from bench.floor import capture_reads
    from govbuy import auth
    from govbuy import database as db
    from govbuy.settings import get_settings

    get_settings.cache_clear()
    db.configure(dsn)
    await db.start_pool(1, 2)
    try:
        detail_ids = [
            str(r["id"])
            for r in await db.fetch(
                """SELECT id FROM tenders WHERE status IN ('awarded','contracted') AND published_at IS NOT NULL
                   ORDER BY published_at DESC LIMIT 5000"""
            )
        ]
        if not detail_ids:
            raise SystemExit("the database has no awarded tender: seed it first (govbuy seed)")
        spec = await capture_reads(UUID(detail_ids[0]))
        tenders = await db.fetch(
            """SELECT id, ceiling_amount FROM tenders WHERE status = 'published' AND method = 'public_tender'
                 AND bid_deadline > now() + interval '1 day' AND min_assessment_grade IS NULL
                 AND min_credit_grade IS NULL ORDER BY bid_deadline DESC LIMIT 2000"""
        )
        # The seed keeps its first vendors free of bids and credit-list entries; each of them may
        # bid once on each open tender, so only pairs without a bid yet are used.
        vendors = await db.fetch(
            """SELECT u.id AS user_id, u.username, u.organisation_id FROM users u
               WHERE u.role = 'vendor' AND u.active AND u.username LIKE 'vendor-%'
                 AND NOT EXISTS (SELECT 1 FROM credit_list_entries e WHERE e.vendor_id = u.organisation_id)
               ORDER BY u.username LIMIT 1000"""
        )
        taken = {
            (str(r["tender_id"]), str(r["vendor_id"]))
            for r in await db.fetch(
                "SELECT tender_id, vendor_id FROM bids WHERE vendor_id = ANY($1::uuid[]) AND tender_id = ANY($2::uuid[])",
                [v["organisation_id"] for v in vendors],
                [t["id"] for t in tenders],
            )
        }
        now = datetime.now(UTC)
        tokens = {v["user_id"]: auth.issue_token(v["user_id"], now)[0] for v in vendors}
        pairs = []
        for tender in tenders:
            for vendor in vendors:
                if (str(tender["id"]), str(vendor["organisation_id"])) in taken:
                    continue
                price = f"{tender['ceiling_amount'] * 9 / 10:.2f}"
                app_headers = {"Authorization": f"Bearer {tokens[vendor['user_id']]}"}
                floor_headers = {"x-floor-vendor": str(vendor["organisation_id"]), "x-floor-user": str(vendor["user_id"]),
                                 "x-floor-username": vendor["username"]}
                pairs.append((str(tender["id"]), price, app_headers, floor_headers))
            if len(pairs) >= max_bids:
                break
        random.Random(7).shuffle(pairs)

        # Payments: evaluated milestones of active contracts, appeal window closed, not paid.
        payable = await db.fetch(
            """SELECT m.id AS milestone_id, m.contract_id, c.bureau_id, u.id AS user_id, u.username
               FROM milestones m JOIN contracts c ON c.id = m.contract_id
               JOIN users u ON u.organisation_id = c.bureau_id AND u.role = 'bureau'
               JOIN evaluations e ON e.milestone_id = m.id AND e.superseded_at IS NULL AND e.status = 'accepted'
               WHERE m.status = 'evaluated' AND c.status = 'active' AND e.appeal_deadline < now()
                 AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.milestone_id = m.id)
                 AND NOT EXISTS (SELECT 1 FROM appeals a WHERE a.evaluation_id = e.id AND a.status = 'pending')
               LIMIT $1""",
            max_payments,
        )
        bureau_tokens = {r["user_id"]: auth.issue_token(r["user_id"], now)[0] for r in payable}
        payments = [
            (str(r["contract_id"]), str(r["milestone_id"]), {"Authorization": f"Bearer {bureau_tokens[r['user_id']]}"},
             {"x-floor-organisation": str(r["bureau_id"]), "x-floor-user": str(r["user_id"]), "x-floor-username": r["username"]})
            for r in payable
        ]
        random.Random(8).shuffle(payments)

        # Evaluation reports: accepted evaluations of one bureau, read as that bureau.
        reader = await db.fetchrow(
            """SELECT u.id, u.organisation_id FROM users u WHERE u.role = 'bureau'
                 AND EXISTS (SELECT 1 FROM evaluations e WHERE e.bureau_id = u.organisation_id AND e.status = 'accepted')
               ORDER BY u.username LIMIT 1"""
        )
        report_ids: list[str] = []
        report_headers: dict[str, str] = {}
        if reader is not None:
            report_ids = [
                str(r["id"])
                for r in await db.fetch(
                    "SELECT id FROM evaluations WHERE bureau_id = $1 AND status = 'accepted' ORDER BY accepted_at DESC LIMIT 2000",
                    reader["organisation_id"],
                )
            ]
            report_headers = {"Authorization": f"Bearer {auth.issue_token(reader['id'], now)[0]}"}
            from bench.floor import capture_report

            spec["report"] = await capture_report(await auth.load_actor(reader["id"]), UUID(report_ids[0]))
    finally:
        await db.close_pool()
    return Inputs(detail_ids, pairs, spec, payments, report_ids, report_headers)


PROPOSAL = "性能测试投标方案：组建 12 人项目团队，其中持证社会工作者 6 名，按月报送服务台账。"


def requests_for(endpoint: str, inputs: Inputs, floor: bool) -> Callable[[], Request | None]:
    rng = random.Random(endpoint)
    if endpoint == "list":
        path = "/floor/public/tenders" if floor else "/api/v1/public/tenders"
        return lambda: ("GET", path, {})
    if endpoint == "detail":
        prefix = "/floor/public/tenders/" if floor else "/api/v1/public/tenders/"
        return lambda: ("GET", prefix + rng.choice(inputs.detail_ids), {})
    if endpoint == "bid":
        pairs = inputs.bid_pairs

        def next_bid() -> Request | None:
            if not pairs:
                return None
            tender_id, price, app_headers, floor_headers = pairs.pop()
            body = {"price": price, "proposal": PROPOSAL}
            if floor:
                return ("POST", f"/floor/tenders/{tender_id}/bids", {"json": body, "headers": floor_headers})
            return ("POST", f"/api/v1/tenders/{tender_id}/bids", {"json": body, "headers": app_headers})

        return next_bid
    if endpoint == "payment":
        targets = inputs.payments

        def next_payment() -> Request | None:
            if not targets:
                return None
            contract_id, milestone_id, app_headers, floor_headers = targets.pop()
            key = {"Idempotency-Key": f"bench-{milestone_id}"}
            if floor:
                return ("POST", f"/floor/contracts/{contract_id}/milestones/{milestone_id}/payments",
                        {"headers": {**floor_headers, **key}})
            return ("POST", f"/api/v1/contracts/{contract_id}/milestones/{milestone_id}/payments",
                    {"headers": {**app_headers, **key}})

        return next_payment
    if endpoint == "report":
        if floor:
            return lambda: ("GET", f"/floor/evaluations/{rng.choice(inputs.report_ids)}/report", {})
        return lambda: ("GET", f"/api/v1/evaluations/{rng.choice(inputs.report_ids)}/report.pdf",
                        {"headers": inputs.report_headers})
    raise ValueError(endpoint)


# --- the report --------------------------------------------------------------------------------------


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({cpu}), {memory:.0f} GiB, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def table(rows: list[dict[str, Any]]) -> str:
    head = ("| endpoint | mode | rps | p50 ms | p99 ms | errors | floor rps | floor p50 | floor p99 | rps ÷ floor |\n"
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    lines = [head]
    for r in rows:
        app, floor = r["app"], r["floor"]
        ratio = f"{app.rps / floor.rps:.2f}" if floor and floor.rps else "—"
        lines.append(
            f"| {r['endpoint']} | {r['mode']} | {app.rps:,.0f} | {app.percentile(50):.1f} | {app.percentile(99):.1f} | "
            f"{app.errors} | {floor.rps:,.0f} | {floor.percentile(50):.1f} | {floor.percentile(99):.1f} | {ratio} |"
            if floor else
            f"| {r['endpoint']} | {r['mode']} | {app.rps:,.0f} | {app.percentile(50):.1f} | {app.percentile(99):.1f} | "
            f"{app.errors} | — | — | — | — |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"), help="a seeded database (default DATABASE_URL)")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers of govbuy and of the floor (default 2)")
    parser.add_argument("--clients", type=int, default=100, help="concurrent clients (default 100)")
    parser.add_argument("--duration", type=float, default=20, help="measured seconds per endpoint (default 20)")
    parser.add_argument("--warmup", type=float, default=3, help="seconds before measuring (default 3)")
    parser.add_argument("--rate", type=float, action="append", default=[], help="also an open loop at this many requests/s (repeatable)")
    parser.add_argument("--endpoints", default="list,detail,bid,payment,report",
                        help="comma-separated: list, detail, bid, payment, report")
    parser.add_argument("--report-clients", type=int, default=10,
                        help="concurrent clients for the PDF report, which renders for ~1 s (default 10)")
    parser.add_argument("--no-floor", action="store_true", help="skip the floor")
    parser.add_argument("--json", help="write the figures to this file too")
    args = parser.parse_args()
    try:  # the client's own CPU is part of what limits it on a small machine: the faster loop
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    if not args.database_url:
        raise SystemExit("give --database-url or set DATABASE_URL to a seeded database")
    endpoints = [e.strip() for e in args.endpoints.split(",") if e.strip()]
    max_bids = int((args.warmup + args.duration) * 4000) if "bid" in endpoints else 0
    max_payments = int((args.warmup + args.duration) * 2 * 1500) if "payment" in endpoints else 0

    workdir = Path(tempfile.mkdtemp(prefix="govbuy-bench-"))
    inputs = asyncio.run(prepare(args.database_url, max_bids, max_payments))
    # The inputs are many objects that live to the end: keep the collector from walking them
    # again and again while it measures (a full collection stalls the load generator).
    gc.freeze()
    spec_path = workdir / "floor-spec.json"
    spec_path.write_text(json.dumps(inputs.spec, ensure_ascii=False))
    print(f"machine: {machine()}")
    print(f"workers {args.workers}, clients {args.clients}, {args.duration:.0f} s per run after {args.warmup:.0f} s warm-up; logs in {workdir}")
    processes = []
    rows: list[dict[str, Any]] = []
    try:
        app = start_govbuy(args.database_url, args.workers, workdir)
        processes.append(app)
        floor = None if args.no_floor else start_floor(args.database_url, args.workers, spec_path, workdir)
        if floor:
            processes.append(floor)
        for endpoint in endpoints:
            clients = args.report_clients if endpoint == "report" else args.clients
            modes: list[tuple[str, Any]] = [(f"{clients} clients", None)]
            if endpoint in ("list", "detail"):
                modes += [(f"{r:g} req/s", r) for r in args.rate]
            for mode, rate in modes:
                figures: dict[str, Any] = {"endpoint": endpoint, "mode": mode, "floor": None}
                for who, process in (("app", app), ("floor", floor)):
                    if process is None:
                        continue
                    source = requests_for(endpoint, inputs, floor=who == "floor")
                    if rate is None:
                        run = closed_loop(process.base_url, source, clients, args.duration, args.warmup)
                    else:
                        run = open_loop(process.base_url, source, rate, args.duration, args.warmup, connections=clients)
                    load = os.getloadavg()[0]
                    figures[who] = asyncio.run(run)
                    r = figures[who]
                    late = ""
                    if r.lateness:
                        ordered = sorted(r.lateness)
                        late = f"  client sent late: p99 {ordered[int(0.99 * len(ordered))] * 1000:.1f} ms"
                    print(f"  {endpoint:<7} {mode:<12} {who:<5} {r.rps:8.0f} req/s  p50 {r.percentile(50):7.1f} ms  "
                          f"p99 {r.percentile(99):7.1f} ms  statuses {r.statuses}  (load before {load:.1f}){late}", flush=True)
                rows.append(figures)
    finally:
        for process in processes:
            process.stop()
    print()
    print(table(rows))
    if args.json:
        Path(args.json).write_text(json.dumps(
            [{"endpoint": r["endpoint"], "mode": r["mode"], **{
                who: {"rps": r[who].rps, "p50_ms": r[who].percentile(50), "p99_ms": r[who].percentile(99),
                      "statuses": r[who].statuses}
                for who in ("app", "floor") if r.get(who)}} for r in rows], indent=2))


if __name__ == "__main__":
    main()
