"""`govbuy seed`: synthetic data at scale, for benchmarks and capacity planning.

Loaded set-based: organisations and users with COPY (asyncpg `copy_records_to_table`), the rest
with `INSERT … SELECT` over `generate_series`, in chunks that two connections run side by side.
Every row is valid against the schema's constraints, which stay on during the load (CHECKs,
foreign keys, unique keys, the bid-ceiling trigger); only plain secondary indexes (not unique,
backing no constraint) are dropped before the load and built again after it, then ANALYZE.

Synthetic rows are not state changes made through the service: the seed writes no audit event
and no OCDS release for them, sets up no panels or score sheets, and computes no credit rating
(`govbuy recompute-ratings` does, from the seeded grades, lists and evaluations).

The synthetic universe (every id is md5 of a name, so runs are reproducible):
- 50 districts, each with a finance bureau and a civil-affairs bureau; a published guidance
  catalogue per district and year; five budget lines per bureau and year;
- vendors (social organisations 51/52/53 with valid USCCs), half with an assessment grade, 1 %
  with a credit-list entry; the first ones (`vendor-000001` …) never bid, for the benchmarks;
- tenders over the last 4½ years: recent ones published (deadline ahead) or draft, older ones
  evaluating, awarded, contracted, failed or cancelled; bids, award notices with their ranking;
- contracts of the contracted tenders with their milestones; accepted third-party evaluations
  of past milestones (the number asked for) and payments of most of them.
Every synthetic user has the password SEED_PASSWORD (printed at the end).

Top layer (STYLE habit 14): reads any domain's tables directly, set-based, and writes them
directly too, bypassing the services on purpose (data for benchmarks, not a process).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from govbuy.demo.catalogue import CATALOGUE

SEED_PASSWORD = "seed-password-not-secret"
CHUNK = 50_000
PARALLEL = 2
YEARS = 4.5
BENCH_VENDORS_MAX = 1000  # vendors kept free of bids, for benchmarks that submit bids

# District (行政区划代码, name, city): two bureaus each.
DISTRICTS: tuple[tuple[str, str, str], ...] = (
    ("440304", "福田区", "深圳市"), ("440303", "罗湖区", "深圳市"), ("440305", "南山区", "深圳市"),
    ("440306", "宝安区", "深圳市"), ("440307", "龙岗区", "深圳市"), ("440308", "盐田区", "深圳市"),
    ("440309", "龙华区", "深圳市"), ("440310", "坪山区", "深圳市"), ("440311", "光明区", "深圳市"),
    ("440103", "荔湾区", "广州市"), ("440104", "越秀区", "广州市"), ("440105", "海珠区", "广州市"),
    ("440106", "天河区", "广州市"), ("440111", "白云区", "广州市"), ("440112", "黄埔区", "广州市"),
    ("440113", "番禺区", "广州市"), ("310101", "黄浦区", "上海市"), ("310104", "徐汇区", "上海市"),
    ("310105", "长宁区", "上海市"), ("310106", "静安区", "上海市"), ("310107", "普陀区", "上海市"),
    ("310109", "虹口区", "上海市"), ("310110", "杨浦区", "上海市"), ("310112", "闵行区", "上海市"),
    ("310115", "浦东新区", "上海市"), ("110101", "东城区", "北京市"), ("110102", "西城区", "北京市"),
    ("110105", "朝阳区", "北京市"), ("110106", "丰台区", "北京市"), ("110108", "海淀区", "北京市"),
    ("330102", "上城区", "杭州市"), ("330105", "拱墅区", "杭州市"), ("330106", "西湖区", "杭州市"),
    ("330108", "滨江区", "杭州市"), ("510104", "锦江区", "成都市"), ("510105", "青羊区", "成都市"),
    ("510106", "金牛区", "成都市"), ("510107", "武侯区", "成都市"), ("510108", "成华区", "成都市"),
    ("420102", "江岸区", "武汉市"), ("420106", "武昌区", "武汉市"), ("320102", "玄武区", "南京市"),
    ("320105", "建邺区", "南京市"), ("320106", "鼓楼区", "南京市"), ("500103", "渝中区", "重庆市"),
    ("500105", "江北区", "重庆市"), ("610102", "新城区", "西安市"), ("610103", "碑林区", "西安市"),
    ("370102", "历下区", "济南市"), ("350203", "思明区", "厦门市"),
)
BUREAU_KINDS = ("财政局", "民政局")
EVALUATORS = 50
EXPERTS = 100
LINES_PER_BUREAU_YEAR = 5

# Words for vendor names: {district}{brand}{service}{form}.
_BRANDS = "启航 乐龄 康宁 阳光 春晖 同心 晨曦 和谐 彩虹 明德 悦享 益民 善水 德馨 新航 友善 安康 仁爱 博爱 慧心 长青 暖阳 恒善 众安 心桥 绿洲 馨园 福安 瑞祥 惠民".split()
_SERVICES = {
    "51": "长者服务 社会工作者 助残 志愿者 家庭教育 社区发展 禁毒 心理咨询 慈善 青少年发展".split(),
    "52": "社会工作服务 居家养老服务 残疾人康复 社区服务 长者照护 儿童发展 家庭服务 助残服务 社区矫正服务 心理咨询服务".split(),
    "53": "关爱老人 助残公益 儿童成长 社区发展 慈善公益 扶贫济困 教育发展 公益事业 乡村振兴 健康促进".split(),
}
_FORMS = {"51": "协会", "52": "中心", "53": "基金会"}

# Milestone plans by contract term (even percentages, so the last share is the remainder).
MILESTONE_PLANS: tuple[tuple[int, tuple[tuple[str, int, int], ...]], ...] = (
    (12, (("第一季度服务", 25, 90), ("第二季度服务", 25, 181), ("第三季度服务", 25, 273), ("第四季度服务", 25, 364))),
    (6, (("上半期服务", 50, 90), ("下半期服务", 50, 180))),
)


@dataclass
class SeedCounts:
    rows: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def add(self, step: str, rows: int, seconds: float) -> None:
        self.rows[step] = self.rows.get(step, 0) + rows
        self.seconds[step] = self.seconds.get(step, 0.0) + seconds


class SeedRefused(Exception):
    """The database is not one the seed may fill."""


def _h(expr: str, salt: int) -> str:
    """A non-negative pseudo-random int from an integer SQL expression (stable across runs)."""
    return f"(hashint8(({expr})::bigint * 1000003 + {salt}) & 2147483647)"


def _level3() -> list[tuple[str, str]]:
    return [(code, name) for code, name, _ in CATALOGUE if len(code) == 5]


def _uscc(prefix: str, region: str, number: int) -> str:
    """A valid, unique USCC: the number in base 31 as the 9-character organisation code."""
    from govbuy.uscc import USCC_ALPHABET, make_uscc

    digits = []
    for _ in range(9):
        number, r = divmod(number, len(USCC_ALPHABET))
        digits.append(USCC_ALPHABET[r])
    return make_uscc(prefix + region + "".join(reversed(digits)))


@dataclass(frozen=True)
class Plan:
    vendors: int
    tenders: int
    bids: int
    evaluations: int
    now: datetime
    start: datetime

    @property
    def bench_vendors(self) -> int:
        return min(BENCH_VENDORS_MAX, self.vendors // 10)

    @property
    def bidding_vendors(self) -> int:
        return self.vendors - self.bench_vendors

    @property
    def years(self) -> range:
        return range(self.start.year, self.now.year + 1)


# --- the load ----------------------------------------------------------------------------------

LOADED_TABLES = (
    "organisations", "users", "assessment_grades", "credit_list_entries", "catalogues", "catalogue_items",
    "budget_lines", "tenders", "tender_invitations", "bids", "tender_awards", "contracts", "milestones",
    "evaluations", "payments",
)


class Loader:
    def __init__(self, dsn: str, plan: Plan, progress: Any, counts: SeedCounts) -> None:
        self.dsn = dsn
        self.plan = plan
        self.progress = progress
        self.counts = counts
        self.pool: Any = None

    async def __aenter__(self) -> Loader:
        import asyncpg

        async def init(conn: Any) -> None:
            await conn.execute(
                "SET synchronous_commit = off; SET work_mem = '256MB'; SET maintenance_work_mem = '1GB';"
                " SET statement_timeout = 0; SET timezone = 'UTC'; SET jit = off"
            )

        self.pool = await asyncpg.create_pool(self.dsn, min_size=PARALLEL, max_size=PARALLEL, init=init)
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.pool.close()

    async def execute(self, sql: str, *args: Any) -> int:
        """Run one statement; the number of rows it wrote."""
        async with self.pool.acquire() as conn:
            status = await conn.execute(sql, *args)
        last = status.split()[-1]
        return int(last) if last.isdigit() else 0

    async def run(self, step: str, sql: str, *args: Any) -> int:
        started = time.perf_counter()
        rows = await self.execute(sql, *args)
        self.counts.add(step, rows, time.perf_counter() - started)
        return rows

    async def chunked(self, step: str, sql: str, total: int, *args: Any, lo: int = 1, chunk: int = CHUNK) -> int:
        """Run `sql` ($1 = first, $2 = last number of the chunk) over lo … lo + total − 1,
        PARALLEL chunks at a time, advancing the progress bar by rows written."""
        task = self.progress.add_task(step, total=total)
        started = time.perf_counter()
        written = 0
        queue = [(a, min(a + chunk - 1, lo + total - 1)) for a in range(lo, lo + total, chunk)]

        async def worker() -> None:
            nonlocal written
            while queue:
                a, b = queue.pop(0)
                async with self.pool.acquire() as conn:
                    status = await conn.execute(sql, a, b, *args)
                rows = int(status.split()[-1])
                written += rows
                self.progress.update(task, advance=b - a + 1, description=f"{step} ({written:,} rows)")

        await asyncio.gather(*(worker() for _ in range(PARALLEL)))
        self.counts.add(step, written, time.perf_counter() - started)
        return written

    async def step(self, step: str, work: Callable[[], Awaitable[int]]) -> int:
        task = self.progress.add_task(step, total=None)
        started = time.perf_counter()
        rows = await work()
        self.counts.add(step, rows, time.perf_counter() - started)
        self.progress.update(task, total=1, completed=1, description=f"{step} ({rows:,} rows)")
        return rows

    async def fetchval(self, sql: str, *args: Any) -> Any:
        async with self.pool.acquire() as conn:
            return await conn.fetchval(sql, *args)

    async def fetch(self, sql: str, *args: Any) -> list[Any]:
        async with self.pool.acquire() as conn:
            return await conn.fetch(sql, *args)

    async def copy(self, step: str, table: str, columns: Sequence[str], records: list[tuple[Any, ...]]) -> int:
        task = self.progress.add_task(step, total=len(records))
        started = time.perf_counter()
        for a in range(0, len(records), CHUNK):
            part = records[a : a + CHUNK]
            async with self.pool.acquire() as conn:
                await conn.copy_records_to_table(table, records=part, columns=list(columns))
            self.progress.update(task, advance=len(part), description=f"{step} ({a + len(part):,} rows)")
        self.counts.add(step, len(records), time.perf_counter() - started)
        return len(records)


async def _secondary_indexes(loader: Loader) -> list[tuple[str, str]]:
    """(name, definition) of the loaded tables' plain secondary indexes: not unique, not a
    primary key, backing no constraint."""
    rows = await loader.fetch(
        """SELECT c.relname AS name, pg_get_indexdef(i.indexrelid) AS definition
           FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid
           JOIN pg_namespace n ON n.oid = t.relnamespace
           WHERE n.nspname = 'public' AND t.relname = ANY($1::text[]) AND NOT i.indisunique AND NOT i.indisprimary
             AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
           ORDER BY t.relname, c.relname""",
        [t for t in LOADED_TABLES if t not in ("organisations", "users")],
    )
    return [(r["name"], r["definition"]) for r in rows]


async def _rebuild_indexes(loader: Loader, indexes: list[tuple[str, str]]) -> None:
    task = loader.progress.add_task("secondary indexes", total=len(indexes))
    started = time.perf_counter()
    queue = list(indexes)

    async def worker() -> None:
        while queue:
            _, definition = queue.pop(0)
            async with loader.pool.acquire() as conn:
                await conn.execute(definition)
            loader.progress.update(task, advance=1)

    await asyncio.gather(*(worker() for _ in range(PARALLEL)))
    loader.counts.add("secondary indexes", len(indexes), time.perf_counter() - started)


# --- the steps ---------------------------------------------------------------------------------


async def _people(loader: Loader, password_hash: str) -> None:
    plan = loader.plan
    created = plan.start - timedelta(days=30)
    orgs: list[tuple[Any, ...]] = [
        (UUID(_md5("org:platform")), "govbuy 平台运营方（合成数据）", "platform", None, None, created),
        (UUID(_md5("org:experts")), "评审专家库（合成数据）", "platform", None, None, created),
        (UUID(_md5("org:supervisor")), "审计局（合成数据）", "supervisor", _uscc("11", "110000", 1), "110000", created),
    ]
    for b in range(len(DISTRICTS) * 2):
        code, district, city = DISTRICTS[b // 2]
        orgs.append((UUID(_md5(f"bureau:{b}")), f"{city}{district}{BUREAU_KINDS[b % 2]}", "bureau", _uscc("11", code, 10 + b), code, created))
    for e in range(1, EVALUATORS + 1):
        code, district, city = DISTRICTS[e % len(DISTRICTS)]
        name = f"{city}{_BRANDS[e % len(_BRANDS)]}{'绩效评价研究院' if e % 2 else '第三方评估咨询有限公司'}{e:02d}"
        orgs.append((UUID(_md5(f"evaluator:{e}")), name, "evaluator", _uscc("52" if e % 2 else "91", code, 1000 + e), code, created))
    for v in range(1, plan.vendors + 1):
        prefix = ("52", "52", "52", "51", "53")[v % 5]
        code, district, city = DISTRICTS[v % len(DISTRICTS)]
        services = _SERVICES[prefix]
        name = f"{city}{district}{_BRANDS[(v // 7) % len(_BRANDS)]}{services[(v // 3) % len(services)]}{_FORMS[prefix]}"
        orgs.append((UUID(_md5(f"vendor:{v}")), name, "vendor", _uscc(prefix, code, 100_000 + v), code, created))
    await loader.copy("organisations", "organisations", ("id", "name", "kind", "uscc", "region_code", "created_at"), orgs)

    users: list[tuple[Any, ...]] = [
        (UUID(_md5("user:admin")), "seed-admin", password_hash, UUID(_md5("org:platform")), "admin", created),
        (UUID(_md5("user:supervisor")), "seed-supervisor", password_hash, UUID(_md5("org:supervisor")), "supervisor", created),
    ]
    users += [
        (UUID(_md5(f"user:bureau:{b}")), f"bureau-{b + 1:03d}", password_hash, UUID(_md5(f"bureau:{b}")), "bureau", created)
        for b in range(len(DISTRICTS) * 2)
    ]
    users += [
        (UUID(_md5(f"user:evaluator:{e}")), f"evaluator-{e:02d}", password_hash, UUID(_md5(f"evaluator:{e}")), "evaluator", created)
        for e in range(1, EVALUATORS + 1)
    ]
    users += [
        (UUID(_md5(f"user:expert:{x}")), f"expert-{x:03d}", password_hash, UUID(_md5("org:experts")), "expert", created)
        for x in range(1, EXPERTS + 1)
    ]
    users += [
        (UUID(_md5(f"user:vendor:{v}")), f"vendor-{v:06d}", password_hash, UUID(_md5(f"vendor:{v}")), "vendor", created)
        for v in range(1, plan.vendors + 1)
    ]
    await loader.copy(
        "users", "users", ("id", "username", "password_hash", "organisation_id", "role", "created_at"), users
    )


def _md5(text: str) -> str:
    import hashlib

    return hashlib.md5(text.encode()).hexdigest()


async def _registry(loader: Loader) -> None:
    """Assessment grades for half of the vendors; credit-list entries for 1 % (never for the
    vendors kept for the benchmarks), most of them removed since."""
    plan = loader.plan
    await loader.chunked(
        "assessment grades",
        f"""INSERT INTO assessment_grades (id, vendor_id, grade, awarded_on, note, recorded_by, recorded_at)
            SELECT md5('grade:' || v)::uuid, md5('vendor:' || v)::uuid, 1 + {_h('v', 11)} % 5,
                   ($3::timestamptz - make_interval(days => {_h('v', 12)} % 2000))::date, '合成数据',
                   md5('user:admin')::uuid, $3::timestamptz - make_interval(days => {_h('v', 12)} % 2000)
            FROM generate_series($1::int, $2::int) v WHERE {_h('v', 10)} % 2 = 0""",
        plan.vendors,
        plan.now,
    )
    await loader.chunked(
        "credit-list entries",
        f"""INSERT INTO credit_list_entries (id, vendor_id, list, reason, listed_on, removed_on, removal_reason,
                                             recorded_by, recorded_at, removed_by, removal_recorded_at)
            SELECT md5('entry:' || v)::uuid, md5('vendor:' || v)::uuid,
                   (ARRAY['abnormal','serious_dishonesty','dishonest_judgment_debtor','major_tax_violation',
                          'procurement_blacklist'])[1 + {_h('v', 21)} % 5],
                   '合成数据：登记管理机关列入', x.listed,
                   CASE WHEN removed THEN x.listed + 180 END, CASE WHEN removed THEN '合成数据：已移出' END,
                   md5('user:admin')::uuid, x.listed::timestamptz,
                   CASE WHEN removed THEN md5('user:admin')::uuid END, CASE WHEN removed THEN (x.listed + 180)::timestamptz END
            FROM generate_series($1::int, $2::int) v
            CROSS JOIN LATERAL (SELECT ($3::timestamptz - make_interval(days => 200 + {_h('v', 22)} % 1200))::date AS listed,
                                       {_h('v', 23)} % 10 < 6 AS removed) x
            WHERE v > $4 AND {_h('v', 20)} % 100 = 0""",
        plan.vendors,
        plan.now,
        plan.bench_vendors,
    )


async def _catalogues_and_lines(loader: Loader) -> None:
    plan = loader.plan
    years = list(plan.years)
    regions = [d[0] for d in DISTRICTS]
    codes = [c for c, _, _ in CATALOGUE]
    names = [n for _, n, _ in CATALOGUE]
    descriptions = [d for _, _, d in CATALOGUE]

    async def catalogues() -> int:
        rows = await loader.execute(
            """INSERT INTO catalogues (id, region_code, year, version_no, title, status, created_by_org, created_at)
               SELECT md5('catalogue:' || r || ':' || y)::uuid, r, y, 1, y || '年政府购买服务指导性目录', 'draft',
                      md5('bureau:' || (ri - 1) * 2)::uuid, make_timestamptz(y - 1, 12, 1, 0, 0, 0, 'Asia/Shanghai')
               FROM unnest($1::text[]) WITH ORDINALITY AS d(r, ri), unnest($2::int[]) y""",
            regions,
            years,
        )
        rows += await loader.execute(
            """INSERT INTO catalogue_items (id, catalogue_id, code, level, parent_code, name, description, created_at)
               SELECT md5('item:' || r || ':' || y || ':' || i.code)::uuid, md5('catalogue:' || r || ':' || y)::uuid,
                      i.code, 1 + (length(i.code) - 1) / 2,
                      CASE WHEN length(i.code) > 1 THEN left(i.code, length(i.code) - 2) END, i.name, i.description,
                      make_timestamptz(y - 1, 12, 1, 0, 0, 0, 'Asia/Shanghai')
               FROM unnest($1::text[]) r, unnest($2::int[]) y,
                    unnest($3::text[], $4::text[], $5::text[]) AS i(code, name, description)""",
            regions,
            years,
            codes,
            names,
            descriptions,
        )
        await loader.execute(
            """UPDATE catalogues SET status = 'published', published_at = make_timestamptz(year - 1, 12, 15, 0, 0, 0, 'Asia/Shanghai'),
                      version = 2 WHERE status = 'draft' AND title LIKE '%指导性目录'""",
        )
        return rows

    async def lines() -> int:
        return await loader.execute(
            """INSERT INTO budget_lines (id, bureau_id, code, year, title, amount, created_at, updated_at)
               SELECT md5('line:' || b || ':' || y || ':' || c)::uuid, md5('bureau:' || b)::uuid,
                      (ARRAY['2081002','2081104','2082001','2080299','2010699'])[c + 1], y,
                      (ARRAY['老年福利','残疾人康复','临时救助','社会工作服务','预算绩效与监督'])[c + 1] || '——政府购买服务',
                      0, make_timestamptz(y - 1, 12, 20, 0, 0, 0, 'Asia/Shanghai'), make_timestamptz(y - 1, 12, 20, 0, 0, 0, 'Asia/Shanghai')
               FROM generate_series(0, $1::int - 1) b, unnest($2::int[]) y, generate_series(0, $3::int - 1) c""",
            len(DISTRICTS) * 2,
            years,
            LINES_PER_BUREAU_YEAR,
        )

    await loader.step("catalogues", catalogues)
    await loader.step("budget lines", lines)


# The plan of every tender, in an unlogged work table that the later steps read.
PLAN_TABLE = """
CREATE UNLOGGED TABLE seed_plan (
    n integer PRIMARY KEY,
    id uuid NOT NULL,
    bureau integer NOT NULL,
    region text NOT NULL,
    year integer NOT NULL,
    status text NOT NULL,
    method text NOT NULL,
    evaluation_method text NOT NULL,
    price_weight numeric(5,2),
    ceiling numeric(16,2) NOT NULL,
    months integer NOT NULL,
    milestone_plan integer NOT NULL,
    created_at timestamptz NOT NULL,
    published_at timestamptz,
    bid_deadline timestamptz NOT NULL,
    opened_at timestamptz,
    line_id uuid NOT NULL,
    item_code text NOT NULL,
    item_name text NOT NULL
)"""


def _plan_sql() -> str:
    # Status by age (days since creation) and a hash: recent tenders are drafts or published with
    # their deadline ahead; then evaluating and awarded; from 60 days on mostly contracted.
    return f"""
