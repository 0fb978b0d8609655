"""`govbuy demo`: one year of a district's purchase of services, for a newcomer to look at.

深圳市福田区: the finance bureau publishes the guidance catalogue, the civil-affairs bureau
(民政局) buys elderly care, disability rehabilitation, social work and more from about thirty
social organisations; tenders go through every status, contracts through evaluated and paid
milestones. Everything is made through the services that the API calls, as the demo users,
with the sandbox clock walked forward through the year: every rule, the audit log and the
OCDS feed hold exactly as they would for requests. A few attempts that the rules refuse (a
listed vendor bidding, a conflicted expert on a panel) are made on purpose and reported.

The year is the calendar year after the day the demo runs (the sandbox clock only moves
forward), so `govbuy serve --sandbox` afterwards shows the service as of that year's end.
"""

from __future__ import annotations

import argparse
import asyncio
import heapq
import itertools
import os
import random
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID
from zoneinfo import ZoneInfo

from govbuy.audit import Actor
from govbuy.demo.catalogue import CATALOGUE
from govbuy.rules import RuleViolation

SHANGHAI = ZoneInfo("Asia/Shanghai")
REGION = "440304"  # 深圳市福田区
DEMO_PASSWORD = "govbuy-demo-password"
DEMO_MARK = "govbuy demo database"
SEED = 2027  # the pseudo-random choices (scores, bid times) are the same on every run

# --- the cast ---------------------------------------------------------------------------------

# (username, role, organisation key); every demo user has the password DEMO_PASSWORD.
USERS: tuple[tuple[str, str, str], ...] = (
    ("admin", "admin", "platform"),
    ("finance", "bureau", "finance"),
    ("bureau", "bureau", "civil_affairs"),
    ("supervisor", "supervisor", "audit"),
    ("evaluator", "evaluator", "evaluator1"),
    ("evaluator2", "evaluator", "evaluator2"),
    *((f"expert{n}" if n > 1 else "expert", "expert", "experts") for n in range(1, 8)),
    # vendor users follow VENDORS: "vendor" for the first, vendor02 … vendor30
)

# (key, name, kind, uscc prefix or None)
ORGANISATIONS: tuple[tuple[str, str, str, str | None], ...] = (
    ("platform", "govbuy 平台运营方", "platform", None),
    ("finance", "深圳市福田区财政局", "bureau", "11"),
    ("civil_affairs", "深圳市福田区民政局", "bureau", "11"),
    ("audit", "深圳市福田区审计局", "supervisor", "11"),
    ("experts", "福田区政府购买服务评审专家库", "platform", None),
    ("evaluator1", "深圳市鹏城绩效评价研究院", "evaluator", "52"),
    ("evaluator2", "广东中评第三方评估咨询有限公司", "evaluator", "91"),
)

# Social organisations (社会组织): USCC type 51 社会团体, 52 社会服务机构, 53 基金会; the
# civil-affairs assessment grade (民政部 评估等级) and the year it was awarded, if any.
VENDORS: tuple[tuple[str, str, int | None, int | None], ...] = (
    ("52", "深圳市福田区乐龄居家养老服务中心", 5, -2),
    ("52", "深圳市福田区启航社会工作服务中心", 5, -3),
    ("52", "深圳市福田区康宁残疾人康复中心", 4, -1),
    ("52", "深圳市福田区阳光社工服务社", 4, -2),
    ("52", "深圳市福田区春晖社区服务中心", 3, -4),
    ("52", "深圳市福田区同心长者照护中心", 4, -1),
    ("52", "深圳市福田区晨曦儿童发展中心", 3, -2),
    ("52", "深圳市福田区和谐家庭服务中心", 3, -3),
    ("52", "深圳市福田区彩虹助残服务中心", 4, -2),
    ("52", "深圳市福田区明德社会工作服务中心", 5, -1),
    ("52", "深圳市福田区悦享养老服务中心", 2, -3),
    ("52", "深圳市福田区益民救助服务中心", 3, -1),
    ("52", "深圳市福田区善水社会组织发展中心", 4, -4),
    ("52", "深圳市福田区德馨长者饭堂服务中心", None, None),
    ("52", "深圳市福田区新航社区矫正服务中心", 3, -2),
    ("52", "深圳市福田区友善志愿服务中心", None, None),
    ("52", "深圳市福田区安康心理咨询服务中心", 2, -6),
    ("51", "深圳市福田区长者服务协会", 4, -2),
    ("51", "深圳市福田区社会工作者协会", 5, -3),
    ("51", "深圳市福田区残疾人康复协会", 3, -1),
    ("51", "深圳市福田区志愿者联合会", 4, -4),
    ("51", "深圳市福田区家庭教育促进会", 3, -2),
    ("51", "深圳市福田区社区发展促进会", None, None),
    ("51", "深圳市福田区禁毒志愿者协会", 3, -3),
    ("51", "深圳市福田区心理咨询师协会", 2, -2),
    ("53", "深圳市福田区关爱老人基金会", 4, -1),
    ("53", "深圳市福田区助残公益基金会", 3, -3),
    ("53", "深圳市福田区儿童成长基金会", None, None),
    ("53", "深圳市福田区社区发展基金会", 4, -2),
    ("53", "深圳市福田区慈善公益基金会", 5, -1),
)


# The users the README and the demo's summary show (all of them have DEMO_PASSWORD).
README_USERS: tuple[tuple[str, str], ...] = (
    ("admin", "admin"),
    ("finance", "bureau"),
    ("bureau", "bureau"),
    ("supervisor", "supervisor"),
    ("evaluator", "evaluator"),
    ("expert", "expert"),
    ("vendor", "vendor"),
)


def vendor_username(index: int) -> str:
    return "vendor" if index == 0 else f"vendor{index + 1:02d}"


# --- the budget (先有预算、后购买服务) ---------------------------------------------------------

