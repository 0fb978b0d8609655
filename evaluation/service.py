"""Evaluation service: evaluator organisations and their declared affiliations, indicator
templates, the third-party evaluation of each milestone (commission → scores → submit → accept
or return), the vendor's appeals and the re-evaluation an upheld appeal commissions.

Every state change is checked by `evaluation.rules`, audited and versioned in one transaction.
Who sees what (DESIGN §1): the bureau its own evaluations, the evaluator only those it was
commissioned for, the vendor the accepted evaluations of its contracts, supervisors and admins
everything; anything else answers 404.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from contracts import service as contracts
from evaluation import rules
from evaluation.schemas import (
    AffiliationsRead,
    AffiliationsWrite,
    AppealCreate,
    AppealRead,
    AppealResolve,
    EvaluationCreate,
    EvaluationRead,
    EvaluationTargetRead,
    EvaluationReturn,
    EvaluatorRead,
    IndicatorRead,
    ScoresWrite,
    SheetRowRead,
    SurveyRead,
    TemplateCreate,
    TemplateRead,
)
from govbuy import audit, clock, documents, notifications
from govbuy import database as db
from govbuy.audit import Actor
from govbuy.errors import NotFound, check_if_match
from govbuy.pagination import Page, check_limit, encode_cursor, page, typed_cursor
from govbuy.rules import RuleViolation, WorkCalendar, calendar_warning, conflict, last_day, start_of_day
from govbuy.schemas import PeriodChange
from procurement import service as procurement
from vendors import service as vendors

DEFAULT_TEMPLATE_ID = UUID("00000000-0000-4000-8000-000000000001")
DEFAULT_TEMPLATE_NAME = "政府购买服务绩效评价指标（默认）"
#: A re-evaluation's due date when the bureau does not give one.
DEFAULT_REEVALUATION_DAYS = 30
READ_ALL_ROLES = frozenset({"admin", "supervisor"})
# Advisory-lock class of "commissioning an evaluation of this vendor": serialises the rotation
# check, which reads the vendor's latest evaluations, with the insert that changes them.
_ROTATION_LOCK_CLASS = 7301


# --- evaluators and their affiliations ---------------------------------------------------------


async def _evaluator_org(org_id: UUID) -> Any:
    row = await db.fetchrow("SELECT id, name, kind FROM organisations WHERE id = $1", org_id)
    if row is None or row["kind"] != "evaluator":
        raise NotFound("evaluator organisation", org_id)
    return row


async def list_evaluators(limit: int | None, cursor: str | None) -> Page[EvaluatorRead]:
    limit = check_limit(limit)
    after_name, after_id = typed_cursor(cursor, str, UUID)
    rows = await db.fetch(
        """SELECT o.id, o.name, o.uscc, o.region_code,
                  (SELECT count(*) FROM evaluator_affiliations a WHERE a.evaluator_id = o.id) AS affiliated_vendor_count
           FROM organisations o
           WHERE o.kind = 'evaluator' AND ($1::text IS NULL OR (o.name, o.id) > ($1, $2::uuid))
           ORDER BY o.name, o.id LIMIT $3""",
        after_name,
        after_id,
        limit + 1,
    )
    return page(rows, limit, lambda r: (r["name"], r["id"]), lambda r: EvaluatorRead.model_validate(dict(r)))


async def _affiliations(org_id: UUID) -> AffiliationsRead:
    rows = await db.fetch(
        "SELECT vendor_id, note, declared_at FROM evaluator_affiliations WHERE evaluator_id = $1 ORDER BY vendor_id",
        org_id,
    )
    return AffiliationsRead(
        evaluator_org_id=org_id,
        vendor_ids=[r["vendor_id"] for r in rows],
        note=rows[0]["note"] if rows else "",
        declared_at=max((r["declared_at"] for r in rows), default=None),
    )


async def get_affiliations(actor: Actor, org_id: UUID) -> AffiliationsRead:
    """An evaluator's declared affiliations: for admins, supervisors, bureaus and the evaluator."""
    if actor.role == "evaluator" and actor.organisation_id != org_id:
        raise NotFound("evaluator organisation", org_id)
    await _evaluator_org(org_id)
    return await _affiliations(org_id)


