"""Planning services: the guidance catalogue (指导性目录) with its items, import and publication,
and budget lines (先有预算、后购买服务, 财政部令第102号 Art. 14) with the money other domains move
on them.

Planning owns the tables `catalogues`, `catalogue_items` and `budget_lines`: nothing else
writes them. Procurement asks it whether a tender may buy an item and draw on a line, and
reserves and releases a tender's ceiling through it; contracts commit, release and spend
through it. Every budget move locks the line (`FOR UPDATE`) and applies a pure rule of
`planning.rules`; a caller that holds other row locks takes the line's after them and audits
the move once its own locks are taken (`reserve_budget`, `release_budget`,
`audit_budget_move`), so that concurrent changes queue rather than deadlock.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import asyncpg

from govbuy import audit, clock, offload
from govbuy import service as kernel
from govbuy import database as db
from govbuy.audit import Actor
from govbuy.errors import NotFound, check_if_match
from govbuy.pagination import Page, check_limit, page, typed_cursor
from govbuy.rules import RuleViolation, conflict
from govbuy.settings import get_settings
from planning import import_file, rules
from planning.schemas import (
    BudgetLineCreate,
    BudgetLineRead,
    BudgetLineUpdate,
    CatalogueCreate,
    CatalogueImportRead,
    CatalogueItemCreate,
    CatalogueItemRead,
    CatalogueRead,
)

READERS = ("admin", "supervisor")  # read everything, write nothing here


def _reads_all(actor: Actor) -> bool:
    return actor.role in READERS


def negative_patterns() -> tuple[rules.NegativePattern, ...]:
    """The negative list (负面清单) in force: the patterns of GOVBUY_NEGATIVE_LIST_FILE and the
    phrases of GOVBUY_NEGATIVE_KEYWORDS when either is set (together they replace the default
    list), else `rules.DEFAULT_NEGATIVE_PATTERNS`."""
    settings = get_settings()
    if settings.negative_list_file is None and not settings.negative_keywords:
        return rules.DEFAULT_NEGATIVE_PATTERNS
    from_file: tuple[rules.NegativePattern, ...] = ()
    if settings.negative_list_file is not None:
        path = settings.negative_list_file
        try:
            stamp = path.stat().st_mtime_ns
        except OSError as exc:
            raise RuntimeError(f"GOVBUY_NEGATIVE_LIST_FILE {path} cannot be read: {exc}") from exc
        from_file = _patterns_file(str(path), stamp)
    return from_file + rules.negative_patterns_from_keywords(settings.negative_keywords or ())


@lru_cache(maxsize=4)
def _patterns_file(path: str, stamp: int) -> tuple[rules.NegativePattern, ...]:
    # Keyed by the file's modification time: an edited list applies without a restart.
    try:
        return rules.negative_patterns_from_data(json.loads(Path(path).read_text(encoding="utf-8")))
    except (OSError, ValueError) as exc:  # json.JSONDecodeError is a ValueError
        raise RuntimeError(f"GOVBUY_NEGATIVE_LIST_FILE {path} is not a valid negative list: {exc}") from exc


# --- catalogue (指导性目录) ----------------------------------------------------------------

_CATALOGUE_COLUMNS = """c.id, c.region_code, c.year, c.version_no, c.title, c.status, c.created_at,
    c.published_at, c.superseded_at, c.superseded_by, c.version,
    (SELECT count(*) FROM catalogue_items i WHERE i.catalogue_id = c.id) AS item_count,
    (SELECT count(*) FROM catalogue_items i
      WHERE i.catalogue_id = c.id AND i.negative_list_override IS NOT NULL) AS negative_list_overrides"""


def _catalogue_read(row: Any) -> CatalogueRead:
    return CatalogueRead.model_validate(dict(row))


async def _check_catalogue_region(actor: Actor | None, region_code: str) -> None:
    """A bureau keeps the catalogue of its own region; the operator's CLI (actor None) any."""
    if actor is None:
        return
    if await kernel.region_of(actor.organisation_id) != region_code:
        message = f"a bureau keeps the catalogue of its own region, not of {region_code}"
        raise RuleViolation(
            "catalogue_region_not_yours", message, errors=[{"field": "region_code", "message": message}]
        )


