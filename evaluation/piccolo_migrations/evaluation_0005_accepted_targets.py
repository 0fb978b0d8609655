"""An accepted evaluation keeps the performance targets it judged: a later amendment of the
contract's targets (民法典 Art. 543) applies to what is evaluated after it. Null: not yet accepted,
or accepted before targets could be amended (the contract's targets, unchanged since)."""

from govbuy.migration import sql_migration

ID = "2026-12-04T10:10:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "targets an accepted evaluation judged"

SQL = "ALTER TABLE evaluations ADD COLUMN accepted_targets jsonb;"


forwards = sql_migration(ID, "evaluation", DESCRIPTION, SQL)
