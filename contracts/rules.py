"""Rules of a purchase-of-services contract (政府购买服务合同).

The contract and milestone state machines, signing, the milestone split of the contract
amount, amendments (政府采购法 Art. 49), termination, deliverables, and the payment decision
that ties every payment to an accepted third-party evaluation. Pure: no I/O; imports only the
stdlib, `govbuy.rules` and `evaluation.rules`.

Decisions worth knowing:
- Money is `Decimal` yuan with at most two decimals; it is rounded only through `to_fen`.
- Milestone split: each milestone is `to_fen(amount × percentage / 100)` except the last,
  which takes the remainder, so the milestones add up to the contract amount to the fen.
  Every milestone must be worth at least 0.01: a contract too small for its plan is refused
  (`milestone_amount_too_small`) rather than given empty or negative milestones.
- Amendments only add (添购) and at most 10 % of the original amount in total. An increase is
  spread over the open milestones (not paid, not cancelled, no payment pending) in proportion
  to their amounts. Shares are rounded on the running total — share i is
  `to_fen(increase × cumulative_i / open_total) − to_fen(increase × cumulative_{i−1} / open_total)`
  — so the last open milestone takes the remainder and no share is ever negative (rounding
  each share on its own can push a small increase spread over many milestones below zero).
- A milestone becomes `paid` as soon as its payment is decided; the payment then goes
  pending → confirmed when the treasury reports the transfer. A paid milestone is never
  paid again, amended or cancelled. Services that track a pending payment separately can
  also pass its milestone in `payment_pending_ids`.
- Payment: `amount = to_fen(milestone amount × payout ratio)`, `withheld = milestone amount −
  amount`, exactly. No payment while an appeal against the evaluation is pending, since an
  upheld appeal replaces the evaluation the payment would rest on.
- Contract position: with `contract_amount` the current amount (original plus amendments),
  `paid + withheld + remaining + cancelled = contract_amount`; `remaining` is what open
  milestones still commit.
- A draft contract (not fully signed) may be terminated too: that abandons it before anything
  was committed.
- Contract term: counted as the civil code counts months (民法典 Art. 201–202): from the day
  after the start, ending on the corresponding day of the last month, or that month's last day.

Error codes raised here (HTTP status in brackets):
- `contract_term_too_long` (422): more than 12 months, or 36 for a recurring purchase.
- `invalid_contract_term` (422): a term that is not a whole number of months ≥ 1.
- `invalid_contract_amount` (422): a contract amount that is not positive money in yuan.
- `percentages_must_sum_to_100` (422): a milestone plan whose percentages do not add to 100.
- `invalid_milestone_plan` (422): an empty plan, or a milestone without a title, with a
  percentage that is not positive (two decimals at most) or an offset that is not a
  non-negative number of days.
- `milestone_amount_too_small` (422): the split would leave a milestone below 0.01.
- `invalid_status_transition` (409): a contract, milestone or payment moved to a status it
  cannot reach from its current one.
- `contract_not_signable` (409): signing a contract that is not a draft.
- `invalid_budget_years` (422): the bureau's signature of a multi-year contract without one of
  its own lines of the right year for each later budget year the contract is paid in, or with
  a line for a year the contract has no share in.
- `already_signed` (409): a party signs twice.
- `invalid_party` (422): a signature from someone other than the bureau or the vendor.
- `contract_not_active` (409): an amendment, deliverable or payment on a contract that is not
  active.
- `contract_has_open_milestones` (409): completing a contract with milestones not yet paid or
  cancelled.
- `invalid_amendment` (422): an increase that is not positive money.
- `amendment_exceeds_limit` (422): increases beyond 10 % of the original amount.
- `no_open_milestone` (409): an amendment with no open milestone to carry it.
- `invalid_deliverable` (422): an empty or over-long summary, an unknown figure, or a figure
  that is negative, not a number, or fractional where a count is expected.
- `evaluation_required` (409): a payment without an accepted evaluation of the milestone.
- `appeal_pending` (409): a payment while an appeal against the evaluation is pending.
- `milestone_already_paid` (409): a second payment of a milestone.
- `milestone_cancelled` (409): a payment of a cancelled milestone.
- `invalid_amount` (422): a milestone amount that is not money in yuan.
- `invalid_treasury_reference` (422): a payment confirmation without a reference of 1–64
  printable characters.
- `invalid_idempotency_key` (422): a payment without an Idempotency-Key of 1–200 printable
  characters.
- `idempotency_key_reused` (409): a payment's key sent again for another milestone.
- `payee_must_be_vendor` (422): a payment to anyone but the contracted vendor (no 转包).
"""

