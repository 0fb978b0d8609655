"""Demo-like data for the PDF reports, written straight into the tables with set-based SQL:
a district civil-affairs bureau (深圳市福田区民政局), its catalogue with the five standard level-1
categories, a budget line, social organisations, evaluation agencies and any number of
contracts with their milestones, deliverables, accepted evaluations and payments, as they stand
at the end of a year.

For the report tests, the sample PDFs (scripts/make_samples.py) and the bench (bench/reports.py):
walking a thousand contracts through the services would take an hour; this takes seconds. The
rows keep every constraint of the schema and follow the rules' own arithmetic (grades, payout
ratios, milestone amounts), with pseudo-random choices from a seed, so a seed gives the same
data every time (ids included).

Top layer (STYLE habit 14): reads any domain's tables directly, set-based, and writes them
directly too, bypassing the services on purpose (data for benchmarks, not a process).
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from contracts import rules as contract_rules
from evaluation import rules as evaluation_rules
from govbuy import database as db
from govbuy.rules import SHANGHAI, to_fen
from govbuy.uscc import make_uscc

BUREAU_NAME = "深圳市福田区民政局"
REGION = "440304"
NOT_A_PASSWORD_HASH = "!"  # report data users never sign in with a password (tests mint tokens)

# The five standard level-1 categories (指导性目录), each with a level-2 and level-3 items.
CATALOGUE: tuple[tuple[str, str], ...] = (
    ("A", "基本公共服务"),
    ("A01", "养老服务"),
    ("A0101", "居家养老上门服务"),
    ("A0102", "社区日间照料服务"),
    ("A02", "残疾人服务"),
    ("A0201", "残疾人康复服务"),
    ("B", "社会管理性服务"),
    ("B01", "社区治理服务"),
    ("B0101", "社区社会工作服务"),
    ("B0102", "矛盾纠纷调解服务"),
    ("C", "行业管理与协调性服务"),
    ("C01", "行业调查与统计"),
    ("C0101", "行业调查统计服务"),
    ("D", "技术性服务"),
    ("D01", "技术评估与运维"),
    ("D0101", "第三方绩效评价服务"),
    ("D0102", "信息系统运行维护服务"),
    ("E", "政府履职所需辅助性服务"),
    ("E01", "法律与研究服务"),
    ("E0101", "法律顾问服务"),
    ("E0102", "课题研究服务"),
)
# How often each level-3 item is bought: elderly care and social work dominate a civil-affairs year.
ITEM_WEIGHTS = {"A0101": 6, "A0102": 4, "A0201": 3, "B0101": 5, "B0102": 2, "C0101": 1, "D0101": 1,
                "D0102": 1, "E0101": 1, "E0102": 1}
STREETS = ("园岭", "南园", "沙头", "梅林", "华富", "香蜜湖", "莲花", "福保", "福田", "华强北")
VENDOR_NAMES = (
    "深圳市福田区阳光社会工作服务中心", "深圳市彩虹社会工作服务社", "深圳市康宁居家养老服务中心",
    "深圳市晨曦公益服务中心", "深圳市福田区启智残障人士康复中心", "深圳市和谐邻里社区发展中心",
    "深圳市同心调解服务中心", "深圳市鹏城社会组织发展研究院", "深圳市乐龄长者服务中心",
    "深圳市明德法律服务中心",
)
EVALUATOR_NAMES = ("深圳市正衡绩效评价有限公司", "广东华信第三方评估中心")
FINDINGS = {
    "excellent": [
        "服务对象覆盖率高，台账规范完整，服务记录与抽查情况一致。",
        "项目团队专业结构合理，督导机制健全，服务对象满意度高。",
        "建议总结服务模式，形成可复制推广的经验。",
    ],
    "good": [
        "总体完成合同约定的服务数量，服务质量较好。",
        "部分服务记录填写不够及时，个别活动缺少签到资料。",
        "建议加强过程记录管理，提升资料归档的及时性。",
    ],
    "fair": [
        "服务数量基本完成，但服务质量存在明显短板。",
        "人员流动较大，专业社工持证比例偏低，部分服务未按计划开展。",
        "建议限期整改，补充专业人员并完善服务质量控制。",
    ],
    "poor": [
        "服务数量未达到合同约定，抽查发现服务记录与实际不符。",
        "资金使用存在不合规支出，服务对象满意度偏低。",
        "建议依约扣减服务费用，并将评价结果纳入信用记录。",
    ],
}


# The expert pool of the sample award (姓名 as the award notice lists them, 87号令 Art. 69).
EXPERT_NAMES = ("王建国", "李秀英", "张伟", "刘芳", "陈志强", "杨丽", "赵敏", "黄海涛")
NON_RESPONSIVE_REASON = "服务方案未响应招标文件第三章第2条夜间应急服务的实质性要求"


def local(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI)


@dataclass
class ReportWorld:
    """The people and the frame (catalogue, budget line, template) that contracts are made in."""

    year: int
    bureau_id: UUID
    bureau_name: str
    bureau_user_id: UUID
    vendor_ids: list[UUID]
    vendor_user_ids: list[UUID]
    evaluator_ids: list[UUID]
    evaluator_user_ids: list[UUID]
    item_ids: dict[str, UUID]  # level-3 code → catalogue item id
    item_names: dict[str, str]
    budget_line_id: UUID
    template_id: UUID
    rng: random.Random = field(repr=False)

    def uuid(self) -> UUID:
        return UUID(int=self.rng.getrandbits(128), version=4)


def _uscc(rng: random.Random, prefix: str) -> str:
    body = "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(9))
    return make_uscc(prefix + REGION + body)


async def report_world(
    year: int, *, seed: int = 2026, bureau_name: str = BUREAU_NAME, vendors: int = 8, evaluators: int = 2,
    budget: Decimal = Decimal("10000000.00"),
) -> ReportWorld:
    """A bureau with its published catalogue of `year`, a budget line, vendors and evaluators."""
    rng = random.Random(seed)

    def new_id() -> UUID:
        return UUID(int=rng.getrandbits(128), version=4)

    created = local(date(year, 1, 4), 9)
    tag = hashlib.sha256(f"{seed}:{bureau_name}".encode()).hexdigest()[:6]
    bureau_id, bureau_user = new_id(), new_id()
    vendor_ids = [new_id() for _ in range(vendors)]
    vendor_users = [new_id() for _ in range(vendors)]
    evaluator_ids = [new_id() for _ in range(evaluators)]
    evaluator_users = [new_id() for _ in range(evaluators)]
    organisations = [(bureau_id, bureau_name, "bureau", _uscc(rng, "11"), REGION, created)]
    organisations += [
        (vid, VENDOR_NAMES[n % len(VENDOR_NAMES)] + ("" if n < len(VENDOR_NAMES) else f"（{n // len(VENDOR_NAMES) + 1}）"),
         "vendor", _uscc(rng, "52"), REGION, created)
        for n, vid in enumerate(vendor_ids)
    ]
    organisations += [
        (eid, EVALUATOR_NAMES[n % len(EVALUATOR_NAMES)] + ("" if n < len(EVALUATOR_NAMES) else str(n)),
         "evaluator", _uscc(rng, "91"), REGION, created)
        for n, eid in enumerate(evaluator_ids)
    ]
    await db.executemany(
        "INSERT INTO organisations (id, name, kind, uscc, region_code, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        organisations,
    )
    users = [(bureau_user, f"report-bureau-{tag}", bureau_id, "bureau")]
    users += [(u, f"report-vendor-{tag}-{n}", v, "vendor") for n, (u, v) in enumerate(zip(vendor_users, vendor_ids))]
    users += [(u, f"report-evaluator-{tag}-{n}", e, "evaluator") for n, (u, e) in enumerate(zip(evaluator_users, evaluator_ids))]
    await db.executemany(
        """INSERT INTO users (id, username, password_hash, organisation_id, role, created_at)
           VALUES ($1, $2, $3, $4, $5, $6)""",
        [(u, name, NOT_A_PASSWORD_HASH, org, role, created) for u, name, org, role in users],
    )

    catalogue_id = new_id()
    async with db.transaction():
        await db.execute(
            """INSERT INTO catalogues (id, region_code, year, version_no, title, status, created_by_org, created_at)
               VALUES ($1, $2, $3, 1, $4, 'draft', $5, $6)""",
            catalogue_id, REGION, year, f"{year}年度福田区政府购买服务指导性目录", bureau_id, created,
        )
        items = [(new_id(), code, name) for code, name in CATALOGUE]
        await db.executemany(
            """INSERT INTO catalogue_items (id, catalogue_id, code, level, parent_code, name, description, created_at)
               VALUES ($1, $2, $3, $4, $5, $6, '', $7)""",
            [
                (iid, catalogue_id, code, 1 + (len(code) - 1) // 2, code[:-2] if len(code) > 1 else None, name, created)
                for iid, code, name in items
            ],
        )
        await db.execute(
            "UPDATE catalogues SET status = 'published', published_at = $2 WHERE id = $1", catalogue_id, created
        )
    line_id = new_id()
    await db.execute(
        """INSERT INTO budget_lines (id, bureau_id, code, year, title, amount, created_at, updated_at)
           VALUES ($1, $2, $3, $4, '政府购买服务专项资金', $5, $6, $6)""",
        line_id, bureau_id, f"2080201-{tag}", year, budget, created,
    )
    template_id = await db.fetchval("SELECT id FROM indicator_templates WHERE is_default")
    if template_id is None:
        template_id = new_id()
        await db.execute(
            """INSERT INTO indicator_templates (id, name, description, indicators, is_default, created_at)
               VALUES ($1, '政府购买服务绩效评价指标（默认）', '', $2, true, $3)""",
            template_id, evaluation_rules.as_dicts(evaluation_rules.DEFAULT_TEMPLATE), created,
        )
    level3 = {code: (iid, name) for iid, code, name in items if len(code) == 5}
    return ReportWorld(
        year=year,
        bureau_id=bureau_id,
        bureau_name=bureau_name,
        bureau_user_id=bureau_user,
        vendor_ids=vendor_ids,
        vendor_user_ids=vendor_users,
        evaluator_ids=evaluator_ids,
        evaluator_user_ids=evaluator_users,
        item_ids={code: iid for code, (iid, _) in level3.items()},
        item_names={code: name for code, (_, name) in level3.items()},
        budget_line_id=line_id,
        template_id=template_id,
        rng=rng,
    )


@dataclass
class _Rows:
    tenders: list[tuple] = field(default_factory=list)
    bids: list[tuple] = field(default_factory=list)
    awards: list[tuple] = field(default_factory=list)
    contracts: list[tuple] = field(default_factory=list)
    milestones: list[tuple] = field(default_factory=list)
    deliverables: list[tuple] = field(default_factory=list)
    evaluations: list[tuple] = field(default_factory=list)
    payments: list[tuple] = field(default_factory=list)


MILESTONE_PLAN = (("首期服务", Decimal("30")), ("中期服务", Decimal("40")), ("终期服务", Decimal("30")))


def _scores(rng: random.Random, strength: float, indicators: tuple[evaluation_rules.Indicator, ...]) -> tuple[dict[str, Decimal], int, int]:
    """Indicator scores around a contract's strength, the satisfaction one from a survey."""
    scores = {}
    responses = rng.randint(40, 160)
    satisfied = min(responses, round(responses * min(1.0, strength + rng.uniform(-0.04, 0.06))))
    for ind in indicators:
        if ind.category is evaluation_rules.IndicatorCategory.SATISFACTION:
            scores[ind.code] = evaluation_rules.satisfaction_score(responses, satisfied, ind.weight)
        else:
            quality = min(1.0, max(0.2, strength + rng.uniform(-0.08, 0.08)))
            scores[ind.code] = (ind.weight * Decimal(str(round(quality, 2)))).quantize(Decimal("0.5"))
    return scores, responses, satisfied


