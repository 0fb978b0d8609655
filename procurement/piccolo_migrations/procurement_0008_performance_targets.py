"""A tender's performance targets (绩效目标, 财库〔2021〕22号; 预算法 Art. 32): [{indicator, unit,
target, direction, figure}], part of its public terms; tenders made before have none."""

from govbuy.migration import sql_migration

ID = "2026-12-03T14:50:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "performance targets"

SQL = """
ALTER TABLE tenders ADD COLUMN performance_targets jsonb NOT NULL DEFAULT '[]'
    CHECK (jsonb_typeof(performance_targets) = 'array');
"""


forwards = sql_migration(ID, "procurement", DESCRIPTION, SQL)
