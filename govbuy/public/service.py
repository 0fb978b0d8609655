"""Public disclosure (DESIGN §8): published tenders with their opening record and award notice,
contracts with milestones, accepted evaluation grades and payments, vendors' public standing,
and the OCDS feed. Read-only; no caller identity.

What is never selected here, so it cannot leak: bid proposals, experts' score sheets, users,
tokens, beneficiaries' data, drafts, and any bid of a tender not yet opened.

Top layer (STYLE habit 14): reads any domain's tables directly, set-based.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from govbuy import audit, clock
from govbuy import database as db
from govbuy.errors import NotFound
from govbuy.pagination import Page, check_limit, page, typed_cursor
from govbuy.public import feed, notices, ocds, ocds_mapping
from govbuy.public.schemas import (
    CatalogueItemRef,
    OrganisationRef,
    PublicAssessmentGrade,
    PublicAuditHead,
    PublicAward,
    PublicBid,
    PublicContract,
    PublicContractSummary,
    PublicCreditListing,
    PublicEvaluation,
    PublicIntention,
    PublicMilestone,
    PublicNotice,
    PublicNoticeSummary,
    PublicPayment,
    PublicRankingLine,
    PublicTender,
    PublicTenderSummary,
    PublicVendor,
)
from govbuy.rules import RuleViolation, last_day
from govbuy.settings import get_settings
from procurement import service as procurement_service
from procurement.schemas import TenderAmendmentRead

def publisher() -> ocds.Publisher:
    """The packages' publisher, licence and publication policy, as the settings say."""
    settings = get_settings()
    return ocds.Publisher(
        name=settings.ocds_publisher,
        scheme=ocds_mapping.ORGANISATION_SCHEME if settings.ocds_publisher_uid else None,
        uid=settings.ocds_publisher_uid,
        uri=settings.public_url,
        license=settings.ocds_license,
        publication_policy=settings.publication_policy_url,
    )


def publication_policy() -> str:
    """The publication policy page (a data file of the package)."""
    return ocds.PUBLICATION_POLICY.read_text(encoding="utf-8")


def _like_pattern(text: str) -> str:
    """A substring pattern for ILIKE, the user's wildcards taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


# --- tenders --------------------------------------------------------------------------------

_TENDER_JOINS = """
       o.name AS bureau_name, o.region_code, ci.code AS item_code, ci.name AS item_name, c1.name AS category_name
