"""The demo year, run into the test database through the function `govbuy demo` calls, then
looked at as its users and as the public would."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from govbuy.demo import year as demo

API = "/api/v1"
STATUSES = {"draft", "published", "evaluating", "awarded", "contracted", "cancelled", "failed"}


def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, f"{response.request.url}: {response.status_code} {response.text}"
    return response.json()


async def every_page(client: httpx.AsyncClient, path: str, headers: dict[str, str] | None = None) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        params = {"limit": 5, **({"cursor": cursor} if cursor else {})}
        page = ok(await client.get(path, params=params, headers=headers))
        items += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return items


async def test_demo_refuses_a_database_that_is_not_empty(year: demo.DemoSummary):
    with pytest.raises(demo.DemoRefused):
        await demo.run_demo()


async def sign_in(client: httpx.AsyncClient, username: str) -> dict[str, str]:
    token = ok(await client.post(f"{API}/auth/token", json={"username": username, "password": demo.DEMO_PASSWORD}))
    return {"Authorization": f"Bearer {token['access_token']}"}


async def test_the_demo_users_of_the_readme_sign_in_with_the_documented_password(client, year: demo.DemoSummary):
    organisation = {username: org for username, _, org in year.users}
    for username, role in demo.README_USERS:
        me = ok(await client.get(f"{API}/auth/me", headers=await sign_in(client, username)))
        assert (me["user"]["username"], me["user"]["role"], me["organisation"]["name"]) == (username, role, organisation[username])
    assert {role for _, role in demo.README_USERS} == {"admin", "bureau", "vendor", "expert", "evaluator", "supervisor"}


async def test_every_demo_user_exists_with_its_role(client, year: demo.DemoSummary):
    users = await every_page(client, f"{API}/users", headers=await sign_in(client, "admin"))
    assert {(u["username"], u["role"]) for u in users} == {(username, role) for username, role, _ in year.users}
    assert len([u for u in users if u["role"] == "vendor"]) == len(demo.VENDORS) == 30


async def test_the_year_has_tenders_in_every_status_and_the_refusals_it_tried(year: demo.DemoSummary):
    assert set(year.tenders.values()) == STATUSES
    codes = {line.rsplit(": ", 1)[1] for line in year.refused}
    assert codes == {"catalogue_item_in_negative_list", "vendor_ineligible", "expert_conflict_of_interest"}
    assert year.audit_events > 300 and year.ocds_releases > 0


async def test_the_openapi_page_lists_every_domain(client, year: demo.DemoSummary):
    assert (await client.get("/schema")).status_code == 200
    paths = ok(await client.get("/schema/openapi.json"))["paths"]
    for path in ("/api/v1/auth/token", "/api/v1/catalogues", "/api/v1/tenders", "/api/v1/vendors/{vendor_id}",
                 "/api/v1/public/tenders", "/api/v1/public/contracts", "/api/v1/public/ocds/releases"):
        assert any(p.rstrip("/") == path or p.startswith(path) for p in paths), path


async def test_a_walk_through_the_public_endpoints_shows_the_year(client, year: demo.DemoSummary):
    tenders = await every_page(client, f"{API}/public/tenders")
    # Every tender of the year but the draft, newest publication first.
    assert {t["status"] for t in tenders} == STATUSES - {"draft"}
    assert len(tenders) == len(demo.TENDERS) - 1
    assert [t["published_at"] for t in tenders] == sorted((t["published_at"] for t in tenders), reverse=True)
    assert {t["catalogue_item"]["category_code"] for t in tenders} >= {"A", "B", "C", "D", "E"}

    by_status: dict[str, list[dict[str, Any]]] = {}
    for summary in tenders:
        tender = ok(await client.get(f"{API}/public/tenders/{summary['id']}"))
        by_status.setdefault(tender["status"], []).append(tender)
    for tender in by_status["published"]:
        assert tender["bids_sealed"] and tender["bids"] is None
    for status in ("evaluating", "awarded", "contracted"):
        for tender in by_status[status]:
            assert tender["bids"] and all(b["price"] for b in tender["bids"])
    assert all(t["award"] and t["award"]["ranking"] for t in by_status["awarded"] + by_status["contracted"])
    assert by_status["failed"][0]["failure_reason"] == "insufficient_bids"
    assert by_status["cancelled"][0]["cancel_reason"]
    # The social-work tender: a bidder listed before the opening is invalid (checked again then).
    assert any(b["status"] == "invalid" for t in by_status["evaluating"] for b in t["bids"])

    # The contracted vendors as the public sees them: type, grades, list status.
    winners = {t["award"]["winner"]["id"] for t in by_status["contracted"]}
    for vendor_id in winners:
        vendor = ok(await client.get(f"{API}/public/vendors/{vendor_id}"))
        assert vendor["vendor_type"] in ("social_group", "private_non_enterprise", "foundation")
        assert vendor["listed"] is False

    # Contracts with their milestones: evaluated, paid by the grade's payout ratio, withheld.
    contracts = await every_page(client, f"{API}/public/contracts")
    assert len(contracts) == year.contracts == 5
    paid = []
    for summary in contracts:
        contract = ok(await client.get(f"{API}/public/contracts/{summary['id']}"))
        assert contract["vendor"]["id"] in winners
        paid += [m for m in contract["milestones"] if m["payment"]]
        for m in contract["milestones"]:
            if m["payment"]:
                assert m["evaluation"] and m["evaluation"]["grade"] == m["payment"]["grade"]
    assert len(paid) == year.milestones_paid
    assert {m["evaluation"]["grade"] for m in paid} >= {"excellent", "good", "fair"}
    assert any(m["payment"]["withheld_amount"] != "0.00" for m in paid)

    releases = ok(await client.get(f"{API}/public/ocds/releases", params={"limit": 200}))
    assert len(releases["releases"]) > 0
