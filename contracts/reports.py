"""Two PDF reports of the contracts domain:

- the contract performance report (合同履约情况报告): the contract, its milestones with their
  evaluations and payments, and the timeline of everything that happened to it;
- a bureau's annual report (年度政府购买服务执行情况报告): every contract of the budget year, the
  spend by level-1 catalogue category and the distribution of evaluation grades.

Who may read them (DESIGN §1): the bureau its own, supervisors and admins everything; anyone else
gets 404 (the annual report's role guard answers 403 to roles that never have one). Data is
gathered with a fixed number of set-based statements, never one per contract, so an annual
report of a thousand contracts costs the same few queries as one of ten. The as-of time is the
latest change to the data shown.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from contracts import rules
from contracts import service as contracts_service
from contracts.schemas import CategoryPerformance, VendorPerformance, YearPerformance
from evaluation import rules as evaluation_rules
from evaluation import service as evaluation
from govbuy import database as db
from govbuy.audit import Actor
from govbuy.errors import NotFound
from govbuy.reports import RenderedPdf, render_pdf
from govbuy.rules import SHANGHAI, RuleViolation
from planning import service as planning
from procurement import service as procurement

CONTRACT_TEMPLATE = "contract_report.html"
ANNUAL_TEMPLATE = "annual_report.html"
READ_ALL_ROLES = ("admin", "supervisor")
GRADES = ("excellent", "good", "fair", "poor")

CONTRACT_STATUS_LABELS = {"draft": "待签订", "active": "履行中", "completed": "已完成", "terminated": "已终止"}
MILESTONE_STATUS_LABELS = {
    "pending": "待交付",
    "delivered": "已交付，待评价",
    "evaluated": "已评价，待支付",
    "paid": "已支付",
    "cancelled": "已取消",
}
EVALUATION_STATUS_LABELS = {"commissioned": "评价中", "submitted": "待验收", "accepted": "已验收", "returned": "已退回"}
PAYMENT_STATUS_LABELS = {"pending": "待国库确认", "confirmed": "已支付"}
SME_LABELS = {"medium": "中型企业", "small": "小型企业", "micro": "微型企业", "prison_enterprise": "监狱企业",
              "disability_welfare_unit": "残疾人福利性单位"}


def _may_read_bureau(actor: Actor, bureau_id: UUID) -> bool:
    return actor.role in READ_ALL_ROLES or (actor.role == "bureau" and actor.organisation_id == bureau_id)


def _time(value: Any) -> datetime | None:
    """A timestamp from a json_build_object (an ISO string) or a row (a datetime)."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _late_days(due: date, delivered_at: datetime | None) -> int:
    """Days a milestone was delivered after its due date (Asia/Shanghai), 0 when on time."""
    if delivered_at is None:
        return 0
    return max((delivered_at.astimezone(SHANGHAI).date() - due).days, 0)


def _grade_for(score: Decimal | None) -> str | None:
    return None if score is None else evaluation_rules.grade_for(score).value


# --- the contract performance report -----------------------------------------------------------

_CONTRACT_SQL = f"""
SELECT c.*, b.name AS bureau_name, v.name AS vendor_name, v.uscc AS vendor_uscc,
       t.title AS tender_title, t.method, t.published_at AS tender_published_at,
       t.catalogue_item_id, t.awarded_at,
       (SELECT coalesce(json_agg(json_build_object('increase', x.increase, 'amount_after', x.amount_after,
                                                   'reason', x.reason, 'created_at', x.created_at)
                                 ORDER BY x.created_at, x.id), '[]')
          FROM amendments x WHERE x.contract_id = c.id) AS amendments
FROM contracts c
JOIN organisations b ON b.id = c.bureau_id
JOIN organisations v ON v.id = c.vendor_id
JOIN {procurement.tenders_sql()} t ON t.id = c.tender_id
WHERE c.id = $1
"""

_MILESTONES_SQL = """
SELECT m.*, d.summary AS deliverable_summary, d.submitted_at AS deliverable_at,
       p.amount AS paid_amount, p.withheld_amount, p.payout_ratio, p.status AS payment_status,
       p.created_at AS payment_at, p.confirmed_at AS payment_confirmed_at, p.treasury_reference
FROM milestones m
LEFT JOIN LATERAL (
    SELECT summary, submitted_at FROM deliverables d WHERE d.milestone_id = m.id
    ORDER BY d.submitted_at DESC, d.id DESC LIMIT 1
) d ON true
LEFT JOIN payments p ON p.milestone_id = m.id
WHERE m.contract_id = $1
ORDER BY m.sequence
"""

