"""SQL injection tried in every query parameter of every GET endpoint of the OpenAPI document.

The values are the classics (quotes closing a literal, `OR 1=1`, stacked `DROP TABLE`, `UNION
SELECT`, `pg_sleep`, comment markers, LIKE wildcards, a NUL byte). Each must be answered 2xx with
no rows (no record holds such text: any row means the value changed the query), or 4xx; never
5xx, never slowly (a `pg_sleep` that ran); and afterwards every table and every user is still there.
"""

from __future__ import annotations

import asyncio
import time
import uuid

import asyncpg
import pytest

from bench import scenario
from tests.security.routes import roles_by_operation

INJECTIONS = [
    "' OR 1=1 --",
    "%' ;DROP TABLE users;--",
    "1; DROP TABLE bids; --",
    "') OR ('1'='1",
    "' UNION SELECT username, password_hash FROM users --",
    "'; SELECT pg_sleep(10); --",
    "1 OR 1=1",
    "%",
    "_",
    "\\",
    "*/ OR /*",
    "x\x00y",
]
# Parameters that are not filters over rows (they pick a page size or a page).
NOT_FILTERS = {"limit"}
SLOW_SECONDS = 8  # a pg_sleep(10) that ran; far above a slow answer on a busy machine


def _operations():
    from govbuy.app import create_app

    document = create_app(manage_pool=False).openapi_schema.to_schema()
    roles = roles_by_operation()
    found = []
    for path, item in document["paths"].items():
        operation = item.get("get")
        if not operation:
            continue
        query = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query" and p["name"] not in NOT_FILTERS]
        if query:
            found.append((path, query, roles.get(("GET", path), frozenset())))
    return found


OPERATIONS = _operations()


async def _inventory(dsn: str) -> tuple[list[str], int]:
    conn = await asyncpg.connect(dsn)
    try:
        tables = [r["tablename"] for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")]
        return tables, await conn.fetchval("SELECT count(*) FROM users")
    finally:
        await conn.close()


@pytest.fixture(scope="module")
def inventory_before(security_server):
    return asyncio.run(_inventory(security_server.env["DATABASE_URL"]))


@pytest.fixture(scope="module")
def target(security_server, inventory_before):
    """Records for the filters to run over, and real ids for the paths."""
    ids = {}
    with security_server.client() as client:
        accounts = security_server.accounts
        if scenario.has_endpoint(security_server, "post", "/api/v1/tenders"):
            bureau = scenario.bureau_with_budget(client, accounts["admin"], accounts["bureau"])
            tender = scenario.published_tender(client, bureau, days=25)
            scenario.place_bid(client, tender["id"], accounts["vendor"], "860000.00")
            ids = {"tender_id": tender["id"], "catalogue_id": bureau.catalogue_id, "line_id": bureau.budget_line_id}
        ids["vendor_id"] = accounts["vendor"].organisation_id
    return security_server, ids


def _caller(server, admitted):
    if admitted is None:
        return {}
    for role in ("admin", "supervisor", "bureau", "vendor", "expert", "evaluator"):
        if role in admitted:
            return server.accounts[role].headers
    return {}


async def _probe(client, path: str, headers: dict, param: str, value: str) -> str | None:
    started = time.perf_counter()
    response = await client.get(path, params={param: value}, headers=headers)
    elapsed = time.perf_counter() - started
    where = f"{param}={value!r}: {response.status_code}"
    if response.status_code >= 500:
        return f"{where} {response.text[:200]}"
    if elapsed > SLOW_SECONDS:
        return f"{where} took {elapsed:.1f} s (did a pg_sleep run?)"
    content_type = response.headers.get("content-type", "")
    if response.status_code < 300 and "json" in content_type:
        body = response.json()
        rows = body.get("items") if isinstance(body, dict) else body
        if rows:
            return f"{where} returned {len(rows)} rows: the value changed the query"
    if response.status_code >= 400 and not content_type.startswith("application/problem+json"):
        return f"{where} not problem+json"
    return None


@pytest.mark.parametrize(("path", "params", "admitted"), OPERATIONS, ids=[op[0] for op in OPERATIONS])
def test_injected_query_parameters_change_nothing(target, path, params, admitted):
    server, ids = target
    concrete = path
    for name in [part[1:-1] for part in path.split("/") if part.startswith("{")]:
        concrete = concrete.replace("{" + name + "}", ids.get(name, str(uuid.uuid4())))
    headers = _caller(server, admitted)

    async def probe_all() -> list[str]:
        async with server.async_client() as client:
            found = await asyncio.gather(
                *(_probe(client, concrete, headers, param, value) for param in params for value in INJECTIONS)
            )
        return [f for f in found if f]

    faults = asyncio.run(probe_all())
    assert not faults, f"GET {concrete}\n" + "\n".join(faults)


def test_every_table_and_every_user_is_still_there(target, inventory_before):
    server, _ = target
    assert asyncio.run(_inventory(server.env["DATABASE_URL"])) == inventory_before
