"""The panel (评标委员会 / 谈判小组 / 磋商小组 / 询价小组): its size and make-up, and the random draw
of its experts from the pool.

Every method has a panel, the lowest price method included (DESIGN §2, `panel_required`):
- 招标 (public and invited): an odd number, at least 5, at least 7 from a budget of 10 million
  yuan; experts at least two thirds, the purchaser's representatives the rest (财政部令第87号
  Art. 47);
- 竞争性谈判, 询价 (财政部令第74号 Art. 7), 竞争性磋商 (财库〔2014〕214号 Art. 14), and the
  单一来源 negotiation DESIGN gives a panel too: an odd number, at least 3, experts at least two
  thirds.

Experts are drawn at random from the pool (政府采购法实施条例 Art. 39; 87号令 Art. 48), the
draw excluding anyone affiliated with a bidder or with the purchaser (回避, 实施条例 Art. 9).
The draw is a pure function of a recorded seed and a recorded candidate list: each candidate's
place is SHA-256(seed ":" id), lowest first, so anyone holding the audit record can replay it
and get the same panel. The seed comes from the service (`secrets`), never from here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Hashable, Iterable, Sequence
from decimal import Decimal
from typing import Any

from govbuy.rules import RuleViolation, as_decimal, conflict
from procurement.rules._common import Method, _error, _invalid, _method

LARGE_TENDER_CEILING = Decimal("10000000")
#: Experts make at least two thirds of a panel (87号令 Art. 47, 74号令 Art. 7, 214号 Art. 14).
EXPERT_SHARE_NUMERATOR, EXPERT_SHARE_DENOMINATOR = 2, 3
TENDER_METHODS = (Method.PUBLIC_TENDER, Method.INVITED_TENDER)


def minimum_panel_size(method: str, ceiling_amount: Any = None) -> int:
    """5 for a public or invited tender (7 from a budget of 10 million yuan, 87号令 Art. 47),
    3 for every other method (74号令 Art. 7, 214号 Art. 14)."""
    if _method(method) in TENDER_METHODS:
        ceiling = as_decimal(ceiling_amount) if ceiling_amount is not None else None
        return 7 if ceiling is not None and ceiling >= LARGE_TENDER_CEILING else 5
    return 3


def minimum_experts(size: int) -> int:
    """The fewest experts a panel of `size` may have: two thirds, rounded up."""
    return -(-size * EXPERT_SHARE_NUMERATOR // EXPERT_SHARE_DENOMINATOR)


def check_panel_size(method: str, size: int, ceiling_amount: Any = None, *, field: str = "size") -> None:
    minimum = minimum_panel_size(method, ceiling_amount)
    if size < minimum or size % 2 == 0:
        raise _invalid(
            "invalid_panel_size",
            field,
            f"a {_method(method).label} panel needs an odd number of members, at least {minimum}; got {size}",
        )


def check_panel_composition(
    method: str,
    expert_ids: Sequence[Hashable],
    representative_ids: Sequence[Hashable] = (),
    *,
    ceiling_amount: Any = None,
    field: str = "expert_user_ids",
) -> None:
    """Distinct members, an odd number of them at least the method's minimum, experts at least
    two thirds of the panel."""
    members = [*expert_ids, *representative_ids]
    duplicates = sorted({str(m) for m in members if members.count(m) > 1})
    if duplicates:
        raise _invalid("duplicate_panel_expert", field, f"member(s) listed more than once: {', '.join(duplicates)}")
    check_panel_size(method, len(members), ceiling_amount, field=field)
    needed = minimum_experts(len(members))
    if len(expert_ids) < needed:
        raise _invalid(
            "too_few_experts",
            field,
            f"a panel of {len(members)} needs at least {needed} experts (two thirds, 87号令 Art. 47); "
            f"got {len(expert_ids)} and {len(representative_ids)} purchaser's representative(s)",
        )


def check_no_conflict(expert_ids: Iterable[Hashable], conflicted_ids: Iterable[Hashable]) -> None:
    """No expert affiliated with a bidder or with the purchaser sits on the panel (回避)."""
    conflicted = set(conflicted_ids)
    found = [e for e in expert_ids if e in conflicted]
    if found:
        raise RuleViolation(
            "expert_conflict_of_interest",
            "expert(s) affiliated with a bidder or with the purchaser may not sit on the panel: "
            + ", ".join(str(e) for e in found),
            errors=[_error("expert_user_ids", f"expert {e} has a declared affiliation") for e in found],
        )


def check_panel(
    method: str,
    expert_ids: Sequence[Hashable],
    bidder_affiliated_expert_ids: Iterable[Hashable],
    *,
    ceiling_amount: Any = None,
    representative_ids: Sequence[Hashable] = (),
) -> None:
    """A hand-picked panel (87号令 Art. 48): the same make-up as a drawn one and no conflict."""
    check_panel_composition(method, expert_ids, representative_ids, ceiling_amount=ceiling_amount)
    check_no_conflict(expert_ids, bidder_affiliated_expert_ids)


def draw_place(seed: str, candidate: Hashable) -> str:
    """A candidate's place in the draw: the lowest places are drawn first."""
    return hashlib.sha256(f"{seed}:{candidate}".encode()).hexdigest()


def draw_experts(seed: str, candidates: Sequence[Hashable], count: int) -> list[Hashable]:
    """Draw `count` experts from `candidates` (the pool less the excluded) by `seed`: the same
    seed and candidates always give the same experts in the same order, whatever order the
    candidates were listed in."""
    if count < 0:
        raise ValueError("count must be ≥ 0")
    distinct = list(dict.fromkeys(candidates))
    if len(distinct) < count:
        raise conflict(
            "expert_pool_too_small",
            f"the draw needs {count} expert(s) but only {len(distinct)} eligible expert(s) are in the pool",
        )
    return sorted(distinct, key=lambda c: (draw_place(seed, c), str(c)))[:count]


def experts_to_draw(method: str, size: int, representatives: int, ceiling_amount: Any = None) -> int:
    """How many experts a draw for a panel of `size` with that many representatives takes, once
    the size and the two-thirds share are checked."""
    check_panel_size(method, size, ceiling_amount)
    experts = size - representatives
    needed = minimum_experts(size)
    if experts < needed:
        raise _invalid(
            "too_few_experts",
            "bureau_representative_ids",
            f"a panel of {size} may have at most {size - needed} purchaser's representative(s) "
            f"(experts at least two thirds, 87号令 Art. 47); got {representatives}",
        )
    return experts


def check_panel_complete(method: str, ceiling_amount: Any, experts: int, representatives: int) -> None:
    """Before any review, score or award the tender has a full panel (`panel_required`)."""
    size = experts + representatives
    minimum = minimum_panel_size(method, ceiling_amount)
    if size < minimum or size % 2 == 0 or experts < minimum_experts(size):
        raise conflict(
            "panel_required",
            f"a {_method(method).label} needs its panel (评审小组) first: an odd number of at least {minimum} "
            f"members, two thirds of them experts drawn from the pool; it has {experts} expert(s) and "
            f"{representatives} representative(s)",
        )
