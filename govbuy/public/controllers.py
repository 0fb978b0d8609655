"""Public endpoints (no sign-in): what DESIGN §8 discloses, and the OCDS 1.1 feed."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from litestar import Controller, MediaType, Request, Response, get
from litestar.params import FromPath, QueryParameter

from govbuy.http import PUBLIC_LIST_CACHE, Cursor, Limit, conditional_response
from govbuy.pagination import Page
from govbuy.public import service
from procurement.schemas import TenderAmendmentRead
from govbuy.public.schemas import (
    NoticeType,
    PublicAuditHead,
    PublicContract,
    PublicContractSummary,
    PublicIntention,
    PublicNotice,
    PublicNoticeSummary,
    PublicTender,
    PublicTenderSummary,
    PublicVendor,
)

PUBLIC = {"exclude_from_auth": True}
NO_TOKEN = [{}]  # OpenAPI: these operations need no bearer token
Region = Annotated[
    str | None, QueryParameter(pattern=r"^[0-9]{2,6}$", description="行政区划代码 or its prefix (44, 4403, 440304)")
]


class PublicTenderController(Controller):
    path = "/api/v1/public/tenders"
    tags = ["public"]
    opt = PUBLIC
    security = NO_TOKEN

    @get("/", cache_control=PUBLIC_LIST_CACHE)
    async def list(
        self,
        region: Region = None,
        bureau_id: Annotated[UUID | None, QueryParameter()] = None,
        category: Annotated[
            str | None,
            QueryParameter(pattern=r"^[A-E]([0-9]{2}){0,2}$", description="catalogue code or prefix: A, A01 or A0101"),
        ] = None,
        status: Annotated[
            Literal["published", "evaluating", "awarded", "contracted", "cancelled", "failed"] | None, QueryParameter()
        ] = None,
        q: Annotated[str | None, QueryParameter(min_length=1, max_length=100, description="words of the title")] = None,
        published_from: Annotated[datetime | None, QueryParameter()] = None,
        published_to: Annotated[datetime | None, QueryParameter()] = None,
        deadline_from: Annotated[datetime | None, QueryParameter()] = None,
        deadline_to: Annotated[datetime | None, QueryParameter()] = None,
        limit: Limit = None,
        cursor: Cursor = None,
    ) -> Page[PublicTenderSummary]:
        """Published tenders, newest first: never drafts. `q` finds any substring of the title,
        Chinese included; `*_from` bounds are inclusive, `*_to` exclusive."""
        return await service.list_tenders(
            region=region,
            bureau_id=bureau_id,
            category=category,
            status=status,
            q=(q.strip() or None) if q else None,
            published_from=published_from,
            published_to=published_to,
            deadline_from=deadline_from,
            deadline_to=deadline_to,
            limit=limit,
            cursor=cursor,
        )

    @get("/{tender_id:uuid}")
    async def read(self, tender_id: FromPath[UUID]) -> PublicTender:
        """A published tender: its terms; after the deadline every bidder's name and price
        (唱标, never a proposal); once awarded the award notice with its ranking."""
        return await service.get_tender(tender_id)

    @get("/{tender_id:uuid}/amendments", cache_control=PUBLIC_LIST_CACHE)
    async def amendments(
        self, tender_id: FromPath[UUID], limit: Limit = None, cursor: Cursor = None
    ) -> Page[TenderAmendmentRead]:
        """A published tender's amendments (更正, 87号令 Art. 27), oldest first: every version of
        its terms, each change before and after, its reason and the deadline it moved."""
        return await service.list_tender_amendments(tender_id, limit, cursor)


class PublicContractController(Controller):
    path = "/api/v1/public/contracts"
    tags = ["public"]
    opt = PUBLIC
    security = NO_TOKEN

    @get("/", cache_control=PUBLIC_LIST_CACHE)
    async def list(
        self,
        bureau_id: Annotated[UUID | None, QueryParameter()] = None,
        vendor_id: Annotated[UUID | None, QueryParameter()] = None,
        tender_id: Annotated[UUID | None, QueryParameter()] = None,
        status: Annotated[Literal["active", "completed", "terminated"] | None, QueryParameter()] = None,
        limit: Limit = None,
        cursor: Cursor = None,
    ) -> Page[PublicContractSummary]:
        """Signed contracts (parties, amount, term), newest first: a draft is never public."""
        return await service.list_contracts(
            bureau_id=bureau_id, vendor_id=vendor_id, status=status, tender_id=tender_id, limit=limit, cursor=cursor
        )

    @get("/{contract_id:uuid}")
    async def read(self, contract_id: FromPath[UUID]) -> PublicContract:
        """A contract with its milestones, the grade of each accepted evaluation and each payment."""
        return await service.get_contract(contract_id)


class PublicVendorController(Controller):
    path = "/api/v1/public/vendors"
    tags = ["public"]
    opt = PUBLIC
    security = NO_TOKEN

    @get("/{vendor_id:uuid}")
    async def read(self, vendor_id: FromPath[UUID]) -> PublicVendor:
        """A vendor's name, type, assessment grade, credit grade and credit-list status."""
        return await service.get_vendor(vendor_id)


