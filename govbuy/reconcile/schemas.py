"""Schemas of the reconciliation (GET /api/v1/audit-events/reconcile)."""

from __future__ import annotations

from pydantic import Field

from govbuy.schemas import Output


class Difference(Output):
    entity_type: str = Field(description="the audit log's entity type: budget_line, contract, payment")
    entity_id: str
    field: str = Field(description="the stored column")
    stored: str | None = Field(description="the value in the database (none: no row)")
    from_events: str | None = Field(description="the value the entity's latest event carrying the field gives (none: no event)")


class Reconciliation(Output):
    ok: bool
    fields_checked: list[str] = Field(description="entity_type.field of every figure compared")
    differences_total: int
    differences: list[Difference] = Field(description="the first differences, by field then entity id")