_EVALUATIONS_SQL = f"""
SELECT e.id, e.milestone_id, m.sequence, e.status, e.total_score, e.grade, e.commissioned_at, e.submitted_at,
       e.accepted_at, e.appeal_deadline, e.superseded_at, e.supersedes_id, o.name AS evaluator_name,
       (SELECT coalesce(json_agg(json_build_object('status', ap.status, 'filed_at', ap.filed_at,
                                                   'resolved_at', ap.resolved_at) ORDER BY ap.filed_at, ap.id), '[]')
          FROM {evaluation.appeals_sql()} ap WHERE ap.evaluation_id = e.id) AS appeals
FROM {evaluation.evaluations_sql()} e
JOIN milestones m ON m.id = e.milestone_id
JOIN organisations o ON o.id = e.evaluator_id
WHERE e.contract_id = $1
ORDER BY m.sequence, e.commissioned_at, e.id
"""

_CONTRACT_AUDIT_SQL = """
SELECT max(occurred_at) FROM audit_events
WHERE (entity_type = 'contract' AND entity_id = $1::text)
   OR (entity_type = 'evaluation' AND entity_id = ANY($2::text[]))
"""


def _timeline(contract: Any, milestones: list[Any], evaluations: list[Any]) -> list[dict[str, Any]]:
    """Everything that happened to the contract, oldest first."""
    events: list[tuple[datetime, int, str, str, Decimal | None]] = []

    def add(at: Any, order: int, what: str, detail: str = "", amount: Decimal | None = None) -> None:
        at = _time(at)
        if at is not None:
            events.append((at, order, what, detail, amount))

    add(contract["awarded_at"], 0, "中标结果公告", f"{contract['vendor_name']}中标")
    add(contract["created_at"], 1, "合同订立", "依中标结果生成合同", contract["original_amount"])
    add(contract["bureau_signed_at"], 2, "采购人签章")
    add(contract["vendor_signed_at"], 3, "承接主体签章")
    add(contract["activated_at"], 4, "合同生效", "双方签章完毕，预算转为合同承诺")
    for amendment in contract["amendments"]:
        add(amendment["created_at"], 5, "补充合同", amendment["reason"], _decimal(amendment["increase"]))
    for m in milestones:
        label = f"第{m['sequence']}期"
        add(m["deliverable_at"] or m["delivered_at"], 10, f"{label}交付", m["deliverable_summary"] or m["title"])
        add(m["cancelled_at"], 10, f"{label}取消", "合同终止，未履行部分取消", m["amount"])
        add(m["payment_at"], 30, f"{label}发起支付",
            f"支付比例{_decimal(m['payout_ratio']) * 100:.0f}%，扣减{m['withheld_amount']:,.2f}元" if m["payout_ratio"] is not None else "",
            m["paid_amount"])
        add(m["payment_confirmed_at"], 31, f"{label}国库支付确认",
            f"凭证号 {m['treasury_reference']}" if m["treasury_reference"] else "", m["paid_amount"])
    for e in evaluations:
        label = f"第{e['sequence']}期"
        add(e["commissioned_at"], 20, f"{label}委托评价", e["evaluator_name"])
        add(e["submitted_at"], 21, f"{label}评价提交", f"{e['evaluator_name']}：{e['total_score']}分" if e["total_score"] is not None else e["evaluator_name"])
        if e["accepted_at"] is not None:
            grade = evaluation_rules.Grade(e["grade"]).label
            add(e["accepted_at"], 22, f"{label}评价验收", f"{e['total_score']}分，等级{grade}")
        for appeal in e["appeals"]:
            add(appeal["filed_at"], 23, f"{label}承接主体申诉")
            outcome = {"upheld": "申诉成立，重新评价", "dismissed": "申诉驳回"}.get(appeal["status"])
            if outcome:
                add(appeal["resolved_at"], 24, f"{label}申诉处理", outcome)
        add(e["superseded_at"], 25, f"{label}原评价被取代", "以重新评价结果为准")
    add(contract["completed_at"], 40, "合同履行完毕")
    add(contract["terminated_at"], 40, "合同终止",
        ("因承接主体原因：" if contract["terminated_for_cause"] else "") + (contract["termination_reason"] or ""))
    events.sort(key=lambda e: (e[0], e[1], e[2]))
    return [{"at": at, "what": what, "detail": detail, "amount": amount} for at, _, what, detail, amount in events]


