"""The public OCDS feed: one row per release, appended in the transaction of the change it
describes while the audit chain's lock is held, so `seq` order is commit order.

No foreign key to the domains' tables: the kernel's migrations run before theirs, and a
published release is a public record that outlives whatever it describes.
"""

from govbuy.migration import sql_migration

ID = "2026-11-22T03:00:00:000002"
VERSION = "1.38.0"
DESCRIPTION = "OCDS release feed"

SQL = """
CREATE TABLE ocds_releases (
    seq bigserial PRIMARY KEY,
    release_id varchar(120) NOT NULL UNIQUE,
    ocid varchar(100) NOT NULL,
    tender_id uuid NOT NULL,
    date timestamptz NOT NULL,
    tags text[] NOT NULL CHECK (cardinality(tags) > 0),
    data jsonb NOT NULL CHECK (jsonb_typeof(data) = 'object'),
    -- The writing transaction: it may still rewrite or drop its own release (the state at its
    -- last event), never one another transaction committed.
    written_by_xact xid8 NOT NULL DEFAULT pg_current_xact_id()
);
CREATE INDEX ocds_releases_ocid ON ocds_releases (ocid, seq);

-- Published releases are immutable: a reader that saw one never sees it change.
CREATE FUNCTION ocds_releases_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND OLD.written_by_xact = pg_current_xact_id() THEN
        RETURN OLD;
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.written_by_xact = pg_current_xact_id()
       AND NEW.seq = OLD.seq AND NEW.release_id = OLD.release_id AND NEW.ocid = OLD.ocid
       AND NEW.written_by_xact = OLD.written_by_xact THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'ocds_releases is append-only' USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER ocds_releases_no_update BEFORE UPDATE OR DELETE ON ocds_releases
    FOR EACH ROW EXECUTE FUNCTION ocds_releases_immutable();
CREATE TRIGGER ocds_releases_no_truncate BEFORE TRUNCATE ON ocds_releases
    FOR EACH STATEMENT EXECUTE FUNCTION ocds_releases_immutable();
"""


forwards = sql_migration(ID, "govbuy", DESCRIPTION, SQL)
