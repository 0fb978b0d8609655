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
from govbuy.http import Cursor, IfMatch, Limit, RequiredIfMatch, with_etag
from govbuy.pagination import Page
from procurement import service
from procurement.schemas import (
    AffiliationsRead,
    AffiliationsWrite,
    AnswerCreate,
    AwardCreate,
    AwardRead,
    BidCreate,
    BidReviewRead,
    BidReviewWrite,
    SmeDeclarationFalse,
    BidRead,
    BidUpdate,
    ChallengeCreate,
    ChallengeRead,
    ChallengeResolve,
    ComplaintCreate,
    ComplaintDecide,
    ComplaintRead,
    ComplaintRefuse,
    ComplaintSuspend,
    MethodName,
    PanelDrawCreate,
    PanelRead,
    PanelReplace,
    PanelWrite,
    QuestionCreate,
    QuestionRead,
    ScoreSheetRead,
    ScoreSheetWrite,
    TenderAmendmentCreate,
    TenderAmendmentRead,
    TenderAmendmentResult,
    TenderCancel,
    TenderCreate,
    TenderRead,
    TenderStatusName,
    TenderUpdate,
)

# Roles that take part in tenders (evaluators have no business with them); the regulator reads
# the procurements of its region.
TENDER_ROLES = ("bureau", "vendor", "expert", "regulator", "admin", "supervisor")
PANEL_READERS = ("bureau", "expert", "regulator", "admin", "supervisor")

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
        self, request: Request, tender_id: FromPath[UUID], data: JSONBody[TenderUpdate], if_match: RequiredIfMatch
    ) -> Response[TenderRead]:
        """Change a draft tender, with If-Match of the version last read (428 without)."""
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


class TenderAmendmentController(Controller):
    path = "/api/v1/tenders/{tender_id:uuid}/amendments"
    tags = ["tenders"]

    @get("/", guards=[requires(*TENDER_ROLES)])
    async def list(
        self, request: Request, tender_id: FromPath[UUID], limit: Limit = None, cursor: Cursor = None
    ) -> Page[TenderAmendmentRead]:
        """The tender's amendments, oldest first, each with the changed terms before and after."""
        return await service.list_amendments(request.user, tender_id, limit, cursor)

    @post("/", guards=[requires("bureau")])
    async def amend(
        self, request: Request, tender_id: FromPath[UUID], data: JSONBody[TenderAmendmentCreate],
        if_match: RequiredIfMatch,
    ) -> TenderAmendmentResult:
        """Amend a published tender before its deadline (澄清或者修改, 87号令 Art. 27), with
        If-Match of the tender's version (428 without; the new one is `tender.version`); the
        deadline may be put back."""
        return await service.amend_tender(request.user, tender_id, data, if_match)


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
        if_match: RequiredIfMatch,
    ) -> Response[BidRead]:
        """Revise one's own bid before the deadline, with If-Match of the bid last read (428
        without: two people of the vendor may be revising it)."""
        return with_etag(await service.revise_bid(request.user, tender_id, bid_id, data, if_match))

    @post("/{bid_id:uuid}/withdraw", guards=[requires("vendor")], status_code=200)
    async def withdraw(
        self, request: Request, tender_id: FromPath[UUID], bid_id: FromPath[UUID], if_match: IfMatch = None
    ) -> Response[BidRead]:
        """Withdraw one's own bid before the deadline."""
        return with_etag(await service.withdraw_bid(request.user, tender_id, bid_id, if_match))

    @put("/{bid_id:uuid}/review", guards=[requires("bureau", "expert")])
    async def review(
        self, request: Request, tender_id: FromPath[UUID], bid_id: FromPath[UUID], data: JSONBody[BidReviewWrite]
    ) -> BidReviewRead:
        """Qualification (资格性审查, the bureau) or compliance (符合性审查, a panel member) of an opened bid."""
        return await service.review_bid(request.user, tender_id, bid_id, data)

    @post("/{bid_id:uuid}/sme-declaration/false", guards=[requires("regulator")], status_code=200)
    async def declaration_false(
        self, request: Request, tender_id: FromPath[UUID], bid_id: FromPath[UUID], data: JSONBody[SmeDeclarationFalse]
    ) -> BidRead:
        """The region's regulator finds the bid's SME declaration false (财库〔2020〕46号 Art. 20): the vendor is
        put on the procurement blacklist and the bid no longer counts (non-responsive; a won award passes on)."""
        return await service.find_declaration_false(request.user, tender_id, bid_id, data)

    @get("/{bid_id:uuid}/scores", guards=[requires(*PANEL_READERS)])
    async def scores(
        self, request: Request, tender_id: FromPath[UUID], bid_id: FromPath[UUID], limit: Limit = None, cursor: Cursor = None
    ) -> Page[ScoreSheetRead]:
        """Score sheets of a bid: an expert its own, the bureau all (never public)."""
        return await service.list_scores(request.user, tender_id, bid_id, limit, cursor)

    @put("/{bid_id:uuid}/scores", guards=[requires("expert", "bureau")])
    async def score(
        self, request: Request, tender_id: FromPath[UUID], bid_id: FromPath[UUID], data: JSONBody[ScoreSheetWrite]
    ) -> ScoreSheetRead:
        """A panel member (an expert, or the purchaser's representative) scores a responsive bid."""
        return await service.put_scores(request.user, tender_id, bid_id, data)


