"""The exclusions of 政府购买服务管理办法 (财政部令第102号) Art. 8: an organisation that is a
公益一类事业单位, or a 群团组织 on 事业编制 funded by the budget, may not supply purchased services.
One row per excluded organisation, with the source the admin recorded it from; lifting it
deletes the row (the audit log keeps the history)."""

from govbuy.migration import sql_migration

ID = "2026-12-03T14:20:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "legal exclusions"

SQL = """
CREATE TABLE legal_exclusions (
    vendor_id uuid PRIMARY KEY REFERENCES organisations(id),
    category varchar(40) NOT NULL
        CHECK (category IN ('public_welfare_institution_class_1', 'budget_funded_mass_organisation')),
    source text NOT NULL CHECK (length(btrim(source)) > 0 AND length(source) <= 2000),
    recorded_by uuid REFERENCES users(id),
    recorded_at timestamptz NOT NULL,
    version integer NOT NULL DEFAULT 1
);
"""


forwards = sql_migration(ID, "vendors", DESCRIPTION, SQL)