class PublicNoticeController(Controller):
    path = "/api/v1/public/notices"
    tags = ["public"]
    opt = PUBLIC
    security = NO_TOKEN

    @get("/", cache_control=PUBLIC_LIST_CACHE)
    async def list(
        self,
        type: Annotated[NoticeType | None, QueryParameter()] = None,
        region: Region = None,
        tender_id: Annotated[UUID | None, QueryParameter()] = None,
        since: Annotated[datetime | None, QueryParameter(description="only notices published at or after this instant")] = None,
        limit: Limit = None,
        cursor: Cursor = None,
    ) -> Page[PublicNoticeSummary]:
        """Statutory notices (公告), newest first: procurement notices, results, challenge
        replies, complaint decisions, contract notices, acceptance results and terminations.
        Each has a stable `url`."""
        return await service.list_notices(
            type=type, region=region, tender_id=tender_id, since=since, limit=limit, cursor=cursor
        )

    @get("/{notice_id:uuid}")
    async def read(self, request: Request, notice_id: FromPath[UUID]) -> Response[PublicNotice]:
        """A notice in full: a reply or decision names the party, what it raised, the outcome,
        the remedy applied and the text. With `ETag` and `Last-Modified`: `If-None-Match` or
        `If-Modified-Since` gets 304 while it is unchanged."""
        notice, changed_at = await service.get_notice_with_time(notice_id)
        return conditional_response(request, notice, last_modified=changed_at)


class PublicIntentionController(Controller):
    path = "/api/v1/public/procurement-intentions"
    tags = ["public"]
    opt = PUBLIC
    security = NO_TOKEN

    @get("/")
    async def list(
        self,
        region: Region = None,
        bureau_id: Annotated[UUID | None, QueryParameter()] = None,
        year: Annotated[int | None, QueryParameter(ge=2000, le=2100)] = None,
        status: Annotated[Literal["published", "withdrawn"] | None, QueryParameter()] = None,
        limit: Limit = None,
        cursor: Cursor = None,
    ) -> Page[PublicIntention]:
        """Procurement intentions (采购意向公开, 财库〔2020〕10号), newest publication first; a
        withdrawn one stays, marked withdrawn; never a draft."""
        return await service.list_intentions(
            region=region, bureau_id=bureau_id, year=year, status=status, limit=limit, cursor=cursor
        )

    @get("/{intention_id:uuid}")
    async def read(self, intention_id: FromPath[UUID]) -> PublicIntention:
        """One published (or withdrawn) procurement intention."""
        return await service.get_intention(intention_id)


class OcdsController(Controller):
    path = "/api/v1/public/ocds"
    tags = ["public", "ocds"]
    opt = PUBLIC
    security = NO_TOKEN

    @get("/releases", cache_control=PUBLIC_LIST_CACHE)
    async def releases(
        self,
        request: Request,
        since: Annotated[int, QueryParameter(ge=0, description="seq of the last release already read (0: from the start)")] = 0,
        limit: Annotated[int, QueryParameter(ge=1, le=service.MAX_RELEASES_PER_PAGE)] = 100,
    ) -> dict[str, Any]:
        """An OCDS 1.1 release package of the releases after `since`, oldest first. Follow
        `links.next` to page on; an empty `releases` means the reader has caught up. No release
        that commits later can appear before `since` (the feed is in commit order)."""
        base = str(request.base_url).rstrip("/")
        return await service.release_package(
            since=since,
            limit=limit,
            uri=str(request.url),
            next_uri=f"{base}{self.path}/releases?since={{since}}&limit={{limit}}",
        )

    @get("/publication-policy", media_type=MediaType.HTML)
    async def publication_policy(self) -> str:
        """The publication policy every package names in `publicationPolicy` (unless
        GOVBUY_OCDS_PUBLICATION_POLICY points elsewhere): what is published, when, and what never is."""
        return service.publication_policy()

    @get("/records/{ocid:str}")
    async def record(self, request: Request, ocid: FromPath[str]) -> Response[dict[str, Any]]:
        """An OCDS 1.1 record package of one contracting process: every release, embedded,
        and the compiled release (the process as it stands). `Last-Modified` is its last
        release's date; `If-None-Match` or `If-Modified-Since` gets 304 until the next release."""
        package = await service.record_package(ocid, uri=str(request.url))
        return conditional_response(request, package, last_modified=datetime.fromisoformat(package["publishedDate"]))


class PublicAuditHeadController(Controller):
    path = "/api/v1/public/audit-head"
    tags = ["public", "audit"]
    opt = PUBLIC
    security = NO_TOKEN

    @get("/")
    async def head(
        self,
        seq: Annotated[int | None, QueryParameter(ge=1, le=2**63 - 1, description="a kept head's seq: the hash the chain holds there now")] = None,
    ) -> PublicAuditHead:
        """The audit chain's head as last published (seq and hash of its newest event then): keep
        it. With `seq`, the hash the chain holds at that place now — a different one, or a 404,
        means the chain was rewritten or cut since."""
        return await service.audit_head(seq)
