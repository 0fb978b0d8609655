"""The two PostgreSQL roles govbuy runs as, and what each may do.

- The owner role owns the database, its `public` schema and every table, sequence and function
  in it, and runs the migrations.
- The app role is what the service connects as. It owns nothing, so it can neither drop nor
  alter a table — `ALTER TABLE … DISABLE TRIGGER` included — and the triggers that keep the audit
  log append-only, accepted evaluations and published catalogues immutable hold against the
  service's own connections, whatever statement a bug or an injection makes them send. It reads
  and writes rows: SELECT, INSERT, UPDATE, DELETE on the tables (never TRUNCATE, which no row
  trigger sees), USAGE on the sequences; on the audit log and its published heads only SELECT
  and INSERT, on the migration log only SELECT.

The embedded server creates both roles itself (govbuy/embedded.py). On an operator's server they
are created once by hand (docs/operations.md shows the SQL, docker/initdb/ the same for
docker-compose.yml); `grant_app_privileges` runs as the owner after every migration.
"""

from __future__ import annotations

import asyncpg

OWNER_ROLE = "govbuy_owner"
APP_ROLE = "govbuy_app"

#: Neither role is anything more than a login: no superuser (which bypasses every check), no
#: creating databases or roles, no bypassing row-level security, no replication.
ROLE_ATTRIBUTES = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS NOREPLICATION"

#: Tables the service only ever inserts into and reads (their triggers refuse the rest as well).
APPEND_ONLY_TABLES = ("audit_events", "audit_heads")
#: Tables only the owner writes: Piccolo's log of the migrations applied.
OWNER_WRITTEN_TABLES = ("migration",)


async def ensure_role(conn: asyncpg.Connection, name: str, password: str) -> None:
    """Create the login role `name` with `password`, or bring an existing one back to exactly
    ROLE_ATTRIBUTES and that password (run as a superuser or a role with CREATEROLE)."""
    exists = await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", name)
    verb = "ALTER" if exists else "CREATE"
    # format() quotes the name and the password; a password is never a bind parameter in DDL.
    statement = await conn.fetchval(f"SELECT format('{verb} ROLE %I {ROLE_ATTRIBUTES} PASSWORD %L', $1::text, $2::text)", name, password)
    await conn.execute(statement)


async def hand_over_database(conn: asyncpg.Connection, owner: str, app: str) -> None:
    """Make `owner` the owner of the connected database, its `public` schema and everything in
    it (a database made before the roles existed is taken over as it is), and let nobody but the
    two roles connect. Run as a superuser, connected to the database."""
    await conn.execute(
        await conn.fetchval(
            """SELECT format('ALTER DATABASE %1$I OWNER TO %2$I; REVOKE ALL ON DATABASE %1$I FROM PUBLIC; '
                             'GRANT CONNECT ON DATABASE %1$I TO %3$I; ALTER SCHEMA public OWNER TO %2$I; '
                             'REVOKE CREATE ON SCHEMA public FROM PUBLIC', current_database(), $1::text, $2::text)""",
            owner, app,
        )
    )
    for statement in await conn.fetch(_TAKE_OVER, owner):
        await conn.execute(statement[0])


# The statements that give `$1` the objects of schema public someone else owns: relations (a
# table's sequences and row type follow it), functions and procedures, and free-standing types.
_TAKE_OVER = """
SELECT format('ALTER %s %s OWNER TO %I',
              CASE c.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                             WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END, c.oid::regclass, $1::text)
FROM pg_class c
WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
  AND c.relowner <> (SELECT oid FROM pg_roles WHERE rolname = $1)
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                  AND d.deptype IN ('a', 'i') AND d.refclassid = 'pg_class'::regclass)
UNION ALL
SELECT format('ALTER ROUTINE %s OWNER TO %I', p.oid::regprocedure, $1::text)
FROM pg_proc p
WHERE p.pronamespace = 'public'::regnamespace AND p.proowner <> (SELECT oid FROM pg_roles WHERE rolname = $1)
UNION ALL
SELECT format('ALTER TYPE %s OWNER TO %I', t.oid::regtype, $1::text)
FROM pg_type t
WHERE t.typnamespace = 'public'::regnamespace AND t.typtype IN ('e', 'd', 'r') AND t.typelem = 0
  AND t.typowner <> (SELECT oid FROM pg_roles WHERE rolname = $1)
"""


async def grant_app_privileges(conn: asyncpg.Connection, app: str) -> None:
    """Give `app` what the service needs on the tables there are now and (default privileges)
    on those the owner creates later, and nothing more. Run as the owner, after the migrations;
    idempotent: every run starts from no privileges at all."""
    quoted = await conn.fetchval("SELECT quote_ident($1::text)", app)
    present = set(await conn.fetchval(
        "SELECT coalesce(array_agg(t), '{}') FROM unnest($1::text[]) t WHERE to_regclass('public.' || t) IS NOT NULL",
        [*APPEND_ONLY_TABLES, *OWNER_WRITTEN_TABLES],
    ))
    statements = [
        "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
        "GRANT USAGE ON SCHEMA public TO {app}",
        "REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {app}",
        "REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {app}",
        "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {app}",
        "GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {app}",
        "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {app}",
        "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE ON SEQUENCES TO {app}",
    ]
    statements += [f"REVOKE UPDATE, DELETE ON {t} FROM {{app}}" for t in APPEND_ONLY_TABLES if t in present]
    statements += [f"REVOKE INSERT, UPDATE, DELETE ON {t} FROM {{app}}" for t in OWNER_WRITTEN_TABLES if t in present]
    async with conn.transaction():
        for statement in statements:
            await conn.execute(statement.format(app=quoted))


async def current_role(dsn: str) -> str:
    """The role a DSN connects as."""
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetchval("SELECT current_user")
    finally:
        await conn.close()


async def powers_beyond_rows(conn: asyncpg.Connection) -> list[str]:
    """What the connected role may do that the app role must not: the reasons its connections
    could get round the tables' triggers (empty for a proper app role)."""
    row = await conn.fetchrow(
        """SELECT r.rolsuper, r.rolbypassrls,
                  (SELECT count(*) FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace
                   AND c.relkind IN ('r', 'p') AND pg_has_role(current_user, c.relowner, 'USAGE')) AS owned_tables
           FROM pg_roles r WHERE r.rolname = current_user"""
    )
    reasons = []
    if row["rolsuper"]:
        reasons.append("it is a superuser")
    if row["rolbypassrls"]:
        reasons.append("it bypasses row-level security")
    if row["owned_tables"]:
        reasons.append(f"it owns (or is a member of the owner of) {row['owned_tables']} tables")
    return reasons