def _catalogue_visible(actor: Actor | None, row: Any, actor_region: str | None) -> bool:
    if actor is None or _reads_all(actor) or row["status"] != "draft":
        return True
    return actor.role == "bureau" and row["region_code"] == actor_region


async def create_catalogue(actor: Actor | None, data: CatalogueCreate) -> CatalogueRead:
    """A new draft version of the catalogue of a region and year."""
    await _check_catalogue_region(actor, data.region_code)
    async with db.transaction():
        # Serialise version numbering (and publishing) per region and year.
        await db.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"catalogue:{data.region_code}:{data.year}")
        version_no = await db.fetchval(
            "SELECT coalesce(max(version_no), 0) + 1 FROM catalogues WHERE region_code = $1 AND year = $2",
            data.region_code,
            data.year,
        )
        catalogue_id = uuid4()
        creator = actor.organisation_id if actor else await _platform_org()
        await db.execute(
            """INSERT INTO catalogues (id, region_code, year, version_no, title, created_by_org, created_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7)""",
            catalogue_id,
            data.region_code,
            data.year,
            version_no,
            data.title,
            creator,
            await clock.now(),
        )
        result = await _load_catalogue(catalogue_id)
        await audit.record(actor, "catalogue.created", "catalogue", catalogue_id, after=result.model_dump())
    return result


async def _platform_org() -> UUID:
    """The platform operator's organisation, on whose behalf the CLI acts (created as
    `govbuy serve` would create it, if the service has never run on this database)."""
    org = await db.fetchval("SELECT id FROM organisations WHERE kind = 'platform' ORDER BY created_at LIMIT 1")
    if org is None:
        from govbuy import service as accounts
        from govbuy.schemas import OrganisationCreate

        org = (await accounts.create_organisation(None, OrganisationCreate(name="govbuy 平台运营方", kind="platform"))).id
    return org


async def _load_catalogue(catalogue_id: UUID) -> CatalogueRead:
    row = await db.fetchrow(f"SELECT {_CATALOGUE_COLUMNS} FROM catalogues c WHERE c.id = $1", catalogue_id)
    if row is None:
        raise NotFound("catalogue", catalogue_id)
    return _catalogue_read(row)


async def get_catalogue(actor: Actor | None, catalogue_id: UUID) -> CatalogueRead:
    row = await db.fetchrow(f"SELECT {_CATALOGUE_COLUMNS} FROM catalogues c WHERE c.id = $1", catalogue_id)
    if row is None or not _catalogue_visible(actor, row, await kernel.region_of(actor.organisation_id) if actor else None):
        raise NotFound("catalogue", catalogue_id)
    return _catalogue_read(row)


async def list_catalogues(
    actor: Actor,
    region_code: str | None,
    year: int | None,
    status: str | None,
    limit: int | None,
    cursor: str | None,
) -> Page[CatalogueRead]:
    """Newest first; drafts only to the bureaus of their region (and admins, supervisors)."""
    limit = check_limit(limit)
    after_at, after_id = typed_cursor(cursor, datetime, UUID)
    region = None if _reads_all(actor) else (await kernel.region_of(actor.organisation_id) if actor.role == "bureau" else "")
    rows = await db.fetch(
        f"""SELECT {_CATALOGUE_COLUMNS} FROM catalogues c
            WHERE ($1::text IS NULL OR c.region_code = $1)
              AND ($2::int IS NULL OR c.year = $2)
              AND ($3::text IS NULL OR c.status = $3)
              AND ($4::boolean OR c.status <> 'draft' OR c.region_code = $5)
              AND ($6::timestamptz IS NULL OR (c.created_at, c.id) < ($6, $7::uuid))
            ORDER BY c.created_at DESC, c.id DESC LIMIT $8""",
        region_code,
        year,
        status,
        _reads_all(actor),
        region,
        after_at,
        after_id,
        limit + 1,
    )
    return page(rows, limit, lambda r: (r["created_at"], r["id"]), _catalogue_read)


