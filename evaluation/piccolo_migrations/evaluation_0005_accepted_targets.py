"""An accepted evaluation keeps the performance targets it judged: a later amendment of the
contract's targets (民法典 Art. 543) applies to what is evaluated after it. Null: not yet accepted,
or accepted before targets could be amended (the contract's targets, unchanged since)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-04T10:10:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "targets an accepted evaluation judged"

SQL = "ALTER TABLE evaluations ADD COLUMN accepted_targets jsonb;"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="evaluation", description=DESCRIPTION)

    async def run():
        from govbuy import database as db

        await db.execute(SQL)

    manager.add_raw(run)
    return manager
