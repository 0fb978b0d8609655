"""Upgrading a database made before tables moved between Piccolo apps: the guidance catalogue
and budget lines from procurement to planning (`planning_0001`), the document records from
contracts to the kernel (`govbuy_0003`).

The old database is made by the migrations as they were in the commit before the move, taken
from git and run in a child process (the test session's engine stays on its own database); rows
are written into it, then today's migrations upgrade it. The rows must survive, and the result
must be the database a fresh install makes: the same tables, columns, constraints, indexes,
triggers and functions, and the same migration log.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tarfile
import uuid
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import asyncpg
import pytest

from govbuy import database as db
from govbuy.piccolo_migrations import govbuy_0003_documents
from planning.piccolo_migrations import planning_0001_initial

ROOT = Path(__file__).resolve().parents[2]
# The migrations that adopt the moved tables; the commit before the first of them is the old layout.
ADOPTING = ("planning/piccolo_migrations/planning_0001_initial.py", "govbuy/piccolo_migrations/govbuy_0003_documents.py")
OLD_PACKAGES = ("govbuy", "vendors", "procurement", "contracts", "evaluation")

# Run in a child process from a source tree: apply that tree's migrations to a database.
MIGRATE = """
import asyncio, sys
import govbuy
from govbuy import database as db

assert govbuy.__file__.startswith(sys.argv[2]), f"imported {govbuy.__file__}, not the tree in {sys.argv[2]}"


async def main():
    db.configure(sys.argv[1])
    await db.start_pool(1, 2)
    try:
        await db.migrate()
    finally:
        await db.close_pool()


asyncio.run(main())
"""

# What a database is made of, as text that compares equal between two databases of one schema.
SCHEMA = """
SELECT 'column', table_name || '.' || column_name,
       concat_ws(' ', ordinal_position, data_type, character_maximum_length, numeric_precision,
                 numeric_scale, is_nullable, column_default)