async def _lock_draft_catalogue(actor: Actor | None, catalogue_id: UUID, *, lock: bool = True) -> Any:
    """The caller's draft catalogue, row-locked unless `lock` is False (a check only)."""
    row = await db.fetchrow(f"SELECT * FROM catalogues WHERE id = $1{' FOR UPDATE' if lock else ''}", catalogue_id)
    if row is None or not _catalogue_visible(actor, row, await kernel.region_of(actor.organisation_id) if actor else None):
        raise NotFound("catalogue", catalogue_id)
    await _check_catalogue_region(actor, row["region_code"])
    rules.ensure_catalogue_editable(row["status"])
    return row


def _item_read(row: Any) -> CatalogueItemRead:
    return CatalogueItemRead.model_validate(dict(row))


_ITEM_COLUMNS = "id, catalogue_id, code, level, parent_code, name, description, negative_list_override"


def _override_json(item: rules.CatalogueRow) -> dict[str, Any] | None:
    override = item.negative_list_override
    return override.as_dict() if override is not None else None


async def _audit_override(actor: Actor | None, catalogue_id: UUID, item_id: UUID, item: rules.CatalogueRow) -> None:
    """An exception to Art. 10 gets an audit event of its own, so that supervisors find every
    override (who made it, when, why, against which patterns) in the audit log."""
    override = _override_json(item)
    if override is None:
        return
    await audit.record(
        actor,
        "catalogue_item.negative_list_overridden",
        "catalogue_item",
        item_id,
        after={"catalogue_id": catalogue_id, "code": item.code, "name": item.name, **override},
    )


async def add_catalogue_item(actor: Actor, catalogue_id: UUID, data: CatalogueItemCreate) -> CatalogueItemRead:
    async with db.transaction():
        await _lock_draft_catalogue(actor, catalogue_id)
        existing = [r["code"] for r in await db.fetch("SELECT code FROM catalogue_items WHERE catalogue_id = $1", catalogue_id)]
        item = rules.validate_catalogue_item(
            data.code,
            data.name,
            data.description,
            existing_codes=existing,
            patterns=negative_patterns(),
            override_reason=data.negative_list_override_reason,
        )
        row = await db.fetchrow(
            f"""INSERT INTO catalogue_items
                    (id, catalogue_id, code, level, parent_code, name, description, negative_list_override, created_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING {_ITEM_COLUMNS}""",
            uuid4(),
            catalogue_id,
            item.code,
            item.level,
            item.parent_code,
            item.name,
            item.description,
            _override_json(item),
            await clock.now(),
        )
        await db.execute("UPDATE catalogues SET version = version + 1 WHERE id = $1", catalogue_id)
        result = _item_read(row)
        await audit.record(actor, "catalogue_item.added", "catalogue_item", row["id"], after=result.model_dump())
        await _audit_override(actor, catalogue_id, row["id"], item)
    return result


async def delete_catalogue_item(actor: Actor, catalogue_id: UUID, item_id: UUID) -> None:
    async with db.transaction():
        await _lock_draft_catalogue(actor, catalogue_id)
        row = await db.fetchrow(
            f"SELECT {_ITEM_COLUMNS} FROM catalogue_items WHERE id = $1 AND catalogue_id = $2", item_id, catalogue_id
        )
        if row is None:
            raise NotFound("catalogue item", item_id)
        children = await db.fetchval(
            "SELECT count(*) FROM catalogue_items WHERE catalogue_id = $1 AND parent_code = $2", catalogue_id, row["code"]
        )
        if children:
            raise conflict("catalogue_item_has_children", f"'{row['code']}' has {children} item(s) under it: remove them first")
        await db.execute("DELETE FROM catalogue_items WHERE id = $1", item_id)
        await db.execute("UPDATE catalogues SET version = version + 1 WHERE id = $1", catalogue_id)
        await audit.record(actor, "catalogue_item.removed", "catalogue_item", item_id, before=_item_read(row).model_dump())


