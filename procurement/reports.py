"""The award notice (中标/成交结果公告) as a PDF: the tender's terms, the winner and the full
ranking with each bidder's price, scores and credit grade at opening, the bids found invalid at
opening, and the standstill in which bidders may challenge.

The notice is public (DESIGN §8): anyone, signed in or not, gets the same document. Its as-of
time is the award's own time (or its voiding), so the same award always gives the same bytes.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from govbuy import database as db
from govbuy.audit import Actor
from govbuy.errors import NotFound
from govbuy.reports import RenderedPdf, render_pdf
from govbuy.rules import last_day, to_fen
from planning import service as planning
from procurement import rules

TEMPLATE = "award_notice.html"
# 招标 methods end in a 中标 notice; negotiation, consultation, inquiry and single source in 成交.
TENDERING_METHODS = ("public_tender", "invited_tender")
EVALUATION_METHOD_LABELS = {"comprehensive": "综合评分法", "lowest_price": "最低评标价法"}
INVALID_REASON_LABELS = {
    "credit_list_entry_active": "列入信用名单",
    "assessment_grade_missing": "无社会组织评估等级",
    "assessment_grade_expired": "社会组织评估等级已过期",
    "assessment_grade_below_minimum": "社会组织评估等级低于采购文件要求",
    "credit_grade_missing": "无信用等级",
    "credit_grade_below_minimum": "信用等级低于采购文件要求",
}

_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_PLACES = ("", "拾", "佰", "仟")
_SECTIONS = ("", "万", "亿", "万亿")


def _group_words(group: int) -> str:
    """A group of up to four digits (1–9999) in capitals, with 零 for inner zeros."""
    words = ""
    zero = False
    for place in range(3, -1, -1):
        digit = group // 10**place % 10
        if digit == 0:
            zero = bool(words)
            continue
        if zero:
            words += "零"
            zero = False
        words += _DIGITS[digit] + _PLACES[place]
    return words


def rmb_capital(amount: Decimal) -> str:
    """An amount of yuan in financial capitals (人民币大写), as payment documents write it:
    912345.67 → "人民币玖拾壹万贰仟叁佰肆拾伍元陆角柒分", 1000000 → "人民币壹佰万元整"."""
    fen_total = int(to_fen(Decimal(amount)) * 100)
    if fen_total < 0:
        raise ValueError("an amount in capitals cannot be negative")
    yuan, rest = divmod(fen_total, 100)
    jiao, fen = divmod(rest, 10)
    groups = []
    while yuan:
        yuan, group = divmod(yuan, 10000)
        groups.append(group)
    if len(groups) > len(_SECTIONS):
        raise ValueError("amount too large")
    words = ""
    zero = False
    for index in range(len(groups) - 1, -1, -1):
        group = groups[index]
        if group == 0:
            zero = bool(words)
            continue
        if words and (zero or group < 1000):
            words += "零"
        words += _group_words(group) + _SECTIONS[index]
        zero = False
    if words:
        words += "元"
    if not jiao and not fen:
        return "人民币" + (words or "零元") + "整"
    if jiao:
        words += _DIGITS[jiao] + "角"
    elif words:
        words += "零"
    if fen:
        words += _DIGITS[fen] + "分"
    else:
        words += "整"
    return "人民币" + words


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def points(value: Any) -> str | None:
    """A weight as people write it: 30.00 → "30", 12.50 → "12.5"."""
    if value is None:
        return None
    text = f"{Decimal(str(value)).normalize():f}"
    return text


def _invalid_reason(eligibility: dict[str, Any] | None) -> str:
    reasons = (eligibility or {}).get("reasons") or []
    labels = []
    for reason in reasons:
        label = INVALID_REASON_LABELS.get(reason.get("code"), "资格审查未通过")
        if label not in labels:
            labels.append(label)
    return "、".join(labels) or "资格审查未通过"


_NOTICE_SQL = """
SELECT t.id, t.title, t.description, t.method, t.ceiling_amount, t.contract_months, t.recurring,
       t.evaluation_method, t.price_weight, t.criteria, t.min_assessment_grade, t.min_credit_grade,
       t.sme_reserved, t.sme_price_deduction_percent,
       t.published_at, t.bid_deadline, t.opened_at,
       t.catalogue_item_id, b.name AS bureau_name,
       a.id AS award_id, a.status AS award_status, a.price AS award_price, a.ranking, a.awarded_at,
       a.standstill_until, a.calendar_warning, a.voided_at,
       v.name AS winner_name, v.uscc AS winner_uscc,
       (SELECT count(*) FROM tender_panel_members p WHERE p.tender_id = t.id) AS panel_size,
       (SELECT count(*) FROM bids x WHERE x.tender_id = t.id AND x.status IN ('valid', 'invalid')) AS bid_count,
       (SELECT coalesce(json_agg(json_build_object('vendor_name', o.name, 'price', x.price,
                                                   'eligibility', x.eligibility_at_opening,
                                                   'credit_grade', x.credit_grade_at_opening)
                                 ORDER BY x.submitted_at, x.id), '[]')
          FROM bids x JOIN organisations o ON o.id = x.vendor_id
         WHERE x.tender_id = t.id AND x.status = 'invalid') AS invalid_bids,
       (SELECT coalesce(json_agg(json_build_object('vendor_name', o.name, 'price', x.price,
                                                   'reasons', (SELECT string_agg(r.reason, '；' ORDER BY r.reviewed_at)
                                                               FROM bid_reviews r WHERE r.bid_id = x.id AND NOT r.responsive))
                                 ORDER BY x.submitted_at, x.id), '[]')
          FROM bids x JOIN organisations o ON o.id = x.vendor_id
         WHERE x.tender_id = t.id AND x.status = 'valid' AND x.review_status = 'non_responsive') AS non_responsive_bids,
       (SELECT coalesce(json_agg(json_build_object('name', coalesce(u.full_name, u.username), 'role', p.member_role)
                                 ORDER BY p.member_role, coalesce(u.full_name, u.username)), '[]')
          FROM tender_panel_members p JOIN users u ON u.id = p.expert_user_id WHERE p.tender_id = t.id) AS panel,
       (SELECT coalesce(json_agg(d.id ORDER BY d.drawn_at, d.id), '[]') FROM panel_draws d WHERE d.tender_id = t.id AND d.kind <> 'hand_picked') AS draw_ids
