"""Statutory notices (公告), pure: what each kind of notice is called, what it says and where it
lives. The service lists them (`/api/v1/public/notices`) and the OCDS feed points at them as
documents, so both read the same titles and texts from here.

The kinds published so far, with the rule that makes each public:
- `tender` — the procurement notice (采购公告), 政府采购法 Art. 11, 87号令 Art. 13;
- `amendment` — the amendment of a published tender (更正公告), 87号令 Art. 27 (澄清或者修改:
  published where the procurement notice was); its id is the amendment's;
- `result` — the award notice (中标/成交结果公告), 政府采购法 Art. 44, 87号令 Art. 69;
- `challenge_reply` — the purchaser's reply to a challenge (质疑答复), 财政部令第94号 Arts. 13, 15
  (in writing to the challenger and the other suppliers concerned; govbuy publishes it, DESIGN §8);
- `complaint_decision` — the regulator's decision on a complaint (投诉处理决定), 94号令 Art. 35
  (announced on the designated media);
- `contract` — the contract notice (合同公告) once both parties signed, 政府采购法 Art. 47 and
  实施条例 Art. 50 (within 2 working days of signing: govbuy publishes it at the signature);
- `acceptance` — the acceptance result (履约验收结果), an accepted third-party evaluation of a
  milestone, 102号令 Art. 30 and DESIGN §8;
- `termination` — the termination of a signed contract (合同终止), DESIGN §8;
- `intention` — the procurement intention (采购意向公开), 财库〔2020〕10号, published by the
  bureau, in principle, 30 days before the procurement starts; a withdrawn one stays, marked so.

Top layer (STYLE habit 14): reads any domain's tables directly, set-based.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from uuid import UUID

from govbuy.rules import SHANGHAI

TYPES = ("tender", "amendment", "result", "challenge_reply", "complaint_decision", "contract", "acceptance", "termination", "intention")
# The notices of a contracting process (an intention precedes any tender: it is of none).
PROCESS_TYPES = tuple(t for t in TYPES if t != "intention")

# The name of the procurement notice by method (87号令 Arts. 13–14; 74号令 Art. 12; the single
# source 公示 of 实施条例 Art. 38).
TENDER_NOTICE = {
    "public_tender": "公开招标公告",
    "invited_tender": "邀请招标资格预审公告",
    "competitive_negotiation": "竞争性谈判公告",
    "competitive_consultation": "竞争性磋商公告",
    "inquiry": "询价公告",
    "single_source": "单一来源采购公示",
}

OUTCOME = {"upheld": "成立", "dismissed": "不成立"}
REMEDY = {
    "cancel": "采购活动终止，重新开展采购",
    "reevaluate": "退回评审，重新评审",
    "next_candidate": "涉及的投标（响应）无效，依序确定其他中标（成交）候选人",
}


# --- the query -----------------------------------------------------------------------------

# One branch per kind of notice, each in the same columns; a list reads only the branches asked
# for, each through its own (published_at DESC, id DESC) index (procurement_0002, _0006, _0010).
COLUMNS = ("id", "type", "published_at", "tender_id", "party_id", "subject", "outcome", "remedy", "body", "due_at",
           "amount", "state")
BRANCHES = {
    "tender": """SELECT t.id, 'tender'::text AS type, t.published_at, t.id AS tender_id, NULL::uuid AS party_id,
                        NULL::text AS subject, NULL::text AS outcome, NULL::text AS remedy, t.description AS body,
                        NULL::timestamptz AS due_at, t.ceiling_amount AS amount, NULL::text AS state
                 FROM tenders t WHERE t.published_at IS NOT NULL""",
    # subject: the changed fields; body: the reason; due_at: the bid deadline after it.
    "amendment": """SELECT a.id, 'amendment'::text, a.created_at, a.tender_id, NULL::uuid,
                           array_to_string(a.changed_fields, ', '), NULL::text, NULL::text, a.reason,
                           a.deadline_after, NULL::numeric, CASE WHEN a.deadline_moved THEN 'deadline_moved' END
                    FROM tender_amendments a""",
    "result": """SELECT a.id, 'result'::text, a.awarded_at, a.tender_id, a.vendor_id, NULL::text, NULL::text,
                        NULL::text, NULL::text, NULL::timestamptz, a.price, a.status::text
                 FROM tender_awards a""",
    "challenge_reply": """SELECT c.id, 'challenge_reply'::text, c.resolved_at, c.tender_id, c.vendor_id, c.grounds,
                                 c.status::text, c.remedy::text, c.reply, c.reply_due, NULL::numeric, NULL::text
                          FROM tender_challenges c WHERE c.status IN ('upheld', 'dismissed')""",
    "complaint_decision": """SELECT k.id, 'complaint_decision'::text, k.decided_at, k.tender_id, k.vendor_id, k.grounds,
                                    k.outcome::text, k.remedy::text, k.decision, k.decision_due, NULL::numeric,
                                    NULL::text
                             FROM complaints k WHERE k.status = 'decided'""",
    "contract": """SELECT c.id, 'contract'::text, c.activated_at, c.tender_id, c.vendor_id, NULL::text, NULL::text,
                          NULL::text, NULL::text, NULL::timestamptz, c.amount, c.status::text
                   FROM contracts c WHERE c.activated_at IS NOT NULL""",
    "acceptance": """SELECT e.id, 'acceptance'::text, e.accepted_at, c.tender_id, e.vendor_id, m.title, e.grade::text,
                            NULL::text, NULL::text, NULL::timestamptz, e.total_score,
                            CASE WHEN e.superseded_at IS NULL THEN 'in_force' ELSE 'superseded' END
                     FROM evaluations e JOIN contracts c ON c.id = e.contract_id JOIN milestones m ON m.id = e.milestone_id
                     WHERE e.accepted_at IS NOT NULL""",
    # A contract has one termination: its notice's id is derived from the contract's.
    "termination": """SELECT md5(c.id::text || ':termination')::uuid, 'termination'::text, c.terminated_at, c.tender_id,
                             c.vendor_id, NULL::text, NULL::text, NULL::text, c.termination_reason, NULL::timestamptz,
                             c.amount, c.status::text
                      FROM contracts c WHERE c.terminated_at IS NOT NULL""",
    # Of no tender (yet): its bureau is found through the intention (planning_0003's index).
    "intention": """SELECT i.id, 'intention'::text, i.published_at, NULL::uuid, NULL::uuid, i.title, NULL::text,
                           NULL::text, i.needs, NULL::timestamptz, i.budget_amount, i.status::text
                    FROM procurement_intentions i WHERE i.published_at IS NOT NULL""",
}


def query(types: list[str]) -> str:
    """The notices of the kinds given, each row with what `title` and `text` read; the caller
    adds its WHERE (on n.*, t.*, o.*) and its order."""
    union = "\n    UNION ALL\n".join(BRANCHES[t] for t in types)
    if "intention" not in types:
        return f"""SELECT n.*, t.title AS tender_title, t.method, t.bureau_id, o.name AS bureau_name, o.region_code,
                          p.name AS party_name
                   FROM ({union}) AS n ({", ".join(COLUMNS)})
                   JOIN tenders t ON t.id = n.tender_id
                   JOIN organisations o ON o.id = t.bureau_id
                   LEFT JOIN organisations p ON p.id = n.party_id"""
    return f"""SELECT n.*, t.title AS tender_title, t.method, coalesce(t.bureau_id, i.bureau_id) AS bureau_id,
                      o.name AS bureau_name, o.region_code, p.name AS party_name,
                      i.expected_month, i.remarks, i.withdraw_reason
               FROM ({union}) AS n ({", ".join(COLUMNS)})
               LEFT JOIN tenders t ON t.id = n.tender_id
               LEFT JOIN procurement_intentions i ON n.type = 'intention' AND i.id = n.id
               JOIN organisations o ON o.id = coalesce(t.bureau_id, i.bureau_id)
               LEFT JOIN organisations p ON p.id = n.party_id"""


# --- what a notice says ---------------------------------------------------------------------


def url(public_url: str, notice_id: UUID | str) -> str:
    """A notice's stable URL (on the configured public address, never a request's host)."""
    return f"{public_url}/api/v1/public/notices/{notice_id}"


def title(row: Mapping[str, Any]) -> str:
    """`row`: type, tender_title, method."""
    kind = row["type"]
    if kind == "intention":
        return f"{row['subject']} 采购意向公开" + ("（已撤回）" if row.get("state") == "withdrawn" else "")
    if kind == "tender":
        return f"{row['tender_title']} {TENDER_NOTICE.get(row['method'], '采购公告')}"
    if kind == "amendment":
        return f"{row['tender_title']} 更正公告"
    if kind == "result":
        return f"{row['tender_title']} 中标（成交）结果公告"
    if kind == "challenge_reply":
        return f"{row['tender_title']} 质疑答复"
    if kind == "complaint_decision":
        return f"{row['tender_title']} 投诉处理决定"
    return f"{row['tender_title']} {OTHER_TITLES[kind]}"


OTHER_TITLES = {"contract": "合同公告", "acceptance": "履约验收结果公告", "termination": "合同终止公告"}
GRADES = {"excellent": "优", "good": "良", "fair": "中", "poor": "差"}


def text(row: Mapping[str, Any]) -> str:
    """The notice's body. `row`: type, body, amount, party_name, outcome, remedy, state, voided_at."""
    kind = row["type"]
    if kind == "intention":
        return intention_text(row)
    if kind == "tender":
        return f"{row['body'] or ''}\n最高限价：{Decimal(str(row['amount'])):.2f} 元".lstrip()
    if kind == "amendment":
        return amendment_text(row)
    if kind == "result":
        line = f"中标（成交）供应商：{row['party_name']}；中标（成交）金额：{Decimal(str(row['amount'])):.2f} 元"
        if row.get("state") == "voided":
            line += "。该结果已因质疑或投诉成立而撤销"
        return line
    if kind == "contract":
        return f"供应商：{row['party_name']}；合同金额：{Decimal(str(row['amount'])):.2f} 元"
    if kind == "acceptance":
        line = (f"{row['subject']}：第三方绩效评价得分 {Decimal(str(row['amount'])):f} 分，"
                f"等级{GRADES.get(row['outcome'], row['outcome'])}（承接主体：{row['party_name']}）")
        return line + ("。该评价已因申诉成立被重新评价取代" if row.get("state") == "superseded" else "")
    if kind == "termination":
        return f"合同终止（承接主体：{row['party_name']}）。终止原因：{row['body'] or '—'}"
    what = "质疑" if kind == "challenge_reply" else "投诉"
    lines = [f"{what}供应商：{row['party_name']}", f"{what}事项：{row['subject']}", f"结论：{what}{OUTCOME[row['outcome']]}"]
    if row.get("remedy"):
        lines.append(f"处理：{REMEDY[row['remedy']]}")
    lines.append(f"{'答复' if kind == 'challenge_reply' else '处理决定'}：{row['body']}")
    return "\n".join(lines)


