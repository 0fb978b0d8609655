"""Bench of the PDF reports; prints its figures.

    .venv/bin/python -m bench.reports [--contracts 1000] [--evaluations 40] [--rounds 3]

1. The evaluation report through `evaluation.reports.evaluation_report` (data gathering + render):
   the first one on a fresh renderer pool (workers start, fonts load), then p50/p99 uncached
   (a different evaluation each time, nothing stored), from the store of rendered reports (the
   same evaluations again with the in-process cache cleared: a process that never rendered
   them) and from the in-process cache (the same one again).
2. The annual report of a bureau with `--contracts` contracts: data gathering time, render time,
   pages and size, and the peak memory of the render worker (psutil sampling the pool's process,
   and RUSAGE_CHILDREN's max RSS once the worker has exited); against the target (8 s).
3. A running `govbuy serve` (bench/harness.py) on the same data: `/health` latency p50/p99 while
   8 report requests render at once, `--rounds` times (different evaluations each round, none
   of them rendered before), then once more with the annual report among the 8. The event loop
   must stay responsive: p99 under 50 ms. (The annual report's render stored by step 2 is dropped
   first, so that the server renders it.)
4. "10 clients": 10 concurrent HTTP clients, each on its own keep-alive connection, send
   `--requests` evaluation report requests in all over 20 evaluations never rendered before (the
   first request of each renders, the rest are served from memory or the store); then
   `govbuy prerender-reports --limit 20` renders 20 more, and the same load over those (all from
   the store). Requests/s and p50/p99, against the target (10 requests/s).

Data: bench/report_data.py in a scratch database on the configured server (DATABASE_URL, else the
embedded one), dropped at the end.

Top layer (STYLE habit 14): reads any domain's tables directly, set-based.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import harness  # noqa: E402

# Tokens minted here must be accepted by the live server, which runs with the harness's key.
os.environ["GOVBUY_SECRET_KEY"] = harness.SECRET_KEY
os.environ.setdefault("GOVBUY_SANDBOX", "1")

YEAR = 2025
HEALTH_P99_LIMIT_MS = 50.0
ANNUAL_TARGET_SECONDS = 8.0
CLIENTS = 10
CLIENTS_EVALUATIONS = 20
CLIENTS_TARGET_RPS = 10.0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def verdict(ok: bool) -> str:
    return "OK" if ok else "OVER"


async def _database(name: str) -> str:
    from govbuy import database as db
    from govbuy.settings import get_settings

    dsn = db.with_database(db.resolve_dsn(get_settings()), name)
    await db.drop_database(dsn)
    await db.ensure_database(dsn)
    db.configure(dsn)
    await db.start_pool(2, 10)
    await db.migrate()
    return dsn


class PeakRss:
    """Samples the resident memory of the renderer pool's processes every 20 ms."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import psutil

        from govbuy import reports

        while not self._stop.is_set():
            executor = reports._executor
            for pid in list(getattr(executor, "_processes", {}) or {}):
                try:
                    self.peak = max(self.peak, psutil.Process(pid).memory_info().rss)
                except psutil.NoSuchProcess:
                    pass
            time.sleep(0.02)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def worker_rss() -> int:
    import psutil

    from govbuy import reports

    return sum(psutil.Process(pid).memory_info().rss for pid in (reports._executor._processes or {}))


