"""Procurement endpoints: tenders, questions, bids, panel and scores, award and challenges,
experts' affiliations. Handlers parse, authorise by role and call the service, which decides
what the caller's organisation may see (404 when not theirs)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from litestar import Controller, Request, Response, get, patch, post, put
from litestar.params import FromPath, JSONBody, QueryParameter

from govbuy.auth import requires
from govbuy.http import Cursor, IfMatch, Limit, with_etag
from govbuy.pagination import Page
from procurement import service
from procurement.schemas import (
    AffiliationsRead,
    AffiliationsWrite,
    AnswerCreate,
    AwardRead,
    BidCreate,
    BidRead,
    BidUpdate,
    ChallengeCreate,
    ChallengeRead,
    ChallengeResolve,
    MethodName,
    PanelRead,
    PanelWrite,
    QuestionCreate,
    QuestionRead,
    ScoreSheetRead,
    ScoreSheetWrite,
    TenderCancel,
    TenderCreate,
    TenderRead,
    TenderStatusName,
    TenderUpdate,
)

# Roles that take part in tenders (evaluators have no business with them).
TENDER_ROLES = ("bureau", "vendor", "expert", "admin", "supervisor")

class TenderController(Controller):
    path = "/api/v1/tenders"
    tags = ["tenders"]

    @post("/", guards=[requires("bureau")])
    async def create(self, request: Request, data: JSONBody[TenderCreate]) -> Response[TenderRead]:
        """Draft a tender; its terms are checked as if it were published now."""
        return with_etag(await service.create_tender(request.user, data), 201)

    @get("/", guards=[requires(*TENDER_ROLES)])
    async def list(
        self,
        request: Request,
        status: Annotated[TenderStatusName | None, QueryParameter()] = None,
        method: Annotated[MethodName | None, QueryParameter()] = None,
        bureau_id: Annotated[UUID | None, QueryParameter()] = None,
        catalogue_item_id: Annotated[UUID | None, QueryParameter()] = None,
        deadline_from: Annotated[datetime | None, QueryParameter(description="bid deadline at or after")] = None,
        deadline_to: Annotated[datetime | None, QueryParameter(description="bid deadline at or before")] = None,
        limit: Limit = None,
        cursor: Cursor = None,
    ) -> Page[TenderRead]:
        """Tenders the caller may see, newest first, filtered."""
        return await service.list_tenders(
            request.user,
            status=status,
            method=method,
            bureau_id=bureau_id,
            catalogue_item_id=catalogue_item_id,
            deadline_from=deadline_from,
            deadline_to=deadline_to,
            limit=limit,
            cursor=cursor,
        )

    @get("/{tender_id:uuid}", guards=[requires(*TENDER_ROLES)])
    async def read(self, request: Request, tender_id: FromPath[UUID]) -> Response[TenderRead]:
        """One tender (opened first if its deadline has passed)."""
        return with_etag(await service.get_tender(request.user, tender_id))

    @patch("/{tender_id:uuid}", guards=[requires("bureau")])
    async def update(
        self, request: Request, tender_id: FromPath[UUID], data: JSONBody[TenderUpdate], if_match: IfMatch = None
    ) -> Response[TenderRead]:
        """Change a draft tender."""
        return with_etag(await service.update_tender(request.user, tender_id, data, if_match))

    @post("/{tender_id:uuid}/publish", guards=[requires("bureau")], status_code=200)
    async def publish(self, request: Request, tender_id: FromPath[UUID], if_match: IfMatch = None) -> Response[TenderRead]:
        """Publish: checks the minimum bid period and reserves the ceiling on the budget line."""
        return with_etag(await service.publish_tender(request.user, tender_id, if_match))

    @post("/{tender_id:uuid}/cancel", guards=[requires("bureau")], status_code=200)
    async def cancel(
        self, request: Request, tender_id: FromPath[UUID], data: JSONBody[TenderCancel], if_match: IfMatch = None
    ) -> Response[TenderRead]:
        """Cancel the tender; a reserved ceiling is released."""
        return with_etag(await service.cancel_tender(request.user, tender_id, data.reason, if_match))


class TenderQuestionController(Controller):
    path = "/api/v1/tenders/{tender_id:uuid}/questions"
    tags = ["tenders"]

    @get("/", guards=[requires(*TENDER_ROLES)])
    async def list(
        self, request: Request, tender_id: FromPath[UUID], limit: Limit = None, cursor: Cursor = None
    ) -> Page[QuestionRead]:
        """Questions and answers, never naming who asked."""
        return await service.list_questions(request.user, tender_id, limit, cursor)

    @post("/", guards=[requires("vendor")])
    async def ask(self, request: Request, tender_id: FromPath[UUID], data: JSONBody[QuestionCreate]) -> QuestionRead:
        """Ask a question before the bid deadline."""
        return await service.ask_question(request.user, tender_id, data)

    @post("/{question_id:uuid}/answer", guards=[requires("bureau")], status_code=200)
    async def answer(
        self, request: Request, tender_id: FromPath[UUID], question_id: FromPath[UUID], data: JSONBody[AnswerCreate]
    ) -> QuestionRead:
        """Answer (and so publish) a question before the bid deadline."""
        return await service.answer_question(request.user, tender_id, question_id, data)


class BidController(Controller):
    path = "/api/v1/tenders/{tender_id:uuid}/bids"
    tags = ["bids"]

    @post("/", guards=[requires("vendor")])
    async def submit(self, request: Request, tender_id: FromPath[UUID], data: JSONBody[BidCreate]) -> Response[BidRead]:
        """Submit the vendor's sealed bid before the deadline (eligibility checked and stored)."""
        return with_etag(await service.submit_bid(request.user, tender_id, data), 201)

    @get("/", guards=[requires(*TENDER_ROLES)])
    async def list(
        self,
        request: Request,
        tender_id: FromPath[UUID],
        status: Annotated[str | None, QueryParameter(pattern=r"^(submitted|withdrawn|valid|invalid)$")] = None,
        limit: Limit = None,
        cursor: Cursor = None,
    ) -> Page[BidRead]:
        """Before the opening: a vendor its own bid, anyone else 409 bids_sealed. After it: every
        bidder's name and price (唱标), proposals only to the bureau, the panel and the bidder."""
        return await service.list_bids(request.user, tender_id, status, limit, cursor)

    @get("/{bid_id:uuid}", guards=[requires(*TENDER_ROLES)])
    async def read(self, request: Request, tender_id: FromPath[UUID], bid_id: FromPath[UUID]) -> Response[BidRead]:
        """One bid, as the caller may see it."""
        return with_etag(await service.get_bid(request.user, tender_id, bid_id))

    @patch("/{bid_id:uuid}", guards=[requires("vendor")])
    async def revise(
        self,
        request: Request,
        tender_id: FromPath[UUID],
        bid_id: FromPath[UUID],
        data: JSONBody[BidUpdate],
        if_match: IfMatch = None,
    ) -> Response[BidRead]:
        """Revise one's own bid before the deadline."""
        return with_etag(await service.revise_bid(request.user, tender_id, bid_id, data, if_match))

    @post("/{bid_id:uuid}/withdraw", guards=[requires("vendor")], status_code=200)
    async def withdraw(
        self, request: Request, tender_id: FromPath[UUID], bid_id: FromPath[UUID], if_match: IfMatch = None
    ) -> Response[BidRead]:
        """Withdraw one's own bid before the deadline."""
        return with_etag(await service.withdraw_bid(request.user, tender_id, bid_id, if_match))

    @get("/{bid_id:uuid}/scores", guards=[requires("bureau", "expert", "admin", "supervisor")])
    async def scores(
        self, request: Request, tender_id: FromPath[UUID], bid_id: FromPath[UUID], limit: Limit = None, cursor: Cursor = None
    ) -> Page[ScoreSheetRead]:
        """Score sheets of a bid: an expert its own, the bureau all (never public)."""
        return await service.list_scores(request.user, tender_id, bid_id, limit, cursor)

    @put("/{bid_id:uuid}/scores", guards=[requires("expert")])
    async def score(
        self, request: Request, tender_id: FromPath[UUID], bid_id: FromPath[UUID], data: JSONBody[ScoreSheetWrite]
    ) -> ScoreSheetRead:
        """An expert of the panel scores a valid bid on every criterion (0 ≤ score ≤ weight)."""
        return await service.put_scores(request.user, tender_id, bid_id, data)


