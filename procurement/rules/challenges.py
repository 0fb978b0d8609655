"""Challenges (质疑) against the documents, a step of the process or the result, and the
remedies of an upheld one (政府采购法 Arts. 52–54, 实施条例 Art. 53, 财政部令第94号).

Windows (each a party's, ending at 24:00 Beijing time of its last day):
- documents: 7 working days from the end of the period in which the documents are provided
  (招标文件提供期限, at least 5 working days from publication, 87号令 Art. 19; 实施条例 Art. 53 (一),
  94号令 Art. 11) — govbuy provides them from publication, so 5 + 7 working days from it;
- process: 7 working days from the step challenged (实施条例 Art. 53 (二)): the opening, the
  panel's draw, or the review that found the challenger's bid non-responsive;
- result: 7 working days from the end of the award notice's 1 working day (the standstill).

Remedies (94号令 Arts. 31–32, DESIGN §2), each applied by the service and audited:
- documents → the documents are amended with a later deadline (amendments are a later stage
  of govbuy; until then the only remedy is to cancel and tender again, with the reason);
- process → the panel reviews and scores again (`reevaluate`), or the tender is cancelled;
- result → the bids the challenge concerns are found non-responsive and the award goes to the
  next candidate if enough responsive bids remain, else the tender fails (`next_candidate`); or
  the panel evaluates again; or the tender is cancelled.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from uuid import UUID
from enum import StrEnum

from govbuy.rules import RuleViolation, WorkCalendar, conflict, last_day, working_period_end
from procurement.rules._common import _invalid, _iso, _require_aware
from procurement.rules.award import CHALLENGE_WORKING_DAYS
from procurement.rules.tenders import TenderStatus, minimum_valid_bids

#: 财政部令第87号 Art. 19: the documents are provided for at least 5 working days.
DOCUMENT_PROVISION_WORKING_DAYS = 5


class ChallengeKind(StrEnum):
    DOCUMENTS = "documents"
    PROCESS = "process"
    RESULT = "result"


class ProcessStep(StrEnum):
    OPENING = "opening"
    PANEL = "panel"
    REVIEW = "review"


class Remedy(StrEnum):
    CANCEL = "cancel"  # cancel and tender again (重新开展采购活动)
    REEVALUATE = "reevaluate"  # back to the panel: review and score again
    NEXT_CANDIDATE = "next_candidate"  # the concerned bids out, the next candidate awarded


#: The remedies each kind of challenge allows, the default first.
REMEDIES: Mapping[ChallengeKind, tuple[Remedy, ...]] = {
    ChallengeKind.DOCUMENTS: (Remedy.CANCEL,),
    ChallengeKind.PROCESS: (Remedy.REEVALUATE, Remedy.CANCEL),
    ChallengeKind.RESULT: (Remedy.NEXT_CANDIDATE, Remedy.REEVALUATE, Remedy.CANCEL),
}

#: The tender statuses in which each kind may be filed.
FILING_STATUSES: Mapping[ChallengeKind, frozenset[TenderStatus]] = {
    ChallengeKind.DOCUMENTS: frozenset({TenderStatus.PUBLISHED, TenderStatus.EVALUATING, TenderStatus.AWARDED}),
    ChallengeKind.PROCESS: frozenset({TenderStatus.EVALUATING, TenderStatus.AWARDED}),
    ChallengeKind.RESULT: frozenset({TenderStatus.AWARDED}),
}


def following_period_end(calendar: WorkCalendar, period_end: datetime, working_days: int) -> datetime:
    """End of a period of working days that starts the day after another period's last day."""
    return working_period_end(calendar, _require_aware(period_end, "period_end") - timedelta(microseconds=1), working_days)


def documents_window_end(published_at: datetime, calendar: WorkCalendar) -> datetime:
    """24:00 of the 7th working day after the 5 working days in which documents are provided."""
    return working_period_end(
        calendar, _require_aware(published_at, "published_at"), DOCUMENT_PROVISION_WORKING_DAYS + CHALLENGE_WORKING_DAYS
    )


def process_window_end(step_at: datetime, calendar: WorkCalendar) -> datetime:
    """24:00 of the 7th working day after the step challenged."""
    return working_period_end(calendar, _require_aware(step_at, "step_at"), CHALLENGE_WORKING_DAYS)


def check_filing_status(kind: ChallengeKind, tender_status: str) -> None:
    if TenderStatus(tender_status) not in FILING_STATUSES[kind]:
        code = "no_award_to_challenge" if kind is ChallengeKind.RESULT else "challenge_not_allowed"
        raise conflict(code, f"the tender is {tender_status}: a {kind.value} challenge cannot be filed now")


def check_window(kind: ChallengeKind, now: datetime, window_end: datetime) -> None:
    """A challenge is filed before its window ends (`challenge_window_closed`; a result challenge
    after the standstill keeps its older code `standstill_over`)."""
    if _require_aware(now, "now") >= _require_aware(window_end, "window_end"):
        code = "standstill_over" if kind is ChallengeKind.RESULT else "challenge_window_closed"
        raise conflict(
            code,
            f"the window for a {kind.value} challenge closed at 24:00 of {last_day(window_end)} "
            f"(Asia/Shanghai, {_iso(window_end)})",
        )


def concerned_bids(requested: Sequence[UUID] | None, default: Sequence[UUID], ranking: Iterable[Mapping]) -> list[UUID]:
    """The bids a result challenge (or the complaint on it) concerns: those named, else the
    winner's; each must be ranked in the award challenged (94号令 Art. 12: a challenge is
    against the result that was published)."""
    concerned = list(dict.fromkeys(requested or default))
    ranked = {str(line["bid_id"]) for line in ranking if line.get("bid_id")}
    stray = [b for b in concerned if str(b) not in ranked]
    if stray:
        raise RuleViolation(
            "invalid_concerned_bids",
            "a result challenge concerns ranked bids of the award it challenges",
            errors=[{"field": "concerned_bid_ids", "message": f"{b} is not ranked"} for b in stray],
        )
    return concerned


def choose_remedy(kind: str, requested: str | None) -> Remedy:
    """The remedy of an upheld challenge: the one asked for if the kind allows it, else its default."""
    allowed = REMEDIES[ChallengeKind(kind)]
    if requested is None:
        return allowed[0]
    try:
        remedy = Remedy(requested)
    except ValueError:
        remedy = None
    if remedy not in allowed:
        raise _invalid(
            "remedy_not_allowed",
            "remedy",
            f"an upheld {kind} challenge allows {', '.join(r.value for r in allowed)}; got {requested!r}",
        )
    return remedy


def next_candidate_outcome(method: str, responsive_left: int) -> TenderStatus:
    """After the concerned bids are out: award the next candidate if the method's minimum of
    responsive bids remains, else the tender fails (废标, 政府采购法 Art. 36)."""
    if responsive_left >= minimum_valid_bids(method):
        return TenderStatus.AWARDED
    return TenderStatus.FAILED
