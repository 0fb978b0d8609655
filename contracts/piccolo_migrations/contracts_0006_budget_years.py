"""Multi-year contracts (102号令 Art. 24: 在预算保障的前提下): the milestones of a recurring contract
due in a later budget year are carried by that year's budget line, named by the bureau when it
signs. Null: the contract's own line (its tender's), as for every milestone of a contract that
is not multi-year.

An amendment (补充合同) may also change the performance targets (民法典 Art. 543: a contract is
changed by agreement), with or without adding to the amount: it keeps the targets before and
after."""

from govbuy.migration import sql_migration

ID = "2026-12-04T10:00:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "budget years of multi-year contracts; amendments of performance targets"

SQL = """
ALTER TABLE milestones ADD COLUMN budget_line_id uuid REFERENCES budget_lines(id);
CREATE INDEX milestones_budget_line ON milestones (budget_line_id) WHERE budget_line_id IS NOT NULL;
ALTER TABLE amendments DROP CONSTRAINT amendments_increase_check;
ALTER TABLE amendments ADD COLUMN targets_before jsonb, ADD COLUMN targets_after jsonb;
ALTER TABLE amendments ADD CONSTRAINT amendments_change CHECK (
    increase > 0 OR (increase = 0 AND targets_after IS NOT NULL));
"""


forwards = sql_migration(ID, "contracts", DESCRIPTION, SQL)
