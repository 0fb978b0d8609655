"""The vendor credit report (承接主体信用报告) as a PDF: the current credit rating with each
component explained in Chinese, the rating history, assessment grades and credit-list entries.

Who may read it (DESIGN §1): the vendor itself, any bureau (to judge a bidder), supervisors and
admins; anyone else gets 404. The report is the same document whoever reads it, and its as-of
time is the latest change to the data it shows, so the same data gives the same bytes.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from govbuy import database as db
from govbuy.audit import Actor
from govbuy.errors import NotFound
from govbuy.reports import RenderedPdf, render_pdf
from govbuy.rules import SHANGHAI
from vendors import rules, service
from vendors.rating import delivery_counts, lookback_start, recency_weight

TEMPLATE = "credit_report.html"
TITLE = "承接主体信用报告"
DOCUMENT_TYPE = "信用报告"
# The credit report is issued by the platform, not by the bureau that happens to ask for it.
ISSUER = "政府购买服务管理平台"
HISTORY_ROWS = 100  # the newest ratings shown; a new one is stored only when something changed

COMPONENT_LABELS = {
    "performance": "履约评价",
    "delivery": "按期交付",
    "assessment": "社会组织评估等级",
    "conduct": "守信记录",
}
CREDIT_GRADE_BANDS_TEXT = "A（≥85分）　B（70–84.99分）　C（55–69.99分）　D（<55分）"
def may_read(actor: Actor, vendor_id: UUID) -> bool:
    """The rating's own rule (vendors.service.may_read_rating): the report shows no more than it."""
    return service.may_read_rating(actor, vendor_id)


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def component_note(name: str, inputs: dict[str, Any], rated_on: date, present: bool) -> str:
    """What a component was computed from, in Chinese, from the rating's stored inputs."""
    since = lookback_start(rated_on)
    if name == "performance":
        counted = [
            e for e in inputs.get("evaluations", [])
            if recency_weight(date.fromisoformat(e["accepted_on"]), rated_on) is not None
        ]
        if not counted:
            return "近三年无已验收的第三方绩效评价，不计入"
        return f"近三年已验收评价{len(counted)}次，按里程碑金额与时效（1.0/0.6/0.3）加权平均"
    if name == "delivery":
        due, on_time = delivery_counts(inputs, rated_on)
        if not due:
            return "尚无到期的合同里程碑，不计入"
        return f"到期里程碑{due}个，按期交付{on_time}个"
    if name == "assessment":
        grade = inputs.get("assessment_grade")
        if not present or grade is None:
            return "无有效的社会组织评估等级，不计入"
        label = grade["label"] if isinstance(grade, dict) else rules.ASSESSMENT_GRADES[int(grade)]
        return f"评估等级{label}（5A 100分，4A 90分，3A 80分，2A 65分，1A 50分）"
    if name == "conduct":
        if not present:
            return "尚无履约或名单记录，不计入"
        entries = {
            (e["list"], e["listed_on"], e["removed_on"])
            for e in inputs.get("past_list_entries", []) + inputs.get("active_list_entries", [])
        }
        past = [
            e for e in entries
            if e[2] is not None and date.fromisoformat(e[2]) <= rated_on and date.fromisoformat(e[1]) > since
        ]
        return (
            f"100分起，评价为差{inputs.get('poor_grade_count', 0)}次（每次扣15分），"
            f"因承接方原因解除合同{inputs.get('terminations_for_cause', 0)}次（每次扣25分），"
            f"近三年已移出的名单记录{len(past)}条（每条扣10分）"
        )
    return ""


_DATA_SQL = """
SELECT o.name, o.uscc, o.region_code, o.created_at,
       (SELECT coalesce(json_agg(json_build_object('grade', g.grade, 'awarded_on', g.awarded_on,
                                                   'note', g.note)
                                 ORDER BY g.awarded_on DESC, g.id), '[]')
          FROM assessment_grades g WHERE g.vendor_id = o.id) AS grades,
       (SELECT coalesce(json_agg(json_build_object('list', e.list, 'reason', e.reason,
                                                   'listed_on', e.listed_on, 'removed_on', e.removed_on,
                                                   'removal_reason', e.removal_reason)
                                 ORDER BY e.listed_on DESC, e.id), '[]')
          FROM credit_list_entries e WHERE e.vendor_id = o.id) AS entries,
       (SELECT coalesce(json_agg(h ORDER BY h.id DESC), '[]') FROM (
            SELECT r.id, r.rated_on, r.score, r.grade, r.provisional, r.eligible, r.rules_version
            FROM credit_ratings r WHERE r.vendor_id = o.id ORDER BY r.id DESC LIMIT $2) h) AS history,
       (SELECT count(*) FROM credit_ratings r WHERE r.vendor_id = o.id) AS history_total,
       greatest(
           o.created_at,
           (SELECT max(created_at) FROM credit_ratings WHERE vendor_id = o.id),
           (SELECT max(recorded_at) FROM assessment_grades WHERE vendor_id = o.id),
           (SELECT max(greatest(recorded_at, removal_recorded_at)) FROM credit_list_entries
             WHERE vendor_id = o.id)
       ) AS as_of
FROM organisations o WHERE o.id = $1 AND o.kind = 'vendor'
"""


