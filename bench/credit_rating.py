"""Benchmark: recompute every vendor's credit rating on a seeded database.

    DATABASE_URL=postgresql://…/seeded python bench/credit_rating.py [--batch 5000]
    python bench/credit_rating.py --database NAME   (a seeded database on the embedded server)

Without DATABASE_URL it seeds a fresh database on the embedded server first
(`govbuy seed --vendors 100000 --evaluations 500000 …`, several minutes). It prints the
vendors and accepted evaluations found, the wall time and the process's peak memory of a full
recompute, and of a second recompute, which must store nothing (a rating changes only when an
input or the rules version does).

Top layer (STYLE habit 14): reads any domain's tables directly, set-based.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _high_water_mib(pid: int | str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def peak_rss_mib() -> tuple[float, float]:
    """Peak resident memory of this process and of the largest rating worker (its live child
    processes), in MiB."""
    children = [
        pid
        for task in Path("/proc/self/task").iterdir()
        for pid in (task / "children").read_text().split()
    ]
    workers = []
    for pid in children:
        try:
            workers.append(_high_water_mib(pid))
        except OSError:
            pass  # exited meanwhile
    return _high_water_mib("self"), max(workers, default=0.0)


def seeded_database(args: argparse.Namespace) -> str:
    from govbuy import database as db
    from govbuy.settings import get_settings

    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    server = db.resolve_dsn(get_settings())  # starts (and keeps) the embedded server
    if args.database:
        return db.with_database(server, args.database)
    dsn = db.with_database(server, f"bench_rating_{uuid.uuid4().hex[:6]}")
    env = {**os.environ, "DATABASE_URL": dsn}
    subprocess.run(
        [sys.executable, "-m", "govbuy.cli", "seed", "--vendors", str(args.vendors), "--tenders", str(args.tenders),
         "--bids", str(args.bids), "--evaluations", str(args.evaluations)],
        check=True, env=env, cwd=ROOT,
    )
    return dsn


async def run(dsn: str, batch: int) -> None:
    from govbuy import database as db
    from vendors import service

    db.configure(dsn)
    await db.start_pool(1, 4)
    try:
        vendors = await db.fetchval("SELECT count(*) FROM organisations WHERE kind = 'vendor'")
        evaluations = await db.fetchval("SELECT count(*) FROM evaluations WHERE status = 'accepted'")
        print(f"vendors: {vendors:,}   accepted evaluations: {evaluations:,}   batch: {batch}")
        await db.execute("TRUNCATE credit_ratings")  # a benchmark database: rate everyone afresh
        for label in ("first recompute", "second recompute"):
            started = time.perf_counter()
            batches: list[float] = []
            stored = await service.recompute_all(
                batch=batch, progress=lambda done, total: done and batches.append(time.perf_counter() - started)
            )
            elapsed = time.perf_counter() - started
            own, worker = peak_rss_mib()
            print(f"{label:>17}: {elapsed:7.1f} s   ratings stored: {stored:,}   "
                  f"peak RSS: {own:,.0f} MiB (main), {worker:,.0f} MiB (largest worker)")
            if len(batches) > 1:  # the facts statement's own time, then the pace of the pipeline
                print(f"{'':>19}first batch stored after {batches[0]:.1f} s, then one every "
                      f"{(batches[-1] - batches[0]) / (len(batches) - 1):.2f} s")
    finally:
        await db.close_pool()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--database", help="an already seeded database on the embedded server")
    parser.add_argument("--vendors", type=int, default=100_000)
    parser.add_argument("--tenders", type=int, default=200_000)
    parser.add_argument("--bids", type=int, default=1_000_000)
    parser.add_argument("--evaluations", type=int, default=500_000)
    args = parser.parse_args()
    asyncio.run(run(seeded_database(args), args.batch))


if __name__ == "__main__":
    main()