INSERT INTO seed_plan
SELECT n, md5('tender:' || n)::uuid, b, ($5::text[])[1 + b / 2], y, status, method,
       CASE WHEN method = 'inquiry' OR {_h('n', 4)} % 100 >= 85 THEN 'lowest_price' ELSE 'comprehensive' END,
       CASE WHEN method = 'inquiry' OR {_h('n', 4)} % 100 >= 85 THEN NULL ELSE 10 + {_h('n', 5)} % 21 END,
       (50 + {_h('n', 6)} % 2950) * 1000.00, months, CASE WHEN months = 12 THEN 0 ELSE 1 END,
       created_at, published_at, deadline,
       CASE WHEN status IN ('evaluating','awarded','contracted','failed') THEN deadline + interval '1 hour' END,
       md5('line:' || b || ':' || y || ':' || {_h('n', 8)} % {LINES_PER_BUREAU_YEAR})::uuid,
       ($6::text[])[1 + {_h('n', 9)} % cardinality($6::text[])], ($7::text[])[1 + {_h('n', 9)} % cardinality($6::text[])]
FROM (
    SELECT n, b, created_at, method, months, status,
           CASE WHEN status = 'draft' THEN NULL ELSE created_at + interval '2 hours' END AS published_at,
           created_at + interval '2 hours' + make_interval(days => CASE
               WHEN status IN ('draft','published','cancelled') THEN 45
               WHEN method IN ('public_tender','invited_tender') THEN 25
               WHEN method = 'competitive_consultation' THEN 12
               WHEN method = 'single_source' THEN 9 ELSE 7 END) AS deadline,
           extract(year FROM (created_at + interval '2 hours') AT TIME ZONE 'Asia/Shanghai')::int AS y
    FROM (
        SELECT n, b, created_at, method, months,
               CASE
                 WHEN age < 35 THEN CASE WHEN s < 40 THEN 'draft' WHEN s < 70 THEN 'cancelled' ELSE 'published' END
                 WHEN age < 60 THEN CASE WHEN s < 100 THEN 'failed' WHEN s < 150 THEN 'cancelled'
                                         WHEN s < 600 THEN 'evaluating' ELSE 'awarded' END
                 WHEN age < 120 THEN CASE WHEN s < 100 THEN 'failed' WHEN s < 150 THEN 'cancelled'
                                          WHEN s < 250 THEN 'evaluating' WHEN s < 400 THEN 'awarded' ELSE 'contracted' END
                 ELSE CASE WHEN s < 120 THEN 'failed' WHEN s < 170 THEN 'cancelled' ELSE 'contracted' END
               END AS status
        FROM (
            SELECT n, {_h('n', 1)} % $8::int AS b, c AS created_at,
                   extract(epoch FROM $4::timestamptz - c) / 86400 AS age, {_h('n', 2)} % 1000 AS s,
                   CASE WHEN m < 40 THEN 'public_tender' WHEN m < 65 THEN 'competitive_consultation'
                        WHEN m < 75 THEN 'competitive_negotiation' WHEN m < 85 THEN 'inquiry'
                        WHEN m < 90 THEN 'single_source' ELSE 'invited_tender' END AS method,
                   CASE WHEN {_h('n', 7)} % 4 = 0 THEN 6 ELSE 12 END AS months
            FROM (
                SELECT n, $9::timestamptz + make_interval(secs => (n - 1)::float8 / $3::float8 * $10::float8 + {_h('n', 3)} % 3600) AS c,
                       {_h('n', 13)} % 100 AS m
                FROM generate_series($1::int, $2::int) n
            ) g
        ) a
    ) s
) t"""


def _tenders_sql() -> str:
    return f"""