FROM tenders t
JOIN organisations o ON o.id = t.bureau_id
JOIN catalogue_items ci ON ci.id = t.catalogue_item_id
LEFT JOIN catalogue_items c1 ON c1.catalogue_id = ci.catalogue_id AND c1.code = left(ci.code, 1)
"""
_TENDER_SELECT = "SELECT t.*," + _TENDER_JOINS
# What a list line shows: no criteria, documents or other JSON to read for twenty tenders.
_TENDER_SUMMARY_SELECT = (
    "SELECT t.id, t.title, t.bureau_id, t.method, t.status, t.ceiling_amount, t.published_at, t.bid_deadline,"
    " t.opened_at," + _TENDER_JOINS
)


async def _open_due(rows: list[Any], now: datetime) -> bool:
    """Open the tenders whose deadline has passed, as any read of them does (DESIGN §2: the
    tender opens by itself, visible on the next read); True if one was opened."""
    due = [r["id"] for r in rows if r["status"] == "published" and r["bid_deadline"] <= now]
    if not due:
        return False
    from procurement import service as procurement

    for tender_id in due:
        await procurement.open_tender(tender_id)
    return True


def _summary_fields(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "ocid": feed.ocid_of(row["id"]),
        "title": row["title"],
        "bureau": OrganisationRef(id=row["bureau_id"], name=row["bureau_name"]),
        "region_code": row["region_code"],
        "catalogue_item": CatalogueItemRef(
            code=row["item_code"], name=row["item_name"], category_code=row["item_code"][:1], category_name=row["category_name"]
        ),
        "method": row["method"],
        "method_label": ocds_mapping.METHOD_DETAILS[row["method"]],
        "status": row["status"],
        "ceiling_amount": row["ceiling_amount"],
        "published_at": row["published_at"],
        "bid_deadline": row["bid_deadline"],
        "bids_sealed": row["opened_at"] is None,
    }


async def list_tenders(
    *,
    region: str | None,
    bureau_id: UUID | None,
    category: str | None,
    status: str | None,
    q: str | None,
    published_from: datetime | None,
    published_to: datetime | None,
    deadline_from: datetime | None,
    deadline_to: datetime | None,
    limit: int | None,
    cursor: str | None,
) -> Page[PublicTenderSummary]:
    """Published tenders (never drafts), newest publication first, keyset-paginated."""
    limit = check_limit(limit)
    after_at, after_id = typed_cursor(cursor, datetime, UUID)
    where = db.Conditions("t.published_at IS NOT NULL")
    where.given("o.region_code LIKE {}::text || '%'", region)
    where.given("t.bureau_id = {}::uuid", bureau_id)
    where.given("ci.code LIKE {}::text || '%'", category)
    where.given("t.status = {}::text", status)
    where.given("t.title ILIKE {}::text", _like_pattern(q) if q else None)
    where.given("t.published_at >= {}::timestamptz", published_from)
    where.given("t.published_at < {}::timestamptz", published_to)
    where.given("t.bid_deadline >= {}::timestamptz", deadline_from)
    where.given("t.bid_deadline < {}::timestamptz", deadline_to)
    if after_at is not None:
        where.add("(t.published_at, t.id) < ({}::timestamptz, {}::uuid)", after_at, after_id)
    query = f"""{_TENDER_SUMMARY_SELECT}
        WHERE {where}
        ORDER BY t.published_at DESC, t.id DESC
        LIMIT {where.param(limit + 1)}"""
    args = where.args
    rows = await db.fetch(query, *args)
    if await _open_due(rows[:limit], await clock.now()):
        rows = await db.fetch(query, *args)
    return page(
        rows,
        limit,
        lambda r: (r["published_at"], r["id"]),
        lambda r: PublicTenderSummary(**_summary_fields(r)),
    )


def _award(row: Any) -> PublicAward:
    return PublicAward(
        id=row["id"],
        status=row["status"],
        winner=OrganisationRef(id=row["vendor_id"], name=row["vendor_name"]),
        price=row["price"],
        awarded_at=row["awarded_at"],
        standstill_until=row["standstill_until"],
        standstill_last_day=last_day(row["standstill_until"]),
        voided_at=row["voided_at"],
        ranking=[
            PublicRankingLine(
                rank=line["rank"],
                vendor=OrganisationRef(id=line["vendor_id"], name=line["vendor_name"]),
                price=line["price"],
                price_score=line.get("price_score"),
                technical_score=line.get("technical_score"),
                total_score=line.get("total_score"),
                credit_grade_at_opening=line.get("credit_grade_at_opening"),
                sme_declaration=line.get("sme_declaration"),
                price_deduction_percent=line.get("price_deduction_percent") or Decimal("0.00"),
                evaluated_price=line.get("evaluated_price") or line["price"],
            )
            for line in sorted(row["ranking"], key=lambda line: line["rank"])
        ],
    )


async def _published_tender(tender_id: UUID) -> Any:
    row = await db.fetchrow(f"{_TENDER_SELECT} WHERE t.id = $1 AND t.published_at IS NOT NULL", tender_id)
    if row is None:
        raise NotFound("tender", tender_id)
    return row


async def get_tender(tender_id: UUID) -> PublicTender:
    """A published tender; after the opening its bidders and prices (唱标), once awarded the
    award notice with its ranking and each bidder's credit grade at opening."""
    row = await _published_tender(tender_id)
    now = await clock.now()
    if await _open_due([row], now):
        row = await _published_tender(tender_id)
    bids = None
    if row["opened_at"] is not None and now >= row["bid_deadline"]:
        bids = [
            PublicBid(
                vendor=OrganisationRef(id=b["vendor_id"], name=b["vendor_name"]),
                price=b["price"],
                status=b["status"],
                submitted_at=b["submitted_at"],
            )
            for b in await db.fetch(
                """SELECT b.vendor_id, o.name AS vendor_name, b.price, b.status, b.submitted_at
                   FROM bids b JOIN organisations o ON o.id = b.vendor_id
                   WHERE b.tender_id = $1 AND b.status <> 'withdrawn' ORDER BY b.submitted_at, b.id""",
                tender_id,
            )
        ]
    awards = [
        _award(a)
        for a in await db.fetch(
            """SELECT a.id, a.status, a.vendor_id, o.name AS vendor_name, a.price, a.awarded_at, a.standstill_until,
                      a.voided_at, a.ranking
               FROM tender_awards a JOIN organisations o ON o.id = a.vendor_id
               WHERE a.tender_id = $1 ORDER BY a.awarded_at, a.id""",
            tender_id,
        )
    ]
    current = next((a for a in awards if a.status == "active"), awards[-1] if awards else None)
    grade = row["min_assessment_grade"]
    return PublicTender(
        **_summary_fields(row),
        description=row["description"],
        evaluation_method=row["evaluation_method"],
        price_weight=row["price_weight"],
        criteria=[
            {"name": c["name"], "weight": c["weight"], "points_by_grade": c.get("points_by_grade")} for c in row["criteria"]
        ],
        eligibility={
            "min_assessment_grade": ocds_mapping.ASSESSMENT_GRADE_LABELS.get(grade) if grade else None,
            "min_credit_grade": row["min_credit_grade"],
        },
        sme={"reserved": row["sme_reserved"], "price_deduction_percent": row["sme_price_deduction_percent"]},
        performance_targets=row["performance_targets"],
        contract_months=row["contract_months"],
        recurring=row["recurring"],
        milestones=[
            {"title": m["title"], "percentage": m["percentage"], "due_offset_days": m["due_offset_days"]}
            for m in row["milestones"]
        ],
        opened_at=row["opened_at"],
        calendar_warning=row["calendar_warning"],
        failure_reason=row["failure_reason"],
        cancel_reason=row["cancel_reason"],
        closed_at=row["closed_at"],
        procurement_intention_id=row["procurement_intention_id"],
        intention_notice_exception=row["intention_notice_exception"],
        amendment_count=row["amendment_count"],
        amended_at=row["amended_at"],
        bids=bids,
        award=current,
        voided_awards=[a for a in awards if a.status == "voided" and a is not current],
    )