async def bench_in_process(contracts: int, evaluations: int, live_evaluations: int) -> dict:
    from bench import report_data
    from contracts import reports as contract_reports
    from evaluation import reports as evaluation_reports
    from govbuy import database as db
    from govbuy import reports
    from govbuy.audit import Actor

    results: dict = {}
    started = time.perf_counter()
    world = await report_data.report_world(YEAR, seed=1000)
    contract_ids = await report_data.add_contracts(world, contracts, terminate_every=40)
    results["data_seconds"] = time.perf_counter() - started
    results["evaluations_total"] = await db.fetchval("SELECT count(*) FROM evaluations")
    bureau = Actor(world.bureau_user_id, "bench-bureau", "bureau", world.bureau_id, "bureau")
    evaluation_ids = [
        r["id"] for r in await db.fetch(
            "SELECT id FROM evaluations WHERE status = 'accepted' AND contract_id = ANY($1) ORDER BY id LIMIT $2",
            contract_ids, evaluations + 1 + live_evaluations,
        )
    ]
    if len(evaluation_ids) < evaluations + 1 + live_evaluations:
        raise SystemExit(f"only {len(evaluation_ids)} accepted evaluations: add --contracts")
    results["live_evaluation_ids"] = evaluation_ids[evaluations + 1:]
    evaluation_ids = evaluation_ids[:evaluations + 1]

    # 1. the evaluation report
    reports.shutdown_renderer()
    reports.clear_render_cache()
    t = time.perf_counter()
    first = await evaluation_reports.evaluation_report(bureau, evaluation_ids[0])
    results["first_on_fresh_pool"] = time.perf_counter() - t
    results["evaluation_pages"] = first.page_count
    uncached, gathering = [], []
    for evaluation_id in evaluation_ids[1:]:
        reports.clear_render_cache()
        t = time.perf_counter()
        await evaluation_reports.evaluation_report_data(bureau, evaluation_id)
        gathering.append(time.perf_counter() - t)
        t = time.perf_counter()
        await evaluation_reports.evaluation_report(bureau, evaluation_id)
        uncached.append(time.perf_counter() - t)
    stored = []
    renders = reports.render_count()
    for evaluation_id in evaluation_ids[1:]:
        reports.clear_render_cache()
        t = time.perf_counter()
        await evaluation_reports.evaluation_report(bureau, evaluation_id)
        stored.append(time.perf_counter() - t)
    results["stored_renders"] = reports.render_count() - renders
    cached = []
    for _ in range(200):
        t = time.perf_counter()
        again = await evaluation_reports.evaluation_report(bureau, evaluation_ids[-1])
        cached.append(time.perf_counter() - t)
    results["evaluation_uncached"] = uncached
    results["evaluation_stored"] = stored
    results["evaluation_gathering"] = gathering
    results["evaluation_cached"] = cached
    results["evaluation_bytes"] = len(again.content)

    # 2. the annual report, on a fresh pool of one worker so that its memory is the render's
    reports.shutdown_renderer()
    reports.clear_render_cache()
    os.environ["GOVBUY_REPORT_WORKERS"] = "1"
    await reports.warm_renderer()
    results["worker_idle_rss"] = worker_rss()
    t = time.perf_counter()
    await contract_reports.annual_report_data(bureau, YEAR, None)
    results["annual_gathering"] = time.perf_counter() - t
    with PeakRss() as peak:
        t = time.perf_counter()
        annual = await contract_reports.annual_report(bureau, YEAR)
        results["annual_seconds"] = time.perf_counter() - t
    results["annual_peak_rss_sampled"] = peak.peak
    results["annual_pages"] = annual.page_count
    results["annual_bytes"] = len(annual.content)
    reports.shutdown_renderer()
    # ru_maxrss of waited-for children, in KiB on Linux: the pool's workers (the largest of all
    # this process has reaped so far, which here is the annual report's worker).
    results["annual_peak_rss_rusage"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    os.environ.pop("GOVBUY_REPORT_WORKERS", None)
    results["world"] = world
    return results


async def many_clients(server, headers: dict, evaluation_ids: list, requests: int) -> dict:
    """CLIENTS concurrent clients, each on its own connection, sending `requests` evaluation report
    requests in all, round the evaluations in turn."""
    pending = iter(range(requests))
    latencies: list[float] = []

    async def client_loop() -> None:
        async with server.async_client(timeout=600) as client:
            for n in pending:
                evaluation_id = evaluation_ids[n % len(evaluation_ids)]
                t = time.perf_counter()
                r = await client.get(f"/api/v1/evaluations/{evaluation_id}/report.pdf", headers=headers)
                r.raise_for_status()
                latencies.append(time.perf_counter() - t)

    started = time.perf_counter()
    await asyncio.gather(*(client_loop() for _ in range(CLIENTS)))
    elapsed = time.perf_counter() - started
    return {"seconds": elapsed, "rps": len(latencies) / elapsed, "latencies": latencies}


async def stored_evaluation_subjects(dsn: str) -> set[str]:
    import asyncpg

    from evaluation.reports import TEMPLATE

    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("SELECT subject FROM rendered_reports WHERE template = $1 AND subject IS NOT NULL", TEMPLATE)
    finally:
        await conn.close()
    return {r["subject"] for r in rows}


def prerender_command(server, limit: int) -> str:
    """`govbuy prerender-reports` in a process of its own, as the worker or cron would run it."""
    result = subprocess.run(
        [sys.executable, "-m", "govbuy.cli", "--log-level", "WARNING", "prerender-reports",
         "--year", str(YEAR), "--limit", str(limit)],
        cwd=ROOT, env=server.env, capture_output=True, text=True, timeout=900,
    )
    if result.returncode != 0:
        raise RuntimeError(f"prerender-reports failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout.strip()


async def bench_many_clients(server, headers: dict, dsn: str, fresh_ids: list, requests: int) -> dict:
    """The 10 clients over evaluations never rendered, then over those prerender-reports stored."""
    results = {"first_render": await many_clients(server, headers, fresh_ids, requests)}
    before = await stored_evaluation_subjects(dsn)
    t = time.perf_counter()
    results["prerender_output"] = await asyncio.to_thread(prerender_command, server, CLIENTS_EVALUATIONS)
    results["prerender_seconds"] = time.perf_counter() - t
    prerendered = sorted(await stored_evaluation_subjects(dsn) - before)
    results["prerendered"] = len(prerendered)
    results["from_store"] = await many_clients(server, headers, prerendered, requests)
    return results


async def bench_live_server(dsn: str, world, evaluation_ids: list, rounds: int, requests: int) -> dict:
    """/health latency while 8 reports render at once through `govbuy serve`."""
    from govbuy import auth

    token, _ = auth.issue_token(world.bureau_user_id, auth.utcnow())
    headers = {"Authorization": f"Bearer {token}"}
    results: dict = {}
    with tempfile.TemporaryDirectory(prefix="govbuy-bench-reports-") as tmp:
        server = harness.start_server(Path(tmp), database_url=dsn)
        try:
            async with server.async_client(timeout=600) as client:
                # The first report starts the server's renderer processes: not part of the figures.
                warm = await client.get(f"/api/v1/evaluations/{evaluation_ids[0]}/report.pdf", headers=headers)
                warm.raise_for_status()
                idle = []
                for _ in range(200):
                    t = time.perf_counter()
                    (await client.get("/health")).raise_for_status()
                    idle.append(time.perf_counter() - t)
                    await asyncio.sleep(0.005)
                results["health_idle"] = idle

                busy: list[float] = []
                render_times: list[float] = []
                done = asyncio.Event()

                async def poll_health() -> None:
                    async with server.async_client(timeout=30) as health_client:
                        while not done.is_set():
                            t = time.perf_counter()
                            (await health_client.get("/health")).raise_for_status()
                            busy.append(time.perf_counter() - t)
                            await asyncio.sleep(0.01)

                async def render(evaluation_id) -> None:
                    t = time.perf_counter()
                    r = await client.get(f"/api/v1/evaluations/{evaluation_id}/report.pdf", headers=headers)
                    r.raise_for_status()
                    render_times.append(time.perf_counter() - t)

                async def annual() -> None:
                    r = await client.get(f"/api/v1/reports/annual.pdf?year={YEAR}", headers=headers)
                    r.raise_for_status()
                    results["annual_seconds"] = time.perf_counter() - annual_started

                ids = evaluation_ids[1:]
                poller = asyncio.create_task(poll_health())
                try:
                    started = time.perf_counter()
                    for n in range(rounds):
                        await asyncio.gather(*(render(e) for e in ids[n * 8:(n + 1) * 8]))
                    # a last round: the annual report of all the contracts with 7 evaluation reports
                    annual_started = time.perf_counter()
                    await asyncio.gather(annual(), *(render(e) for e in ids[rounds * 8:rounds * 8 + 7]))
                    results["annual_batch_seconds"] = time.perf_counter() - annual_started
                    results["busy_seconds"] = time.perf_counter() - started
                finally:
                    done.set()
                    await asyncio.gather(poller, return_exceptions=True)
                results["health_busy"] = busy
                results["render_times"] = render_times
            fresh = ids[rounds * 8 + 7:][:CLIENTS_EVALUATIONS]
            results["clients"] = await bench_many_clients(server, headers, dsn, fresh, requests)
            results["server_rss"] = harness.rss_bytes(server.pid)
        finally:
            server.stop()
    return results


async def main_async(args: argparse.Namespace) -> None:
    from govbuy import database as db
    from govbuy import reports

    dsn = await _database(f"govbuy_bench_reports_{os.getpid()}")
    try:
        live_evaluations = 1 + 8 * args.rounds + 7 + CLIENTS_EVALUATIONS
        r = await bench_in_process(args.contracts, args.evaluations, live_evaluations)
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"machine: {os.cpu_count()} CPUs, load average {load} at the start (timings are wall-clock)")
        print(f"data: {args.contracts} contracts, {r['evaluations_total']} evaluations written in {r['data_seconds']:.1f} s")
        print()
        print("evaluation report (data gathering + render, through the kernel's pool of 2 workers)")
        print(f"  first on a fresh pool (workers start):  {ms(r['first_on_fresh_pool'])}")
        u, g, c = r["evaluation_uncached"], r["evaluation_gathering"], r["evaluation_cached"]
        st = r["evaluation_stored"]
        print(f"  uncached, n={len(u)}:  p50 {ms(percentile(u, 50))}  p99 {ms(percentile(u, 99))}"
              f"  (data gathering alone p50 {ms(percentile(g, 50))})")
        print(f"  from the store (in-process cache cleared: a cold process), n={len(st)}:"
              f"  p50 {ms(percentile(st, 50))}  p99 {ms(percentile(st, 99))}  ({r['stored_renders']} rendered)")
        print(f"  in-process cache, n={len(c)}: p50 {ms(percentile(c, 50))}  p99 {ms(percentile(c, 99))}")
        print(f"  {r['evaluation_pages']} pages, {r['evaluation_bytes'] / 1024:.0f} KiB")
        print()
        print(f"annual report, {args.contracts} contracts (one worker)")
        print(f"  data gathering (set-based SQL): {ms(r['annual_gathering'])}")
        print(f"  total with render: {r['annual_seconds']:.1f} s, {r['annual_pages']} pages, {r['annual_bytes'] / 1024:.0f} KiB"
              f"  -> {verdict(r['annual_seconds'] < ANNUAL_TARGET_SECONDS)} (target under {ANNUAL_TARGET_SECONDS:.0f} s)")
        print(f"  render worker RSS: idle {r['worker_idle_rss'] / 2**20:.0f} MiB, peak {r['annual_peak_rss_sampled'] / 2**20:.0f} MiB"
              f" (sampled); max RSS of exited workers (RUSAGE_CHILDREN) {r['annual_peak_rss_rusage'] / 2**20:.0f} MiB")
        # The server renders the annual report itself under load (the figure of step 3), not
        # from the render this process stored.
        await db.execute("DELETE FROM rendered_reports WHERE template = 'annual_report.html'")
        await db.close_pool()

        live = await bench_live_server(dsn, r["world"], r["live_evaluation_ids"], args.rounds, args.requests)
        idle, busy = live["health_idle"], live["health_busy"]
        print()
        print("govbuy serve (1 uvicorn worker, 2 renderer processes)")
        print(f"  /health idle:  n={len(idle)}  p50 {ms(percentile(idle, 50))}  p99 {ms(percentile(idle, 99))}")
        print(f"  /health while 8 reports render at once ({args.rounds} rounds of 8 evaluation reports, then the annual"
              f" report of {args.contracts} contracts with 7 evaluation reports; {live['busy_seconds']:.1f} s):")
        p99 = percentile(busy, 99) * 1000
        print(f"    n={len(busy)}  p50 {ms(percentile(busy, 50))}  p99 {p99:.0f} ms  max {ms(max(busy))}"
              f"  -> {'OK' if p99 < HEALTH_P99_LIMIT_MS else 'OVER'} (limit {HEALTH_P99_LIMIT_MS:.0f} ms)")
        rt = live["render_times"]
        print(f"  evaluation report requests under that load: p50 {ms(percentile(rt, 50))}  max {ms(max(rt))}")
        print(f"  the annual report under that load: {live['annual_seconds']:.1f} s (last round {live['annual_batch_seconds']:.1f} s)")
        clients = live["clients"]
        print(f"  {CLIENTS} clients, {args.requests} evaluation report requests over {CLIENTS_EVALUATIONS} evaluations:")
        print_clients("first request of each renders", clients["first_render"])
        print(f"    {clients['prerender_output']}  ({clients['prerender_seconds']:.1f} s with the process start)")
        print_clients(f"over the {clients['prerendered']} it stored", clients["from_store"])
        print(f"  server RSS (uvicorn + renderer workers) at the end: {live['server_rss'] / 2**20:.0f} MiB")
    finally:
        reports.shutdown_renderer()
        await db.close_pool()
        await db.drop_database(dsn)


def print_clients(what: str, run: dict) -> None:
    latencies = run["latencies"]
    print(f"    {what}: {run['rps']:.1f} requests/s ({run['seconds']:.1f} s)  p50 {ms(percentile(latencies, 50))}"
          f"  p99 {ms(percentile(latencies, 99))}  -> {verdict(run['rps'] >= CLIENTS_TARGET_RPS)}"
          f" (target {CLIENTS_TARGET_RPS:.0f} requests/s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contracts", type=int, default=1000, help="contracts of the annual report's bureau")
    parser.add_argument("--evaluations", type=int, default=40, help="distinct evaluation reports rendered uncached")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of 8 concurrent reports against the live server")
    parser.add_argument("--requests", type=int, default=200, help="evaluation report requests of the 10 clients, per run")
    args = parser.parse_args()
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
