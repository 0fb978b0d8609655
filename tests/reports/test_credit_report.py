"""The vendor credit report (承接主体信用报告): what it shows, who may read it, and that the
same data gives the same bytes."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from decimal import Decimal
from uuid import uuid4

import pytest

from govbuy import clock
from govbuy import service as kernel
from tests import factories
from tests.reports.support import assert_page_furniture, get_pdf, squash, store_rating
from vendors import service
from vendors.rating import RatingInputs
from vendors.schemas import AssessmentGradeCreate, CreditListEntryCreate, CreditListEntryRemove

API = "/api/v1"


async def advance_clock(minutes: int) -> None:
    await kernel.advance_clock(None, minutes * 60)


@pytest.fixture
async def rated_vendor(client):
    """A 社会服务机构 with a 4A grade, a removed list entry and a scored rating."""
    admin = await factories.signed_in("admin")
    org = await factories.organisation("vendor", "深圳市阳光社工服务中心")
    vendor = await factories.signed_in("vendor", org)
    who = factories.actor(admin)
    today = await clock.today()
    await service.record_assessment_grade(who, org.id, AssessmentGradeCreate(grade="4A", awarded_on=today - timedelta(days=400)))
    entry = await service.add_credit_list_entry(
        who, org.id,
        CreditListEntryCreate(list="abnormal", reason="未按时报送年度工作报告", listed_on=today - timedelta(days=300)),
    )
    await service.remove_credit_list_entry(
        who, org.id, entry.id, CreditListEntryRemove(removed_on=today - timedelta(days=200), reason="已补报年度报告"), None
    )
    rating = await store_rating(
        org.id,
        RatingInputs(
            evaluations=[(Decimal("92.50"), Decimal("300000.00"), today - timedelta(days=30), "excellent"),
                         (Decimal("84.00"), Decimal("400000.00"), today - timedelta(days=500), "good")],
            on_time_milestones=1,  # due 40 days ago, delivered 45 days ago
            late_milestones=[(today - timedelta(days=200), today - timedelta(days=190))],
            assessment_grade=4,
            past_list_entries=[("abnormal", today - timedelta(days=300), today - timedelta(days=200), "未按时报送年度工作报告")],
        ),
    )
    return admin, vendor, org, rating


async def test_credit_report_shows_rating_components_grades_and_list_entries(client, rated_vendor):
    _, vendor, org, rating = rated_vendor
    pdf = await get_pdf(client, f"{API}/vendors/{org.id}/credit-report.pdf", vendor)
    text = squash(pdf.text)
    assert pdf.page_count == 2  # the rating history runs onto the second page
    assert_page_furniture(pdf, "政府购买服务管理平台", "信用报告")
    assert "承接主体信用报告" in text
    assert "深圳市阳光社工服务中心" in text
    assert org.uscc in text
    assert "民办非企业单位/社会服务机构" in text
    assert f"{rating.grade}级" in text and f"{rating.score}分" in text
    for label in ("履约评价", "按期交付", "社会组织评估等级", "守信记录"):
        assert label in text
    assert "近三年已验收评价2次" in text
    assert "到期里程碑2个，按期交付1个" in text
    assert "评估等级4A" in text
    assert "活动异常名录" in text and "未按时报送年度工作报告" in text and "已补报年度报告" in text
    assert "已移出" in text
    assert "可参与投标" in text


async def test_same_request_twice_gives_identical_bytes(client, rated_vendor):
    _, vendor, org, _ = rated_vendor
    first = await get_pdf(client, f"{API}/vendors/{org.id}/credit-report.pdf", vendor)
    second = await get_pdf(client, f"{API}/vendors/{org.id}/credit-report.pdf", vendor)
    assert first.content == second.content
    assert second.sha256_header == hashlib.sha256(second.content).hexdigest()


async def test_every_reader_gets_the_same_document(client, rated_vendor):
    _, vendor, org, _ = rated_vendor
    bureau = await factories.signed_in("bureau")
    supervisor = await factories.signed_in("supervisor")
    own = await get_pdf(client, f"{API}/vendors/{org.id}/credit-report.pdf", vendor)
    for reader in (bureau, supervisor):
        assert (await get_pdf(client, f"{API}/vendors/{org.id}/credit-report.pdf", reader)).content == own.content


async def test_an_active_list_entry_is_shown_and_bars_bidding(client):
    admin = await factories.signed_in("admin")
    org = await factories.organisation("vendor", "某某养老服务中心")
    today = await clock.today()
    await service.add_credit_list_entry(
        factories.actor(admin), org.id,
        CreditListEntryCreate(list="serious_dishonesty", reason="虚假材料骗取补贴", listed_on=today - timedelta(days=3)),
    )
    pdf = await get_pdf(client, f"{API}/vendors/{org.id}/credit-report.pdf", admin)
    text = squash(pdf.text)
    assert "严重违法失信名单" in text and "虚假材料骗取补贴" in text
    assert "在列1条" in text
    assert "不得参与投标" in text
    assert "暂定" in text  # no track record yet


async def test_a_new_list_entry_changes_the_report_and_its_as_of_time(client, rated_vendor):
    admin, vendor, org, _ = rated_vendor
    before = await get_pdf(client, f"{API}/vendors/{org.id}/credit-report.pdf", vendor)
    await advance_clock(minutes=5)
    await service.add_credit_list_entry(
        factories.actor(admin), org.id,
        CreditListEntryCreate(list="major_tax_violation", reason="偷税", listed_on=await clock.today()),
    )
    after = await get_pdf(client, f"{API}/vendors/{org.id}/credit-report.pdf", vendor)
    assert after.data_digest() != before.data_digest()
    assert "重大税收违法失信主体" in after.text


@pytest.mark.parametrize("role", ["vendor", "evaluator", "expert"])
async def test_others_get_404(client, rated_vendor, role):
    _, _, org, _ = rated_vendor
    other = await factories.signed_in(role)
    response = await client.get(f"{API}/vendors/{org.id}/credit-report.pdf", headers=other.headers)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


async def test_anonymous_caller_must_sign_in(client, rated_vendor):
    _, _, org, _ = rated_vendor
    assert (await client.get(f"{API}/vendors/{org.id}/credit-report.pdf")).status_code == 401


async def test_unknown_vendor_is_404(client):
    admin = await factories.signed_in("admin")
    response = await client.get(f"{API}/vendors/{uuid4()}/credit-report.pdf", headers=admin.headers)
    assert response.status_code == 404
