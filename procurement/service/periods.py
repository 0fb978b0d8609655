"""Periods recounted when a year's schedule is recorded: bid deadlines and standstills that
used the fallback calendar."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from govbuy import notifications
from govbuy import database as db
from govbuy.audit import Actor
from govbuy.rules import SHANGHAI, WorkCalendar, calendar_warning, last_day, start_of_day
from govbuy.schemas import PeriodChange
from procurement import rules

from procurement.service.bids import tender_bidder_ids


# --- periods recounted when a year's schedule is recorded ------------------------------------


def _year_bounds(year: int) -> tuple[datetime, datetime]:
    return start_of_day(date(year, 1, 1)), start_of_day(date(year + 1, 1, 1))


async def recompute_periods(actor: Actor, year: int, calendar: WorkCalendar, now: datetime) -> list[PeriodChange]:
    """Recount, under `calendar` (with `year` just recorded), every open procurement period
    whose count reached into that year: published bid deadlines with a working-day minimum,
    standstills, and the bureau's answer to a pending challenge.

    A window given to a party never ends sooner than announced: only a later end is stored. A
    bid deadline now shorter than its legal minimum moves to the earliest allowed day, as a
    public, audited change of the tender. Each party concerned is notified. Runs inside the
    recording's transaction, which holds the calendar lock.
    """
    start, end = _year_bounds(year)
    changes: list[PeriodChange] = []
    working_day_methods = [m.value for m, p in rules.BID_PERIODS.items() if p.working_days]
    tenders = await db.fetch(
        """SELECT id, bureau_id, method, published_at, bid_deadline, calendar_warning FROM tenders
           WHERE status = 'published' AND method = ANY($1::text[]) AND bid_deadline > $2
             AND published_at < $4 AND bid_deadline >= $3
           ORDER BY id FOR UPDATE""",
        working_day_methods, now, start, end,
    )
    for t in tenders:
        minimum = rules.minimum_bid_deadline(t["method"], t["published_at"], calendar)
        warning = calendar_warning(calendar, t["published_at"], minimum)
        moved = rules.extended_bid_deadline(t["method"], t["published_at"], t["bid_deadline"], calendar)
        if moved is None:
            if warning != t["calendar_warning"]:
                await db.execute("UPDATE tenders SET calendar_warning = $2 WHERE id = $1", t["id"], warning)
            continue
        await db.execute(
            """UPDATE tenders SET bid_deadline = $2, calendar_warning = $3, updated_at = $4, version = version + 1
               WHERE id = $1""",
            t["id"], moved, warning, now,
        )
        changes.append(await notifications.period_extended(
            actor, "tender.deadline_extended", "tender", t["id"], "bid_deadline", t["bid_deadline"], moved,
            told=[t["bureau_id"], *await _bidders_and_invited(t["id"])],
            message=f"投标截止时间因{year}年节假日安排调整，顺延至 {moved.astimezone(SHANGHAI):%Y-%m-%d %H:%M}（北京时间）",
            reason=f"the {year} holiday schedule was recorded: the minimum period of "
                   f"{rules.Method(t['method']).label} now ends later",
            now=now,
        ))

    awards = await db.fetch(
        """SELECT a.id, a.tender_id, a.awarded_at, a.standstill_until, a.calendar_warning, t.bureau_id
           FROM tender_awards a JOIN tenders t ON t.id = a.tender_id
           WHERE a.status = 'active' AND t.status = 'awarded' AND a.awarded_at < $2 AND a.standstill_until > $1
           ORDER BY a.id FOR UPDATE OF t, a""",
        start, end,
    )
    for a in awards:
        recounted = rules.standstill_until(a["awarded_at"], calendar)
        warning = calendar_warning(calendar, a["awarded_at"], max(recounted, a["standstill_until"]))
        if recounted <= a["standstill_until"] or recounted <= now:
            if warning != a["calendar_warning"]:
                await db.execute("UPDATE tender_awards SET calendar_warning = $2 WHERE id = $1", a["id"], warning)
            continue
        await db.execute(
            "UPDATE tender_awards SET standstill_until = $2, calendar_warning = $3 WHERE id = $1",
            a["id"], recounted, warning,
        )
        await db.execute("UPDATE tenders SET updated_at = $2, version = version + 1 WHERE id = $1", a["tender_id"], now)
        changes.append(await notifications.period_extended(
            actor, "tender.standstill_extended", "tender", a["tender_id"], "standstill_until", a["standstill_until"], recounted,
            told=[a["bureau_id"], *await tender_bidder_ids(a["tender_id"])],
            message=f"因{year}年节假日安排调整，对中标结果提出质疑的期限顺延至 {last_day(recounted):%Y-%m-%d} 24:00（北京时间）",
            reason=f"the {year} holiday schedule was recorded", now=now, context={"award_id": a["id"]},
        ))

    challenges = await db.fetch(
        """SELECT c.id, c.tender_id, c.vendor_id, c.filed_at, c.reply_due, t.bureau_id
           FROM tender_challenges c JOIN tenders t ON t.id = c.tender_id
           WHERE c.status = 'pending' AND c.filed_at < $2 AND c.reply_due > $1
           ORDER BY c.id FOR UPDATE OF c""",
        start, end,
    )
    for c in challenges:
        recounted = rules.challenge_reply_due(c["filed_at"], calendar)
        if recounted <= c["reply_due"] or recounted <= now:
            continue
        await db.execute(
            "UPDATE tender_challenges SET reply_due = $2, version = version + 1 WHERE id = $1", c["id"], recounted
        )
        changes.append(await notifications.period_extended(
            actor, "challenge.reply_due_extended", "challenge", c["id"], "reply_due", c["reply_due"], recounted,
            told=[c["bureau_id"], c["vendor_id"]],
            message=f"因{year}年节假日安排调整，质疑答复期限顺延至 {last_day(recounted):%Y-%m-%d} 24:00（北京时间）",
            reason=f"the {year} holiday schedule was recorded", now=now,
        ))
    return changes


async def _bidders_and_invited(tender_id: UUID) -> list[UUID]:
    """Vendors with a live bid on a published tender, and those invited to it."""
    rows = await db.fetch(
        """SELECT vendor_id FROM bids WHERE tender_id = $1 AND status = 'submitted'
           UNION SELECT vendor_id FROM tender_invitations WHERE tender_id = $1""",
        tender_id,
    )
    return [r["vendor_id"] for r in rows]