async def contract_report_data(actor: Actor, contract_id: UUID) -> tuple[dict[str, Any], str, datetime]:
    contract = await db.fetchrow(_CONTRACT_SQL, contract_id)
    if contract is None or not _may_read_bureau(actor, contract["bureau_id"]):
        raise NotFound("contract", contract_id)
    item = (await planning.catalogue_item_labels([contract["catalogue_item_id"]]))[contract["catalogue_item_id"]]
    line = (await planning.budget_lines_by_id([contract["budget_line_id"]]))[contract["budget_line_id"]]
    milestones = await db.fetch(_MILESTONES_SQL, contract_id)
    evaluations = await db.fetch(_EVALUATIONS_SQL, contract_id)
    audited = await db.fetchval(_CONTRACT_AUDIT_SQL, str(contract_id), [str(e["id"]) for e in evaluations])

    current = {e["milestone_id"]: e for e in evaluations if e["superseded_at"] is None}
    milestone_rows = []
    for m in milestones:
        e = current.get(m["id"])
        milestone_rows.append({
            "sequence": m["sequence"],
            "title": m["title"],
            "percentage": m["percentage"],
            "amount": m["amount"],
            "due_date": m["due_date"],
            "delivered_at": m["delivered_at"],
            "late_days": _late_days(m["due_date"], m["delivered_at"]),
            "status_label": "已结算，全额扣减" if m["status"] == "paid" and m["paid_amount"] == 0
            else MILESTONE_STATUS_LABELS[m["status"]],
            "evaluator": e["evaluator_name"] if e else None,
            "evaluation_status": EVALUATION_STATUS_LABELS[e["status"]] if e else None,
            "score": e["total_score"] if e else None,
            "grade": e["grade"] if e and e["status"] == "accepted" else None,
            "paid": m["paid_amount"],
            "withheld": m["withheld_amount"],
            "ratio": m["payout_ratio"],
            "payment_status": (
                "不予支付" if m["paid_amount"] == 0
                else PAYMENT_STATUS_LABELS[m["payment_status"]] if m["payment_status"] else None
            ),
            "payment_confirmed_at": m["payment_confirmed_at"],
            "treasury_reference": m["treasury_reference"],
            # Data, not the clock: the report says when each payment is due, not whether it is late today.
            "payment_due_on": rules.payment_due_on(
                contract["vendor_sme_declaration"], e["appeal_deadline"] if e and e["status"] == "accepted" else None
            ),
        })
    paid = sum((m["paid_amount"] for m in milestones if m["paid_amount"] is not None), Decimal("0.00"))
    withheld = sum((m["withheld_amount"] for m in milestones if m["withheld_amount"] is not None), Decimal("0.00"))
    cancelled = sum((m["amount"] for m in milestones if m["status"] == "cancelled"), Decimal("0.00"))
    accepted = [e for e in evaluations if e["status"] == "accepted" and e["superseded_at"] is None]
    average = (
        (sum((e["total_score"] for e in accepted), Decimal(0)) / len(accepted)).quantize(Decimal("0.01"))
        if accepted else None
    )
    timeline = _timeline(contract, milestones, evaluations)
    times = [t["at"] for t in timeline] + [audited] + [_time(contract["created_at"])]
    as_of = max(t for t in times if t is not None)
    context = {
        "contract": {
            "id": contract["id"],
            "title": contract["title"],
            "status": contract["status"],
            "status_label": CONTRACT_STATUS_LABELS[contract["status"]],
            "vendor_name": contract["vendor_name"],
            "vendor_uscc": contract["vendor_uscc"],
            "item": f"{item.code} {item.name}",
            "category": item.category_name,
            "budget": f"{line.year}年度 {line.code} {line.title}",
            "original_amount": contract["original_amount"],
            "amount": contract["amount"],
            "start_date": contract["start_date"],
            "end_date": contract["end_date"],
            "months": contract["contract_months"],
            "recurring": contract["recurring"],
            "activated_at": contract["activated_at"],
            "terminated_at": contract["terminated_at"],
            "termination_reason": contract["termination_reason"],
            "terminated_for_cause": contract["terminated_for_cause"],
            "sme_label": SME_LABELS.get(contract["vendor_sme_declaration"] or ""),
        },
        "milestones": milestone_rows,
        "totals": {
            "amount": contract["amount"],
            "paid": paid,
            "withheld": withheld,
            "cancelled": cancelled,
            "outstanding": contract["amount"] - paid - withheld - cancelled,
            "evaluations": len(accepted),
            "average_score": average,
            "average_grade": _grade_for(average),
        },
        "amendments": [
            {"increase": _decimal(a["increase"]), "amount_after": _decimal(a["amount_after"]), "reason": a["reason"],
             "created_at": _time(a["created_at"])}
            for a in contract["amendments"]
        ],
        "timeline": timeline,
    }
    return context, contract["bureau_name"], as_of