INSERT INTO tenders (id, bureau_id, title, description, catalogue_item_id, budget_line_id, method, ceiling_amount,
                     contract_months, recurring, evaluation_method, price_weight, criteria, milestones, bid_deadline,
                     status, reserved_amount, published_at, opened_at, failure_reason, cancel_reason, closed_at,
                     created_by, created_at, updated_at)
SELECT p.id, md5('bureau:' || p.bureau)::uuid,
       p.year || '年' || ($3::text[])[1 + p.bureau / 2] || p.item_name || '项目' ||
           CASE WHEN {_h('p.n', 30)} % 3 = 0 THEN '（第' || (1 + {_h('p.n', 31)} % 4) || '包）' ELSE '' END,
       '合成数据：面向辖区居民提供' || p.item_name || '，服务期 ' || p.months || ' 个月，按季度考核，' ||
           '服务对象满意度不低于 90%。承接主体须配备持证社会工作者，建立服务台账并接受第三方绩效评价。',
       md5('item:' || p.region || ':' || p.year || ':' || p.item_code)::uuid, p.line_id, p.method, p.ceiling,
       p.months, false, p.evaluation_method, p.price_weight,
       CASE WHEN p.evaluation_method = 'comprehensive' THEN jsonb_build_array(
           jsonb_build_object('name', '服务方案', 'weight', (round((100 - p.price_weight) * 0.6))::text),
           jsonb_build_object('name', '团队与经验', 'weight', (100 - p.price_weight - round((100 - p.price_weight) * 0.6))::text))
       ELSE '[]'::jsonb END,
       ($4::jsonb) -> p.milestone_plan, p.bid_deadline,
       CASE WHEN p.status IN ('awarded','contracted') THEN 'evaluating' ELSE p.status END,
       CASE WHEN p.status IN ('published','evaluating','awarded','contracted') THEN p.ceiling ELSE 0 END,
       p.published_at, p.opened_at,
       CASE WHEN p.status = 'failed' THEN 'insufficient_bids' END,
       CASE WHEN p.status = 'cancelled' THEN '合成数据：预算调整，终止采购' END,
       CASE WHEN p.status = 'failed' THEN p.opened_at WHEN p.status = 'cancelled' THEN p.published_at + interval '5 days' END,
       md5('user:bureau:' || p.bureau)::uuid, p.created_at,
       coalesce(p.opened_at, p.published_at, p.created_at)
