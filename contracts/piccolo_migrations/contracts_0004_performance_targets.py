"""The performance targets a contract inherits from its tender (绩效目标, 财库〔2021〕22号)."""

from govbuy.migration import sql_migration

ID = "2026-12-03T14:50:00:000002"
VERSION = "1.38.0"
DESCRIPTION = "contract performance targets"

SQL = """
ALTER TABLE contracts ADD COLUMN performance_targets jsonb NOT NULL DEFAULT '[]'
    CHECK (jsonb_typeof(performance_targets) = 'array');
"""


forwards = sql_migration(ID, "contracts", DESCRIPTION, SQL)
