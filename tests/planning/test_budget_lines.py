"""Budget lines (先有预算、后购买服务) through the API: a bureau's own, and never adjusted below
what they carry."""

from __future__ import annotations

from tests import factories
from tests.procurement import support as s


async def test_budget_lines_are_a_bureaus_own(client):
    w = await s.world("5000000.00")
    other = await factories.signed_in("bureau")
    supervisor = await factories.signed_in("supervisor")
    assert (await client.get(f"/api/v1/budget-lines/{w.line_id}", headers=other.headers)).status_code == 404
    assert (await client.get("/api/v1/budget-lines", headers=other.headers)).json()["items"] == []
    assert len((await client.get("/api/v1/budget-lines", headers=supervisor.headers)).json()["items"]) == 1
    r = await client.post(
        "/api/v1/budget-lines", json={"code": "X1", "year": 2026, "title": "t", "amount": "10.00"}, headers=w.bureau.headers
    )
    assert r.status_code == 201 and r.json()["available"] == "10.00"
    dup = await client.post(
        "/api/v1/budget-lines", json={"code": "X1", "year": 2026, "title": "t", "amount": "10.00"}, headers=w.bureau.headers
    )
    assert (dup.status_code, dup.json()["code"]) == (409, "budget_line_code_taken")


async def test_a_budget_line_is_never_adjusted_below_what_it_carries(client):
    w = await s.world("2000000.00")
    await s.published_tender(client, w, ceiling_amount="1500000.00")
    url = f"/api/v1/budget-lines/{w.line_id}"
    etag = (await client.get(url, headers=w.bureau.headers)).headers["etag"]
    r = await client.patch(url, json={"amount": "1400000.00"}, headers={**w.bureau.headers, "If-Match": etag})
    assert (r.status_code, r.json()["code"]) == (409, "budget_amount_below_allocated")
    r = await client.patch(url, json={"amount": "1600000.00"}, headers={**w.bureau.headers, "If-Match": '"1"'})
    assert r.status_code == 412
    r = await client.patch(url, json={"amount": "1600000.00"}, headers={**w.bureau.headers, "If-Match": etag})
    assert r.status_code == 200 and r.json()["available"] == "100000.00"