FROM seed_plan p WHERE p.n BETWEEN $1 AND $2"""


def _bids_sql(plan: Plan) -> str:
    # Bids per tender: single source one; a failed tender fewer than it needs; the others
    # 3 … 2·a−3 (mean a, passed as $3). Distinct vendors per tender (stride 7919, prime).
    vendor = f"{plan.bench_vendors + 1} + ({_h('p.n', 40)}::bigint + k * 7919) % {plan.bidding_vendors}"
    return f"""
INSERT INTO bids (id, tender_id, vendor_id, submitted_by, price, proposal, status, first_submitted_at, submitted_at,
                  eligibility_at_submission, eligibility_at_opening, credit_grade_at_opening, seal_nonce, content_digest)
SELECT md5('bid:' || p.n || ':' || k)::uuid, p.id, md5('vendor:' || vv.v)::uuid, md5('user:vendor:' || vv.v)::uuid,
       x.price, x.proposal, CASE WHEN p.opened_at IS NULL THEN 'submitted' ELSE 'valid' END, x.at, x.at,
       jsonb_build_object('eligible', true, 'reasons', '[]'::jsonb, 'min_assessment_grade', NULL,
                          'min_credit_grade', NULL, 'rule_version', 2, 'checked_on', (x.at AT TIME ZONE 'Asia/Shanghai')::date),
       CASE WHEN p.opened_at IS NOT NULL THEN jsonb_build_object('eligible', true, 'reasons', '[]'::jsonb,
            'min_assessment_grade', NULL, 'min_credit_grade', NULL, 'credit_grade', NULL, 'rule_version', 2,
            'checked_on', (p.bid_deadline AT TIME ZONE 'Asia/Shanghai')::date) END,
       NULL, x.nonce,
       encode(sha256(convert_to(x.nonce || '|' || x.price::text || '|' || x.proposal, 'UTF8')), 'hex')