# (key, bureau key, code, title, amount in yuan); codes follow 政府收支分类科目.
BUDGET_LINES: tuple[tuple[str, str, str, str, str], ...] = (
    ("elderly", "civil_affairs", "2081002", "老年福利——政府购买养老服务", "6000000.00"),
    ("disability", "civil_affairs", "2081104", "残疾人康复——政府购买服务", "2500000.00"),
    ("assistance", "civil_affairs", "2082001", "临时救助及困难群众帮扶", "1500000.00"),
    ("social_work", "civil_affairs", "2080299", "其他民政管理事务——社会工作服务", "4000000.00"),
    ("children", "civil_affairs", "2081099", "其他社会福利——儿童关爱保护", "1200000.00"),
    ("finance_affairs", "finance", "2010699", "其他财政事务——预算绩效与监督", "1800000.00"),
)

# The default indicator bands of the evaluation template (投入 10, 过程 20, 产出 30, 效益 25, 满意度 15).
DEFAULT_CRITERIA = (("服务方案", "40"), ("团队与经验", "30"))


@dataclass(frozen=True)
class TenderPlan:
    """One tender of the year and how far it gets."""

    key: str
    bureau: str  # organisation key of the purchasing bureau
    title: str
    item: str  # level-3 catalogue code
    line: str  # budget line key
    method: str
    ceiling: str
    months: int
    publish: tuple[int, int]  # month, day of publication
    bid_days: int  # calendar days from publication to the deadline
    bidders: tuple[int, ...]  # indices into VENDORS, in the order they bid
    outcome: str  # draft | published | evaluating | awarded | contracted | cancelled | failed
    evaluation_method: str = "comprehensive"
    price_weight: str | None = "30"
    criteria: tuple[tuple[str, str], ...] = DEFAULT_CRITERIA
    milestones: tuple[tuple[str, str, int], ...] = (
        ("第一季度服务", "25", 90),
        ("第二季度服务", "25", 181),
        ("第三季度服务", "25", 273),
        ("第四季度服务", "25", 364),
    )
    # A criterion scored by rule from the bidder's assessment grade (民政部令第39号 Art. 30: a
    # priority, never a bar): (name, weight, {grade: points}).
    grade_criterion: tuple[str, str, dict[str, str]] | None = None
    invited: tuple[int, ...] = ()
    description: str = ""
    challenge_by: int | None = None  # a bidder that challenges the award (dismissed)
    listed_before_opening: int | None = None  # a bidder listed on a credit list before opening


TENDERS: tuple[TenderPlan, ...] = (
    TenderPlan(
        "home_care", "civil_affairs", "福田区居家养老上门服务项目", "A0101", "elderly", "public_tender",
        "1200000.00", 12, (2, 3), 24, (0, 5, 11, 17, 25), "contracted",
        description="为辖区 2,400 名 60 周岁以上居家老人提供助餐、助洁、助浴、助医与探访关爱上门服务。",
    ),
    TenderPlan(
        "rehabilitation", "civil_affairs", "福田区残疾人社区康复服务项目", "A0201", "disability",
        "competitive_consultation", "600000.00", 12, (2, 10), 14, (2, 8, 19), "contracted",
        criteria=(("服务方案", "40"), ("团队与经验", "25")),
        grade_criterion=("社会组织评估等级", "5", {"3A": "3", "4A": "4", "5A": "5"}),
        milestones=(("上半年服务", "50", 181), ("下半年服务", "50", 364)),
        description="为 300 名持证残疾人提供社区康复训练、辅具适配指导与家属照护培训（评估等级 3A 以上的社会组织优先，按等级计分）。",
    ),
    TenderPlan(
        "canteen", "civil_affairs", "福田区长者饭堂运营服务项目", "A0102", "elderly", "public_tender",
        "900000.00", 12, (3, 2), 22, (13, 0, 5, 17, 4), "contracted", challenge_by=17,
        milestones=(("首期运营", "30", 90), ("中期运营", "40", 200), ("期末运营", "30", 364)),
        description="运营 6 个社区长者饭堂，每日供餐不少于 800 份，含营养配餐与送餐上门。",
    ),
    TenderPlan(
        "assistance", "civil_affairs", "福田区困难群众救助帮扶服务项目", "A0301", "assistance",
        "competitive_negotiation", "450000.00", 12, (3, 16), 7, (11, 3, 1), "contracted",
        evaluation_method="lowest_price", price_weight=None, criteria=(),
        milestones=(("上半年帮扶", "50", 181), ("下半年帮扶", "50", 364)),
        description="为低保、特困供养及低收入家庭提供探访评估、个案帮扶和社会资源链接服务。",
    ),
    TenderPlan(
        "assessment", "civil_affairs", "福田区社会组织等级评估服务项目", "C0101", "social_work", "inquiry",
        "180000.00", 6, (4, 6), 8, (12, 20, 28), "contracted", evaluation_method="lowest_price",
        price_weight=None, criteria=(), milestones=(("评估报告", "100", 150),),
        description="对 60 家申报评估的社会组织开展等级评估，出具评估报告。",
    ),
    TenderPlan(
        "social_work", "civil_affairs", "福田区社区社会工作服务站运营项目", "B0101", "social_work",
        "public_tender", "2400000.00", 12, (10, 12), 25, (1, 3, 9, 18, 14, 16, 10), "evaluating",
        listed_before_opening=16,
        description="运营 10 个社区党群服务中心社工站，每站配备 3 名持证社工，开展个案、小组与社区活动。",
    ),
    TenderPlan(
        "performance", "finance", "福田区政府购买服务项目绩效评价咨询服务", "D0201", "finance_affairs",
        "competitive_consultation", "350000.00", 10, (9, 14), 12, (12, 22, 26, 18), "awarded",
        milestones=(("年度评价方案", "40", 60), ("评价报告", "60", 280)),
        description="为财政局制定政府购买服务绩效评价方案，并对年度重点项目开展评价咨询。",
    ),
    TenderPlan(
        "disabled_care", "civil_affairs", "福田区智力残疾人日间托养服务项目", "A0202", "disability",
        "single_source", "380000.00", 12, (11, 9), 9, (8,), "awarded", invited=(8,),
        evaluation_method="lowest_price", price_weight=None, criteria=(),
        milestones=(("上半年托养", "50", 181), ("下半年托养", "50", 364)),
        description="辖区唯一具备托养资质且已承接在托学员的机构继续提供日间托养服务（单一来源公示）。",
    ),
    TenderPlan(
        "volunteers", "civil_affairs", "福田区志愿服务组织培育项目", "B0401", "social_work", "public_tender",
        "300000.00", 12, (5, 11), 21, (15, 20), "failed",
        description="孵化 20 支社区志愿服务队伍，开展志愿者骨干培训与项目运营指导。",
    ),
    TenderPlan(
        "inspection", "finance", "福田区财政资金监督检查辅助服务项目", "E0201", "finance_affairs", "public_tender",
        "500000.00", 12, (6, 8), 23, (), "cancelled",
        description="对区级财政专项资金使用情况开展抽查核查，出具检查报告。",
    ),
    TenderPlan(
        "children", "civil_affairs", "福田区困境儿童关爱保护服务项目", "A0401", "children", "public_tender",
        "800000.00", 12, (12, 8), 28, (6, 21), "published",
        description="为 500 名困境儿童和留守儿童提供关爱探访、个案管理和家庭监护指导。",
    ),
    TenderPlan(
        "family", "civil_affairs", "福田区婚姻家庭辅导服务项目", "A0501", "children", "invited_tender",
        "260000.00", 12, (12, 1), 30, (7, 21), "published", invited=(7, 21, 24, 16),
        description="在婚姻登记处提供婚姻家庭辅导、离婚冷静期辅导和家庭关系调适服务（邀请招标）。",
    ),
    TenderPlan(
        "elderly_survey", "civil_affairs", "福田区养老服务需求调查项目", "A0103", "elderly", "public_tender",
        "200000.00", 6, (12, 15), 25, (), "draft",
        milestones=(("调查方案", "30", 30), ("调查报告", "70", 150)),
        description="对辖区 60 岁以上老年人开展养老服务需求抽样调查，为下一年度购买服务提供依据。",
    ),
)