from __future__ import annotations

import calendar as _calendar
from collections.abc import Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any, NamedTuple

from evaluation.rules import EvaluationStatus, Grade, PaymentBand, grade_for, payout_ratio
# The payment rule is evaluation's (grades to payout ratios); contracts store and apply it.
from evaluation.rules import DEFAULT_PAYMENT_RULE as DEFAULT_PAYMENT_RULE
from evaluation.rules import as_dicts as as_dicts
from evaluation.rules import from_dicts as from_dicts
from evaluation.rules import validate_payment_rule as validate_payment_rule
from govbuy.rules import as_decimal, check_transition, has_at_most_two_places, last_day, RuleViolation, conflict, to_fen

HUNDRED = Decimal(100)
CENT = Decimal("0.01")
ZERO = Decimal("0.00")






def _money(value: Any, *, code: str, field: str, positive: bool) -> Decimal:
    """Yuan with at most two decimals (non-negative, or positive when asked), else `code`."""
    number = as_decimal(value)
    ok = (
        number is not None
        and (number > 0 if positive else number >= 0)
        and has_at_most_two_places(number)
    )
    if not ok:
        kind = "positive" if positive else "non-negative"
        raise RuleViolation(
            code,
            f"{field} must be a {kind} amount in yuan with at most two decimals, not {value!r}.",
            errors=[{"field": field, "message": f"must be a {kind} amount with at most two decimals"}],
        )
    return to_fen(number)


# --- contract status, term and signing --------------------------------------------------------


class ContractStatus(StrEnum):
    """draft (awaiting signatures) → active (both signed) → completed | terminated."""

    DRAFT = "draft"
    ACTIVE = "active"
    COMPLETED = "completed"
    TERMINATED = "terminated"


CONTRACT_TRANSITIONS: dict[ContractStatus, frozenset[ContractStatus]] = {
    ContractStatus.DRAFT: frozenset({ContractStatus.ACTIVE, ContractStatus.TERMINATED}),
    ContractStatus.ACTIVE: frozenset({ContractStatus.COMPLETED, ContractStatus.TERMINATED}),
    ContractStatus.COMPLETED: frozenset(),
    ContractStatus.TERMINATED: frozenset(),
}


def check_contract_transition(current: ContractStatus | str, target: ContractStatus | str) -> None:
    check_transition("contract", CONTRACT_TRANSITIONS, ContractStatus(current), ContractStatus(target))


def ensure_contract_active(status: ContractStatus | str) -> None:
    """Amendments, deliverables and payments need an active contract."""
    status = ContractStatus(status)
    if status is not ContractStatus.ACTIVE:
        raise conflict("contract_not_active", f"The contract is {status.value}, not active.")


#: Longest contract term in months (Art. 24), and for a purchase marked recurring.
MAX_TERM_MONTHS = 12
MAX_RECURRING_TERM_MONTHS = 36


def check_contract_term(months: Any, *, recurring: bool) -> None:
    if isinstance(months, bool) or not isinstance(months, int) or months < 1:
        raise RuleViolation(
            "invalid_contract_term",
            "The contract term must be a whole number of months, at least 1.",
            errors=[{"field": "contract_months", "message": "must be a whole number ≥ 1"}],
        )
    limit = MAX_RECURRING_TERM_MONTHS if recurring else MAX_TERM_MONTHS
    if months > limit:
        why = "a recurring purchase" if recurring else "a purchase not marked recurring"
        raise RuleViolation(
            "contract_term_too_long",
            f"A contract term of {months} months exceeds the {limit} months allowed for {why}.",
            errors=[{"field": "contract_months", "message": f"at most {limit} months"}],
        )


