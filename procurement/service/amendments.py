"""Amendments of a published tender (澄清或者修改, 87号令 Art. 27): the bureau changes some of
its terms before the bid deadline, the deadline is put back when the change may affect bids,
every vendor that bid is told, and the amendment is kept — before and after — as the public
notice (更正公告) and the history of the tender's terms."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from govbuy import audit, clock, notifications
from govbuy import database as db
from govbuy.audit import Actor
from govbuy.errors import NotFound, check_if_match
from govbuy.pagination import Page, check_limit, page, typed_cursor
from govbuy.rules import SHANGHAI
from procurement import rules
from procurement.schemas import TenderAmendmentCreate, TenderAmendmentRead, TenderAmendmentResult
from procurement.service.opening import _open_if_due, _tender_for
from procurement.service.tenders import (
    _checked_terms,
    _fields_of,
    _fields_of_row,
    _own_tender,
    _read_tender,
)

# The columns an amendment may write, in the order of the UPDATE below (each named as its field).
_AMENDED_COLUMNS = ("title", "description", "price_weight", "criteria", "performance_targets", "milestones",
                    "payment_rule", "bid_deadline")


def _amendment_read(row: Any) -> TenderAmendmentRead:
    return TenderAmendmentRead(**{name: row[name] for name in TenderAmendmentRead.model_fields})


def _amended_values(fields: dict[str, Any], deadline: datetime) -> dict[str, Any]:
    terms = _checked_terms(fields)
    values = {"title": fields["title"], "description": fields["description"] or "", "bid_deadline": deadline}
    return {**values, **{k: terms[k] for k in _AMENDED_COLUMNS if k in terms}}


async def _bidding_vendors(tender_id: UUID) -> list[UUID]:
    """The vendors whose bid stands (withdrawn ones are not bidding any more)."""
    rows = await db.fetch(
        "SELECT DISTINCT vendor_id FROM bids WHERE tender_id = $1 AND status <> 'withdrawn' ORDER BY vendor_id", tender_id
    )
    return [r["vendor_id"] for r in rows]


def _notice_message(title: str, deadline: datetime, reason: str) -> str:
    local = deadline.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
    return (f"招标文件已更正：{title}。投标截止时间：{local}（北京时间）。已提交的投标文件继续密封，"
            f"可在截止时间前修改或撤回。更正理由：{reason}")


async def amend_tender(
    actor: Actor, tender_id: UUID, data: TenderAmendmentCreate, if_match: str | None
) -> TenderAmendmentResult:
    """Amend a published tender before its deadline: the changed terms are checked as a draft's
    are, the deadline is the later of the one asked and the method's minimum from now when the
    change may affect bids (87号令 Art. 27), and each vendor that bid is notified."""
    await _open_if_due(tender_id)
    async with db.transaction():
        row = await _own_tender(actor, tender_id, lock="UPDATE")
        check_if_match(if_match, row["version"])
        given = data.model_dump(exclude_unset=True, exclude={"reason", "clarification"})
        changed = rules.check_amendable(given)
        now = await clock.now()
        rules.check_amendment_open(row["status"], now, row["bid_deadline"])
        deadline = rules.amended_deadline(
            row["method"], now, row["bid_deadline"], given.get("bid_deadline"),
            affects=rules.affects_bids(changed, data.clarification), calendar=await clock.work_calendar(),
        )
        before_read = await _read_tender(actor, tender_id)
        values = _amended_values(_fields_of(data, _fields_of_row(row, [])), deadline.after)
        fields = sorted(changed | ({"bid_deadline"} if deadline.after != deadline.before else set()))
        sequence = await db.fetchval(
            """UPDATE tenders SET title = $2, description = $3, price_weight = $4, criteria = $5,
                   performance_targets = $6, milestones = $7, payment_rule = $8, bid_deadline = $9,
                   amendment_count = amendment_count + 1, amended_at = $10, updated_at = $10, version = version + 1
               WHERE id = $1 RETURNING amendment_count""",
            tender_id, *(values[c] for c in _AMENDED_COLUMNS), now,
        )
        told = await _bidding_vendors(tender_id)
        amendment = await db.fetchrow(
            """INSERT INTO tender_amendments (id, tender_id, sequence, reason, clarification, changed_fields, before,
                   after, deadline_before, deadline_after, deadline_moved, bidders_notified, created_by, created_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING *""",
            uuid4(), tender_id, sequence, data.reason, data.clarification, fields,
            {f: row[f] for f in fields}, {f: values[f] for f in fields},
            deadline.before, deadline.after, deadline.moved, len(told), actor.user_id, now,
        )
        await notifications.record(
            told, "tender.amended", "tender", tender_id, _notice_message(values["title"], deadline.after, data.reason),
            now, {"amendment_id": str(amendment["id"]), "bid_deadline": deadline.after.isoformat(),
                  "deadline_before": deadline.before.isoformat()},
        )
        tender = await _read_tender(actor, tender_id)
        result = TenderAmendmentResult(tender=tender, amendment=_amendment_read(amendment))
        await audit.record(
            actor, "tender.amended", "tender", tender_id, before=before_read.model_dump(),
            after={**tender.model_dump(), "amendment": result.amendment.model_dump()},
        )
    return result


async def _amendment_page(tender_id: UUID, limit: int, after_sequence: int | None) -> Page[TenderAmendmentRead]:
    """A tender's amendments, oldest first (keyset on their sequence): every version of its
    terms can be read back from them."""
    rows = await db.fetch(
        """SELECT * FROM tender_amendments WHERE tender_id = $1 AND ($2::integer IS NULL OR sequence > $2)
           ORDER BY sequence LIMIT $3""",
        tender_id, after_sequence, limit + 1,
    )
    return page(rows, limit, lambda r: (r["sequence"],), _amendment_read)


def _page_request(limit: int | None, cursor: str | None) -> tuple[int, int | None]:
    """The limit and cursor, judged before anything is read (422 `invalid_cursor`)."""
    (after_sequence,) = typed_cursor(cursor, int)
    return check_limit(limit), after_sequence


async def list_amendments(
    actor: Actor, tender_id: UUID, limit: int | None, cursor: str | None
) -> Page[TenderAmendmentRead]:
    """The amendments of a tender the caller may see (404 otherwise)."""
    request = _page_request(limit, cursor)
    await _tender_for(actor, tender_id)
    return await _amendment_page(tender_id, *request)


async def public_amendments(tender_id: UUID, limit: int | None, cursor: str | None) -> Page[TenderAmendmentRead]:
    """The amendments of a published tender, for everyone (a draft is never amended, so any
    amendment is of a published tender; an unknown or unpublished one is 404)."""
    request = _page_request(limit, cursor)
    published = await db.fetchval("SELECT published_at IS NOT NULL FROM tenders WHERE id = $1", tender_id)
    if not published:
        raise NotFound("tender", tender_id)
    return await _amendment_page(tender_id, *request)