async def list_tender_amendments(tender_id: UUID, limit: int | None, cursor: str | None) -> Page[TenderAmendmentRead]:
    """A published tender's amendments (更正), oldest first, with the terms before and after."""
    return await procurement_service.public_amendments(tender_id, limit, cursor)


# --- contracts ------------------------------------------------------------------------------

_CONTRACT_SELECT = """
SELECT c.*, coalesce(nullif(c.title, ''), t.title) AS public_title, b.name AS bureau_name, v.name AS vendor_name
FROM contracts c
JOIN tenders t ON t.id = c.tender_id
JOIN organisations b ON b.id = c.bureau_id
JOIN organisations v ON v.id = c.vendor_id
"""


def _contract_fields(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "ocid": feed.ocid_of(row["tender_id"]),
        "tender_id": row["tender_id"],
        "title": row["public_title"],
        "bureau": OrganisationRef(id=row["bureau_id"], name=row["bureau_name"]),
        "vendor": OrganisationRef(id=row["vendor_id"], name=row["vendor_name"]),
        "amount": row["amount"],
        "start_date": row["start_date"],
        "end_date": row["end_date"],
        "status": row["status"],
    }


async def list_contracts(
    *,
    bureau_id: UUID | None,
    vendor_id: UUID | None,
    status: str | None,
    tender_id: UUID | None,
    limit: int | None,
    cursor: str | None,
) -> Page[PublicContractSummary]:
    """Signed contracts (DESIGN §8: a contract is public once both parties signed), newest
    first, keyset-paginated."""
    limit = check_limit(limit)
    after_at, after_id = typed_cursor(cursor, datetime, UUID)
    rows = await db.fetch(
        f"""{_CONTRACT_SELECT}
            WHERE c.activated_at IS NOT NULL
              AND ($1::uuid IS NULL OR c.bureau_id = $1)
              AND ($2::uuid IS NULL OR c.vendor_id = $2)
              AND ($3::text IS NULL OR c.status = $3)
              AND ($4::uuid IS NULL OR c.tender_id = $4)
              AND ($5::timestamptz IS NULL OR (c.created_at, c.id) < ($5, $6::uuid))
            ORDER BY c.created_at DESC, c.id DESC
            LIMIT $7""",
        bureau_id,
        vendor_id,
        status,
        tender_id,
        after_at,
        after_id,
        limit + 1,
    )
    return page(rows, limit, lambda r: (r["created_at"], r["id"]), lambda r: PublicContractSummary(**_contract_fields(r)))