def contract_end_date(start_date: date, months: int) -> date:
    """Last day of a term of `months` starting on `start_date` (民法典 Art. 201–202)."""
    index = start_date.month - 1 + months
    year, month = start_date.year + index // 12, index % 12 + 1
    last_day = _calendar.monthrange(year, month)[1]
    return date(year, month, min(start_date.day, last_day))


class Party(StrEnum):
    BUREAU = "bureau"
    VENDOR = "vendor"


@dataclass(frozen=True)
class SignatureState:
    """When each party signed; None until it has."""

    bureau_signed_at: datetime | None = None
    vendor_signed_at: datetime | None = None


def ensure_signable(status: ContractStatus | str) -> None:
    status = ContractStatus(status)
    if status is not ContractStatus.DRAFT:
        raise conflict(
            "contract_not_signable", f"Only a draft contract can be signed; this one is {status.value}."
        )


def record_signature(state: SignatureState, party: Party | str, at: datetime) -> SignatureState:
    """The signature state after `party` signs at `at`; each party signs once."""
    try:
        party = Party(party)
    except ValueError:
        raise RuleViolation(
            "invalid_party",
            f"Only the bureau or the vendor signs a contract, not {party!r}.",
            errors=[{"field": "party", "message": "must be bureau or vendor"}],
        ) from None
    field = f"{party.value}_signed_at"
    if getattr(state, field) is not None:
        raise conflict("already_signed", f"The {party.value} has already signed this contract.")
    return replace(state, **{field: at})


def is_fully_signed(state: SignatureState) -> bool:
    return state.bureau_signed_at is not None and state.vendor_signed_at is not None


def fully_signed_at(state: SignatureState) -> datetime | None:
    """The moment the contract became binding (the later signature), or None."""
    if not is_fully_signed(state):
        return None
    return max(state.bureau_signed_at, state.vendor_signed_at)  # type: ignore[type-var]


# --- milestones --------------------------------------------------------------------------------


class MilestoneStatus(StrEnum):
    """pending → delivered (deliverable submitted) → evaluated → paid; cancelled from any open one."""

    PENDING = "pending"
    DELIVERED = "delivered"
    EVALUATED = "evaluated"
    PAID = "paid"
    CANCELLED = "cancelled"


MILESTONE_TRANSITIONS: dict[MilestoneStatus, frozenset[MilestoneStatus]] = {
    MilestoneStatus.PENDING: frozenset({MilestoneStatus.DELIVERED, MilestoneStatus.CANCELLED}),
    MilestoneStatus.DELIVERED: frozenset({MilestoneStatus.EVALUATED, MilestoneStatus.CANCELLED}),
    MilestoneStatus.EVALUATED: frozenset({MilestoneStatus.PAID, MilestoneStatus.CANCELLED}),
    MilestoneStatus.PAID: frozenset(),
    MilestoneStatus.CANCELLED: frozenset(),
}

SETTLED_MILESTONE_STATUSES = frozenset({MilestoneStatus.PAID, MilestoneStatus.CANCELLED})


def check_milestone_transition(current: MilestoneStatus | str, target: MilestoneStatus | str) -> None:
    check_transition("milestone", MILESTONE_TRANSITIONS, MilestoneStatus(current), MilestoneStatus(target))


def ensure_all_milestones_settled(statuses: Iterable[MilestoneStatus | str]) -> None:
    """A contract is completed only when every milestone is paid or cancelled."""
    open_count = sum(1 for s in statuses if MilestoneStatus(s) not in SETTLED_MILESTONE_STATUSES)
    if open_count:
        raise conflict(
            "contract_has_open_milestones",
            f"{open_count} milestone(s) are neither paid nor cancelled.",
        )


def is_overdue(due_date: date | None, delivered_on: date | None, today: date) -> bool:
    """Delivered after its due date, or not delivered and the due date has passed."""
    if due_date is None:
        return False
    if delivered_on is not None:
        return delivered_on > due_date
    return today > due_date


@dataclass(frozen=True)
class MilestoneAmount:
    """One milestone of a split contract; `sequence` counts from 1."""

    sequence: int
    title: str
    percentage: Decimal
    amount: Decimal
    due_offset_days: int
    due_date: date | None