async def list_catalogue_items(
    actor: Actor,
    catalogue_id: UUID,
    level: int | None,
    parent_code: str | None,
    limit: int | None,
    cursor: str | None,
    negative_list_overridden: bool | None = None,
) -> Page[CatalogueItemRead]:
    """Items in code order (A, A01, A0101, A0102, …), filtered by level, parent, or whether
    they passed the negative list by an override."""
    limit = check_limit(limit)
    (after_code,) = typed_cursor(cursor, str)
    await get_catalogue(actor, catalogue_id)
    rows = await db.fetch(
        f"""SELECT {_ITEM_COLUMNS} FROM catalogue_items
            WHERE catalogue_id = $1 AND ($2::int IS NULL OR level = $2)
              AND ($3::text IS NULL OR parent_code = $3) AND ($4::text IS NULL OR code > $4)
              AND ($6::boolean IS NULL OR (negative_list_override IS NOT NULL) = $6)
            ORDER BY code LIMIT $5""",
        catalogue_id,
        level,
        parent_code,
        after_code,
        limit + 1,
        negative_list_overridden,
    )
    return page(rows, limit, lambda r: (r["code"],), _item_read)


async def publish_catalogue(actor: Actor | None, catalogue_id: UUID, if_match: str | None) -> CatalogueRead:
    """draft → published; the version published before for the same region and year is
    superseded in the same transaction. A published version is immutable."""
    async with db.transaction():
        row = await db.fetchrow("SELECT region_code, year FROM catalogues WHERE id = $1", catalogue_id)
        if row is None:
            raise NotFound("catalogue", catalogue_id)
        await db.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"catalogue:{row['region_code']}:{row['year']}")
        current = await db.fetchrow("SELECT * FROM catalogues WHERE id = $1 FOR UPDATE", catalogue_id)
        if not _catalogue_visible(actor, current, await kernel.region_of(actor.organisation_id) if actor else None):
            raise NotFound("catalogue", catalogue_id)
        await _check_catalogue_region(actor, current["region_code"])
        check_if_match(if_match, current["version"])
        rules.check_catalogue_transition(current["status"], "published")
        level3 = await db.fetchval(
            "SELECT count(*) FROM catalogue_items WHERE catalogue_id = $1 AND level = 3", catalogue_id
        )
        if not level3:
            raise conflict("catalogue_empty", "a catalogue is published with at least one level-3 item")
        before = _catalogue_read(await db.fetchrow(f"SELECT {_CATALOGUE_COLUMNS} FROM catalogues c WHERE c.id = $1", catalogue_id))
        previous = await db.fetchrow(
            """SELECT id FROM catalogues WHERE region_code = $1 AND year = $2 AND status = 'published'
               FOR UPDATE""",
            current["region_code"],
            current["year"],
        )
        now = await clock.now()
        superseded = None
        if previous is not None:
            rules.check_catalogue_transition("published", "superseded")
            superseded_before = await _load_catalogue(previous["id"])
            await db.execute(
                """UPDATE catalogues SET status = 'superseded', superseded_at = $2, superseded_by = $3,
                          version = version + 1 WHERE id = $1""",
                previous["id"],
                now,
                catalogue_id,
            )
            superseded = (superseded_before, await _load_catalogue(previous["id"]))
        await db.execute(
            "UPDATE catalogues SET status = 'published', published_at = $2, version = version + 1 WHERE id = $1",
            catalogue_id,
            now,
        )
        result = await _load_catalogue(catalogue_id)
        await audit.record(
            actor, "catalogue.published", "catalogue", catalogue_id, before=before.model_dump(), after=result.model_dump()
        )
        if superseded:
            await audit.record(
                actor,
                "catalogue.superseded",
                "catalogue",
                superseded[0].id,
                before=superseded[0].model_dump(),
                after=superseded[1].model_dump(),
            )
    return result


# --- catalogue import ------------------------------------------------------------------------

IMPORT_BATCH = 1000

Progress = Callable[[str, int, int | None], None]


def import_limit_bytes() -> int:
    return get_settings().max_upload_bytes


def import_caps() -> import_file.ImportCaps:
    settings = get_settings()
    return import_file.ImportCaps(rows=settings.import_max_rows, cells=settings.import_max_cells)


async def _item_codes(catalogue_id: UUID) -> frozenset[str]:
    return frozenset(r["code"] for r in await db.fetch("SELECT code FROM catalogue_items WHERE catalogue_id = $1", catalogue_id))


