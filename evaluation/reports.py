"""The third-party performance evaluation report (第三方绩效评价报告) as a PDF: a cover, the
contract and the milestone evaluated with its deliverable, the indicator table with weights and
scores (and, for an indicator bound to a performance target, its target, reported and verified
values in the same row), the grade, what it means for the milestone's payment, the findings and
the evaluator.

Who may read it (DESIGN §1): the bureau that commissioned it, the evaluator commissioned, the
vendor evaluated once the evaluation is accepted, supervisors and admins; anyone else gets 404.
The as-of time is the latest change to the evaluation, its milestone's payment or its appeals.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from contracts import service as contracts
from evaluation import rules
from evaluation import service as evaluation_service
from govbuy import database as db
from govbuy.audit import Actor
from govbuy.errors import NotFound
from govbuy.reports import RenderedPdf, render_pdf
from govbuy.rules import SHANGHAI, last_day, to_fen
from planning import service as planning
from procurement import service as procurement

TEMPLATE = "evaluation_report.html"
TITLE = "政府购买服务第三方绩效评价报告"
DOCUMENT_TYPE = "绩效评价报告"
READ_ALL_ROLES = ("admin", "supervisor")

STATUS_LABELS = {"commissioned": "已委托，尚未评分", "submitted": "已提交，待采购人验收", "accepted": "已验收",
                 "returned": "已退回评价机构修改"}
APPEAL_STATUS_LABELS = {"pending": "处理中", "upheld": "申诉成立", "dismissed": "申诉驳回"}
CATEGORY_ORDER = tuple(rules.IndicatorCategory)
FIGURE_LABELS = {
    "people_served": ("服务人数", "人"),
    "person_times_served": ("服务人次", "人次"),
    "households_served": ("服务户数", "户"),
    "sessions_held": ("活动/服务场次", "场"),
    "volunteers_involved": ("志愿者人数", "人"),
    "referrals_made": ("转介个案数", "个"),
    "cases_closed": ("结案个案数", "个"),
    "service_hours": ("服务时长", "小时"),
    "volunteer_hours": ("志愿服务时长", "小时"),
}


def may_read(actor: Actor, row: Any) -> bool:
    if actor.role in READ_ALL_ROLES:
        return True
    if actor.role == "bureau":
        return row["bureau_id"] == actor.organisation_id
    if actor.role == "evaluator":
        return row["evaluator_id"] == actor.organisation_id
    if actor.role == "vendor":
        return row["vendor_id"] == actor.organisation_id and row["status"] == "accepted"
    return False


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _score(value: Any) -> Decimal | None:
    """Scores are shown with two decimals, as evaluation reports print them: 5 → 5.00."""
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.01"))


def _number(value: Any) -> str:
    """A figure as people write it: 1200.00 → "1200", 12.50 → "12.5"."""
    return f"{Decimal(str(value)).normalize():f}"


# The report's as-of time: the latest change to the evaluation (e), its milestone's latest
# deliverable (d), its payment (p), its appeals and its audit events.
_AS_OF_SQL = """greatest(e.commissioned_at, e.submitted_at, e.accepted_at, e.superseded_at, p.created_at, p.confirmed_at,
                d.submitted_at,
                (SELECT max(greatest(a.filed_at, a.resolved_at)) FROM appeals a WHERE a.evaluation_id = e.id),
                (SELECT max(occurred_at) FROM audit_events
                  WHERE entity_type = 'evaluation' AND entity_id = e.id::text))"""
_AS_OF_JOINS = f"""LEFT JOIN LATERAL {contracts.latest_deliverable_sql("e.milestone_id")} d ON true
LEFT JOIN {contracts.payments_sql()} p ON p.evaluation_id = e.id"""

_EVALUATION_SQL = f"""
SELECT e.*,
       c.title AS contract_title, c.amount AS contract_amount, c.original_amount AS contract_original_amount,
       c.start_date, c.end_date, c.status AS contract_status, c.payment_rule, c.payment_rule_source,
       c.contract_months, c.activated_at, coalesce(e.accepted_targets, c.performance_targets) AS performance_targets,
       b.name AS bureau_name, v.name AS vendor_name, v.uscc AS vendor_uscc,
       ev.name AS evaluator_name, ev.uscc AS evaluator_uscc,
       m.sequence, m.sequence AS milestone_sequence, m.title AS milestone_title, m.percentage, m.amount AS milestone_amount, m.due_date AS milestone_due,
       m.delivered_at, m.status AS milestone_status,
       (SELECT count(*) FROM {contracts.milestones_sql()} x WHERE x.contract_id = c.id) AS milestone_count,
       t.method, t.catalogue_item_id,
       it.name AS template_name,
       d.summary AS deliverable_summary, d.figures AS deliverable_figures, d.submitted_at AS deliverable_at,
       p.amount AS paid_amount, p.withheld_amount AS paid_withheld, p.payout_ratio AS paid_ratio,
       p.status AS payment_status, p.created_at AS payment_at, p.confirmed_at AS payment_confirmed_at,
       p.treasury_reference,
       prior.evaluator_name AS supersedes_evaluator, prior.grade AS supersedes_grade,
       prior.total_score AS supersedes_score,
       (SELECT coalesce(json_agg(json_build_object('reason', a.reason, 'status', a.status, 'filed_at', a.filed_at,
                                                   'reply', a.reply, 'resolved_at', a.resolved_at)
                                 ORDER BY a.filed_at, a.id), '[]')
          FROM appeals a WHERE a.evaluation_id = e.id) AS appeals,
       {_AS_OF_SQL} AS as_of