# Credit-list entries (信用名单) the civil-affairs registry records: (vendor, list, reason,
# listed (month, day) of the demo year or days before it, removed (month, day) or None).
CREDIT_ENTRIES: tuple[tuple[int, str, str, int, tuple[int, int] | None], ...] = (
    (10, "abnormal", "未按规定报送年度工作报告，列入活动异常名录", -200, (4, 20)),
    (24, "serious_dishonesty", "被依法作出限期停止活动的行政处罚，列入严重违法失信名单", -90, None),
)


# --- the engine: stories on the sandbox clock ------------------------------------------------


class DemoRefused(Exception):
    """The database is not one the demo may fill."""


@dataclass
class DemoSummary:
    year: int
    users: list[tuple[str, str, str]] = field(default_factory=list)  # username, role, organisation
    organisations: dict[str, int] = field(default_factory=dict)
    catalogue_items: int = 0
    tenders: dict[str, str] = field(default_factory=dict)  # title -> status
    contracts: int = 0
    milestones_paid: int = 0
    payments_total: Decimal = Decimal("0.00")
    refused: list[str] = field(default_factory=list)  # attempts the rules refused, on purpose
    audit_events: int = 0
    ocds_releases: int = 0
    clock_end: datetime | None = None
    seconds: float = 0.0


Story = AsyncIterator[datetime]


@dataclass
class Demo:
    year: int
    rng: random.Random
    summary: DemoSummary
    say: Callable[[str], None]
    orgs: dict[str, Any] = field(default_factory=dict)  # key -> OrganisationRead
    actors: dict[str, Actor] = field(default_factory=dict)  # username -> Actor
    vendor_orgs: list[Any] = field(default_factory=list)
    item_ids: dict[str, UUID] = field(default_factory=dict)
    line_ids: dict[str, UUID] = field(default_factory=dict)
    tenders: dict[str, Any] = field(default_factory=dict)  # plan key -> last TenderRead
    contracts: dict[str, Any] = field(default_factory=dict)  # plan key -> ContractRead

    def at(self, month: int, day: int, hour: int = 9, minute: int = 30) -> datetime:
        return datetime(self.year, month, day, hour, minute, tzinfo=SHANGHAI)

    @property
    def end(self) -> datetime:
        """Where the demo leaves the clock: the last working days of the year."""
        return self.at(12, 28, 17, 0)

    @property
    def admin(self) -> Actor:
        return self.actors["admin"]

    def vendor(self, index: int) -> Actor:
        return self.actors[vendor_username(index)]

    def experts(self) -> list[Actor]:
        return [a for a in self.actors.values() if a.role == "expert"]

    async def refused(self, what: str, attempt: Any) -> None:
        """Make an attempt the rules must refuse, and report the refusal."""
        try:
            await attempt
        except RuleViolation as exc:
            self.summary.refused.append(f"{what}: {exc.code}")
            self.say(f"    refused as it should be — {what} ({exc.code})")
            return
        raise AssertionError(f"the demo expected this to be refused: {what}")


async def _walk_to(demo: Demo, when: datetime) -> None:
    from govbuy import clock
    from govbuy import service as kernel

    now = await clock.now()
    if when > now:
        await kernel.advance_clock(demo.admin, int((when - now).total_seconds()) + 1)


async def _run_stories(demo: Demo, stories: list[Story]) -> None:
    """Run the stories interleaved in time order: each yields the instant it next wants to
    act, the clock walks there, and the story with the earliest instant goes on."""
    order = itertools.count()
    queue: list[tuple[datetime, int, Story]] = []
    for story in stories:
        try:
            heapq.heappush(queue, (await anext(story), next(order), story))
        except StopAsyncIteration:
            pass
    while queue:
        when, _, story = heapq.heappop(queue)
        await _walk_to(demo, when)
        try:
            heapq.heappush(queue, (await anext(story), next(order), story))
        except StopAsyncIteration:
            pass


# --- setting up: organisations, users, registry records --------------------------------------


def _uscc(rng: random.Random, prefix: str) -> str:
    from govbuy.uscc import USCC_ALPHABET, make_uscc

    body = "".join(rng.choice(USCC_ALPHABET) for _ in range(9))
    return make_uscc(prefix + REGION + body)