async def put_affiliations(actor: Actor, org_id: UUID, data: AffiliationsWrite) -> AffiliationsRead:
    """Replace an evaluator's declared affiliations with vendors (admin)."""
    vendor_ids = list(dict.fromkeys(data.vendor_ids))
    async with db.transaction():
        await db.execute("SELECT 1 FROM organisations WHERE id = $1 FOR UPDATE", org_id)
        await _evaluator_org(org_id)
        known = {
            r["id"]
            for r in await db.fetch(
                "SELECT id FROM organisations WHERE id = ANY($1::uuid[]) AND kind = 'vendor'", vendor_ids
            )
        }
        unknown = [v for v in vendor_ids if v not in known]
        if unknown:
            raise RuleViolation(
                "vendor_not_found",
                "Affiliations are declared with registered vendors.",
                errors=[{"field": "vendor_ids", "message": f"{v} is not a vendor"} for v in unknown],
            )
        before = await _affiliations(org_id)
        now = await clock.now()
        await db.execute("DELETE FROM evaluator_affiliations WHERE evaluator_id = $1", org_id)
        await db.executemany(
            """INSERT INTO evaluator_affiliations (evaluator_id, vendor_id, note, declared_by, declared_at)
               VALUES ($1, $2, $3, $4, $5)""",
            [(org_id, v, data.note, actor.user_id, now) for v in vendor_ids],
        )
        after = await _affiliations(org_id)
        await audit.record(
            actor, "evaluator.affiliations_declared", "organisation", org_id,
            before=before.model_dump(), after=after.model_dump(),
        )
    return after


# --- indicator templates -----------------------------------------------------------------------


def _indicator_reads(indicators: Sequence[rules.Indicator]) -> list[IndicatorRead]:
    return [
        IndicatorRead(
            code=i.code, name=i.name, category=i.category.value, category_label=i.category.label, weight=i.weight,
            target=i.target,
        )
        for i in indicators
    ]


def _template_read(row: Any) -> TemplateRead:
    indicators = rules.indicators_from_dicts(row["indicators"])
    return TemplateRead(
        id=row["id"],
        name=row["name"],
        description=row["description"],
        is_default=row["is_default"],
        indicators=_indicator_reads(indicators),
        category_weights={c.value: w for c, w in rules.category_weights(indicators).items()},
        organisation_id=row["organisation_id"],
        created_at=row["created_at"],
        version=row["version"],
    )


async def ensure_default_template() -> None:
    """The migration installs the default template; put it back if it was ever removed (a
    read first, so that reads write nothing in the normal case)."""
    if await db.fetchval("SELECT 1 FROM indicator_templates WHERE is_default"):
        return
    await db.execute(
        """INSERT INTO indicator_templates (id, name, description, indicators, is_default, created_at)
           SELECT $1, $2, $3, $4, true, now()
           WHERE NOT EXISTS (SELECT 1 FROM indicator_templates WHERE is_default)
           ON CONFLICT DO NOTHING""",
        DEFAULT_TEMPLATE_ID,
        DEFAULT_TEMPLATE_NAME,
        "投入 10、过程 20、产出 30、效益 25、满意度 15",
        rules.as_dicts(rules.DEFAULT_TEMPLATE),
    )


async def list_templates(limit: int | None, cursor: str | None) -> Page[TemplateRead]:
    limit = check_limit(limit)
    after_at, after_id = typed_cursor(cursor, datetime, UUID)
    await ensure_default_template()
    rows = await db.fetch(
        """SELECT * FROM indicator_templates
           WHERE ($1::timestamptz IS NULL OR (created_at, id) > ($1, $2::uuid))
           ORDER BY created_at, id LIMIT $3""",
        after_at,
        after_id,
        limit + 1,
    )
    return page(rows, limit, lambda r: (r["created_at"], r["id"]), _template_read)


async def get_template(template_id: UUID) -> TemplateRead:
    await ensure_default_template()
    row = await db.fetchrow("SELECT * FROM indicator_templates WHERE id = $1", template_id)
    if row is None:
        raise NotFound("indicator template", template_id)
    return _template_read(row)


async def create_template(actor: Actor, data: TemplateCreate) -> TemplateRead:
    """A new indicator template (bureau or admin); its weights must sum to 100."""
    indicators = rules.validate_template([i.model_dump() for i in data.indicators])
    async with db.transaction():
        row = await db.fetchrow(
            """INSERT INTO indicator_templates (id, name, description, indicators, is_default, organisation_id,
                                                created_by, created_at)
               VALUES ($1, $2, $3, $4, false, $5, $6, $7) RETURNING *""",
            uuid4(),
            data.name,
            data.description,
            rules.as_dicts(indicators),
            actor.organisation_id,
            actor.user_id,
            await clock.now(),
        )
        result = _template_read(row)
        await audit.record(actor, "indicator_template.created", "indicator_template", row["id"], after=result.model_dump())
    return result


async def _template_for(template_id: UUID | None) -> Any:
    await ensure_default_template()
    if template_id is None:
        return await db.fetchrow("SELECT * FROM indicator_templates WHERE is_default")
    row = await db.fetchrow("SELECT * FROM indicator_templates WHERE id = $1", template_id)
    if row is None:
        raise RuleViolation(
            "template_not_found",
            f"There is no indicator template {template_id}.",
            errors=[{"field": "template_id", "message": "unknown template"}],
        )
    return row