def _plan_fields(item: Any) -> tuple[Any, Any, Any]:
    if isinstance(item, Mapping):
        return item.get("title"), item.get("percentage"), item.get("due_offset_days")
    if isinstance(item, Sequence) and not isinstance(item, str) and len(item) == 3:
        return item[0], item[1], item[2]
    return None, None, None


def split_milestones(
    contract_amount: Decimal,
    plan: Sequence[tuple[str, Decimal, int] | Mapping[str, Any]],
    start_date: date | None = None,
) -> list[MilestoneAmount]:
    """Split a contract amount by its milestone plan, exact to the fen.

    `plan` rows are (title, percentage, due_offset_days) or mappings with those keys. Each
    milestone gets `to_fen(amount × percentage / 100)`, the last the remainder. With a
    `start_date`, due dates are `start_date + due_offset_days`.
    """
    amount = _money(contract_amount, code="invalid_contract_amount", field="contract_amount", positive=True)
    if not plan:
        raise RuleViolation(
            "invalid_milestone_plan",
            "A contract needs at least one milestone.",
            errors=[{"field": "milestones", "message": "no milestones"}],
        )
    errors: list[dict[str, Any]] = []
    rows: list[tuple[str, Decimal, int]] = []
    for i, item in enumerate(plan):
        title, percentage, offset = _plan_fields(item)
        where = f"milestones[{i}]"
        title = title.strip() if isinstance(title, str) else ""
        if not title:
            errors.append({"field": f"{where}.title", "message": "title is required"})
        pct = as_decimal(percentage)
        if pct is None or pct <= 0 or not has_at_most_two_places(pct):
            errors.append(
                {"field": f"{where}.percentage", "message": "must be a positive number with at most two decimals"}
            )
        if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
            errors.append({"field": f"{where}.due_offset_days", "message": "must be a whole number of days ≥ 0"})
        if not errors:
            rows.append((title, pct, offset))  # type: ignore[arg-type]
    if errors:
        raise RuleViolation("invalid_milestone_plan", "The milestone plan is not valid.", errors=errors)

    total_pct = sum((pct for _, pct, _ in rows), Decimal(0))
    if total_pct != HUNDRED:
        shown = format(total_pct.normalize(), "f")
        raise RuleViolation(
            "percentages_must_sum_to_100",
            f"Milestone percentages sum to {shown}, not 100.",
            errors=[{"field": "milestones", "message": f"percentages sum to {shown}"}],
        )

    amounts = [to_fen(amount * pct / HUNDRED) for _, pct, _ in rows[:-1]]
    amounts.append(amount - sum(amounts, ZERO))
    small = [i for i, value in enumerate(amounts) if value < CENT]
    if small:
        raise RuleViolation(
            "milestone_amount_too_small",
            f"A contract of {amount} is too small to split into {len(rows)} milestones by this plan: "
            "every milestone must be worth at least 0.01.",
            errors=[
                {"field": f"milestones[{i}].percentage", "message": f"would be worth {amounts[i]}"}
                for i in small
            ],
        )
    return [
        MilestoneAmount(
            sequence=i + 1,
            title=title,
            percentage=pct,
            amount=value,
            due_offset_days=offset,
            due_date=start_date + timedelta(days=offset) if start_date is not None else None,
        )
        for i, ((title, pct, offset), value) in enumerate(zip(rows, amounts))
    ]


# --- multi-year contracts (102号令 Art. 24: 在预算保障的前提下) -------------------------------------


def budget_year_shares(
    recurring: bool, line_year: int, milestones: Iterable[tuple[date, Decimal]]
) -> dict[int, Decimal]:
    """What each budget year must carry of a contract: the milestones due in it (预算法 Art. 18:
    the budget year is the calendar year).

    A recurring purchase may run up to 3 years only "在预算保障的前提下" (102号令 Art. 24), so
    each later year's share is carried by that year's budget line. A contract that is not
    recurring (at most a year, Art. 24) is carried whole by its tender's line, and so are the
    milestones of a recurring one due in or before that line's year."""
    shares: dict[int, Decimal] = {}
    for due_date, amount in milestones:
        year = budget_year_of(recurring, line_year, due_date)
        shares[year] = shares.get(year, ZERO) + Decimal(amount)
    return dict(sorted(shares.items()))


