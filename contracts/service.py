"""Contracts service: contracts from awards, signing, amendments, termination, deliverables and
payments — each state change checked by `contracts.rules`, audited and versioned in one
transaction, with the budget line moved through planning's budget functions in the same
transaction.

Locks are always taken in one order — contract, then its milestones, then (inside planning)
the budget line, then the audit chain — so concurrent requests queue rather than deadlock.
Reads of evaluations are plain SQL on the evaluation domain's tables (evaluation's service
imports this one, never the other way round).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from contracts import rules
from contracts.rules import DEFAULT_PAYMENT_RULE, as_dicts, from_dicts, validate_payment_rule
from contracts.schemas import (
    SignCreate,
    BudgetYearRead,
    AmendmentCreate,
    AmendmentRead,
    AmendmentShare,
    BudgetLinePerformance,
    ContractCreate,
    ContractPerformance,
    ContractTargetRead,
    ContractRead,
    ContractSummary,
    DeliverableCreate,
    DeliverableRead,
    LatePayment,
    MilestoneRead,
    PaymentBandRead,
    PaymentConfirm,
    PaymentRead,
    PerformanceFigures,
    TerminationCreate,
)
from govbuy import audit, clock, documents
from govbuy import service as kernel
from govbuy import database as db
from govbuy.audit import Actor
from govbuy.errors import NotFound, check_if_match
from govbuy.pagination import Page, check_limit, page, typed_cursor
from govbuy.rules import RuleViolation, conflict, local_date, region_prefix
from planning import service as planning
from procurement import service as procurement
from vendors import service as vendors

ZERO = Decimal("0.00")
READ_ALL_ROLES = frozenset({"admin", "supervisor"})


# --- visibility ---------------------------------------------------------------------------------


def visible_clause(actor: Actor, alias: str, param: int) -> str:
    """SQL condition that contract `alias` is visible to the actor, whose organisation id is
    the query's parameter `$param` (DESIGN §1: bureau and vendor their own contracts, an
    evaluator those it was commissioned on, supervisors and admins everything)."""
    if actor.role in READ_ALL_ROLES:
        return f"(${param}::uuid IS NOT NULL)"
    if actor.role == "bureau":
        return f"({alias}.bureau_id = ${param})"
    if actor.role == "vendor":
        return f"({alias}.vendor_id = ${param})"
    if actor.role == "evaluator":
        from evaluation import service as evaluation

        return (
            f"EXISTS (SELECT 1 FROM {evaluation.evaluations_sql()} ev WHERE ev.contract_id = {alias}.id "
            f"AND ev.evaluator_id = ${param})"
        )
    return "false"


async def _contract_row(actor: Actor, contract_id: UUID, *, lock: bool = False) -> Any:
    row = await db.fetchrow(
        f"SELECT c.* FROM contracts c WHERE c.id = $1 AND {visible_clause(actor, 'c', 2)}"
        + (" FOR UPDATE OF c" if lock else ""),
        contract_id,
        actor.organisation_id,
    )
    if row is None:
        raise NotFound("contract", contract_id)
    return row


async def _own_contract(actor: Actor, contract_id: UUID, *, lock: bool = True) -> Any:
    """The contract, locked, if the actor is a party to it (the bureau or the vendor); else 404."""
    row = await _contract_row(actor, contract_id, lock=lock)
    party_org = row["bureau_id"] if actor.role == "bureau" else row["vendor_id"] if actor.role == "vendor" else None
    if party_org != actor.organisation_id:
        raise NotFound("contract", contract_id)
    return row


async def contracts_visible(actor: Actor, contract_ids: Sequence[UUID]) -> bool:
    """Whether the actor may see any of these contracts (documents attached to deliverables)."""
    return bool(
        await db.fetchval(
            f"SELECT 1 FROM contracts c WHERE c.id = ANY($1::uuid[]) AND {visible_clause(actor, 'c', 2)} LIMIT 1",
            list(contract_ids),
            actor.organisation_id,
        )
    )


async def deliverables_visible(actor: Actor, deliverable_ids: Sequence[UUID]) -> bool:
    """Whether the actor may see the deliverables' contracts (documents linked to a deliverable
    are visible to whoever may see its contract — an evaluator only those of the milestones it
    was commissioned on; the app factory registers this)."""
    rows = await db.fetch(
        "SELECT DISTINCT contract_id, milestone_id FROM deliverables WHERE id = ANY($1::uuid[])", list(deliverable_ids)
    )
    if not rows or not await contracts_visible(actor, [r["contract_id"] for r in rows]):
        return False
    if actor.role != "evaluator":
        return True
    mine = set().union(*[await _evaluator_milestones(actor, c) for c in {r["contract_id"] for r in rows}])
    return any(r["milestone_id"] in mine for r in rows)


async def _evaluator_milestones(actor: Actor, contract_id: UUID) -> set[UUID]:
    """The milestones of a contract an evaluator was commissioned on: all it may see of its
    deliverables and payments (the rest of the contract's performance is none of its business)."""
    from evaluation import service as evaluation

    return {
        r["milestone_id"]
        for r in await db.fetch(
            f"SELECT DISTINCT milestone_id FROM {evaluation.evaluations_sql()} e WHERE e.contract_id = $1 AND e.evaluator_id = $2",
            contract_id, actor.organisation_id,
        )
    }


# --- reads ---------------------------------------------------------------------------------------


def _bands(row: Any) -> list[Any]:
    return list(from_dicts(row["payment_rule"]))


async def _milestone_reads(actor: Actor, contract: Any, today: date) -> tuple[list[MilestoneRead], list[Any]]:
    from evaluation import service as evaluation

    rows = await db.fetch(
        f"""SELECT m.*, p.id AS payment_id, p.amount AS paid_amount, p.withheld_amount, p.status AS payment_status,
                  e.id AS evaluation_id, e.status AS evaluation_status, e.grade, e.evaluator_id, e.appeal_deadline,
                  (SELECT year FROM {planning.budget_lines_sql()} bl WHERE bl.id = $2) AS line_year
           FROM milestones m
           LEFT JOIN payments p ON p.milestone_id = m.id
           LEFT JOIN {evaluation.evaluations_sql()} e ON e.milestone_id = m.id AND e.superseded_at IS NULL
           WHERE m.contract_id = $1 ORDER BY m.sequence""",
        contract["id"],
        contract["budget_line_id"],
    )
    lines = milestone_lines(contract, rows)
    result = []
    for r in rows:
        # An evaluator sees the payment of the milestones it evaluates only.
        own_payment = actor.role != "evaluator" or r["evaluator_id"] == actor.organisation_id
        # A vendor sees its evaluations once accepted; an evaluator only its own.
        show_evaluation = r["evaluation_id"] is not None and (
            actor.role not in ("vendor", "evaluator")
            or (actor.role == "vendor" and r["evaluation_status"] == "accepted")
            or (actor.role == "evaluator" and r["evaluator_id"] == actor.organisation_id)
        )
        delivered_on = local_date(r["delivered_at"]) if r["delivered_at"] else None
        payment_due = rules.payment_due_on(
            contract["vendor_sme_declaration"], r["appeal_deadline"] if r["evaluation_status"] == "accepted" else None
        )
        result.append(
            MilestoneRead(
                id=r["id"],
                sequence=r["sequence"],
                title=r["title"],
                percentage=r["percentage"],
                amount=r["amount"],
                original_amount=r["original_amount"],
                due_offset_days=r["due_offset_days"],
                due_date=r["due_date"],
                budget_line_id=lines[r["id"]],
                status=r["status"],
                overdue=r["status"] != "cancelled" and rules.is_overdue(r["due_date"], delivered_on, today),
                delivered_at=r["delivered_at"],
                cancelled_at=r["cancelled_at"],
                evaluation_id=r["evaluation_id"] if show_evaluation else None,
                evaluation_status=r["evaluation_status"] if show_evaluation else None,
                grade=r["grade"] if show_evaluation and r["evaluation_status"] == "accepted" else None,
                payment_id=r["payment_id"] if own_payment else None,
                paid_amount=r["paid_amount"] if own_payment else None,
                withheld_amount=r["withheld_amount"] if own_payment else None,
                payment_due_on=payment_due if own_payment else None,
                payment_overdue=own_payment and rules.is_payment_overdue(payment_due, r["payment_status"], today),
            )
        )
    return result, rows


def milestone_lines(contract: Any, milestones: Sequence[Any]) -> dict[UUID, UUID | None]:
    """The budget line paying each milestone: the one named for its budget year if the contract
    is multi-year, else the contract's own; None for a later year not yet named. `milestones`
    carry `line_year`, the year of the contract's own line."""
    own_year = milestones[0]["line_year"] if milestones else None
    return {
        m["id"]: m["budget_line_id"]
        or (contract["budget_line_id"] if rules.budget_year_of(contract["recurring"], own_year, m["due_date"]) == own_year
            else None)
        for m in milestones
    }


def budget_years(contract: Any, milestones: Sequence[Any]) -> list[BudgetYearRead]:
    """Each budget year's share of the contract (current milestone amounts) and its line."""
    if not milestones:
        return []
    own_year = milestones[0]["line_year"]
    lines = milestone_lines(contract, milestones)
    shares = rules.budget_year_shares(contract["recurring"], own_year, [(m["due_date"], m["amount"]) for m in milestones])
    line_of = {rules.budget_year_of(contract["recurring"], own_year, m["due_date"]): lines[m["id"]] for m in milestones}
    return [BudgetYearRead(year=y, budget_line_id=line_of[y], amount=amount) for y, amount in shares.items()]


async def _contract_read(actor: Actor, row: Any) -> ContractRead:
    today = await clock.today()
    milestones, rows = await _milestone_reads(actor, row, today)
    position = rules.contract_position(
        row["amount"],
        [(r["amount"], r["status"], r["paid_amount"], r["withheld_amount"]) for r in rows],
    )
    return ContractRead(
        id=row["id"],
        tender_id=row["tender_id"],
        bid_id=row["bid_id"],
        title=row["title"],
        bureau_id=row["bureau_id"],
        vendor_id=row["vendor_id"],
        payee_id=row["payee_id"],
        budget_line_id=row["budget_line_id"],
        status=row["status"],
        original_amount=row["original_amount"],
        amount=row["amount"],
        amended_amount=row["amount"] - row["original_amount"],
        amendment_headroom=rules.amendment_limit(row["original_amount"]) - (row["amount"] - row["original_amount"]),
        paid=position.paid,
        withheld=position.withheld,
        remaining=position.remaining,
        cancelled=position.cancelled,
        contract_months=row["contract_months"],
        recurring=row["recurring"],
        start_date=row["start_date"],
        end_date=row["end_date"],
        payment_rule=[PaymentBandRead.model_validate(b, from_attributes=True) for b in _bands(row)],
        payment_rule_source=row["payment_rule_source"],
        bureau_signed_at=row["bureau_signed_at"],
        vendor_signed_at=row["vendor_signed_at"],
        activated_at=row["activated_at"],
        completed_at=row["completed_at"],
        terminated_at=row["terminated_at"],
        termination_reason=row["termination_reason"],
        terminated_for_cause=row["terminated_for_cause"],
        created_at=row["created_at"],
        version=row["version"],
        milestones=milestones,
        budget_years=budget_years(row, rows),
        performance_targets=await target_reads(row),
    )


async def latest_reports(contract_ids: Sequence[UUID]) -> dict[UUID, list[tuple[int, dict[str, Any]]]]:
    """Each milestone's latest deliverable figures, by contract, as (milestone sequence, figures):
    one read for any number of contracts."""
    reports: dict[UUID, list[tuple[int, dict[str, Any]]]] = {}
    if not contract_ids:
        return reports
    for r in await db.fetch(
        """SELECT DISTINCT ON (d.milestone_id) d.contract_id, m.sequence, d.figures
           FROM deliverables d JOIN milestones m ON m.id = d.milestone_id
           WHERE d.contract_id = ANY($1::uuid[]) ORDER BY d.milestone_id, d.submitted_at DESC, d.id DESC""",
        list(set(contract_ids)),
    ):
        reports.setdefault(r["contract_id"], []).append((r["sequence"], r["figures"]))
    return reports


def targets_reported(
    performance_targets: Any, reports: Sequence[tuple[int, dict[str, Any]]], through_sequence: int | None = None
) -> list[ContractTargetRead]:
    """The targets with what the reports say against them (with `through_sequence`, only the
    milestones up to that one: what an evaluation of it judges)."""
    targets = rules.targets_from_dicts(performance_targets)
    reported = rules.reported_values(
        targets, [figures for sequence, figures in reports if through_sequence is None or sequence <= through_sequence]
    )
    return [
        ContractTargetRead(**t.as_dict(), reported=reported.get(t.indicator), met=t.met(reported.get(t.indicator)))
        for t in targets
    ]


async def target_reads(contract: Any) -> list[ContractTargetRead]:
    """The contract's targets with their reported values: each milestone's latest deliverable."""
    if not contract["performance_targets"]:
        return []
    reports = (await latest_reports([contract["id"]])).get(contract["id"], [])
    return targets_reported(contract["performance_targets"], reports)


async def get_contract(actor: Actor, contract_id: UUID) -> ContractRead:
    return await _contract_read(actor, await _contract_row(actor, contract_id))


async def list_contracts(
    actor: Actor,
    status: str | None,
    tender_id: UUID | None,
    limit: int | None,
    cursor: str | None,
) -> Page[ContractSummary]:
    limit = check_limit(limit)
    after_at, after_id = typed_cursor(cursor, datetime, UUID)
    rows = await db.fetch(
        f"""SELECT c.id, c.tender_id, c.title, c.bureau_id, c.vendor_id, c.status, c.amount, c.start_date,
                   c.end_date, c.created_at, c.version
            FROM contracts c
            WHERE {visible_clause(actor, 'c', 1)}
              AND ($2::text IS NULL OR c.status = $2)
              AND ($3::uuid IS NULL OR c.tender_id = $3)
              AND ($4::timestamptz IS NULL OR (c.created_at, c.id) < ($4, $5::uuid))
            ORDER BY c.created_at DESC, c.id DESC LIMIT $6""",
        actor.organisation_id,
        status,
        tender_id,
        after_at,
        after_id,
        limit + 1,
    )
    return page(rows, limit, lambda r: (r["created_at"], r["id"]), lambda r: ContractSummary.model_validate(dict(r)))


# --- performance fed back to the budget (预算法 Art. 32, 财库〔2021〕22号) ------------------------------

_GRADES = ("excellent", "good", "fair", "poor")


async def contract_performance(where: str, *args: Any) -> list[dict[str, Any]]:
    """Per signed contract matching `where` (on c.*): money, accepted evaluations in force,
    grades, and targets met — by the evaluators' latest verified values, else by the latest
    reports — three set-based reads however many contracts."""
    from evaluation import service as evaluation

    rows = await db.fetch(
        f"""SELECT c.id, c.title, c.vendor_id, o.name AS vendor_name, c.status, c.amount, c.performance_targets,
                   coalesce(p.paid, 0) AS paid, coalesce(p.withheld, 0) AS withheld,
                   coalesce(e.evaluations, 0) AS evaluations, e.score_sum, coalesce(e.grades, '{{}}') AS grades
            FROM contracts c
            JOIN organisations o ON o.id = c.vendor_id
            LEFT JOIN (SELECT contract_id, sum(amount) AS paid, sum(withheld_amount) AS withheld
                       FROM payments GROUP BY contract_id) p ON p.contract_id = c.id
            LEFT JOIN (SELECT contract_id, count(*) AS evaluations, sum(total_score) AS score_sum,
                              jsonb_object_agg(grade, n) AS grades
                       FROM (SELECT contract_id, grade, count(*) AS n, sum(total_score) AS total_score
                             FROM {evaluation.evaluations_sql()} ev
                             WHERE ev.status = 'accepted' AND ev.superseded_at IS NULL GROUP BY contract_id, grade) g
                       GROUP BY contract_id) e ON e.contract_id = c.id
            WHERE c.status <> 'draft' AND {where}
            ORDER BY c.created_at, c.id""",
        *args,
    )
    reports = await latest_reports([r["id"] for r in rows if r["performance_targets"]])
    verified: dict[UUID, dict[str, Decimal]] = {}
    for r in await db.fetch(
        f"""SELECT ev.contract_id, ev.target_results FROM {evaluation.evaluations_sql()} ev
            WHERE ev.contract_id = ANY($1::uuid[]) AND ev.status = 'accepted' AND ev.superseded_at IS NULL
            ORDER BY ev.accepted_at, ev.id""",
        [r["id"] for r in rows if r["performance_targets"]],
    ):  # the latest verification of each target stands
        verified.setdefault(r["contract_id"], {}).update({k: Decimal(str(v)) for k, v in (r["target_results"] or {}).items()})
    result = []
    for r in rows:
        targets = rules.targets_from_dicts(r["performance_targets"])
        # What the evaluator verified, else what the deliverables reported.
        figures = [f for _, f in reports.get(r["id"], [])]
        reported = rules.reported_values(targets, figures) | verified.get(r["id"], {})
        counts = {g: int((r["grades"] or {}).get(g, 0)) for g in _GRADES}
        result.append({
            **{k: r[k] for k in ("title", "vendor_id", "vendor_name", "status", "amount", "paid", "withheld", "evaluations")},
            "contract_id": r["id"],
            "score_sum": r["score_sum"],
            "grades": counts,
            "targets_met": sum(1 for t in targets if t.met(reported.get(t.indicator))),
            "targets_total": len(targets),
        })
    return result


def performance_totals(lines: list[dict[str, Any]]) -> PerformanceFigures:
    """The figures of some of `contract_performance`'s lines together."""
    evaluations = sum(x["evaluations"] for x in lines)
    scores = sum((x["score_sum"] or Decimal(0) for x in lines), Decimal(0))
    return PerformanceFigures(
        contracts=len(lines),
        amount=sum((x["amount"] for x in lines), Decimal("0.00")),
        paid=sum((x["paid"] for x in lines), Decimal("0.00")),
        withheld=sum((x["withheld"] for x in lines), Decimal("0.00")),
        evaluations=evaluations,
        average_score=(scores / evaluations).quantize(Decimal("0.01")) if evaluations else None,
        grades={g: sum(x["grades"][g] for x in lines) for g in _GRADES},
        targets_met=sum(x["targets_met"] for x in lines),
        targets_total=sum(x["targets_total"] for x in lines),
    )


async def budget_line_performance(actor: Actor, line_id: UUID) -> BudgetLinePerformance:
    """What the contracts on a budget line achieved: the evidence its next year's budget reads."""
    line = await planning.get_budget_line(actor, line_id)  # 404 unless the caller may read it
    lines = await contract_performance(
        "(c.budget_line_id = $1 OR EXISTS (SELECT 1 FROM milestones m WHERE m.contract_id = c.id AND m.budget_line_id = $1))",
        line_id,
    )
    return BudgetLinePerformance(
        budget_line_id=line.id, code=line.code, year=line.year, title=line.title, amount=line.amount,
        committed=line.committed, spent=line.spent, available=line.available,
        totals=performance_totals(lines),
        contracts=[ContractPerformance(**performance_totals([x]).model_dump() | {k: x[k] for k in (
            "contract_id", "title", "vendor_id", "vendor_name", "status")}) for x in lines],
    )


# --- late payments to SMEs (国务院令第802号) -------------------------------------------------------


async def list_late_payments(actor: Actor, limit: int | None, cursor: str | None) -> Page[LatePayment]:
    """Milestones whose payment to an SME vendor is past its due date with no confirmed payment,
    most overdue first: a bureau its own, the regulator its region's, supervisors and admins all."""
    from evaluation import service as evaluation

    limit = check_limit(limit)
    after_due, after_id = typed_cursor(cursor, date, UUID)
    today = await clock.today()
    where = db.Conditions(
        "c.vendor_sme_declaration IS NOT NULL",
        "m.status <> 'cancelled'",
        "p.status IS DISTINCT FROM 'confirmed'",
    )
    due = f"(((e.appeal_deadline - interval '1 microsecond') AT TIME ZONE 'Asia/Shanghai')::date + {rules.SME_PAYMENT_DAYS})"
    where.add(f"{due} < {{}}::date", today)
    if actor.role == "bureau":
        where.add("c.bureau_id = {}::uuid", actor.organisation_id)
    elif actor.role == "regulator":
        where.add("o.region_code LIKE {}::text", region_prefix(await kernel.region_of(actor.organisation_id) or "") + "%")
    elif actor.role not in READ_ALL_ROLES:
        return Page(items=[])
    if after_due is not None:
        where.add(f"({due}, m.id) > ({{}}::date, {{}}::uuid)", after_due, after_id)
    rows = await db.fetch(
        f"""SELECT c.id AS contract_id, c.title AS contract_title, c.bureau_id, c.vendor_id, c.vendor_sme_declaration,
                   m.id AS milestone_id, m.title AS milestone_title, m.amount, e.accepted_at, {due} AS payment_due_on,
                   p.id AS payment_id, p.status AS payment_status
            FROM contracts c
            JOIN organisations o ON o.id = c.bureau_id
            JOIN milestones m ON m.contract_id = c.id
            JOIN {evaluation.evaluations_sql()} e ON e.milestone_id = m.id AND e.superseded_at IS NULL AND e.status = 'accepted'
            LEFT JOIN payments p ON p.milestone_id = m.id
            WHERE {where}
            ORDER BY payment_due_on, m.id LIMIT {where.param(limit + 1)}""",
        *where.args,
    )
    return page(
        rows,
        limit,
        lambda r: (r["payment_due_on"], r["milestone_id"]),
        lambda r: LatePayment(**dict(r), days_late=(today - r["payment_due_on"]).days),
    )


# --- creation and signing ---------------------------------------------------------------------


async def create_contract(actor: Actor, data: ContractCreate) -> ContractRead:
    """Create the contract of an awarded tender whose standstill has passed (bureau)."""
    today = await clock.today()
    if data.start_date < today:
        raise RuleViolation(
            "start_date_in_past",
            f"The contract cannot start before today ({today}).",
            errors=[{"field": "start_date", "message": f"on or after {today}"}],
        )
    async with db.transaction():
        award = await procurement.award_for_contract(data.tender_id, actor.organisation_id)
        if await db.fetchval("SELECT 1 FROM contracts WHERE tender_id = $1", data.tender_id):
            raise conflict("contract_already_exists", "This tender already has its contract.")
        rules.check_contract_term(award.contract_months, recurring=award.recurring)
        if award.payment_rule:
            bands, source = validate_payment_rule(award.payment_rule), "tender"
        else:
            bands, source = DEFAULT_PAYMENT_RULE, "default"
        plan = [(title, Decimal(pct), int(offset)) for title, pct, offset in award.milestones]
        split = rules.split_milestones(award.price, plan, data.start_date)
        title = award.title or ""
        contract_id = uuid4()
        now = await clock.now()
        await db.execute(
            """INSERT INTO contracts (id, tender_id, bid_id, bureau_id, vendor_id, payee_id, budget_line_id, title,
                                      reserved_amount, original_amount, amount, contract_months, recurring,
                                      start_date, end_date, payment_rule, payment_rule_source, status,
                                      created_by, created_at, vendor_sme_declaration, performance_targets)
               VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8, $9, $9, $10, $11, $12, $13, $14, $15, 'draft', $16, $17,
                       $18, $19)""",
            contract_id,
            award.tender_id,
            award.bid_id,
            award.bureau_id,
            award.vendor_id,
            award.budget_line_id,
            title[:200],
            award.ceiling_amount,
            split_total(split),
            award.contract_months,
            award.recurring,
            data.start_date,
            rules.contract_end_date(data.start_date, award.contract_months),
            as_dicts(bands),
            source,
            actor.user_id,
            now,
            award.sme_declaration,
            list(award.performance_targets),
        )
        await db.executemany(
            """INSERT INTO milestones (id, contract_id, sequence, title, percentage, original_amount, amount,
                                       due_offset_days, due_date, status)
               VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8, 'pending')""",
            [
                (uuid4(), contract_id, m.sequence, m.title, m.percentage, m.amount, m.due_offset_days, m.due_date)
                for m in split
            ],
        )
        result = await _contract_read(actor, await _contract_row(actor, contract_id))
        await audit.record(actor, "contract.created", "contract", contract_id, after=result.model_dump())
    return result


def split_total(split: Sequence[rules.MilestoneAmount]) -> Decimal:
    return sum((m.amount for m in split), ZERO)


def _signatures(row: Any) -> rules.SignatureState:
    return rules.SignatureState(row["bureau_signed_at"], row["vendor_signed_at"])


async def sign_contract(
    actor: Actor, contract_id: UUID, data: SignCreate | None, if_match: str | None
) -> ContractRead:
    """The bureau or the vendor signs; the second signature makes the contract active and turns
    the tender's budget reservation into the contract's commitment. The bureau's signature of a
    multi-year contract names each later year's line and reserves that year's share on it
    (102号令 Art. 24); activation commits it."""
    async with db.transaction():
        row = await _own_contract(actor, contract_id)
        check_if_match(if_match, row["version"])
        before = await _contract_read(actor, row)
        rules.ensure_signable(row["status"])
        now = await clock.now()
        party = rules.Party.BUREAU if actor.role == "bureau" else rules.Party.VENDOR
        state = rules.record_signature(_signatures(row), party, now)
        activated = rules.is_fully_signed(state)
        if activated:
            rules.check_contract_transition(row["status"], rules.ContractStatus.ACTIVE)
        milestones = await _locked_milestones(contract_id)
        own_year = await planning.budget_line_year(row["bureau_id"], row["budget_line_id"])
        shares = rules.budget_year_shares(row["recurring"], own_year, [(m["due_date"], m["amount"]) for m in milestones])
        chosen = data.budget_lines if data else []
        if party is rules.Party.VENDOR and chosen:
            raise RuleViolation(
                "invalid_budget_years", "Only the bureau names budget lines.",
                errors=[{"field": "budget_lines", "message": "the bureau's, at its signature"}],
            )
        later = {}
        if party is rules.Party.BUREAU:
            named = [
                rules.ChosenLine(c.year, c.budget_line_id, await planning.budget_line_year(row["bureau_id"], c.budget_line_id))
                for c in chosen
            ]
            later = rules.check_budget_years(own_year, shares, named)
        else:
            later = {
                rules.budget_year_of(True, own_year, m["due_date"]): m["budget_line_id"]
                for m in milestones if m["budget_line_id"] is not None
            }
        # Every line this signature moves is locked before the first audit append (the order of
        # the module docstring), in year order.
        await planning.lock_budget_lines([row["budget_line_id"], *(later[y] for y in sorted(later))])
        await db.execute(
            f"""UPDATE contracts SET {party.value}_signed_at = $2, {party.value}_signed_by = $3,
                       status = $4, activated_at = $5, version = version + 1
                WHERE id = $1""",
            contract_id,
            now,
            actor.user_id,
            "active" if activated else row["status"],
            rules.fully_signed_at(state) if activated else None,
        )
        if party is rules.Party.BUREAU:
            await _reserve_later_years(actor, contract_id, milestones, own_year, shares, later, now)
        if activated:
            # The tender is contracted and its reservation becomes the contract's commitment;
            # each later year's reservation becomes that year's commitment.
            await procurement.mark_contracted(actor, row["tender_id"])
            await _commit_own_line(actor, row, shares.get(own_year, ZERO), now)
            for year in sorted(later):
                await planning.commit_budget(
                    actor, later[year], shares[year], shares[year], contract_id=contract_id, budget_year=year
                )
        after = await _contract_read(actor, await _contract_row(actor, contract_id))
        await audit.record(
            actor, "contract.signed", "contract", contract_id,
            before=before.model_dump(), after={"party": party.value, **after.model_dump()},
        )
        if activated:
            await audit.record(
                actor, "contract.activated", "contract", contract_id,
                after={"amount": after.amount, "budget_line_id": after.budget_line_id, "committed": after.amount,
                       "budget_years": [y.model_dump() for y in after.budget_years]},
            )
    return after


async def _commit_own_line(actor: Actor, row: Any, share: Decimal, now: datetime) -> None:
    """The tender's reservation becomes the commitment of the milestones its line's year pays;
    a multi-year contract paying nothing in that year gives the whole reservation back."""
    if share > 0:
        await planning.commit_budget(actor, row["budget_line_id"], row["reserved_amount"], share, contract_id=row["id"])
        return
    move = await planning.release_budget(row["budget_line_id"], row["reserved_amount"], now)
    await planning.audit_budget_move(actor, "released", move, contract_id=row["id"])


async def _reserve_later_years(
    actor: Actor,
    contract_id: UUID,
    milestones: Sequence[Any],
    own_year: int,
    shares: dict[int, Decimal],
    later: dict[int, UUID],
    now: datetime,
) -> None:
    """Reserve each later year's share on the line the bureau named (`budget_insufficient`, with
    the year, when it cannot carry it) and record the line on that year's milestones."""
    for year in sorted(later):
        try:
            move = await planning.reserve_budget(later[year], shares[year], now)
        except RuleViolation as error:
            if error.code != "budget_insufficient":
                raise
            raise conflict(
                "budget_insufficient", f"the {year} budget line cannot carry {shares[year]} due in {year}: {error.detail}"
            ) from None
        await planning.audit_budget_move(actor, "reserved", move, contract_id=contract_id, budget_year=year)
    await db.executemany(
        "UPDATE milestones SET budget_line_id = $2, version = version + 1 WHERE id = $1",
        [
            (m["id"], later[year])
            for m in milestones
            if (year := rules.budget_year_of(True, own_year, m["due_date"])) in later
        ],
    )


# --- amendments and termination -----------------------------------------------------------------


async def _locked_milestones(contract_id: UUID) -> list[Any]:
    return await db.fetch(
        "SELECT * FROM milestones WHERE contract_id = $1 ORDER BY sequence FOR UPDATE", contract_id
    )


def _by_line(contract: Any, milestones: Sequence[Any], amounts: dict[UUID, Decimal]) -> dict[UUID, Decimal]:
    """Amounts of some of an active contract's milestones summed by the budget line paying each
    (its later year's, or the contract's own), the non-zero ones, in the lines' year order (the
    milestones' order)."""
    totals: dict[UUID, Decimal] = {}
    for m in milestones:
        if m["id"] in amounts:
            line_id = m["budget_line_id"] or contract["budget_line_id"]
            totals[line_id] = totals.get(line_id, ZERO) + amounts[m["id"]]
    return {line_id: amount for line_id, amount in totals.items() if amount > 0}


async def add_amendment(actor: Actor, contract_id: UUID, data: AmendmentCreate, if_match: str | None) -> AmendmentRead:
    """A supplementary agreement (补充合同) on an active contract. An increase (at most 10 % of the
    original in total, 政府采购法 Art. 49) is spread over the open milestones and committed on
    their budget lines; new performance targets (民法典 Art. 543: changed by agreement) replace
    the contract's from now on."""
    increase = data.increase or ZERO
    if increase == 0 and data.performance_targets is None:
        raise RuleViolation(
            "invalid_amendment", "An amendment adds to the amount, changes the performance targets, or both.",
            errors=[{"field": "increase", "message": "a positive amount, or performance_targets"}],
        )
    targets = None
    if data.performance_targets is not None:
        targets = [t.as_dict() for t in rules.validate_targets([t.model_dump() for t in data.performance_targets])]
    async with db.transaction():
        row = await _own_contract(actor, contract_id)
        check_if_match(if_match, row["version"])
        rules.ensure_contract_active(row["status"])
        shares: list[rules.MilestoneIncrease] = []
        if increase > 0:
            shares = await _spread_increase(actor, row, increase)
        new_amount = row["amount"] + increase
        await db.execute(
            """UPDATE contracts SET amount = $2, performance_targets = coalesce($3, performance_targets),
                      version = version + 1
               WHERE id = $1""",
            contract_id, new_amount, targets,
        )
        amendment = AmendmentRead(
            id=uuid4(),
            contract_id=contract_id,
            increase=increase,
            amount_before=row["amount"],
            amount_after=new_amount,
            reason=data.reason,
            shares=[AmendmentShare(milestone_id=s.id, added=s.added, new_amount=s.new_amount) for s in shares],
            targets_before=list(row["performance_targets"] or []) if targets is not None else None,
            targets_after=targets,
            created_by=actor.user_id,
            created_at=await clock.now(),
        )
        await db.execute(
            """INSERT INTO amendments (id, contract_id, increase, amount_before, amount_after, reason, shares,
                                       targets_before, targets_after, created_by, created_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)""",
            amendment.id,
            contract_id,
            amendment.increase,
            amendment.amount_before,
            amendment.amount_after,
            amendment.reason,
            [s.model_dump() for s in amendment.shares],
            list(row["performance_targets"] or []) if targets is not None else None,
            targets,
            actor.user_id,
            amendment.created_at,
        )
        await audit.record(actor, "contract.amended", "contract", contract_id, after=amendment.model_dump())
    return amendment


async def _spread_increase(actor: Actor, row: Any, increase: Decimal) -> list[rules.MilestoneIncrease]:
    """Spread an increase over the open milestones and commit it on their budget lines."""
    rules.check_amendment(row["original_amount"], row["amount"] - row["original_amount"], increase)
    milestones = await _locked_milestones(row["id"])
    shares = rules.apply_amendment([(m["id"], m["amount"], m["status"]) for m in milestones], increase)
    added = _by_line(row, milestones, {s.id: s.added for s in shares})
    await planning.lock_budget_lines(list(added))
    await db.executemany(
        "UPDATE milestones SET amount = $2, version = version + 1 WHERE id = $1",
        [(s.id, s.new_amount) for s in shares],
    )
    for line_id, amount in added.items():
        await planning.commit_extra_budget(actor, line_id, amount, contract_id=row["id"])
    return shares


async def list_amendments(actor: Actor, contract_id: UUID) -> list[AmendmentRead]:
    await _contract_row(actor, contract_id)
    rows = await db.fetch("SELECT * FROM amendments WHERE contract_id = $1 ORDER BY created_at, id", contract_id)
    return [AmendmentRead.model_validate(dict(r)) for r in rows]


async def terminate_contract(
    actor: Actor, contract_id: UUID, data: TerminationCreate, if_match: str | None
) -> ContractRead:
    """End a contract early: open milestones are cancelled and their commitment released;
    paid milestones stay as they are."""
    async with db.transaction():
        row = await _own_contract(actor, contract_id)
        check_if_match(if_match, row["version"])
        before = await _contract_read(actor, row)
        rules.check_contract_transition(row["status"], rules.ContractStatus.TERMINATED)
        milestones = await _locked_milestones(contract_id)
        outcome = rules.terminate([(m["id"], m["amount"], m["status"]) for m in milestones])
        cancelled = set(outcome.cancelled_ids)
        now = await clock.now()
        await db.execute(
            "UPDATE milestones SET status = 'cancelled', cancelled_at = $2, version = version + 1 WHERE id = ANY($1::uuid[])",
            list(outcome.cancelled_ids),
            now,
        )
        await db.execute(
            """UPDATE contracts SET status = 'terminated', terminated_at = $2, terminated_by = $3,
                      termination_reason = $4, terminated_for_cause = $5, version = version + 1
               WHERE id = $1""",
            contract_id,
            now,
            actor.user_id,
            data.reason,
            data.for_cause,
        )
        if row["status"] == rules.ContractStatus.ACTIVE and outcome.released_commitment > 0:
            released = _by_line(row, milestones, {m["id"]: m["amount"] for m in milestones if m["id"] in cancelled})
            await planning.lock_budget_lines(list(released))
            for line_id, amount in released.items():
                await planning.release_budget_commitment(actor, line_id, amount, contract_id=contract_id)
        elif row["status"] == rules.ContractStatus.DRAFT:
            # The later years' shares the bureau's signature reserved are given back.
            reserved = {m["id"]: m["amount"] for m in milestones if m["budget_line_id"] is not None}
            for line_id, amount in _by_line(row, milestones, reserved).items():
                move = await planning.release_budget(line_id, amount, now)
                await planning.audit_budget_move(actor, "released", move, contract_id=contract_id)
            # Never signed: the purchase is abandoned, so the tender is cancelled, which gives its
            # reservation back to the budget line.
            await procurement.cancel_tender(
                actor, row["tender_id"], f"contract terminated before it was signed: {data.reason}", None
            )
        after = await _contract_read(actor, await _contract_row(actor, contract_id))
        await audit.record(
            actor, "contract.terminated", "contract", contract_id,
            before=before.model_dump(),
            after={**after.model_dump(), "released_commitment": outcome.released_commitment},
        )
        await vendors.recompute_rating(actor, row["vendor_id"])
    return after


# --- deliverables ----------------------------------------------------------------------------------


async def _locked_milestone(contract_id: UUID, milestone_id: UUID) -> Any:
    row = await db.fetchrow(
        "SELECT * FROM milestones WHERE id = $1 AND contract_id = $2 FOR UPDATE", milestone_id, contract_id
    )
    if row is None:
        raise NotFound("milestone", milestone_id)
    return row


def _deliverable_read(row: Any, due_date: date) -> DeliverableRead:
    return DeliverableRead(
        id=row["id"],
        contract_id=row["contract_id"],
        milestone_id=row["milestone_id"],
        summary=row["summary"],
        figures={k: Decimal(str(v)) for k, v in row["figures"].items()},
        document_ids=list(row["document_ids"]),
        submitted_by=row["submitted_by"],
        submitted_at=row["submitted_at"],
        late=local_date(row["submitted_at"]) > due_date,
    )


async def submit_deliverable(
    actor: Actor, contract_id: UUID, milestone_id: UUID, data: DeliverableCreate
) -> DeliverableRead:
    """The vendor reports a milestone's work; the first report makes the milestone delivered.
    A milestone may be reported again (a corrected report) until it is evaluated."""
    deliverable = rules.validate_deliverable(data.summary, data.figures)
    async with db.transaction():
        contract = await _own_contract(actor, contract_id)
        rules.ensure_contract_active(contract["status"])
        milestone = await _locked_milestone(contract_id, milestone_id)
        status = rules.MilestoneStatus(milestone["status"])
        if status not in (rules.MilestoneStatus.PENDING, rules.MilestoneStatus.DELIVERED):
            raise conflict(
                "milestone_not_open",
                f"The milestone is {status.value}: its deliverable can no longer be submitted or changed.",
            )
        deliverable_id = uuid4()
        document_ids = await documents.attach(actor, data.document_ids, "deliverable", deliverable_id)
        now = await clock.now()
        row = await db.fetchrow(
            """INSERT INTO deliverables (id, contract_id, milestone_id, summary, figures, document_ids,
                                         submitted_by, submitted_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *""",
            deliverable_id,
            contract_id,
            milestone_id,
            deliverable.summary,
            {k: str(v) for k, v in deliverable.figures.items()},
            document_ids,
            actor.user_id,
            now,
        )
        first = status is rules.MilestoneStatus.PENDING
        if first:
            rules.check_milestone_transition(status, rules.MilestoneStatus.DELIVERED)
            await db.execute(
                "UPDATE milestones SET status = 'delivered', delivered_at = $2, version = version + 1 WHERE id = $1",
                milestone_id,
                now,
            )
        result = _deliverable_read(row, milestone["due_date"])
        await audit.record(actor, "deliverable.submitted", "deliverable", deliverable_id, after=result.model_dump())
        if first:
            await audit.record(
                actor, "milestone.delivered", "milestone", milestone_id,
                before={"status": status.value}, after={"status": "delivered", "delivered_at": now},
            )
            await vendors.recompute_rating(actor, contract["vendor_id"])
    return result


async def list_deliverables(actor: Actor, contract_id: UUID, milestone_id: UUID) -> list[DeliverableRead]:
    await _contract_row(actor, contract_id)
    milestone = await db.fetchrow(
        "SELECT due_date FROM milestones WHERE id = $1 AND contract_id = $2", milestone_id, contract_id
    )
    if milestone is None or (actor.role == "evaluator" and milestone_id not in await _evaluator_milestones(actor, contract_id)):
        raise NotFound("milestone", milestone_id)
    rows = await db.fetch(
        "SELECT * FROM deliverables WHERE milestone_id = $1 ORDER BY submitted_at, id", milestone_id
    )
    return [_deliverable_read(r, milestone["due_date"]) for r in rows]


# --- milestone transitions driven by evaluations ------------------------------------------------


async def lock_milestone_for_evaluation(actor: Actor, contract_id: UUID, milestone_id: UUID) -> tuple[Any, Any]:
    """The bureau's contract and one of its milestones, both locked (commissioning an evaluation)."""
    contract = await _own_contract(actor, contract_id)
    return contract, await _locked_milestone(contract_id, milestone_id)


async def mark_milestone_evaluated(actor: Actor, milestone_id: UUID) -> None:
    """An accepted evaluation moves a delivered milestone to evaluated (a re-evaluation of a
    milestone already evaluated, or of one cancelled since, changes nothing)."""
    row = await db.fetchrow("SELECT id, status FROM milestones WHERE id = $1 FOR UPDATE", milestone_id)
    if row is None or row["status"] != rules.MilestoneStatus.DELIVERED:
        return
    rules.check_milestone_transition(row["status"], rules.MilestoneStatus.EVALUATED)
    await db.execute("UPDATE milestones SET status = 'evaluated', version = version + 1 WHERE id = $1", milestone_id)
    await audit.record(
        actor, "milestone.evaluated", "milestone", milestone_id,
        before={"status": row["status"]}, after={"status": "evaluated"},
    )


# --- payments ------------------------------------------------------------------------------------


_PAYMENT_COLUMNS = """id, contract_id, milestone_id, evaluation_id, payee_id, budget_line_id, milestone_amount,
    amount, withheld_amount, payout_ratio, total_score, grade, status, treasury_reference, confirmed_at,
    idempotency_key, created_at, version"""


def _ratio(value: Decimal) -> Decimal:
    """A payout ratio as the rule states it: 0.95, 1.00, 0.875 (not the column's 0.9500)."""
    cents = value.quantize(Decimal("0.01"))
    return cents if cents == value else value.normalize()


def _payment_read(row: Any) -> PaymentRead:
    return PaymentRead.model_validate({**dict(row), "payout_ratio": _ratio(row["payout_ratio"])})


async def _current_evaluation(milestone_id: UUID) -> Any:
    from evaluation import service as evaluation

    return await evaluation.current_evaluation(milestone_id)


async def pay_milestone(
    actor: Actor, contract_id: UUID, milestone_id: UUID, idempotency_key: str | None
) -> tuple[PaymentRead, bool]:
    """Pay a milestone against its accepted evaluation: amount = milestone amount × the payout
    ratio of the evaluation's grade under the contract's payment rule, the rest withheld.

    At most one payment per milestone: the same Idempotency-Key returns the payment it made
    (`False`: nothing new); another key for a paid milestone is `milestone_already_paid`.
    """
    key = rules.check_idempotency_key(idempotency_key)
    async with db.transaction():
        contract = await _own_contract(actor, contract_id)
        existing = await db.fetchrow(
            f"SELECT {_PAYMENT_COLUMNS} FROM payments WHERE bureau_id = $1 AND idempotency_key = $2",
            actor.organisation_id,
            key,
        )
        if existing is not None:
            rules.check_key_replays_its_payment((existing["contract_id"], existing["milestone_id"]), (contract_id, milestone_id))
            return _payment_read(existing), False
        milestone = await _locked_milestone(contract_id, milestone_id)
        if await db.fetchval("SELECT 1 FROM payments WHERE milestone_id = $1", milestone_id):
            raise conflict("milestone_already_paid", "This milestone has already been paid.")
        rules.ensure_contract_active(contract["status"])
        await procurement.check_not_suspended(contract["tender_id"])
        evaluation = await _current_evaluation(milestone_id)
        now = await clock.now()
        decision = rules.decide_payment(
            milestone["amount"],
            milestone["status"],
            (evaluation["status"], evaluation["total_score"], evaluation["grade"]) if evaluation else None,
            _bands(contract),
            appeal_pending=bool(evaluation and evaluation["appeal_pending"]),
        )
        rules.check_appeal_window_closed(now, evaluation["appeal_deadline"])
        rules.check_payee(contract["payee_id"], contract["vendor_id"])
        rules.check_milestone_transition(milestone["status"], rules.MilestoneStatus.PAID)
        # The budget line is locked (and spent) before the payment row is written: the row's
        # foreign key would otherwise take a share lock on the line first, and two payments on
        # one line would each wait for the other's share lock to take the line for update.
        line_id = milestone["budget_line_id"] or contract["budget_line_id"]  # its budget year's line
        if decision.amount > 0:
            await planning.spend_budget(
                actor, line_id, decision.amount, contract_id=contract_id, milestone_id=milestone_id
            )
        if decision.withheld_amount > 0:  # settled: what is withheld is never paid
            await planning.release_withheld_budget(
                actor, line_id, decision.withheld_amount, contract_id=contract_id, milestone_id=milestone_id
            )
        payment_id = uuid4()
        row = await db.fetchrow(
            f"""INSERT INTO payments (id, contract_id, milestone_id, evaluation_id, bureau_id, payee_id, budget_line_id,
                                      idempotency_key, milestone_amount, amount, withheld_amount, payout_ratio,
                                      total_score, grade, status, created_by, created_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 'pending', $15, $16)
                RETURNING {_PAYMENT_COLUMNS}""",
            payment_id,
            contract_id,
            milestone_id,
            evaluation["id"],
            contract["bureau_id"],
            contract["payee_id"],
            line_id,
            key,
            milestone["amount"],
            decision.amount,
            decision.withheld_amount,
            decision.payout_ratio,
            decision.total_score,
            decision.grade.value,
            actor.user_id,
            now,
        )
        await db.execute("UPDATE milestones SET status = 'paid', version = version + 1 WHERE id = $1", milestone_id)
        if decision.withheld_amount > 0:
            await db.execute("UPDATE payments SET withheld_released_at = $2 WHERE id = $1", payment_id, now)
        result = _payment_read(row)
        await audit.record(actor, "payment.created", "payment", payment_id, after=result.model_dump())
        await _complete_if_settled(actor, contract)
    return result, True


async def release_outstanding_withheld(batch: int = 500) -> int:
    """Release the withheld part of payments made before withheld money was released at payment
    (one transaction per payment, each audited as `budget_line.withheld_released`); returns how
    many were released. Idempotent: a released payment is marked."""
    released = 0
    while True:
        rows = await db.fetch(
            """SELECT id, contract_id, milestone_id, budget_line_id, withheld_amount FROM payments
               WHERE withheld_amount > 0 AND withheld_released_at IS NULL ORDER BY created_at, id LIMIT $1""",
            batch,
        )
        if not rows:
            return released
        for row in rows:
            async with db.transaction():
                marked = await db.fetchval(
                    """UPDATE payments SET withheld_released_at = $2
                       WHERE id = $1 AND withheld_released_at IS NULL RETURNING id""",
                    row["id"], await clock.now(),
                )
                if marked is None:  # released meanwhile by another run
                    continue
                await planning.release_withheld_budget(
                    None, row["budget_line_id"], row["withheld_amount"],
                    contract_id=row["contract_id"], milestone_id=row["milestone_id"], payment_id=row["id"],
                )
                released += 1


async def _complete_if_settled(actor: Actor, contract: Any) -> None:
    """A contract whose milestones are all paid or cancelled is completed."""
    statuses = [r["status"] for r in await db.fetch("SELECT status FROM milestones WHERE contract_id = $1", contract["id"])]
    if any(rules.MilestoneStatus(s) not in rules.SETTLED_MILESTONE_STATUSES for s in statuses):
        return
    rules.check_contract_transition(contract["status"], rules.ContractStatus.COMPLETED)
    now = await clock.now()
    await db.execute(
        "UPDATE contracts SET status = 'completed', completed_at = $2, version = version + 1 WHERE id = $1",
        contract["id"],
        now,
    )
    await audit.record(
        actor, "contract.completed", "contract", contract["id"],
        before={"status": contract["status"]}, after={"status": "completed", "completed_at": now},
    )


async def confirm_payment(
    actor: Actor, contract_id: UUID, payment_id: UUID, data: PaymentConfirm, if_match: str | None
) -> PaymentRead:
    """Record the treasury's reference once the transfer is made (pending → confirmed)."""
    reference = rules.validate_treasury_reference(data.treasury_reference)
    async with db.transaction():
        await _own_contract(actor, contract_id)
        row = await db.fetchrow(
            f"SELECT {_PAYMENT_COLUMNS} FROM payments WHERE id = $1 AND contract_id = $2 FOR UPDATE",
            payment_id,
            contract_id,
        )
        if row is None:
            raise NotFound("payment", payment_id)
        check_if_match(if_match, row["version"])
        rules.check_payment_transition(row["status"], rules.PaymentStatus.CONFIRMED)
        updated = await db.fetchrow(
            f"""UPDATE payments SET status = 'confirmed', treasury_reference = $2, confirmed_at = $3,
                       confirmed_by = $4, version = version + 1
                WHERE id = $1 RETURNING {_PAYMENT_COLUMNS}""",
            payment_id,
            reference,
            await clock.now(),
            actor.user_id,
        )
        result = _payment_read(updated)
        await audit.record(
            actor, "payment.confirmed", "payment", payment_id,
            before=_payment_read(row).model_dump(), after=result.model_dump(),
        )
    return result


async def get_payment(actor: Actor, contract_id: UUID, payment_id: UUID) -> PaymentRead:
    await _contract_row(actor, contract_id)
    row = await db.fetchrow(
        f"SELECT {_PAYMENT_COLUMNS} FROM payments WHERE id = $1 AND contract_id = $2", payment_id, contract_id
    )
    if row is None or (actor.role == "evaluator" and row["milestone_id"] not in await _evaluator_milestones(actor, contract_id)):
        raise NotFound("payment", payment_id)
    return _payment_read(row)


async def list_payments(actor: Actor, contract_id: UUID) -> list[PaymentRead]:
    """The contract's payments; an evaluator sees those of its own milestones only."""
    await _contract_row(actor, contract_id)
    rows = await db.fetch(
        f"SELECT {_PAYMENT_COLUMNS} FROM payments WHERE contract_id = $1 ORDER BY created_at, id", contract_id
    )
    if actor.role == "evaluator":
        mine = await _evaluator_milestones(actor, contract_id)
        rows = [r for r in rows if r["milestone_id"] in mine]
    return [_payment_read(r) for r in rows]


# --- set-based reads for other domains ----------------------------------------------------------
# Evaluation, the credit rating and their reports join contracts, milestones, deliverables and
# payments in their own statements through these names rather than the tables (one query, the
# same plan: PostgreSQL flattens a plain subquery).


def contracts_sql() -> str:
    """Contracts as a subquery to join: id, tender_id, bureau_id, vendor_id, budget_line_id,
    title, amount, original_amount, contract_months, start_date, end_date, payment_rule,
    payment_rule_source, status, activated_at, completed_at, terminated_at,
    terminated_for_cause, created_at, performance_targets."""
    return """(SELECT id, tender_id, bureau_id, vendor_id, budget_line_id, title, amount, original_amount,
           contract_months, start_date, end_date, payment_rule, payment_rule_source, status, activated_at,
           completed_at, terminated_at, terminated_for_cause, created_at, performance_targets
    FROM contracts)"""


def milestones_sql() -> str:
    """Milestones as a subquery to join: id, contract_id, sequence, title, percentage, amount,
    due_date, status, delivered_at, cancelled_at."""
    return """(SELECT id, contract_id, sequence, title, percentage, amount, due_date, status, delivered_at,
           cancelled_at
    FROM milestones)"""


def latest_deliverable_sql(milestone_id: str) -> str:
    """The latest deliverable of the milestone whose id is the SQL expression `milestone_id`,
    as a subquery for a LATERAL join: every column of the deliverable."""
    return f"""(SELECT * FROM deliverables d WHERE d.milestone_id = {milestone_id}
    ORDER BY d.submitted_at DESC, d.id DESC LIMIT 1)"""


def payments_sql() -> str:
    """Payments as a subquery to join: id, contract_id, milestone_id, evaluation_id, amount,
    withheld_amount, payout_ratio, status, created_at, confirmed_at, treasury_reference."""
    return """(SELECT id, contract_id, milestone_id, evaluation_id, amount, withheld_amount, payout_ratio, status,
           created_at, confirmed_at, treasury_reference
    FROM payments)"""


async def milestone_delivered_at(milestone_id: UUID) -> datetime | None:
    """When the milestone's work was reported delivered, or None."""
    return await db.fetchval("SELECT delivered_at FROM milestones WHERE id = $1", milestone_id)


async def contract_by_id(contract_id: UUID) -> Any:
    """The contract's row, whoever asks (the caller has already checked it may see it)."""
    return await db.fetchrow("SELECT * FROM contracts WHERE id = $1", contract_id)


def check_milestone_evaluable(contract: Any, milestone: Any) -> None:
    """A milestone can be evaluated only on an active contract, and only while pending or delivered."""
    rules.ensure_contract_active(contract["status"])
    if milestone["status"] not in (rules.MilestoneStatus.PENDING, rules.MilestoneStatus.DELIVERED):
        raise conflict(
            "milestone_not_open",
            f"The milestone is {milestone['status']}: it can no longer be evaluated.",
        )