async def contract_report(actor: Actor, contract_id: UUID) -> RenderedPdf:
    """The contract performance report as a PDF, for those who may read it (else 404)."""
    context, bureau, as_of = await contract_report_data(actor, contract_id)
    return await render_pdf(
        CONTRACT_TEMPLATE, context, title="政府购买服务合同履约情况报告", bureau=bureau,
        document_type="合同履约报告", as_of=as_of,
    )


# --- the annual report ---------------------------------------------------------------------------

# The bureau's contracts of a budget year (the year of the budget line they are charged to),
# signed ones only, with their payments and current accepted evaluations aggregated per contract.
_ANNUAL_CONTRACTS_SQL = f"""
WITH yc AS (
    SELECT c.* FROM contracts c JOIN {planning.budget_lines_sql()} bl ON bl.id = c.budget_line_id
    WHERE c.bureau_id = $1 AND bl.year = $2 AND c.status <> 'draft'
),
paid AS (
    SELECT p.contract_id, sum(p.amount) AS paid, sum(p.withheld_amount) AS withheld,
           max(greatest(p.created_at, p.confirmed_at)) AS changed
    FROM payments p WHERE p.bureau_id = $1 AND p.contract_id IN (SELECT id FROM yc) GROUP BY p.contract_id
),
evaluated AS (
    SELECT e.contract_id, count(*) FILTER (WHERE e.status = 'accepted' AND e.superseded_at IS NULL) AS evaluations,
           avg(e.total_score) FILTER (WHERE e.status = 'accepted' AND e.superseded_at IS NULL) AS average_score,
           max(greatest(e.commissioned_at, e.submitted_at, e.accepted_at, e.superseded_at)) AS changed
    FROM {evaluation.evaluations_sql()} e WHERE e.bureau_id = $1 AND e.contract_id IN (SELECT id FROM yc)
    GROUP BY e.contract_id
),
cancelled AS (
    SELECT m.contract_id, sum(m.amount) AS cancelled, max(greatest(m.delivered_at, m.cancelled_at)) AS changed
    FROM milestones m WHERE m.contract_id IN (SELECT id FROM yc) GROUP BY m.contract_id
)
SELECT yc.id, yc.title, yc.amount, yc.status, yc.start_date, yc.end_date, v.name AS vendor_name,
       ci.code AS item_code, ci.name AS item_name, l1.code AS category_code, l1.name AS category_name,
       coalesce(paid.paid, 0) AS paid, coalesce(paid.withheld, 0) AS withheld,
       coalesce(evaluated.evaluations, 0) AS evaluations, round(evaluated.average_score, 2) AS average_score,
       greatest(yc.created_at, yc.activated_at, yc.completed_at, yc.terminated_at, paid.changed,
                evaluated.changed, cancelled.changed) AS changed
FROM yc
JOIN organisations v ON v.id = yc.vendor_id
JOIN {procurement.tenders_sql()} t ON t.id = yc.tender_id
JOIN {planning.catalogue_items_sql()} ci ON ci.id = t.catalogue_item_id
LEFT JOIN {planning.catalogue_items_sql()} l1 ON l1.catalogue_id = ci.catalogue_id AND l1.code = left(ci.code, 1)
LEFT JOIN paid ON paid.contract_id = yc.id
LEFT JOIN evaluated ON evaluated.contract_id = yc.id
LEFT JOIN cancelled ON cancelled.contract_id = yc.id
ORDER BY l1.code NULLS LAST, yc.start_date, yc.title, yc.id
"""