def budget_year_of(recurring: bool, line_year: int, due_date: date) -> int:
    """The budget year that pays a milestone due on `due_date` (see `budget_year_shares`)."""
    return due_date.year if recurring and due_date.year > line_year else line_year


@dataclass(frozen=True)
class ChosenLine:
    """A budget line the bureau names for a later year of a multi-year contract."""

    year: int
    line_id: Hashable
    line_year: int | None  # None: not one of the bureau's own lines


def check_budget_years(line_year: int, shares: Mapping[int, Decimal], chosen: Sequence[ChosenLine]) -> dict[int, Hashable]:
    """The bureau's lines for the later years of a multi-year contract, by year: exactly one of
    its own lines of that year for each later year with a share (`invalid_budget_years`)."""
    errors: list[dict[str, Any]] = []
    by_year: dict[int, Hashable] = {}
    for i, line in enumerate(chosen):
        field = f"budget_lines[{i}]"
        if line.year not in shares or line.year == line_year:
            errors.append({"field": f"{field}.year", "message": f"the contract has no later budget year {line.year}"})
        elif line.year in by_year:
            errors.append({"field": f"{field}.year", "message": f"{line.year} is named twice"})
        elif line.line_year is None:
            errors.append({"field": f"{field}.budget_line_id", "message": "not one of the bureau's budget lines"})
        elif line.line_year != line.year:
            errors.append({"field": f"{field}.budget_line_id", "message": f"a line of {line.line_year}, not {line.year}"})
        else:
            by_year[line.year] = line.line_id
    for year in shares:
        if year != line_year and year not in by_year and not any(c.year == year for c in chosen):
            errors.append({"field": "budget_lines", "message": f"name the {year} budget line for {shares[year]} due in {year}"})
    if errors:
        raise RuleViolation(
            "invalid_budget_years",
            "A multi-year contract needs one of the bureau's budget lines for each later year it is paid in.",
            errors=errors,
        )
    return by_year


# --- amendments (补充合同, 政府采购法 Art. 49) ------------------------------------------------------

#: Amendments may add at most this share of the original contract amount, in total.
AMENDMENT_LIMIT_RATIO = Decimal("0.10")


def amendment_limit(original_amount: Decimal) -> Decimal:
    """Most that amendments may add to a contract in total: 10 % of the original, to the fen."""
    return to_fen(Decimal(original_amount) * AMENDMENT_LIMIT_RATIO)


def check_amendment(original_amount: Decimal, previous_increases: Decimal, increase: Decimal) -> Decimal:
    """Refuse an increase beyond the 10 % cap; return what may still be added after it."""
    added = _money(increase, code="invalid_amendment", field="increase", positive=True)
    limit = amendment_limit(original_amount)
    already = to_fen(Decimal(previous_increases))
    left = limit - already
    if already + added > limit:
        raise RuleViolation(
            "amendment_exceeds_limit",
            f"Amendments may add at most {limit} (10 % of the original {to_fen(Decimal(original_amount))}); "
            f"{already} has already been added, so at most {max(left, ZERO)} more, not {added}.",
            errors=[{"field": "increase", "message": f"at most {max(left, ZERO)}"}],
        )
    return left - added


class MilestoneLine(NamedTuple):
    """A milestone as amendments and termination see it."""

    id: Hashable
    amount: Decimal
    status: MilestoneStatus


class MilestoneIncrease(NamedTuple):
    id: Hashable
    added: Decimal
    new_amount: Decimal


def _is_open(status: MilestoneStatus, ident: Hashable, payment_pending_ids: Collection[Hashable]) -> bool:
    return status not in SETTLED_MILESTONE_STATUSES and ident not in payment_pending_ids


