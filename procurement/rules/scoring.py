"""Scoring: comprehensive scoring (综合评分法) and lowest-price
ranking (最低评标价法)."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Any

from govbuy.rules import (
    RuleViolation,
    as_decimal,
    conflict,
)
from procurement.rules._common import _error, _invalid
from procurement.rules.tenders import (
    Criterion,
    EvaluationMethod,
    _criteria,
    check_bid_price,
    validate_scoring,
)


# --- scoring (财政部令第87号, 综合评分法) ----------------------------------------------------

SCORE_PLACES = Decimal("0.01")


def _round_score(value: Decimal) -> Decimal:
    return value.quantize(SCORE_PLACES, rounding=ROUND_HALF_UP)


def _criteria_of(criteria: Iterable[Any]) -> tuple[Criterion, ...]:
    parsed, errors = _criteria(criteria)
    if errors:
        raise RuleViolation("invalid_criteria", "some criteria are invalid", errors=errors)
    return parsed


def _score_sheet_errors(
    criteria: Sequence[Criterion], scores: Mapping[str, Any], prefix: str
) -> tuple[dict[str, Decimal], list[dict[str, Any]]]:
    weights = {c.name: c.weight for c in criteria if not c.scored_by_rule}
    errors: list[dict[str, Any]] = []
    clean: dict[str, Decimal] = {}
    by_rule = {c.name for c in criteria if c.scored_by_rule}
    for name in scores:
        if name in by_rule:
            errors.append(_error(f"{prefix}{name}", "scored by rule from the assessment grade, not by the experts"))
        elif name not in weights:
            errors.append(_error(f"{prefix}{name}", "not a criterion of this tender"))
    for name, weight in weights.items():
        if name not in scores:
            errors.append(_error(f"{prefix}{name}", "not scored"))
            continue
        value = as_decimal(scores[name])
        if value is None or not 0 <= value <= weight:
            errors.append(_error(f"{prefix}{name}", f"score must be between 0 and {weight}"))
        else:
            clean[name] = value
    return clean, errors


def check_expert_scores(criteria: Iterable[Any], scores: Mapping[str, Any]) -> dict[str, Decimal]:
    """One expert's score sheet for one bid: every criterion once, 0 ≤ score ≤ its weight."""
    clean, errors = _score_sheet_errors(_criteria_of(criteria), scores, "scores.")
    if errors:
        raise RuleViolation(
            "invalid_scores", "the score sheet is incomplete or out of range", errors=errors
        )
    return clean


@dataclass(frozen=True)
class BidForRanking:
    """A valid bid as the ranking needs it. `expert_scores` maps each panel expert's id to the
    score sheet that expert gave this bid ({criterion name: score})."""

    bid_id: Hashable
    vendor_name: str
    price: Decimal
    submitted_at: datetime
    expert_scores: Mapping[Hashable, Mapping[str, Decimal]] = field(default_factory=dict)
    # The price after any SME deduction (sme.evaluated_price); None: the bid price.
    evaluated_price: Decimal | None = None
    # The bidder's assessment grade at the opening, for a criterion scored by grade.
    assessment_grade: int | None = None

    @property
    def price_evaluated(self) -> Decimal:
        return self.price if self.evaluated_price is None else self.evaluated_price


@dataclass(frozen=True)
class RankedBid:
    """One line of the published ranking. Scores are None under the lowest price method."""

    rank: int
    bid_id: Hashable
    vendor_name: str
    price: Decimal
    price_score: Decimal | None
    technical_score: Decimal | None
    total_score: Decimal | None
    submitted_at: datetime
    evaluated_price: Decimal | None = None


