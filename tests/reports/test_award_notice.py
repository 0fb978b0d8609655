"""The award notice (中标结果公告): the ranking with each bidder's credit grade at opening, the
winner and the amount in capitals, invalid bids, the standstill; public and reproducible."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID, uuid4

import pytest

from govbuy import database as db
from procurement.reports import rmb_capital
from tests import factories
from tests.procurement import support as procurement
from tests.reports.support import API, assert_page_furniture, awarded_tender, get_pdf, ok, squash


@pytest.fixture
async def awarded(client):
    return await awarded_tender(
        client,
        ("880000.00", "912345.67", "950000.10", "870000.00"),
        grades={0: "A", 1: "B"},
        listed_at_opening=(3,),
    )


async def test_award_notice_shows_the_ranking_with_credit_grades_at_opening(client, awarded):
    pdf = await get_pdf(client, f"{API}/public/tenders/{awarded.tender['id']}/award-notice.pdf")
    text = squash(pdf.text)
    assert pdf.page_count == 2  # the standstill and signature keep together on page 2
    bureau = awarded.tender["bureau_name"]
    assert_page_furniture(pdf, bureau, "中标结果公告")
    assert "社区居家养老上门服务项目" in text
    assert "公开招标" in text and "A0101居家养老上门服务" in text
    assert "1,000,000.00元" in text  # ceiling
    ranking = awarded.award["ranking"]
    winner = ranking[0]
    assert f"{winner['vendor_name']}（中标）" in text
    assert f"{Decimal(winner['price']):,.2f}元" in text
    assert rmb_capital(Decimal(winner["price"])) in text
    for line in ranking:
        assert line["vendor_name"] in text
        assert f"{Decimal(line['price']):,.2f}" in text
        assert line["total_score"] in text
    # Credit grades at opening: A and B for the two rated bidders, 暂无 for the unrated one.
    assert "A级" in text and "B级" in text and "暂无" in text
    # The bidder listed before opening is invalid, with the reason in Chinese.
    assert "深圳市晨曦公益服务中心" in text and "870,000.00" in text
    assert "开标时资格审查未通过：列入信用名单" in text
    assert "有效投标3份，无效投标1份" in text
    assert "评审委员会由5名成员组成" in text and "评审专家从专家库中随机抽取（抽取记录：" in text
    assert "本公告期限为1个工作日" in text and "公告期限届满之日起7个工作日内" in text


async def test_public_and_signed_in_paths_give_the_same_bytes_every_time(client, awarded):
    tender_id = awarded.tender["id"]
    public = await get_pdf(client, f"{API}/public/tenders/{tender_id}/award-notice.pdf")
    again = await get_pdf(client, f"{API}/public/tenders/{tender_id}/award-notice.pdf")
    assert again.content == public.content
    evaluator = await factories.signed_in("evaluator")
    for reader in (awarded.world.bureau, awarded.vendors[2], evaluator):
        signed_in = await get_pdf(client, f"{API}/tenders/{tender_id}/award-notice.pdf", reader)
        assert signed_in.content == public.content


async def test_an_upheld_challenge_marks_the_notice_voided(client, awarded):
    tender_id = awarded.tender["id"]
    before = await get_pdf(client, f"{API}/public/tenders/{tender_id}/award-notice.pdf")
    loser = next(v for v in awarded.vendors if str(v.organisation_id) != awarded.award["vendor_id"])
    challenge = ok(await client.post(f"{API}/tenders/{tender_id}/challenges", json={"grounds": "评分有误"}, headers=loser.headers))
    ok(await client.post(
        f"{API}/tenders/{tender_id}/challenges/{challenge['id']}/resolve",
        json={"outcome": "upheld", "reply": "经复核，评分存在错误"},
        headers=awarded.world.bureau.headers,
    ))
    after = await get_pdf(client, f"{API}/public/tenders/{tender_id}/award-notice.pdf")
    assert after.data_digest() != before.data_digest()
    assert "因质疑成立而撤销" in squash(after.text)


async def test_a_tender_without_an_award_has_no_notice(client):
    world = await procurement.world()
    tender = await procurement.published_tender(client, world)
    assert (await client.get(f"{API}/public/tenders/{tender['id']}/award-notice.pdf")).status_code == 404
    response = await client.get(f"{API}/tenders/{tender['id']}/award-notice.pdf", headers=world.bureau.headers)
    assert response.status_code == 404
    assert (await client.get(f"{API}/public/tenders/{uuid4()}/award-notice.pdf")).status_code == 404


async def test_the_signed_in_path_needs_a_token(client):
    assert (await client.get(f"{API}/tenders/{uuid4()}/award-notice.pdf")).status_code == 401


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("912345.67", "人民币玖拾壹万贰仟叁佰肆拾伍元陆角柒分"),
        ("1000000", "人民币壹佰万元整"),
        ("1000000.50", "人民币壹佰万元伍角整"),
        ("100000000.05", "人民币壹亿元零伍分"),
        ("100500", "人民币壹拾万零伍佰元整"),
        ("1002003", "人民币壹佰万贰仟零叁元整"),
        ("100000001", "人民币壹亿零壹元整"),
        ("0.30", "人民币叁角整"),
        ("0", "人民币零元整"),
        ("10", "人民币壹拾元整"),
        ("1050", "人民币壹仟零伍拾元整"),
    ],
)
def test_amount_in_capitals(amount, words):
    assert rmb_capital(Decimal(amount)) == words


async def test_the_notice_lists_the_panel_by_the_experts_names(client, awarded):
    """87号令 Art. 69: the notice names the panel (评审专家名单) — by full name where one is recorded."""
    admin = await factories.signed_in("admin")
    pool = await factories.organisation("platform", "评审专家库")
    r = await client.post(f"{API}/users", json={"username": "expert-wang", "password": "a-long-password-1",
                                                 "organisation_id": str(pool.id), "role": "expert", "full_name": " 王建国 "},
                          headers=admin.headers)
    assert r.status_code == 201 and r.json()["full_name"] == "王建国"
    panel = ok(await client.get(f"{API}/tenders/{awarded.tender['id']}/panel", headers=awarded.world.bureau.headers))
    experts = panel["experts"]
    named = dict(zip((e["user_id"] for e in experts[:3]), ("李秀英", "张伟", "刘芳")))
    for user_id, name in named.items():
        await db.execute("UPDATE users SET full_name = $2 WHERE id = $1", UUID(user_id), name)
    text = squash((await get_pdf(client, f"{API}/public/tenders/{awarded.tender['id']}/award-notice.pdf")).text)
    for expert in experts:
        if expert["user_id"] in named:
            assert named[expert["user_id"]] in text and expert["username"] not in text
        else:
            assert expert["username"] in text  # no name recorded: the username stands in
