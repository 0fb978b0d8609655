"""The contract's vendor as an SME, as its winning bid declared it (财库〔2020〕46号): payments to
an SME are due 30 days after acceptance (保障中小企业款项支付条例, 国务院令第802号, Arts. 8–9).
Contracts made before keep NULL (no statutory due date is shown for them)."""

from govbuy.migration import sql_migration

ID = "2026-12-03T14:40:00:000002"
VERSION = "1.38.0"
DESCRIPTION = "contract vendor sme declaration"

SQL = """
ALTER TABLE contracts ADD COLUMN vendor_sme_declaration varchar(24)
    CHECK (vendor_sme_declaration IN ('medium','small','micro','prison_enterprise','disability_welfare_unit'));
"""


forwards = sql_migration(ID, "contracts", DESCRIPTION, SQL)