FROM tenders t
JOIN organisations b ON b.id = t.bureau_id
JOIN LATERAL (
    SELECT * FROM tender_awards a WHERE a.tender_id = t.id
    ORDER BY a.status = 'active' DESC, a.awarded_at DESC, a.id DESC LIMIT 1
) a ON true
JOIN organisations v ON v.id = a.vendor_id
WHERE t.id = $1 AND t.published_at IS NOT NULL
"""


async def award_notice_data(tender_id: UUID) -> tuple[dict[str, Any], str, str, datetime]:
    """(context, title, bureau, as_of) of the tender's current award notice; 404 without one."""
    row = await db.fetchrow(_NOTICE_SQL, tender_id)
    if row is None:
        raise NotFound("award of tender", tender_id)
    item = (await planning.catalogue_item_labels([row["catalogue_item_id"]]))[row["catalogue_item_id"]]
    tendering = row["method"] in TENDERING_METHODS
    ranking = [
        {
            "rank": line["rank"],
            "vendor_name": line["vendor_name"],
            "price": _decimal(line["price"]),
            "price_score": _decimal(line.get("price_score")),
            "technical_score": _decimal(line.get("technical_score")),
            "total_score": _decimal(line.get("total_score")),
            "credit_grade": line.get("credit_grade_at_opening"),
            "sme_label": rules.DECLARATIONS.get(line.get("sme_declaration") or "", "—"),
            "deduction_label": f"{points(line['price_deduction_percent'])}%" if _decimal(line.get("price_deduction_percent")) else "—",
            "evaluated_price": _decimal(line.get("evaluated_price")) or _decimal(line["price"]),
        }
        for line in sorted(row["ranking"], key=lambda line: line["rank"])
    ]
    grade = row["min_assessment_grade"]
    context = {
        "tendering": tendering,
        "tender": {
            "id": row["id"],
            "title": row["title"],
            "method_label": rules.Method(row["method"]).label,
            "item_code": item.code,
            "item_name": item.name,
            "ceiling_amount": row["ceiling_amount"],
            "contract_months": row["contract_months"],
            "recurring": row["recurring"],
            "evaluation_method": row["evaluation_method"],
            "evaluation_method_label": EVALUATION_METHOD_LABELS[row["evaluation_method"]],
            "price_weight": points(row["price_weight"]),
            "criteria": [
                {
                    "name": c["name"],
                    "weight": points(c["weight"]),
                    "by_grade": "、".join(f"{g} {points(p)}分" for g, p in (c.get("points_by_grade") or {}).items()),
                }
                for c in row["criteria"]
            ],
            "sme_reserved": row["sme_reserved"],
            "sme_deduction": points(row["sme_price_deduction_percent"]) if row["sme_price_deduction_percent"] else None,
            "min_assessment_grade": rules.ASSESSMENT_GRADES[grade - 1] if grade else None,
            "min_credit_grade": row["min_credit_grade"],
            "published_at": row["published_at"],
            "bid_deadline": row["bid_deadline"],
            "opened_at": row["opened_at"],
        },
        "award": {
            "id": row["award_id"],
            "status": row["award_status"],
            "price": row["award_price"],
            "price_capital": rmb_capital(row["award_price"]),
            "winner_name": row["winner_name"],
            "winner_uscc": row["winner_uscc"],
            "awarded_at": row["awarded_at"],
            "standstill_until": row["standstill_until"],
            # The standstill ends at a midnight: people name the last day it includes.
            "standstill_last_day": last_day(row["standstill_until"]),
            "calendar_warning": row["calendar_warning"] is not None,
            "voided_at": row["voided_at"],
        },
        "ranking": ranking,
        "panel_size": row["panel_size"],
        "bid_count": row["bid_count"],
        "invalid_bids": [
            {"vendor_name": b["vendor_name"], "price": _decimal(b["price"]), "credit_grade": b["credit_grade"],
             "reason": _invalid_reason(b["eligibility"])}
            for b in row["invalid_bids"]
        ],
        # 87号令 Art. 69: the notice names the panel; and says which bids were found non-responsive, and why.
        "panel": row["panel"],
        "draw_ids": row["draw_ids"],
        "non_responsive_bids": [
            {"vendor_name": b["vendor_name"], "price": _decimal(b["price"]), "reasons": b["reasons"]}
            for b in row["non_responsive_bids"]
        ],
    }
    title = "中标结果公告" if tendering else "成交结果公告"
    as_of = max(t for t in (row["awarded_at"], row["voided_at"]) if t is not None)
    return context, title, row["bureau_name"], as_of


async def award_notice(actor: Actor | None, tender_id: UUID) -> RenderedPdf:
    """The tender's award notice as a PDF. Public: `actor` may be None, and whoever asks gets
    the same document; 404 when the tender is not published or has no award."""
    context, title, bureau, as_of = await award_notice_data(tender_id)
    return await render_pdf(TEMPLATE, context, title=title, bureau=bureau, document_type=title, as_of=as_of)
