"""Vendors: assessment grades, credit-list entries and stored credit ratings (history kept)."""

from govbuy.migration import sql_migration

ID = "2026-11-22T03:10:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "vendors schema"

SQL = """
CREATE TABLE assessment_grades (
    id uuid PRIMARY KEY,
    vendor_id uuid NOT NULL REFERENCES organisations(id),
    grade smallint NOT NULL CHECK (grade BETWEEN 1 AND 5),
    awarded_on date NOT NULL,
    note text NOT NULL DEFAULT '',
    recorded_by uuid REFERENCES users(id),
    recorded_at timestamptz NOT NULL
);
CREATE INDEX assessment_grades_vendor ON assessment_grades (vendor_id, awarded_on DESC, id);

CREATE TABLE credit_list_entries (
    id uuid PRIMARY KEY,
    vendor_id uuid NOT NULL REFERENCES organisations(id),
    list varchar(40) NOT NULL CHECK (list IN ('abnormal','serious_dishonesty','dishonest_judgment_debtor',
                                              'major_tax_violation','procurement_blacklist')),
    reason text NOT NULL CHECK (length(btrim(reason)) > 0),
    listed_on date NOT NULL,
    removed_on date CHECK (removed_on IS NULL OR removed_on >= listed_on),
    removal_reason text,
    recorded_by uuid REFERENCES users(id),
    recorded_at timestamptz NOT NULL,
    removed_by uuid REFERENCES users(id),
    removal_recorded_at timestamptz,
    version integer NOT NULL DEFAULT 1
);
CREATE INDEX credit_list_entries_vendor ON credit_list_entries (vendor_id, listed_on DESC, id);
CREATE INDEX credit_list_entries_active ON credit_list_entries (vendor_id) WHERE removed_on IS NULL;

CREATE TABLE credit_ratings (
    id bigserial PRIMARY KEY,
    vendor_id uuid NOT NULL REFERENCES organisations(id),
    rated_on date NOT NULL,
    score numeric(5,2) CHECK (score BETWEEN 0 AND 100),
    grade char(1) CHECK (grade IN ('A','B','C','D')),
    provisional boolean NOT NULL,
    eligible boolean NOT NULL,
    rules_version varchar(40) NOT NULL,
    fingerprint char(64) NOT NULL,
    inputs jsonb NOT NULL,
    result jsonb NOT NULL,
    created_at timestamptz NOT NULL,
    CHECK (provisional OR (score IS NOT NULL AND grade IS NOT NULL))
);
CREATE INDEX credit_ratings_vendor ON credit_ratings (vendor_id, id DESC);
"""


forwards = sql_migration(ID, "vendors", DESCRIPTION, SQL)
