"""The check behind `govbuy reconcile` and `GET /api/v1/audit-events/reconcile`: for every budget
line (amount, reserved, committed, spent), contract (original amount, amount) and payment
(amount, withheld, status), the stored value against the value of the entity's latest audit
event that carries the field — the state the log says it was left in. Every change of these
figures goes through its domain's service, which writes the row and its event in one
transaction, so they agree unless the row was written around the service: a figure raised by
SQL, a row inserted without an event (no value from events), a row deleted (no stored value).

Which event carries which field:
- a budget line's `amount` is set only by `budget_line.created` and `budget_line.updated`; every
  other `budget_line.*` event is a move of its money, whose `after` also carries the moved
  amount under `amount`, so those are not read for it. `reserved`, `committed` and `spent`:
  every `budget_line.*` event (the line after the move);
- a contract's `amount`: `after.amount`, or `after.amount_after` of `contract.amended`;
- a payment's figures: `payment.created` and `payment.confirmed`.

One set-based statement per field over the entity's whole table (a full join of the table and
the latest carrying event per entity, on the audit log's (entity_type, entity_id, seq) index).

Top layer (STYLE habit 14): reads any domain's tables directly, set-based.
"""

from __future__ import annotations

from dataclasses import dataclass

from govbuy import database as db
from govbuy.reconcile.schemas import Difference, Reconciliation

MAX_DIFFERENCES = 200


def _money(key: str) -> str:
    """An event's `after.<key>` as a number, when it is one."""
    return f"CASE WHEN after->>'{key}' ~ '^-?[0-9]+(\\.[0-9]+)?$' THEN (after->>'{key}')::numeric END"


@dataclass(frozen=True)
class Figure:
    """A stored column and how an audit event of its entity gives its value (NULL: this event
    does not carry it)."""

    entity_type: str
    table: str
    column: str
    from_event: str

    @property
    def name(self) -> str:
        return f"{self.entity_type}.{self.column}"


_LINE_SET = "action IN ('budget_line.created', 'budget_line.updated')"

FIGURES = (
    Figure("budget_line", "budget_lines", "amount", f"CASE WHEN {_LINE_SET} THEN {_money('amount')} END"),
    Figure("budget_line", "budget_lines", "reserved", _money("reserved")),
    Figure("budget_line", "budget_lines", "committed", _money("committed")),
    Figure("budget_line", "budget_lines", "spent", _money("spent")),
    Figure("contract", "contracts", "original_amount", _money("original_amount")),
    Figure(
        "contract", "contracts", "amount",
        f"CASE WHEN action = 'contract.amended' THEN {_money('amount_after')} ELSE {_money('amount')} END",
    ),
    Figure("payment", "payments", "amount", _money("amount")),
    Figure("payment", "payments", "withheld_amount", _money("withheld_amount")),
    Figure("payment", "payments", "status", "after->>'status'"),
)


def _statement(figure: Figure) -> str:
    return f"""
        WITH carried AS (
            SELECT entity_id, seq, {figure.from_event} AS value FROM audit_events WHERE entity_type = $1
        ), latest AS (
            SELECT DISTINCT ON (entity_id) entity_id, value FROM carried
            WHERE value IS NOT NULL ORDER BY entity_id, seq DESC
        )
        SELECT coalesce(t.id::text, latest.entity_id) AS entity_id, t.{figure.column}::text AS stored,
               latest.value::text AS from_events, count(*) OVER () AS total
        FROM {figure.table} t FULL JOIN latest ON latest.entity_id = t.id::text
        WHERE t.{figure.column} IS DISTINCT FROM latest.value
        ORDER BY 1 LIMIT $2"""


async def reconcile(limit: int = MAX_DIFFERENCES) -> Reconciliation:
    """Every figure of FIGURES compared; the first `limit` differences and how many in all."""
    differences: list[Difference] = []
    total = 0
    for figure in FIGURES:
        rows = await db.fetch(_statement(figure), figure.entity_type, limit)
        total += rows[0]["total"] if rows else 0
        differences += [
            Difference(entity_type=figure.entity_type, entity_id=r["entity_id"], field=figure.column,
                       stored=r["stored"], from_events=r["from_events"])
            for r in rows
        ]
    return Reconciliation(
        ok=total == 0,
        fields_checked=[f.name for f in FIGURES],
        differences_total=total,
        differences=differences[:limit],
    )
