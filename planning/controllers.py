"""Planning endpoints: the guidance catalogue (指导性目录: versions, items, import, publication),
budget lines (先有预算、后购买服务) and procurement intentions (采购意向, 财库〔2020〕10号). Handlers parse, authorise by role and call the service,
which decides what the caller's organisation may see (404 when not theirs)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from uuid import UUID

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, JSONBody, QueryParameter

from govbuy.auth import any_signed_in, requires
from govbuy.http import LONG_RUNNING, Cursor, IfMatch, Limit, RequiredIfMatch, with_etag
from govbuy.pagination import Page
from govbuy.settings import get_settings
from planning import service
from planning.schemas import (
    BudgetLineCreate,
    BudgetLineRead,
    BudgetLineUpdate,
    CatalogueCreate,
    CatalogueImportRead,
    CatalogueItemCreate,
    CatalogueItemRead,
    CatalogueRead,
    ProcurementIntentionCreate,
    ProcurementIntentionRead,
    ProcurementIntentionUpdate,
    ProcurementIntentionWithdraw,
)

# Multipart framing around the file; the file itself is held to max_upload_bytes by the service.
_MULTIPART_SLACK = 64 * 1024


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
        return with_etag(await service.create_catalogue(request.user, data), 201)

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
        return with_etag(await service.get_catalogue(request.user, catalogue_id))

    @post("/{catalogue_id:uuid}/items", guards=[requires("bureau")])
    async def add_item(
        self, request: Request, catalogue_id: FromPath[UUID], data: JSONBody[CatalogueItemCreate]
    ) -> CatalogueItemRead:
        """Add an item to a draft: its parent must exist, and the negative list (负面清单,
        财政部令第102号 Art. 10) is checked; an item it refuses passes only with the bureau's
        `negative_list_override_reason`, stored with the item and audited."""
        return await service.add_catalogue_item(request.user, catalogue_id, data)

    @get("/{catalogue_id:uuid}/items", guards=[any_signed_in])
    async def items(
        self,
        request: Request,
        catalogue_id: FromPath[UUID],
        level: Annotated[int | None, QueryParameter(ge=1, le=3)] = None,
        parent_code: Annotated[str | None, QueryParameter(max_length=5)] = None,
        negative_list_overridden: Annotated[bool | None, QueryParameter()] = None,
        limit: Limit = None,
        cursor: Cursor = None,
    ) -> Page[CatalogueItemRead]:
        """Items in code order, filtered by level, parent, or whether they passed the negative
        list (负面清单) only by the bureau's override (`negative_list_overridden=true`)."""
        return await service.list_catalogue_items(
            request.user, catalogue_id, level, parent_code, limit, cursor, negative_list_overridden
        )

    @delete("/{catalogue_id:uuid}/items/{item_id:uuid}", guards=[requires("bureau")])
    async def remove_item(self, request: Request, catalogue_id: FromPath[UUID], item_id: FromPath[UUID]) -> None:
        """Remove an item (without children) from a draft."""
        await service.delete_catalogue_item(request.user, catalogue_id, item_id)

    @post(
        "/{catalogue_id:uuid}/import",
        guards=[requires("bureau")],
        status_code=200,
        request_max_body_size=get_settings().max_upload_bytes + _MULTIPART_SLACK,
        opt=LONG_RUNNING,
    )
    async def import_file(
        self,
        request: Request,
        catalogue_id: FromPath[UUID],
        data: Annotated[CatalogueUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> CatalogueImportRead:
        """Import a whole catalogue from an .xlsx or .csv file (multipart field `file`). Every
        row is checked first; any bad row (reported with its row number) imports nothing. A
        file past the caps is refused with 413: `import_too_complex` (more rows, cells or
        shared strings than the settings allow, or more memory to read), `import_timeout`
        (longer than `parse_timeout_seconds` to read)."""
        content = await data.file.read()
        return await service.import_catalogue(request.user, catalogue_id, data.file.filename or "", content)

    @post("/{catalogue_id:uuid}/publish", guards=[requires("bureau")], status_code=200)
    async def publish(self, request: Request, catalogue_id: FromPath[UUID], if_match: IfMatch = None) -> Response[CatalogueRead]:
        """Publish a draft; the previously published version of the region and year is superseded."""
        return with_etag(await service.publish_catalogue(request.user, catalogue_id, if_match))


class BudgetLineController(Controller):
    path = "/api/v1/budget-lines"
    tags = ["budget"]

    @post("/", guards=[requires("bureau")])
    async def create(self, request: Request, data: JSONBody[BudgetLineCreate]) -> Response[BudgetLineRead]:
        """Create one of the bureau's budget lines (先有预算、后购买服务)."""
        return with_etag(await service.create_budget_line(request.user, data), 201)

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
        return with_etag(await service.get_budget_line(request.user, line_id))

    @patch("/{line_id:uuid}", guards=[requires("bureau")])
    async def update(
        self, request: Request, line_id: FromPath[UUID], data: JSONBody[BudgetLineUpdate], if_match: RequiredIfMatch
    ) -> Response[BudgetLineRead]:
        """Adjust a line's title or amount (never below what is reserved and committed), with
        If-Match of the version last read (428 without)."""
        return with_etag(await service.update_budget_line(request.user, line_id, data, if_match))



class ProcurementIntentionController(Controller):
    path = "/api/v1/procurement-intentions"
    tags = ["budget"]

    @post("/", guards=[requires("bureau")])
    async def create(self, request: Request, data: JSONBody[ProcurementIntentionCreate]) -> Response[ProcurementIntentionRead]:
        """Draft a procurement intention (采购意向, 财库〔2020〕10号) from one of the bureau's budget
        lines: its budget at most what the line has available now (a check, not a reservation),
        its expected month not past."""
        return with_etag(await service.create_intention(request.user, data), 201)

    @get("/", guards=[requires("bureau", "admin", "supervisor")])
    async def list(
        self,
        request: Request,
        status: Annotated[str | None, QueryParameter(pattern=r"^(draft|published|withdrawn)$")] = None,
        year: Annotated[int | None, QueryParameter(ge=2000, le=2100)] = None,
        bureau_id: Annotated[UUID | None, QueryParameter()] = None,
        limit: Limit = None,
        cursor: Cursor = None,
    ) -> Page[ProcurementIntentionRead]:
        """The bureau's intentions (admins and supervisors: every bureau's), newest first."""
        return await service.list_intentions(
            request.user, status=status, year=year, bureau_id=bureau_id, limit=limit, cursor=cursor
        )

    @get("/{intention_id:uuid}", guards=[requires("bureau", "admin", "supervisor")])
    async def read(self, request: Request, intention_id: FromPath[UUID]) -> Response[ProcurementIntentionRead]:
        """One procurement intention."""
        return with_etag(await service.get_intention(request.user, intention_id))

    @patch("/{intention_id:uuid}", guards=[requires("bureau")])
    async def update(
        self,
        request: Request,
        intention_id: FromPath[UUID],
        data: JSONBody[ProcurementIntentionUpdate],
        if_match: RequiredIfMatch,
    ) -> Response[ProcurementIntentionRead]:
        """Change a draft, with If-Match of the version last read (428 without)."""
        return with_etag(await service.update_intention(request.user, intention_id, data, if_match))

    @post("/{intention_id:uuid}/publish", guards=[requires("bureau")], status_code=200)
    async def publish(
        self, request: Request, intention_id: FromPath[UUID], if_match: IfMatch = None
    ) -> Response[ProcurementIntentionRead]:
        """Publish a draft: public from now on; a tender of its line published 30 days after it or
        later needs no exception (财库〔2020〕10号)."""
        return with_etag(await service.publish_intention(request.user, intention_id, if_match))

    @post("/{intention_id:uuid}/withdraw", guards=[requires("bureau")], status_code=200)
    async def withdraw(
        self,
        request: Request,
        intention_id: FromPath[UUID],
        data: JSONBody[ProcurementIntentionWithdraw],
        if_match: IfMatch = None,
    ) -> Response[ProcurementIntentionRead]:
        """Withdraw an intention with the reason; a published one stays public, marked withdrawn."""
        return with_etag(await service.withdraw_intention(request.user, intention_id, data.reason, if_match))
