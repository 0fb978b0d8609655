"""The service connects as the app role, which owns nothing (govbuy/db_roles.py): it cannot
switch off the triggers that guard the audit log and accepted evaluations, drop a table, or
rewrite the audit log, and the service works as that role.

Two deployments, the same checks:
- embedded: `govbuy serve` on a fresh data folder, which starts its own PostgreSQL and creates
  both roles with their passwords in the data folder, as on a bare machine;
- operator: on the test run's server, a scratch database and two roles made by the same code
  path (`ensure_role`, `hand_over_database`), the service given DATABASE_URL (the app role) and
  GOVBUY_MIGRATION_DATABASE_URL (the owner), as docs/operations.md tells an operator.
"""

from __future__ import annotations

import asyncio
import os
import stat
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest

from bench import harness
from govbuy import database as db
from govbuy.db_roles import APP_ROLE, ensure_role, hand_over_database
from govbuy.embedded import APP_PASSWORD_FILE, OWNER_PASSWORD_FILE, role_urls, running_server_uri
from tests.govbuy.conftest import embedded_data_folder

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Deployment:
    server: harness.LiveServer
    app_dsn: str  # what the service connects with
    superuser_dsn: str  # for looking at the server from outside
    app_role: str


def _embedded(data_dir: Path) -> Deployment:
    server = harness.start_server(data_dir)
    superuser = db.with_database(running_server_uri(data_dir), "govbuy")
    return Deployment(server, role_urls(data_dir, superuser, "govbuy").app, superuser, APP_ROLE)


async def _operator_database(server_dsn: str, suffix: str) -> tuple[str, str, str]:
    """A scratch database owned by a new owner role, and a new app role: (owner, app, database)."""
    owner, app, name = f"govbuy_owner_{suffix}", f"govbuy_app_{suffix}", f"govbuy_roles_{suffix}"
    conn = await asyncpg.connect(db.with_database(server_dsn, "postgres"))
    try:
        await ensure_role(conn, owner, f"owner-{suffix}")
        await ensure_role(conn, app, f"app-{suffix}")
        await conn.execute(f'CREATE DATABASE "{name}" OWNER "{owner}"')
    finally:
        await conn.close()
    conn = await asyncpg.connect(db.with_database(server_dsn, name))
    try:
        await hand_over_database(conn, owner, app)
    finally:
        await conn.close()
    return owner, app, name


async def _drop_operator_database(server_dsn: str, owner: str, app: str, name: str) -> None:
    conn = await asyncpg.connect(db.with_database(server_dsn, "postgres"))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        for role in (app, owner):
            await conn.execute(f'DROP ROLE IF EXISTS "{role}"')
    finally:
        await conn.close()


@pytest.fixture(scope="module", params=["embedded", "operator"])
def deployment(request, tmp_path_factory, server_dsn):
    if request.param == "embedded":
        with embedded_data_folder() as data_dir:
            deployed = _embedded(data_dir)
            try:
                yield deployed
            finally:
                deployed.server.stop()
        return
    data_dir = tmp_path_factory.mktemp(request.param)
    suffix = f"{os.getpid()}_{uuid.uuid4().hex[:6]}"
    owner, app, name = asyncio.run(_operator_database(server_dsn, suffix))
    try:
        on_database = db.with_database(server_dsn, name)
        app_dsn = db.with_credentials(on_database, app, f"app-{suffix}")
        owner_dsn = db.with_credentials(on_database, owner, f"owner-{suffix}")
        server = harness.start_server(
            data_dir, database_url=app_dsn, extra_env={"GOVBUY_MIGRATION_DATABASE_URL": owner_dsn}
        )
        try:
            yield Deployment(server, app_dsn, on_database, app)
        finally:
            server.stop()
    finally:
        asyncio.run(_drop_operator_database(server_dsn, owner, app, name))


async def _refused(dsn: str, statement: str) -> str:
    """Run `statement` as the DSN's role, which must be refused for want of privilege; the message."""
    conn = await asyncpg.connect(dsn)
    try:
        with pytest.raises(asyncpg.InsufficientPrivilegeError) as refused:
            await conn.execute(statement)
        return str(refused.value)
    finally:
        await conn.close()


async def _fetch(dsn: str, sql: str, *args):
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetch(sql, *args)
    finally:
        await conn.close()


