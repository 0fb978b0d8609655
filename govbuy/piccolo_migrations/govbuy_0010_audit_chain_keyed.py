"""The audit chain keyed and covering every field (govbuy/audit.py), and the record of the heads
published to the public.

- `hash_version`: the scheme an event's hash was made under. Events written before this
  migration are version 1 (SHA-256 over some of the fields); from now on version 2 (HMAC-SHA256
  with the key kept outside the database, over every field). The default of 1 exists only to
  mark the existing rows: it is dropped, so every new event states its version.
- `key_id`: which key a version-2 hash was made with (none for version 1).
- `actor_role`: the role the actor acted in (none for the system and for earlier events).
- `audit_heads`: every (seq, hash) of the chain's last event as it was published; verify fails
  when one is no longer in the chain (the last events deleted). Append-only like the log.
"""

from govbuy.migration import sql_migration

ID = "2026-12-07T09:00:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "audit chain: hash versions, key ids, published heads"

SQL = """
ALTER TABLE audit_events
    ADD COLUMN hash_version smallint NOT NULL DEFAULT 1 CHECK (hash_version IN (1, 2)),
    ADD COLUMN key_id char(16) CHECK (key_id ~ '^[0-9a-f]{16}$'),
    ADD COLUMN actor_role varchar(20),
    ADD CONSTRAINT audit_events_keyed CHECK ((hash_version = 1) = (key_id IS NULL));
ALTER TABLE audit_events ALTER COLUMN hash_version DROP DEFAULT;
-- verify looks for an event of an older scheme after a newer one: few rows, a small index.
CREATE INDEX audit_events_older_scheme ON audit_events (seq) WHERE hash_version < 2;

-- One trigger function for every append-only table, naming the table.
CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TABLE audit_heads (
    id bigserial PRIMARY KEY,
    seq bigint NOT NULL,
    hash char(64) NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$'),
    published_at timestamptz NOT NULL
);
CREATE INDEX audit_heads_seq ON audit_heads (seq);
CREATE TRIGGER audit_heads_no_update BEFORE UPDATE OR DELETE ON audit_heads
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_heads_no_truncate BEFORE TRUNCATE ON audit_heads
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();
"""


forwards = sql_migration(ID, "govbuy", DESCRIPTION, SQL)
