"""What a raw-SQL migration of any of govbuy's apps is: its SQL, run once in its order by Piccolo.

    forwards = sql_migration(ID, "contracts", DESCRIPTION, SQL)

The schema is raw SQL (constraints, triggers, partial indexes as written); a migration that
needs Python besides (a backfill computed by a rule) writes its own `forwards`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from piccolo.apps.migrations.auto.migration_manager import MigrationManager


def sql_migration(migration_id: str, app_name: str, description: str, sql: str) -> Callable[[], Awaitable[MigrationManager]]:
    """The `forwards` of a migration that runs `sql`."""

    async def forwards() -> MigrationManager:
        manager = MigrationManager(migration_id=migration_id, app_name=app_name, description=description)

        async def run() -> None:
            from govbuy import database as db

            await db.execute(sql)

        manager.add_raw(run)
        return manager

    return forwards