# --- evaluation visibility and reads -----------------------------------------------------------


def visible_clause(actor: Actor, alias: str, param: int) -> str:
    """SQL condition that evaluation `alias` is visible to the actor (organisation id in `$param`)."""
    if actor.role in READ_ALL_ROLES:
        return f"(${param}::uuid IS NOT NULL)"
    if actor.role == "bureau":
        return f"({alias}.bureau_id = ${param})"
    if actor.role == "evaluator":
        return f"({alias}.evaluator_id = ${param})"
    if actor.role == "vendor":
        return f"({alias}.vendor_id = ${param} AND {alias}.status = 'accepted')"
    return "false"


_SELECT = (
    # An accepted evaluation judges the targets in force when it was accepted.
    "SELECT e.*, c.payment_rule, coalesce(e.accepted_targets, c.performance_targets) AS performance_targets, "
    "m.sequence AS milestone_sequence FROM evaluations e "
    f"JOIN {contracts.contracts_sql()} c ON c.id = e.contract_id JOIN {contracts.milestones_sql()} m ON m.id = e.milestone_id"
)


async def _evaluation_row(actor: Actor, evaluation_id: UUID, *, lock: bool = False) -> Any:
    row = await db.fetchrow(
        f"{_SELECT} WHERE e.id = $1 AND {visible_clause(actor, 'e', 2)}" + (" FOR UPDATE OF e" if lock else ""),
        evaluation_id,
        actor.organisation_id,
    )
    if row is None:
        raise NotFound("evaluation", evaluation_id)
    return row


async def _own_evaluation(actor: Actor, evaluation_id: UUID) -> Any:
    """The evaluation, locked, when the actor acts on it in its own capacity: the bureau that
    commissioned it, the evaluator commissioned, the vendor evaluated; else 404."""
    row = await _evaluation_row(actor, evaluation_id, lock=True)
    own = {"bureau": row["bureau_id"], "evaluator": row["evaluator_id"], "vendor": row["vendor_id"]}.get(actor.role)
    if own != actor.organisation_id:
        raise NotFound("evaluation", evaluation_id)
    return row


async def evaluations_visible(actor: Actor, evaluation_ids: Sequence[UUID]) -> bool:
    """Whether the actor may see any of the evaluations (for documents linked to them; the app
    factory registers this)."""
    return bool(
        await db.fetchval(
            f"SELECT 1 FROM evaluations e WHERE e.id = ANY($1::uuid[]) AND {visible_clause(actor, 'e', 2)} LIMIT 1",
            list(evaluation_ids),
            actor.organisation_id,
        )
    )


def _indicators(row: Any) -> tuple[rules.Indicator, ...]:
    return rules.indicators_from_dicts(row["indicators"])


def _stored_scores(row: Any) -> dict[str, Decimal]:
    return {code: Decimal(str(value)) for code, value in (row["scores"] or {}).items()}


async def judged_targets(row: Any, reports: Any = None) -> list[EvaluationTargetRead]:
    """The contract's targets as this evaluation judges them: reported through its milestone,
    verified by the evaluator, met by the verified value else the reported one. `row`: the
    evaluation with its contract's performance_targets and its milestone_sequence; `reports`: the
    contract's latest reports when the caller read them for many rows (contracts.latest_reports)."""
    if not row["performance_targets"]:
        return []
    if reports is None:
        reports = (await contracts.latest_reports([row["contract_id"]])).get(row["contract_id"], [])
    verified = {k: Decimal(str(v)) for k, v in (row["target_results"] or {}).items()}
    judged = []
    for t in contracts.targets_reported(row["performance_targets"], reports, row["milestone_sequence"]):
        target = rules.Target(t.indicator, t.unit, t.target, t.direction, t.figure)
        judged.append(EvaluationTargetRead(
            indicator=t.indicator, unit=t.unit, target=t.target, direction=t.direction, reported=t.reported,
            verified=verified.get(t.indicator), met=target.met(verified.get(t.indicator, t.reported)),
        ))
    return judged


def indicator_sheet(row: Any, targets: Sequence[EvaluationTargetRead]) -> list[SheetRowRead]:
    """The evaluation's indicators in template order with their scores and, for an indicator bound
    to a target, that target as judged (`targets`: from `judged_targets`); a binding to a target
    the contract does not state shows none (`rules.bound_targets`)."""
    indicators = _indicators(row)
    scores = _stored_scores(row)
    bound = rules.bound_targets(indicators, {t.indicator: t for t in targets})
    return [
        SheetRowRead(
            code=i.code, name=i.name, category=i.category.value, category_label=i.category.label, weight=i.weight,
            score=scores.get(i.code), target=bound[i.code],
        )
        for i in indicators
    ]