def apply_amendment(
    milestones: Sequence[tuple[Hashable, Decimal, MilestoneStatus | str]],
    increase: Decimal,
    *,
    payment_pending_ids: Collection[Hashable] = frozenset(),
) -> list[MilestoneIncrease]:
    """Spread an increase over the open milestones in proportion to their amounts.

    Returns one entry per open milestone, in the given order; the shares add up to the
    increase exactly and none is negative (see the module docstring for the rounding).
    """
    added_total = _money(increase, code="invalid_amendment", field="increase", positive=True)
    open_lines = [
        (ident, Decimal(amount))
        for ident, amount, status in milestones
        if _is_open(MilestoneStatus(status), ident, payment_pending_ids)
    ]
    if not open_lines:
        raise conflict(
            "no_open_milestone",
            "Every milestone is paid, cancelled or awaiting payment: there is none to carry the amendment.",
        )
    base = sum((amount for _, amount in open_lines), Decimal(0))
    result: list[MilestoneIncrease] = []
    running = Decimal(0)
    handed_out = ZERO
    for i, (ident, amount) in enumerate(open_lines):
        running += amount
        if i == len(open_lines) - 1:
            upto = added_total
        elif base > 0:
            upto = to_fen(added_total * running / base)
        else:  # only zero-amount milestones: the last one carries it all
            upto = ZERO
        share = upto - handed_out
        handed_out = upto
        result.append(MilestoneIncrease(ident, share, to_fen(amount + share)))
    return result


# --- termination ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Termination:
    """What terminating a contract does to its milestones."""

    cancelled_ids: tuple[Hashable, ...]
    kept_ids: tuple[Hashable, ...]
    released_commitment: Decimal


def terminate(
    milestones: Iterable[tuple[Hashable, Decimal, MilestoneStatus | str]],
    *,
    payment_pending_ids: Collection[Hashable] = frozenset(),
) -> Termination:
    """Cancel every milestone not yet paid and with no payment pending; release their amounts.

    Paid and payment-pending milestones stay; already cancelled ones stay cancelled and
    release nothing again.
    """
    cancelled: list[Hashable] = []
    kept: list[Hashable] = []
    released = ZERO
    for ident, amount, status in milestones:
        status = MilestoneStatus(status)
        if status is MilestoneStatus.CANCELLED:
            continue
        if _is_open(status, ident, payment_pending_ids):
            cancelled.append(ident)
            released += Decimal(amount)
        else:
            kept.append(ident)
    return Termination(tuple(cancelled), tuple(kept), to_fen(released))


# --- deliverables --------------------------------------------------------------------------------

MAX_SUMMARY_LENGTH = 5000

# The figures a deliverable may report are evaluation's (performance targets are set on them).
from evaluation.rules import COUNT_FIGURES, HOUR_FIGURES, KNOWN_FIGURES  # noqa: E402,F401
from evaluation.rules import reported_values, targets_from_dicts, validate_targets  # noqa: E402,F401


class Deliverable(NamedTuple):
    summary: str
    figures: dict[str, Decimal]


def validate_deliverable(summary: Any, figures: Mapping[str, Any] | None) -> Deliverable:
    """Check a milestone deliverable: a summary of 1–5000 characters and known, sane figures."""
    errors: list[dict[str, Any]] = []
    text = summary.strip() if isinstance(summary, str) else ""
    if not text:
        errors.append({"field": "summary", "message": "a summary is required"})
    elif len(text) > MAX_SUMMARY_LENGTH:
        errors.append({"field": "summary", "message": f"at most {MAX_SUMMARY_LENGTH} characters, not {len(text)}"})
    checked: dict[str, Decimal] = {}
    for name, value in (figures or {}).items():
        field = f"figures.{name}"
        if name not in KNOWN_FIGURES:
            errors.append({"field": field, "message": f"unknown figure; known: {', '.join(sorted(KNOWN_FIGURES))}"})
            continue
        number = as_decimal(value)
        if number is None:
            errors.append({"field": field, "message": "must be a number"})
        elif number < 0:
            errors.append({"field": field, "message": "may not be negative"})
        elif name in COUNT_FIGURES and number != number.to_integral_value():
            errors.append({"field": field, "message": "must be a whole number"})
        elif name in HOUR_FIGURES and not has_at_most_two_places(number):
            errors.append({"field": field, "message": "at most two decimals"})
        else:
            checked[name] = number
    if errors:
        raise RuleViolation("invalid_deliverable", "The deliverable is not valid.", errors=errors)
    return Deliverable(text, checked)


