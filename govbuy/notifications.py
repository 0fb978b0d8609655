"""Notification records: what the service must tell an organisation about a change it did not
make itself (a bid deadline moved, a window extended when a year's schedule was recorded).

Written in the transaction of the change, one row per organisation told. Delivery (an inbox,
webhooks) reads these rows; until then they are the record that the party was told.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from govbuy import audit
from govbuy import database as db
from govbuy.rules import last_day
from govbuy.schemas import PeriodChange


async def record(
    organisation_ids: Iterable[UUID],
    event: str,
    entity_type: str,
    entity_id: Any,
    message: str,
    now: datetime,
    details: dict[str, Any] | None = None,
) -> int:
    """Tell each organisation once (duplicates in `organisation_ids` are dropped); how many."""
    if db.DB.current_transaction.get() is None:
        raise RuntimeError("notifications are written inside the change's transaction")
    told = sorted(set(organisation_ids), key=str)
    if not told:
        return 0
    await db.execute(
        """INSERT INTO notifications (id, organisation_id, event, entity_type, entity_id, message, details, created_at)
           SELECT u.id, u.org, $3, $4, $5, $6, $7, $8
           FROM unnest($1::uuid[], $2::uuid[]) AS u(id, org)""",
        [uuid4() for _ in told],
        told,
        event,
        entity_type,
        str(entity_id),
        message,
        details or {},
        now,
    )
    return len(told)


async def period_extended(
    actor: Any,
    event: str,
    entity_type: str,
    entity_id: Any,
    period: str,
    before: datetime,
    after: datetime,
    *,
    told: Iterable[UUID],
    message: str,
    reason: str,
    now: datetime,
    context: dict[str, Any] | None = None,
) -> PeriodChange:
    """A period given to a party now ends later (a year's holiday schedule was recorded): the
    change is audited with its reason, each party told is notified, and the change returned for
    the recording's answer. Runs in the transaction that moved the period."""
    context = context or {}
    await audit.record(
        actor, event, entity_type, entity_id,
        before={**context, period: before}, after={**context, period: after, "reason": reason},
    )
    await record(told, event, entity_type, entity_id, message, now, {"before": before.isoformat(), "after": after.isoformat()})
    return PeriodChange(
        entity_type=entity_type, entity_id=str(entity_id), period=period, before=before, after=after,
        last_day=last_day(after),
    )