def rank_bids(
    method: str,
    price_weight: Any,
    criteria: Iterable[Any],
    bids: Sequence[BidForRanking],
    expert_ids: Sequence[Hashable] = (),
) -> list[RankedBid]:
    """Rank the valid bids of a tender; rank 1 is the recommended winner.

    Comprehensive (综合评分法, 87号令 Art. 55): price score = lowest evaluated price ÷ evaluated
    price × price weight; technical score = Σ over the experts' criteria of their mean score,
    plus the points of a criterion scored by assessment grade; every bid must be scored by every
    expert in `expert_ids`. Lowest price (最低评标价法, Art. 56): by evaluated price. The
    evaluated price is the bid price less any SME deduction (财库〔2020〕46号 Art. 9).

    Rounding: the price score and the technical score are computed at full precision (no
    intermediate rounding of per-expert means or of the price ratio) and each rounded once,
    half-up, to 2 decimals. The total is the sum of those two rounded scores, so anyone can
    re-add the published table, and ranking uses that published total, so the order never
    disagrees with what the award notice shows. Ties (87号令 leaves them 并列; DESIGN breaks
    them): lower price, then earlier submission, then bid id so the order is deterministic.
    """
    try:
        evaluation = EvaluationMethod(method)
    except ValueError:
        raise _invalid(
            "invalid_evaluation_method", "evaluation_method", f"{method!r} is not a method"
        ) from None
    for bid in bids:
        check_bid_price(bid.price, None)
    if not bids:
        return []

    if evaluation is EvaluationMethod.LOWEST_PRICE:
        ordered = sorted(bids, key=lambda b: (b.price_evaluated, b.price, b.submitted_at, str(b.bid_id)))
        return [
            RankedBid(i, b.bid_id, b.vendor_name, b.price, None, None, None, b.submitted_at, b.price_evaluated)
            for i, b in enumerate(ordered, start=1)
        ]

    scheme = validate_scoring(evaluation, price_weight, criteria)
    assert scheme.price_weight is not None
    panel = list(expert_ids)
    if not panel:
        raise conflict("scoring_incomplete", "the tender has no panel, so no scores")
    missing: list[dict[str, Any]] = []
    invalid: list[dict[str, Any]] = []
    sheets: dict[Hashable, list[dict[str, Decimal]]] = {}
    for bid in bids:
        sheets[bid.bid_id] = []
        for expert in bid.expert_scores:
            if expert not in panel:
                invalid.append(
                    {
                        "bid_id": str(bid.bid_id),
                        "expert_id": str(expert),
                        "field": "scores",
                        "message": "scored by an expert who is not on the panel",
                    }
                )
        for expert in panel:
            if expert not in bid.expert_scores:
                missing.append(
                    {
                        "bid_id": str(bid.bid_id),
                        "expert_id": str(expert),
                        "field": "scores",
                        "message": f"expert {expert} has not scored bid {bid.bid_id}",
                    }
                )
                continue
            clean, errors = _score_sheet_errors(
                scheme.criteria, bid.expert_scores[expert], "scores."
            )
            invalid.extend(
                {"bid_id": str(bid.bid_id), "expert_id": str(expert), **e} for e in errors
            )
            sheets[bid.bid_id].append(clean)
    if missing:
        pairs = "; ".join(f"bid {m['bid_id']} by expert {m['expert_id']}" for m in missing)
        raise conflict("scoring_incomplete", f"scores are missing: {pairs}", errors=missing)
    if invalid:
        raise RuleViolation(
            "invalid_scores", "some score sheets are invalid or unexpected", errors=invalid
        )

    lowest = min(b.price_evaluated for b in bids)
    scored: list[tuple[BidForRanking, Decimal, Decimal, Decimal]] = []
    with localcontext() as ctx:
        ctx.prec = 50
        for bid in bids:
            price_score = _round_score(lowest / bid.price_evaluated * scheme.price_weight)
            experts = Decimal(len(panel))
            technical_full = sum(
                (
                    c.points_for(bid.assessment_grade)
                    if c.scored_by_rule
                    else sum((sheet[c.name] for sheet in sheets[bid.bid_id]), Decimal(0)) / experts
                    for c in scheme.criteria
                ),
                Decimal(0),
            )
            technical_score = _round_score(technical_full)
            scored.append((bid, price_score, technical_score, price_score + technical_score))
    scored.sort(key=lambda s: (-s[3], s[0].price_evaluated, s[0].price, s[0].submitted_at, str(s[0].bid_id)))
    return [
        RankedBid(i, b.bid_id, b.vendor_name, b.price, p, t, total, b.submitted_at, b.price_evaluated)
        for i, (b, p, t, total) in enumerate(scored, start=1)
    ]