async def _evaluation_read(row: Any, today: date | None = None, reports: Any = None) -> EvaluationRead:
    today = today or await clock.today()
    ratio = None
    if row["total_score"] is not None:
        ratio = rules.payout_ratio(rules.from_dicts(row["payment_rule"]), row["total_score"])
    warning = None
    if row["accepted_at"] is not None:
        warning = calendar_warning(await clock.work_calendar(), row["accepted_at"], row["appeal_deadline"])
    survey = None
    if row["survey_responses"] is not None:
        survey = SurveyRead(responses=row["survey_responses"], satisfied=row["survey_satisfied"])
    grade = rules.Grade(row["grade"]) if row["grade"] else None
    targets = await judged_targets(row, reports)
    return EvaluationRead(
        id=row["id"],
        contract_id=row["contract_id"],
        milestone_id=row["milestone_id"],
        bureau_id=row["bureau_id"],
        vendor_id=row["vendor_id"],
        evaluator_org_id=row["evaluator_id"],
        template_id=row["template_id"],
        indicators=_indicator_reads(_indicators(row)),
        due_date=row["due_date"],
        overdue=row["status"] in ("commissioned", "returned") and today > row["due_date"],
        status=row["status"],
        scores=_stored_scores(row),
        survey=survey,
        findings=row["findings"],
        evidence_document_ids=list(row["evidence_document_ids"]),
        targets=targets,
        sheet=indicator_sheet(row, targets),
        total_score=row["total_score"],
        grade=grade.value if grade else None,
        grade_label=grade.label if grade else None,
        payout_ratio=ratio,
        returned_reason=row["returned_reason"],
        commissioned_at=row["commissioned_at"],
        submitted_at=row["submitted_at"],
        accepted_at=row["accepted_at"],
        appeal_deadline=row["appeal_deadline"],
        appeal_last_day=last_day(row["appeal_deadline"]) if row["appeal_deadline"] else None,
        calendar_warning=warning,
        supersedes_id=row["supersedes_id"],
        superseded_by_id=row["superseded_by_id"],
        superseded_at=row["superseded_at"],
        version=row["version"],
    )


async def _reread(evaluation_id: UUID) -> EvaluationRead:
    return await _evaluation_read(await db.fetchrow(f"{_SELECT} WHERE e.id = $1", evaluation_id))


async def get_evaluation(actor: Actor, evaluation_id: UUID) -> EvaluationRead:
    return await _evaluation_read(await _evaluation_row(actor, evaluation_id))


async def list_evaluations(
    actor: Actor,
    contract_id: UUID | None,
    milestone_id: UUID | None,
    status: str | None,
    limit: int | None,
    cursor: str | None,
) -> Page[EvaluationRead]:
    limit = check_limit(limit)
    after_at, after_id = typed_cursor(cursor, datetime, UUID)
    rows = await db.fetch(
        f"""{_SELECT}
            WHERE {visible_clause(actor, 'e', 1)}
              AND ($2::uuid IS NULL OR e.contract_id = $2)
              AND ($3::uuid IS NULL OR e.milestone_id = $3)
              AND ($4::text IS NULL OR e.status = $4)
              AND ($5::timestamptz IS NULL OR (e.commissioned_at, e.id) < ($5, $6::uuid))
            ORDER BY e.commissioned_at DESC, e.id DESC LIMIT $7""",
        actor.organisation_id,
        contract_id,
        milestone_id,
        status,
        after_at,
        after_id,
        limit + 1,
    )
    today = await clock.today()
    # The targets' reports of every contract on the page in one read, not one per evaluation.
    reports = await contracts.latest_reports([r["contract_id"] for r in rows[:limit] if r["performance_targets"]])
    items = [await _evaluation_read(r, today, reports.get(r["contract_id"], [])) for r in rows[:limit]]
    last = rows[limit - 1] if len(rows) > limit else None
    return Page(items=items, next_cursor=encode_cursor((last["commissioned_at"], last["id"])) if last else None)


# --- commissioning -----------------------------------------------------------------------------


