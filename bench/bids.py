"""Bid load: one public tender, 1,000 vendors bidding concurrently, then the bids listed after
the opening. Prints requests per second and p50/p99 latency for submission and for listing.

    python bench/bids.py [--vendors 1000] [--concurrency 50] [--page-size 100] [--passes 20]

It starts `govbuy serve --sandbox` in a subprocess on a throwaway database of the embedded
PostgreSQL server (the one `govbuy database-url` names), drops that database afterwards, and
touches nothing else. The vendors and their tokens are made directly in that database (the
service's own password hashing would take minutes for 1,000 accounts and is not what is
measured); everything measured goes through HTTP.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import harness  # noqa: E402

# The server signs tokens with the harness's key; the bench mints the vendors' with the same.
os.environ["GOVBUY_SECRET_KEY"] = harness.SECRET_KEY

import asyncpg  # noqa: E402
import httpx  # noqa: E402

from govbuy import auth  # noqa: E402
from govbuy import database as db  # noqa: E402
from govbuy.settings import get_settings  # noqa: E402

API = "/api/v1"


def check(response: httpx.Response, *expected: int) -> dict:
    if response.status_code not in (expected or (200, 201)):
        raise RuntimeError(f"{response.request.method} {response.request.url.path}: {response.status_code} {response.text[:500]}")
    return response.json()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def report(name: str, latencies: list[float], wall: float) -> str:
    return (
        f"{name:<22} {len(latencies):>6} requests in {wall:7.2f} s  {len(latencies) / wall:8.1f} req/s  "
        f"p50 {percentile(latencies, 50) * 1000:7.1f} ms  p99 {percentile(latencies, 99) * 1000:7.1f} ms  "
        f"max {max(latencies) * 1000:7.1f} ms"
    )


def set_up_tender(server: harness.LiveServer) -> tuple[harness.Account, harness.Account, dict]:
    """An admin, a bureau with a published catalogue and a budget line, and a published
    public tender, all through the API."""
    with server.client() as client:
        admin = harness.admin_account(client)
        bureau = harness.create_account(client, admin, "bureau")
        now = datetime.fromisoformat(check(client.get(f"{API}/sandbox/clock", headers=bureau.headers))["now"])
        catalogue = check(client.post(f"{API}/catalogues", headers=bureau.headers,
                                      json={"region_code": "440300", "year": now.year, "title": "bench 目录"}))
        for code, name in (("A", "基本公共服务"), ("A01", "养老服务"), ("A0101", "居家养老上门服务")):
            item = check(client.post(f"{API}/catalogues/{catalogue['id']}/items", headers=bureau.headers,
                                     json={"code": code, "name": name}))
        check(client.post(f"{API}/catalogues/{catalogue['id']}/publish", headers=bureau.headers))
        line = check(client.post(f"{API}/budget-lines", headers=bureau.headers,
                                 json={"code": "2081002", "year": now.year, "title": "养老服务补助", "amount": "5000000.00"}))
        body = {
            "title": "社区居家养老上门服务项目（压测）",
            "catalogue_item_id": item["id"],
            "budget_line_id": line["id"],
            "method": "public_tender",
            "ceiling_amount": "1000000.00",
            "contract_months": 12,
            "evaluation_method": "comprehensive",
            "price_weight": "30",
            "criteria": [{"name": "服务方案", "weight": "40"}, {"name": "团队与经验", "weight": "30"}],
            "milestones": [{"title": "首期", "percentage": "50", "due_offset_days": 180},
                           {"title": "终期", "percentage": "50", "due_offset_days": 360}],
            "bid_deadline": (now + timedelta(days=25)).isoformat(),
            # 财库〔2020〕10号: no procurement intention announced it, so the tender says why
            "intention_notice_exception": "年度预算调整后新增的项目，未能提前公开采购意向",
        }
        tender = check(client.post(f"{API}/tenders", headers=bureau.headers, json=body))
        tender = check(client.post(f"{API}/tenders/{tender['id']}/publish", headers=bureau.headers))
    return admin, bureau, tender


async def make_vendors(dsn: str, count: int) -> list[dict[str, str]]:
    """`count` vendor organisations with one user each, inserted in bulk; bearer tokens minted."""
    password_hash = await auth.hash_password(harness.PASSWORD)
    now = datetime.now(UTC)
    orgs = [(uuid4(), f"社会服务机构 {i:04d}", harness.random_uscc("vendor")) for i in range(count)]
    users = [(uuid4(), f"bench-vendor-{i:04d}-{secrets.token_hex(2)}", org[0]) for i, org in enumerate(orgs)]
    connection = await asyncpg.connect(dsn)
    try:
        await connection.executemany(
            "INSERT INTO organisations (id, name, kind, uscc, region_code, created_at) VALUES ($1, $2, 'vendor', $3, '440300', $4)",
            [(o[0], o[1], o[2], now) for o in orgs],
        )
        await connection.executemany(
            "INSERT INTO users (id, username, password_hash, organisation_id, role, created_at) VALUES ($1, $2, $3, $4, 'vendor', $5)",
            [(u[0], u[1], password_hash, u[2], now) for u in users],
        )
    finally:
        await connection.close()
    return [{"token": auth.issue_token(u[0], now)[0], "vendor_id": str(u[2])} for u in users]


async def submit_bids(base_url: str, tender_id: str, vendors: list[dict[str, str]], concurrency: int) -> tuple[list[float], float, int]:
    latencies: list[float] = []
    accepted = 0
    gate = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base_url, timeout=60, limits=limits) as client:

        async def one(i: int, vendor: dict[str, str]) -> None:
            nonlocal accepted
            async with gate:
                body = {"price": f"{990000 - i * 300}.00", "proposal": f"服务方案 {i}：三支队伍，每日上门。" * 20}
                started = time.perf_counter()
                r = await client.post(f"{API}/tenders/{tender_id}/bids", json=body,
                                      headers={"Authorization": f"Bearer {vendor['token']}"})
                latencies.append(time.perf_counter() - started)
                check(r, 201)
                accepted += 1

        started = time.perf_counter()
        await asyncio.gather(*(one(i, v) for i, v in enumerate(vendors)))
        wall = time.perf_counter() - started
    return latencies, wall, accepted


async def list_bids(base_url: str, bureau: harness.Account, tender_id: str, page_size: int, passes: int,
                    concurrency: int) -> tuple[list[float], float, list[int]]:
    """`passes` complete page-throughs of the bid list, `concurrency` at a time."""
    latencies: list[float] = []
    totals: list[int] = []
    gate = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(base_url=base_url, timeout=60, headers=bureau.headers) as client:

        async def one_pass() -> None:
            async with gate:
                cursor, seen = None, 0
                while True:
                    params = {"limit": page_size, **({"cursor": cursor} if cursor else {})}
                    started = time.perf_counter()
                    page = check(await client.get(f"{API}/tenders/{tender_id}/bids", params=params))
                    latencies.append(time.perf_counter() - started)
                    seen += len(page["items"])
                    cursor = page["next_cursor"]
                    if not cursor:
                        break
                totals.append(seen)

        started = time.perf_counter()
        await asyncio.gather(*(one_pass() for _ in range(passes)))
        wall = time.perf_counter() - started
    return latencies, wall, totals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vendors", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--passes", type=int, default=20, help="complete page-throughs of the bid list")
    parser.add_argument("--list-concurrency", type=int, default=10)
    args = parser.parse_args()

    server_dsn = db.resolve_dsn(get_settings())
    name = f"govbuy_bench_{secrets.token_hex(4)}"
    dsn = db.with_database(server_dsn, name)
    asyncio.run(db.ensure_database(dsn))
    print(f"database {name} on {server_dsn.split('@')[-1].split('/')[0] or 'the embedded server'}")
    try:
        with tempfile.TemporaryDirectory(prefix="govbuy-bench-") as folder:
            server = harness.start_server(Path(folder), database_url=dsn)
            try:
                admin, bureau, tender = set_up_tender(server)
                vendors = asyncio.run(make_vendors(dsn, args.vendors))
                print(f"tender {tender['id']} published; {len(vendors)} vendors ready")

                submit, submit_wall, accepted = asyncio.run(
                    submit_bids(server.base_url, tender["id"], vendors, args.concurrency)
                )

                with server.client() as client:
                    deadline = datetime.fromisoformat(tender["bid_deadline"])
                    now = datetime.fromisoformat(check(client.get(f"{API}/sandbox/clock", headers=admin.headers))["now"])
                    check(client.post(f"{API}/sandbox/clock", headers=admin.headers,
                                      json={"advance_seconds": int((deadline - now).total_seconds()) + 5}))
                    started = time.perf_counter()
                    opened = check(client.get(f"{API}/tenders/{tender['id']}", headers=bureau.headers))
                    opening = time.perf_counter() - started
                assert opened["status"] == "evaluating", opened["status"]

                listing, list_wall, totals = asyncio.run(
                    list_bids(server.base_url, bureau, tender["id"], args.page_size, args.passes, args.list_concurrency)
                )
                assert set(totals) == {accepted}, totals
            finally:
                server.stop()
    finally:
        asyncio.run(db.drop_database(db.with_database(server_dsn, name)))

    print()
    print(f"{accepted} bids accepted of {len(vendors)}, {args.concurrency} in flight at a time")
    print(report("submit bid", submit, submit_wall))
    print(f"{'opening (first read)':<22} 1 request: {opening * 1000:.0f} ms for {accepted} bids (eligibility re-checked)")
    print(report(f"list bids (page {args.page_size})", listing, list_wall))
    print(f"  {args.passes} page-throughs of {accepted} bids, {args.list_concurrency} at a time")


if __name__ == "__main__":
    main()
