"""The processes whose latest change has no OCDS release yet, because building it failed: the
change went through (a release never blocks the purchase), and the release is owed until a retry
(`govbuy retry-releases`, or the process's next change) publishes it. `/health` counts them."""

from govbuy.migration import sql_migration

ID = "2026-12-10T09:00:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "OCDS releases owed"

SQL = """
CREATE TABLE ocds_pending_releases (
    tender_id uuid PRIMARY KEY,
    entity_type text NOT NULL,
    action text NOT NULL,
    first_failed_at timestamptz NOT NULL,
    last_failed_at timestamptz NOT NULL,
    attempts integer NOT NULL DEFAULT 1 CHECK (attempts >= 1),
    last_error text NOT NULL
);
"""


forwards = sql_migration(ID, "govbuy", DESCRIPTION, SQL)
