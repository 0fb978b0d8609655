"""Request and response schemas of planning: the guidance catalogue (指导性目录), its items and
import, and budget lines (先有预算、后购买服务). Amounts are judged by `planning.rules`, so that
the client gets the rule's code rather than a generic one."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
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
    negative_list_overrides: int = Field(description="items that passed the negative list by an override")
    created_at: datetime
    published_at: datetime | None
    superseded_at: datetime | None
    superseded_by: UUID | None
    version: int


class CatalogueItemCreate(Input):
    code: str = Field(max_length=20, description="A, A01 or A0101 (level 1, 2, 3)")
    name: str = Field(max_length=200)
    description: str = Field(default="", max_length=4000)
    negative_list_override_reason: str | None = Field(
        default=None,
        max_length=1000,
        description="why an item the negative list (负面清单, 财政部令第102号 Art. 10) refuses is a "
        "service all the same: the override is stored with the item and audited; ignored when "
        "the item matches nothing",
    )


class NegativeListMatchRead(Output):
    pattern: str = Field(description="id of the negative-list pattern, e.g. goods.purchase")
    category: Literal["goods", "works", "works_and_services", "financing", "own_staffing", "other"]
    article: str = Field(description="the article the pattern enforces")
    field: Literal["name", "description"]
    matched: str = Field(description="the text the pattern matched (normalised)")


class NegativeListOverrideRead(Output):
    reason: str
    matches: list[NegativeListMatchRead] = Field(description="the patterns the bureau overrode")


class CatalogueItemRead(Output):
    id: UUID
    catalogue_id: UUID
    code: str
    level: int
    parent_code: str | None
    name: str
    description: str
    negative_list_override: NegativeListOverrideRead | None = Field(
        description="set when the item passed the negative list only by the bureau's override"
    )


class CatalogueImportRead(Output):
    catalogue_id: UUID
    imported: int
    by_level: dict[str, int] = Field(description='items imported per level: {"1": n, "2": n, "3": n}')
    negative_list_overrides: int = Field(description="rows that passed the negative list by an override")
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


# --- procurement intentions (采购意向公开, 财库〔2020〕10号) ------------------------------------

ExpectedMonth = Annotated[
    str,
    Field(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$", description="预计采购时间: YYYY-MM, not past (Asia/Shanghai)"),
]
IntentionStatus = Literal["draft", "published", "withdrawn"]


class ProcurementIntentionCreate(Input):
    budget_line_id: UUID = Field(description="one of the bureau's own budget lines")
    title: str = Field(min_length=1, max_length=200, description="采购项目名称")
    needs: str = Field(min_length=1, max_length=4000, description="采购需求概况: what is to be bought")
    budget_amount: Money = Field(description="预算金额: at most what the line has available now (a check, not a reservation)")
    expected_month: ExpectedMonth
    remarks: str = Field(default="", max_length=2000, description="备注")


class ProcurementIntentionUpdate(Input):
    title: str | None = Field(default=None, min_length=1, max_length=200)
    needs: str | None = Field(default=None, min_length=1, max_length=4000)
    budget_amount: Money | None = None
    expected_month: ExpectedMonth | None = None
    remarks: str | None = Field(default=None, max_length=2000)


class ProcurementIntentionWithdraw(Input):
    reason: str = Field(min_length=1, max_length=2000, description="why the bureau no longer plans the purchase")


class ProcurementIntentionRead(Output):
    id: UUID
    bureau_id: UUID
    budget_line_id: UUID
    year: int = Field(description="the budget line's year")
    title: str
    needs: str
    budget_amount: Money
    expected_month: str = Field(description="YYYY-MM")
    remarks: str
    status: IntentionStatus
    published_at: datetime | None
    withdrawn_at: datetime | None
    withdraw_reason: str | None
    created_at: datetime
    updated_at: datetime
    version: int