FROM seed_plan p
CROSS JOIN LATERAL generate_series(1, CASE
    WHEN p.status IN ('draft','cancelled') THEN 0
    WHEN p.method = 'single_source' THEN CASE WHEN p.status = 'failed' THEN 0 ELSE 1 END
    WHEN p.status = 'failed' THEN CASE WHEN p.method = 'competitive_consultation' THEN 1 ELSE 1 + {_h('p.n', 41)} % 2 END
    ELSE 3 + {_h('p.n', 42)} % greatest(1, 2 * $3::int - 5) END) k
CROSS JOIN LATERAL (SELECT {vendor} AS v) vv
CROSS JOIN LATERAL (
    SELECT round(p.ceiling * (0.80 + ({_h('p.n * 16 + k', 43)} % 1900) / 10000.0), 2) AS price,
           '合成数据：服务方案，组建 ' || (6 + {_h('p.n * 16 + k', 44)} % 18) || ' 人项目团队，其中持证社会工作者 ' ||
               (3 + {_h('p.n * 16 + k', 45)} % 6) || ' 名；按月报送服务台账，季度开展成效评估。' AS proposal,
           p.published_at + make_interval(secs => 3600 + {_h('p.n * 16 + k', 46)} % greatest(3600,
               (extract(epoch FROM p.bid_deadline - p.published_at) - 7200)::int)) AS at,
           md5('nonce:' || p.n || ':' || k) AS nonce
) x
WHERE p.n BETWEEN $1 AND $2"""


AWARDS_SQL = """
INSERT INTO tender_awards (id, tender_id, winning_bid_id, vendor_id, price, ranking, awarded_at, awarded_by,
                           standstill_until)
SELECT md5('award:' || r.n)::uuid, r.tender_id, max(r.bid_id::text) FILTER (WHERE r.rank = 1)::uuid,
       max(r.vendor_id::text) FILTER (WHERE r.rank = 1)::uuid, max(r.price) FILTER (WHERE r.rank = 1),
       jsonb_agg(jsonb_build_object('rank', r.rank, 'bid_id', r.bid_id, 'vendor_id', r.vendor_id,
                                    'vendor_name', r.vendor_name, 'price', r.price::text,
                                    'price_score', r.price_score::text, 'technical_score', r.technical_score::text,
                                    'total_score', r.total_score::text, 'credit_grade_at_opening', NULL,
                                    'submitted_at', r.submitted_at) ORDER BY r.rank),
       min(r.awarded_at), (array_agg(r.awarded_by))[1], min(r.awarded_at) + interval '9 days'
