"""Review before scoring (财政部令第87号 Arts. 44, 50; 74号令 Art. 16): after the opening the
purchaser checks each bidder's qualification (资格性审查), then the panel checks each qualified
bid's compliance with the documents (符合性审查). Each review marks the bid responsive or not,
with the reason. Only bids found responsive at both are scored and ranked (`bid_not_reviewed`).

A bid may also be found non-responsive by the remedy of an upheld challenge or complaint
(财政部令第94号 Arts. 31–32): that finding overrides both reviews.

The tender fails (废标, 政府采购法 Art. 36) as soon as it can no longer have the method's
minimum of responsive bids — which the reviews may show long before the last one is done.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from govbuy.rules import conflict
from procurement.rules._common import _invalid
from procurement.rules.tenders import minimum_valid_bids


class ReviewStage(StrEnum):
    QUALIFICATION = "qualification"  # 资格性审查, by the purchaser
    COMPLIANCE = "compliance"  # 符合性审查, by the panel
    REMEDY = "remedy"  # an upheld challenge or complaint


class ReviewStatus(StrEnum):
    PENDING = "pending"
    RESPONSIVE = "responsive"
    NON_RESPONSIVE = "non_responsive"


def review_stage(role: str, on_panel: bool, requested: str | None) -> ReviewStage:
    """Which review the caller gives: the bureau qualification, a panel member compliance (a
    bureau user who sits on the panel as the purchaser's representative says `compliance`)."""
    if requested is not None:
        try:
            stage = ReviewStage(requested)
        except ValueError:
            stage = None
        if stage not in (ReviewStage.QUALIFICATION, ReviewStage.COMPLIANCE):
            raise _invalid("invalid_review_stage", "stage", "stage is qualification or compliance")
    else:
        stage = ReviewStage.QUALIFICATION if role == "bureau" else ReviewStage.COMPLIANCE
    if stage is ReviewStage.QUALIFICATION and role != "bureau":
        raise _invalid("invalid_review_stage", "stage", "qualification (资格性审查) is the purchaser's review")
    if stage is ReviewStage.COMPLIANCE and not on_panel:
        raise _invalid("invalid_review_stage", "stage", "compliance (符合性审查) is reviewed by a member of the panel")
    return stage


def review_status(
    qualification: bool | None, compliance: bool | None, remedied: bool = False
) -> ReviewStatus:
    """A bid's standing from its reviews (None: not yet reviewed at that stage)."""
    if remedied or qualification is False or compliance is False:
        return ReviewStatus.NON_RESPONSIVE
    if qualification and compliance:
        return ReviewStatus.RESPONSIVE
    return ReviewStatus.PENDING


def check_review_order(stage: ReviewStage, qualification: bool | None) -> None:
    """Compliance is reviewed only for a bid whose bidder is qualified."""
    if stage is ReviewStage.COMPLIANCE:
        if qualification is None:
            raise conflict("bid_not_reviewed", "the purchaser has not yet reviewed this bidder's qualification (资格性审查)")
        if qualification is False:
            raise conflict("bid_not_responsive", "the bidder was found not qualified: its bid is not reviewed further")


def check_scorable(status: str) -> None:
    """Only a bid found responsive at both reviews is scored (87号令 Art. 50)."""
    if ReviewStatus(status) is ReviewStatus.PENDING:
        raise conflict("bid_not_reviewed", "the bid has not been reviewed for qualification and compliance yet")
    if ReviewStatus(status) is ReviewStatus.NON_RESPONSIVE:
        raise conflict("bid_not_responsive", "the bid was found non-responsive: it is not scored")


def check_all_reviewed(statuses: Iterable[str]) -> None:
    pending = sum(1 for s in statuses if ReviewStatus(s) is ReviewStatus.PENDING)
    if pending:
        raise conflict("bid_not_reviewed", f"{pending} opened bid(s) still await review")


def review_fails_tender(method: str, statuses: Iterable[str]) -> bool:
    """Whether the tender can no longer reach the method's minimum of responsive bids (废标):
    fewer bids than that remain that are responsive or still pending."""
    still_possible = sum(1 for s in statuses if ReviewStatus(s) is not ReviewStatus.NON_RESPONSIVE)
    return still_possible < minimum_valid_bids(method)