# Current accepted evaluations of those contracts, counted by level-1 category and grade.
_ANNUAL_GRADES_SQL = f"""
SELECT left(ci.code, 1) AS category_code, e.grade, count(*) AS n
FROM {evaluation.evaluations_sql()} e
JOIN contracts c ON c.id = e.contract_id
JOIN {planning.budget_lines_sql()} bl ON bl.id = c.budget_line_id
JOIN {procurement.tenders_sql()} t ON t.id = c.tender_id
JOIN {planning.catalogue_items_sql()} ci ON ci.id = t.catalogue_item_id
WHERE e.bureau_id = $1 AND c.bureau_id = $1 AND bl.year = $2 AND c.status <> 'draft'
  AND e.status = 'accepted' AND e.superseded_at IS NULL
GROUP BY 1, 2
"""

_ANNUAL_BUDGET_SQL = f"""
SELECT o.name AS bureau_name, o.created_at AS bureau_created_at,
       count(bl.id) AS lines, coalesce(sum(bl.amount), 0) AS amount, coalesce(sum(bl.committed), 0) AS committed,
       coalesce(sum(bl.spent), 0) AS spent, max(bl.updated_at) AS changed
FROM organisations o LEFT JOIN {planning.budget_lines_sql()} bl ON bl.bureau_id = o.id AND bl.year = $2
WHERE o.id = $1 AND o.kind = 'bureau'
GROUP BY o.id
"""

# The five standard level-1 categories, so that the spend table always lists all five.
STANDARD_CATEGORIES = {
    "A": "基本公共服务",
    "B": "社会管理性服务",
    "C": "行业管理与协调性服务",
    "D": "技术性服务",
    "E": "政府履职所需辅助性服务",
}


def _share(part: Decimal | int, whole: Decimal | int) -> Decimal | None:
    return (Decimal(part) / Decimal(whole)) if whole else None


def _year_bureau(actor: Actor, bureau_id: UUID | None) -> UUID:
    """Whose year is read: a bureau's own; supervisors and admins name one (`bureau_id_required`)."""
    if actor.role == "bureau":
        if bureau_id is not None and bureau_id != actor.organisation_id:
            raise NotFound("bureau", bureau_id)
        bureau_id = actor.organisation_id
    elif bureau_id is None:
        raise RuleViolation(
            "bureau_id_required", "name the bureau whose year you want: ?bureau_id=",
            errors=[{"field": "bureau_id", "message": "required for supervisors and admins"}],
        )
    if not _may_read_bureau(actor, bureau_id):
        raise NotFound("bureau", bureau_id)
    return bureau_id


#: The signed contracts of a bureau's budget year (`contract_performance`'s filter; $1 bureau, $2 year).
_YEAR_CONTRACTS = f"c.bureau_id = $1 AND c.budget_line_id IN (SELECT id FROM {planning.budget_lines_sql()} bl WHERE bl.year = $2)"


