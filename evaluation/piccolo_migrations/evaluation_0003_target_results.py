"""What the evaluator verified for each of the contract's performance targets (绩效目标,
财库〔2021〕22号): {indicator: value}, beside the figures the vendor reported."""

from govbuy.migration import sql_migration

ID = "2026-12-03T14:50:00:000003"
VERSION = "1.38.0"
DESCRIPTION = "evaluation target results"

SQL = """
ALTER TABLE evaluations ADD COLUMN target_results jsonb NOT NULL DEFAULT '{}'
    CHECK (jsonb_typeof(target_results) = 'object');
"""


forwards = sql_migration(ID, "evaluation", DESCRIPTION, SQL)
