"""Questions (澄清): vendors ask about a published tender; the bureau answers in public."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from govbuy import audit, clock
from govbuy import database as db
from govbuy.audit import Actor
from govbuy.errors import Forbidden, NotFound
from govbuy.pagination import Page, check_limit, page
from govbuy.pagination import typed_cursor
from govbuy.rules import conflict
from procurement.schemas import AnswerCreate, QuestionCreate, QuestionRead

from procurement.service._common import _reads_all
from procurement.service.tenders import _own_tender
from procurement.service.opening import _open_if_due, _tender_for


# --- questions (澄清) -------------------------------------------------------------------------


def _question_read(row: Any, actor: Actor) -> QuestionRead:
    return QuestionRead(
        id=row["id"],
        tender_id=row["tender_id"],
        question=row["question"],
        asked_at=row["asked_at"],
        answer=row["answer"],
        answered_at=row["answered_at"],
        mine=actor.role == "vendor" and row["vendor_id"] == actor.organisation_id,
    )


async def _check_may_take_part(actor: Actor, tender: Any) -> None:
    """Only invited vendors take part in an invited or single-source tender."""
    if tender["method"] in ("invited_tender", "single_source") and actor.organisation_id not in (tender["invited_ids"] or []):
        raise Forbidden("this tender is open only to the vendors it invited", "vendor_not_invited")


async def ask_question(actor: Actor, tender_id: UUID, data: QuestionCreate) -> QuestionRead:
    """A vendor asks about the tender documents before the deadline; the question is published
    with its answer, never with the asker's name."""
    tender = await _tender_for(actor, tender_id)
    await _check_may_take_part(actor, tender)
    async with db.transaction():
        locked = await db.fetchrow("SELECT status, bid_deadline FROM tenders WHERE id = $1 FOR SHARE", tender_id)
        now = await clock.now()
        _check_questions_open(locked, now)
        row = await db.fetchrow(
            """INSERT INTO tender_questions (id, tender_id, vendor_id, asked_by, question, asked_at)
               VALUES ($1, $2, $3, $4, $5, $6) RETURNING *""",
            uuid4(),
            tender_id,
            actor.organisation_id,
            actor.user_id,
            data.question,
            now,
        )
        result = _question_read(row, actor)
        await audit.record(actor, "tender_question.asked", "tender_question", row["id"], after=result.model_dump())
    return result


def _check_questions_open(tender: Any, now: datetime) -> None:
    if tender["status"] != "published" or now >= tender["bid_deadline"]:
        raise conflict("questions_closed", "questions are asked and answered only while the tender is open for bids")


async def answer_question(actor: Actor, tender_id: UUID, question_id: UUID, data: AnswerCreate) -> QuestionRead:
    await _open_if_due(tender_id)
    async with db.transaction():
        tender = await _own_tender(actor, tender_id, lock="SHARE")
        row = await db.fetchrow(
            "SELECT * FROM tender_questions WHERE id = $1 AND tender_id = $2 FOR UPDATE", question_id, tender_id
        )
        if row is None:
            raise NotFound("question", question_id)
        now = await clock.now()
        _check_questions_open(tender, now)
        if row["answer"] is not None:
            raise conflict("question_already_answered", "the question has been answered and the answer published")
        updated = await db.fetchrow(
            "UPDATE tender_questions SET answer = $2, answered_by = $3, answered_at = $4 WHERE id = $1 RETURNING *",
            question_id,
            data.answer,
            actor.user_id,
            now,
        )
        result = _question_read(updated, actor)
        await audit.record(
            actor, "tender_question.answered", "tender_question", question_id,
            before=_question_read(row, actor).model_dump(), after=result.model_dump(),
        )
    return result


async def list_questions(actor: Actor, tender_id: UUID, limit: int | None, cursor: str | None) -> Page[QuestionRead]:
    """Answered questions for everyone who sees the tender; unanswered ones only to the bureau
    (and admins, supervisors) and to the vendor that asked."""
    limit = check_limit(limit)
    after_at, after_id = typed_cursor(cursor, datetime, UUID)
    await _tender_for(actor, tender_id)
    sees_all = _reads_all(actor) or actor.role == "bureau"
    rows = await db.fetch(
        """SELECT * FROM tender_questions
           WHERE tender_id = $1 AND ($2::boolean OR answer IS NOT NULL OR vendor_id = $3)
             AND ($4::timestamptz IS NULL OR (asked_at, id) > ($4, $5::uuid))
           ORDER BY asked_at, id LIMIT $6""",
        tender_id,
        sees_all,
        actor.organisation_id if actor.role == "vendor" else None,
        after_at,
        after_id,
        limit + 1,
    )
    return page(rows, limit, lambda r: (r["asked_at"], r["id"]), lambda r: _question_read(r, actor))
