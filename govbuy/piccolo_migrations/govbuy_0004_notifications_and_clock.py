"""Notification records, and a sandbox clock that may start before the wall clock.

`notifications`: what the service has to tell an organisation (a deadline moved, a window
extended), kept until a delivery mechanism reads them. `sandbox_clock.offset_seconds` may now be
negative: the sandbox clock can be pinned to an instant before today (tests, training from a
chosen date); the API still only moves it forward.
"""

from govbuy.migration import sql_migration

ID = "2026-12-03T10:00:00:000003"
VERSION = "1.38.0"
DESCRIPTION = "notifications; sandbox clock pinnable"

SQL = """
ALTER TABLE sandbox_clock DROP CONSTRAINT IF EXISTS sandbox_clock_offset_seconds_check;

CREATE TABLE notifications (
    id uuid PRIMARY KEY,
    organisation_id uuid NOT NULL REFERENCES organisations(id),
    event varchar(64) NOT NULL CHECK (event ~ '^[a-z_.]+$'),
    entity_type varchar(64) NOT NULL,
    entity_id varchar(64) NOT NULL,
    message text NOT NULL CHECK (length(btrim(message)) > 0),
    details jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(details) = 'object'),
    created_at timestamptz NOT NULL,
    read_at timestamptz
);
CREATE INDEX notifications_inbox ON notifications (organisation_id, created_at DESC, id DESC);
"""


forwards = sql_migration(ID, "govbuy", DESCRIPTION, SQL)
