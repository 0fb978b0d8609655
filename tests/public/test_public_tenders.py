"""Public tenders and vendors, no sign-in: published tenders only, filters, Chinese title search,
keyset pages, the opening record after the deadline and the award notice's ranking."""

from __future__ import annotations

from datetime import datetime, timedelta

from tests import factories
from tests.public import support as s

TENDERS = "/api/v1/public/tenders"


async def all_pages(client, query: str = "", limit: int = 2) -> list[dict]:
    items, cursor = [], None
    while True:
        url = f"{TENDERS}?limit={limit}{query}" + (f"&cursor={cursor}" if cursor else "")
        page = s.ok(await client.get(url))
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


async def test_the_list_shows_published_tenders_newest_first_in_keyset_pages(client):
    b = await s.bureau(client)
    published = [await s.published(client, b, title=f"社区服务项目 {n}") for n in range(5)]
    await s.draft(client, b, title="草稿不公开")
    items = await all_pages(client)
    assert [i["id"] for i in items] == [p.id for p in reversed(published)]
    assert all(i["status"] == "published" and i["bids_sealed"] for i in items)
    first = items[0]
    assert first["ocid"].endswith(first["id"]) and first["method_label"] == "公开招标"
    assert first["catalogue_item"] == {"code": "A0101", "name": "居家养老上门服务", "category_code": "A", "category_name": "基本公共服务"}
    assert first["ceiling_amount"] == "1000000.00"


async def test_title_search_finds_chinese_substrings_of_any_length(client):
    b = await s.bureau(client)
    for title in ("青少年心理健康服务", "社区居家养老上门服务项目", "困境儿童关爱服务", "100% 覆盖_试点"):
        await s.published(client, b, title=title)

    async def titles(q: str) -> list[str]:
        return sorted(i["title"] for i in s.ok(await client.get(TENDERS, params={"q": q}))["items"])

    assert await titles("心") == ["青少年心理健康服务"]
    assert await titles("心理") == ["青少年心理健康服务"]
    assert await titles("居家养老") == ["社区居家养老上门服务项目"]
    assert len(await titles("服务")) == 3
    assert await titles("养老儿童") == []
    # The user's wildcards are taken literally.
    assert await titles("%") == ["100% 覆盖_试点"]
    assert await titles("_") == ["100% 覆盖_试点"]


async def test_filters_narrow_the_list(client):
    admin = await factories.signed_in("admin")
    futian = await s.bureau(client, admin=admin, region_code="440304")
    beijing = await s.bureau(client, admin=admin, region_code="110105")
    a = await s.published(client, futian, title="福田项目")
    c = await s.published(client, beijing, title="朝阳项目", days=40)
    cancelled = await s.published(client, futian, title="取消项目")
    s.ok(await client.post(f"/api/v1/tenders/{cancelled.id}/cancel", json={"reason": "预算调整"}, headers=futian.user.headers))

    async def ids(**params) -> set[str]:
        return {i["id"] for i in s.ok(await client.get(TENDERS, params=params))["items"]}

    assert await ids(region="44") == {a.id, cancelled.id}
    assert await ids(region="110105") == {c.id}
    assert await ids(bureau_id=str(beijing.user.organisation_id)) == {c.id}
    assert await ids(status="cancelled") == {cancelled.id}
    assert await ids(category="A01") == {a.id, c.id, cancelled.id}
    assert await ids(category="B") == set()
    deadline_a = a.tender["bid_deadline"]
    assert await ids(deadline_from=(datetime.fromisoformat(deadline_a) + timedelta(days=5)).isoformat()) == {c.id}
    published_a = datetime.fromisoformat(a.tender["published_at"])
    assert a.id in await ids(published_from=published_a.isoformat(), published_to=(published_a + timedelta(seconds=1)).isoformat())
    assert await ids(published_to=published_a.isoformat()) == set()