async def _setup_people(demo: Demo) -> None:
    from govbuy import service as kernel
    from govbuy.schemas import OrganisationCreate, UserCreate

    def org_body(name: str, kind: str, prefix: str | None) -> OrganisationCreate:
        return OrganisationCreate(
            name=name,
            kind=kind,  # type: ignore[arg-type]
            uscc=_uscc(demo.rng, prefix) if prefix else None,
            region_code=REGION if kind in ("bureau", "vendor", "evaluator", "supervisor") else None,
        )

    async def add_user(actor: Actor | None, username: str, role: str, org: Any) -> Actor:
        user = await kernel.create_user(
            actor, UserCreate(username=username, password=DEMO_PASSWORD, organisation_id=org.id, role=role)  # type: ignore[arg-type]
        )
        demo.actors[username] = Actor(user.id, username, role, org.id, org.kind)
        demo.summary.users.append((username, role, org.name))
        return demo.actors[username]

    # The platform and its first admin, as `govbuy serve` creates them from the environment.
    key, name, kind, prefix = ORGANISATIONS[0]
    demo.orgs[key] = await kernel.create_organisation(None, org_body(name, kind, prefix))
    admin = await add_user(None, "admin", "admin", demo.orgs[key])
    for key, name, kind, prefix in ORGANISATIONS[1:]:
        demo.orgs[key] = await kernel.create_organisation(admin, org_body(name, kind, prefix))
    for username, role, org_key in USERS[1:]:
        await add_user(admin, username, role, demo.orgs[org_key])
    for index, (prefix, name, _, _) in enumerate(VENDORS):
        org = await kernel.create_organisation(admin, org_body(name, "vendor", prefix))
        demo.vendor_orgs.append(org)
        await add_user(admin, vendor_username(index), "vendor", org)
    demo.summary.organisations = {
        kind: sum(1 for o in [*demo.orgs.values(), *demo.vendor_orgs] if o.kind == kind)
        for kind in ("platform", "bureau", "supervisor", "evaluator", "vendor")
    }
    demo.say(f"  {len(demo.actors)} users in {len(demo.orgs) + len(demo.vendor_orgs)} organisations")


async def _registry_records(demo: Demo) -> None:
    """What the civil-affairs registry knows before the year starts: assessment grades, credit
    lists, and the experts' declared affiliations (回避)."""
    from procurement import service as procurement
    from procurement.schemas import AffiliationsWrite
    from vendors import service as vendors
    from vendors.schemas import AssessmentGradeCreate, CreditListEntryCreate

    for index, (_, _, grade, years_ago) in enumerate(VENDORS):
        if grade is None or years_ago is None:
            continue
        awarded = date(demo.year + years_ago, 1 + (index * 5) % 12, 10 + index % 15)
        await vendors.record_assessment_grade(
            demo.admin,
            demo.vendor_orgs[index].id,
            AssessmentGradeCreate(grade=f"{grade}A", awarded_on=awarded, note=f"{awarded.year}年度社会组织等级评估"),
        )
    for index, list_name, reason, days_before, _ in CREDIT_ENTRIES:
        await vendors.add_credit_list_entry(
            demo.admin,
            demo.vendor_orgs[index].id,
            CreditListEntryCreate(list=list_name, reason=reason, listed_on=date(demo.year, 1, 1) + timedelta(days=days_before)),  # type: ignore[arg-type]
        )
    # expert7 once worked for 明德社会工作服务中心 (vendor 9) and says so.
    expert7 = demo.actors["expert7"]
    await procurement.put_affiliations(demo.admin, expert7.user_id, AffiliationsWrite(organisation_ids=[demo.vendor_orgs[9].id]))


async def _catalogue_and_budget(demo: Demo) -> None:
    from planning import service as planning
    from planning.schemas import BudgetLineCreate, CatalogueCreate, CatalogueItemCreate

    finance = demo.actors["finance"]
    catalogue = await planning.create_catalogue(
        finance, CatalogueCreate(region_code=REGION, year=demo.year, title=f"福田区{demo.year}年政府购买服务指导性目录")
    )
    for code, name, description in CATALOGUE:
        item = await planning.add_catalogue_item(finance, catalogue.id, CatalogueItemCreate(code=code, name=name, description=description))
        demo.item_ids[code] = item.id
    await demo.refused(
        "a catalogue item for 劳务派遣 (the purchaser's own staffing is on the negative list)",
        planning.add_catalogue_item(finance, catalogue.id, CatalogueItemCreate(code="E0102", name="法律服务窗口人员劳务派遣")),
    )
    await planning.publish_catalogue(finance, catalogue.id, None)
    demo.summary.catalogue_items = len(CATALOGUE)
    for key, bureau, code, title, amount in BUDGET_LINES:
        bureau_actor = demo.actors["finance" if bureau == "finance" else "bureau"]
        line = await planning.create_budget_line(
            bureau_actor, BudgetLineCreate(code=code, year=demo.year, title=title, amount=Decimal(amount))
        )
        demo.line_ids[key] = line.id


async def _registry_story(demo: Demo) -> Story:
    """During the year: a vendor that filed its overdue annual report leaves the abnormal list
    (活动异常名录) and may bid again."""
    from vendors import service as vendors
    from vendors.schemas import CreditListEntryRemove

    for index, _, _, _, removed in CREDIT_ENTRIES:
        if removed is None:
            continue
        yield demo.at(*removed)
        vendor_id = demo.vendor_orgs[index].id
        entries = (await vendors.list_credit_list_entries(vendor_id, 200, None)).items
        for entry in entries:
            if entry.active:
                await vendors.remove_credit_list_entry(
                    demo.admin,
                    vendor_id,
                    entry.id,
                    CreditListEntryRemove(removed_on=demo.at(*removed).date(), reason="已补报年度工作报告，经登记管理机关核实移出"),
                    None,
                )
                demo.say(f"  {removed[0]:02d}-{removed[1]:02d} delisted   {demo.vendor_orgs[index].name}")


# --- a tender's year ---------------------------------------------------------------------------


