"""Procurement endpoints: catalogue, budget lines, tenders, questions, bids, panel and scores,
award and challenges, experts' affiliations. Handlers parse, authorise by role and call the
service, which decides what the caller's organisation may see (404 when not theirs)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated
from uuid import UUID

from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, JSONBody, QueryParameter

from govbuy.auth import any_signed_in, requires
from govbuy.http import Cursor, IfMatch, Limit, with_etag
from govbuy.pagination import Page
from govbuy.settings import get_settings
from procurement import service
from procurement.schemas import (
    AffiliationsRead,
    AffiliationsWrite,
    AnswerCreate,
    AwardRead,
    BidCreate,
    BidRead,
    BidUpdate,
    BudgetLineCreate,
    BudgetLineRead,
    BudgetLineUpdate,
    CatalogueCreate,
    CatalogueImportRead,
    CatalogueItemCreate,
    CatalogueItemRead,
    CatalogueRead,
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
# Multipart framing around the file; the file itself is held to max_upload_bytes by the service.
_MULTIPART_SLACK = 64 * 1024

# The catalogue and budget-line controllers below still say `tagged`; they are moving to
# planning/, and take the kernel's name there.
tagged = with_etag


@dataclass
class CatalogueUpload:
    """The import file: .xlsx or .csv with a header row code, name, description."""

    file: UploadFile


class CatalogueController(Controller):
    path = "/api/v1/catalogues"
    tags = ["catalogue"]

    @post("/", guards=[requires("bureau")])
    async def create(self, request: Request, data: JSONBody[CatalogueCreate]) -> Response[CatalogueRead]:
        """Start a new draft version of the guidance catalogue (指导性目录) of the bureau's region."""
        return tagged(await service.create_catalogue(request.user, data), 201)

    @get("/", guards=[any_signed_in])
    async def list(
        self,
        request: Request,
        region_code: Annotated[str | None, QueryParameter(pattern=r"^[0-9]{6}$")] = None,
        year: Annotated[int | None, QueryParameter(ge=2000, le=2100)] = None,
        status: Annotated[str | None, QueryParameter(pattern=r"^(draft|published|superseded)$")] = None,
        limit: Limit = None,
        cursor: Cursor = None,
    ) -> Page[CatalogueRead]:
        """Catalogue versions, newest first; drafts only to the bureaus of their region."""
        return await service.list_catalogues(request.user, region_code, year, status, limit, cursor)

    @get("/{catalogue_id:uuid}", guards=[any_signed_in])
    async def read(self, request: Request, catalogue_id: FromPath[UUID]) -> Response[CatalogueRead]:
        """One catalogue version."""
        return tagged(await service.get_catalogue(request.user, catalogue_id))

    @post("/{catalogue_id:uuid}/items", guards=[requires("bureau")])
    async def add_item(
        self, request: Request, catalogue_id: FromPath[UUID], data: JSONBody[CatalogueItemCreate]
    ) -> CatalogueItemRead:
        """Add an item to a draft: its parent must exist, and the negative list (负面清单) is checked."""
        return await service.add_catalogue_item(request.user, catalogue_id, data)

    @get("/{catalogue_id:uuid}/items", guards=[any_signed_in])
    async def items(
        self,
        request: Request,
        catalogue_id: FromPath[UUID],
        level: Annotated[int | None, QueryParameter(ge=1, le=3)] = None,
        parent_code: Annotated[str | None, QueryParameter(max_length=5)] = None,
        limit: Limit = None,
        cursor: Cursor = None,
    ) -> Page[CatalogueItemRead]:
        """Items in code order, filtered by level or parent."""
        return await service.list_catalogue_items(request.user, catalogue_id, level, parent_code, limit, cursor)

    @delete("/{catalogue_id:uuid}/items/{item_id:uuid}", guards=[requires("bureau")])
    async def remove_item(self, request: Request, catalogue_id: FromPath[UUID], item_id: FromPath[UUID]) -> None:
        """Remove an item (without children) from a draft."""
        await service.delete_catalogue_item(request.user, catalogue_id, item_id)

    @post(
        "/{catalogue_id:uuid}/import",
        guards=[requires("bureau")],
        status_code=200,
        request_max_body_size=get_settings().max_upload_bytes + _MULTIPART_SLACK,
    )
    async def import_file(
        self,
        request: Request,
        catalogue_id: FromPath[UUID],
        data: Annotated[CatalogueUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> CatalogueImportRead:
        """Import a whole catalogue from an .xlsx or .csv file (multipart field `file`). Every
        row is checked first; any bad row (reported with its row number) imports nothing."""
        content = await data.file.read()
        return await service.import_catalogue(request.user, catalogue_id, data.file.filename or "", content)

    @post("/{catalogue_id:uuid}/publish", guards=[requires("bureau")], status_code=200)
    async def publish(self, request: Request, catalogue_id: FromPath[UUID], if_match: IfMatch = None) -> Response[CatalogueRead]:
        """Publish a draft; the previously published version of the region and year is superseded."""
        return tagged(await service.publish_catalogue(request.user, catalogue_id, if_match))


class BudgetLineController(Controller):
    path = "/api/v1/budget-lines"
    tags = ["budget"]

    @post("/", guards=[requires("bureau")])
    async def create(self, request: Request, data: JSONBody[BudgetLineCreate]) -> Response[BudgetLineRead]:
        """Create one of the bureau's budget lines (先有预算、后购买服务)."""
        return tagged(await service.create_budget_line(request.user, data), 201)

    @get("/", guards=[requires("bureau", "admin", "supervisor")])
    async def list(
        self,
        request: Request,
        year: Annotated[int | None, QueryParameter(ge=2000, le=2100)] = None,
        bureau_id: Annotated[UUID | None, QueryParameter()] = None,
        limit: Limit = None,
        cursor: Cursor = None,
    ) -> Page[BudgetLineRead]:
        """Budget lines with amount, reserved, committed, spent and available."""
        return await service.list_budget_lines(request.user, year, bureau_id, limit, cursor)

    @get("/{line_id:uuid}", guards=[requires("bureau", "admin", "supervisor")])
    async def read(self, request: Request, line_id: FromPath[UUID]) -> Response[BudgetLineRead]:
        """One budget line."""
        return tagged(await service.get_budget_line(request.user, line_id))

    @patch("/{line_id:uuid}", guards=[requires("bureau")])
    async def update(
        self, request: Request, line_id: FromPath[UUID], data: JSONBody[BudgetLineUpdate], if_match: IfMatch = None
    ) -> Response[BudgetLineRead]:
        """Adjust a line's title or amount (never below what is reserved and committed)."""
        return tagged(await service.update_budget_line(request.user, line_id, data, if_match))


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
