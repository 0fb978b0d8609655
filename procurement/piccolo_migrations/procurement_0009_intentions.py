"""A tender links the procurement intention (采购意向, 财库〔2020〕10号) it was announced by, and
records why it is published without one, or sooner than 30 days after it
(`intention_notice_exception`): that reason is part of its public terms. Tenders made before
have neither."""

from govbuy.migration import sql_migration

ID = "2026-12-11T09:10:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "tender intentions"

SQL = """
ALTER TABLE tenders ADD COLUMN procurement_intention_id uuid REFERENCES procurement_intentions(id),
    ADD COLUMN intention_notice_exception text
        CHECK (intention_notice_exception IS NULL OR length(btrim(intention_notice_exception)) > 0);
CREATE INDEX tenders_procurement_intention ON tenders (procurement_intention_id)
    WHERE procurement_intention_id IS NOT NULL;
"""


forwards = sql_migration(ID, "procurement", DESCRIPTION, SQL)