def _proposal(name: str, rng: random.Random) -> str:
    staff = rng.randint(6, 24)
    social_workers = rng.randint(3, staff)
    return (
        f"{name}服务方案：组建 {staff} 人项目团队（其中持证社会工作者 {social_workers} 名），"
        f"建立“需求评估—服务计划—过程督导—成效评估”闭环管理，每月向采购人报送服务台账，"
        f"设立 24 小时服务热线，服务对象满意度目标不低于 {rng.randint(90, 97)}%。"
    )


def _score_sheet(criteria: tuple[tuple[str, str], ...], strength: float, rng: random.Random) -> dict[str, Decimal]:
    sheet = {}
    for name, weight in criteria:
        w = Decimal(weight)
        value = w * Decimal(str(min(1.0, max(0.5, strength + rng.uniform(-0.06, 0.06)))))
        sheet[name] = value.quantize(Decimal("0.1"))
    return sheet


INTENTION_LEAD_DAYS = 35
EARLY_TENDER_REASON = "年初预算批复后即开展的项目，无法在采购活动开始前30日公开采购意向"


async def _announce_intention(demo: Demo, bureau: Actor, plan: TenderPlan, published_at: datetime) -> UUID | None:
    """Publish the intention of a tender (its title, needs, ceiling as budget, month), if its
    budget line has the money available now; None if it has not (the tender then says why)."""
    from planning import service as planning
    from planning.schemas import ProcurementIntentionCreate

    line_id = demo.line_ids[plan.line]
    if (await planning.get_budget_line(bureau, line_id)).available < Decimal(plan.ceiling):
        return None
    intention = await planning.create_intention(
        bureau,
        ProcurementIntentionCreate(
            budget_line_id=line_id,
            title=f"{demo.year}年{plan.title}",
            needs=plan.description or plan.title,
            budget_amount=Decimal(plan.ceiling),
            expected_month=f"{published_at:%Y-%m}",
        ),
    )
    await planning.publish_intention(bureau, intention.id, None)
    demo.say(f"  {published_at - timedelta(days=INTENTION_LEAD_DAYS):%m-%d} intention  {intention.title}")
    return intention.id


