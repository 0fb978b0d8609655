"""Procurement intentions in public (采购意向公开, 财库〔2020〕10号): the notice of kind
`intention`, `/api/v1/public/procurement-intentions`, and the OCDS planning of a tender that
links one."""

from __future__ import annotations

from govbuy.rules import SHANGHAI
from tests.public import support as s
from tests.public.support import API, ok


async def intention(client, b, *, publish=True) -> dict:
    today = (await s.now(client, b.user)).astimezone(SHANGHAI)
    created = ok(await client.post(f"{API}/procurement-intentions", headers=b.user.headers, json={
        "budget_line_id": b.line_id, "title": "社区居家养老上门服务项目", "needs": "为 60 周岁以上居家老人提供助餐、助洁服务",
        "budget_amount": "1200000.00", "expected_month": f"{today:%Y-%m}", "remarks": "分两个标段"}), 201)
    if not publish:
        return created
    return ok(await client.post(f"{API}/procurement-intentions/{created['id']}/publish", headers=b.user.headers))


async def test_a_published_intention_is_a_public_notice_and_a_draft_is_not(client):
    b = await s.bureau(client, region_code="440301")
    published = await intention(client, b)
    draft = await intention(client, b, publish=False)
    notices = ok(await client.get(f"{API}/public/notices", params={"type": "intention", "region": "440301"}))["items"]
    assert [n["id"] for n in notices] == [published["id"]]
    assert notices[0]["tender_id"] is None and notices[0]["bureau"]["id"] == published["bureau_id"]
    notice = ok(await client.get(f"{API}/public/notices/{published['id']}"))
    assert "采购需求概况：为 60 周岁以上居家老人提供助餐、助洁服务" in notice["text"]
    assert "预算金额：1200000.00 元" in notice["text"]
    assert (await client.get(f"{API}/public/procurement-intentions/{draft['id']}")).status_code == 404


async def test_a_withdrawn_intention_stays_public_marked_withdrawn(client):
    b = await s.bureau(client, region_code="440302")
    published = await intention(client, b)
    ok(await client.post(f"{API}/procurement-intentions/{published['id']}/withdraw", json={"reason": "项目取消"},
                         headers=b.user.headers))
    public = ok(await client.get(f"{API}/public/procurement-intentions", params={"bureau_id": published["bureau_id"]}))
    assert [(i["id"], i["status"], i["withdraw_reason"]) for i in public["items"]] == [(published["id"], "withdrawn", "项目取消")]
    notice = ok(await client.get(f"{API}/public/notices/{published['id']}"))
    assert notice["title"].endswith("（已撤回）") and "撤回原因：项目取消" in notice["text"]


async def test_the_public_list_pages_newest_first(client):
    b = await s.bureau(client, region_code="440303")
    ids = [(await intention(client, b))["id"] for _ in range(3)]
    first = ok(await client.get(f"{API}/public/procurement-intentions", params={"region": "440303", "limit": 2}))
    rest = ok(await client.get(f"{API}/public/procurement-intentions", params={"region": "440303", "limit": 2,
                                                                             "cursor": first["next_cursor"]}))
    assert [i["id"] for i in first["items"] + rest["items"]] == ids[::-1]


async def test_the_ocds_release_of_a_linked_tender_carries_the_intentions_planning(client):
    b = await s.bureau(client, region_code="440304")
    linked = await intention(client, b)
    reason = "应急项目，须在本月启动"
    p = await s.published(client, b, procurement_intention_id=linked["id"], intention_notice_exception=reason)
    public = ok(await client.get(f"{API}/public/tenders/{p.id}"))
    assert public["procurement_intention_id"] == linked["id"] and public["intention_notice_exception"] == reason
    releases, _, packages = await s.read_feed(client)
    release = [r for r in releases if r["tender"]["id"] == p.id][-1]
    planning = release["planning"]
    assert planning["rationale"] == linked["needs"]
    assert planning["budget"]["project"] == linked["title"] and planning["budget"]["amount"]["amount"] == 1200000
    from govbuy.public import ocds

    assert ocds.validate_release_package(packages[0]) == []
    s.assert_valid_record_package(await s.record(client, release["ocid"]))