async def get_contract(contract_id: UUID) -> PublicContract:
    """A contract with its milestones, each with its accepted evaluation's grade and its payment."""
    row = await db.fetchrow(f"{_CONTRACT_SELECT} WHERE c.id = $1 AND c.activated_at IS NOT NULL", contract_id)
    if row is None:  # never a draft: a contract is public once signed
        raise NotFound("contract", contract_id)
    evaluations = {
        e["milestone_id"]: e
        for e in await db.fetch(
            """SELECT id, milestone_id, grade, total_score, accepted_at FROM evaluations
               WHERE contract_id = $1 AND status = 'accepted' AND superseded_at IS NULL""",
            contract_id,
        )
    }
    payments = {
        p["milestone_id"]: p
        for p in await db.fetch(
            """SELECT id, milestone_id, amount, withheld_amount, payout_ratio, grade, status, created_at, confirmed_at
               FROM payments WHERE contract_id = $1""",
            contract_id,
        )
    }
    milestones = []
    for m in await db.fetch(
        """SELECT id, sequence, title, percentage, amount, due_date, status, delivered_at
           FROM milestones WHERE contract_id = $1 ORDER BY sequence""",
        contract_id,
    ):
        e = evaluations.get(m["id"])
        p = payments.get(m["id"])
        milestones.append(
            PublicMilestone(
                **dict(m),
                evaluation=PublicEvaluation(
                    id=e["id"],
                    grade=e["grade"],
                    grade_label=ocds_mapping.GRADE_LABELS[e["grade"]],
                    total_score=e["total_score"],
                    accepted_at=e["accepted_at"],
                )
                if e
                else None,
                payment=PublicPayment(
                    id=p["id"],
                    amount=p["amount"],
                    withheld_amount=p["withheld_amount"],
                    payout_ratio=p["payout_ratio"],
                    grade=p["grade"],
                    status=p["status"],
                    decided_at=p["created_at"],
                    confirmed_at=p["confirmed_at"],
                )
                if p
                else None,
            )
        )
    return PublicContract(
        **_contract_fields(row),
        original_amount=row["original_amount"],
        contract_months=row["contract_months"],
        signed_at=row["activated_at"],
        terminated_at=row["terminated_at"],
        milestones=milestones,
    )


# --- notices --------------------------------------------------------------------------------

def _notice_summary(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "type": row["type"],
        "title": notices.title(row),
        "published_at": row["published_at"],
        "url": notices.url(get_settings().public_url, row["id"]),
        "tender_id": row["tender_id"],
        "ocid": feed.ocid_of(row["tender_id"]) if row["tender_id"] else None,
        "bureau": OrganisationRef(id=row["bureau_id"], name=row["bureau_name"]),
        "region_code": row["region_code"],
    }