FROM (
    SELECT s.*, row_number() OVER (PARTITION BY s.tender_id ORDER BY s.total_score DESC NULLS LAST, s.price,
                                                                      s.submitted_at, s.bid_id) AS rank
    FROM (
        SELECT p.n, b.tender_id, b.id AS bid_id, b.vendor_id, o.name AS vendor_name, b.price, b.submitted_at,
               p.opened_at + interval '2 days' AS awarded_at, md5('user:bureau:' || p.bureau)::uuid AS awarded_by,
               CASE WHEN p.price_weight IS NOT NULL THEN round(min(b.price) OVER w / b.price * p.price_weight, 2) END
                   AS price_score,
               CASE WHEN p.price_weight IS NOT NULL THEN round((100 - p.price_weight)
                   * (0.55 + (hashtext(b.id::text) & 1023) / 2560.0), 2) END AS technical_score,
               CASE WHEN p.price_weight IS NOT NULL THEN
                   round(min(b.price) OVER w / b.price * p.price_weight, 2)
                   + round((100 - p.price_weight) * (0.55 + (hashtext(b.id::text) & 1023) / 2560.0), 2) END AS total_score
        FROM seed_plan p JOIN bids b ON b.tender_id = p.id JOIN organisations o ON o.id = b.vendor_id
        WHERE p.status IN ('awarded','contracted') AND b.status = 'valid'
        WINDOW w AS (PARTITION BY b.tender_id)
    ) s
) r
GROUP BY r.n, r.tender_id"""

AWARDED_TENDERS_SQL = """
UPDATE tenders t SET status = p.status, award_id = a.id,
       reserved_amount = CASE WHEN p.status = 'awarded' THEN t.ceiling_amount ELSE 0 END,
       closed_at = CASE WHEN p.status = 'contracted' THEN a.awarded_at + interval '12 days' END,
       updated_at = CASE WHEN p.status = 'contracted' THEN a.awarded_at + interval '12 days' ELSE a.awarded_at END,
       version = t.version + 2
FROM seed_plan p JOIN tender_awards a ON a.tender_id = p.id
WHERE t.id = p.id AND p.status IN ('awarded','contracted')"""

INVITATIONS_SQL = """
INSERT INTO tender_invitations (tender_id, vendor_id)
SELECT DISTINCT b.tender_id, b.vendor_id FROM bids b JOIN seed_plan p ON p.id = b.tender_id
WHERE p.method IN ('invited_tender','single_source')"""


def _contracts_sql(payment_rule: str) -> str:
    return f"""
INSERT INTO contracts (id, tender_id, bid_id, bureau_id, vendor_id, payee_id, budget_line_id, title, reserved_amount,
                       original_amount, amount, contract_months, recurring, start_date, end_date, payment_rule,
                       payment_rule_source, status, bureau_signed_at, bureau_signed_by, vendor_signed_at,
                       vendor_signed_by, activated_at, completed_at, created_by, created_at)
SELECT md5('contract:' || p.n)::uuid, p.id, a.winning_bid_id, md5('bureau:' || p.bureau)::uuid, a.vendor_id, a.vendor_id,
       p.line_id, t.title, p.ceiling, a.price, a.price, p.months, false, c.start_date,
       (c.start_date + make_interval(months => p.months))::date, '{payment_rule}'::jsonb, 'default',
       'active', c.created_at + interval '1 day', md5('user:bureau:' || p.bureau)::uuid,
       c.created_at + interval '2 days', vu.id, c.created_at + interval '2 days', NULL,
       md5('user:bureau:' || p.bureau)::uuid, c.created_at
FROM seed_plan p
JOIN tender_awards a ON a.tender_id = p.id
JOIN tenders t ON t.id = p.id
CROSS JOIN LATERAL (SELECT a.awarded_at + interval '12 days' AS created_at,
                           ((a.awarded_at + interval '15 days') AT TIME ZONE 'Asia/Shanghai')::date AS start_date) c
JOIN users vu ON vu.organisation_id = a.vendor_id AND vu.role = 'vendor'
WHERE p.status = 'contracted'"""


def _milestones_sql(share: float) -> str:
    # Past milestones (due more than 45 days ago) are evaluated with probability `share`; of
    # those, 90 % are paid too and the rest wait for payment (what the payment benchmark pays).
    plans = json.dumps([[[t, p, d] for t, p, d in ms] for _, ms in MILESTONE_PLANS], ensure_ascii=False)
    threshold = int(share * 1_048_576)
    return f"""
INSERT INTO milestones (id, contract_id, sequence, title, percentage, original_amount, amount, due_offset_days,
                        due_date, status, delivered_at)
SELECT md5('milestone:' || c.id || ':' || m.seq)::uuid, c.id, m.seq, m.title, m.pct, m.amount, m.amount, m.offset_days,
       m.due, m.status, CASE WHEN m.status <> 'pending' THEN (m.due - 3)::timestamptz END
FROM contracts c
JOIN seed_plan p ON p.id = c.tender_id
CROSS JOIN LATERAL (
    SELECT e.seq, e.title, e.pct, e.offset_days, c.start_date + e.offset_days AS due,
           CASE WHEN e.seq < e.total THEN round(c.amount * e.pct / 100, 2)
                ELSE c.amount - (e.total - 1) * round(c.amount * e.pct / 100, 2) END AS amount,
           CASE WHEN c.start_date + e.offset_days >= $1::date THEN 'pending'
                WHEN c.start_date + e.offset_days >= $1::date - 45 THEN 'delivered'
                WHEN (hashtext(c.id::text || e.seq) & 1048575) < {threshold} THEN
                    CASE WHEN (hashtext(c.id::text || e.seq || 'pay') & 1023) < 922 THEN 'paid' ELSE 'evaluated' END
                ELSE 'delivered' END AS status
    FROM (SELECT (x.m ->> 0) AS title, (x.m ->> 1)::numeric AS pct, (x.m ->> 2)::int AS offset_days,
                 x.seq::int AS seq, jsonb_array_length(('{plans}'::jsonb) -> p.milestone_plan) AS total
          FROM jsonb_array_elements(('{plans}'::jsonb) -> p.milestone_plan) WITH ORDINALITY AS x(m, seq)) e
) m"""


def _past_milestones_sql() -> str:
    plans = json.dumps([[d for _, _, d in ms] for _, ms in MILESTONE_PLANS])
    return f"""
SELECT count(*) FROM contracts c JOIN seed_plan p ON p.id = c.tender_id
CROSS JOIN LATERAL jsonb_array_elements_text(('{plans}'::jsonb) -> p.milestone_plan) AS o(offset_days)
WHERE c.start_date + o.offset_days::int < $1::date - 45"""


def _evaluations_sql(template_id: str, indicators: str) -> str:
    return f"""