async def annual_report_data(actor: Actor, year: int, bureau_id: UUID | None) -> tuple[dict[str, Any], str, datetime]:
    bureau_id = _year_bureau(actor, bureau_id)
    budget = await db.fetchrow(_ANNUAL_BUDGET_SQL, bureau_id, year)
    if budget is None:
        raise NotFound("bureau", bureau_id)
    rows = await db.fetch(_ANNUAL_CONTRACTS_SQL, bureau_id, year)
    grade_rows = await db.fetch(_ANNUAL_GRADES_SQL, bureau_id, year)

    contracts = []
    by_category: dict[str, dict[str, Any]] = {
        code: {"code": code, "name": name, "contracts": 0, "amount": Decimal("0.00"), "paid": Decimal("0.00"),
               "withheld": Decimal("0.00"), "evaluations": 0, "score_sum": Decimal(0), "grades": Counter()}
        for code, name in STANDARD_CATEGORIES.items()
    }
    statuses: Counter[str] = Counter()
    for n, r in enumerate(rows, start=1):
        code = r["category_code"] or "?"
        category = by_category.setdefault(code, {
            "code": code, "name": r["category_name"] or "其他", "contracts": 0, "amount": Decimal("0.00"),
            "paid": Decimal("0.00"), "withheld": Decimal("0.00"), "evaluations": 0, "score_sum": Decimal(0),
            "grades": Counter(),
        })
        category["contracts"] += 1
        category["amount"] += r["amount"]
        category["paid"] += r["paid"]
        category["withheld"] += r["withheld"]
        if r["average_score"] is not None:
            category["evaluations"] += r["evaluations"]
            category["score_sum"] += r["average_score"] * r["evaluations"]
        statuses[r["status"]] += 1
        contracts.append({
            "n": n,
            "title": r["title"],
            "vendor": r["vendor_name"],
            "category": code,
            "amount": r["amount"],
            "paid": r["paid"],
            "withheld": r["withheld"],
            "evaluations": r["evaluations"],
            "average_score": r["average_score"],
            "score_grade": (
                f"{r['average_score']}（{evaluation_rules.Grade(_grade_for(r['average_score'])).label}）"
                if r["average_score"] is not None else "—"
            ),
            "status": CONTRACT_STATUS_LABELS[r["status"]],
        })
    grades: Counter[str] = Counter()
    for g in grade_rows:
        grades[g["grade"]] += g["n"]
        if g["category_code"] in by_category:
            by_category[g["category_code"]]["grades"][g["grade"]] += g["n"]
    evaluations_total = sum(grades.values())

    categories = []
    for category in by_category.values():
        evaluations = category["evaluations"]
        categories.append({
            "code": category["code"],
            "name": category["name"],
            "contracts": category["contracts"],
            "amount": category["amount"],
            "paid": category["paid"],
            "withheld": category["withheld"],
            "paid_share": _share(category["paid"], sum((c["paid"] for c in by_category.values()), Decimal(0))),
            "evaluations": evaluations,
            "average_score": (category["score_sum"] / evaluations).quantize(Decimal("0.01")) if evaluations else None,
            "grades": [category["grades"].get(g, 0) for g in GRADES],
        })
    totals = {
        "contracts": len(contracts),
        "amount": sum((c["amount"] for c in contracts), Decimal("0.00")),
        "paid": sum((c["paid"] for c in contracts), Decimal("0.00")),
        "withheld": sum((c["withheld"] for c in contracts), Decimal("0.00")),
        "evaluations": evaluations_total,
        "average_score": (
            (sum((c["average_score"] * c["evaluations"] for c in contracts if c["average_score"] is not None), Decimal(0))
             / evaluations_total).quantize(Decimal("0.01"))
            if evaluations_total else None
        ),
        "statuses": {label: statuses.get(status, 0) for status, label in CONTRACT_STATUS_LABELS.items() if status != "draft"},
    }
    distribution = [
        {"grade": g, "count": grades.get(g, 0), "share": _share(grades.get(g, 0), evaluations_total)}
        for g in GRADES
    ]
    # Targets met (绩效目标, 财库〔2021〕22号), by category: the same judgement as the budget
    # line's performance view (verified by the evaluator, else as reported).
    performance = {
        p["contract_id"]: p
        for p in await contracts_service.contract_performance(_YEAR_CONTRACTS, bureau_id, year)
    }
    target_rows = []
    for category in categories:
        ids = [r["id"] for r in rows if (r["category_code"] or "?") == category["code"]]
        total = sum(performance[i]["targets_total"] for i in ids if i in performance)
        met = sum(performance[i]["targets_met"] for i in ids if i in performance)
        with_targets = sum(1 for i in ids if i in performance and performance[i]["targets_total"])
        target_rows.append({"code": category["code"], "name": category["name"], "contracts": with_targets,
                            "targets": total, "met": met, "share": _share(met, total)})
    targets_total = {k: sum(t[k] for t in target_rows) for k in ("contracts", "targets", "met")}
    targets_total["share"] = _share(targets_total["met"], targets_total["targets"])
    changes = [r["changed"] for r in rows if r["changed"] is not None]
    changes += [t for t in (budget["changed"], budget["bureau_created_at"]) if t is not None]
    as_of = max(changes)
    context = {
        "year": year,
        "budget": {
            "lines": budget["lines"],
            "amount": budget["amount"],
            "committed": budget["committed"],
            "spent": budget["spent"],
            "execution": _share(budget["spent"], budget["amount"]),
        },
        "totals": totals,
        "categories": categories,
        "category_names": {c["code"]: c["name"] for c in categories},
        "distribution": distribution,
        "contracts": contracts,
        "targets": target_rows,
        "targets_total": targets_total,
        "chart": category_chart(categories),
    }
    return context, budget["bureau_name"], as_of


