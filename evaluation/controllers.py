"""Evaluation endpoints: evaluators and their affiliations, indicator templates, evaluations,
score sheets, acceptance, returns and appeals."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, Request, Response, get, post, put
from litestar.params import FromPath, JSONBody, QueryParameter

from evaluation import service
from evaluation.schemas import (
    AffiliationsRead,
    AffiliationsWrite,
    AppealCreate,
    AppealRead,
    AppealResolve,
    EvaluationCreate,
    EvaluationRead,
    EvaluationReturn,
    EvaluationStatusName,
    EvaluatorRead,
    ScoresWrite,
    TemplateCreate,
    TemplateRead,
)
from govbuy.auth import any_signed_in, requires
from govbuy.http import Cursor, IfMatch, Limit, RequiredIfMatch, with_etag
from govbuy.pagination import Page

READERS = ("admin", "supervisor", "bureau", "vendor", "evaluator")


class EvaluatorController(Controller):
    path = "/api/v1/evaluators"
    tags = ["evaluation"]

    @get("/", guards=[requires("admin", "supervisor", "bureau")])
    async def index(self, limit: Limit = None, cursor: Cursor = None) -> Page[EvaluatorRead]:
        """Third-party evaluation agencies (第三方评价机构), by name."""
        return await service.list_evaluators(limit, cursor)

    @get("/{org_id:uuid}/affiliations", guards=[requires("admin", "supervisor", "bureau", "evaluator")])
    async def affiliations(self, request: Request, org_id: FromPath[UUID]) -> AffiliationsRead:
        """The vendors an evaluator declared affiliations with (an evaluator sees its own only)."""
        return await service.get_affiliations(request.user, org_id)

    @put("/{org_id:uuid}/affiliations", guards=[requires("admin")])
    async def declare(self, request: Request, org_id: FromPath[UUID], data: JSONBody[AffiliationsWrite]) -> AffiliationsRead:
        """Record an evaluator's declared affiliations with vendors, replacing the previous list."""
        return await service.put_affiliations(request.user, org_id, data)


class IndicatorTemplateController(Controller):
    path = "/api/v1/indicator-templates"
    tags = ["evaluation"]

    @get("/", guards=[any_signed_in])
    async def index(self, limit: Limit = None, cursor: Cursor = None) -> Page[TemplateRead]:
        """Indicator templates, the default one (投入 10 / 过程 20 / 产出 30 / 效益 25 / 满意度 15) first."""
        return await service.list_templates(limit, cursor)

    @get("/{template_id:uuid}", guards=[any_signed_in])
    async def read(self, template_id: FromPath[UUID]) -> TemplateRead:
        """One indicator template with its weights per category."""
        return await service.get_template(template_id)

    @post("/", guards=[requires("bureau", "admin")])
    async def create(self, request: Request, data: JSONBody[TemplateCreate]) -> TemplateRead:
        """Create a template: indicators with a category and a weight, weights summing to 100
        (`weights_must_sum_to_100`). An output (产出) or outcome (效益) indicator may name the
        performance target it is scored against (`target`, e.g. 服务人次; one indicator per target;
        else `invalid_template`)."""
        return await service.create_template(request.user, data)


class EvaluationController(Controller):
    path = "/api/v1/evaluations"
    tags = ["evaluation"]

    @post("/", guards=[requires("bureau")])
    async def commission(self, request: Request, data: JSONBody[EvaluationCreate]) -> Response[EvaluationRead]:
        """Commission the evaluation of a milestone from an evaluator, after the conflict-of-interest
        and rotation checks (`evaluator_conflict_of_interest`)."""
        return with_etag(await service.commission(request.user, data), 201)

    @get("/", guards=[requires(*READERS)])
    async def index(
        self,
        request: Request,
        contract_id: Annotated[UUID | None, QueryParameter()] = None,
        milestone_id: Annotated[UUID | None, QueryParameter()] = None,
        status: Annotated[EvaluationStatusName | None, QueryParameter()] = None,
        limit: Limit = None,
        cursor: Cursor = None,
    ) -> Page[EvaluationRead]:
        """Evaluations the caller may see, newest first."""
        return await service.list_evaluations(request.user, contract_id, milestone_id, status, limit, cursor)

    @get("/{evaluation_id:uuid}", guards=[requires(*READERS)])
    async def read(self, request: Request, evaluation_id: FromPath[UUID]) -> Response[EvaluationRead]:
        """One evaluation: indicators, scores, the score sheet (each indicator bound to one of the
        contract's performance targets with its target, reported and verified values), total, grade
        and what the grade pays."""
        return with_etag(await service.get_evaluation(request.user, evaluation_id))

    @put("/{evaluation_id:uuid}/scores", guards=[requires("evaluator")])
    async def scores(
        self, request: Request, evaluation_id: FromPath[UUID], data: JSONBody[ScoresWrite], if_match: RequiredIfMatch
    ) -> Response[EvaluationRead]:
        """Enter the score sheet (0 ≤ score ≤ weight), the satisfaction survey, findings and
        evidence, with If-Match of the evaluation last read (428 without)."""
        return with_etag(await service.write_scores(request.user, evaluation_id, data, if_match))

    @post("/{evaluation_id:uuid}/submit", guards=[requires("evaluator")], status_code=200)
    async def submit(self, request: Request, evaluation_id: FromPath[UUID], if_match: IfMatch = None) -> Response[EvaluationRead]:
        """Submit the complete sheet; the total and the grade are computed."""
        return with_etag(await service.submit(request.user, evaluation_id, if_match))

    @post("/{evaluation_id:uuid}/accept", guards=[requires("bureau")], status_code=200)
    async def accept(self, request: Request, evaluation_id: FromPath[UUID], if_match: IfMatch = None) -> Response[EvaluationRead]:
        """Accept a submitted evaluation: final, and the vendor's appeal window opens."""
        return with_etag(await service.accept(request.user, evaluation_id, if_match))

    @post("/{evaluation_id:uuid}/return", guards=[requires("bureau")], status_code=200)
    async def send_back(
        self, request: Request, evaluation_id: FromPath[UUID], data: JSONBody[EvaluationReturn], if_match: IfMatch = None
    ) -> Response[EvaluationRead]:
        """Return a submitted evaluation to the evaluator, with the reason."""
        return with_etag(await service.return_evaluation(request.user, evaluation_id, data, if_match))

    @post("/{evaluation_id:uuid}/appeals", guards=[requires("vendor")])
    async def appeal(self, request: Request, evaluation_id: FromPath[UUID], data: JSONBody[AppealCreate]) -> AppealRead:
        """Appeal an accepted evaluation of your contract within 5 working days of its acceptance."""
        return await service.file_appeal(request.user, evaluation_id, data)

    @get("/{evaluation_id:uuid}/appeals", guards=[requires(*READERS)])
    async def appeals(self, request: Request, evaluation_id: FromPath[UUID]) -> list[AppealRead]:
        """The evaluation's appeals, oldest first."""
        return await service.list_appeals(request.user, evaluation_id)

    @post("/{evaluation_id:uuid}/appeals/{appeal_id:uuid}/resolve", guards=[requires("bureau")], status_code=200)
    async def resolve(
        self, request: Request, evaluation_id: FromPath[UUID], appeal_id: FromPath[UUID], data: JSONBody[AppealResolve]
    ) -> AppealRead:
        """Uphold (a different evaluator re-evaluates; payment waits) or dismiss an appeal."""
        return await service.resolve_appeal(request.user, evaluation_id, appeal_id, data)