async def _check_evaluator(evaluator_org_id: UUID, contract: Any) -> None:
    """May this organisation evaluate the contract? Conflicts of interest (回避) first — each
    failing rule named — then that it is an evaluation agency at all."""
    org = await db.fetchrow("SELECT id, kind FROM organisations WHERE id = $1", evaluator_org_id)
    if org is None:
        raise RuleViolation(
            "not_an_evaluator",
            f"There is no organisation {evaluator_org_id}.",
            errors=[{"field": "evaluator_org_id", "message": "unknown organisation"}],
        )
    await db.execute(
        "SELECT pg_advisory_xact_lock($1, hashtext($2))", _ROTATION_LOCK_CLASS, str(contract["vendor_id"])
    )
    bidders = await procurement.tender_bidder_ids(contract["tender_id"])
    affiliated = [
        r["vendor_id"]
        for r in await db.fetch("SELECT vendor_id FROM evaluator_affiliations WHERE evaluator_id = $1", evaluator_org_id)
    ]
    recent = [
        r["evaluator_id"]
        for r in await db.fetch(
            """SELECT evaluator_id FROM evaluations WHERE vendor_id = $1
               ORDER BY commissioned_at DESC, id DESC LIMIT $2""",
            contract["vendor_id"],
            rules.MAX_CONSECUTIVE_EVALUATIONS,
        )
    ]
    rules.check_evaluator_independence(
        evaluator_org_id=evaluator_org_id,
        vendor_org_id=contract["vendor_id"],
        tender_bidder_org_ids=bidders,
        affiliated_org_ids=affiliated,
        recent_evaluations_of_vendor=recent,
    )
    if org["kind"] != "evaluator":
        raise RuleViolation(
            "not_an_evaluator",
            "Evaluations are commissioned from third-party evaluation agencies (organisations of kind evaluator).",
            errors=[{"field": "evaluator_org_id", "message": f"a {org['kind']} organisation"}],
        )


async def _check_due_date(due_date: Any, field: str = "due_date") -> None:
    today = await clock.today()
    if due_date < today:
        raise RuleViolation(
            "due_date_in_past",
            f"The due date may not be before today ({today}).",
            errors=[{"field": field, "message": f"on or after {today}"}],
        )


async def _insert_evaluation(
    actor: Actor, contract: Any, milestone_id: UUID, evaluator_org_id: UUID, template: Any,
    indicators: Any, due_date: Any, supersedes_id: UUID | None = None, evaluation_id: UUID | None = None,
) -> UUID:
    evaluation_id = evaluation_id or uuid4()
    await db.execute(
        """INSERT INTO evaluations (id, contract_id, milestone_id, bureau_id, vendor_id, evaluator_id, template_id,
                                    indicators, due_date, status, commissioned_by, commissioned_at, supersedes_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'commissioned', $10, $11, $12)""",
        evaluation_id,
        contract["id"],
        milestone_id,
        contract["bureau_id"],
        contract["vendor_id"],
        evaluator_org_id,
        template["id"],
        indicators,
        due_date,
        actor.user_id,
        await clock.now(),
        supersedes_id,
    )
    return evaluation_id


async def commission(actor: Actor, data: EvaluationCreate) -> EvaluationRead:
    """Commission a third-party evaluation of one milestone (bureau), after the conflict-of-interest
    and rotation checks (`evaluator_conflict_of_interest`, naming each failing rule)."""
    await _check_due_date(data.due_date)
    async with db.transaction():
        contract, milestone = await contracts.lock_milestone_for_evaluation(actor, data.contract_id, data.milestone_id)
        contracts.check_milestone_evaluable(contract, milestone)
        current = await db.fetchrow(
            "SELECT id, status FROM evaluations WHERE milestone_id = $1 AND superseded_at IS NULL", data.milestone_id
        )
        if current is not None:
            raise conflict(
                "evaluation_already_commissioned",
                f"The milestone's evaluation {current['id']} is already commissioned ({current['status']}).",
            )
        template = await _template_for(data.template_id)
        await _check_evaluator(data.evaluator_org_id, contract)
        evaluation_id = await _insert_evaluation(
            actor, contract, data.milestone_id, data.evaluator_org_id, template, template["indicators"], data.due_date
        )
        result = await _reread(evaluation_id)
        await audit.record(actor, "evaluation.commissioned", "evaluation", evaluation_id, after=result.model_dump())
    return result


# --- the evaluator's work ----------------------------------------------------------------------


def _score_sheet(indicators: Sequence[rules.Indicator], scores: dict[str, Any], survey: tuple[int, int] | None) -> dict[str, Any]:
    """The scores with the survey, when there is one, scoring every satisfaction indicator."""
    return rules.apply_survey(indicators, scores, *survey) if survey else dict(scores)