INSERT INTO evaluations (id, contract_id, milestone_id, bureau_id, vendor_id, evaluator_id, template_id, indicators,
                         due_date, status, scores, survey_responses, survey_satisfied, findings, total_score, grade,
                         commissioned_by, commissioned_at, submitted_at, submitted_by, accepted_at, accepted_by,
                         appeal_deadline)
SELECT md5('evaluation:' || m.id)::uuid, m.contract_id, m.id, c.bureau_id, c.vendor_id,
       md5('evaluator:' || ev.e)::uuid, '{template_id}'::uuid, '{indicators}'::jsonb,
       m.due_date + 30, 'accepted', s.scores, NULL, NULL, '合成数据：服务按计划完成，台账完整。', s.total,
       CASE WHEN s.total >= 90 THEN 'excellent' WHEN s.total >= 80 THEN 'good' WHEN s.total >= 60 THEN 'fair'
            ELSE 'poor' END,
       c.created_by, (m.due_date + 2)::timestamptz, (m.due_date + 20)::timestamptz,
       md5('user:evaluator:' || ev.e)::uuid, (m.due_date + 25)::timestamptz, c.created_by,
       (m.due_date + 32)::timestamptz
FROM milestones m JOIN contracts c ON c.id = m.contract_id
CROSS JOIN LATERAL (SELECT 1 + (hashtext(m.id::text) & 1023) % {EVALUATORS} AS e) ev
CROSS JOIN LATERAL (
    SELECT jsonb_object_agg(i ->> 'code', round((i ->> 'weight')::numeric * f.f, 2)::text) AS scores,
           sum(round((i ->> 'weight')::numeric * f.f, 2)) AS total
    FROM jsonb_array_elements('{indicators}'::jsonb) i,
         (SELECT 0.55 + (hashtext(m.id::text || 'score') & 1023) / 2300.0 AS f) f
) s
WHERE m.status IN ('evaluated','paid')"""


PAYMENTS_SQL = """
INSERT INTO payments (id, contract_id, milestone_id, evaluation_id, bureau_id, payee_id, budget_line_id,
                      idempotency_key, milestone_amount, amount, withheld_amount, payout_ratio, total_score, grade,
                      status, treasury_reference, confirmed_at, confirmed_by, created_by, created_at)
SELECT md5('payment:' || m.id)::uuid, m.contract_id, m.id, e.id, c.bureau_id, c.payee_id, c.budget_line_id,
       'seed-' || m.id, m.amount, round(m.amount * r.ratio, 2), m.amount - round(m.amount * r.ratio, 2), r.ratio,
       e.total_score, e.grade, 'confirmed', 'GK' || upper(substr(md5('treasury:' || m.id), 1, 16)),
       e.accepted_at + interval '8 days', c.created_by, c.created_by, e.accepted_at + interval '5 days'
FROM milestones m JOIN contracts c ON c.id = m.contract_id
JOIN evaluations e ON e.milestone_id = m.id AND e.superseded_at IS NULL
CROSS JOIN LATERAL (SELECT CASE e.grade WHEN 'excellent' THEN 1.0000 WHEN 'good' THEN 0.9500
                                        WHEN 'fair' THEN 0.8000 ELSE 0.0000 END AS ratio) r
WHERE m.status = 'paid'"""

# A contract whose milestones are all paid is completed (as the service completes it).
COMPLETED_SQL = """
UPDATE contracts c SET status = 'completed', completed_at = x.last_paid, version = c.version + 1
FROM (SELECT m.contract_id, max(p.created_at) AS last_paid, bool_and(m.status = 'paid') AS settled
      FROM milestones m LEFT JOIN payments p ON p.milestone_id = m.id GROUP BY m.contract_id) x
WHERE x.contract_id = c.id AND x.settled"""

BUDGET_SQL = """
UPDATE budget_lines l SET reserved = x.reserved, committed = x.committed, spent = x.spent,
       amount = ceil((x.reserved + x.committed) * 1.25 / 10000) * 10000 + 1000000