async def list_notices(
    *,
    type: str | None,
    region: str | None,
    tender_id: UUID | None,
    since: datetime | None,
    limit: int | None,
    cursor: str | None,
) -> Page[PublicNoticeSummary]:
    """Every statutory notice published so far, newest first, keyset-paginated; `since` keeps
    those published at or after an instant (a reader polling for what is new)."""
    limit = check_limit(limit)
    after_at, after_id = typed_cursor(cursor, datetime, UUID)
    where = db.Conditions()
    where.given("o.region_code LIKE {}::text || '%'", region)
    where.given("n.tender_id = {}::uuid", tender_id)
    where.given("n.published_at >= {}::timestamptz", since)
    if after_at is not None:
        where.add("(n.published_at, n.id) < ({}::timestamptz, {}::uuid)", after_at, after_id)
    query = f"""{notices.query([type] if type else list(notices.TYPES))}
        WHERE {where}
        ORDER BY n.published_at DESC, n.id DESC
        LIMIT {where.param(limit + 1)}"""
    rows = await db.fetch(query, *where.args)
    return page(rows, limit, lambda r: (r["published_at"], r["id"]), lambda r: PublicNoticeSummary(**_notice_summary(r)))


async def get_notice_with_time(notice_id: UUID) -> tuple[PublicNotice, datetime | None]:
    """A notice, and when it last changed: its publication, or None for an acceptance result,
    which a later appeal may supersede (its ETag still changes then)."""
    row = await db.fetchrow(f"{notices.query(list(notices.TYPES))} WHERE n.id = $1", notice_id)
    if row is None:
        raise NotFound("notice", notice_id)
    return _notice(row), (None if row["type"] == "acceptance" else row["published_at"])


def _notice(row: Any) -> PublicNotice:
    return PublicNotice(
        **_notice_summary(row),
        party=OrganisationRef(id=row["party_id"], name=row["party_name"]) if row["party_id"] else None,
        subject=row["subject"],
        outcome=row["outcome"] if row["type"] in ("challenge_reply", "complaint_decision") else None,
        remedy=row["remedy"],
        text=notices.text(row),
        due_at=row["due_at"],
    )


# --- procurement intentions (采购意向公开, 财库〔2020〕10号) ------------------------------------

_INTENTION_SELECT = """SELECT i.id, i.bureau_id, o.name AS bureau_name, o.region_code, i.year, i.title, i.needs,
       i.budget_amount, i.expected_month, i.remarks, i.status, i.published_at, i.withdrawn_at, i.withdraw_reason
FROM procurement_intentions i JOIN organisations o ON o.id = i.bureau_id"""


def _intention(row: Any) -> PublicIntention:
    return PublicIntention(
        id=row["id"],
        bureau=OrganisationRef(id=row["bureau_id"], name=row["bureau_name"]),
        region_code=row["region_code"],
        year=row["year"],
        title=row["title"],
        needs=row["needs"],
        budget_amount=row["budget_amount"],
        expected_month=f"{row['expected_month']:%Y-%m}",
        remarks=row["remarks"],
        status=row["status"],
        published_at=row["published_at"],
        withdrawn_at=row["withdrawn_at"],
        withdraw_reason=row["withdraw_reason"],
        url=notices.url(get_settings().public_url, row["id"]),
    )


async def list_intentions(
    *, region: str | None, bureau_id: UUID | None, year: int | None, status: str | None, limit: int | None,
    cursor: str | None,
) -> Page[PublicIntention]:
    """Published procurement intentions (withdrawn ones too, marked so), newest publication
    first, keyset-paginated: never a draft."""
    limit = check_limit(limit)
    after_at, after_id = typed_cursor(cursor, datetime, UUID)
    where = db.Conditions("i.published_at IS NOT NULL")
    where.given("o.region_code LIKE {}::text || '%'", region)
    where.given("i.bureau_id = {}::uuid", bureau_id)
    where.given("i.year = {}::int", year)
    where.given("i.status = {}::text", status)
    if after_at is not None:
        where.add("(i.published_at, i.id) < ({}::timestamptz, {}::uuid)", after_at, after_id)
    rows = await db.fetch(
        f"""{_INTENTION_SELECT} WHERE {where}
            ORDER BY i.published_at DESC, i.id DESC LIMIT {where.param(limit + 1)}""",
        *where.args,
    )
    return page(rows, limit, lambda r: (r["published_at"], r["id"]), _intention)


