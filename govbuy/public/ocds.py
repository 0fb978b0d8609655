"""Open Contracting Data Standard 1.1: the mapping of a contracting process to a release, the
release tags, the merge of releases into a compiled release, packaging, and validation against
the official schemas with the declared extensions applied.

Everything here is pure (no database): `feed` loads a process's state and stores the releases.
The mapping is documented in docs/ocds.md; what it leaves out on purpose (DESIGN §8): bids
before their opening, proposals, experts' score sheets, users, anything personal.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from govbuy.rules import SHANGHAI

OCDS_VERSION = "1.1"
CURRENCY = "CNY"
LANGUAGE = "zh"

# The extensions applied, by their folder under settings.ocds_schema_dir, with the URL of the
# extension.json each folder is a copy of (bids and transaction_milestones from their master
# branch, metrics from its 1.1 branch, as the extension registry lists them). The order is the
# order their patches are applied: transaction_milestones refers to metrics' MilestoneReference.
EXTENSIONS: dict[str, str] = {
    "bids": "https://raw.githubusercontent.com/open-contracting-extensions/ocds_bid_extension/master/extension.json",
    "metrics": "https://raw.githubusercontent.com/open-contracting-extensions/ocds_metrics_extension/1.1/extension.json",
    "transaction_milestones": "https://raw.githubusercontent.com/open-contracting-extensions/"
    "ocds_transactions_relatedMilestone_extension/master/extension.json",
}

# org-id.guide's list code for 统一社会信用代码 (GB 32100-2015).
ORGANISATION_SCHEME = "CN-USCI"
# No itemClassificationScheme code fits the guidance catalogue (指导性目录), which each region
# publishes per year, so the scheme is our own (the codelist is open).
CATALOGUE_SCHEME = "x_govbuy_catalogue"

TENDER_STATUS = {
    "published": "active",
    "evaluating": "active",
    "awarded": "complete",
    "contracted": "complete",
    "failed": "unsuccessful",
    "cancelled": "cancelled",
}

# Who may submit (the method codelist), by method and by whether the tender names the vendors
# it invites. In govbuy the non-tender competitive methods (竞争性谈判, 竞争性磋商, 询价) are
# announced publicly and any eligible vendor may bid — procurement.rules refuses invitations
# for them — so they are `open`; were they run on invitations (财政部令第74号 Art. 12 also
# allows suppliers chosen from a database or recommended), they would be `limited`.
PROCUREMENT_METHOD = {
    ("public_tender", False): "open",
    ("invited_tender", True): "selective",
    ("competitive_negotiation", False): "open",
    ("competitive_negotiation", True): "limited",
    ("competitive_consultation", False): "open",
    ("competitive_consultation", True): "limited",
    ("inquiry", False): "open",
    ("inquiry", True): "limited",
    ("single_source", True): "direct",
    ("single_source", False): "direct",
}


def procurement_method(method: str, invited: bool) -> str:
    return PROCUREMENT_METHOD.get((method, invited)) or ("selective" if method == "invited_tender" else "open")

METHOD_DETAILS = {
    "public_tender": "公开招标",
    "invited_tender": "邀请招标",
    "competitive_negotiation": "竞争性谈判",
    "competitive_consultation": "竞争性磋商",
    "inquiry": "询价",
    "single_source": "单一来源",
}

AWARD_CRITERIA = {"comprehensive": "ratedCriteria", "lowest_price": "priceOnly"}
AWARD_CRITERIA_DETAILS = {"comprehensive": "综合评分法", "lowest_price": "最低评标价法"}

BID_STATUS = {"submitted": "pending", "valid": "valid", "invalid": "disqualified"}

CONTRACT_STATUS = {"draft": "pending", "active": "active", "completed": "terminated", "terminated": "terminated"}

GRADE_LABELS = {"excellent": "优", "good": "良", "fair": "中", "poor": "差"}
ASSESSMENT_GRADE_LABELS = {1: "1A", 2: "2A", 3: "3A", 4: "4A", 5: "5A"}

RELEASE_TAGS = (
    "planning", "planningUpdate", "tender", "tenderAmendment", "tenderUpdate", "tenderCancellation",
    "award", "awardUpdate", "awardCancellation", "contract", "contractUpdate", "contractAmendment",
    "implementation", "implementationUpdate", "contractTermination",
)  # fmt: skip


# --- values ---------------------------------------------------------------------------------


def amount(value: Decimal | int | str) -> int | float:
    """A JSON number for a yuan amount. OCDS wants numbers; a float is exact here because a fen
    amount below 10^13 yuan has at most 15 significant digits, which a double round-trips — and
    that is checked, so no amount is ever published rounded."""
    number = Decimal(str(value))
    if number == number.to_integral_value():
        return int(number)
    as_float = float(number)
    if Decimal(repr(as_float)) != number:
        raise ValueError(f"{number} has no exact JSON number representation")
    return as_float


def money(value: Decimal | int | str) -> dict[str, Any]:
    return {"amount": amount(value), "currency": CURRENCY}


def timestamp(moment: datetime) -> str:
    """An RFC 3339 date-time in China Standard Time."""
    return moment.astimezone(SHANGHAI).isoformat()


def day_start(day: date) -> str:
    return datetime.combine(day, time(0), tzinfo=SHANGHAI).isoformat()


def day_end(day: date) -> str:
    return datetime.combine(day, time(23, 59, 59), tzinfo=SHANGHAI).isoformat()


def ocid_for(prefix: str, tender_id: Any) -> str:
    return f"{prefix}-{tender_id}"


# --- the state of one contracting process ---------------------------------------------------


@dataclass
class Process:
    """What the database holds about one contracting process, as plain rows (mappings).

    `bids` are only those a release may show (the feed passes none before the opening);
    `evaluations` only accepted ones; nothing here carries a proposal or a score sheet.
    """

    tender: Mapping[str, Any]
    bureau: Mapping[str, Any]
    item: Mapping[str, Any]
    item_parents: Sequence[Mapping[str, Any]] = ()
    budget_line: Mapping[str, Any] | None = None
    opened: bool = False
    bids: Sequence[Mapping[str, Any]] = ()
    awards: Sequence[Mapping[str, Any]] = ()
    vendors: Mapping[Any, Mapping[str, Any]] = field(default_factory=dict)
    contract: Mapping[str, Any] | None = None
    milestones: Sequence[Mapping[str, Any]] = ()
    amendments: Sequence[Mapping[str, Any]] = ()
    evaluations: Sequence[Mapping[str, Any]] = ()
    payments: Sequence[Mapping[str, Any]] = ()


def _reference(org: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": str(org["id"]), "name": org["name"]}


def _party(org: Mapping[str, Any], roles: Iterable[str]) -> dict[str, Any]:
    party: dict[str, Any] = {"id": str(org["id"]), "name": org["name"]}
    if org.get("uscc"):
        party["identifier"] = {"scheme": ORGANISATION_SCHEME, "id": org["uscc"], "legalName": org["name"]}
    address: dict[str, Any] = {"countryName": "中国"}
    if org.get("region_code"):
        address["region"] = org["region_code"]
    party["address"] = address
    party["roles"] = [r for r in ("buyer", "procuringEntity", "tenderer", "supplier", "payer", "payee") if r in set(roles)]
    return party


def _classification(row: Mapping[str, Any]) -> dict[str, Any]:
    return {"scheme": CATALOGUE_SCHEME, "id": row["code"], "description": row["name"]}


def _eligibility_text(tender: Mapping[str, Any]) -> str:
    parts = ["未被列入严重违法失信名单等信用记录名单（财库〔2016〕125号）"]
    if tender.get("min_assessment_grade"):
        grade = ASSESSMENT_GRADE_LABELS.get(tender["min_assessment_grade"], str(tender["min_assessment_grade"]))
        parts.append(f"社会组织评估等级不低于{grade}")
    if tender.get("min_credit_grade"):
        parts.append(f"信用等级不低于{tender['min_credit_grade']}级")
    return "；".join(parts)


def _criteria_text(tender: Mapping[str, Any]) -> str:
    label = AWARD_CRITERIA_DETAILS[tender["evaluation_method"]]
    if tender["evaluation_method"] != "comprehensive":
        return label
    items = [f"价格 {Decimal(str(tender['price_weight'])).normalize():f} 分"]
    for criterion in tender.get("criteria") or ():
        items.append(f"{criterion['name']} {Decimal(str(criterion['weight'])).normalize():f} 分")
    return f"{label}：" + "，".join(items)


def _tender_section(p: Process) -> dict[str, Any]:
    t = p.tender
    item: dict[str, Any] = {
        "id": "1",
        "description": p.item["name"],
        "classification": _classification(p.item),
        "quantity": 1,
    }
    if p.item_parents:
        item["additionalClassifications"] = [_classification(row) for row in p.item_parents]
    tender: dict[str, Any] = {
        "id": str(t["id"]),
        "title": t["title"],
        "status": TENDER_STATUS[t["status"]],
        "procuringEntity": _reference(p.bureau),
        "items": [item],
        "value": money(t["ceiling_amount"]),
        "procurementMethod": procurement_method(t["method"], bool(t.get("invited"))),
        "procurementMethodDetails": METHOD_DETAILS[t["method"]],
        "mainProcurementCategory": "services",
        "awardCriteria": AWARD_CRITERIA[t["evaluation_method"]],
        "awardCriteriaDetails": _criteria_text(t),
        "submissionMethod": ["electronicSubmission"],
        "tenderPeriod": {"startDate": timestamp(t["published_at"]), "endDate": timestamp(t["bid_deadline"])},
        "eligibilityCriteria": _eligibility_text(t),
    }
    if t.get("description"):
        tender["description"] = t["description"]
    if p.opened:
        tender["numberOfTenderers"] = len({b["vendor_id"] for b in p.bids})
        tender["tenderers"] = [_reference(p.vendors[v]) for v in _unique(b["vendor_id"] for b in p.bids)]
        start = timestamp(t["opened_at"]) if t.get("opened_at") else timestamp(t["bid_deadline"])
        award_period: dict[str, Any] = {"startDate": start}
        if p.awards:
            award_period["endDate"] = timestamp(max(a["awarded_at"] for a in p.awards))
        tender["awardPeriod"] = award_period
    return tender


def _unique(values: Iterable[Any]) -> list[Any]:
    seen: dict[Any, None] = {}
    for v in values:
        seen.setdefault(v, None)
    return list(seen)


def _ranks(p: Process) -> dict[str, int]:
    """Bid id → rank in the award notice in force (the latest award, voided or not)."""
    if not p.awards:
        return {}
    latest = max(p.awards, key=lambda a: a["awarded_at"])
    return {str(line["bid_id"]): int(line["rank"]) for line in latest["ranking"] if line.get("bid_id")}


def _bids_section(p: Process) -> dict[str, Any]:
    ranks = _ranks(p)
    details = []
    for b in p.bids:
        detail: dict[str, Any] = {
            "id": str(b["id"]),
            "date": timestamp(b["submitted_at"]),
            "status": BID_STATUS.get(b["status"], "pending"),
            "tenderers": [_reference(p.vendors[b["vendor_id"]])],
            "value": money(b["price"]),
        }
        if str(b["id"]) in ranks:
            detail["hasRank"] = True
            detail["rank"] = ranks[str(b["id"])]
        details.append(detail)
    valid = [b for b in p.bids if b["status"] == "valid"]
    statistics: list[dict[str, Any]] = [
        {"id": "bids", "measure": "bids", "value": len(p.bids)},
        {"id": "bidders", "measure": "bidders", "value": len({b["vendor_id"] for b in p.bids})},
    ]
    if any(b["status"] in ("valid", "invalid") for b in p.bids):
        statistics.append({"id": "validBids", "measure": "validBids", "value": len(valid)})
        statistics.append(
            {"id": "disqualifiedBids", "measure": "disqualifiedBids", "value": sum(b["status"] == "invalid" for b in p.bids)}
        )
    if valid:
        low = min(Decimal(str(b["price"])) for b in valid)
        high = max(Decimal(str(b["price"])) for b in valid)
        statistics.append({"id": "lowestValidBidValue", "measure": "lowestValidBidValue", "value": amount(low), "currency": CURRENCY})
        statistics.append({"id": "highestValidBidValue", "measure": "highestValidBidValue", "value": amount(high), "currency": CURRENCY})
    return {"statistics": statistics, "details": details}


def _award_status(award: Mapping[str, Any], now: datetime) -> str:
    if award["status"] == "voided":
        return "cancelled"
    # During the standstill (质疑期) the award is not yet in force: OCDS' cooling-off period.
    if now < award["standstill_until"] and award.get("contracted") is not True:
        return "pending"
    return "active"


def _awards_section(p: Process, now: datetime) -> list[dict[str, Any]]:
    awards = []
    for a in sorted(p.awards, key=lambda a: a["awarded_at"]):
        award: dict[str, Any] = {
            "id": str(a["id"]),
            "title": f"{p.tender['title']} 中标（成交）结果公告",
            "status": _award_status(a, now),
            "date": timestamp(a["awarded_at"]),
            "value": money(a["price"]),
            "suppliers": [_reference(p.vendors[a["vendor_id"]])],
            "relatedBids": [str(a["winning_bid_id"])],
        }
        if a["status"] == "voided" and a.get("voided_at"):
            award["description"] = f"质疑成立，成交结果于 {timestamp(a['voided_at'])} 撤销"
        awards.append(award)
    return awards


def _milestone_refs(m: Mapping[str, Any]) -> tuple[str, str, str]:
    base = str(m["id"])
    return f"{base}-delivery", f"{base}-assessment", f"{base}-payment"


def _implementation(p: Process) -> dict[str, Any]:
    evaluations_by_milestone: dict[str, list[Mapping[str, Any]]] = {}
    for e in sorted(p.evaluations, key=lambda e: e["accepted_at"]):
        evaluations_by_milestone.setdefault(str(e["milestone_id"]), []).append(e)
    payments_by_milestone = {str(pay["milestone_id"]): pay for pay in p.payments}
    milestones: list[dict[str, Any]] = []
    transactions: list[dict[str, Any]] = []
    observations: list[dict[str, Any]] = []
    for m in sorted(p.milestones, key=lambda m: m["sequence"]):
        delivery_id, assessment_id, payment_id = _milestone_refs(m)
        delivery: dict[str, Any] = {
            "id": delivery_id,
            "title": m["title"],
            "type": "delivery",
            "code": str(m["sequence"]),
            "dueDate": day_end(m["due_date"]),
            "status": "scheduled",
        }
        if m.get("delivered_at"):
            delivery["status"] = "met"
            delivery["dateMet"] = timestamp(m["delivered_at"])
        milestones.append(delivery)

        evaluations = evaluations_by_milestone.get(str(m["id"]), [])
        if evaluations:
            current = evaluations[-1]
            grade = GRADE_LABELS[current["grade"]]
            assessment: dict[str, Any] = {
                "id": assessment_id,
                "title": f"{m['title']} 第三方绩效评价",
                "type": "assessment",
                "description": f"评价等级：{grade}（{current['grade']}），总分 {Decimal(str(current['total_score'])):.2f}",
                "status": "met",
                "dateMet": timestamp(current["accepted_at"]),
            }
            milestones.append(assessment)
            for e in evaluations:
                observations.append(
                    {
                        "id": str(e["id"]),
                        "measure": amount(e["total_score"]),
                        "unit": {"name": "分"},
                        "dimensions": {"grade": e["grade"], "gradeLabel": GRADE_LABELS[e["grade"]]},
                        "relatedImplementationMilestone": {"id": assessment_id, "title": assessment["title"]},
                        **({"notes": "已被复评结果取代"} if e.get("superseded_at") else {}),
                    }
                )

        payment = payments_by_milestone.get(str(m["id"]))
        payment_milestone: dict[str, Any] = {
            "id": payment_id,
            "title": f"{m['title']} 付款",
            "type": "payment",
            "dueDate": day_end(m["due_date"]),
            "status": "scheduled",
            # Milestone.value is OCDS 1.2's field; 1.1 has none, and additional fields are allowed.
            "value": money(m["amount"]),
        }
        if payment is not None:
            paid = Decimal(str(payment["amount"]))
            withheld = Decimal(str(payment["withheld_amount"]))
            payment_milestone["description"] = (
                f"按评价等级{GRADE_LABELS[payment['grade']]}支付比例 {Decimal(str(payment['payout_ratio'])) * 100:.2f}%："
                f"支付 {paid:.2f} 元，扣减 {withheld:.2f} 元"
            )
            if payment["status"] == "confirmed":
                payment_milestone["status"] = "met" if withheld == 0 else ("partiallyMet" if paid > 0 else "notMet")
                payment_milestone["dateMet" if paid > 0 else "dateModified"] = timestamp(payment["confirmed_at"])
                transactions.append(
                    {
                        "id": str(payment["id"]),
                        "date": timestamp(payment["confirmed_at"]),
                        "value": money(paid),
                        "payer": _reference(p.bureau),
                        "payee": _reference(p.vendors[payment["payee_id"]]),
                        "relatedImplementationMilestone": {"id": payment_id, "title": payment_milestone["title"]},
                    }
                )
        milestones.append(payment_milestone)

    implementation: dict[str, Any] = {"milestones": milestones}
    if transactions:
        implementation["transactions"] = transactions
    if observations:
        implementation["metrics"] = [
            {"id": "performance-evaluation", "title": "第三方绩效评价得分", "observations": observations}
        ]
    return implementation


def _contract_section(p: Process) -> dict[str, Any]:
    c = p.contract
    assert c is not None
    award_id = next(
        (str(a["id"]) for a in p.awards if str(a["winning_bid_id"]) == str(c["bid_id"])),
        str(p.tender.get("award_id") or ""),
    )
    contract: dict[str, Any] = {
        "id": str(c["id"]),
        "awardID": award_id,
        "title": c.get("title") or p.tender["title"],
        "status": CONTRACT_STATUS[c["status"]],
        "period": {"startDate": day_start(c["start_date"]), "endDate": day_end(c["end_date"])},
        "value": money(c["amount"]),
        "relatedBids": [str(c["bid_id"])],
        "implementation": _implementation(p),
    }
    if c.get("activated_at"):
        contract["dateSigned"] = timestamp(c["activated_at"])
    if c["status"] in ("completed", "terminated"):
        ended = c.get("terminated_at") or c.get("completed_at")
        contract["description"] = "合同已履行完毕" if c["status"] == "completed" else "合同已终止"
        if ended:
            contract["period"]["endDate"] = min(contract["period"]["endDate"], timestamp(ended), key=_instant)
    if p.amendments:
        contract["amendments"] = [
            {
                "id": str(a["id"]),
                "date": timestamp(a["created_at"]),
                "rationale": a["reason"],
                "description": f"合同金额由 {Decimal(str(a['amount_before'])):.2f} 元增加 {Decimal(str(a['increase'])):.2f} 元"
                f"至 {Decimal(str(a['amount_after'])):.2f} 元",
            }
            for a in sorted(p.amendments, key=lambda a: a["created_at"])
        ]
    return contract


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


def build_release(p: Process, *, ocid: str, release_id: str, date: datetime, tags: Sequence[str], now: datetime) -> dict[str, Any]:
    """The full release of a process as it stands (every release is a complete snapshot)."""
    roles: dict[Any, set[str]] = {p.bureau["id"]: {"buyer", "procuringEntity"}}
    if p.opened:
        for b in p.bids:
            roles.setdefault(b["vendor_id"], set()).add("tenderer")
    for a in p.awards:
        roles.setdefault(a["vendor_id"], set()).add("supplier")
    for pay in p.payments:
        if pay["status"] == "confirmed":
            roles[p.bureau["id"]].add("payer")
            roles.setdefault(pay["payee_id"], set()).add("payee")
    orgs = {p.bureau["id"]: p.bureau, **p.vendors}
    release: dict[str, Any] = {
        "ocid": ocid,
        "id": release_id,
        "date": timestamp(date),
        "tag": list(tags),
        "initiationType": "tender",
        "language": LANGUAGE,
        "parties": [_party(orgs[org_id], r) for org_id, r in roles.items()],
        "buyer": _reference(p.bureau),
    }
    if p.budget_line is not None:
        release["planning"] = {
            "budget": {
                "id": p.budget_line["code"],
                "description": p.budget_line["title"],
                "amount": money(p.tender["ceiling_amount"]),
            }
        }
    release["tender"] = _tender_section(p)
    if p.opened:
        release["bids"] = _bids_section(p)
    if p.awards:
        release["awards"] = _awards_section(p, now)
    if p.contract is not None:
        release["contracts"] = [_contract_section(p)]
    return release


# --- tags -----------------------------------------------------------------------------------


def _by_id(items: Iterable[Mapping[str, Any]] | None) -> dict[str, Mapping[str, Any]]:
    return {str(i["id"]): i for i in items or ()}


def release_tags(previous: Mapping[str, Any] | None, current: Mapping[str, Any]) -> list[str]:
    """What changed since the previous release of the process, as releaseTag codes; empty when
    nothing did (then no release is published)."""
    tags: set[str] = set()
    if previous is None:
        tags.add("tender")
    else:
        if current.get("tender") != previous.get("tender") or current.get("bids") != previous.get("bids"):
            was, now = previous.get("tender", {}).get("status"), current["tender"].get("status")
            tags.add("tenderCancellation" if now == "cancelled" and was != "cancelled" else "tenderUpdate")
        if current.get("planning") != previous.get("planning"):
            tags.add("tenderUpdate")
    before_awards = _by_id(previous.get("awards") if previous else None)
    for award_id, award in _by_id(current.get("awards")).items():
        old = before_awards.get(award_id)
        if old is None:
            tags.add("award")
        elif award != old:
            cancelled = award.get("status") == "cancelled" and old.get("status") != "cancelled"
            tags.add("awardCancellation" if cancelled else "awardUpdate")
    before_contracts = _by_id(previous.get("contracts") if previous else None)
    for contract_id, contract in _by_id(current.get("contracts")).items():
        old = before_contracts.get(contract_id)
        if old is None:
            tags.add("contract")
            continue
        body_changed = {k: v for k, v in contract.items() if k != "implementation"} != {
            k: v for k, v in old.items() if k != "implementation"
        }
        implementation, old_implementation = contract.get("implementation"), old.get("implementation")
        if implementation != old_implementation:
            if _has_progress(old_implementation):
                tags.add("implementationUpdate")
            elif _has_progress(implementation):
                tags.add("implementation")
            else:  # only the schedule changed (an amendment's new milestone amounts)
                body_changed = True
        if body_changed:
            specific = set()
            if len(contract.get("amendments", ())) > len(old.get("amendments", ())):
                specific.add("contractAmendment")
            if contract.get("status") == "terminated" and old.get("status") != "terminated":
                specific.add("contractTermination")
            tags |= specific or {"contractUpdate"}
    if previous is not None and not tags and current.get("parties") != previous.get("parties"):
        tags.add("tenderUpdate")
    return [t for t in RELEASE_TAGS if t in tags]


def _has_progress(implementation: Mapping[str, Any] | None) -> bool:
    """Whether an implementation section reports anything beyond the schedule."""
    if not implementation:
        return False
    if implementation.get("transactions") or implementation.get("metrics"):
        return True
    return any(m.get("status") != "scheduled" for m in implementation.get("milestones", ()))


def same_content(a: Mapping[str, Any] | None, b: Mapping[str, Any]) -> bool:
    """Whether two releases say the same thing (their id, date and tags aside)."""
    if a is None:
        return False
    strip = lambda r: {k: v for k, v in r.items() if k not in ("id", "date", "tag")}  # noqa: E731
    return strip(a) == strip(b)


# --- merging (OCDS 1.1 merge routine) -------------------------------------------------------


@lru_cache(maxsize=4)
def _merge_rules(schema_dir: str) -> tuple[frozenset[str], frozenset[str]]:
    """(fields omitted when merging, fields whose lists are replaced whole) from the schema."""
    schema = release_schema(Path(schema_dir))
    omit = frozenset(k for k, v in schema["properties"].items() if v.get("omitWhenMerged"))
    whole: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.get("properties", {}).items():
                if isinstance(value, dict) and value.get("wholeListMerge"):
                    whole.add(key)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    return omit, frozenset(whole)


def _merge(target: dict[str, Any], update: Mapping[str, Any], whole_lists: frozenset[str]) -> None:
    for key, value in update.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict):
            current = target.get(key)
            if not isinstance(current, dict):
                current = target[key] = {}
            _merge(current, value, whole_lists)
        elif isinstance(value, list):
            identified = value and all(isinstance(i, dict) and "id" in i for i in value)
            if key in whole_lists or not identified or not isinstance(target.get(key), list):
                target[key] = copy.deepcopy(value)
                continue
            merged = target[key]
            index = {str(i.get("id")): i for i in merged if isinstance(i, dict)}
            for item in value:
                existing = index.get(str(item["id"]))
                if existing is None:
                    existing = {}
                    merged.append(existing)
                    index[str(item["id"])] = existing
                _merge(existing, item, whole_lists)
        else:
            target[key] = value


def compile_releases(releases: Sequence[Mapping[str, Any]], schema_dir: Path) -> dict[str, Any]:
    """The compiled release of one process: releases merged oldest first (OCDS merge rules:
    later values win, null removes, arrays of objects with ids merge by id, other arrays and
    the schema's wholeListMerge arrays are replaced)."""
    if not releases:
        raise ValueError("no releases to compile")
    omit, whole_lists = _merge_rules(str(schema_dir))
    ordered = sorted(enumerate(releases), key=lambda pair: (_instant(pair[1]["date"]), pair[0]))
    compiled: dict[str, Any] = {}
    for _, release in ordered:
        _merge(compiled, {k: v for k, v in release.items() if k not in omit}, whole_lists)
    latest = ordered[-1][1]
    return {"ocid": latest["ocid"], "id": f"{latest['id']}-compiled", "date": latest["date"], "tag": ["compiled"], **{k: v for k, v in compiled.items() if k != "ocid"}}


# --- packages -------------------------------------------------------------------------------


def publisher(name: str) -> dict[str, Any]:
    return {"name": name}


def release_package(
    releases: Sequence[Mapping[str, Any]], *, uri: str, published_date: str, publisher_name: str, next_uri: str | None = None
) -> dict[str, Any]:
    package: dict[str, Any] = {
        "uri": uri,
        "version": OCDS_VERSION,
        "extensions": list(EXTENSIONS.values()),
        "publishedDate": published_date,
        "publisher": publisher(publisher_name),
        "releases": list(releases),
    }
    if next_uri is not None:
        # OCDS 1.2's package `links`; in 1.1 an additional field, which the schema allows.
        package["links"] = {"next": next_uri}
    return package


def record_package(
    ocid: str, releases: Sequence[Mapping[str, Any]], *, uri: str, published_date: str, publisher_name: str, schema_dir: Path
) -> dict[str, Any]:
    return {
        "uri": uri,
        "version": OCDS_VERSION,
        "extensions": list(EXTENSIONS.values()),
        "publishedDate": published_date,
        "publisher": publisher(publisher_name),
        "records": [{"ocid": ocid, "releases": list(releases), "compiledRelease": compile_releases(releases, schema_dir)}],
    }


# --- schemas and validation -----------------------------------------------------------------


def merge_patch(target: Any, patch: Any) -> Any:
    """JSON Merge Patch (RFC 7386), as OCDS applies an extension's release-schema.json."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _load(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as f:
        return json.load(f)


@lru_cache(maxsize=4)
def release_schema(schema_dir: Path) -> dict[str, Any]:
    """The official release schema with every declared extension's patch applied."""
    schema = _load(schema_dir / "release-schema.json")
    for name in EXTENSIONS:
        schema = merge_patch(schema, _load(schema_dir / "extensions" / name / "release-schema.json"))
    return schema


_DATE_TIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"
)


