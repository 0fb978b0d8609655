"""Checkpoints of the audit chain (govbuy/audit.py: `verify`): each a point up to which a
verification walked the chain and found it whole, with the hash the event there had. A
verification walks only from the latest one; a full walk (`?full=true`) checks every one
against its event, so that a chain rewritten and re-hashed from some point on is found even
though its links agree with each other. Append-only, as the log itself."""

from govbuy.migration import sql_migration

ID = "2026-12-06T14:20:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "audit chain checkpoints"

SQL = """
CREATE TABLE audit_checkpoints (
    seq bigint PRIMARY KEY,
    hash text NOT NULL,
    verified_at timestamptz NOT NULL
);

CREATE FUNCTION audit_checkpoints_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_checkpoints is append-only' USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE OR DELETE ON audit_checkpoints
    FOR EACH ROW EXECUTE FUNCTION audit_checkpoints_append_only();
CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION audit_checkpoints_append_only();
"""


forwards = sql_migration(ID, "govbuy", DESCRIPTION, SQL)
