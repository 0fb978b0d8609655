"""Procurement intentions (采购意向公开, 财库〔2020〕10号): what a bureau plans to buy — the project,
a summary of its needs, the budget and the month it expects to buy in — published, in principle,
at least 30 days before the procurement starts. An intention is drawn from one of the bureau's
budget lines; it moves draft → published → withdrawn (or draft → withdrawn), and a published
one stays public once withdrawn, marked so.

Indexes, one per list: the bureau's own list (newest first, by status and year), the list of
admins and supervisors over every bureau, the public list and notices (published ones, newest
publication first), and the look-up of a budget line's intentions.
"""

from govbuy.migration import sql_migration

ID = "2026-12-11T09:00:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "procurement intentions"

SQL = """
CREATE TABLE procurement_intentions (
    id uuid PRIMARY KEY,
    bureau_id uuid NOT NULL REFERENCES organisations(id),
    budget_line_id uuid NOT NULL REFERENCES budget_lines(id),
    year integer NOT NULL CHECK (year BETWEEN 2000 AND 2100),
    title varchar(200) NOT NULL CHECK (length(btrim(title)) > 0),
    needs text NOT NULL CHECK (length(btrim(needs)) > 0),
    budget_amount numeric(16, 2) NOT NULL CHECK (budget_amount > 0),
    expected_month date NOT NULL CHECK (extract(day FROM expected_month) = 1),
    remarks text NOT NULL DEFAULT '',
    status varchar(12) NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published', 'withdrawn')),
    published_at timestamptz,
    withdrawn_at timestamptz,
    withdraw_reason text,
    created_by uuid REFERENCES users(id),
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    version integer NOT NULL DEFAULT 1,
    CHECK (CASE status
        WHEN 'draft' THEN published_at IS NULL AND withdrawn_at IS NULL
        WHEN 'published' THEN published_at IS NOT NULL AND withdrawn_at IS NULL
        ELSE withdrawn_at IS NOT NULL AND length(btrim(withdraw_reason)) > 0 END)
);
CREATE INDEX procurement_intentions_bureau ON procurement_intentions (bureau_id, created_at DESC, id DESC);
CREATE INDEX procurement_intentions_bureau_year ON procurement_intentions (bureau_id, year, created_at DESC, id DESC);
CREATE INDEX procurement_intentions_all ON procurement_intentions (created_at DESC, id DESC);
CREATE INDEX procurement_intentions_public ON procurement_intentions (published_at DESC, id DESC)
    WHERE published_at IS NOT NULL;
CREATE INDEX procurement_intentions_budget_line ON procurement_intentions (budget_line_id) WHERE status = 'published';
"""


forwards = sql_migration(ID, "planning", DESCRIPTION, SQL)