# --- payments ------------------------------------------------------------------------------------


class PaymentStatus(StrEnum):
    """pending (decided, awaiting the treasury) → confirmed (treasury reference recorded)."""

    PENDING = "pending"
    CONFIRMED = "confirmed"


PAYMENT_TRANSITIONS: dict[PaymentStatus, frozenset[PaymentStatus]] = {
    PaymentStatus.PENDING: frozenset({PaymentStatus.CONFIRMED}),
    PaymentStatus.CONFIRMED: frozenset(),
}

MAX_TREASURY_REFERENCE = 64
MAX_IDEMPOTENCY_KEY = 200


def check_payment_transition(current: PaymentStatus | str, target: PaymentStatus | str) -> None:
    check_transition("payment", PAYMENT_TRANSITIONS, PaymentStatus(current), PaymentStatus(target))


def validate_treasury_reference(reference: Any) -> str:
    """The treasury's reference for the transfer, stripped: 1–64 printable characters."""
    text = reference.strip() if isinstance(reference, str) else ""
    if not text or len(text) > MAX_TREASURY_REFERENCE or not text.isprintable():
        raise RuleViolation(
            "invalid_treasury_reference",
            "A treasury reference of 1 to 64 printable characters is required.",
            errors=[{"field": "treasury_reference", "message": "1 to 64 printable characters"}],
        )
    return text


def check_idempotency_key(key: str | None) -> str:
    """The payment request's Idempotency-Key, stripped: 1–200 printable characters."""
    text = (key or "").strip()
    if not text or len(text) > MAX_IDEMPOTENCY_KEY or not text.isprintable():
        raise RuleViolation(
            "invalid_idempotency_key",
            "Send an Idempotency-Key header of 1 to 200 printable characters (a UUID is a good one).",
            errors=[{"field": "Idempotency-Key", "message": "1 to 200 printable characters"}],
        )
    return text


def check_key_replays_its_payment(paid: tuple[Hashable, Hashable], asked: tuple[Hashable, Hashable]) -> None:
    """A key already used returns its payment only when asked again for the same (contract,
    milestone); for another milestone it is refused rather than silently paying nothing."""
    if paid != asked:
        raise conflict(
            "idempotency_key_reused",
            "This Idempotency-Key was already used for another milestone's payment.",
        )


def check_appeal_window_closed(now: datetime, appeal_deadline: datetime) -> None:
    """A milestone is paid only once the vendor's appeal window on its evaluation has closed
    (24:00 Beijing time of its 5th working day): until then the grade, and so the payout, may
    still change (`appeal_window_open`)."""
    if now < appeal_deadline:
        raise conflict(
            "appeal_window_open",
            "The vendor may still appeal the evaluation until "
            f"{appeal_deadline.isoformat()}; the milestone is paid once that window has closed.",
        )


def check_payee(payee_org_id: Hashable, vendor_org_id: Hashable) -> None:
    """The contracted vendor is the only payee: no transfer of the whole contract (转包, Art. 23)."""
    if str(payee_org_id) != str(vendor_org_id):
        raise RuleViolation(
            "payee_must_be_vendor",
            "Payments go to the contracted vendor only.",
            errors=[{"field": "payee_org_id", "message": "must be the contract's vendor"}],
        )


@dataclass(frozen=True)
class PaymentDecision:
    """What a milestone's payment is: `amount + withheld_amount` = the milestone amount."""

    amount: Decimal
    withheld_amount: Decimal
    payout_ratio: Decimal
    grade: Grade
    total_score: Decimal