async def check_import_file(
    filename: str, content: bytes, existing_codes: frozenset[str]
) -> tuple[int, list[rules.CatalogueRow]]:
    """Read and check an import file in a child process under the parse caps (govbuy.offload):
    how many rows it has and the items it would add to a catalogue holding `existing_codes`."""
    if len(content) > import_limit_bytes():
        raise RuleViolation(
            "import_file_too_large", f"the file is larger than {import_limit_bytes()} bytes", status=413
        )
    return await offload.run(
        import_file.checked_rows, filename, content, existing_codes, negative_patterns(), import_caps(), subject="import"
    )


async def import_catalogue(
    actor: Actor | None,
    catalogue_id: UUID,
    filename: str,
    content: bytes,
    progress: Progress | None = None,
) -> CatalogueImportRead:
    """Import a whole file into a draft catalogue: every row is checked first, and one bad row
    (reported with its row number and why) imports nothing."""
    report = progress or (lambda stage, done, total: None)
    # The file is read and checked in a child process, outside the transaction, so that no
    # connection or lock is held while it is; the catalogue is checked for the caller first.
    await _lock_draft_catalogue(actor, catalogue_id, lock=False)
    existing = await _item_codes(catalogue_id)
    report("reading", 0, None)
    read, items = await check_import_file(filename, content, existing)
    report("reading", read, read)
    report("checking", len(items), len(items))
    digest = await asyncio.to_thread(lambda: hashlib.sha256(content).hexdigest())
    async with db.transaction():
        await _lock_draft_catalogue(actor, catalogue_id)
        if await _item_codes(catalogue_id) != existing:
            raise conflict(
                "catalogue_changed_during_import",
                "items were added to or removed from the catalogue while the file was read: import it again",
            )
        now = await clock.now()
        # Parents before children, so that the hierarchy holds at every insert.
        ordered = [(uuid4(), i) for i in sorted(items, key=lambda i: (i.level, i.code))]
        done = 0
        for start in range(0, len(ordered), IMPORT_BATCH):
            batch = ordered[start : start + IMPORT_BATCH]
            await db.executemany(
                """INSERT INTO catalogue_items
                       (id, catalogue_id, code, level, parent_code, name, description, negative_list_override, created_at)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)""",
                [
                    (ident, catalogue_id, i.code, i.level, i.parent_code, i.name, i.description, _override_json(i), now)
                    for ident, i in batch
                ],
            )
            done += len(batch)
            report("writing", done, len(ordered))
        await db.execute("UPDATE catalogues SET version = version + 1 WHERE id = $1", catalogue_id)
        by_level = {str(level): sum(1 for i in items if i.level == level) for level in (1, 2, 3)}
        overridden = [(ident, i) for ident, i in ordered if i.negative_list_override is not None]
        result = CatalogueImportRead(
            catalogue_id=catalogue_id,
            imported=len(items),
            by_level=by_level,
            negative_list_overrides=len(overridden),
            file_sha256=digest,
        )
        await audit.record(
            actor,
            "catalogue.imported",
            "catalogue",
            catalogue_id,
            after={"filename": filename[:200], **result.model_dump()},
        )
        for ident, item in overridden:
            await _audit_override(actor, catalogue_id, ident, item)
    return result


# --- budget lines (先有预算、后购买服务) -----------------------------------------------------

_LINE_COLUMNS = "id, bureau_id, code, year, title, amount, reserved, committed, spent, created_at, updated_at, version"


def _line_read(row: Any) -> BudgetLineRead:
    data = dict(row)
    data["available"] = data["amount"] - data["reserved"] - data["committed"]
    return BudgetLineRead.model_validate(data)


def _line_money(row: Any) -> rules.BudgetLine:
    return rules.BudgetLine(row["amount"], row["reserved"], row["committed"], row["spent"])


def _line_visible(actor: Actor, row: Any) -> bool:
    return _reads_all(actor) or (actor.role == "bureau" and row["bureau_id"] == actor.organisation_id)