def _format_checker():
    from jsonschema import FormatChecker

    checker = FormatChecker()

    @checker.checks("date-time")
    def is_date_time(value: Any) -> bool:
        if not isinstance(value, str):
            return True
        if not _DATE_TIME.match(value):
            return False
        try:
            datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            return False
        return True

    @checker.checks("uri")
    def is_uri(value: Any) -> bool:
        if not isinstance(value, str):
            return True
        parts = urlsplit(value)
        return bool(parts.scheme) and bool(parts.netloc or parts.path) and " " not in value

    return checker


@lru_cache(maxsize=4)
def _validators(schema_dir: Path) -> dict[str, Any]:
    from jsonschema import Draft4Validator
    from referencing import Registry
    from referencing.exceptions import NoSuchResource
    from referencing.jsonschema import DRAFT4

    def no_network(uri: str):
        raise NoSuchResource(ref=uri)  # every schema is local: never fetch one

    release = release_schema(schema_dir)
    documents = {
        "release": release,
        "release_package": _load(schema_dir / "release-package-schema.json"),
        "record_package": _load(schema_dir / "record-package-schema.json"),
        "versioned_release": _load(schema_dir / "versioned-release-validation-schema.json"),
    }
    registry = Registry(retrieve=no_network).with_resources(
        (doc["id"], DRAFT4.create_resource(doc)) for doc in documents.values()
    )
    checker = _format_checker()
    return {
        name: Draft4Validator(doc, registry=registry, format_checker=checker)
        for name, doc in documents.items()
        if name != "versioned_release"
    }


def _errors(kind: str, document: Any, schema_dir: Path) -> list[str]:
    validator = _validators(Path(schema_dir))[kind]
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    return [f"{'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message}" for e in errors]


def validate_release(release: Any, schema_dir: Path) -> list[str]:
    """Every way a release breaks the release schema (with the extensions), as messages."""
    return _errors("release", release, schema_dir)


def validate_release_package(package: Any, schema_dir: Path) -> list[str]:
    return _errors("release_package", package, schema_dir)


def validate_record_package(package: Any, schema_dir: Path) -> list[str]:
    return _errors("record_package", package, schema_dir)