async def write_scores(actor: Actor, evaluation_id: UUID, data: ScoresWrite, if_match: str | None) -> EvaluationRead:
    """Replace the score sheet (evaluator); `survey`, `findings` and `evidence_document_ids`
    change only when given. Scores may be entered over several calls; each given score must lie
    between 0 and its indicator's weight. The sheet is complete only at submission."""
    async with db.transaction():
        row = await _own_evaluation(actor, evaluation_id)
        check_if_match(if_match, row["version"])
        rules.ensure_scores_editable(row["status"])
        indicators = _indicators(row)
        if data.survey is not None:
            rules.validate_survey(data.survey.responses, data.survey.satisfied)
            survey: tuple[int, int] | None = (data.survey.responses, data.survey.satisfied)
        elif row["survey_responses"] is not None:
            survey = (row["survey_responses"], row["survey_satisfied"])
        else:
            survey = None
        sheet = _score_sheet(indicators, dict(data.scores), survey)
        scored = [i for i in indicators if i.code in sheet]
        checked = rules.validate_scores(scored, sheet)
        evidence = list(row["evidence_document_ids"])
        if data.evidence_document_ids is not None:
            evidence = await documents.attach(actor, data.evidence_document_ids, "evaluation", evaluation_id)
            await documents.detach_all_but("evaluation", evaluation_id, evidence)
        results = dict(row["target_results"] or {})
        if data.target_results is not None:
            indicators_of = [t.indicator for t in rules.targets_from_dicts(row["performance_targets"])]
            results = {k: str(v) for k, v in rules.check_target_results(indicators_of, data.target_results).items()}
        before = await _evaluation_read(row)
        await db.execute(
            """UPDATE evaluations SET scores = $2, survey_responses = $3, survey_satisfied = $4, findings = $5,
                      evidence_document_ids = $6, target_results = $7, version = version + 1
               WHERE id = $1""",
            evaluation_id,
            {code: str(value) for code, value in checked.items()},
            survey[0] if survey else None,
            survey[1] if survey else None,
            data.findings if data.findings is not None else row["findings"],
            evidence,
            results,
        )
        after = await _reread(evaluation_id)
        await audit.record(
            actor, "evaluation.scored", "evaluation", evaluation_id, before=before.model_dump(), after=after.model_dump()
        )
    return after


async def submit(actor: Actor, evaluation_id: UUID, if_match: str | None) -> EvaluationRead:
    """Submit the complete score sheet (evaluator): the service computes the total and the grade."""
    async with db.transaction():
        row = await _own_evaluation(actor, evaluation_id)
        check_if_match(if_match, row["version"])
        rules.check_evaluation_transition(row["status"], rules.EvaluationStatus.SUBMITTED)
        delivered = await contracts.milestone_delivered_at(row["milestone_id"])
        if delivered is None:
            raise conflict(
                "deliverable_required",
                "The vendor has not reported this milestone's work yet: there is nothing to evaluate.",
            )
        indicators = _indicators(row)
        survey = (row["survey_responses"], row["survey_satisfied"]) if row["survey_responses"] is not None else None
        sheet = _score_sheet(indicators, _stored_scores(row), survey)
        total = rules.total_score(indicators, sheet)
        grade = rules.grade_for(total)
        before = await _evaluation_read(row)
        await db.execute(
            """UPDATE evaluations SET status = 'submitted', total_score = $2, grade = $3, submitted_at = $4,
                      submitted_by = $5, returned_reason = NULL, version = version + 1
               WHERE id = $1""",
            evaluation_id,
            total,
            grade.value,
            await clock.now(),
            actor.user_id,
        )
        after = await _reread(evaluation_id)
        await audit.record(
            actor, "evaluation.submitted", "evaluation", evaluation_id, before=before.model_dump(), after=after.model_dump()
        )
    return after


# --- the bureau's decision ---------------------------------------------------------------------


async def accept(actor: Actor, evaluation_id: UUID, if_match: str | None) -> EvaluationRead:
    """Accept a submitted evaluation (bureau): it becomes immutable, the milestone evaluated, and
    the vendor's 5-working-day appeal window opens."""
    async with db.transaction():
        row = await _own_evaluation(actor, evaluation_id)
        check_if_match(if_match, row["version"])
        rules.check_evaluation_transition(row["status"], rules.EvaluationStatus.ACCEPTED)
        now = await clock.now()
        deadline = rules.appeal_deadline(now, await clock.calendar_for_update())
        before = await _evaluation_read(row)
        await db.execute(
            """UPDATE evaluations SET status = 'accepted', accepted_at = $2, accepted_by = $3, appeal_deadline = $4,
                      accepted_targets = $5, version = version + 1
               WHERE id = $1""",
            evaluation_id,
            now,
            actor.user_id,
            deadline,
            row["performance_targets"],
        )
        await contracts.mark_milestone_evaluated(actor, row["milestone_id"])
        after = await _reread(evaluation_id)
        await audit.record(
            actor, "evaluation.accepted", "evaluation", evaluation_id, before=before.model_dump(), after=after.model_dump()
        )
        await vendors.recompute_rating(actor, row["vendor_id"])
    return after


