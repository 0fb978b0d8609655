"""Request and response schemas of planning: the guidance catalogue (指导性目录), its items and
import, and budget lines (先有预算、后购买服务). Amounts are judged by `planning.rules`, so that
the client gets the rule's code rather than a generic one."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import Field

from govbuy.schemas import Input, Money, Output


# --- catalogue -------------------------------------------------------------------------------


class CatalogueCreate(Input):
    region_code: str = Field(pattern=r"^[0-9]{6}$", description="行政区划代码 of the bureau's region")
    year: int = Field(ge=2000, le=2100)
    title: str = Field(min_length=1, max_length=200)


class CatalogueRead(Output):
    id: UUID
    region_code: str
    year: int
    version_no: int = Field(description="1, 2, … per region and year")
    title: str
    status: Literal["draft", "published", "superseded"]
    item_count: int
    created_at: datetime
    published_at: datetime | None
    superseded_at: datetime | None
    superseded_by: UUID | None
    version: int


class CatalogueItemCreate(Input):
    code: str = Field(max_length=20, description="A, A01 or A0101 (level 1, 2, 3)")
    name: str = Field(max_length=200)
    description: str = Field(default="", max_length=4000)


class CatalogueItemRead(Output):
    id: UUID
    catalogue_id: UUID
    code: str
    level: int
    parent_code: str | None
    name: str
    description: str


class CatalogueImportRead(Output):
    catalogue_id: UUID
    imported: int
    by_level: dict[str, int] = Field(description='items imported per level: {"1": n, "2": n, "3": n}')
    file_sha256: str


# --- budget lines -----------------------------------------------------------------------------


class BudgetLineCreate(Input):
    code: str = Field(min_length=1, max_length=40, description="budget classification code")
    year: int = Field(ge=2000, le=2100)
    title: str = Field(min_length=1, max_length=200)
    amount: Money


class BudgetLineUpdate(Input):
    title: str | None = Field(default=None, min_length=1, max_length=200)
    amount: Money | None = None


class BudgetLineRead(Output):
    id: UUID
    bureau_id: UUID
    code: str
    year: int
    title: str
    amount: Money
    reserved: Money = Field(description="ceilings of published tenders not yet contracted, failed or cancelled")
    committed: Money = Field(description="signed contracts, amendments included, less terminations")
    spent: Money
    available: Money = Field(description="amount − reserved − committed")
    created_at: datetime
    updated_at: datetime
    version: int