async def create_budget_line(actor: Actor, data: BudgetLineCreate) -> BudgetLineRead:
    rules.change_amount(rules.BudgetLine(Decimal("0.00")), data.amount)
    now = await clock.now()
    try:
        async with db.transaction():
            row = await db.fetchrow(
                f"""INSERT INTO budget_lines (id, bureau_id, code, year, title, amount, created_at, updated_at)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING {_LINE_COLUMNS}""",
                uuid4(),
                actor.organisation_id,
                data.code,
                data.year,
                data.title,
                data.amount,
                now,
            )
            result = _line_read(row)
            await audit.record(actor, "budget_line.created", "budget_line", row["id"], after=result.model_dump())
    except asyncpg.UniqueViolationError as exc:
        raise conflict("budget_line_code_taken", f"the bureau already has budget line {data.code} in {data.year}") from exc
    return result


async def get_budget_line(actor: Actor, line_id: UUID) -> BudgetLineRead:
    row = await db.fetchrow(f"SELECT {_LINE_COLUMNS} FROM budget_lines WHERE id = $1", line_id)
    if row is None or not _line_visible(actor, row):
        raise NotFound("budget line", line_id)
    return _line_read(row)


async def list_budget_lines(
    actor: Actor, year: int | None, bureau_id: UUID | None, limit: int | None, cursor: str | None
) -> Page[BudgetLineRead]:
    """A bureau's own lines (admins and supervisors: every bureau's), newest year first, then
    by code."""
    limit = check_limit(limit)
    after_year, after_code, after_id = typed_cursor(cursor, int, str, UUID)
    if not _reads_all(actor):
        if bureau_id not in (None, actor.organisation_id):
            return Page(items=[])
        bureau_id = actor.organisation_id
    rows = await db.fetch(
        f"""SELECT {_LINE_COLUMNS} FROM budget_lines
            WHERE ($1::uuid IS NULL OR bureau_id = $1) AND ($2::int IS NULL OR year = $2)
              AND ($3::int IS NULL OR year < $3 OR (year = $3 AND (code, id) > ($4::text, $5::uuid)))
            ORDER BY year DESC, code, id LIMIT $6""",
        bureau_id,
        year,
        after_year,
        after_code,
        after_id,
        limit + 1,
    )
    return page(rows, limit, lambda r: (r["year"], r["code"], r["id"]), _line_read)


async def update_budget_line(
    actor: Actor, line_id: UUID, data: BudgetLineUpdate, if_match: str | None
) -> BudgetLineRead:
    """A budget adjustment: never below what is already reserved and committed."""
    async with db.transaction():
        row = await db.fetchrow(f"SELECT {_LINE_COLUMNS} FROM budget_lines WHERE id = $1 FOR UPDATE", line_id)
        if row is None or not _line_visible(actor, row) or actor.role != "bureau":
            raise NotFound("budget line", line_id)
        check_if_match(if_match, row["version"])
        amount = row["amount"]
        if data.amount is not None:
            amount = rules.change_amount(_line_money(row), data.amount).amount
        updated = await db.fetchrow(
            f"""UPDATE budget_lines SET amount = $2, title = $3, updated_at = $4, version = version + 1
                WHERE id = $1 RETURNING {_LINE_COLUMNS}""",
            line_id,
            amount,
            data.title if data.title is not None else row["title"],
            await clock.now(),
        )
        before, after = _line_read(row), _line_read(updated)
        await audit.record(actor, "budget_line.updated", "budget_line", line_id, before=before.model_dump(), after=after.model_dump())
    return after


@dataclass(frozen=True)
class BudgetMove:
    """A budget line before and after one move of its money, for the audit log."""

    before: BudgetLineRead
    after: BudgetLineRead


async def _lock_and_move(
    line_id: UUID, change: Callable[[rules.BudgetLine], rules.BudgetLine], now: datetime
) -> BudgetMove:
    """Lock a line, apply a pure budget rule and write it; joins the caller's transaction."""
    async with db.transaction():
        row = await db.fetchrow(f"SELECT {_LINE_COLUMNS} FROM budget_lines WHERE id = $1 FOR UPDATE", line_id)
        if row is None:
            raise NotFound("budget line", line_id)
        moved = change(_line_money(row))
        updated = await db.fetchrow(
            f"""UPDATE budget_lines SET reserved = $2, committed = $3, spent = $4, updated_at = $5,
                       version = version + 1
                WHERE id = $1 RETURNING {_LINE_COLUMNS}""",
            line_id,
            moved.reserved,
            moved.committed,
            moved.spent,
            now,
        )
    return BudgetMove(_line_read(row), _line_read(updated))