async def return_evaluation(
    actor: Actor, evaluation_id: UUID, data: EvaluationReturn, if_match: str | None
) -> EvaluationRead:
    """Send a submitted evaluation back to the evaluator with the reason (bureau)."""
    async with db.transaction():
        row = await _own_evaluation(actor, evaluation_id)
        check_if_match(if_match, row["version"])
        rules.check_evaluation_transition(row["status"], rules.EvaluationStatus.RETURNED)
        before = await _evaluation_read(row)
        await db.execute(
            """UPDATE evaluations SET status = 'returned', returned_reason = $2, total_score = NULL, grade = NULL,
                      version = version + 1
               WHERE id = $1""",
            evaluation_id,
            data.reason,
        )
        after = await _reread(evaluation_id)
        await audit.record(
            actor, "evaluation.returned", "evaluation", evaluation_id, before=before.model_dump(), after=after.model_dump()
        )
    return after


# --- appeals -----------------------------------------------------------------------------------


def _appeal_read(row: Any) -> AppealRead:
    return AppealRead.model_validate(dict(row))


async def file_appeal(actor: Actor, evaluation_id: UUID, data: AppealCreate) -> AppealRead:
    """The vendor appeals an accepted evaluation of its contract within 5 working days."""
    reason = rules.validate_appeal_reason(data.reason)
    async with db.transaction():
        row = await _own_evaluation(actor, evaluation_id)
        if row["superseded_at"] is not None:
            raise conflict("evaluation_superseded", "This evaluation was replaced by a re-evaluation.")
        rules.ensure_appealable(row["status"])
        now = await clock.now()
        rules.check_appeal_window(now, row["appeal_deadline"])
        statuses = [r["status"] for r in await db.fetch("SELECT status FROM appeals WHERE evaluation_id = $1", evaluation_id)]
        rules.check_no_open_appeal(statuses)
        appeal = await db.fetchrow(
            """INSERT INTO appeals (id, evaluation_id, vendor_id, reason, status, filed_by, filed_at)
               VALUES ($1, $2, $3, $4, 'pending', $5, $6) RETURNING *""",
            uuid4(),
            evaluation_id,
            row["vendor_id"],
            reason,
            actor.user_id,
            now,
        )
        result = _appeal_read(appeal)
        await audit.record(actor, "appeal.filed", "appeal", appeal["id"], after=result.model_dump())
    return result


async def list_appeals(actor: Actor, evaluation_id: UUID) -> list[AppealRead]:
    await _evaluation_row(actor, evaluation_id)
    rows = await db.fetch("SELECT * FROM appeals WHERE evaluation_id = $1 ORDER BY filed_at, id", evaluation_id)
    return [_appeal_read(r) for r in rows]


async def resolve_appeal(actor: Actor, evaluation_id: UUID, appeal_id: UUID, data: AppealResolve) -> AppealRead:
    """Uphold or dismiss an appeal (bureau). Upheld: the evaluation is kept but superseded, and a
    re-evaluation by a different evaluator is commissioned; payment waits for it."""
    async with db.transaction():
        row = await _own_evaluation(actor, evaluation_id)
        appeal = await db.fetchrow(
            "SELECT * FROM appeals WHERE id = $1 AND evaluation_id = $2 FOR UPDATE", appeal_id, evaluation_id
        )
        if appeal is None:
            raise NotFound("appeal", appeal_id)
        rules.check_appeal_transition(appeal["status"], data.outcome)
        now = await clock.now()
        reevaluation_id = None
        if data.outcome == rules.AppealStatus.UPHELD:
            if data.new_evaluator_org_id is None:
                raise RuleViolation(
                    "new_evaluator_required",
                    "An upheld appeal is re-evaluated: name the evaluator (new_evaluator_org_id).",
                    errors=[{"field": "new_evaluator_org_id", "message": "required when upheld"}],
                )
            earlier = [
                r["evaluator_id"]
                for r in await db.fetch("SELECT DISTINCT evaluator_id FROM evaluations WHERE milestone_id = $1", row["milestone_id"])
            ]
            rules.check_reevaluator(earlier, data.new_evaluator_org_id)
            due_date = data.due_date or (await clock.today()) + timedelta(days=DEFAULT_REEVALUATION_DAYS)
            await _check_due_date(due_date)
            contract = await contracts.contract_by_id(row["contract_id"])
            await _check_evaluator(data.new_evaluator_org_id, contract)
            reevaluation_id = uuid4()
            # Superseded first (the one-current-evaluation index), pointing at the new one
            # (a deferred foreign key), then the new one inserted.
            await db.execute(
                "UPDATE evaluations SET superseded_at = $2, superseded_by_id = $3, version = version + 1 WHERE id = $1",
                evaluation_id,
                now,
                reevaluation_id,
            )
            template = {"id": row["template_id"]}
            await _insert_evaluation(
                actor, contract, row["milestone_id"], data.new_evaluator_org_id, template, row["indicators"],
                due_date, supersedes_id=evaluation_id, evaluation_id=reevaluation_id,
            )
        updated = await db.fetchrow(
            """UPDATE appeals SET status = $2, reply = $3, resolved_by = $4, resolved_at = $5, reevaluation_id = $6,
                      version = version + 1
               WHERE id = $1 RETURNING *""",
            appeal_id,
            data.outcome,
            data.reply,
            actor.user_id,
            now,
            reevaluation_id,
        )
        result = _appeal_read(updated)
        await audit.record(
            actor, "appeal.resolved", "appeal", appeal_id, before=_appeal_read(appeal).model_dump(), after=result.model_dump()
        )
        if reevaluation_id is not None:
            await audit.record(
                actor, "evaluation.superseded", "evaluation", evaluation_id,
                before={"superseded_at": None}, after={"superseded_at": now, "superseded_by_id": reevaluation_id},
            )
            reevaluation = await _reread(reevaluation_id)
            await audit.record(
                actor, "evaluation.commissioned", "evaluation", reevaluation_id, after=reevaluation.model_dump()
            )
    return result