# The chart of spend and grades by category, drawn as SVG by the template from these numbers
# (no image from elsewhere): per category a bar of what was paid, scaled to the largest, and a bar
# of its evaluations split by grade, scaled to the most evaluated category.
CHART = {"width": 640, "row": 34, "label": 150, "gap": 16, "top": 28, "amount_room": 80, "count_room": 30}
GRADE_COLOURS = {"excellent": "#2e7d32", "good": "#7cb342", "fair": "#f9a825", "poor": "#c62828"}


def category_chart(categories: list[dict[str, Any]]) -> dict[str, Any]:
    half = (CHART["width"] - CHART["label"] - 2 * CHART["gap"]) // 2
    # Room after each bar for its figure: an amount of up to 15 characters, a count of up to 4.
    paid_span, count_span = half - CHART["amount_room"], half - CHART["count_room"]
    paid_max = max((c["paid"] for c in categories), default=Decimal(0)) or Decimal(1)
    count_max = max((sum(c["grades"]) for c in categories), default=0) or 1
    rows = []
    for i, c in enumerate(categories):
        y = CHART["top"] + i * CHART["row"]
        paid_width = float(Decimal(paid_span) * c["paid"] / paid_max)
        x = CHART["label"] + half + 2 * CHART["gap"]
        segments = []
        for grade, n in zip(GRADES, c["grades"]):
            width = count_span * n / count_max
            if n:
                segments.append({"x": round(x, 1), "width": round(width, 1), "colour": GRADE_COLOURS[grade], "n": n})
            x += width
        rows.append({"y": y, "label": f"{c['code']} {c['name']}", "paid_width": round(paid_width, 1),
                     "paid": c["paid"], "segments": segments, "evaluations": sum(c["grades"])})
    return {
        **CHART, "half": half, "rows": rows, "height": CHART["top"] + len(rows) * CHART["row"] + 30,
        "paid_x": CHART["label"] + CHART["gap"], "grades_x": CHART["label"] + half + 2 * CHART["gap"],
        "legend": [{"grade": g, "colour": GRADE_COLOURS[g]} for g in GRADES],
    }


async def annual_report(actor: Actor, year: int, bureau_id: UUID | None = None) -> RenderedPdf:
    """A bureau's annual report as a PDF: a bureau gets its own; supervisors and admins name the
    bureau (`bureau_id`)."""
    context, bureau, as_of = await annual_report_data(actor, year, bureau_id)
    return await render_pdf(
        ANNUAL_TEMPLATE, context, title=f"{year}年度政府购买服务执行情况报告", bureau=bureau,
        document_type="年度报告", as_of=as_of,
    )


# --- a bureau's year as data (预算法 Art. 32: results read for next year's budget) -------------------


async def year_performance(actor: Actor, year: int, bureau_id: UUID | None) -> YearPerformance:
    """A bureau's budget year by level-1 catalogue category and by vendor: money paid and withheld,
    accepted evaluations and their grades, targets met — the annual report's figures as data."""
    bureau_id = _year_bureau(actor, bureau_id)
    name = await db.fetchval("SELECT name FROM organisations WHERE id = $1 AND kind = 'bureau'", bureau_id)
    if name is None:
        raise NotFound("bureau", bureau_id)
    category_of = {
        r["id"]: (r["category_code"] or "?", r["category_name"] or "其他")
        for r in await db.fetch(_ANNUAL_CONTRACTS_SQL, bureau_id, year)
    }
    lines = await contracts_service.contract_performance(_YEAR_CONTRACTS, bureau_id, year)
    by_category: dict[tuple[str, str], list[dict[str, Any]]] = {}
    by_vendor: dict[tuple[UUID, str], list[dict[str, Any]]] = {}
    for line in lines:
        by_category.setdefault(category_of.get(line["contract_id"], ("?", "其他")), []).append(line)
        by_vendor.setdefault((line["vendor_id"], line["vendor_name"]), []).append(line)
    totals = contracts_service.performance_totals
    return YearPerformance(
        year=year, bureau_id=bureau_id, bureau_name=name, totals=totals(lines),
        categories=[CategoryPerformance(code=code, name=label, **totals(group).model_dump())
                    for (code, label), group in sorted(by_category.items())],
        vendors=[VendorPerformance(vendor_id=vendor_id, vendor_name=vendor, **totals(group).model_dump())
                 for (vendor_id, vendor), group in sorted(by_vendor.items(), key=lambda item: item[0][1])],
    )