async def add_contracts(world: ReportWorld, count: int, *, as_of: date | None = None, terminate_every: int = 0) -> list[UUID]:
    """`count` contracts of the world's bureau as they stand on `as_of` (default: 20 December of
    the world's year): tenders awarded and contracted, contracts signed, milestones delivered,
    evaluated (accepted) and paid as their due dates passed. Every `terminate_every`-th contract
    (0: none) was terminated for cause after its first payment."""
    rng = world.rng
    as_of = as_of or date(world.year, 12, 20)
    now = local(as_of, 18)
    indicators = evaluation_rules.DEFAULT_TEMPLATE
    indicator_rows = evaluation_rules.as_dicts(indicators)
    payment_rule = evaluation_rules.as_dicts(evaluation_rules.DEFAULT_PAYMENT_RULE)
    codes = list(ITEM_WEIGHTS)
    weights = [ITEM_WEIGHTS[c] for c in codes]
    rows = _Rows()
    contract_ids = []
    committed = spent = Decimal(0)
    for n in range(count):
        code = rng.choices(codes, weights)[0]
        street = STREETS[n % len(STREETS)]
        title = f"{street}街道{world.item_names[code]}项目"
        if n >= len(STREETS):
            title = f"{street}街道{world.item_names[code]}项目（{n // len(STREETS) + 1}期）"
        winner = rng.randrange(len(world.vendor_ids))
        months = rng.choice((6, 9, 12, 12))
        start = date(world.year, 1, 1) + timedelta(days=rng.randrange(0, 200))
        published = local(start - timedelta(days=60), 9, 30)
        deadline = local(start - timedelta(days=35), 9, 30)
        awarded = local(start - timedelta(days=30), 15)
        ceiling = Decimal(rng.randrange(30, 180)) * 10000
        price = to_fen(ceiling * Decimal(str(round(rng.uniform(0.86, 0.98), 4))))
        tender_id, bid_id, award_id, contract_id = world.uuid(), world.uuid(), world.uuid(), world.uuid()
        contract_ids.append(contract_id)
        end = contract_rules.contract_end_date(start, months)
        plan = [
            (t, p, round((end - start).days * (i + 1) / len(MILESTONE_PLAN)) - 5)
            for i, (t, p) in enumerate(MILESTONE_PLAN)
        ]
        rows.tenders.append((
            tender_id, world.bureau_id, title, world.item_ids[code], world.budget_line_id, ceiling, months,
            [{"title": t, "percentage": str(p), "due_offset_days": d} for t, p, d in plan],
            deadline, published, local(start - timedelta(days=5)), award_id,
        ))
        eligibility = {"eligible": True, "reasons": [], "checked_on": deadline.date().isoformat()}
        rows.bids.append((
            bid_id, tender_id, world.vendor_ids[winner], world.vendor_user_ids[winner], price,
            deadline - timedelta(days=2), eligibility, rng.choice(("A", "B", None)),
            hashlib.md5(str(bid_id).encode()).hexdigest(), hashlib.sha256(str(bid_id).encode()).hexdigest(),
        ))
        ranking = [{
            "rank": 1, "bid_id": str(bid_id), "vendor_id": str(world.vendor_ids[winner]), "vendor_name": "",
            "price": str(price), "price_score": "30.00", "technical_score": "60.00", "total_score": "90.00",
            "credit_grade_at_opening": None, "submitted_at": (deadline - timedelta(days=2)).isoformat(),
        }]
        rows.awards.append((award_id, tender_id, bid_id, world.vendor_ids[winner], price, ranking, awarded,
                            awarded + timedelta(days=10)))

        signed = local(start - timedelta(days=3), 11)
        amounts = contract_rules.split_milestones(price, plan)
        terminated = bool(terminate_every) and n % terminate_every == terminate_every - 1
        strength = rng.triangular(0.5, 0.99, 0.86)
        statuses = []
        for seq, ((m_title, pct, offset), share) in enumerate(zip(plan, amounts), start=1):
            milestone_id = world.uuid()
            due = start + timedelta(days=offset)
            amount = share.amount
            delivered = local(due + timedelta(days=rng.choice((-9, -6, -4, -3, -1, 0, 0, 2, 5))), 16)
            status, delivered_at, cancelled_at = "pending", None, None
            if terminated and seq > 1:
                status, cancelled_at = "cancelled", local(start + timedelta(days=plan[0][2] + 40), 10)
            elif delivered <= now:
                status, delivered_at = "delivered", delivered
            statuses.append(status)
            rows.milestones.append((milestone_id, contract_id, seq, m_title, pct, amount, offset, due, status,
                                    delivered_at, cancelled_at))
            if delivered_at is None:
                continue
            people = rng.randint(60, 400)
            figures = {"people_served": str(people), "person_times_served": str(people * rng.randint(4, 12)),
                       "sessions_held": str(rng.randint(12, 80)), "service_hours": f"{rng.randint(300, 2400)}.00"}
            summary = f"{m_title}阶段共服务{people}人，开展服务{figures['sessions_held']}场次，服务记录及台账已归档。"
            rows.deliverables.append((world.uuid(), contract_id, milestone_id, summary, figures,
                                      world.vendor_user_ids[winner], delivered_at))
            commissioned = delivered_at + timedelta(days=3)
            submitted = delivered_at + timedelta(days=15)
            accepted = delivered_at + timedelta(days=20)
            if commissioned > now:
                continue
            evaluator = (winner + seq) % len(world.evaluator_ids)
            scores, responses, satisfied = _scores(rng, strength, indicators)
            total = evaluation_rules.total_score(indicators, scores)
            grade = evaluation_rules.grade_for(total).value
            evaluation_id = world.uuid()
            e_status = "accepted" if accepted <= now else "submitted" if submitted <= now else "commissioned"
            findings = "\n".join(FINDINGS[grade]) if e_status != "commissioned" else ""
            rows.evaluations.append((
                evaluation_id, contract_id, milestone_id, world.bureau_id, world.vendor_ids[winner],
                world.evaluator_ids[evaluator], world.template_id, indicator_rows, (delivered_at + timedelta(days=30)).date(),
                e_status, {k: str(v) for k, v in scores.items()} if e_status != "commissioned" else {},
                responses if e_status != "commissioned" else None, satisfied if e_status != "commissioned" else None,
                findings, total if e_status != "commissioned" else None, grade if e_status != "commissioned" else None,
                world.bureau_user_id, commissioned,
                submitted if e_status != "commissioned" else None,
                world.evaluator_user_ids[evaluator] if e_status != "commissioned" else None,
                accepted if e_status == "accepted" else None,
                world.bureau_user_id if e_status == "accepted" else None,
                accepted + timedelta(days=7) if e_status == "accepted" else None,
            ))
            rows.milestones[-1] = rows.milestones[-1][:8] + ("evaluated" if e_status == "accepted" else "delivered",) + rows.milestones[-1][9:]
            paid_at = accepted + timedelta(days=5)
            if e_status != "accepted" or paid_at > now:
                continue
            ratio = evaluation_rules.payout_ratio(evaluation_rules.DEFAULT_PAYMENT_RULE, total)
            paid = to_fen(amount * ratio)
            confirmed = paid_at + timedelta(days=3)
            rows.payments.append((
                world.uuid(), contract_id, milestone_id, evaluation_id, world.bureau_id, world.vendor_ids[winner],
                world.budget_line_id, f"pay-{milestone_id}", amount, paid, amount - paid, ratio, total, grade,
                "confirmed" if confirmed <= now else "pending",
                f"GK{confirmed:%Y%m%d}{rng.randrange(10**6):06d}" if confirmed <= now else None,
                confirmed if confirmed <= now else None, world.bureau_user_id if confirmed <= now else None,
                world.bureau_user_id, paid_at,
            ))
            rows.milestones[-1] = rows.milestones[-1][:8] + ("paid",) + rows.milestones[-1][9:]
            spent += paid
        final = [m[8] for m in rows.milestones[-3:]]
        if terminated:
            c_status = "terminated"
        elif all(s == "paid" for s in final):
            c_status = "completed"
        else:
            c_status = "active"
        completed_at = max(p[-1] for p in rows.payments[-3:]) if c_status == "completed" else None
        terminated_at = local(start + timedelta(days=plan[0][2] + 40), 10) if terminated else None
        contract_amount = price
        committed += price
        rows.contracts.append((
            contract_id, tender_id, bid_id, world.bureau_id, world.vendor_ids[winner], world.budget_line_id, title,
            ceiling, price, contract_amount, months, start, end, payment_rule, c_status,
            signed - timedelta(hours=2), world.bureau_user_id, signed, world.vendor_user_ids[winner], signed,
            completed_at, terminated_at, world.bureau_user_id if terminated else None,
            "承接方服务人员严重不足，经两次书面整改通知仍未改正" if terminated else None,
            True if terminated else None, world.bureau_user_id, local(start - timedelta(days=10), 10),
        ))

    async with db.transaction():
        await db.executemany(
            """INSERT INTO tenders (id, bureau_id, title, description, catalogue_item_id, budget_line_id, method,
                   ceiling_amount, contract_months, evaluation_method, price_weight, criteria, milestones,
                   bid_deadline, status, reserved_amount, published_at, opened_at, created_at, updated_at)
               VALUES ($1, $2, $3, '', $4, $5, 'public_tender', $6, $7, 'comprehensive', 30,
                   '[{"name": "服务方案", "weight": "40"}, {"name": "团队与经验", "weight": "30"}]', $8,
                   $9, 'evaluating', $6, $10, $9, $10, $11)""",
            [t[:-1] for t in rows.tenders],
        )
        await db.executemany(
            """INSERT INTO bids (id, tender_id, vendor_id, submitted_by, price, proposal, status, first_submitted_at,
                   submitted_at, eligibility_at_submission, eligibility_at_opening, credit_grade_at_opening,
                   seal_nonce, content_digest)
               VALUES ($1, $2, $3, $4, $5, '服务方案（略）', 'valid', $6, $6, $7, $7, $8, $9, $10)""",
            rows.bids,
        )
        await db.executemany(
            """INSERT INTO tender_awards (id, tender_id, winning_bid_id, vendor_id, price, ranking, awarded_at,
                   standstill_until) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)""",
            rows.awards,
        )
        # A contracted tender names its award, and the award its tender: the tender is written as
        # under evaluation first, then moved on once its award exists.
        await db.executemany(
            """UPDATE tenders SET status = 'contracted', reserved_amount = 0, award_id = $2, closed_at = updated_at
               WHERE id = $1""",
            [(t[0], t[-1]) for t in rows.tenders],
        )
        await db.executemany(
            """INSERT INTO contracts (id, tender_id, bid_id, bureau_id, vendor_id, payee_id, budget_line_id, title,
                   reserved_amount, original_amount, amount, contract_months, recurring, start_date, end_date,
                   payment_rule, payment_rule_source, status, bureau_signed_at, bureau_signed_by, vendor_signed_at,
                   vendor_signed_by, activated_at, completed_at, terminated_at, terminated_by, termination_reason,
                   terminated_for_cause, created_by, created_at)
               VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8, $9, $10, $11, false, $12, $13, $14, 'default', $15,
                   $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27)""",
            rows.contracts,
        )
        await db.executemany(
            """INSERT INTO milestones (id, contract_id, sequence, title, percentage, original_amount, amount,
                   due_offset_days, due_date, status, delivered_at, cancelled_at)
               VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8, $9, $10, $11)""",
            rows.milestones,
        )
        await db.executemany(
            """INSERT INTO deliverables (id, contract_id, milestone_id, summary, figures, submitted_by, submitted_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7)""",
            rows.deliverables,
        )
        await db.executemany(
            """INSERT INTO evaluations (id, contract_id, milestone_id, bureau_id, vendor_id, evaluator_id,
                   template_id, indicators, due_date, status, scores, survey_responses, survey_satisfied, findings,
                   total_score, grade, commissioned_by, commissioned_at, submitted_at, submitted_by, accepted_at,
                   accepted_by, appeal_deadline)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20,
                   $21, $22, $23)""",
            rows.evaluations,
        )
        await db.executemany(
            """INSERT INTO payments (id, contract_id, milestone_id, evaluation_id, bureau_id, payee_id,
                   budget_line_id, idempotency_key, milestone_amount, amount, withheld_amount, payout_ratio,
                   total_score, grade, status, treasury_reference, confirmed_at, confirmed_by, created_by,
                   created_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)""",
            rows.payments,
        )
        # The line grows to cover what was signed, with some left over, as a bureau's budget would.
        await db.execute(
            """UPDATE budget_lines SET committed = committed + $2, spent = spent + $3,
                   amount = greatest(amount, ceil((committed + $2) * 1.15 / 100000) * 100000)
               WHERE id = $1""",
            world.budget_line_id, committed, spent,
        )
    return contract_ids