def decide_payment(
    milestone_amount: Decimal,
    milestone_status: MilestoneStatus | str,
    evaluation: tuple[EvaluationStatus | str, Decimal | None, Grade | str | None] | None,
    bands: Sequence[PaymentBand | Mapping[str, Any]],
    *,
    appeal_pending: bool = False,
) -> PaymentDecision:
    """Decide a milestone's payment from its accepted evaluation and the payment rule.

    `evaluation` is the milestone's current evaluation as (status, total_score, grade), or
    None if none was commissioned; after an upheld appeal it is the re-evaluation.
    """
    status = MilestoneStatus(milestone_status)
    if status is MilestoneStatus.CANCELLED:
        raise conflict("milestone_cancelled", "This milestone was cancelled and will not be paid.")
    if status is MilestoneStatus.PAID:
        raise conflict("milestone_already_paid", "This milestone has already been paid.")
    if evaluation is None or EvaluationStatus(evaluation[0]) is not EvaluationStatus.ACCEPTED:
        state = "none" if evaluation is None else EvaluationStatus(evaluation[0]).value
        raise conflict(
            "evaluation_required",
            f"A payment needs an accepted evaluation of the milestone (evaluation: {state}).",
        )
    if appeal_pending:
        raise conflict("appeal_pending", "An appeal against the milestone's evaluation is pending.")
    _, score, grade = evaluation
    if score is None:
        raise conflict("evaluation_required", "The accepted evaluation has no total score.")
    amount = _money(milestone_amount, code="invalid_amount", field="milestone_amount", positive=False)
    total = Decimal(score)
    ratio = payout_ratio(bands, total)
    paid = to_fen(amount * ratio)
    return PaymentDecision(
        amount=paid,
        withheld_amount=amount - paid,
        payout_ratio=ratio,
        grade=Grade(grade) if grade is not None else grade_for(total),
        total_score=total,
    )


class ContractPosition(NamedTuple):
    """paid + withheld + remaining + cancelled = contract amount (original plus amendments)."""

    paid: Decimal
    withheld: Decimal
    remaining: Decimal
    cancelled: Decimal


def contract_position(
    contract_amount: Decimal,
    milestones: Iterable[tuple[Decimal, MilestoneStatus | str, Decimal | None, Decimal | None]],
) -> ContractPosition:
    """Where a contract's money stands.

    `milestones` are (amount, status, paid_amount, withheld_amount); paid covers payments
    decided, confirmed or not. `contract_amount` is the current amount, amendments included,
    which the milestone amounts add up to; `remaining` is then what open milestones commit.
    """
    paid = withheld = cancelled = ZERO
    for amount, status, paid_amount, withheld_amount in milestones:
        paid += Decimal(paid_amount or 0)
        withheld += Decimal(withheld_amount or 0)
        if MilestoneStatus(status) is MilestoneStatus.CANCELLED:
            cancelled += Decimal(amount)
    remaining = Decimal(contract_amount) - paid - withheld - cancelled
    if remaining < 0:
        # Milestones that settle more than the contract is worth mean the stored data is wrong.
        raise ValueError(f"contract position is inconsistent: remaining would be {remaining}")
    return ContractPosition(to_fen(paid), to_fen(withheld), to_fen(remaining), to_fen(cancelled))


# --- payment terms for SMEs (保障中小企业款项支付条例, 国务院令第802号) ------------------------

#: 国务院令第802号 Art. 8: 机关、事业单位从中小企业采购货物、工程、服务，应当自货物、工程、服务交付之日起
#: 30日内支付款项; Art. 9: where payment depends on acceptance (验收), the term runs from the
#: acceptance — here the accepted evaluation, once its appeal window has closed (no payment
#: may be made before: `appeal_window_open`).
SME_PAYMENT_DAYS = 30
SME_DECLARATIONS = frozenset({"medium", "small", "micro", "prison_enterprise", "disability_welfare_unit"})


def payment_due_on(vendor_sme_declaration: str | None, appeal_deadline: datetime | None) -> date | None:
    """When the milestone's payment is due: for a vendor that declared itself an SME, 30 days
    after the last day of the accepted evaluation's appeal window; otherwise no statutory date
    (the contract sets none)."""
    if vendor_sme_declaration not in SME_DECLARATIONS or appeal_deadline is None:
        return None
    return last_day(appeal_deadline) + timedelta(days=SME_PAYMENT_DAYS)


def is_payment_overdue(due: date | None, payment_status: str | None, today: date) -> bool:
    """Overdue once the due date has passed with no payment confirmed by the treasury."""
    return due is not None and today > due and payment_status != "confirmed"