async def get_intention(intention_id: UUID) -> PublicIntention:
    row = await db.fetchrow(f"{_INTENTION_SELECT} WHERE i.id = $1 AND i.published_at IS NOT NULL", intention_id)
    if row is None:  # a draft is never public
        raise NotFound("procurement intention", intention_id)
    return _intention(row)


# --- vendors --------------------------------------------------------------------------------


async def get_vendor(vendor_id: UUID) -> PublicVendor:
    """A vendor's name, type, assessment grade, credit grade and credit-list status."""
    from vendors import service as vendors

    vendor = await vendors.get_vendor(vendor_id)
    rating = vendor.credit_rating
    return PublicVendor(
        id=vendor.id,
        name=vendor.name,
        uscc=vendor.uscc,
        vendor_type=vendor.vendor_type,
        vendor_type_label=vendor.vendor_type_label,
        region_code=vendor.region_code,
        assessment_grade=PublicAssessmentGrade(**vendor.assessment_grade.model_dump()) if vendor.assessment_grade else None,
        credit_grade=rating.grade if rating else None,
        credit_rating_provisional=rating.provisional if rating else True,
        listed=bool(vendor.active_credit_list_entries),
        credit_listings=[
            PublicCreditListing(list=e.list, list_label=e.list_label, listed_on=e.listed_on)
            for e in vendor.active_credit_list_entries
        ],
    )


# --- the audit chain's head ------------------------------------------------------------------


async def audit_head(seq: int | None) -> PublicAuditHead:
    """The head published last (`govbuy publish-audit-head`); with `seq`, the hash the chain holds
    at that place now, to compare with a head kept from earlier."""
    if seq is not None:
        event = await audit.event_at(seq)
        if event is None:
            raise NotFound("audit event", seq)
        return PublicAuditHead(seq=event.seq, hash=event.hash, at=event.at)
    head = await audit.published_head()
    if head is None:
        raise RuleViolation("audit_head_not_published", "No head of the audit chain has been published yet.", status=404)
    return PublicAuditHead(seq=head.seq, hash=head.hash, at=head.at)


def _ocds_audit_head(head: audit.ChainHead | None) -> dict[str, Any] | None:
    """The head in a package's metadata (an additional field, see docs/ocds.md)."""
    if head is None:
        return None
    return {"seq": head.seq, "hash": head.hash, "publishedDate": ocds_mapping.timestamp(head.at)}


# --- OCDS -----------------------------------------------------------------------------------

MAX_RELEASES_PER_PAGE = 200


async def release_package(*, since: int, limit: int | None, uri: str, next_uri: str) -> dict[str, Any]:
    """A page of the feed as an OCDS release package; `links.next` carries the next `since`."""
    limit = limit or 100
    rows = await feed.releases_since(since, limit)
    last = rows[-1]["seq"] if rows else since
    published = max((r["date"] for r in rows), default=None) or await feed.latest_release_date() or datetime.now(UTC)
    return ocds.release_package(
        [r["data"] for r in rows],
        uri=uri,
        published_date=ocds_mapping.timestamp(published),
        publisher=publisher(),
        next_uri=next_uri.format(since=last, limit=limit),
        audit_head=_ocds_audit_head(await audit.published_head()),
    )


async def record_package(ocid: str, *, uri: str) -> dict[str, Any]:
    """The record of one process: its releases, embedded, and the compiled release."""
    rows = await feed.releases_of(ocid) if feed.tender_id_of(ocid) else []
    if not rows:
        raise NotFound("contracting process", ocid)
    return ocds.record_package(
        ocid,
        [r["data"] for r in rows],
        uri=uri,
        published_date=ocds_mapping.timestamp(rows[-1]["date"]),
        publisher=publisher(),
        audit_head=_ocds_audit_head(await audit.published_head()),
    )