class EvaluationPanelController(Controller):
    path = "/api/v1/tenders/{tender_id:uuid}"
    tags = ["evaluation panel"]

    @post("/panel/draw", guards=[requires("bureau")], status_code=200)
    async def draw_panel(self, request: Request, tender_id: FromPath[UUID], data: JSONBody[PanelDrawCreate]) -> PanelRead:
        """Draw the panel's experts at random from the pool (实施条例 Art. 39), with the draw's record."""
        return await service.draw_panel(request.user, tender_id, data)

    @post("/panel/replace", guards=[requires("bureau")], status_code=200)
    async def replace_member(self, request: Request, tender_id: FromPath[UUID], data: JSONBody[PanelReplace]) -> PanelRead:
        """An expert withdraws; the replacement is drawn the same way."""
        return await service.replace_panel_member(request.user, tender_id, data)

    @put("/panel", guards=[requires("bureau")])
    async def set_panel(self, request: Request, tender_id: FromPath[UUID], data: JSONBody[PanelWrite]) -> PanelRead:
        """A hand-picked panel, only with its reason (87号令 Art. 48)."""
        return await service.set_panel(request.user, tender_id, data)

    @get("/panel", guards=[requires(*PANEL_READERS)])
    async def panel(self, request: Request, tender_id: FromPath[UUID]) -> PanelRead:
        """The panel's experts."""
        return await service.get_panel(request.user, tender_id)

    @get("/scores", guards=[requires(*PANEL_READERS)])
    async def scores(
        self, request: Request, tender_id: FromPath[UUID], limit: Limit = None, cursor: Cursor = None
    ) -> Page[ScoreSheetRead]:
        """Every score sheet of the tender the caller may see (an expert: its own), by bid."""
        return await service.list_scores(request.user, tender_id, None, limit, cursor)


class AwardController(Controller):
    path = "/api/v1/tenders/{tender_id:uuid}"
    tags = ["award"]

    @post("/award", guards=[requires("bureau")], status_code=200)
    async def award(
        self, request: Request, tender_id: FromPath[UUID], if_match: IfMatch = None, data: JSONBody[AwardCreate | None] = None
    ) -> AwardRead:
        """Rank the responsive bids and publish the award notice; the standstill (1 + 7 working days) starts."""
        return await service.award_tender(request.user, tender_id, if_match, data)

    @get("/award", guards=[requires(*TENDER_ROLES)])
    async def read_award(self, request: Request, tender_id: FromPath[UUID]) -> AwardRead:
        """The award notice (中标公告) with its ranking."""
        return await service.get_award(request.user, tender_id)

    @post("/challenges", guards=[requires("vendor")])
    async def challenge(self, request: Request, tender_id: FromPath[UUID], data: JSONBody[ChallengeCreate]) -> ChallengeRead:
        """A vendor challenges (质疑) the documents, a step of the process or the result, within its window."""
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
        """Dismiss, or uphold with its remedy (cancel, reevaluate, next_candidate)."""
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


class ComplaintController(Controller):
    path = "/api/v1/complaints"
    tags = ["complaints"]

    @post("/", guards=[requires("vendor")])
    async def file(self, request: Request, data: JSONBody[ComplaintCreate]) -> ComplaintRead:
        """A challenger complains (投诉) to the regulator about the answer to its challenge, or its absence."""
        return await service.file_complaint(request.user, data)

    @get("/", guards=[requires("vendor", "bureau", "regulator", "admin", "supervisor")])
    async def index(
        self,
        request: Request,
        status: Annotated[str | None, QueryParameter(pattern="^(filed|accepted|refused|decided)$")] = None,
        tender_id: Annotated[UUID | None, QueryParameter()] = None,
        limit: Limit = None,
        cursor: Cursor = None,
    ) -> Page[ComplaintRead]:
        """Complaints the caller may see: its own, its tenders', its region's, or all."""
        return await service.list_complaints(request.user, status, tender_id, limit, cursor)

    @get("/{complaint_id:uuid}", guards=[requires("vendor", "bureau", "regulator", "admin", "supervisor")])
    async def read(self, request: Request, complaint_id: FromPath[UUID]) -> ComplaintRead:
        """One complaint, with its due dates and whether it suspends the procurement."""
        return await service.get_complaint(request.user, complaint_id)

    @post("/{complaint_id:uuid}/accept", guards=[requires("regulator")], status_code=200)
    async def accept(self, request: Request, complaint_id: FromPath[UUID]) -> ComplaintRead:
        """Accept the complaint for handling (受理, within 5 working days)."""
        return await service.accept_complaint(request.user, complaint_id)

    @post("/{complaint_id:uuid}/refuse", guards=[requires("regulator")], status_code=200)
    async def refuse(self, request: Request, complaint_id: FromPath[UUID], data: JSONBody[ComplaintRefuse]) -> ComplaintRead:
        """Refuse it (不予受理), with the reason."""
        return await service.refuse_complaint(request.user, complaint_id, data)

    @post("/{complaint_id:uuid}/suspend", guards=[requires("regulator")], status_code=200)
    async def suspend(self, request: Request, complaint_id: FromPath[UUID], data: JSONBody[ComplaintSuspend]) -> ComplaintRead:
        """Suspend the procurement (暂停采购活动, at most 30 days)."""
        return await service.suspend_procurement(request.user, complaint_id, data)

    @post("/{complaint_id:uuid}/resume", guards=[requires("regulator")], status_code=200)
    async def resume(self, request: Request, complaint_id: FromPath[UUID]) -> ComplaintRead:
        """Resume the suspended procurement."""
        return await service.resume_procurement(request.user, complaint_id)

    @post("/{complaint_id:uuid}/decide", guards=[requires("regulator")], status_code=200)
    async def decide(self, request: Request, complaint_id: FromPath[UUID], data: JSONBody[ComplaintDecide]) -> ComplaintRead:
        """Decide (处理决定, within 30 working days); upheld applies its remedy."""
        return await service.decide_complaint(request.user, complaint_id, data)