class EvaluationPanelController(Controller):
    path = "/api/v1/tenders/{tender_id:uuid}"
    tags = ["evaluation panel"]

    @put("/panel", guards=[requires("bureau")])
    async def set_panel(self, request: Request, tender_id: FromPath[UUID], data: JSONBody[PanelWrite]) -> PanelRead:
        """Appoint the panel (评标委员会) after the opening: odd, 5+ for public tenders, 3+ otherwise,
        no expert affiliated with a bidder."""
        return await service.set_panel(request.user, tender_id, data)

    @get("/panel", guards=[requires("bureau", "expert", "admin", "supervisor")])
    async def panel(self, request: Request, tender_id: FromPath[UUID]) -> PanelRead:
        """The panel's experts."""
        return await service.get_panel(request.user, tender_id)

    @get("/scores", guards=[requires("bureau", "expert", "admin", "supervisor")])
    async def scores(
        self, request: Request, tender_id: FromPath[UUID], limit: Limit = None, cursor: Cursor = None
    ) -> Page[ScoreSheetRead]:
        """Every score sheet of the tender the caller may see (an expert: its own), by bid."""
        return await service.list_scores(request.user, tender_id, None, limit, cursor)


class AwardController(Controller):
    path = "/api/v1/tenders/{tender_id:uuid}"
    tags = ["award"]

    @post("/award", guards=[requires("bureau")], status_code=200)
    async def award(self, request: Request, tender_id: FromPath[UUID], if_match: IfMatch = None) -> AwardRead:
        """Compute, store and publish the ranking; the standstill of 7 working days starts."""
        return await service.award_tender(request.user, tender_id, if_match)

    @get("/award", guards=[requires(*TENDER_ROLES)])
    async def read_award(self, request: Request, tender_id: FromPath[UUID]) -> AwardRead:
        """The award notice (中标公告) with its ranking."""
        return await service.get_award(request.user, tender_id)

    @post("/challenges", guards=[requires("vendor")])
    async def challenge(self, request: Request, tender_id: FromPath[UUID], data: JSONBody[ChallengeCreate]) -> ChallengeRead:
        """A bidder challenges the award (质疑) during the standstill."""
        return await service.file_challenge(request.user, tender_id, data)

    @get("/challenges", guards=[requires(*TENDER_ROLES)])
    async def challenges(
        self, request: Request, tender_id: FromPath[UUID], limit: Limit = None, cursor: Cursor = None
    ) -> Page[ChallengeRead]:
        """Challenges: the bureau sees all, a vendor its own."""
        return await service.list_challenges(request.user, tender_id, limit, cursor)

    @post("/challenges/{challenge_id:uuid}/resolve", guards=[requires("bureau")], status_code=200)
    async def resolve(
        self,
        request: Request,
        tender_id: FromPath[UUID],
        challenge_id: FromPath[UUID],
        data: JSONBody[ChallengeResolve],
    ) -> ChallengeRead:
        """Uphold (the award is voided, the tender goes back to evaluation) or dismiss a challenge."""
        return await service.resolve_challenge(request.user, tender_id, challenge_id, data)


class ExpertController(Controller):
    path = "/api/v1/experts"
    tags = ["evaluation panel"]

    @put("/{user_id:uuid}/affiliations", guards=[requires("admin")])
    async def declare(self, request: Request, user_id: FromPath[UUID], data: JSONBody[AffiliationsWrite]) -> AffiliationsRead:
        """Record the organisations an expert is affiliated with (replaces the set)."""
        return await service.put_affiliations(request.user, user_id, data)

    @get("/{user_id:uuid}/affiliations", guards=[requires("admin", "supervisor", "expert")])
    async def affiliations(self, request: Request, user_id: FromPath[UUID]) -> AffiliationsRead:
        """An expert's declared affiliations (admins, supervisors, the expert)."""
        return await service.get_affiliations(request.user, user_id)