async def first_evaluation(contract_id: UUID, status: str = "accepted") -> Any:
    """The contract's first evaluation in that status (for tests and samples)."""
    return await db.fetchrow(
        """SELECT e.* FROM evaluations e JOIN milestones m ON m.id = e.milestone_id
           WHERE e.contract_id = $1 AND e.status = $2 ORDER BY m.sequence LIMIT 1""",
        contract_id, status,
    )


async def add_awarded_tender(
    world: ReportWorld,
    *,
    code: str = "A0101",
    title: str = "福田区长者居家养老上门服务项目",
    ceiling: Decimal = Decimal("1200000.00"),
    prices: tuple[str, ...] = ("1068000.00", "1093456.78", "1126000.00", "1150000.00", "1049000.00"),
    credit_grades: tuple[str | None, ...] = ("A", "B", None, "A", "C"),
    invalid: tuple[int, ...] = (4,),
    non_responsive: tuple[int, ...] = (3,),
    awarded_on: date | None = None,
) -> UUID:
    """A public tender of the world's bureau, opened, reviewed and scored by a panel of five
    drawn from a pool of eight, and awarded (in its standstill): bidder i is vendor i, bids
    `prices[i]` with `credit_grades[i]` at opening; bidders in `invalid` were on a credit list at
    opening, those in `non_responsive` were found non-responsive by the panel (符合性审查). The
    draw is recorded as `draw_panel` records it (its seed replays to the panel), and the ranking
    is computed by the procurement rules from the experts' score sheets, as `award_tender` does."""
    from govbuy import clock
    from procurement import rules as procurement_rules

    rng = world.rng
    awarded_on = awarded_on or date(world.year, 6, 15)
    awarded = local(awarded_on, 15)
    deadline = local(awarded_on - timedelta(days=5), 9, 30)
    published = local(awarded_on - timedelta(days=32), 9, 30)
    tender_id, award_id = world.uuid(), world.uuid()
    criteria = [{"name": "服务方案", "weight": "40"}, {"name": "团队与经验", "weight": "30"}]
    platform = world.uuid()
    pool = [world.uuid() for _ in EXPERT_NAMES]
    seed = hashlib.sha256(f"{tender_id}:draw".encode()).hexdigest()
    experts = procurement_rules.draw_experts(seed, pool, 5)
    await db.execute(
        "INSERT INTO organisations (id, name, kind, created_at) VALUES ($1, '评审专家库', 'platform', $2)",
        platform, published,
    )
    await db.executemany(
        """INSERT INTO users (id, username, full_name, password_hash, organisation_id, role, created_at)
           VALUES ($1, $2, $3, $4, $5, 'expert', $6)""",
        [(e, f"report-expert-{e.hex[:8]}", name, NOT_A_PASSWORD_HASH, platform, published) for e, name in zip(pool, EXPERT_NAMES)],
    )
    bids, ranked_input = [], []
    for n, price in enumerate(prices):
        bid_id = world.uuid()
        vendor = n % len(world.vendor_ids)
        submitted = deadline - timedelta(days=3, hours=n * 5)
        reasons = (
            [{"code": "credit_list_entry_active", "detail": "listed on serious_dishonesty"}] if n in invalid else []
        )
        eligibility = {"eligible": not reasons, "reasons": reasons, "checked_on": deadline.date().isoformat()}
        bids.append((
            bid_id, tender_id, world.vendor_ids[vendor], world.vendor_user_ids[vendor], Decimal(price), submitted,
            "invalid" if n in invalid else "valid", eligibility, credit_grades[n] if n < len(credit_grades) else None,
            "not eligible at opening" if n in invalid else None,
            hashlib.md5(str(bid_id).encode()).hexdigest(), hashlib.sha256(str(bid_id).encode()).hexdigest(),
        ))
        if n not in invalid and n not in non_responsive:
            strength = rng.uniform(0.72, 0.95)
            sheets = {
                e: {"服务方案": (Decimal(40) * Decimal(str(round(strength + rng.uniform(-0.05, 0.05), 2)))).quantize(Decimal("0.5")),
                    "团队与经验": (Decimal(30) * Decimal(str(round(strength + rng.uniform(-0.05, 0.05), 2)))).quantize(Decimal("0.5"))}
                for e in experts
            }
            ranked_input.append(procurement_rules.BidForRanking(bid_id, "", Decimal(price), submitted, sheets))
    ranked = procurement_rules.rank_bids("comprehensive", Decimal(30), criteria, ranked_input, experts)
    names = dict(await db.fetch("SELECT id, name FROM organisations WHERE id = ANY($1)", world.vendor_ids))
    by_id = {b[0]: b for b in bids}
    ranking = [
        {
            "rank": r.rank, "bid_id": str(r.bid_id), "vendor_id": str(by_id[r.bid_id][2]),
            "vendor_name": names[by_id[r.bid_id][2]], "price": str(r.price), "price_score": str(r.price_score),
            "technical_score": str(r.technical_score), "total_score": str(r.total_score),
            "credit_grade_at_opening": by_id[r.bid_id][8], "submitted_at": r.submitted_at.isoformat(),
        }
        for r in ranked
    ]
    winner = by_id[ranked[0].bid_id]
    async with db.transaction():
        await db.execute(
            """INSERT INTO tenders (id, bureau_id, title, description, catalogue_item_id, budget_line_id, method,
                   ceiling_amount, contract_months, evaluation_method, price_weight, criteria, milestones,
                   min_assessment_grade, bid_deadline, status, reserved_amount, published_at, opened_at, created_at,
                   updated_at, sme_price_deduction_percent)
               VALUES ($1, $2, $3, '为辖区60周岁以上居家老人提供上门助餐、助洁、助医服务。', $4, $5, 'public_tender', $6, 12,
                   'comprehensive', 30, $7, $8, NULL, $9, 'evaluating', $6, $10, $9, $10, $9, 10)""",
            tender_id, world.bureau_id, title, world.item_ids[code], world.budget_line_id, ceiling, criteria,
            [{"title": t, "percentage": str(p), "due_offset_days": d} for (t, p), d in zip(MILESTONE_PLAN, (90, 200, 360))],
            deadline, published,
        )
        await db.executemany(
            """INSERT INTO bids (id, tender_id, vendor_id, submitted_by, price, proposal, status, first_submitted_at,
                   submitted_at, eligibility_at_submission, eligibility_at_opening, credit_grade_at_opening,
                   invalid_reason, seal_nonce, content_digest)
               VALUES ($1, $2, $3, $4, $5, '服务方案（略）', $7, $6, $6, $8, $8, $9, $10, $11, $12)""",
            bids,
        )
        drawn_at = deadline + timedelta(hours=1)
        await db.execute(
            """INSERT INTO panel_draws (id, tender_id, kind, seed, candidates, excluded, drawn, drawn_at, drawn_by)
               VALUES ($1, $2, 'draw', $3, $4, '[]', $5, $6, $7)""",
            world.uuid(), tender_id, seed, [str(e) for e in pool], [str(e) for e in experts], drawn_at, world.bureau_user_id,
        )
        await db.executemany(
            "INSERT INTO tender_panel_members (tender_id, expert_user_id, appointed_at, appointed_by) VALUES ($1, $2, $3, $4)",
            [(tender_id, e, drawn_at, world.bureau_user_id) for e in experts],
        )
        reviews = []
        for n, bid in enumerate(bids):
            if n in invalid:
                continue
            reviews.append((bid[0], "qualification", tender_id, True, "资格证明文件齐全有效", world.bureau_user_id, drawn_at))
            reviews.append((
                bid[0], "compliance", tender_id, n not in non_responsive,
                NON_RESPONSIVE_REASON if n in non_responsive else "实质性响应招标文件要求", experts[0], drawn_at,
            ))
        await db.executemany(
            """INSERT INTO bid_reviews (bid_id, stage, tender_id, responsive, reason, reviewed_by, reviewed_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7)""",
            reviews,
        )
        await db.execute(
            """UPDATE bids SET review_status = CASE WHEN status = 'invalid' OR id = ANY($2::uuid[]) THEN 'non_responsive'
                                                    ELSE 'responsive' END
               WHERE tender_id = $1""",
            tender_id, [bids[n][0] for n in non_responsive],
        )
        await db.execute(
            """INSERT INTO tender_awards (id, tender_id, winning_bid_id, vendor_id, price, ranking, awarded_at,
                   awarded_by, standstill_until) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)""",
            award_id, tender_id, winner[0], winner[2], winner[4], ranking, awarded, world.bureau_user_id,
            procurement_rules.standstill_until(awarded, await clock.work_calendar()),
        )
        await db.execute(
            "UPDATE tenders SET status = 'awarded', award_id = $2, updated_at = $3 WHERE id = $1",
            tender_id, award_id, awarded,
        )
    return tender_id