async def audit_budget_move(actor: Actor | None, action: str, move: BudgetMove, **context: Any) -> None:
    """The audit event of a move (`budget_line.<action>`), with what caused it."""
    await audit.record(
        actor,
        f"budget_line.{action}",
        "budget_line",
        move.after.id,
        before=move.before.model_dump(),
        after={**move.after.model_dump(), **context},
    )


async def _move_budget(
    actor: Actor | None,
    line_id: UUID,
    action: str,
    change: Callable[[rules.BudgetLine], rules.BudgetLine],
    context: dict[str, Any],
) -> BudgetLineRead:
    """Lock a line, apply a pure budget rule, write and audit; joins the caller's transaction."""
    async with db.transaction():
        move = await _lock_and_move(line_id, change, await clock.now())
        await audit_budget_move(actor, action, move, **context)
    return move.after


async def commit_budget(
    actor: Actor | None, budget_line_id: UUID, reserved: Decimal, contract_amount: Decimal, **context: Any
) -> BudgetLineRead:
    """Signing: the tender's reservation becomes the contract's commitment; the part of the
    ceiling the price did not use becomes available again."""
    return await _move_budget(
        actor,
        budget_line_id,
        "committed",
        lambda line: rules.commit_reservation(line, reserved, contract_amount),
        {"reserved_released": reserved, "contract_amount": contract_amount, **context},
    )


async def commit_extra_budget(actor: Actor | None, budget_line_id: UUID, amount: Decimal, **context: Any) -> BudgetLineRead:
    """An amendment commits more money out of what is available."""
    return await _move_budget(
        actor, budget_line_id, "extra_committed", lambda line: rules.commit_extra(line, amount), {"amount": amount, **context}
    )


async def release_budget_commitment(
    actor: Actor | None, budget_line_id: UUID, amount: Decimal, **context: Any
) -> BudgetLineRead:
    """A termination releases the unspent part of a commitment."""
    return await _move_budget(
        actor,
        budget_line_id,
        "commitment_released",
        lambda line: rules.release_commitment(line, amount),
        {"amount": amount, **context},
    )


async def release_withheld_budget(
    actor: Actor | None, budget_line_id: UUID, amount: Decimal, **context: Any
) -> BudgetLineRead:
    """The part of a milestone withheld at its payment (a grade's payout ratio below 1) is never
    paid: it leaves the commitment and is available again (预算法 Art. 32 on 绩效, 财库〔2021〕22号)."""
    return await _move_budget(
        actor,
        budget_line_id,
        "withheld_released",
        lambda line: rules.release_commitment(line, amount),
        {"amount": amount, **context},
    )


async def spend_budget(actor: Actor | None, budget_line_id: UUID, amount: Decimal, **context: Any) -> BudgetLineRead:
    """A payment spends committed money."""
    return await _move_budget(
        actor, budget_line_id, "spent", lambda line: rules.spend(line, amount), {"amount": amount, **context}
    )


# --- what other domains read --------------------------------------------------------------------


@dataclass(frozen=True)
class CatalogueItemLabel:
    """How a record that names a catalogue item shows it: its code and name, and its level-1
    category (one of the five standard ones; None if the catalogue lacks it)."""

    code: str
    name: str
    category_code: str
    category_name: str | None


async def catalogue_item_labels(item_ids: Sequence[UUID]) -> dict[UUID, CatalogueItemLabel]:
    """The labels of these catalogue items, by id (one query however many)."""
    rows = await db.fetch(
        """SELECT i.id, i.code, i.name, l1.name AS category_name FROM catalogue_items i
           LEFT JOIN catalogue_items l1 ON l1.catalogue_id = i.catalogue_id AND l1.code = left(i.code, 1)
           WHERE i.id = ANY($1::uuid[])""",
        list(set(item_ids)),
    )
    return {r["id"]: CatalogueItemLabel(r["code"], r["name"], r["code"][:1], r["category_name"]) for r in rows}