async def _tender_story(demo: Demo, plan: TenderPlan) -> Story:
    from procurement import service as procurement
    from procurement.schemas import (
        BidCreate,
        ChallengeCreate,
        ChallengeResolve,
        BidReviewWrite,
        PanelDrawCreate,
        PanelWrite,
        ScoreSheetWrite,
        TenderCreate,
    )
    from vendors import service as vendors
    from vendors.schemas import CreditListEntryCreate

    rng = random.Random(f"{SEED}:{plan.key}")
    bureau = demo.actors["finance" if plan.bureau == "finance" else "bureau"]
    month, day = plan.publish
    published_at = demo.at(month, day)
    deadline = (published_at + timedelta(days=plan.bid_days)).replace(hour=9, minute=30)

    # The procurement intention (采购意向, 财库〔2020〕10号) goes out 35 days ahead; the first
    # tenders of the year, published less than 30 days after the budget, say why they had none.
    intention_id = None
    announce = published_at - timedelta(days=INTENTION_LEAD_DAYS)
    if announce >= demo.at(1, 5):
        yield announce
        intention_id = await _announce_intention(demo, bureau, plan, published_at)
    yield published_at - timedelta(days=3)
    body = {
        "title": f"{demo.year}年{plan.title}",
        "description": plan.description,
        "catalogue_item_id": demo.item_ids[plan.item],
        "budget_line_id": demo.line_ids[plan.line],
        "method": plan.method,
        "ceiling_amount": Decimal(plan.ceiling),
        "contract_months": plan.months,
        "evaluation_method": plan.evaluation_method,
        "price_weight": Decimal(plan.price_weight) if plan.price_weight else None,
        "criteria": [{"name": n, "weight": Decimal(w)} for n, w in plan.criteria]
        + ([{"name": plan.grade_criterion[0], "weight": Decimal(plan.grade_criterion[1]),
             "points_by_grade": plan.grade_criterion[2]}] if plan.grade_criterion else []),
        "milestones": [{"title": t, "percentage": Decimal(p), "due_offset_days": d} for t, p, d in plan.milestones],
        "bid_deadline": deadline,
        "invited_vendor_ids": [demo.vendor_orgs[i].id for i in plan.invited] or None,
        "procurement_intention_id": intention_id,
        "intention_notice_exception": None if intention_id else EARLY_TENDER_REASON,
    }
    tender = await procurement.create_tender(bureau, TenderCreate.model_validate(body))
    demo.tenders[plan.key] = tender
    demo.say(f"  {tender.created_at.astimezone(SHANGHAI):%m-%d} draft      {tender.title}")
    if plan.outcome == "draft":
        return

    yield published_at
    tender = await procurement.publish_tender(bureau, tender.id, None)
    demo.tenders[plan.key] = tender
    demo.say(f"  {published_at:%m-%d} published  {tender.title} (ceiling {tender.ceiling_amount} yuan)")

    if plan.outcome == "cancelled":
        yield published_at + timedelta(days=9)
        tender = await procurement.cancel_tender(bureau, tender.id, "年中预算调整，项目资金调减，本项目终止采购", None)
        demo.tenders[plan.key] = tender
        demo.say(f"  {published_at + timedelta(days=9):%m-%d} cancelled  {tender.title}")
        return

    # Bids arrive over the bidding period, sealed until the deadline.
    ceiling = Decimal(plan.ceiling)
    span = max(1, plan.bid_days - 2)
    bid_times = sorted(published_at + timedelta(days=rng.randint(1, span), hours=rng.randint(0, 7)) for _ in plan.bidders)
    bids: dict[int, Any] = {}
    for vendor_index, when in zip(plan.bidders, bid_times):
        yield min(when, deadline - timedelta(hours=2), demo.end - timedelta(days=1))
        price = (ceiling * Decimal(str(rng.uniform(0.86, 0.985)))).quantize(Decimal("0.01"))
        name = demo.vendor_orgs[vendor_index].name
        bids[vendor_index] = await procurement.submit_bid(
            demo.vendor(vendor_index), tender.id, BidCreate(price=price, proposal=_proposal(name, rng))
        )
    if plan.key == "home_care":
        # A vendor on the serious-dishonesty list (严重违法失信名单) may not bid (Art. 7).
        listed = CREDIT_ENTRIES[1][0]
        await demo.refused(
            f"{demo.vendor_orgs[listed].name} bidding while on the serious-dishonesty list",
            procurement.submit_bid(demo.vendor(listed), tender.id, BidCreate(price=ceiling / 2, proposal="方案")),
        )
    if plan.listed_before_opening is not None:
        # Eligibility is checked again at opening: a bidder listed after bidding is invalid.
        yield deadline - timedelta(days=1)
        await vendors.add_credit_list_entry(
            demo.admin,
            demo.vendor_orgs[plan.listed_before_opening].id,
            CreditListEntryCreate(
                list="dishonest_judgment_debtor",
                reason="经人民法院裁定列为失信被执行人（劳动争议判决未履行）",
                listed_on=(deadline - timedelta(days=1)).date(),
            ),
        )
    if plan.outcome == "published":
        return

    # The opening (开标): the first request after the deadline opens the tender.
    yield deadline + timedelta(minutes=30)
    opened = await procurement.get_tender(bureau, tender.id)
    demo.tenders[plan.key] = opened
    demo.say(f"  {deadline:%m-%d} opened     {opened.title}: {len(bids)} bid(s) → {opened.status}")
    if plan.outcome == "failed":
        assert opened.status == "failed", opened.status
        return

    yield deadline + timedelta(hours=2)
    panel_size = 5 if plan.method == "public_tender" else 3
    if plan.key == "social_work":
        await demo.refused(
            "expert7 on the panel of a tender its former employer bid on (回避)",
            procurement.set_panel(
                bureau, tender.id,
                PanelWrite(expert_user_ids=[e.user_id for e in demo.experts()[2:7]], reason="技术复杂，自行选定评审专家"),
            ),
        )
    # The panel is drawn at random from the pool (实施条例 Art. 39); expert7, affiliated with a
    # bidder, is excluded by the draw itself.
    drawn = await procurement.draw_panel(bureau, tender.id, PanelDrawCreate(size=panel_size))
    by_user = {e.user_id: e for e in demo.experts()}
    panel = [by_user[m.user_id] for m in drawn.experts]
    valid = [b for b in (await procurement.list_bids(bureau, tender.id, "valid", 200, None)).items]
    # Review before scoring (87号令 Arts. 44, 50): qualification by the bureau, compliance by the panel.
    for bid in valid:
        await procurement.review_bid(bureau, tender.id, bid.id, BidReviewWrite(responsive=True, reason="资格审查合格"))
        await procurement.review_bid(panel[0], tender.id, bid.id, BidReviewWrite(responsive=True, reason="实质性响应采购文件"))

    if plan.evaluation_method == "comprehensive":
        yield deadline + timedelta(days=1)
        # The first bidder of the plan is the organisation the service suits best.
        favourite = demo.vendor_orgs[plan.bidders[0]].id
        strength = {b.id: 0.93 if b.vendor_id == favourite else rng.uniform(0.66, 0.86) for b in valid}
        scorers = panel if plan.outcome != "evaluating" else panel[:3]
        for expert in scorers:
            for bid in valid:
                sheet = _score_sheet(plan.criteria, strength[bid.id], rng)
                await procurement.put_scores(expert, tender.id, bid.id, ScoreSheetWrite(scores=sheet))
    if plan.outcome == "evaluating":
        return

    yield deadline + timedelta(days=2)
    award = await procurement.award_tender(bureau, tender.id, None)
    demo.say(f"  {deadline + timedelta(days=2):%m-%d} awarded    {tender.title} → {award.vendor_name} at {award.price}")

    if plan.challenge_by is not None and plan.challenge_by in bids:
        yield deadline + timedelta(days=3)
        challenge = await procurement.file_challenge(
            demo.vendor(plan.challenge_by),
            tender.id,
            ChallengeCreate(grounds="中标人拟派项目负责人不具备招标文件要求的中级社会工作师资格，请予复核。"),
        )
        yield deadline + timedelta(days=5)
        await procurement.resolve_challenge(
            bureau,
            tender.id,
            challenge.id,
            ChallengeResolve(outcome="dismissed", reply="经核查，中标人项目负责人持有中级社会工作者职业水平证书，质疑不成立。"),
        )
        demo.say(f"  {deadline + timedelta(days=5):%m-%d} challenge  dismissed: {tender.title}")

    if plan.outcome == "awarded":
        return
    async for when in _contract_story(demo, plan, bureau, tender, award, rng):
        yield when


# How well each contract's milestones go (a strength 0–1 the evaluators' scores follow), and
# whether the vendor appeals the first evaluation (dismissed).
PERFORMANCE: dict[str, tuple[float, ...]] = {
    "home_care": (0.95, 0.86, 0.92),
    "rehabilitation": (0.74, 0.9),
    "canteen": (0.91, 0.83),
    "assistance": (0.88, 0.9),
    "assessment": (0.96,),
}
APPEALS = {"rehabilitation"}


def _evaluation_scores(strength: float, rng: random.Random) -> dict[str, Decimal]:
    from evaluation.rules import DEFAULT_TEMPLATE

    scores = {}
    for indicator in DEFAULT_TEMPLATE:
        if indicator.category.value == "satisfaction":
            continue  # scored from the beneficiaries' survey
        value = indicator.weight * Decimal(str(min(1.0, max(0.3, strength + rng.uniform(-0.05, 0.05)))))
        scores[indicator.code] = value.quantize(Decimal("0.01"))
    return scores