async def test_the_service_connects_as_the_app_role_and_it_is_only_a_login(deployment: Deployment):
    sessions = await _fetch(
        deployment.superuser_dsn,
        "SELECT DISTINCT usename FROM pg_stat_activity WHERE application_name = 'govbuy' AND datname = current_database()",
    )
    assert [r["usename"] for r in sessions] == [deployment.app_role]
    role = (await _fetch(deployment.superuser_dsn, "SELECT * FROM pg_roles WHERE rolname = $1", deployment.app_role))[0]
    assert role["rolcanlogin"]
    assert not any(role[a] for a in ("rolsuper", "rolcreatedb", "rolcreaterole", "rolbypassrls", "rolreplication"))
    owned = await _fetch(
        deployment.superuser_dsn,
        "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relowner = $1::regrole",
        deployment.app_role,
    )
    assert owned == []


@pytest.mark.parametrize(
    "statement",
    [
        "ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update",
        "ALTER TABLE evaluations DISABLE TRIGGER evaluations_accepted_immutable",
        "ALTER TABLE evaluations DISABLE TRIGGER ALL",
        "SET session_replication_role = replica",
        "DROP TABLE audit_events",
        "DROP TABLE tenders CASCADE",
        "DROP TRIGGER audit_events_no_update ON audit_events",
        "CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$",
        "TRUNCATE audit_events",
        "TRUNCATE bids",
        "CREATE TABLE smuggled (id int)",
    ],
)
async def test_the_app_role_cannot_get_round_the_triggers(deployment: Deployment, statement: str):
    await _refused(deployment.app_dsn, statement)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET action = 'nothing happened'",
        "DELETE FROM audit_events",
        "DELETE FROM audit_heads",
        "DELETE FROM migration",
    ],
)
async def test_the_app_role_has_no_privilege_to_rewrite_the_logs(deployment: Deployment, statement: str):
    # Refused by the privilege check itself, before the trigger (which says 'append-only') runs.
    assert "permission denied for table" in await _refused(deployment.app_dsn, statement)


async def test_the_service_writes_and_reads_as_the_app_role(deployment: Deployment):
    with deployment.server.client() as client:
        admin = harness.admin_account(client)
        created = harness.create_organisation(client, admin, "vendor")
        read = client.get(f"/api/v1/organisations/{created['id']}", headers=admin.headers)
        assert read.status_code == 200, read.text
        assert read.json()["name"] == created["name"]
        events = client.get("/api/v1/audit-events", headers=admin.headers, params={"limit": 100})
        assert events.status_code == 200, events.text
        assert created["id"] in events.text
    # The audit event of the write, inserted by the app role.
    rows = await _fetch(deployment.app_dsn, "SELECT count(*) AS n FROM audit_events WHERE entity_id = $1", created["id"])
    assert rows[0]["n"] >= 1


def test_the_embedded_roles_passwords_are_readable_by_their_owner_only(data_dir):
    server = harness.start_server(data_dir)
    try:
        for name in (OWNER_PASSWORD_FILE, APP_PASSWORD_FILE):
            mode = stat.S_IMODE((data_dir / name).stat().st_mode)
            assert mode == 0o600, f"{name} is {oct(mode)}"
        # The roles sign in with their passwords on the socket, even where the superuser is trusted.
        wrong = db.with_credentials(role_urls(data_dir, running_server_uri(data_dir), "govbuy").app, APP_ROLE, "wrong")
        with pytest.raises(asyncpg.InvalidPasswordError):
            asyncio.run(asyncpg.connect(wrong))
    finally:
        server.stop()


def test_migrations_as_the_app_role_alone_fail_naming_the_owner_setting(tmp_path, server_dsn):
    suffix = f"{os.getpid()}_{uuid.uuid4().hex[:6]}"
    owner, app, name = asyncio.run(_operator_database(server_dsn, suffix))
    try:
        app_dsn = db.with_credentials(db.with_database(server_dsn, name), app, f"app-{suffix}")
        env = {k: v for k, v in os.environ.items() if not k.startswith("GOVBUY_")}
        env.update(DATABASE_URL=app_dsn, GOVBUY_DATA_DIR=str(tmp_path))
        done = subprocess.run(
            [sys.executable, "-m", "govbuy.cli", "migrate"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode != 0
        assert "GOVBUY_MIGRATION_DATABASE_URL" in done.stderr
    finally:
        asyncio.run(_drop_operator_database(server_dsn, owner, app, name))