def intention_text(row: Mapping[str, Any]) -> str:
    """A procurement intention's notice (财库〔2020〕10号: 采购项目名称, 采购需求概况, 预算金额,
    预计采购时间, 备注). `row`: subject (the title), body (the needs), amount, expected_month,
    remarks, state, withdraw_reason."""
    month = row["expected_month"]
    lines = [
        f"采购项目名称：{row['subject']}",
        f"采购需求概况：{row['body']}",
        f"预算金额：{Decimal(str(row['amount'])):.2f} 元",
        f"预计采购时间：{month.year}年{month.month}月",
    ]
    if row.get("remarks"):
        lines.append(f"备注：{row['remarks']}")
    if row.get("state") == "withdrawn":
        lines.append(f"该采购意向已撤回。撤回原因：{row.get('withdraw_reason') or '—'}")
    return "\n".join(lines)


AMENDED_FIELDS = {
    "title": "项目名称", "description": "采购需求", "price_weight": "价格分值", "criteria": "评审因素",
    "performance_targets": "绩效目标", "milestones": "履约节点", "payment_rule": "付款规则", "bid_deadline": "投标截止时间",
}


def amendment_text(row: Mapping[str, Any]) -> str:
    """An amendment's notice (更正事项, 更正理由, the bid deadline after it). `row`: subject (the
    changed fields, comma-separated), body (the reason), due_at (the deadline), state."""
    changed = "、".join(AMENDED_FIELDS.get(f.strip(), f.strip()) for f in (row["subject"] or "").split(","))
    deadline = row["due_at"].astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
    lines = [f"更正事项：{changed}", f"更正理由：{row['body']}", f"投标截止时间：{deadline}（北京时间）"]
    if row.get("state") == "deadline_moved":
        lines.append("更正可能影响投标文件编制，投标截止时间已相应顺延（财政部令第87号第二十七条）")
    return "\n".join(lines)
