"""GET /api/v1/audit-events/reconcile: the stored money against the audit log (admin, supervisor)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.params import QueryParameter

from govbuy.auth import requires
from govbuy.reconcile import service
from govbuy.reconcile.schemas import Reconciliation


class ReconcileController(Controller):
    path = "/api/v1/audit-events/reconcile"
    tags = ["audit"]
    guards = [requires("admin", "supervisor")]

    @get("/")
    async def reconcile(
        self,
        limit: Annotated[int, QueryParameter(ge=1, le=service.MAX_DIFFERENCES, description="at most this many differences listed")] = 100,
    ) -> Reconciliation:
        """Budget lines, contracts and payments as stored against the values their latest audit
        events give: every difference (a figure changed without its event) with both values."""
        return await service.reconcile(limit)
