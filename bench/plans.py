"""Every list the API serves, on seeded databases of different sizes: the time of its queries,
how that time grows with the data, and the plan PostgreSQL chose for each.

Each list is called through its own service function (as the endpoint calls it), with
`bench.floor.capture` recording the statements it runs. Then, per database:
- `service ms`: the median time of the whole service call (queries, rules, schemas), over
  `--runs` calls;
- `sql ms`: the median time of its statements alone, run as prepared statements on one
  connection (as asyncpg runs them in production: after five runs PostgreSQL may switch to a
  generic plan, and this measures whatever it switched to);
- the plan: `EXPLAIN (ANALYZE, BUFFERS)` with the call's arguments, and `EXPLAIN (GENERIC_PLAN)`,
  each checked for sequential scans.

    python -m bench.plans --database-url postgresql://…/seed10k --database-url …/seed100k \\
        --database-url …/seed1m --markdown /tmp/plans.md

Top layer (STYLE habit 14): reads any domain's tables directly, set-based.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

from bench.floor import _decode, capture


@dataclass
class Context:
    actors: dict[str, Any]
    ids: dict[str, Any]


Case = Callable[[Context], Awaitable[Any]]


def _cases() -> dict[str, Case]:
    from govbuy import service as kernel
    from govbuy.public import service as public
    from planning import service as planning
    from procurement import service as procurement
    from vendors import service as vendors

    none = dict(region=None, bureau_id=None, category=None, status=None, q=None, published_from=None, published_to=None,
                deadline_from=None, deadline_to=None, limit=None, cursor=None)

    async def public_page2(c: Context) -> Any:
        first = await public.list_tenders(**none)
        return await public.list_tenders(**{**none, "cursor": first.next_cursor})

    cases: dict[str, Case] = {
        "public tenders": lambda c: public.list_tenders(**none),
        "public tenders, page 2": public_page2,
        "public tenders ?status=awarded": lambda c: public.list_tenders(**{**none, "status": "awarded"}),
        "public tenders ?category=A01": lambda c: public.list_tenders(**{**none, "category": "A01"}),
        "public tenders ?region=4403": lambda c: public.list_tenders(**{**none, "region": "4403"}),
        "public tenders ?bureau_id=": lambda c: public.list_tenders(**{**none, "bureau_id": c.ids["bureau"]}),
        "public tenders ?q=养老": lambda c: public.list_tenders(**{**none, "q": "养老"}),
        "public tenders ?q=(no match)": lambda c: public.list_tenders(**{**none, "q": "量子计算"}),
        "public contracts": lambda c: public.list_contracts(bureau_id=None, vendor_id=None, status=None, tender_id=None, limit=None, cursor=None),
        "public contracts ?vendor_id=": lambda c: public.list_contracts(bureau_id=None, vendor_id=c.ids["vendor"], status=None, tender_id=None, limit=None, cursor=None),
        "OCDS releases": lambda c: public.release_package(since=0, limit=100, uri="-", next_uri="-{since}{limit}"),
        "tenders (bureau)": lambda c: procurement.list_tenders(c.actors["bureau"], status=None, method=None, bureau_id=None, catalogue_item_id=None, deadline_from=None, deadline_to=None, limit=None, cursor=None),
        "tenders (vendor)": lambda c: procurement.list_tenders(c.actors["vendor"], status=None, method=None, bureau_id=None, catalogue_item_id=None, deadline_from=None, deadline_to=None, limit=None, cursor=None),
        "tenders (admin) ?status=evaluating": lambda c: procurement.list_tenders(c.actors["admin"], status="evaluating", method=None, bureau_id=None, catalogue_item_id=None, deadline_from=None, deadline_to=None, limit=None, cursor=None),
        "tenders (expert)": lambda c: procurement.list_tenders(c.actors["expert"], status=None, method=None, bureau_id=None, catalogue_item_id=None, deadline_from=None, deadline_to=None, limit=None, cursor=None),
        "bids of a tender (bureau)": lambda c: procurement.list_bids(c.actors["bureau"], c.ids["tender"], None, None, None),
        "catalogues": lambda c: planning.list_catalogues(c.actors["admin"], None, None, None, None, None),
        "catalogue items": lambda c: planning.list_catalogue_items(c.actors["admin"], c.ids["catalogue"], None, None, None, None),
        "budget lines (bureau)": lambda c: planning.list_budget_lines(c.actors["bureau"], None, None, None, None),
        "vendors": lambda c: vendors.list_vendors(None, None),
        "assessment grades of a vendor": lambda c: vendors.list_assessment_grades(c.ids["vendor"], None, None),
        "credit-list entries of a vendor": lambda c: vendors.list_credit_list_entries(c.ids["vendor"], None, None),
        "organisations ?kind=vendor": lambda c: kernel.list_organisations("vendor", None, None),
        "users": lambda c: kernel.list_users(None, None, None),
        "audit events": lambda c: kernel.list_audit_events(None, None, None, None, None),
    }
    for module_name, extra in (("contracts.service", _contract_cases), ("evaluation.service", _evaluation_cases)):
        try:
            module = __import__(module_name, fromlist=["x"])
        except ModuleNotFoundError:
            continue
        cases.update(extra(module))
    return cases


def _contract_cases(contracts: Any) -> dict[str, Case]:
    cases: dict[str, Case] = {}
    if hasattr(contracts, "list_contracts"):
        cases["contracts (bureau)"] = lambda c: contracts.list_contracts(c.actors["bureau"], None, None, None, None)
        cases["contracts (vendor)"] = lambda c: contracts.list_contracts(c.actors["vendor"], None, None, None, None)
    return cases


def _evaluation_cases(evaluation: Any) -> dict[str, Case]:
    cases: dict[str, Case] = {}
    if hasattr(evaluation, "list_evaluations"):
        cases["evaluations (evaluator)"] = lambda c: evaluation.list_evaluations(c.actors["evaluator"], None, None, None, None, None)
        cases["evaluations (bureau) ?status=accepted"] = lambda c: evaluation.list_evaluations(c.actors["bureau"], None, None, "accepted", None, None)
    return cases


async def _context() -> Context:
    from govbuy import auth
    from govbuy import database as db

    actors = {}
    # A vendor that bids (the seed keeps its first vendors free of bids, for bench.perf).
    bidder = await db.fetchval(
        """SELECT u.username FROM users u WHERE u.role = 'vendor'
             AND EXISTS (SELECT 1 FROM bids b WHERE b.vendor_id = u.organisation_id) ORDER BY u.username LIMIT 1"""
    )
    for key, username in (("admin", "seed-admin"), ("bureau", "bureau-001"), ("vendor", bidder),
                          ("expert", "expert-001"), ("evaluator", "evaluator-01"), ("supervisor", "seed-supervisor")):
        user_id = await db.fetchval("SELECT id FROM users WHERE username = $1", username)
        if user_id is None:
            raise SystemExit(f"no user {username}: run this on a database made by `govbuy seed`")
        actors[key] = await auth.load_actor(user_id)
    bureau = actors["bureau"].organisation_id
    ids = {
        "bureau": bureau,
        "vendor": actors["vendor"].organisation_id,
        "tender": await db.fetchval(
            "SELECT id FROM tenders WHERE bureau_id = $1 AND status = 'contracted' ORDER BY created_at DESC LIMIT 1", bureau
        ),
        "catalogue": await db.fetchval("SELECT id FROM catalogues WHERE status = 'published' ORDER BY created_at DESC LIMIT 1"),
    }
    return Context(actors, ids)


_NOISE = re.compile(r"^\s*(Buffers|Index Searches|Cache Mode|Hits|Storage|Full-sort Groups|Sort Method|Heap Blocks|Planning|Memory Usage|Worker)")


def _compact(lines: Any) -> str:
    return "\n".join(line for line in lines if not _NOISE.match(line))


def _total_cost(explained: Any) -> float | None:
    if explained is None:
        return None
    data = json.loads(explained) if isinstance(explained, str) else explained
    return float(data[0]["Plan"]["Total Cost"])


def _literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, (list, tuple)):
        return "ARRAY[" + ", ".join(_literal(v) for v in value) + "]"
    return "'" + str(value.isoformat() if hasattr(value, "isoformat") else value).replace("'", "''") + "'"


@dataclass
class Measured:
    service_ms: float
    sql_ms: float
    statements: list[dict[str, Any]]
    plans: list[str] = field(default_factory=list)
    generic_plans: list[str] = field(default_factory=list)
    table_rows: dict[str, int] = field(default_factory=dict)
    costs: list[tuple[float | None, float | None]] = field(default_factory=list)  # (custom, generic) estimates

    @property
    def seq_scans(self) -> list[str]:
        """Tables the executed (custom) plans scan sequentially."""
        return sorted({t for plan in self.plans for t in re.findall(r"Seq Scan on (\w+)", plan)})

    @property
    def generic_seq_scans(self) -> list[str]:
        return sorted({t for plan in self.generic_plans for t in re.findall(r"Seq Scan on (\w+)", plan)})

    def sized(self, tables: list[str]) -> str:
        """Tables with their size: on a table of a few rows a sequential scan is the right plan."""
        return ", ".join(f"{t} ({max(0, self.table_rows.get(t, 0)):,} rows)" for t in tables) or "none"


async def measure(case: Case, ctx: Context, runs: int, dsn: str) -> Measured:
    import asyncpg

    statements = await capture(lambda: case(ctx))
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        await case(ctx)
        timings.append((time.perf_counter() - started) * 1000)
    conn = await asyncpg.connect(dsn)
    try:
        prepared = [(await conn.prepare(s["sql"]), [_decode(a, None) for a in s["args"]]) for s in statements]
        sql_timings = []
        for _ in range(runs):
            started = time.perf_counter()
            for stmt, args in prepared:
                await stmt.fetch(*args)
            sql_timings.append((time.perf_counter() - started) * 1000)
        plans, generic, costs = [], [], []
        for s in statements:
            args = [_decode(a, None) for a in s["args"]]
            if not s["sql"].lstrip().upper().startswith(("SELECT", "WITH")):
                continue
            rows = await conn.fetch(f"EXPLAIN (ANALYZE, COSTS OFF) {s['sql']}", *args)
            plans.append(_compact(r[0] for r in rows))
            custom_cost = (await conn.fetchval(f"EXPLAIN (FORMAT JSON) {s['sql']}", *args))
            try:
                # The plan a prepared statement runs once PostgreSQL switches to a generic plan:
                # only explained, not run (a bad one can run for minutes: that is the finding).
                await conn.execute(f"PREPARE bench_generic AS {s['sql']}")
                await conn.execute("SET plan_cache_mode = force_generic_plan")
                literals = ", ".join(_literal(a) for a in args)
                rows = await conn.fetch(f"EXPLAIN (COSTS OFF) EXECUTE bench_generic({literals})")
                generic.append(_compact(r[0] for r in rows))
                generic_cost = await conn.fetchval(f"EXPLAIN (FORMAT JSON) EXECUTE bench_generic({literals})")
            except asyncpg.PostgresError as exc:
                generic.append(f"(no generic plan: {exc})")
                generic_cost = None
            finally:
                await conn.execute("RESET plan_cache_mode; DEALLOCATE bench_generic")
            costs.append((_total_cost(custom_cost), _total_cost(generic_cost)))
        sizes = {
            r["relname"]: int(r["reltuples"])
            for r in await conn.fetch("SELECT relname, reltuples FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace")
        }
    finally:
        await conn.close()
    return Measured(statistics.median(timings), statistics.median(sql_timings), statements, plans, generic, sizes, costs)


async def run_database(dsn: str, runs: int, only: set[str] | None) -> tuple[int, dict[str, Measured]]:
    import os

    os.environ.pop("GOVBUY_SANDBOX", None)
    from govbuy import database as db
    from govbuy.settings import get_settings

    get_settings.cache_clear()
    db.configure(dsn)
    await db.start_pool(1, 4)
    try:
        tenders = await db.fetchval("SELECT count(*) FROM tenders")
        ctx = await _context()
        results = {}
        for name, case in _cases().items():
            if only and name not in only:
                continue
            results[name] = await measure(case, ctx, runs, dsn)
            m = results[name]
            print(f"  {tenders:>9,} tenders  {name:<36} service {m.service_ms:7.2f} ms  sql {m.sql_ms:7.2f} ms"
                  f"  {'SEQ SCAN: ' + ', '.join(m.seq_scans) if m.seq_scans else ''}", flush=True)
    finally:
        await db.close_pool()
    return tenders, results


def markdown(by_size: list[tuple[int, dict[str, Measured]]]) -> str:
    sizes = [n for n, _ in by_size]
    names = list(by_size[-1][1])
    out = ["| list | " + " | ".join(f"{n:,} tenders: service / sql ms" for n in sizes)
           + " | sql growth, largest ÷ smallest | sequential scans (executed plans, largest database) |",
           "|---|" + "---:|" * len(sizes) + "---:|---|"]
    for name in names:
        cells = []
        for _, results in by_size:
            m = results.get(name)
            cells.append(f"{m.service_ms:.1f} / {m.sql_ms:.2f}" if m else "—")
        first, last = by_size[0][1].get(name), by_size[-1][1][name]
        growth = f"{last.sql_ms / first.sql_ms:.1f}×" if first and first.sql_ms else "—"
        out.append(f"| {name} | " + " | ".join(cells) + f" | {growth} | {last.sized(last.seq_scans)} |")
    out.append("")
    largest, results = by_size[-1]
    out.append(f"### Plans on the {largest:,}-tender database\n")
    out.append("Each statement a list runs, its plan as executed with the call's arguments "
               "(`EXPLAIN ANALYZE`, costs and buffer lines left out), and the cost PostgreSQL estimates for it "
               "against the cost of the generic plan a prepared statement could switch to (it switches only when "
               "the generic plan is estimated no dearer).")
    for name, m in results.items():
        out.append(f"\n#### {name}\n")
        selects = [s for s in m.statements if s["sql"].lstrip().upper().startswith(("SELECT", "WITH"))]
        for s, plan, generic, (custom_cost, generic_cost) in zip(selects, m.plans, m.generic_plans, m.costs):
            sql = " ".join(s["sql"].split())
            out.append(f"```sql\n{sql[:400]}{' …' if len(sql) > 400 else ''}\n```\n```\n{plan}\n```")
            scans = re.findall(r"Seq Scan on (\w+)", generic)
            note = f"; it would scan {m.sized(sorted(set(scans)))} sequentially" if scans else ""
            if custom_cost is not None and generic_cost is not None:
                out.append(f"Estimated cost {custom_cost:,.0f}; generic plan {generic_cost:,.0f}{note}.")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", action="append", required=True, help="seeded databases, smallest first")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--only", action="append", help="only these lists (by name)")
    parser.add_argument("--markdown", help="write the growth table and the plans to this file")
    parser.add_argument("--json", help="write the timings to this file")
    args = parser.parse_args()
    by_size = []
    for dsn in args.database_url:
        by_size.append(asyncio.run(run_database(dsn, args.runs, set(args.only) if args.only else None)))
    text = markdown(by_size)
    if args.markdown:
        Path(args.markdown).write_text(text)
    else:
        print(text)
    if args.json:
        Path(args.json).write_text(json.dumps(
            {str(n): {k: {"service_ms": m.service_ms, "sql_ms": m.sql_ms, "seq_scans": m.seq_scans} for k, m in r.items()}
             for n, r in by_size}, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
