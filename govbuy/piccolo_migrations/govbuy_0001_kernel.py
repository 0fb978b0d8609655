"""Kernel schema: organisations, users, audit log (append-only), calendar, sandbox clock."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-22T03:00:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "kernel schema"

SQL = """
CREATE TABLE organisations (
    id uuid PRIMARY KEY,
    name varchar(200) NOT NULL CHECK (length(btrim(name)) > 0),
    kind varchar(20) NOT NULL CHECK (kind IN ('platform','bureau','vendor','evaluator','supervisor')),
    uscc varchar(18) UNIQUE,
    region_code varchar(6) CHECK (region_code ~ '^[0-9]{6}$'),
    created_at timestamptz NOT NULL DEFAULT now(),
    version integer NOT NULL DEFAULT 1
);
CREATE INDEX organisations_kind_name ON organisations (kind, name, id);

CREATE TABLE users (
    id uuid PRIMARY KEY,
    username varchar(64) NOT NULL UNIQUE,
    password_hash text NOT NULL,
    organisation_id uuid NOT NULL REFERENCES organisations(id),
    role varchar(20) NOT NULL CHECK (role IN ('admin','bureau','vendor','expert','evaluator','supervisor')),
    active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    version integer NOT NULL DEFAULT 1
);
CREATE INDEX users_organisation ON users (organisation_id, username);

CREATE TABLE login_failures (
    id bigserial PRIMARY KEY,
    username varchar(64) NOT NULL,
    address varchar(64) NOT NULL,
    attempted_at timestamptz NOT NULL
);
CREATE INDEX login_failures_user ON login_failures (username, attempted_at);
CREATE INDEX login_failures_address ON login_failures (address, attempted_at);

CREATE TABLE audit_events (
    seq bigserial PRIMARY KEY,
    id uuid NOT NULL UNIQUE,
    occurred_at timestamptz NOT NULL,
    actor_user_id uuid,
    actor_username varchar(64) NOT NULL,
    organisation_id uuid,
    action varchar(64) NOT NULL,
    entity_type varchar(64) NOT NULL,
    entity_id varchar(64) NOT NULL,
    before jsonb,
    after jsonb,
    prev_hash char(64) NOT NULL,
    hash char(64) NOT NULL UNIQUE
);
CREATE INDEX audit_events_entity ON audit_events (entity_type, entity_id, seq);
CREATE INDEX audit_events_actor ON audit_events (actor_user_id, seq);

-- The log is append-only: the service's own connections cannot rewrite it.
CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only' USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_events_no_update BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();

CREATE TABLE calendar_years (
    year integer PRIMARY KEY CHECK (year BETWEEN 2000 AND 2100),
    holidays date[] NOT NULL,
    workdays date[] NOT NULL,
    source varchar(100) NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE sandbox_clock (
    id integer PRIMARY KEY CHECK (id = 1),
    offset_seconds bigint NOT NULL DEFAULT 0 CHECK (offset_seconds >= 0)
);
"""


async def seed_calendar() -> None:
    """Seed the official schedules the chinesecalendar package knows (调休 included)."""
    import chinese_calendar
    from chinese_calendar.constants import holidays, workdays

    from govbuy import database as db

    for year in sorted({d.year for d in holidays}):
        await db.execute(
            "INSERT INTO calendar_years (year, holidays, workdays, source) VALUES ($1, $2, $3, $4)",
            year,
            sorted(d for d in holidays if d.year == year),
            sorted(d for d in workdays if d.year == year),
            f"chinesecalendar {chinese_calendar.__version__}",
        )


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="govbuy", description=DESCRIPTION)

    async def run():
        from govbuy import database as db

        await db.execute(SQL)
        await seed_calendar()

    manager.add_raw(run)
    return manager