async def credit_report_data(vendor_id: UUID) -> tuple[dict[str, Any], datetime]:
    """The report's context and as-of time (the latest change to anything it shows)."""
    rating = await service.get_rating(vendor_id)  # stores a first rating if there is none yet
    row = await db.fetchrow(_DATA_SQL, vendor_id, HISTORY_ROWS)
    if row is None:
        raise NotFound("vendor", vendor_id)
    as_of: datetime = row["as_of"]
    on = as_of.astimezone(SHANGHAI).date()
    vendor_type = rules.vendor_type(row["uscc"]) if row["uscc"] else "other"

    records = [rules.AssessmentGradeRecord(g["grade"], date.fromisoformat(g["awarded_on"])) for g in row["grades"]]
    current = rules.current_assessment_grade(records, on)
    grades = []
    for g in row["grades"]:
        awarded_on = date.fromisoformat(g["awarded_on"])
        expires_on = rules.assessment_grade_expires_on(awarded_on)
        grades.append(
            {
                "grade": rules.ASSESSMENT_GRADES[g["grade"]],
                "awarded_on": awarded_on,
                "expires_on": expires_on,
                "current": current is not None and current.awarded_on == awarded_on and current.grade == g["grade"],
                "expired": on >= expires_on,
                "note": g["note"],
            }
        )

    entries = []
    for e in row["entries"]:
        removed_on = date.fromisoformat(e["removed_on"]) if e["removed_on"] else None
        listed_on = date.fromisoformat(e["listed_on"])
        entries.append(
            {
                "list_label": rules.CREDIT_LIST_KINDS[e["list"]],
                "reason": e["reason"],
                "listed_on": listed_on,
                "removed_on": removed_on,
                "removal_reason": e["removal_reason"],
                "active": listed_on <= on and (removed_on is None or removed_on > on),
            }
        )

    components = [
        {
            "name": c.name,
            "label": COMPONENT_LABELS.get(c.name, c.name),
            "value": c.value,
            "base_weight": c.base_weight,
            "effective_weight": c.effective_weight,
            "present": c.present,
            "note": component_note(c.name, rating.inputs, rating.rated_on, c.present),
        }
        for c in rating.components
    ]
    history = [
        {
            "rated_on": date.fromisoformat(h["rated_on"]),
            "score": _decimal(h["score"]),
            "grade": h["grade"],
            "provisional": h["provisional"],
            "eligible": h["eligible"],
            "rules_version": h["rules_version"],
        }
        for h in row["history"]
    ]
    context = {
        "vendor": {
            "id": vendor_id,
            "name": row["name"],
            "uscc": row["uscc"],
            "type_label": rules.VENDOR_TYPE_LABELS[vendor_type],
            "region_code": row["region_code"],
        },
        "rating": {
            "rated_on": rating.rated_on,
            "score": rating.score,
            "grade": rating.grade,
            "provisional": rating.provisional,
            "eligible": rating.eligible,
            "rules_version": rating.rules_version,
            "components": components,
        },
        "grade_bands": CREDIT_GRADE_BANDS_TEXT,
        "current_grade": {
            "grade": current.label, "awarded_on": current.awarded_on,
            "expires_on": current.expires_on, "expired": current.expired,
        } if current else None,
        "grades": grades,
        "entries": entries,
        "active_entry_count": sum(1 for e in entries if e["active"]),
        "history": history,
        "history_total": row["history_total"],
    }
    return context, as_of


async def credit_report(actor: Actor, vendor_id: UUID) -> RenderedPdf:
    """The vendor's credit report as a PDF, for those who may read it (else 404)."""
    if not may_read(actor, vendor_id):
        raise NotFound("vendor", vendor_id)
    context, as_of = await credit_report_data(vendor_id)
    return await render_pdf(
        TEMPLATE,
        context,
        title=TITLE,
        bureau=ISSUER,
        document_type=DOCUMENT_TYPE,
        as_of=as_of,
    )