# --- periods recounted when a year's schedule is recorded ------------------------------------


async def recompute_periods(actor: Actor, year: int, calendar: WorkCalendar, now: datetime) -> list[PeriodChange]:
    """Recount, under `calendar` (with `year` just recorded), the vendor's appeal window of every
    accepted evaluation whose window reached into that year and is still open: only a later
    end is stored (a window given to a party never ends sooner than announced), audited, and
    the vendor and the bureau are notified. Runs in the recording's transaction."""
    start, end = start_of_day(date(year, 1, 1)), start_of_day(date(year + 1, 1, 1))
    rows = await db.fetch(
        """SELECT id, bureau_id, vendor_id, accepted_at, appeal_deadline FROM evaluations
           WHERE status = 'accepted' AND superseded_at IS NULL AND accepted_at < $2 AND appeal_deadline > $1
           ORDER BY id FOR UPDATE""",
        start,
        end,
    )
    changes: list[PeriodChange] = []
    for r in rows:
        recounted = rules.appeal_deadline(r["accepted_at"], calendar)
        if recounted <= r["appeal_deadline"] or recounted <= now:
            continue
        await db.execute("UPDATE evaluations SET appeal_deadline = $2 WHERE id = $1", r["id"], recounted)
        changes.append(await notifications.period_extended(
            actor, "evaluation.appeal_window_extended", "evaluation", r["id"], "appeal_deadline", r["appeal_deadline"], recounted,
            told=[r["vendor_id"], r["bureau_id"]],
            message=f"因{year}年节假日安排调整，对绩效评价结果提出申诉的期限顺延至 {last_day(recounted):%Y-%m-%d} 24:00（北京时间）",
            reason=f"the {year} holiday schedule was recorded", now=now,
        ))
    return changes


# --- set-based reads for other domains ----------------------------------------------------------
# Contracts, vendors (the credit rating) and their reports join evaluations in their own
# statements through these names rather than the tables (one query, the same plan: PostgreSQL
# flattens a plain subquery). Contracts and vendors sit below this service in the import order
# (it calls them), so they import it when they run, not when they load.


def evaluations_sql() -> str:
    """Evaluations as a subquery to join: id, contract_id, milestone_id, bureau_id, vendor_id,
    evaluator_id, status, total_score, grade, commissioned_at, submitted_at, accepted_at,
    appeal_deadline, supersedes_id, superseded_at, target_results."""
    return """(SELECT id, contract_id, milestone_id, bureau_id, vendor_id, evaluator_id, status, total_score, grade,
           commissioned_at, submitted_at, accepted_at, appeal_deadline, supersedes_id, superseded_at, target_results
    FROM evaluations)"""


def appeals_sql() -> str:
    """Appeals as a subquery to join: id, evaluation_id, status, reason, reply, filed_at, resolved_at."""
    return "(SELECT id, evaluation_id, status, reason, reply, filed_at, resolved_at FROM appeals)"


async def current_evaluation(milestone_id: UUID) -> Any:
    """The milestone's current evaluation (id, status, total_score, grade, appeal_deadline,
    appeal_pending), or None: what paying the milestone is checked against."""
    return await db.fetchrow(
        """SELECT e.id, e.status, e.total_score, e.grade, e.appeal_deadline,
                  EXISTS (SELECT 1 FROM appeals a WHERE a.evaluation_id = e.id AND a.status = 'pending')
                      AS appeal_pending
           FROM evaluations e WHERE e.milestone_id = $1 AND e.superseded_at IS NULL""",
        milestone_id,
    )