FROM evaluations e
JOIN {contracts.contracts_sql()} c ON c.id = e.contract_id
JOIN {contracts.milestones_sql()} m ON m.id = e.milestone_id
JOIN organisations b ON b.id = e.bureau_id
JOIN organisations v ON v.id = e.vendor_id
JOIN organisations ev ON ev.id = e.evaluator_id
JOIN {procurement.tenders_sql()} t ON t.id = c.tender_id
JOIN indicator_templates it ON it.id = e.template_id
{_AS_OF_JOINS}
LEFT JOIN LATERAL (
    SELECT o.name AS evaluator_name, x.grade, x.total_score FROM evaluations x
    JOIN organisations o ON o.id = x.evaluator_id WHERE x.id = e.supersedes_id
) prior ON true
WHERE e.id = $1
"""


def _target_cells(t: Any) -> dict[str, Any]:
    """A judged target (`EvaluationTargetRead`) as the report prints it: ≥ 1200人次, 1000人次, —."""
    return {
        "indicator": t.indicator,
        "target": f"{'≥' if t.direction == 'at_least' else '≤'} {_number(t.target)}{t.unit}",
        "reported": f"{_number(t.reported)}{t.unit}" if t.reported is not None else "—",
        "verified": f"{_number(t.verified)}{t.unit}" if t.verified is not None else "—",
        "met": t.met,
    }


def _indicator_rows(
    indicators: list[dict[str, Any]], scores: dict[str, Any], bound: dict[str, dict[str, Any]]
) -> tuple[list[dict], list[dict]]:
    """The indicator rows in category order (the template groups them by `category_order`),
    each with the cells of the target it is bound to (`bound`, by code), and one summary line
    per category present."""
    rows, summary = [], []
    for order, category in enumerate(CATEGORY_ORDER):
        group = [i for i in indicators if i["category"] == category.value]
        if not group:
            continue
        weight = sum((Decimal(str(i["weight"])) for i in group), Decimal(0))
        scored = [Decimal(str(scores[i["code"]])) for i in group if scores.get(i["code"]) is not None]
        total = _score(sum(scored, Decimal(0))) if scored else None
        summary.append({"label": category.label, "weight": weight, "score": total,
                        "rate": (total / weight) if total is not None and weight else None})
        for indicator in group:
            score = _score(scores.get(indicator["code"]))
            weight_i = Decimal(str(indicator["weight"]))
            rows.append({
                "category": category.label,
                "category_order": order,
                "code": indicator["code"],
                "name": indicator["name"],
                "weight": weight_i,
                "score": score,
                "rate": (score / weight_i) if score is not None else None,
                "target": bound.get(indicator["code"]),
            })
    return rows, summary


def _payment_rule(bands: list[dict[str, Any]]) -> list[dict[str, Any]]:
    ordered = sorted(bands, key=lambda b: Decimal(str(b["min_score"])))
    result = []
    for n, band in enumerate(ordered):
        low, high = Decimal(str(band["min_score"])), Decimal(str(band["max_score"]))
        last = n == len(ordered) - 1
        result.append({
            "range": f"{_number(low)}分 ≤ 得分 {'≤' if last else '<'} {_number(high)}分",
            "ratio": Decimal(str(band["ratio"])),
        })
    return result


async def evaluation_report_data(actor: Actor, evaluation_id: UUID) -> tuple[dict[str, Any], str, datetime]:
    """(context, bureau name, as-of) of an evaluation the actor may read; else 404."""
    row = await db.fetchrow(_EVALUATION_SQL, evaluation_id)
    if row is None or not may_read(actor, row):
        raise NotFound("evaluation", evaluation_id)
    item = (await planning.catalogue_item_labels([row["catalogue_item_id"]]))[row["catalogue_item_id"]]
    scores = row["scores"] or {}
    judged = await evaluation_service.judged_targets(row)
    bound = {r.code: _target_cells(r.target) for r in evaluation_service.indicator_sheet(row, judged) if r.target}
    indicators, categories = _indicator_rows(row["indicators"], scores, bound)
    total = row["total_score"]
    grade = row["grade"]
    milestone_amount = row["milestone_amount"]
    payment: dict[str, Any]
    if row["paid_amount"] is not None:
        payment = {
            "made": True,
            "ratio": row["paid_ratio"],
            "amount": row["paid_amount"],
            "withheld": row["paid_withheld"],
            "status": row["payment_status"],
            "created_at": row["payment_at"],
            "confirmed_at": row["payment_confirmed_at"],
            "treasury_reference": row["treasury_reference"],
        }
    elif total is not None:
        ratio = rules.payout_ratio(row["payment_rule"], total)
        amount = to_fen(milestone_amount * ratio)
        payment = {"made": False, "ratio": ratio, "amount": amount, "withheld": milestone_amount - amount}
    else:
        payment = {"made": False, "ratio": None, "amount": None, "withheld": None}
    known = list(FIGURE_LABELS)
    figures = [
        {"label": FIGURE_LABELS.get(key, (key, ""))[0], "value": _number(value), "unit": FIGURE_LABELS.get(key, (key, ""))[1]}
        for key, value in sorted(
            (row["deliverable_figures"] or {}).items(), key=lambda kv: (known.index(kv[0]) if kv[0] in known else 99, kv[0])
        )
    ]
    satisfaction = None
    if row["survey_responses"]:
        satisfaction = {
            "responses": row["survey_responses"],
            "satisfied": row["survey_satisfied"],
            "rate": Decimal(row["survey_satisfied"]) / Decimal(row["survey_responses"]),
        }
    report_date = row["accepted_at"] or row["submitted_at"] or row["commissioned_at"]
    context = {
        "targets": [_target_cells(t) for t in judged],
        "indicators_bound": bool(bound),
        "evaluation": {
            "id": row["id"],
            "status": row["status"],
            "status_label": STATUS_LABELS[row["status"]],
            "template_name": row["template_name"],
            "total_score": total,
            "grade": grade,
            "findings": [p.strip() for p in (row["findings"] or "").splitlines() if p.strip()],
            "returned_reason": row["returned_reason"],
            "commissioned_at": row["commissioned_at"],
            "due_date": row["due_date"],
            "submitted_at": row["submitted_at"],
            "accepted_at": row["accepted_at"],
            "appeal_deadline": row["appeal_deadline"],
            "appeal_last_day": last_day(row["appeal_deadline"]) if row["appeal_deadline"] else None,
            "superseded_at": row["superseded_at"],
            "superseded_by_id": row["superseded_by_id"],
            "supersedes_id": row["supersedes_id"],
            "supersedes": {
                "evaluator": row["supersedes_evaluator"],
                "grade": row["supersedes_grade"],
                "score": row["supersedes_score"],
            } if row["supersedes_id"] else None,
            "report_date": report_date,
        },
        "contract": {
            "id": row["contract_id"],
            "title": row["contract_title"],
            "amount": row["contract_amount"],
            "original_amount": row["contract_original_amount"],
            "start_date": row["start_date"],
            "end_date": row["end_date"],
            "months": row["contract_months"],
            "item": f"{item.code} {item.name}",
            "vendor_name": row["vendor_name"],
            "vendor_uscc": row["vendor_uscc"],
            "milestone_count": row["milestone_count"],
            "payment_rule": _payment_rule(row["payment_rule"]),
            "payment_rule_default": row["payment_rule_source"] == "default",
        },
        "milestone": {
            "sequence": row["sequence"],
            "title": row["milestone_title"],
            "percentage": row["percentage"],
            "amount": milestone_amount,
            "due_date": row["milestone_due"],
            "delivered_at": row["delivered_at"],
            "late": row["delivered_at"] is not None
            and row["delivered_at"].astimezone(SHANGHAI).date() > row["milestone_due"],
            "deliverable_summary": row["deliverable_summary"],
            "deliverable_at": row["deliverable_at"],
            "figures": figures,
        },
        "indicators": indicators,
        "categories": categories,
        "satisfaction": satisfaction,
        "payment": payment,
        "evaluator": {"name": row["evaluator_name"], "uscc": row["evaluator_uscc"]},
        "appeals": [
            {
                "reason": a["reason"],
                "status_label": APPEAL_STATUS_LABELS.get(a["status"], a["status"]),
                "filed_at": datetime.fromisoformat(a["filed_at"]),
                "reply": a["reply"],
                "resolved_at": datetime.fromisoformat(a["resolved_at"]) if a["resolved_at"] else None,
            }
            for a in row["appeals"]
        ],
    }
    return context, row["bureau_name"], row["as_of"]


async def evaluation_report(actor: Actor, evaluation_id: UUID) -> RenderedPdf:
    """The evaluation report as a PDF, for those who may read the evaluation (else 404)."""
    context, bureau, as_of = await evaluation_report_data(actor, evaluation_id)
    return await render_pdf(
        TEMPLATE, context, title=TITLE, bureau=bureau, document_type=DOCUMENT_TYPE, as_of=as_of,
        subject=str(evaluation_id),
    )


async def accepted_report_ids(changed_since: datetime | None = None) -> list[UUID]:
    """The accepted evaluations, or those whose report's as-of time is at or after
    `changed_since`: what a pre-render pass looks at (one statement)."""
    where = db.Conditions("e.status = 'accepted'")
    where.given(_AS_OF_SQL + " >= {}", changed_since)
    rows = await db.fetch(f"SELECT e.id FROM evaluations e {_AS_OF_JOINS} WHERE {where} ORDER BY e.id", *where.args)
    return [r["id"] for r in rows]
