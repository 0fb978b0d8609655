"""Amendments of published tenders (澄清或者修改, 87号令 Art. 27): each keeps the changed terms
before and after, the reason, the bid deadline before and after (and whether the rule put it
back), who made it and when; it is a public notice (更正公告), listed through its own index
like every kind of notice. A tender counts its amendments and keeps the time of the last."""

from govbuy.migration import sql_migration

ID = "2026-12-12T09:00:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "tender amendments"

SQL = """
CREATE TABLE tender_amendments (
    id uuid PRIMARY KEY,
    tender_id uuid NOT NULL REFERENCES tenders(id),
    sequence integer NOT NULL CHECK (sequence >= 1),
    reason text NOT NULL CHECK (length(btrim(reason)) > 0),
    clarification boolean NOT NULL,
    changed_fields text[] NOT NULL CHECK (cardinality(changed_fields) > 0),
    before jsonb NOT NULL,
    after jsonb NOT NULL,
    deadline_before timestamptz NOT NULL,
    deadline_after timestamptz NOT NULL CHECK (deadline_after >= deadline_before),
    deadline_moved boolean NOT NULL,
    bidders_notified integer NOT NULL CHECK (bidders_notified >= 0),
    created_by uuid NOT NULL,
    created_at timestamptz NOT NULL,
    UNIQUE (tender_id, sequence)
);
CREATE INDEX tender_amendments_notices ON tender_amendments (created_at DESC, id DESC);
ALTER TABLE tenders ADD COLUMN amendment_count integer NOT NULL DEFAULT 0 CHECK (amendment_count >= 0),
    ADD COLUMN amended_at timestamptz;
"""


forwards = sql_migration(ID, "procurement", DESCRIPTION, SQL)