async def _contract_story(demo: Demo, plan: TenderPlan, bureau: Actor, tender: Any, award: Any, rng: random.Random) -> Story:
    """From the award to a signed contract (after the standstill, with no challenge pending)
    and through its milestones: deliverable, third-party evaluation, acceptance, the appeal
    window, payment by the payout ratio of the grade, and the treasury's confirmation."""
    from contracts import service as contracts
    from contracts.schemas import ContractCreate, DeliverableCreate, PaymentConfirm
    from evaluation import service as evaluation
    from evaluation.schemas import AppealCreate, AppealResolve, EvaluationCreate, ScoresWrite, SurveyIn

    vendor = demo.actors[vendor_username(next(i for i, o in enumerate(demo.vendor_orgs) if o.id == award.vendor_id))]
    yield award.standstill_until + timedelta(hours=20)
    signed_on = (await _now()).astimezone(SHANGHAI).date()
    start = (signed_on.replace(day=1) + timedelta(days=32)).replace(day=1)  # the first of next month
    contract = await contracts.create_contract(bureau, ContractCreate(tender_id=tender.id, start_date=start))
    yield award.standstill_until + timedelta(days=2)
    await contracts.sign_contract(vendor, contract.id, None, None)
    yield award.standstill_until + timedelta(days=3)
    contract = await contracts.sign_contract(bureau, contract.id, None, None)
    demo.contracts[plan.key] = contract
    demo.summary.contracts += 1
    demo.say(f"  {(await _now()).astimezone(SHANGHAI):%m-%d} contract   {contract.title}: {contract.amount} yuan from {start}")

    evaluators = [demo.actors["evaluator"], demo.actors["evaluator2"]]
    for milestone, strength in zip(contract.milestones, PERFORMANCE.get(plan.key, ())):
        due = datetime.combine(milestone.due_date, datetime.min.time(), SHANGHAI)
        evaluator = evaluators[milestone.sequence % 2]
        if due - timedelta(days=5) + timedelta(hours=15) > demo.end:
            break
        yield due - timedelta(days=10) + timedelta(hours=10)
        commissioned = await evaluation.commission(
            bureau,
            EvaluationCreate(
                contract_id=contract.id, milestone_id=milestone.id, evaluator_org_id=evaluator.organisation_id,
                due_date=milestone.due_date + timedelta(days=20),
            ),
        )
        yield due - timedelta(days=5) + timedelta(hours=15)
        served = rng.randint(180, 600)
        await contracts.submit_deliverable(
            vendor, contract.id, milestone.id,
            DeliverableCreate(
                summary=f"{milestone.title}：服务对象 {served} 人，累计服务 {served * rng.randint(6, 14)} 人次，"
                        f"开展小组活动 {rng.randint(8, 30)} 场，详见服务台账与满意度调查汇总。",
                figures={"people_served": Decimal(served), "service_hours": Decimal(served * rng.randint(3, 9))},
            ),
        )
        if due + timedelta(days=6, hours=11) > demo.end:
            break
        yield due + timedelta(days=6, hours=11)
        responses = rng.randint(80, 160)
        satisfied = min(responses, round(responses * min(0.99, strength + 0.03)))
        await evaluation.write_scores(
            evaluator, commissioned.id,
            ScoresWrite(
                scores=_evaluation_scores(strength, rng),
                survey=SurveyIn(responses=responses, satisfied=satisfied),
                findings="服务按合同约定开展，台账完整；建议加强个案跟进记录与志愿者培训。"
                if strength >= 0.85 else "服务数量基本达标，但个案记录不完整、部分服务未按计划频次开展，需限期整改。",
            ),
            None,
        )
        await evaluation.submit(evaluator, commissioned.id, None)
        if due + timedelta(days=9, hours=10) > demo.end:
            break
        yield due + timedelta(days=9, hours=10)
        accepted = await evaluation.accept(bureau, commissioned.id, None)
        demo.say(f"  {(await _now()).astimezone(SHANGHAI):%m-%d} evaluated  {contract.title} · {milestone.title}: "
                 f"{accepted.total_score} ({accepted.grade})")
        if plan.key in APPEALS and milestone.sequence == 1:
            yield accepted.accepted_at + timedelta(days=1)
            appeal = await evaluation.file_appeal(
                vendor, accepted.id, AppealCreate(reason="评价未充分考虑汛期停诊两周的客观因素，申请复核服务数量指标。")
            )
            yield accepted.accepted_at + timedelta(days=3)
            await evaluation.resolve_appeal(
                bureau, accepted.id, appeal.id,
                AppealResolve(outcome="dismissed", reply="经复核，停诊期间已按合同约定调整服务计划，评价结论维持不变。"),
            )
            demo.say(f"  {(await _now()).astimezone(SHANGHAI):%m-%d} appeal     dismissed: {contract.title}")
        if accepted.appeal_deadline + timedelta(days=3) > demo.end:
            break
        yield accepted.appeal_deadline + timedelta(hours=16)
        payment, _ = await contracts.pay_milestone(bureau, contract.id, milestone.id, f"demo-pay-{milestone.id}")
        demo.say(f"  {(await _now()).astimezone(SHANGHAI):%m-%d} paid       {contract.title} · {milestone.title}: "
                 f"{payment.amount} (withheld {payment.withheld_amount}, ratio {payment.payout_ratio})")
        yield accepted.appeal_deadline + timedelta(days=3)
        await contracts.confirm_payment(
            bureau, contract.id, payment.id,
            PaymentConfirm(treasury_reference=f"GK{demo.year}{rng.randint(10**9, 10**10 - 1)}"), None,
        )
        demo.summary.milestones_paid += 1
        demo.summary.payments_total += payment.amount


async def _now() -> datetime:
    from govbuy import clock

    return await clock.now()


# --- the whole year -------------------------------------------------------------------------


async def is_empty() -> bool:
    """Whether the database holds no organisation or user yet (a freshly migrated one)."""
    from govbuy import database as db

    return not await db.fetchval("SELECT EXISTS (SELECT 1 FROM organisations) OR EXISTS (SELECT 1 FROM users)")