FROM (
    SELECT l.id, coalesce(r.total, 0) AS reserved, coalesce(c.total, 0) AS committed, coalesce(p.total, 0) AS spent
    FROM budget_lines l
    LEFT JOIN (SELECT budget_line_id, sum(reserved_amount) AS total FROM tenders GROUP BY 1) r ON r.budget_line_id = l.id
    LEFT JOIN (SELECT budget_line_id, sum(amount) AS total FROM contracts GROUP BY 1) c ON c.budget_line_id = l.id
    LEFT JOIN (SELECT budget_line_id, sum(amount) AS total FROM payments GROUP BY 1) p ON p.budget_line_id = l.id
) x WHERE x.id = l.id"""


async def _tenders_and_bids(loader: Loader) -> None:
    plan = loader.plan
    level3 = _level3()
    regions = [d[0] for d in DISTRICTS]
    districts = [d[1] for d in DISTRICTS]
    span = (plan.now - timedelta(hours=4) - plan.start).total_seconds()
    await loader.run("tenders (plan)", "DROP TABLE IF EXISTS seed_plan")
    await loader.run("tenders (plan)", PLAN_TABLE)
    await loader.chunked(
        "tenders (plan)",
        _plan_sql(),
        plan.tenders,
        float(plan.tenders),
        plan.now,
        regions,
        [c for c, _ in level3],
        [n for _, n in level3],
        len(DISTRICTS) * 2,
        plan.start,
        float(span),
    )
    await loader.run("tenders (plan)", "ANALYZE seed_plan")
    plans = json.dumps(
        [[{"title": t, "percentage": str(p), "due_offset_days": d} for t, p, d in ms] for _, ms in MILESTONE_PLANS],
        ensure_ascii=False,
    )
    await loader.chunked("tenders", _tenders_sql(), plan.tenders, districts, plans)

    # The mean bid count of multi-bid tenders that gives about the number of bids asked for.
    rows = await loader.fetch("SELECT status, method, count(*) AS n FROM seed_plan GROUP BY 1, 2")
    fixed = sum(r["n"] * (1 if r["method"] == "single_source" else 1.5) for r in rows if r["status"] not in ("draft", "cancelled") and (r["method"] == "single_source" or r["status"] == "failed"))
    multi = sum(r["n"] for r in rows if r["status"] not in ("draft", "cancelled", "failed") and r["method"] != "single_source")
    mean = max(3, round((plan.bids - fixed) / max(1, multi)))
    await loader.chunked("bids", _bids_sql(plan), plan.tenders, mean)
    await loader.step("tender invitations", lambda: loader.execute(INVITATIONS_SQL))
    await loader.step("award notices", lambda: loader.execute(AWARDS_SQL))
    await loader.step("tenders awarded", lambda: loader.execute(AWARDED_TENDERS_SQL))


async def _default_template(loader: Loader) -> tuple[str, str]:
    """(id, indicators as SQL-quoted JSON) of the default indicator template, put back as the
    migration installs it if it was ever removed."""
    from evaluation.rules import DEFAULT_TEMPLATE, as_dicts

    row = await loader.fetch("SELECT id::text, indicators::text FROM indicator_templates WHERE is_default")
    if not row:
        await loader.execute(
            """INSERT INTO indicator_templates (id, name, description, indicators, is_default, created_at)
               VALUES ('00000000-0000-4000-8000-000000000001', '政府购买服务绩效评价指标（默认）',
                       '投入 10、过程 20、产出 30、效益 25、满意度 15', $1::jsonb, true, now())""",
            json.dumps(as_dicts(DEFAULT_TEMPLATE), ensure_ascii=False),
        )
        row = await loader.fetch("SELECT id::text, indicators::text FROM indicator_templates WHERE is_default")
    return row[0]["id"], row[0]["indicators"].replace("'", "''")


async def _contracts(loader: Loader) -> None:
    from evaluation.rules import DEFAULT_PAYMENT_RULE, as_dicts

    plan = loader.plan
    rule = json.dumps(as_dicts(DEFAULT_PAYMENT_RULE))
    await loader.step("contracts", lambda: loader.execute(_contracts_sql(rule)))
    past = await loader.fetchval(_past_milestones_sql(), plan.now.date())
    share = min(1.0, plan.evaluations / past) if past else 0.0
    await loader.step("milestones", lambda: loader.execute(_milestones_sql(share), plan.now.date()))
    template = await _default_template(loader)
    await loader.step("evaluations", lambda: loader.execute(_evaluations_sql(*template)))
    await loader.step("payments", lambda: loader.execute(PAYMENTS_SQL))
    await loader.step("contracts completed", lambda: loader.execute(COMPLETED_SQL))


async def seed(
    dsn: str,
    *,
    vendors: int,
    tenders: int,
    bids: int,
    evaluations: int,
    progress: Any,
    keep_indexes: bool = False,
    now: datetime | None = None,
) -> SeedCounts:
    """Load the synthetic universe into a migrated database that has no vendors or tenders."""
    import asyncpg

    from govbuy import auth

    now = now or datetime.now(UTC)
    plan = Plan(vendors, tenders, bids, evaluations, now, now - timedelta(days=round(YEARS * 365)))
    conn = await asyncpg.connect(dsn)
    try:
        if await conn.fetchval("SELECT EXISTS (SELECT 1 FROM tenders) OR EXISTS (SELECT 1 FROM organisations WHERE kind = 'vendor')"):
            raise SeedRefused("the database already has vendors or tenders: seed a fresh database")
    finally:
        await conn.close()
    counts = SeedCounts()
    password_hash = await auth.hash_password(SEED_PASSWORD)
    async with Loader(dsn, plan, progress, counts) as loader:
        dropped = [] if keep_indexes else await _secondary_indexes(loader)
        for name, _ in dropped:
            await loader.run("drop secondary indexes", f'DROP INDEX "{name}"')
        try:
            await _people(loader, password_hash)
            await _registry(loader)
            await _catalogues_and_lines(loader)
            await _tenders_and_bids(loader)
            await _contracts(loader)
            await loader.step("budget lines (totals)", lambda: loader.execute(BUDGET_SQL))
        finally:
            await loader.run("tenders (plan)", "DROP TABLE IF EXISTS seed_plan")
            await _rebuild_indexes(loader, dropped)
        await loader.step("vacuum analyze", lambda: _vacuum(loader))
    return counts


async def _vacuum(loader: Loader) -> int:
    # VACUUM cleans the rows the award update left behind and sets the visibility map, so that
    # index-only scans work from the start; ANALYZE gives the planner the new statistics.
    async def one(table: str) -> None:
        async with loader.pool.acquire() as conn:
            await conn.execute(f"VACUUM (ANALYZE) {table}")

    queue = list(LOADED_TABLES)

    async def worker() -> None:
        while queue:
            await one(queue.pop(0))

    await asyncio.gather(*(worker() for _ in range(PARALLEL)))
    return len(LOADED_TABLES)


# --- the command --------------------------------------------------------------------------------


def _report(counts: SeedCounts, total_seconds: float) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"govbuy seed: {total_seconds:.0f} s in all")
    table.add_column("step")
    table.add_column("rows", justify="right")
    table.add_column("seconds", justify="right")
    table.add_column("rows/s", justify="right")
    for step, rows in counts.rows.items():
        seconds = counts.seconds[step]
        table.add_row(step, f"{rows:,}", f"{seconds:.1f}", f"{rows / seconds:,.0f}" if seconds > 0 and rows else "")
    Console().print(table)
    print(f"every synthetic user (seed-admin, bureau-001 …, vendor-000001 …, evaluator-01 …, expert-001 …) "
          f"has the password '{SEED_PASSWORD}'")


def cmd_seed(args: argparse.Namespace) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from govbuy import database as db

    # As the owner: the load drops and rebuilds indexes, makes a work table and vacuums.
    dsn = db.prepare_database().owner
    started = time.perf_counter()
    columns = (TextColumn("[progress.description]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    try:
        with Progress(*columns) as progress:
            counts = asyncio.run(
                seed(
                    dsn,
                    vendors=args.vendors,
                    tenders=args.tenders,
                    bids=args.bids,
                    evaluations=args.evaluations,
                    progress=progress,
                    keep_indexes=args.keep_indexes,
                )
            )
    except SeedRefused as exc:
        print(f"seed refused: {exc}", file=sys.stderr)
        sys.exit(1)
    _report(counts, time.perf_counter() - started)


def register_commands(subparsers: argparse._SubParsersAction) -> None:
    command = subparsers.add_parser(
        "seed",
        help="load synthetic data at scale (no audit events, no OCDS releases) into a fresh database",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    command.add_argument("--vendors", type=int, default=100_000, help="vendors (social organisations), default 100000")
    command.add_argument("--tenders", type=int, default=1_000_000, help="tenders, default 1000000")
    command.add_argument("--bids", type=int, default=5_000_000, help="bids, about; default 5000000")
    command.add_argument(
        "--evaluations", type=int, default=500_000,
        help="accepted evaluations of past milestones, at most (contracts and payments follow the tenders); default 500000",
    )
    command.add_argument(
        "--keep-indexes", action="store_true", help="load with every index in place (slower; for comparison)"
    )
    command.set_defaults(func=cmd_seed)