async def test_bad_filters_are_refused_not_guessed(client):
    for params in ({"status": "draft"}, {"region": "44a"}, {"category": "Z1"}, {"limit": "0"}, {"cursor": "not-a-cursor"}):
        r = await client.get(TENDERS, params=params)
        assert r.status_code == 422, (params, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")


async def test_a_public_read_needs_no_token_and_ignores_a_bad_one(client):
    b = await s.bureau(client)
    p = await s.published(client, b)
    r = await client.get(f"{TENDERS}/{p.id}", headers={"Authorization": "Bearer not-a-token"})
    assert r.status_code == 200


async def test_bids_stay_sealed_until_the_deadline_then_show_name_and_price_never_the_proposal(client):
    b = await s.bureau(client)
    p = await s.published(client, b)
    for price in ("880000.00", "912345.67", "950000.10"):
        await s.bid(client, p, await factories.signed_in("vendor"), price)
    before = s.ok(await client.get(f"{TENDERS}/{p.id}"))
    assert before["bids"] is None and before["bids_sealed"] is True and before["award"] is None
    await s.advance(client, b.admin, seconds=int((datetime.fromisoformat(p.tender["bid_deadline"]) - await s.now(client, b.admin)).total_seconds()) + 1)
    # The public read itself opens the tender (nobody else touched it since the deadline).
    after = s.ok(await client.get(f"{TENDERS}/{p.id}"))
    assert after["status"] == "evaluating" and after["bids_sealed"] is False
    assert sorted(bid["price"] for bid in after["bids"]) == ["880000.00", "912345.67", "950000.10"]
    assert {bid["vendor"]["name"] for bid in after["bids"]} == {p.bids[k]["vendor_name"] for k in p.bids}
    assert all(set(bid) == {"vendor", "price", "status", "submitted_at"} for bid in after["bids"])


async def test_the_award_notice_ranks_every_valid_bid_with_its_credit_grade_at_opening(client):
    b = await s.bureau(client)
    p = await s.to_award(client, b)
    tender = s.ok(await client.get(f"{TENDERS}/{p.id}"))
    award = tender["award"]
    assert award["status"] == "active" and award["winner"]["id"] == p.award["vendor_id"]
    assert [line["rank"] for line in award["ranking"]] == [1, 2, 3]
    assert all("credit_grade_at_opening" in line for line in award["ranking"])
    assert award["ranking"][0]["total_score"] == p.award["ranking"][0]["total_score"]
    assert tender["status"] == "awarded"


async def test_a_vendor_shows_its_standing_and_nothing_personal(client):
    admin = await factories.signed_in("admin")
    vendor = await factories.signed_in("vendor")
    s.ok(await client.post(f"/api/v1/vendors/{vendor.organisation_id}/assessment-grades", json={"grade": "4A", "awarded_on": "2024-03-01"}, headers=admin.headers))
    s.ok(
        await client.post(
            f"/api/v1/vendors/{vendor.organisation_id}/credit-list-entries",
            json={"list": "abnormal", "reason": "联系人张三电话 13800000000 无法联系", "listed_on": "2024-06-01"},
            headers=admin.headers,
        )
    )
    body = s.ok(await client.get(f"/api/v1/public/vendors/{vendor.organisation_id}"))
    assert body["assessment_grade"]["grade"] == "4A"
    assert body["listed"] is True and [e["list"] for e in body["credit_listings"]] == ["abnormal"]
    text = str(body)
    assert vendor.user.username not in text and "13800000000" not in text and "张三" not in text
    assert (await client.get(f"/api/v1/public/vendors/{admin.organisation_id}")).status_code == 404


async def test_the_title_index_serves_chinese_substrings_of_three_characters_or_more(database):
    from govbuy import database as db

    async def plan(pattern: str) -> str:
        async with db.transaction():
            await db.execute("SET LOCAL enable_seqscan = off")  # an empty table would be scanned anyway
            rows = await db.fetch("EXPLAIN SELECT id FROM tenders WHERE title ILIKE $1", pattern)
        return "\n".join(r[0] for r in rows)

    assert "tenders_title_trgm" in await plan("%居家养老%")
    assert "tenders_title_trgm" in await plan("%心理健%")