async def run_demo(*, say: Callable[[str], None] | None = None) -> DemoSummary:
    """Fill an empty, migrated database with the demo year (the pool must be started, the
    settings in sandbox mode). What `govbuy demo` runs, and what tests/demo run."""
    from govbuy import clock
    from govbuy import database as db
    from govbuy.public import feed
    from govbuy.settings import get_settings

    feed.register()  # the OCDS feed follows the audit log
    started = time.perf_counter()
    if not get_settings().sandbox:
        raise DemoRefused("the demo walks the sandbox clock: run it with GOVBUY_SANDBOX=1")
    if not await is_empty():
        raise DemoRefused("the database already holds organisations or users")
    say = say or (lambda _: None)
    year = (await clock.today()).year + 1
    demo = Demo(year=year, rng=random.Random(SEED), summary=DemoSummary(year=year), say=say)

    say(f"setting up the platform and the people of 深圳市福田区 (as of {await clock.today()})")
    await _setup_people(demo)
    await _walk_to(demo, demo.at(1, 4, 9, 0))
    say(f"{year}-01: registry records, the {year} catalogue and the budget")
    await _registry_records(demo)
    await _catalogue_and_budget(demo)
    say(f"{year}: the tenders of the year")
    await _run_stories(demo, [_registry_story(demo), *(_tender_story(demo, plan) for plan in TENDERS)])
    await _walk_to(demo, demo.end)

    summary = demo.summary
    for plan in TENDERS:
        from procurement import service as procurement

        bureau = demo.actors["finance" if plan.bureau == "finance" else "bureau"]
        tender = await procurement.get_tender(bureau, demo.tenders[plan.key].id)
        summary.tenders[tender.title] = tender.status
    summary.audit_events = await db.fetchval("SELECT count(*) FROM audit_events")
    summary.ocds_releases = await db.fetchval("SELECT count(*) FROM ocds_releases")
    summary.clock_end = await clock.now()
    summary.seconds = time.perf_counter() - started
    return summary


# --- the command ------------------------------------------------------------------------------


def _print_summary(summary: DemoSummary) -> None:
    print()
    print(f"govbuy demo: the year {summary.year} of 深圳市福田区, done in {summary.seconds:.0f} s")
    print(f"  sandbox clock now {summary.clock_end.astimezone(SHANGHAI):%Y-%m-%d %H:%M} (Asia/Shanghai)" if summary.clock_end else "")
    print(f"  organisations: {', '.join(f'{n} {k}' for k, n in summary.organisations.items())}")
    print(f"  catalogue items: {summary.catalogue_items}")
    for title, status in summary.tenders.items():
        print(f"  {status:<11} {title}")
    if summary.contracts:
        print(f"  contracts: {summary.contracts}, milestones paid: {summary.milestones_paid} ({summary.payments_total} yuan)")
    for line in summary.refused:
        print(f"  refused on purpose: {line}")
    print(f"  audit events: {summary.audit_events}, OCDS releases: {summary.ocds_releases}")
    print()
    print(f"Sign in with any of these users, password '{DEMO_PASSWORD}':")
    organisation = {username: org for username, _, org in summary.users}
    for username, role in README_USERS:
        print(f"  {username:<11} {role:<10} {organisation[username]}")
    print("  also: evaluator2 (a second evaluation agency), expert2 … expert7, vendor02 … vendor30")
    print()
    print("Then run the service on the demo's clock:  ./dev serve --sandbox   (or: govbuy serve --sandbox)")


async def _database_state(dsn: str) -> tuple[bool, bool, bool]:
    """(exists, empty, created by the demo) of the DSN's database."""
    import asyncpg

    from govbuy import database as db

    name = urlsplit(dsn).path.lstrip("/")
    admin = await asyncpg.connect(db.with_database(dsn, "postgres"))
    try:
        row = await admin.fetchrow(
            "SELECT shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE datname = $1", name
        )
    finally:
        await admin.close()
    if row is None:
        return False, True, False
    marked = row["comment"] == DEMO_MARK
    conn = await asyncpg.connect(dsn)
    try:
        has_tables = await conn.fetchval("SELECT to_regclass('public.organisations') IS NOT NULL")
        empty = not has_tables or not await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM organisations) OR EXISTS (SELECT 1 FROM users)"
        )
    finally:
        await conn.close()
    return True, empty, marked


async def _mark_demo_database(owner_dsn: str) -> None:
    """Mark the database as the demo's (a comment on it, which only its owner may write)."""
    import asyncpg

    conn = await asyncpg.connect(owner_dsn)
    try:
        name = await conn.fetchval("SELECT current_database()")
        await conn.execute(f"COMMENT ON DATABASE \"{name}\" IS '{DEMO_MARK}'")
    finally:
        await conn.close()


def cmd_demo(args: argparse.Namespace) -> None:
    from govbuy import database as db
    from govbuy.settings import get_settings

    # The demo walks the sandbox clock; the settings are read once, so set it before.
    os.environ["GOVBUY_SANDBOX"] = "1"
    get_settings.cache_clear()
    dsn = db.resolve_dsn(get_settings())
    exists, empty, marked = asyncio.run(_database_state(dsn))
    if exists and not empty:
        if not (args.force and marked):
            where = urlsplit(dsn).path.lstrip("/")
            print(
                f"The database '{where}' is not empty, so the demo leaves it alone.\n"
                + (
                    "  It was filled by an earlier demo: `govbuy demo --force` starts it again from scratch.\n"
                    if marked
                    else "  --force only replaces a database that an earlier demo created.\n"
                )
                + "  For a separate demo database, use another data folder, e.g.\n"
                "    GOVBUY_DATA_DIR=.govbuy-demo ./dev demo && GOVBUY_DATA_DIR=.govbuy-demo ./dev serve --sandbox",
                file=sys.stderr,
            )
            sys.exit(1)
        print("replacing the earlier demo database")
        asyncio.run(db.drop_database(dsn))

    def say(line: str) -> None:
        if not args.quiet:
            print(line, flush=True)

    # Marked before it is filled, so that `--force` may replace a demo that stopped half-way.
    asyncio.run(_mark_demo_database(db.prepare_database().owner))
    try:
        summary = db.run_job(lambda: run_demo(say=say))
    except DemoRefused as exc:
        print(f"demo refused: {exc}", file=sys.stderr)
        sys.exit(1)
    _print_summary(summary)


def register_commands(subparsers: argparse._SubParsersAction) -> None:
    command = subparsers.add_parser(
        "demo",
        help="fill an empty database with a year of one district's purchase of services (demo users, sandbox clock)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    command.add_argument(
        "--force", action="store_true", help="replace the database if (and only if) an earlier demo created it"
    )
    command.add_argument("--quiet", action="store_true", help="print only the summary")
    command.set_defaults(func=cmd_demo)