FROM information_schema.columns WHERE table_schema = 'public'
UNION ALL
SELECT 'constraint', conrelid::regclass::text || '.' || conname, pg_get_constraintdef(oid)
FROM pg_constraint WHERE connamespace = 'public'::regnamespace
UNION ALL
SELECT 'index', indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'
UNION ALL
SELECT 'trigger', tgrelid::regclass::text || '.' || tgname, pg_get_triggerdef(oid)
FROM pg_trigger WHERE NOT tgisinternal
UNION ALL
SELECT 'function', p.oid::regprocedure::text, md5(p.prosrc)
FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace
ORDER BY 1, 2, 3
"""


def _git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(ROOT), *args], check=True, capture_output=True, text=True).stdout


def _old_revision() -> str:
    """The commit before the tables moved (HEAD while the move is not committed yet)."""
    try:
        added = _git("log", "--diff-filter=A", "--format=%H", "--", *ADOPTING).split()
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"needs the git history of the checkout: {exc}")
    if not added:
        return "HEAD"
    parent = f"{added[-1]}^"
    try:
        _git("rev-parse", "--verify", "--quiet", f"{parent}^{{commit}}")
    except subprocess.CalledProcessError:
        pytest.skip(f"a shallow checkout: {parent} is not in it")
    return parent


def _export(revision: str, target: Path) -> None:
    archive = target / "old.tar"
    with archive.open("wb") as out:
        subprocess.run(["git", "-C", str(ROOT), "archive", revision, "--", *OLD_PACKAGES], check=True, stdout=out)
    with tarfile.open(archive) as tar:
        tar.extractall(target, filter="data")


def _migrate(tree: Path, dsn: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run(
        [sys.executable, "-c", MIGRATE, dsn, str(tree)], cwd=tree, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-4000:]


async def _schema(conn: asyncpg.Connection) -> list[tuple[str, str, str]]:
    return [tuple(r) for r in await conn.fetch(SCHEMA)]


async def _log(conn: asyncpg.Connection) -> list[tuple[str, str]]:
    return [tuple(r) for r in await conn.fetch("SELECT app_name, name FROM migration ORDER BY app_name, name")]


NOW = datetime(2026, 11, 20, 2, 0, tzinfo=timezone.utc)
IDS = {name: uuid.uuid4() for name in ("bureau", "user", "catalogue", "A", "A01", "A0101", "line", "tender", "document")}
SHA = "ab" * 32


async def _write_rows(conn: asyncpg.Connection) -> None:
    """A bureau with a published catalogue, a budget line carrying money, a draft tender that
    names both, and an uploaded document attached to something."""
    i = IDS
    await conn.execute(
        "INSERT INTO organisations (id, name, kind, region_code, created_at) VALUES ($1, '福田区民政局', 'bureau', '440304', $2)",
        i["bureau"],
        NOW,
    )
    await conn.execute(
        "INSERT INTO users (id, username, password_hash, organisation_id, role, created_at) VALUES ($1, 'b1', 'x', $2, 'bureau', $3)",
        i["user"],
        i["bureau"],
        NOW,
    )
    await conn.execute(
        """INSERT INTO catalogues (id, region_code, year, version_no, title, created_by_org, created_at)
           VALUES ($1, '440304', 2026, 1, '2026 指导性目录', $2, $3)""",
        i["catalogue"],
        i["bureau"],
        NOW,
    )
    for code, name in (("A", "基本公共服务"), ("A01", "养老服务"), ("A0101", "居家养老上门服务")):
        level = 1 + (len(code) - 1) // 2
        await conn.execute(
            """INSERT INTO catalogue_items (id, catalogue_id, code, level, parent_code, name, created_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7)""",
            i[code],
            i["catalogue"],
            code,
            level,
            code[:-2] or None,
            name,
            NOW,
        )
    await conn.execute("UPDATE catalogues SET status = 'published', published_at = $2 WHERE id = $1", i["catalogue"], NOW)
    await conn.execute(
        """INSERT INTO budget_lines (id, bureau_id, code, year, title, amount, reserved, committed, spent, created_at, updated_at)
           VALUES ($1, $2, '2130101', 2026, '社区养老服务经费', 1000000.00, 300000.00, 200000.00, 50000.00, $3, $3)""",
        i["line"],
        i["bureau"],
        NOW,
    )
    await conn.execute(
        """INSERT INTO tenders (id, bureau_id, title, catalogue_item_id, budget_line_id, method, ceiling_amount,
                                contract_months, evaluation_method, milestones, bid_deadline, created_at, updated_at)
           VALUES ($1, $2, '居家养老上门服务项目', $3, $4, 'inquiry', 300000.00, 12, 'lowest_price',
                   '[{"title": "全年服务", "percentage": "100", "due_offset_days": 360}]', $5, $5, $5)""",
        i["tender"],
        i["bureau"],
        i["A0101"],
        i["line"],
        NOW,
    )
    await conn.execute(
        """INSERT INTO documents (id, sha256, size, media_type, original_name, uploaded_by, organisation_id, uploaded_at)
           VALUES ($1, $2, 1234, 'application/pdf', '服务方案.pdf', $3, $4, $5)""",
        i["document"],
        SHA,
        i["user"],
        i["bureau"],
        NOW,
    )
    await conn.execute(
        """INSERT INTO document_links (sha256, entity_type, entity_id, organisation_id, linked_at)
           VALUES ($1, 'deliverable', $2, $3, $4)""",
        SHA,
        i["tender"],
        i["bureau"],
        NOW,
    )


async def _check_rows(conn: asyncpg.Connection) -> None:
    i = IDS
    catalogue = await conn.fetchrow("SELECT status, title, published_at FROM catalogues WHERE id = $1", i["catalogue"])
    assert tuple(catalogue) == ("published", "2026 指导性目录", NOW)
    items = await conn.fetch("SELECT id, code FROM catalogue_items WHERE catalogue_id = $1 ORDER BY code", i["catalogue"])
    assert [(r["id"], r["code"]) for r in items] == [(i[c], c) for c in ("A", "A01", "A0101")]
    line = await conn.fetchrow("SELECT amount, reserved, committed, spent FROM budget_lines WHERE id = $1", i["line"])
    assert tuple(line) == (Decimal("1000000.00"), Decimal("300000.00"), Decimal("200000.00"), Decimal("50000.00"))
    tender = await conn.fetchrow("SELECT catalogue_item_id, budget_line_id FROM tenders WHERE id = $1", i["tender"])
    assert tuple(tender) == (i["A0101"], i["line"])
    document = await conn.fetchrow("SELECT id, original_name FROM documents WHERE sha256 = $1", SHA)
    assert tuple(document) == (i["document"], "服务方案.pdf")
    assert await conn.fetchval("SELECT entity_id FROM document_links WHERE sha256 = $1", SHA) == i["tender"]


@pytest.fixture
async def scratch_databases(server_dsn: str):
    """Scratch databases on the test server, dropped at the end: call with a name."""
    made: list[str] = []

    async def make(purpose: str) -> str:
        dsn = db.with_database(server_dsn, f"govbuy_test_{purpose}_{os.getpid()}_{uuid.uuid4().hex[:6]}")
        made.append(dsn)
        await db.ensure_database(dsn)
        return dsn

    yield make
    for dsn in made:
        await db.drop_database(dsn)


@pytest.fixture
async def old_database(scratch_databases, tmp_path: Path) -> str:
    """A database made by the migrations of the commit before the move."""
    revision = _old_revision()
    await asyncio.to_thread(_export, revision, tmp_path)
    dsn = await scratch_databases("old")
    await asyncio.to_thread(_migrate, tmp_path, dsn)
    return dsn


@pytest.fixture
async def fresh_database(scratch_databases) -> str:
    """A database made by today's migrations."""
    dsn = await scratch_databases("fresh")
    await asyncio.to_thread(_migrate, ROOT, dsn)
    return dsn


@pytest.mark.slow
async def test_a_database_from_before_the_move_upgrades_keeping_its_rows(old_database: str, fresh_database: str):
    old = await asyncpg.connect(old_database)
    fresh = await asyncpg.connect(fresh_database)
    try:
        old_log = await _log(old)
        assert not {app for app, _ in old_log} & {"planning"}, "the old database already knows planning"
        await _write_rows(old)

        await asyncio.to_thread(_migrate, ROOT, old_database)

        await _check_rows(old)
        # The upgraded database is what a fresh install creates (the adopted tables included;
        # migrations added since the move ran on both).
        assert await _schema(old) == await _schema(fresh)
        log = await _log(old)
        assert log == await _log(fresh)
        assert len(log) == len(set(log))
        assert {("govbuy", govbuy_0003_documents.ID), ("planning", planning_0001_initial.ID)} <= set(log) - set(old_log)
        # Migrating again has nothing left to do.
        await asyncio.to_thread(_migrate, ROOT, old_database)
        assert await _log(old) == log
    finally:
        await old.close()
        await fresh.close()