async def budget_lines_by_id(line_ids: Sequence[UUID]) -> dict[UUID, BudgetLineRead]:
    """These budget lines, by id, whoever's they are: for a record the caller may already read
    (a contract in its report) that names its line."""
    rows = await db.fetch(f"SELECT {_LINE_COLUMNS} FROM budget_lines WHERE id = ANY($1::uuid[])", list(set(line_ids)))
    return {r["id"]: _line_read(r) for r in rows}


# --- set-based reads for other domains' statements ------------------------------------------
# Another domain's list or report joins these in its own statement (one query, the same plan:
# PostgreSQL flattens a plain subquery), through these names rather than the tables.


def catalogue_items_sql() -> str:
    """Catalogue items as a subquery to join: id, catalogue_id, code, name, level."""
    return "(SELECT id, catalogue_id, code, name, level FROM catalogue_items)"


def budget_lines_sql() -> str:
    """Budget lines as a subquery to join: id, bureau_id, year, amount, committed, spent, updated_at."""
    return "(SELECT id, bureau_id, year, amount, committed, spent, updated_at FROM budget_lines)"


# --- what procurement needs --------------------------------------------------------------------


async def budget_line_year(bureau_id: UUID, line_id: UUID) -> int | None:
    """The year of one of the bureau's own budget lines; None if the bureau has no such line
    (a tender draws only on its own bureau's budget)."""
    return await db.fetchval("SELECT year FROM budget_lines WHERE id = $1 AND bureau_id = $2", line_id, bureau_id)


async def check_tender_item(catalogue_item_id: UUID, *, bureau_id: UUID, year: int) -> None:
    """A tender of this bureau and budget year may buy the item: a level-3 item of a published
    catalogue of the bureau's region and that year (`catalogue_item_not_found` when there is no
    such item at all)."""
    item = await db.fetchrow(
        """SELECT i.code, c.status, c.region_code, c.year FROM catalogue_items i
           JOIN catalogues c ON c.id = i.catalogue_id WHERE i.id = $1""",
        catalogue_item_id,
    )
    if item is None:
        message = "no catalogue item has that id"
        raise RuleViolation("catalogue_item_not_found", message, errors=[{"field": "catalogue_item_id", "message": message}])
    rules.check_tender_catalogue_item(
        item["code"],
        catalogue_status=item["status"],
        catalogue_region_code=item["region_code"],
        catalogue_year=item["year"],
        region_code=await kernel.region_of(bureau_id) or "",
        year=year,
    )


async def lock_budget_lines(line_ids: Sequence[UUID]) -> None:
    """Lock these lines for the caller's transaction, in year order: a change that moves several
    lines (a multi-year contract) takes them all before its first audit append, so two such
    changes queue rather than deadlock."""
    await db.execute(
        "SELECT id FROM budget_lines WHERE id = ANY($1::uuid[]) ORDER BY year, id FOR UPDATE", list(set(line_ids))
    )


async def reserve_budget(line_id: UUID, amount: Decimal, now: datetime) -> BudgetMove:
    """Publishing a tender reserves its ceiling (`budget_insufficient` if the line cannot carry
    it). The caller audits the move with `audit_budget_move(actor, "reserved", …)` once it holds
    all its row locks."""
    return await _lock_and_move(line_id, lambda line: rules.reserve(line, amount), now)


async def release_budget(line_id: UUID, amount: Decimal, now: datetime) -> BudgetMove:
    """A failed or cancelled tender releases its reservation; the caller audits the move
    (`"released"`)."""
    return await _lock_and_move(line_id, lambda line: rules.release(line, amount), now)


# --- procurement intentions (采购意向公开, 财库〔2020〕10号): planning/service/intentions.py ---------

from planning.service.intentions import (  # noqa: E402  (after the names the module uses)
    TenderIntention as TenderIntention,
    create_intention as create_intention,
    get_intention as get_intention,
    list_intentions as list_intentions,
    published_intention_ids as published_intention_ids,
    publish_intention as publish_intention,
    tender_intention as tender_intention,
    update_intention as update_intention,
    withdraw_intention as withdraw_intention,
)
