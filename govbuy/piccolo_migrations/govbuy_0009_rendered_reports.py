"""The store of rendered reports (govbuy/report_store.py): the PDF bytes of every report rendered,
keyed by its render cache key (the data digest under the renderer version), so that every API
process and host serves a report rendered once, and a restart keeps it.

`subject` names what the report is of, for reports whose renderer gives one (an evaluation's
id): `govbuy prerender-reports` finds what has no stored render with it. `served_at` is the
last time the store served the report; eviction drops the longest unserved first.
"""

from govbuy.migration import sql_migration

ID = "2026-12-05T09:00:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "rendered reports store"

SQL = """
CREATE TABLE rendered_reports (
    cache_key char(64) PRIMARY KEY CHECK (cache_key ~ '^[0-9a-f]{64}$'),
    data_digest char(64) NOT NULL CHECK (data_digest ~ '^[0-9a-f]{64}$'),
    renderer_version varchar(20) NOT NULL,
    template varchar(100) NOT NULL,
    subject varchar(100),
    content bytea NOT NULL,
    sha256 char(64) NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    page_count integer NOT NULL CHECK (page_count > 0),
    size integer NOT NULL CHECK (size = octet_length(content)),
    created_at timestamptz NOT NULL,
    served_at timestamptz NOT NULL
);
-- The PDF is already compressed: keep it out of line without trying to compress it again.
ALTER TABLE rendered_reports ALTER COLUMN content SET STORAGE EXTERNAL;
CREATE INDEX rendered_reports_subject ON rendered_reports (template, subject) WHERE subject IS NOT NULL;
CREATE INDEX rendered_reports_served ON rendered_reports (served_at DESC, cache_key DESC);
"""


forwards = sql_migration(ID, "govbuy", DESCRIPTION, SQL)
